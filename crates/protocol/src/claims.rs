//! Scopes and the claims they release (OIDC Core §5.4), plus operator-defined scopes
//! (DESIGN.md §3) that map to custom claims such as `roles`.

use crate::client::FieldError;
use crate::scope::Scope;

/// Where an operator-defined scope's claims are released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimTargets {
    pub id_token: bool,
    pub access_token: bool,
    pub userinfo: bool,
}

impl ClaimTargets {
    pub const ALL: Self = Self { id_token: true, access_token: true, userinfo: true };
    /// OIDC Core §5.4: standard claims come from userinfo, and go into the ID token only when
    /// no access token is issued (decided at issue time).
    pub const STANDARD: Self = Self { id_token: false, access_token: false, userinfo: true };
}

/// A scope: its claims, its plain-words description for the consent page, and where the claims go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeDefinition {
    pub name: Scope,
    pub claims: Vec<String>,
    pub description: String,
    pub targets: ClaimTargets,
    #[serde(default)]
    pub builtin: bool,
}

/// The OIDC Core §5.4 scopes, with the claims each releases.
pub const STANDARD_SCOPES: [(&str, &[&str], &str); 6] = [
    ("openid", &["sub"], "Sign you in and know who you are"),
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "See your name and basic profile",
    ),
    ("email", &["email", "email_verified"], "See your email address"),
    ("address", &["address"], "See your postal address"),
    ("phone", &["phone_number", "phone_number_verified"], "See your phone number"),
    ("offline_access", &[], "Stay signed in while you are away (refresh tokens)"),
];

/// The built-in scope definitions.
pub fn standard_scopes() -> Vec<ScopeDefinition> {
    STANDARD_SCOPES
        .iter()
        .filter_map(|(name, claims, description)| {
            Some(ScopeDefinition {
                name: Scope::parse(name).ok()?,
                claims: claims.iter().map(|c| (*c).to_owned()).collect(),
                description: (*description).to_owned(),
                targets: ClaimTargets::STANDARD,
                builtin: true,
            })
        })
        .collect()
}

pub fn is_standard_scope(name: &str) -> bool {
    STANDARD_SCOPES.iter().any(|(n, _, _)| *n == name)
}

/// The scope that opens the admin API: Gatehouse protects itself with its own tokens.
pub const ADMIN_SCOPE: &str = "gatehouse:admin";

/// The narrow scope an application's own sign-up and account screens use: create users and set
/// their password and claims, nothing else (never an administrator, never a client or a key).
/// Only a client's own token (client_credentials) carries it.
pub const PROVISION_SCOPE: &str = "gatehouse:provision";

/// Gatehouse's own management scopes, with what each allows.
const GATEHOUSE_SCOPES: [(&str, &str); 2] = [
    (ADMIN_SCOPE, "Administer Gatehouse: clients, users, scopes, sessions and keys"),
    (PROVISION_SCOPE, "Create users and set their password and claims (never administrators)"),
];

/// Every scope Gatehouse defines itself: the OIDC ones and its management scopes.
pub fn builtin_scopes() -> Vec<ScopeDefinition> {
    let mut out = standard_scopes();
    for (name, description) in GATEHOUSE_SCOPES {
        if let Ok(name) = Scope::parse(name) {
            out.push(ScopeDefinition {
                name,
                claims: Vec::new(),
                description: description.to_owned(),
                targets: ClaimTargets::STANDARD,
                builtin: true,
            });
        }
    }
    out
}

/// A scope that manages Gatehouse itself ([`ADMIN_SCOPE`], [`PROVISION_SCOPE`]): not advertised
/// to relying parties, never self-registered.
pub fn is_gatehouse_scope(name: &str) -> bool {
    GATEHOUSE_SCOPES.iter().any(|(n, _)| *n == name)
}

pub fn is_builtin_scope(name: &str) -> bool {
    is_standard_scope(name) || is_gatehouse_scope(name)
}

/// An operator-defined scope as written in the config file, the admin API or the CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the claims go: `id_token`, `access_token`, `userinfo`; all three when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_in: Option<Vec<String>>,
}

impl ScopeSpec {
    /// Validates one scope on its own (uniqueness is the caller's: it knows the others).
    pub fn validate(&self) -> Result<ScopeDefinition, Vec<FieldError>> {
        let mut errs = Vec::new();
        let name = match Scope::parse(&self.name) {
            Ok(n) if is_builtin_scope(n.as_str()) => {
                errs.push(FieldError::new("name", "is a built-in scope and cannot be redefined"));
                None
            }
            Ok(n) => Some(n),
            Err(e) => {
                errs.push(FieldError::new("name", e.to_string()));
                None
            }
        };
        if let Some(c) =
            self.claims.iter().find(|c| c.is_empty() || c.chars().any(|ch| ch.is_whitespace() || ch.is_control()))
        {
            errs.push(FieldError::new("claims", format!("{c:?} is not a claim name")));
        }
        if let Some(c) = self.claims.iter().find(|c| RESERVED_CLAIMS.contains(&c.as_str())) {
            errs.push(FieldError::new(
                "claims",
                format!("{c:?} is set by Gatehouse in tokens and cannot come from a scope"),
            ));
        }
        if self.description.as_deref().is_some_and(|d| d.chars().any(char::is_control)) {
            errs.push(FieldError::new("description", "has control characters"));
        }
        let mut targets = ClaimTargets { id_token: false, access_token: false, userinfo: false };
        match &self.include_in {
            None => targets = ClaimTargets::ALL,
            Some(list) => {
                for t in list {
                    match t.as_str() {
                        "id_token" => targets.id_token = true,
                        "access_token" => targets.access_token = true,
                        "userinfo" => targets.userinfo = true,
                        other => errs.push(FieldError::new(
                            "include_in",
                            format!("unknown target {other:?}; valid: id_token, access_token, userinfo"),
                        )),
                    }
                }
            }
        }
        match name {
            Some(name) if errs.is_empty() => Ok(ScopeDefinition {
                description: self.description.clone().unwrap_or_else(|| format!("Access to {}", name.as_str())),
                name,
                claims: self.claims.clone(),
                targets,
                builtin: false,
            }),
            _ => Err(errs),
        }
    }
}

