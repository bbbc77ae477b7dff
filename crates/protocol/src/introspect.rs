//! Token introspection (RFC 7662) and the checks every consumer of Gatehouse's JWT access
//! tokens shares (RFC 9068 §4): typ, issuer, expiry. Signature verification is [`crate::jose`];
//! the revocation list and the user's state are the server's to consult.

use crate::clock::UnixTime;
use crate::jose::JsonObject;
use crate::scope::ScopeSet;
use crate::tokens::ACCESS_TOKEN_TYP;
use serde::Serialize;
use serde_json::Value;

/// RFC 9701 §4: the media type a client asks for (`Accept`) and gets (`Content-Type`), which is
/// also the JWT's `typ` (without `application/`).
pub const JWT_RESPONSE_TYPE: &str = "application/token-introspection+jwt";
pub const JWT_RESPONSE_TYP: &str = "token-introspection+jwt";

/// RFC 9701 §5: the claims of a JWT introspection response for `client_id`.
pub fn jwt_response(issuer: &str, client_id: &str, now: UnixTime, answer: &Introspection) -> Value {
    serde_json::json!({ "iss": issuer, "aud": client_id, "iat": now, "token_introspection": answer })
}

/// A verified access token's claims, as the endpoints need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenView {
    pub sub: String,
    pub client_id: String,
    pub aud: Vec<String>,
    pub scope: ScopeSet,
    pub jti: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    /// RFC 9449 §6.1: the DPoP key the token is bound to (`cnf.jkt`).
    pub jkt: Option<String>,
    /// The claims its client asked userinfo for by name (OIDC Core §5.5).
    pub userinfo_claims: Vec<String>,
}

/// RFC 9068 §4: a JWT access token is live when its `typ` is `at+jwt`, its issuer is ours, and
/// it has not expired. `None` otherwise (the caller answers "inactive" / `invalid_token`).
pub fn access_token_view(
    header: &JsonObject,
    claims: &JsonObject,
    issuer: &str,
    now: UnixTime,
) -> Option<AccessTokenView> {
    let typ = header.get("typ").and_then(Value::as_str)?;
    if !typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return None;
    }
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return None;
    }
    let exp = claims.get("exp").and_then(Value::as_i64)?;
    if exp <= now {
        return None;
    }
    let s = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    Some(AccessTokenView {
        sub: s("sub")?,
        client_id: s("client_id")?,
        aud,
        scope: ScopeSet::parse(&s("scope").unwrap_or_default()).ok()?,
        jti: s("jti")?,
        iat: claims.get("iat").and_then(Value::as_i64).unwrap_or(0),
        exp,
        jkt: claims.get("cnf").and_then(|c| c.get("jkt")).and_then(Value::as_str).map(str::to_owned),
        userinfo_claims: match claims.get(crate::tokens::USERINFO_CLAIMS) {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        },
    })
}

/// `token_type_hint` values (RFC 7009 §2.1, RFC 7662 §2.1). Unknown hints are ignored: the
/// hint is honoured for the lookup order, never trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    AccessToken,
    RefreshToken,
}

impl Hint {
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s? {
            "access_token" => Some(Self::AccessToken),
            "refresh_token" => Some(Self::RefreshToken),
            _ => None,
        }
    }
}

/// Which kinds to try, in order: the hinted one first, then the other. Without a hint, a token
/// shaped like a JWS is tried as an access token first.
pub fn lookup_order(hint: Option<Hint>, token: &str) -> [Hint; 2] {
    let jwt_shaped = token.bytes().filter(|b| *b == b'.').count() == 2;
    match hint {
        Some(Hint::RefreshToken) => [Hint::RefreshToken, Hint::AccessToken],
        Some(Hint::AccessToken) => [Hint::AccessToken, Hint::RefreshToken],
        None if jwt_shaped => [Hint::AccessToken, Hint::RefreshToken],
        None => [Hint::RefreshToken, Hint::AccessToken],
    }
}

/// A client may learn about a token issued to it, or, as a resource server, about tokens for an
/// audience it is configured for. Anything else is answered as inactive (RFC 7662 §4).
pub fn may_introspect(
    requester: &str,
    resource_audiences: &[String],
    token_client: &str,
    token_aud: &[String],
) -> bool {
    requester == token_client || token_aud.iter().any(|a| resource_audiences.contains(a))
}

/// RFC 7662 §2.2 response. `active: false` alone for anything not live.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// RFC 9449 §6.2: `{"jkt": ...}` for a DPoP-bound token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Value>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn access_token_checks() {
        let h = obj(json!({"typ": "at+jwt"}));
        let c = obj(
            json!({"iss": "https://id", "sub": "u", "client_id": "c", "aud": "https://id", "scope": "openid", "jti": "j", "iat": 1, "exp": 100}),
        );
        let v = access_token_view(&h, &c, "https://id", 50).unwrap();
        assert_eq!(v.aud, ["https://id"]);
        assert!(access_token_view(&h, &c, "https://id", 100).is_none(), "expired");
        assert!(access_token_view(&h, &c, "https://other", 50).is_none(), "foreign issuer");
        assert!(
            access_token_view(&obj(json!({"typ": "JWT"})), &c, "https://id", 50).is_none(),
            "an ID token is not an access token"
        );
    }

    #[test]
    fn hints_order_lookups_but_are_not_trusted() {
        assert_eq!(lookup_order(Some(Hint::RefreshToken), "a.b.c"), [Hint::RefreshToken, Hint::AccessToken]);
        assert_eq!(lookup_order(None, "a.b.c"), [Hint::AccessToken, Hint::RefreshToken]);
        assert_eq!(lookup_order(None, "opaque"), [Hint::RefreshToken, Hint::AccessToken]);
        assert_eq!(Hint::parse(Some("banana")), None);
    }

    #[test]
    fn who_may_introspect() {
        let aud = vec!["https://api".to_owned()];
        assert!(may_introspect("c", &[], "c", &aud));
        assert!(!may_introspect("other", &[], "c", &aud));
        assert!(may_introspect("rs", &["https://api".to_owned()], "c", &aud));
    }

    #[test]
    fn inactive_is_just_active_false() {
        assert_eq!(serde_json::to_value(Introspection::inactive()).unwrap(), json!({"active": false}));
    }
}
