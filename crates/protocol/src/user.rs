//! Users: a stable subject identifier, a login name, a password hash and claims
//! (OIDC Core §5.1 standard claims plus operator-defined ones such as `roles`).

use crate::claims::{ClaimKind, RESERVED_CLAIMS, standard_claim_kind};
use crate::client::FieldError;
use crate::secret::{Secret, SecretHash};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// OIDC Core §2: locally unique, never reassigned, ≤ 255 ASCII characters.
    pub sub: String,
    pub username: String,
    pub password_hash: SecretHash,
    pub claims: Map<String, Value>,
    pub disabled: bool,
    /// May use the admin console and the admin API with a token granted `gatehouse:admin`.
    pub admin: bool,
}

/// A user as an operator writes it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing)]
    pub password: Option<Secret>,
    /// An argon2id PHC string, instead of `password`; `none` for a user without a password (who
    /// signs in through an upstream provider or a passkey).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// An administrator: may sign in to the admin console (`/admin`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
}

/// A validated user spec whose password is not hashed yet.
#[derive(Debug, Clone)]
pub struct ValidUser {
    pub username: String,
    pub sub: Option<String>,
    pub password: PasswordInput,
    pub claims: Map<String, Value>,
    pub disabled: bool,
    pub admin: bool,
}

#[derive(Debug, Clone)]
pub enum PasswordInput {
    Plain(Secret),
    Hashed(SecretHash),
}

/// A subject identifier: 1–255 printable ASCII characters (OIDC Core §2).
pub fn validate_sub(sub: &str) -> Result<(), &'static str> {
    if sub.is_empty() || sub.len() > 255 || !sub.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return Err("must be 1 to 255 printable ASCII characters (OIDC Core §2)");
    }
    Ok(())
}

impl UserSpec {
    pub fn validate(&self) -> Result<ValidUser, Vec<FieldError>> {
        let mut errs = Vec::new();
        if self.username.trim().is_empty() || self.username.len() > 255 {
            errs.push(FieldError::new("username", "must be 1 to 255 characters"));
        } else if self.username.chars().any(|c| c.is_control() || c.is_whitespace()) {
            errs.push(FieldError::new("username", "may not contain spaces or control characters"));
        }
        if let Some(sub) = &self.sub
            && let Err(m) = validate_sub(sub)
        {
            errs.push(FieldError::new("sub", m));
        }
        let password = match (&self.password, &self.password_hash) {
            (Some(_), Some(_)) => {
                errs.push(FieldError::new("password_hash", "give password or password_hash, not both"));
                None
            }
            (Some(p), None) if p.expose().is_empty() => {
                errs.push(FieldError::new("password", "is empty"));
                None
            }
            (Some(p), None) => Some(PasswordInput::Plain(p.clone())),
            (None, Some(h)) => match SecretHash::parse(h) {
                // `none`: a user without a password (one who signs in through an upstream).
                Ok(h @ (SecretHash::Argon2(_) | SecretHash::Unset)) => Some(PasswordInput::Hashed(h)),
                Ok(SecretHash::Sha256(_) | SecretHash::Sealed(_)) => {
                    errs.push(FieldError::new(
                        "password_hash",
                        "must be an argon2 PHC string (\"$argon2id$...\"), or none for no password",
                    ));
                    None
                }
                Err(e) => {
                    errs.push(FieldError::new("password_hash", e.to_string()));
                    None
                }
            },
            (None, None) => {
                errs.push(FieldError::new("password", "a user needs a password or a password_hash"));
                None
            }
        };
        for (name, value) in &self.claims {
            if let Err(m) = check_claim(name, value) {
                errs.push(FieldError::new("claims", format!("{name}: {m}")));
            }
        }
        match password {
            Some(password) if errs.is_empty() => Ok(ValidUser {
                username: self.username.clone(),
                sub: self.sub.clone(),
                password,
                claims: self.claims.clone(),
                disabled: self.disabled,
                admin: self.admin,
            }),
            _ => Err(errs),
        }
    }
}

/// Type-checks one claim against OIDC Core §5.1.
fn check_claim(name: &str, value: &Value) -> Result<(), String> {
    if RESERVED_CLAIMS.contains(&name) {
        return Err(if name == "sub" {
            "set the user's `sub` key, not a claim".to_owned()
        } else {
            "is set by Gatehouse in tokens and cannot be a user claim".to_owned()
        });
    }
    let Some(kind) = standard_claim_kind(name) else { return Ok(()) };
    let ok = match kind {
        ClaimKind::String => value.is_string(),
        ClaimKind::Boolean => value.is_boolean(),
        ClaimKind::Number => value.is_i64() || value.is_u64(),
        ClaimKind::Object => {
            // OIDC Core §5.1.1: the address members are all strings.
            value.as_object().is_some_and(|o| {
                o.iter().all(|(k, v)| {
                    matches!(
                        k.as_str(),
                        "formatted" | "street_address" | "locality" | "region" | "postal_code" | "country"
                    ) && v.is_string()
                })
            })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(match kind {
            ClaimKind::String => "must be a string (OIDC Core §5.1)".to_owned(),
            ClaimKind::Boolean => "must be true or false (OIDC Core §5.1)".to_owned(),
            ClaimKind::Number => "must be a number of seconds since the epoch (OIDC Core §5.1)".to_owned(),
            ClaimKind::Object => "must be a table of formatted, street_address, locality, region, postal_code, country strings (OIDC Core §5.1.1)".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(claims: Value) -> UserSpec {
        UserSpec {
            username: "alice".into(),
            password: Some(Secret::new("pw")),
            claims: claims.as_object().cloned().unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn standard_and_custom_claims_accepted() {
        let u = user(json!({
            "email": "a@example.com", "email_verified": true, "updated_at": 1700000000,
            "address": {"street_address": "1 Main St", "country": "NL"}, "roles": ["admin"]
        }));
        assert!(u.validate().is_ok());
    }

    #[test]
    fn badly_typed_or_reserved_claims_refused() {
        for bad in [
            json!({"email_verified": "yes"}),
            json!({"address": "1 Main St"}),
            json!({"address": {"planet": "Mars"}}),
            json!({"updated_at": "yesterday"}),
            json!({"sub": "x"}),
            json!({"iss": "x"}),
        ] {
            let errs = user(bad.clone()).validate().unwrap_err();
            assert_eq!(errs[0].key, "claims", "{bad}");
        }
    }

    #[test]
    fn user_without_password_refused() {
        let u = UserSpec { username: "bob".into(), ..Default::default() };
        assert_eq!(u.validate().unwrap_err()[0].key, "password");
    }

    #[test]
    fn password_hash_must_be_argon2() {
        let u = UserSpec { username: "bob".into(), password_hash: Some("sha256:AAAA".into()), ..Default::default() };
        assert_eq!(u.validate().unwrap_err()[0].key, "password_hash");
    }

    #[test]
    fn bad_usernames_and_subs() {
        for name in ["", " ", "a b", "tab\t"] {
            let u = UserSpec { username: name.into(), password: Some(Secret::new("p")), ..Default::default() };
            assert_eq!(u.validate().unwrap_err()[0].key, "username", "{name:?}");
        }
        let u = UserSpec { sub: Some("has space".into()), ..user(json!({})) };
        assert_eq!(u.validate().unwrap_err()[0].key, "sub");
    }
}