impl ScopeDefinition {
    /// The spec that validates back into this definition (export, the admin API's view).
    pub fn to_spec(&self) -> ScopeSpec {
        let t = self.targets;
        let include_in = if t == ClaimTargets::ALL {
            None
        } else {
            Some(
                [("id_token", t.id_token), ("access_token", t.access_token), ("userinfo", t.userinfo)]
                    .into_iter()
                    .filter(|(_, on)| *on)
                    .map(|(n, _)| n.to_owned())
                    .collect(),
            )
        };
        ScopeSpec {
            name: self.name.as_str().to_owned(),
            claims: self.claims.clone(),
            description: Some(self.description.clone()),
            include_in,
        }
    }
}

/// JSON type a standard claim must have (OIDC Core §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    String,
    Boolean,
    Number,
    Object,
}

/// The OIDC Core §5.1 standard claims and their JSON types; `None` for a custom claim.
pub fn standard_claim_kind(name: &str) -> Option<ClaimKind> {
    Some(match name {
        "email_verified" | "phone_number_verified" => ClaimKind::Boolean,
        "updated_at" => ClaimKind::Number,
        "address" => ClaimKind::Object,
        "name" | "family_name" | "given_name" | "middle_name" | "nickname" | "preferred_username" | "profile"
        | "picture" | "website" | "gender" | "birthdate" | "zoneinfo" | "locale" | "email" | "phone_number" => {
            ClaimKind::String
        }
        _ => return None,
    })
}

/// Claims a user record may not set because Gatehouse owns them in tokens.
pub const RESERVED_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
    "scope",
    "client_id",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_scopes_match_core_5_4() {
        let s = standard_scopes();
        assert_eq!(s.len(), 6);
        let profile = s.iter().find(|d| d.name.as_str() == "profile").unwrap();
        assert_eq!(profile.claims.len(), 14);
        assert!(is_standard_scope("offline_access"));
        assert!(!is_standard_scope("roles"));
    }

    #[test]
    fn scope_specs_validate_and_round_trip() {
        let spec = ScopeSpec {
            name: "roles".into(),
            claims: vec!["roles".into()],
            description: Some("Your roles".into()),
            include_in: Some(vec!["access_token".into()]),
        };
        let d = spec.validate().unwrap();
        assert!(d.targets.access_token && !d.targets.id_token && !d.targets.userinfo);
        assert_eq!(d.to_spec(), spec);
        assert_eq!(d.to_spec().validate().unwrap(), d);
    }

    #[test]
    fn bad_scope_specs_name_the_field() {
        for (spec, field) in [
            (ScopeSpec { name: "openid".into(), ..Default::default() }, "name"),
            (ScopeSpec { name: ADMIN_SCOPE.into(), ..Default::default() }, "name"),
            (ScopeSpec { name: PROVISION_SCOPE.into(), ..Default::default() }, "name"),
            (ScopeSpec { name: "a b".into(), ..Default::default() }, "name"),
            (ScopeSpec { name: "x".into(), claims: vec!["".into()], ..Default::default() }, "claims"),
            (ScopeSpec { name: "x".into(), claims: vec!["sub".into()], ..Default::default() }, "claims"),
            (
                ScopeSpec { name: "x".into(), include_in: Some(vec!["cookie".into()]), ..Default::default() },
                "include_in",
            ),
        ] {
            assert_eq!(spec.validate().unwrap_err()[0].key, field, "{spec:?}");
        }
    }

    #[test]
    fn gatehouse_scopes_are_builtin_but_not_standard() {
        for scope in [ADMIN_SCOPE, PROVISION_SCOPE] {
            assert!(is_builtin_scope(scope));
            assert!(is_gatehouse_scope(scope));
            assert!(!is_standard_scope(scope));
            assert!(builtin_scopes().iter().any(|s| s.name.as_str() == scope));
        }
        assert!(!is_gatehouse_scope("openid"));
        assert!(!is_gatehouse_scope("gatehouse:other"));
    }

    #[test]
    fn claim_kinds() {
        assert_eq!(standard_claim_kind("email_verified"), Some(ClaimKind::Boolean));
        assert_eq!(standard_claim_kind("address"), Some(ClaimKind::Object));
        assert_eq!(standard_claim_kind("roles"), None);
    }
}
