//! Request objects (RFC 9101; OIDC Core §6) and pushed authorization requests (RFC 9126): an
//! authorization request whose parameters arrive in a JWT the client signed (`request`), at a
//! URL it serves (`request_uri`), or pushed to `/par` beforehand and referred to by the
//! `urn:ietf:params:oauth:request_uri:` reference `/par` answered.
//!
//! Here: which source a request uses, the claims a request object must carry, and how its
//! parameters replace the outer ones. Signatures (the client's keys), fetching and storage are
//! the server's.

use crate::client::Client;
use crate::client_keys::RequestObjectAlg;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::jose::JsonObject;
use crate::jwk::Parsed;
use crate::params::Params;
use serde_json::Value;

/// The prefix of the references `/par` hands out (RFC 9126 §2.2).
pub const PUSHED_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request may wait for its authorization request, in seconds.
pub const PUSHED_TTL: i64 = 90;
/// The longest a request object may live (`exp` from now), in seconds.
pub const MAX_LIFETIME: i64 = 3600;
/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const SKEW: i64 = 60;
/// The `typ` RFC 9101 §10.8 recommends; a plain `JWT` or none is accepted too.
pub const TYP: &str = "oauth-authz-req+jwt";

fn bad(why: &'static str) -> OAuthError {
    OAuthError::InvalidRequestObject(why)
}

/// Where an authorization request's parameters are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// In the query or form itself.
    Plain,
    /// In a request object by value.
    Value(&'a str),
    /// Pushed to `/par`: the reference's random part.
    Pushed(&'a str),
    /// In a request object at this URL.
    Uri(&'a str),
}

/// Reads `request` and `request_uri` (at most one of them, RFC 9101 §5).
pub fn source(params: &Params) -> Result<Source<'_>, OAuthError> {
    match (params.get("request"), params.get("request_uri")) {
        (Some(_), Some(_)) => Err(OAuthError::InvalidRequest("send request or request_uri, not both")),
        (Some(jwt), None) => Ok(Source::Value(jwt)),
        (None, Some(uri)) => match uri.strip_prefix(PUSHED_PREFIX) {
            Some(id) if !id.is_empty() => Ok(Source::Pushed(id)),
            Some(_) => Err(OAuthError::InvalidRequestUri("the request_uri is not one this server issued")),
            None if uri.starts_with("https://") || uri.starts_with("http://") => Ok(Source::Uri(uri)),
            None => {
                Err(OAuthError::InvalidRequestUri("request_uri must be an https URL or a pushed request's reference"))
            }
        },
        (None, None) => Ok(Source::Plain),
    }
}

/// How a request object was protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// `alg: none`, for a client registered with `request_object_signing_alg: none`.
    Unsigned,
    /// Signed: the caller verifies with the client's keys and these algorithms.
    Signed,
}

/// Decides how `jwt` must be checked for `client`: unsigned only for a client registered so
/// (and then never signed with something else), signed otherwise.
pub fn protection(jwt: &Parsed<'_>, client: &Client) -> Result<Protection, OAuthError> {
    if let Some(typ) = jwt.header.get("typ") {
        let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
        if !["oauth-authz-req+jwt", "jwt", "application/oauth-authz-req+jwt"].contains(&typ.as_str()) {
            return Err(bad("the request object's typ is not oauth-authz-req+jwt"));
        }
    }
    let alg = jwt.header.get("alg").and_then(Value::as_str);
    match (alg, client.keys.request_object_signing_alg) {
        (Some("none"), Some(RequestObjectAlg::None)) if jwt.signature_is_empty() => Ok(Protection::Unsigned),
        (Some("none"), _) => Err(bad("unsigned request objects are not accepted from this client")),
        (_, Some(RequestObjectAlg::None)) => Err(bad("this client's request objects must be unsigned (alg none)")),
        _ => Ok(Protection::Signed),
    }
}

/// What a request object leaves to the server: its parameters and, when it has a `jti` and an
/// `exp`, what to record so it is used once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub params: Params,
    pub once: Option<(String, UnixTime)>,
}

/// Checks the claims of a request object from `client` to `issuer` (RFC 9101 §4, §6.3; OIDC
/// Core §6.1): `client_id` (if present) and `iss` (if present) are the client, `aud` (if
/// present) names the issuer, it is within `exp` and `nbf`, and it does not nest another
/// request object.
pub fn check_claims(claims: &JsonObject, client: &Client, issuer: &str, now: UnixTime) -> Result<Checked, OAuthError> {
    let id = client.id.as_str();
    let str_claim = |k: &str| claims.get(k).map(|v| v.as_str().ok_or(bad("a request object claim has the wrong type")));
    if str_claim("client_id").transpose()?.is_some_and(|c| c != id) {
        return Err(bad("the request object's client_id is not the client's"));
    }
    if str_claim("iss").transpose()?.is_some_and(|c| c != id) {
        return Err(bad("the request object's iss is not the client"));
    }
    if let Some(aud) = claims.get("aud") {
        let trimmed = issuer.trim_end_matches('/');
        let ours = |a: &str| a == issuer || a == trimmed;
        let ok = match aud {
            Value::String(a) => ours(a),
            Value::Array(list) => list.iter().filter_map(Value::as_str).any(ours),
            _ => false,
        };
        if !ok {
            return Err(bad("the request object's aud is not this server's issuer"));
        }
    }
    let time = |k: &str| claims.get(k).map(|v| v.as_i64().ok_or(bad("exp and nbf must be numbers"))).transpose();
    let exp = time("exp")?;
    if exp.is_some_and(|e| e + SKEW <= now) {
        return Err(bad("the request object has expired"));
    }
    if exp.is_some_and(|e| e > now + MAX_LIFETIME + SKEW) {
        return Err(bad("the request object's exp is more than an hour away"));
    }
    if time("nbf")?.is_some_and(|n| n > now + SKEW) {
        return Err(bad("the request object is not valid yet"));
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(bad("a request object may not hold request or request_uri"));
    }
    let jti = claims.get("jti").and_then(Value::as_str).filter(|j| !j.is_empty() && j.len() <= 256);
    let once = match (jti, exp) {
        (Some(j), Some(e)) => Some((j.to_owned(), e)),
        _ => None,
    };
    Ok(Checked { params: Params::from_claims(claims)?, once })
}

/// The parameters the request is processed with: the outer ones with the request object's in
/// their place (OIDC Core §6.3.3), `request`/`request_uri` gone. The outer `client_id` stays,
/// and must be the one the object names (RFC 9101 §5).
pub fn merge(outer: &Params, inner: Params) -> Result<Params, OAuthError> {
    if inner.get("client_id").is_some_and(|c| Some(c) != outer.get("client_id")) {
        return Err(bad("the request object's client_id is not the request's"));
    }
    let mut merged = outer.clone().overridden_by(inner);
    merged.remove("request");
    merged.remove("request_uri");
    Ok(merged)
}

#[cfg(test)]
mod tests;
