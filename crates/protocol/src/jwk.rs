//! Other parties' public keys (RFC 7517): a client's JWK set (`jwks`, or the document at its
//! `jwks_uri`), a DPoP proof's embedded key; and verifying a compact JWS (RFC 7515 §7.1) with
//! them. Gatehouse's own keys are [`crate::jose`]'s.
//!
//! Only public keys of the kinds Gatehouse verifies are kept: RSA (RS256, PS256; 2048 bits or
//! more, as aws-lc-rs requires), EC P-256 (ES256) and Ed25519 (EdDSA). A set holding a private
//! member is refused whole: whoever published it has leaked the key.

use crate::jose::{JsonObject, SigningAlg};
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value};

/// The most keys a set may hold.
pub const MAX_KEYS: usize = 20;
/// Members only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/// A validated public JWK set. Its JSON form is the set as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<Map<String, Value>>,
}

impl Jwks {
    /// Validates `{"keys": [...]}`: each key public, of a known kind, with its members; at most
    /// [`MAX_KEYS`]. Keys of kinds Gatehouse does not verify (`oct`, other curves) are refused,
    /// so a registration learns at once that they would never work.
    pub fn parse(value: &Value) -> Result<Self, &'static str> {
        let keys = value.get("keys").and_then(Value::as_array).ok_or("a JWK set is an object with a \"keys\" array")?;
        if keys.len() > MAX_KEYS {
            return Err("a JWK set may hold at most 20 keys");
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let Value::Object(key) = key else { return Err("each JWK is an object") };
            if has_private_member(key) {
                return Err("the JWK set holds a private or symmetric key; publish public keys only");
            }
            if !Kind::of(key).is_some_and(|k| k.well_formed(key)) {
                return Err("a JWK is not an RSA, EC P-256 or Ed25519 public key with its members");
            }
            out.push(key.clone());
        }
        Ok(Self { keys: out })
    }

    /// The set as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::json!({ "keys": self.keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, as given.
    pub fn keys(&self) -> &[Map<String, Value>] {
        &self.keys
    }

    /// The keys that may have signed with `alg` under `kid`: those of `alg`'s kind, not marked
    /// for encryption (`use: enc`), not limited to another `alg`, and with that `kid` when the
    /// header names one.
    fn candidates<'a>(&'a self, alg: SigningAlg, kid: Option<&'a str>) -> impl Iterator<Item = &'a Map<String, Value>> {
        self.keys.iter().filter(move |k| {
            let s = |m: &str| k.get(m).and_then(Value::as_str);
            Kind::of(k).is_some_and(|kind| kind.signs_with(alg))
                && s("use").is_none_or(|u| u == "sig")
                && s("alg").is_none_or(|a| a == alg.as_str())
                && kid.is_none_or(|kid| s("kid") == Some(kid))
        })
    }
}

impl serde::Serialize for Jwks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Jwks {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rsa,
    P256,
    Ed25519,
}

impl Kind {
    fn of(jwk: &Map<String, Value>) -> Option<Self> {
        let s = |m: &str| jwk.get(m).and_then(Value::as_str);
        match (s("kty"), s("crv")) {
            (Some("RSA"), _) => Some(Self::Rsa),
            (Some("EC"), Some("P-256")) => Some(Self::P256),
            (Some("OKP"), Some("Ed25519")) => Some(Self::Ed25519),
            _ => None,
        }
    }

    fn well_formed(self, jwk: &Map<String, Value>) -> bool {
        let len = |m: &str| member(jwk, m).map(|v| v.len());
        match self {
            Self::Rsa => len("n").is_some_and(|n| n >= 256) && len("e").is_some_and(|e| (1..=8).contains(&e)),
            Self::P256 => len("x") == Some(32) && len("y") == Some(32),
            Self::Ed25519 => len("x") == Some(32),
        }
    }

    fn signs_with(self, alg: SigningAlg) -> bool {
        matches!(
            (self, alg),
            (Self::Rsa, SigningAlg::RS256 | SigningAlg::PS256)
                | (Self::P256, SigningAlg::ES256)
                | (Self::Ed25519, SigningAlg::EdDSA)
        )
    }
}

/// Whether a JWK holds a member only a private or symmetric key has.
pub fn has_private_member(jwk: &Map<String, Value>) -> bool {
    PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m))
}

