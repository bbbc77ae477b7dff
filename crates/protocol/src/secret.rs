//! Secrets: redacted in `Debug`, and hashed as DESIGN.md §4 says.
//!
//! - Operator-chosen client secrets and user passwords: argon2id (OWASP parameters, the argon2
//!   crate's defaults: m=19 MiB, t=2, p=1) in PHC string form. Hashing and verifying cost tens of
//!   milliseconds, so the server runs them off the async runtime.
//! - Secrets Gatehouse generates (≥ 256 bits of randomness): SHA-256, which is enough for a
//!   high-entropy value and costs microseconds.
//!
//! Randomness (salts, generated secrets) is passed in by the caller.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use std::fmt;
use subtle::ConstantTimeEq;

/// A secret value in transit (a password, a client secret). `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// How a stored secret is kept. Stored as text: a PHC string (`$argon2id$...`),
/// `sha256:<base64url digest>`, or `sealed:v1:<base64url nonce and ciphertext>` — the secret
/// itself, encrypted under the deployment's sealing key, for the clients whose secret
/// Gatehouse must use as a key (HS256 ID tokens, `client_secret_jwt`; OIDC Core §10.1, §9).
/// Only the server, which holds the key, can verify a sealed secret ([`Self::verify`] refuses).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretHash {
    Argon2(String),
    Sha256([u8; 32]),
    Sealed(String),
    /// No secret at all (a user who signs in only through an upstream provider): nothing
    /// verifies against it. Stored as `none`.
    Unset,
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argon2(_) => f.write_str("SecretHash::Argon2(***)"),
            Self::Sha256(_) => f.write_str("SecretHash::Sha256(***)"),
            Self::Sealed(_) => f.write_str("SecretHash::Sealed(***)"),
            Self::Unset => f.write_str("SecretHash::Unset"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretHashError {
    #[error("not an argon2 PHC string (\"$argon2id$v=19$m=...,t=...,p=...$salt$hash\") or sha256:<digest>")]
    Unrecognised,
    #[error("argon2 hashing failed: {0}")]
    Argon2(String),
}

const SHA256_PREFIX: &str = "sha256:";
/// The stored form of [`SecretHash::Unset`].
const UNSET: &str = "none";
/// The prefix of a sealed secret's stored form.
pub const SEALED_PREFIX: &str = "sealed:v1:";

impl SecretHash {
    /// Parses the stored text form, checking that it is well formed.
    pub fn parse(stored: &str) -> Result<Self, SecretHashError> {
        if stored == UNSET {
            return Ok(Self::Unset);
        }
        if let Some(body) = stored.strip_prefix(SEALED_PREFIX) {
            // 12 bytes of nonce, at least one of secret, 16 of tag.
            let ok = B64.decode(body).is_ok_and(|b| b.len() > 28);
            return if ok { Ok(Self::Sealed(stored.to_owned())) } else { Err(SecretHashError::Unrecognised) };
        }
        if let Some(d) = stored.strip_prefix(SHA256_PREFIX) {
            let bytes = B64.decode(d).map_err(|_| SecretHashError::Unrecognised)?;
            let arr: [u8; 32] = bytes.try_into().map_err(|_| SecretHashError::Unrecognised)?;
            return Ok(Self::Sha256(arr));
        }
        let phc = PasswordHash::new(stored).map_err(|_| SecretHashError::Unrecognised)?;
        if !phc.algorithm.as_str().starts_with("argon2") {
            return Err(SecretHashError::Unrecognised);
        }
        Ok(Self::Argon2(stored.to_owned()))
    }

    /// The stored text form.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Argon2(phc) => phc.clone(),
            Self::Sha256(d) => format!("{SHA256_PREFIX}{}", B64.encode(d)),
            Self::Sealed(s) => s.clone(),
            Self::Unset => UNSET.to_owned(),
        }
    }

    /// argon2id with the crate's default (OWASP) parameters and the caller's 16-byte salt.
    pub fn argon2(secret: &Secret, salt: &[u8; 16]) -> Result<Self, SecretHashError> {
        let salt = SaltString::encode_b64(salt).map_err(|e| SecretHashError::Argon2(e.to_string()))?;
        let phc = argon2::Argon2::default()
            .hash_password(secret.expose().as_bytes(), &salt)
            .map_err(|e| SecretHashError::Argon2(e.to_string()))?;
        Ok(Self::Argon2(phc.to_string()))
    }

    /// SHA-256, for secrets Gatehouse generated itself (≥ 256 bits of entropy).
    pub fn sha256(secret: &Secret) -> Self {
        let d = digest::digest(&digest::SHA256, secret.expose().as_bytes());
        let mut arr = [0u8; 32];
        arr.copy_from_slice(d.as_ref());
        Self::Sha256(arr)
    }

    /// Whether there is a secret at all.
    pub fn is_set(&self) -> bool {
        !matches!(self, Self::Unset)
    }

    /// Whether this is the secret itself, sealed (usable as an HMAC key by the server).
    pub fn is_sealed(&self) -> bool {
        matches!(self, Self::Sealed(_))
    }

    /// Whether verifying costs tens of milliseconds (run it off the async runtime).
    pub fn is_slow(&self) -> bool {
        matches!(self, Self::Argon2(_))
    }

    /// Constant-time verification (argon2's verifier compares in constant time; the SHA-256
    /// digest is compared with `subtle`).
    pub fn verify(&self, presented: &Secret) -> bool {
        match self {
            Self::Argon2(phc) => match PasswordHash::new(phc) {
                Ok(h) => argon2::Argon2::default().verify_password(presented.expose().as_bytes(), &h).is_ok(),
                Err(_) => false,
            },
            Self::Sha256(expected) => {
                let Self::Sha256(got) = Self::sha256(presented) else { return false };
                bool::from(got.ct_eq(expected))
            }
            // Needs the sealing key: the server's to check.
            Self::Sealed(_) | Self::Unset => false,
        }
    }
}

/// A fresh secret from 32 random bytes (256 bits), base64url without padding.
pub fn generated_secret(random: &[u8; 32]) -> Secret {
    Secret(B64.encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip_and_wrong_secret() {
        let h = SecretHash::argon2(&Secret::new("s3cret"), &[7; 16]).unwrap();
        assert!(h.to_stored().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify(&Secret::new("s3cret")));
        assert!(!h.verify(&Secret::new("s3cret ")));
        assert_eq!(SecretHash::parse(&h.to_stored()).unwrap(), h);
    }

    #[test]
    fn sha256_round_trip() {
        let s = generated_secret(&[1; 32]);
        assert_eq!(s.expose().len(), 43);
        let h = SecretHash::sha256(&s);
        assert!(h.verify(&s));
        assert!(!h.verify(&Secret::new("nope")));
        assert_eq!(SecretHash::parse(&h.to_stored()).unwrap(), h);
    }

    #[test]
    fn an_unset_secret_round_trips_and_verifies_nothing() {
        let h = SecretHash::parse("none").unwrap();
        assert_eq!(h, SecretHash::Unset);
        assert_eq!(h.to_stored(), "none");
        assert!(!h.is_set() && !h.verify(&Secret::new("")) && !h.verify(&Secret::new("none")));
    }

    #[test]
    fn malformed_stored_hashes_are_refused() {
        for bad in ["", "plain", "sha256:abc", "$2b$12$abcdefghijklmnopqrstuv", "$pbkdf2-sha256$i=1$c2FsdA$aGFzaA"] {
            assert!(SecretHash::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_prints_secrets() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let h = SecretHash::argon2(&s, &[0; 16]).unwrap();
        assert!(!format!("{h:?}").contains("argon2id$"));
    }
}
