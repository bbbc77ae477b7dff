//! JSON Web Encryption (RFC 7516) of what Gatehouse sends a client that asked for it at
//! registration (OIDC Core §10.2, OIDC Dynamic Client Registration §2, JARM §2.3, RFC 9701 §6):
//! the content encrypted with a fresh key, that key encrypted to one of the client's public keys.
//! A signed document is signed first and the JWS encrypted (a Nested JWT, RFC 7519 §5.2, `cty:
//! JWT`).
//!
//! The cryptography is josekit's (on OpenSSL): RSA-OAEP, RSA-OAEP-256, ECDH-ES and
//! ECDH-ES+A128KW/A256KW with P-256 keys; A128CBC-HS256 and A256GCM content encryption. Only the
//! choice of key is Gatehouse's: a key of the algorithm's kind, not marked for signing only
//! (`use`, `key_ops`), not limited to another `alg`; its `kid` goes into the header. The
//! randomness (content key, IV, ephemeral EC key) is OpenSSL's, as a signature's is aws-lc's in
//! [`crate::jose`]: the one ambient source this crate uses, inside the cryptography.

use crate::jwk::Jwks;
use josekit::jwe::{self, JweEncrypter, JweHeader};
use josekit::jwk::Jwk;
use std::fmt;

/// Key management algorithms (RFC 7518 §4.1) Gatehouse encrypts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    RsaOaep,
    RsaOaep256,
    EcdhEs,
    EcdhEsA128Kw,
    EcdhEsA256Kw,
}

impl KeyAlg {
    pub const ALL: [KeyAlg; 5] =
        [Self::RsaOaep, Self::RsaOaep256, Self::EcdhEs, Self::EcdhEsA128Kw, Self::EcdhEsA256Kw];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::EcdhEs => "ECDH-ES",
            Self::EcdhEsA128Kw => "ECDH-ES+A128KW",
            Self::EcdhEsA256Kw => "ECDH-ES+A256KW",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn names() -> String {
        Self::ALL.map(|a| a.as_str()).join(", ")
    }

    /// An encrypter to `jwk`, if the key can be used with this algorithm.
    fn encrypter(self, jwk: &Jwk) -> Option<Box<dyn JweEncrypter>> {
        fn boxed<E: JweEncrypter + 'static>(r: Result<E, josekit::JoseError>) -> Option<Box<dyn JweEncrypter>> {
            r.ok().map(|e| Box::new(e) as Box<dyn JweEncrypter>)
        }
        match self {
            Self::RsaOaep => boxed(jwe::RSA_OAEP.encrypter_from_jwk(jwk)),
            Self::RsaOaep256 => boxed(jwe::RSA_OAEP_256.encrypter_from_jwk(jwk)),
            Self::EcdhEs => boxed(jwe::ECDH_ES.encrypter_from_jwk(jwk)),
            Self::EcdhEsA128Kw => boxed(jwe::ECDH_ES_A128KW.encrypter_from_jwk(jwk)),
            Self::EcdhEsA256Kw => boxed(jwe::ECDH_ES_A256KW.encrypter_from_jwk(jwk)),
        }
    }

    /// The kind of key this algorithm encrypts to, for messages.
    pub fn key_kind(self) -> &'static str {
        match self {
            Self::RsaOaep | Self::RsaOaep256 => "RSA",
            _ => "EC P-256",
        }
    }

    /// The key type (`kty`) this algorithm encrypts to.
    fn kty(self) -> &'static str {
        match self {
            Self::RsaOaep | Self::RsaOaep256 => "RSA",
            _ => "EC",
        }
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::string_serde!(KeyAlg, KeyAlg::parse, |a: &KeyAlg| a.as_str());

/// Content encryption algorithms (RFC 7518 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ContentEnc {
    /// The default when a client names a key algorithm and no `enc` (OIDC Dynamic Client
    /// Registration §2).
    #[default]
    A128CbcHs256,
    A256Gcm,
}

impl ContentEnc {
    pub const ALL: [ContentEnc; 2] = [Self::A128CbcHs256, Self::A256Gcm];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A256Gcm => "A256GCM",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn names() -> String {
        Self::ALL.map(|a| a.as_str()).join(", ")
    }
}

impl fmt::Display for ContentEnc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::string_serde!(ContentEnc, ContentEnc::parse, |a: &ContentEnc| a.as_str());

/// How one kind of response is encrypted for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encryption {
    pub alg: KeyAlg,
    pub enc: ContentEnc,
}

/// Why a response could not be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("the client's JWK set has no key for {0} encryption")]
    NoKey(KeyAlg),
    #[error("encryption failed")]
    Failed,
}

/// A client's key chosen for one algorithm, ready to encrypt to.
pub struct EncryptionKey {
    encrypter: Box<dyn JweEncrypter>,
    how: Encryption,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey").field("how", &self.how).finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// The first key of `jwks` that `how.alg` can encrypt to.
    pub fn find(jwks: &Jwks, how: Encryption) -> Option<Self> {
        let encrypter = jwks
            .keys()
            .iter()
            .filter(|k| k.get("kty").and_then(serde_json::Value::as_str) == Some(how.alg.kty()))
            .filter_map(|k| Jwk::from_map(k.clone()).ok())
            .find_map(|k| how.alg.encrypter(&k))?;
        Some(Self { encrypter, how })
    }

    /// `payload` encrypted to this key, in compact serialisation. `nested`: the payload is a
    /// JWS (`cty: JWT`); otherwise it is the JSON document itself.
    pub fn encrypt(&self, payload: &[u8], nested: bool) -> Result<String, JweError> {
        let mut header = JweHeader::new();
        header.set_content_encryption(self.how.enc.as_str());
        if nested {
            header.set_content_type("JWT");
        }
        jwe::serialize_compact(payload, &header, &*self.encrypter).map_err(|_| JweError::Failed)
    }
}

/// Whether `jwks` holds a key `alg` can encrypt to.
pub fn can_encrypt(jwks: &Jwks, alg: KeyAlg) -> bool {
    EncryptionKey::find(jwks, Encryption { alg, enc: ContentEnc::default() }).is_some()
}

/// `payload` encrypted for the holder of one of `jwks`'s keys, in compact serialisation.
/// `nested`: the payload is a JWS (`cty: JWT`); otherwise it is the JSON document itself.
pub fn encrypt(payload: &[u8], nested: bool, jwks: &Jwks, how: Encryption) -> Result<String, JweError> {
    EncryptionKey::find(jwks, how).ok_or(JweError::NoKey(how.alg))?.encrypt(payload, nested)
}

#[cfg(test)]
mod tests;
