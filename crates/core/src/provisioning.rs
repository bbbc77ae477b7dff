//! What a client granted `gatehouse:provision` may do, and nothing more: create users (a
//! username, a password, claims) and later set their password or replace their claims. It never
//! makes or touches an administrator, never picks a `sub`, never disables, renames, deletes or
//! reads anyone. This is the credential behind an application's own sign-up and account forms.

use crate::admin::{Admin, AdminError, Result, UserUpdate};
use gatehouse_protocol::claims::PROVISION_SCOPE;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::{User, UserSpec};
use serde_json::{Map, Value};

/// The administrative operations, narrowed to provisioning.
pub struct Provisioning<'a> {
    admin: Admin<'a>,
}

impl<'a> Provisioning<'a> {
    /// Provisioning on behalf of `admin`'s actor (audited as that actor).
    pub fn new(admin: Admin<'a>) -> Self {
        Self { admin }
    }

    /// Creates a user from a username, a password and claims. Asking for more (`sub`,
    /// `password_hash`, `disabled`, `admin`) is refused as a whole.
    pub async fn create_user(&self, spec: &UserSpec) -> Result<User> {
        if let Some(field) = beyond_provisioning(spec) {
            return Err(beyond_scope(&format!("setting {field}")));
        }
        if spec.password.is_none() {
            return Err(AdminError::field("password", "is required"));
        }
        self.admin.create_user(spec).await
    }

    /// Replaces a user's claims.
    pub async fn set_claims(&self, sub: &str, claims: Map<String, Value>) -> Result<User> {
        self.not_an_administrator(sub).await?;
        let update = UserUpdate { claims: Some(claims), ..Default::default() };
        Ok(self.admin.update_user(sub, &update).await?.0)
    }

    /// Sets a user's password.
    pub async fn set_password(&self, sub: &str, password: Secret) -> Result<()> {
        self.not_an_administrator(sub).await?;
        self.admin.set_password(sub, password).await
    }

    /// Administrators are the admin scope's business: a provisioning credential that could set
    /// an administrator's password could become one.
    async fn not_an_administrator(&self, sub: &str) -> Result<()> {
        if self.admin.get_user(sub).await?.admin {
            return Err(beyond_scope("changing an administrator"));
        }
        Ok(())
    }
}

/// The first field of `spec` a provisioning client may not set.
fn beyond_provisioning(spec: &UserSpec) -> Option<&'static str> {
    let asked = [
        ("sub", spec.sub.is_some()),
        ("password_hash", spec.password_hash.is_some()),
        ("disabled", spec.disabled),
        ("admin", spec.admin),
    ];
    asked.into_iter().find_map(|(field, asked)| asked.then_some(field))
}

fn beyond_scope(what: &str) -> AdminError {
    AdminError::Forbidden(format!("{what} is beyond {PROVISION_SCOPE}; it needs gatehouse:admin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(f: impl FnOnce(&mut UserSpec)) -> UserSpec {
        let mut s = UserSpec {
            username: "new".into(),
            sub: None,
            password: Some(Secret::new("a long enough password")),
            password_hash: None,
            claims: Map::new(),
            disabled: false,
            admin: false,
        };
        f(&mut s);
        s
    }

    #[test]
    fn only_a_username_a_password_and_claims_are_within_provisioning() {
        let with_claims = spec(|s| {
            s.claims.insert("name".into(), "N".into());
        });
        assert_eq!(beyond_provisioning(&with_claims), None);
        for (s, field) in [
            (spec(|s| s.admin = true), "admin"),
            (spec(|s| s.sub = Some("chosen".into())), "sub"),
            (spec(|s| s.disabled = true), "disabled"),
            (spec(|s| s.password_hash = Some("$argon2id$...".into())), "password_hash"),
        ] {
            assert_eq!(beyond_provisioning(&s), Some(field));
        }
    }
}
