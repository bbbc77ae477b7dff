//! Scopes and the claims they release (OIDC Core §5.4), plus operator-defined scopes
//! (DESIGN.md §3) that map to custom claims such as `roles`.

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
    fn claim_kinds() {
        assert_eq!(standard_claim_kind("email_verified"), Some(ClaimKind::Boolean));
        assert_eq!(standard_claim_kind("address"), Some(ClaimKind::Object));
        assert_eq!(standard_claim_kind("roles"), None);
    }
}
