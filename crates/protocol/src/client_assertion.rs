//! JWT client authentication (RFC 7523 §2.2, §3; OIDC Core §9 `private_key_jwt`): the client
//! signs a short-lived JWT with one of its keys and sends it as `client_assertion`. Here: which
//! client an assertion claims to be (read before any key is known), and whether its claims are
//! for this server, now. The signature is checked by the caller with the client's JWK set
//! ([`crate::jwk`]); each `jti` once is the server's (shared by every node).

use crate::client::ClientId;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::jose::JsonObject;
use serde_json::Value;

/// `client_assertion_type` for a JWT (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest assertion accepted.
pub const MAX_BYTES: usize = 8 * 1024;
/// How far `exp` may lie ahead, in seconds: an assertion is for one request, and a long-lived
/// one is a bearer credential. One hour is what common libraries default to.
pub const MAX_LIFETIME: i64 = 3600;
/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub const SKEW: i64 = 60;

fn bad(why: &'static str) -> OAuthError {
    OAuthError::InvalidClientAssertion(why)
}

/// The client an assertion names, from its unverified claims: `sub` (and `iss`, which must be
/// the same, RFC 7523 §3 items 1–2).
pub fn claimed_client(claims: &JsonObject) -> Result<ClientId, OAuthError> {
    let sub = claims.get("sub").and_then(Value::as_str).ok_or(bad("the client assertion needs a sub"))?;
    if claims.get("iss").and_then(Value::as_str) != Some(sub) {
        return Err(bad("the client assertion's iss and sub must both be the client_id"));
    }
    ClientId::parse(sub).map_err(|_| bad("the client assertion's sub is not a client_id"))
}

/// What a verified assertion leaves to the server: its `jti`, kept until `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub jti: String,
    pub exp: UnixTime,
}

/// Checks the claims of an assertion whose signature verified (RFC 7523 §3): `aud` names one
/// of `audiences` (the issuer, the token endpoint, or the endpoint called), it has not expired
/// and does not live too long, `nbf`/`iat` are not in the future, and it has a `jti`.
pub fn check_claims(claims: &JsonObject, audiences: &[&str], now: UnixTime) -> Result<Accepted, OAuthError> {
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(&a.as_str()),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(|a| audiences.contains(&a)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("the client assertion's aud must be this server's issuer or endpoint"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or(bad("the client assertion needs an exp"))?;
    if exp + SKEW <= now {
        return Err(bad("the client assertion has expired"));
    }
    if exp > now + MAX_LIFETIME + SKEW {
        return Err(bad("the client assertion's exp is more than an hour away"));
    }
    for claim in ["nbf", "iat"] {
        if let Some(t) = claims.get(claim) {
            let t = t.as_i64().ok_or(bad("the client assertion's nbf and iat must be numbers"))?;
            if t > now + SKEW {
                return Err(bad("the client assertion is not valid yet"));
            }
        }
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(bad("the client assertion needs a jti"))?;
    Ok(Accepted { jti: jti.to_owned(), exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const AUD: [&str; 2] = ["https://id.example.com", "https://id.example.com/token"];

    fn claims(v: Value) -> JsonObject {
        match v {
            Value::Object(o) => o,
            _ => unreachable!(),
        }
    }

    fn good() -> Value {
        json!({"iss": "app", "sub": "app", "aud": AUD[1], "exp": NOW + 60, "iat": NOW, "jti": "j1"})
    }

    #[test]
    fn the_client_is_iss_and_sub() {
        assert_eq!(claimed_client(&claims(good())).unwrap().as_str(), "app");
        let mut c = good();
        c["iss"] = json!("other");
        assert_eq!(claimed_client(&claims(c)).unwrap_err().code(), "invalid_client");
        assert!(claimed_client(&claims(json!({"iss": "app"}))).is_err());
    }

    #[test]
    fn claims_are_for_this_server_now() {
        assert_eq!(check_claims(&claims(good()), &AUD, NOW).unwrap(), Accepted { jti: "j1".into(), exp: NOW + 60 });
        let with = |k: &str, v: Value| {
            let mut c = good();
            c[k] = v;
            check_claims(&claims(c), &AUD, NOW)
        };
        assert!(with("aud", json!(["x", AUD[0]])).is_ok(), "an array naming the issuer");
        assert!(with("aud", json!("https://other.example.com/token")).is_err());
        assert!(with("aud", json!(null)).is_err());
        assert!(with("exp", json!(NOW - SKEW)).is_err(), "expired");
        assert!(with("exp", json!(NOW - 10)).is_ok(), "within the skew");
        assert!(with("exp", json!(NOW + MAX_LIFETIME + SKEW + 1)).is_err(), "too long-lived");
        assert!(with("exp", json!("soon")).is_err());
        assert!(with("nbf", json!(NOW + 600)).is_err());
        assert!(with("iat", json!(NOW + 600)).is_err());
        assert!(with("jti", json!("")).is_err());
        assert!(with("jti", json!(7)).is_err());
    }
}
