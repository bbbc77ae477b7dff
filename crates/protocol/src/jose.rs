//! JOSE: signing keys, JWS compact serialisation (RFC 7515 §7.1), JWK export (RFC 7517) with
//! RFC 7638 thumbprints as `kid`, and verification of tokens Gatehouse signed itself.
//!
//! Keys are parsed once into aws-lc-rs key pairs and kept in memory: signing never re-parses a
//! key (DESIGN.md §4). Generic JWT libraries re-parse the DER on every signature, which costs an
//! RSA key import per token; that is why signing is done here on aws-lc-rs directly.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt;

/// JWS algorithms Gatehouse signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SigningAlg {
    RS256,
    PS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn names() -> String {
        Self::ALL.map(|a| a.as_str()).join(", ")
    }

    /// Length in bytes of the left half of the hash used for `at_hash`/`c_hash`
    /// (OIDC Core §3.1.3.6): SHA-256 for all of these, and SHA-512 for Ed25519
    /// (OIDC Core errata / RFC 8037 usage in certified providers).
    pub fn half_hash(self, value: &str) -> String {
        use aws_lc_rs::digest;
        let (alg, half) = match self {
            Self::EdDSA => (&digest::SHA512, 32),
            _ => (&digest::SHA256, 16),
        };
        let d = digest::digest(alg, value.as_bytes());
        B64.encode(d.as_ref().get(..half).unwrap_or_default())
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client's ID tokens (and logout tokens) are signed with: one of the server's keys, or
/// HS256 keyed by the client's own secret (OIDC Core §10.1), for a confidential client whose
/// secret Gatehouse keeps sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdTokenAlg {
    Key(SigningAlg),
    Hs256,
}

impl IdTokenAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Key(a) => a.as_str(),
            Self::Hs256 => "HS256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s == "HS256" { Some(Self::Hs256) } else { SigningAlg::parse(s).map(Self::Key) }
    }

    /// `at_hash`/`c_hash` (OIDC Core §3.1.3.6): the left half of the algorithm's hash.
    pub fn half_hash(self, value: &str) -> String {
        match self {
            Self::Key(a) => a.half_hash(value),
            Self::Hs256 => SigningAlg::RS256.half_hash(value),
        }
    }
}

crate::string_serde!(IdTokenAlg, IdTokenAlg::parse, |v: &IdTokenAlg| v.as_str().to_owned());

/// Signs `claims` as a compact JWS with HS256 under `key` (OIDC Core §10.1: the client secret's
/// octets), header `{alg, typ}`.
pub fn sign_hs256<T: Serialize>(key: &[u8], typ: &str, claims: &T) -> Result<String, JoseError> {
    let header = serde_json::to_vec(&json!({"alg": "HS256", "typ": typ})).map_err(|_| JoseError::Sign)?;
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Sign)?;
    let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 64);
    B64.encode_string(&header, &mut out);
    out.push('.');
    B64.encode_string(&payload, &mut out);
    let tag = aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key), out.as_bytes());
    out.push('.');
    B64.encode_string(tag.as_ref(), &mut out);
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("the key does not parse as PKCS#8 for {0}")]
    BadKey(SigningAlg),
    #[error("signing failed")]
    Sign,
    #[error("malformed JWS")]
    Malformed,
    #[error("unknown key or algorithm")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
}