fn member(jwk: &Map<String, Value>, m: &str) -> Option<Vec<u8>> {
    jwk.get(m).and_then(Value::as_str).and_then(|v| B64.decode(v).ok())
}

/// Verifies `sig` over `msg` with the public JWK, which must be of `alg`'s kind.
pub fn verify_signature(alg: SigningAlg, jwk: &Map<String, Value>, msg: &[u8], sig: &[u8]) -> bool {
    let Some(kind) = Kind::of(jwk).filter(|k| k.signs_with(alg) && k.well_formed(jwk)) else { return false };
    match kind {
        Kind::P256 => {
            let (Some(x), Some(y)) = (member(jwk, "x"), member(jwk, "y")) else { return false };
            let point: Vec<u8> = [&[0x04][..], &x, &y].concat();
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(msg, sig).is_ok()
        }
        Kind::Ed25519 => {
            let Some(x) = member(jwk, "x") else { return false };
            UnparsedPublicKey::new(&signature::ED25519, x).verify(msg, sig).is_ok()
        }
        Kind::Rsa => {
            let (Some(n), Some(e)) = (member(jwk, "n"), member(jwk, "e")) else { return false };
            let params = if alg == SigningAlg::PS256 {
                &signature::RSA_PSS_2048_8192_SHA256
            } else {
                &signature::RSA_PKCS1_2048_8192_SHA256
            };
            RsaPublicKeyComponents { n: &n, e: &e }.verify(params, msg, sig).is_ok()
        }
    }
}

/// Why a JWS did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsError {
    /// Not three base64url parts of JSON objects.
    Malformed,
    /// `alg` is missing, `none`, or not one of those allowed.
    Algorithm,
    /// No key of the set fits the header's `kid` and `alg`: the set may be stale (refetch once).
    NoKey,
    /// A key fits, and the signature is wrong.
    BadSignature,
}

/// A compact JWS split and decoded, not yet verified.
pub struct Parsed<'a> {
    pub header: JsonObject,
    pub claims: JsonObject,
    signed: &'a str,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWS (header and payload must be JSON objects).
pub fn parse(token: &str) -> Result<Parsed<'_>, JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError::Malformed);
    };
    let object = |part: &str| -> Result<JsonObject, JwsError> {
        let bytes = B64.decode(part).map_err(|_| JwsError::Malformed)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(JwsError::Malformed),
        }
    };
    Ok(Parsed {
        header: object(h)?,
        claims: object(p)?,
        signed: token.get(..h.len() + 1 + p.len()).ok_or(JwsError::Malformed)?,
        signature: B64.decode(s).map_err(|_| JwsError::Malformed)?,
    })
}

impl Parsed<'_> {
    /// Whether the JWS has no signature (`alg: none`).
    pub fn signature_is_empty(&self) -> bool {
        self.signature.is_empty()
    }

    /// The header's `alg`, if it is one Gatehouse verifies.
    pub fn alg(&self) -> Option<SigningAlg> {
        self.header.get("alg").and_then(Value::as_str).and_then(SigningAlg::parse)
    }

    /// Verifies an HS256 signature keyed by `secret` (`client_secret_jwt`, OIDC Core §9), in
    /// constant time. Any other `alg` is refused.
    pub fn verify_hs256(&self, secret: &[u8]) -> Result<(), JwsError> {
        if self.header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(JwsError::Algorithm);
        }
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        aws_lc_rs::hmac::verify(&key, self.signed.as_bytes(), &self.signature).map_err(|_| JwsError::BadSignature)
    }

    /// Verifies the signature with a key of `jwks` (by `kid` when the header names one), for an
    /// `alg` among `allowed`.
    pub fn verify(&self, jwks: &Jwks, allowed: &[SigningAlg]) -> Result<SigningAlg, JwsError> {
        let alg = self.alg().filter(|a| allowed.contains(a)).ok_or(JwsError::Algorithm)?;
        let kid = self.header.get("kid").and_then(Value::as_str);
        let mut any = false;
        for key in jwks.candidates(alg, kid) {
            any = true;
            if verify_signature(alg, key, self.signed.as_bytes(), &self.signature) {
                return Ok(alg);
            }
        }
        Err(if any { JwsError::BadSignature } else { JwsError::NoKey })
    }
}

#[cfg(test)]
mod tests;
