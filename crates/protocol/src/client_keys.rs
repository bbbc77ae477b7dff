//! A client's keys and what it signs with them (RFC 7591 §2 `jwks`, `jwks_uri`; OIDC Dynamic
//! Client Registration §2 `token_endpoint_auth_signing_alg`, `request_object_signing_alg`):
//! the metadata behind `private_key_jwt` and signed request objects. A leaf: the client model
//! holds it, and validation reports problems as (key, message) pairs the model turns into its
//! field errors.

use crate::jose::SigningAlg;
use crate::jwk::Jwks;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a client's request objects must be signed (`request_object_signing_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestObjectAlg {
    /// Unsigned (`none`): only for a client registered so (RFC 9101 §10.2 says why not).
    None,
    Signed(SigningAlg),
}

impl RequestObjectAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Signed(a) => a.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s == "none" { Some(Self::None) } else { SigningAlg::parse(s).map(Self::Signed) }
    }
}

crate::string_serde!(RequestObjectAlg, RequestObjectAlg::parse, |v: &RequestObjectAlg| v.as_str().to_owned());

/// The validated keys metadata of a client; flattened into the client's document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKeys {
    /// The client's public keys, by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// Where the client publishes its public keys (fetched SSRF-safe, cached, refetched on an
    /// unknown `kid`): key rotation without re-registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The one algorithm its `private_key_jwt` assertions may use; any supported when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<SigningAlg>,
    /// The one algorithm its request objects may use; any supported (never `none`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<RequestObjectAlg>,
}

/// An algorithm name parsed by `parse`, or a problem naming what is supported.
fn parse_alg<T>(
    key: &'static str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
    errs: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    let raw = raw?;
    let parsed = parse(raw);
    if parsed.is_none() {
        let none = if key == "request_object_signing_alg" { "none, " } else { "" };
        errs.push((key, format!("unknown algorithm {raw:?}; supported: {none}{}", SigningAlg::names())));
    }
    parsed
}

/// The raw metadata, as a spec holds it.
pub struct Raw<'a> {
    pub jwks: Option<&'a Value>,
    pub jwks_uri: Option<&'a str>,
    pub token_endpoint_auth_signing_alg: Option<&'a str>,
    pub request_object_signing_alg: Option<&'a str>,
}

impl ClientKeys {
    /// Validates the raw metadata; problems go to `errs` as (key, message).
    pub fn validate(raw: &Raw<'_>, errs: &mut Vec<(&'static str, String)>) -> Self {
        let jwks = raw.jwks.and_then(|v| Jwks::parse(v).map_err(|m| errs.push(("jwks", m.to_owned()))).ok());
        let jwks_uri = raw.jwks_uri.and_then(|u| match url::Url::parse(u) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() && url.fragment().is_none() => {
                Some(u.to_owned())
            }
            _ => {
                errs.push(("jwks_uri", format!("{u:?} is not an https URL")));
                None
            }
        });
        if raw.jwks.is_some() && raw.jwks_uri.is_some() {
            errs.push(("jwks_uri", "give jwks or jwks_uri, not both (RFC 7591 §2)".to_owned()));
        }
        let token_endpoint_auth_signing_alg =
            parse_alg("token_endpoint_auth_signing_alg", raw.token_endpoint_auth_signing_alg, SigningAlg::parse, errs);
        let request_object_signing_alg =
            parse_alg("request_object_signing_alg", raw.request_object_signing_alg, RequestObjectAlg::parse, errs);
        let keys = Self { jwks, jwks_uri, token_endpoint_auth_signing_alg, request_object_signing_alg };
        if matches!(keys.request_object_signing_alg, Some(RequestObjectAlg::Signed(_))) && !keys.has_keys() {
            errs.push((
                "request_object_signing_alg",
                "a signed request object needs the client's jwks or jwks_uri".into(),
            ));
        }
        keys
    }

    /// Whether the client has published keys at all.
    pub fn has_keys(&self) -> bool {
        self.jwks.is_some() || self.jwks_uri.is_some()
    }

    /// The algorithms a client assertion may be signed with.
    pub fn assertion_algs(&self) -> Vec<SigningAlg> {
        self.token_endpoint_auth_signing_alg.map_or_else(|| SigningAlg::ALL.to_vec(), |a| vec![a])
    }

    /// The algorithms a request object may be signed with (empty: only `none` is allowed).
    pub fn request_object_algs(&self) -> Vec<SigningAlg> {
        match self.request_object_signing_alg {
            None => SigningAlg::ALL.to_vec(),
            Some(RequestObjectAlg::None) => Vec::new(),
            Some(RequestObjectAlg::Signed(a)) => vec![a],
        }
    }
}