enum Inner {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A parsed private key with its `kid` and algorithm.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    inner: Inner,
    public_jwk: Map<String, Value>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PKCS#8 private key for `alg`. The `kid` is the RFC 7638 thumbprint of the public key.
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self, JoseError> {
        let bad = |_| JoseError::BadKey(alg);
        let (inner, mut jwk) = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let kp = RsaKeyPair::from_pkcs8(der).map_err(bad)?;
                let pk = kp.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": B64.encode(pk.modulus().big_endian_without_leading_zero()),
                    "e": B64.encode(pk.exponent().big_endian_without_leading_zero()),
                });
                (Inner::Rsa(kp), jwk)
            }
            SigningAlg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(bad)?;
                // Uncompressed point: 0x04 || X (32) || Y (32).
                let point = kp.public_key().as_ref();
                let (x, y) = match (point.get(1..33), point.get(33..65)) {
                    (Some(x), Some(y)) if point.len() == 65 => (x, y),
                    _ => return Err(JoseError::BadKey(alg)),
                };
                let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y)});
                (Inner::Ec(kp), jwk)
            }
            SigningAlg::EdDSA => {
                let kp = Ed25519KeyPair::from_pkcs8(der).map_err(bad)?;
                let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(kp.public_key().as_ref())});
                (Inner::Ed(kp), jwk)
            }
        };
        let kid = thumbprint(&jwk);
        if let Some(o) = jwk.as_object_mut() {
            o.insert("kid".into(), Value::String(kid.clone()));
            o.insert("use".into(), Value::String("sig".into()));
            o.insert("alg".into(), Value::String(alg.as_str().into()));
        }
        let public_jwk = match jwk {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        Ok(Self { kid, alg, inner, public_jwk })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The public JWK with `kid`, `use: sig` and `alg`.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.public_jwk
    }

    /// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, JoseError> {
        let header = json!({"alg": self.alg.as_str(), "typ": typ, "kid": self.kid});
        let header = serde_json::to_vec(&header).map_err(|_| JoseError::Sign)?;
        let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Sign)?;
        let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 400);
        B64.encode_string(&header, &mut out);
        out.push('.');
        B64.encode_string(&payload, &mut out);
        let sig = self.sign_bytes(out.as_bytes())?;
        out.push('.');
        B64.encode_string(&sig, &mut out);
        Ok(out)
    }

    fn sign_bytes(&self, msg: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &self.inner {
            Inner::Rsa(kp) => {
                let enc = match self.alg {
                    SigningAlg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(enc, &SystemRandom::new(), msg, &mut sig).map_err(|_| JoseError::Sign)?;
                Ok(sig)
            }
            Inner::Ec(kp) => {
                kp.sign(&SystemRandom::new(), msg).map(|s| s.as_ref().to_vec()).map_err(|_| JoseError::Sign)
            }
            Inner::Ed(kp) => Ok(kp.sign(msg).as_ref().to_vec()),
        }
    }

    /// Verifies a signature made by this key over `msg`.
    fn verify_bytes(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.inner {
            Inner::Rsa(kp) => {
                let params = match self.alg {
                    SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA256,
                };
                let pk = kp.public_key();
                let components = signature::RsaPublicKeyComponents {
                    n: pk.modulus().big_endian_without_leading_zero(),
                    e: pk.exponent().big_endian_without_leading_zero(),
                };
                components.verify(params, msg, sig).is_ok()
            }
            Inner::Ec(kp) => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, kp.public_key().as_ref())
                .verify(msg, sig)
                .is_ok(),
            Inner::Ed(kp) => {
                UnparsedPublicKey::new(&signature::ED25519, kp.public_key().as_ref()).verify(msg, sig).is_ok()
            }
        }
    }
}

/// RFC 7638 JWK thumbprint (SHA-256): the required members in lexicographic order, no spaces.
pub fn thumbprint(jwk: &Value) -> String {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let canonical = match s("kty").as_str() {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e"), s("n")),
        "EC" => format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, s("crv"), s("x"), s("y")),
        _ => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s("crv"), s("x")),
    };
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

/// A decoded JOSE header or JWT claims set.
pub type JsonObject = Map<String, Value>;

/// Verifies a compact JWS signed by one of `keys` (matched by `kid` and `alg`) and returns its
/// header and payload. Claims (exp, iss, aud) are the caller's to check.
pub fn verify<'a>(
    token: &str,
    keys: impl IntoIterator<Item = &'a SigningKey>,
) -> Result<(JsonObject, JsonObject), JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JoseError::Malformed);
    };
    let decode = |part: &str| B64.decode(part).map_err(|_| JoseError::Malformed);
    let header: Map<String, Value> = serde_json::from_slice(&decode(h)?).map_err(|_| JoseError::Malformed)?;
    let kid = header.get("kid").and_then(Value::as_str).ok_or(JoseError::UnknownKey)?;
    let alg = header.get("alg").and_then(Value::as_str).and_then(SigningAlg::parse).ok_or(JoseError::UnknownKey)?;
    let key = keys.into_iter().find(|k| k.kid == kid && k.alg == alg).ok_or(JoseError::UnknownKey)?;
    let signed_len = h.len() + 1 + p.len();
    let signed = token.get(..signed_len).ok_or(JoseError::Malformed)?;
    if !key.verify_bytes(signed.as_bytes(), &decode(s)?) {
        return Err(JoseError::BadSignature);
    }
    let payload: Map<String, Value> = serde_json::from_slice(&decode(p)?).map_err(|_| JoseError::Malformed)?;
    Ok((header, payload))
}

#[cfg(test)]
mod tests;

crate::string_serde!(SigningAlg, SigningAlg::parse, |v: &SigningAlg| v.as_str().to_owned());
