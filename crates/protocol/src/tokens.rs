//! What goes into tokens and userinfo: RFC 9068 JWT access tokens, OIDC Core §2 ID tokens, and
//! which user claims each scope releases where (OIDC Core §5.4, DESIGN.md §3).

use crate::claims::ScopeDefinition;
use crate::clock::UnixTime;
use crate::scope::ScopeSet;
use serde::Serialize;
use serde_json::{Map, Value};

/// Where claims are being released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimTarget {
    /// `access_token_issued`: OIDC Core §5.4 puts the standard scopes' claims in the ID token
    /// only when no access token is issued; otherwise they come from userinfo.
    IdToken {
        access_token_issued: bool,
    },
    AccessToken,
    Userinfo,
}

/// The user's claims that `scope` releases at `target`.
pub fn released_claims(
    user_claims: &Map<String, Value>,
    scope: &ScopeSet,
    defs: &[ScopeDefinition],
    target: ClaimTarget,
) -> Map<String, Value> {
    let mut out = Map::new();
    for def in defs.iter().filter(|d| scope.contains(d.name.as_str())) {
        let released = if def.builtin {
            match target {
                ClaimTarget::Userinfo => true,
                ClaimTarget::IdToken { access_token_issued } => !access_token_issued,
                ClaimTarget::AccessToken => false,
            }
        } else {
            match target {
                ClaimTarget::Userinfo => def.targets.userinfo,
                ClaimTarget::IdToken { .. } => def.targets.id_token,
                ClaimTarget::AccessToken => def.targets.access_token,
            }
        };
        if !released {
            continue;
        }
        for c in &def.claims {
            if let Some(v) = user_claims.get(c) {
                out.insert(c.clone(), v.clone());
            }
        }
    }
    out
}

/// The user's claims asked for by name (the `claims` parameter, OIDC Core §5.5) that a scope
/// in `scope` covers: the parameter places claims, it does not widen what was consented to.
pub fn requested_claims<'a>(
    user_claims: &Map<String, Value>,
    scope: &ScopeSet,
    defs: &[ScopeDefinition],
    names: impl IntoIterator<Item = &'a str>,
) -> Map<String, Value> {
    let covered = |name: &str| {
        defs.iter().filter(|d| scope.contains(d.name.as_str())).any(|d| d.claims.iter().any(|c| c == name))
    };
    names
        .into_iter()
        .filter(|n| covered(n))
        .filter_map(|n| user_claims.get(n).map(|v| (n.to_owned(), v.clone())))
        .collect()
}

/// The private claim of an access token naming the claims its client asked userinfo for.
pub const USERINFO_CLAIMS: &str = "userinfo_claims";

/// RFC 9068 §2.2 JWT access token claims.
#[derive(Debug, Clone, Serialize)]
pub struct AccessTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    /// One audience as a string, several as an array (RFC 7519 §4.1.3).
    #[serde(serialize_with = "one_or_many")]
    pub aud: &'a [String],
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub jti: &'a str,
    pub client_id: &'a str,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// RFC 9068 §2.2.1: how strongly and how the user signed in, so that a resource server can
    /// demand more (RFC 9470).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub amr: &'a [String],
    /// RFC 9449 §6.1: the DPoP key the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation<'a>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// RFC 7800 `cnf` with RFC 9449's `jkt`.
#[derive(Debug, Clone, Serialize)]
pub struct Confirmation<'a> {
    pub jkt: &'a str,
}

fn one_or_many<S: serde::Serializer>(aud: &&[String], s: S) -> Result<S::Ok, S::Error> {
    match aud {
        [one] => s.serialize_str(one),
        many => many.serialize(s),
    }
}

/// The `typ` header of JWT access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// OIDC Core §2 ID token claims.
#[derive(Debug, Clone, Serialize)]
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub auth_time: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<&'a str>,
    pub azp: &'a str,
    pub sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// OIDC Core §3.3.2.11: the hash of the code returned with the ID token (hybrid flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// OIDC Back-Channel Logout 1.0 §2.4 logout token claims (`typ: logout+jwt`).
#[derive(Debug, Clone, Serialize)]
pub struct LogoutTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: &'a str,
    pub sid: &'a str,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`
    pub events: Value,
}

pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{ClaimTargets, standard_scopes};
    use crate::scope::Scope;
    use serde_json::json;

    fn defs() -> Vec<ScopeDefinition> {
        let mut d = standard_scopes();
        d.push(ScopeDefinition {
            name: Scope::parse("roles").unwrap(),
            claims: vec!["roles".into()],
            description: String::new(),
            targets: ClaimTargets { id_token: true, access_token: true, userinfo: false },
            builtin: false,
        });
        d
    }

    #[test]
    fn claims_follow_scope_and_target() {
        let user = json!({"email": "a@example.com", "name": "A", "roles": ["admin"]}).as_object().cloned().unwrap();
        let scope = ScopeSet::parse("openid email roles").unwrap();
        let d = defs();
        let ui = released_claims(&user, &scope, &d, ClaimTarget::Userinfo);
        assert_eq!(Value::Object(ui), json!({"email": "a@example.com"}), "no profile scope, roles not for userinfo");
        let at = released_claims(&user, &scope, &d, ClaimTarget::AccessToken);
        assert_eq!(Value::Object(at), json!({"roles": ["admin"]}));
        let idt = released_claims(&user, &scope, &d, ClaimTarget::IdToken { access_token_issued: true });
        assert_eq!(Value::Object(idt), json!({"roles": ["admin"]}));
        let idt = released_claims(&user, &scope, &d, ClaimTarget::IdToken { access_token_issued: false });
        assert_eq!(Value::Object(idt), json!({"email": "a@example.com", "roles": ["admin"]}));
    }
}
