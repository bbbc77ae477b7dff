//! How Gatehouse formats what it answers a client with, per client (OIDC Dynamic Client
//! Registration §2 `userinfo_signed_response_alg` and the `*_encrypted_response_alg/enc` pairs;
//! RFC 9701 §6 `introspection_signed_response_alg`; JARM §3): signed, a JWT Gatehouse signs with
//! its key of that algorithm; encrypted, a JWE to one of the client's keys ([`crate::jwe`]),
//! signed first where the response is signed. A leaf the client model holds.

use crate::client_keys::ClientKeys;
use crate::jose::SigningAlg;
use crate::jwe::{ContentEnc, Encryption, KeyAlg};
use serde::{Deserialize, Serialize};

/// The validated response formats of a client; flattened into the client's document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseFormats {
    /// `/userinfo` answers this client with a signed JWT (`application/jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<SigningAlg>,
    /// The algorithm of JWT introspection responses (RFC 9701) this client asks for with
    /// `Accept: application/token-introspection+jwt`; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signed_response_alg: Option<SigningAlg>,
    /// JARM §3: the algorithm of this client's JWT authorization responses (RS256 when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_signed_response_alg: Option<SigningAlg>,
    /// ID tokens encrypted to the client's key (OIDC Core §10.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<KeyAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<ContentEnc>,
    /// `/userinfo` answers encrypted (`application/jwt`), signed first if it is signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<KeyAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<ContentEnc>,
    /// RFC 9701 §6: JWT introspection responses encrypted after signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_alg: Option<KeyAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_enc: Option<ContentEnc>,
    /// JARM §3: JWT authorization responses encrypted after signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_alg: Option<KeyAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_enc: Option<ContentEnc>,
}

/// The responses a client may have encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encrypted {
    IdToken,
    Userinfo,
    Introspection,
    Authorization,
}

impl Encrypted {
    pub const ALL: [Encrypted; 4] = [Self::IdToken, Self::Userinfo, Self::Introspection, Self::Authorization];

    /// Its metadata names: `{response}_encrypted_response_alg` and `_enc`.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::IdToken => ("id_token_encrypted_response_alg", "id_token_encrypted_response_enc"),
            Self::Userinfo => ("userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc"),
            Self::Introspection => ("introspection_encrypted_response_alg", "introspection_encrypted_response_enc"),
            Self::Authorization => ("authorization_encrypted_response_alg", "authorization_encrypted_response_enc"),
        }
    }
}

/// The raw metadata, as registered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Raw<'a> {
    pub userinfo_signed_response_alg: Option<&'a str>,
    pub introspection_signed_response_alg: Option<&'a str>,
    pub authorization_signed_response_alg: Option<&'a str>,
    /// `(alg, enc)` for each of [`Encrypted::ALL`], in that order.
    pub encrypted: [(Option<&'a str>, Option<&'a str>); 4],
}

impl ResponseFormats {
    /// Validates the raw names against the client's `keys`; problems go to `errs` as (key,
    /// message). An `enc` needs its `alg`; an `alg` alone takes A128CBC-HS256 (OIDC Dynamic
    /// Client Registration §2); encryption needs a key of the client's to encrypt to — in its
    /// `jwks` now, or (with `jwks_uri`) when the response is sent.
    pub fn validate(raw: &Raw<'_>, keys: &ClientKeys, errs: &mut Vec<(&'static str, String)>) -> Self {
        let mut alg = |key: &'static str, raw: Option<&str>| {
            let raw = raw?;
            let parsed = SigningAlg::parse(raw);
            if parsed.is_none() {
                errs.push((key, format!("unknown algorithm {raw:?}; supported: {}", SigningAlg::names())));
            }
            parsed
        };
        let mut out = Self {
            userinfo_signed_response_alg: alg("userinfo_signed_response_alg", raw.userinfo_signed_response_alg),
            introspection_signed_response_alg: alg(
                "introspection_signed_response_alg",
                raw.introspection_signed_response_alg,
            ),
            authorization_signed_response_alg: alg(
                "authorization_signed_response_alg",
                raw.authorization_signed_response_alg,
            ),
            ..Self::default()
        };
        for (which, (alg, enc)) in Encrypted::ALL.into_iter().zip(raw.encrypted) {
            if let Some(e) = encryption(which, alg, enc, keys, errs) {
                out.set_encryption(which, e);
            }
        }
        out
    }

    /// How `which` is encrypted for this client, if it is.
    pub fn encryption(&self, which: Encrypted) -> Option<Encryption> {
        let (alg, enc) = match which {
            Encrypted::IdToken => (self.id_token_encrypted_response_alg, self.id_token_encrypted_response_enc),
            Encrypted::Userinfo => (self.userinfo_encrypted_response_alg, self.userinfo_encrypted_response_enc),
            Encrypted::Introspection => {
                (self.introspection_encrypted_response_alg, self.introspection_encrypted_response_enc)
            }
            Encrypted::Authorization => {
                (self.authorization_encrypted_response_alg, self.authorization_encrypted_response_enc)
            }
        };
        alg.map(|alg| Encryption { alg, enc: enc.unwrap_or_default() })
    }

    fn set_encryption(&mut self, which: Encrypted, e: Encryption) {
        let (alg, enc) = match which {
            Encrypted::IdToken => {
                (&mut self.id_token_encrypted_response_alg, &mut self.id_token_encrypted_response_enc)
            }
            Encrypted::Userinfo => {
                (&mut self.userinfo_encrypted_response_alg, &mut self.userinfo_encrypted_response_enc)
            }
            Encrypted::Introspection => {
                (&mut self.introspection_encrypted_response_alg, &mut self.introspection_encrypted_response_enc)
            }
            Encrypted::Authorization => {
                (&mut self.authorization_encrypted_response_alg, &mut self.authorization_encrypted_response_enc)
            }
        };
        *alg = Some(e.alg);
        *enc = Some(e.enc);
    }
}
/// One `alg`/`enc` pair, validated.
fn encryption(
    which: Encrypted,
    alg: Option<&str>,
    enc: Option<&str>,
    keys: &ClientKeys,
    errs: &mut Vec<(&'static str, String)>,
) -> Option<Encryption> {
    let (alg_name, enc_name) = which.names();
    let Some(raw_alg) = alg else {
        if enc.is_some() {
            errs.push((enc_name, format!("{enc_name} needs {alg_name}")));
        }
        return None;
    };
    let Some(alg) = KeyAlg::parse(raw_alg) else {
        errs.push((alg_name, format!("unknown algorithm {raw_alg:?}; supported: {}", KeyAlg::names())));
        return None;
    };
    let enc = match enc.map(|e| (e, ContentEnc::parse(e))) {
        None => ContentEnc::default(),
        Some((_, Some(e))) => e,
        Some((raw, None)) => {
            errs.push((enc_name, format!("unknown algorithm {raw:?}; supported: {}", ContentEnc::names())));
            return None;
        }
    };
    match (&keys.jwks, &keys.jwks_uri) {
        (Some(jwks), _) if !crate::jwe::can_encrypt(jwks, alg) => {
            let kind = alg.key_kind();
            errs.push((alg_name, format!("the client's jwks holds no {kind} key {alg} can encrypt to (not use: sig)")));
            None
        }
        (None, None) => {
            errs.push((alg_name, format!("{alg_name} needs the client's jwks or jwks_uri, to encrypt to")));
            None
        }
        _ => Some(Encryption { alg, enc }),
    }
}

#[cfg(test)]
mod tests;
