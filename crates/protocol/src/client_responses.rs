//! How Gatehouse formats what it answers a client with, per client (OIDC Dynamic Client
//! Registration §2 `userinfo_signed_response_alg`; RFC 9701 §6
//! `introspection_signed_response_alg`): absent, plain JSON; present, a JWT Gatehouse signs with
//! its key of that algorithm. A leaf the client model holds.

use crate::jose::SigningAlg;
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
}

impl ResponseFormats {
    /// Validates the raw names; problems go to `errs` as (key, message).
    pub fn validate(
        userinfo: Option<&str>,
        introspection: Option<&str>,
        authorization: Option<&str>,
        errs: &mut Vec<(&'static str, String)>,
    ) -> Self {
        let mut alg = |key: &'static str, raw: Option<&str>| {
            let raw = raw?;
            let parsed = SigningAlg::parse(raw);
            if parsed.is_none() {
                errs.push((key, format!("unknown algorithm {raw:?}; supported: {}", SigningAlg::names())));
            }
            parsed
        };
        Self {
            userinfo_signed_response_alg: alg("userinfo_signed_response_alg", userinfo),
            introspection_signed_response_alg: alg("introspection_signed_response_alg", introspection),
            authorization_signed_response_alg: alg("authorization_signed_response_alg", authorization),
        }
    }
}
