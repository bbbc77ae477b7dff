//! Keeping the claims a provider owns current (`sync_claims` on an `[[upstreams]]` entry or on
//! `[ldap]`): at each sign-in through it, the claims its mapping names are replaced by what it
//! says now, and one it no longer sends is removed. Claims it does not map (roles an
//! administrator gave) are kept. An address that another user here holds is not taken over: the
//! old one stays. A change is written alone (never the password) and audited as `user.update`
//! with the names of the claims that changed, not their values.

use crate::factors::audit;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::user::User;
use gatehouse_store::{Store, StoreError};
use serde_json::{Map, Value, json};

/// `user` with the claims `owned` (local names) as `fresh` has them, stored when they changed.
/// `actor` names who said so in the audit log (`ldap`, `upstream:<id>`).
pub(crate) async fn sync_claims<'a>(
    store: &dyn Store,
    user: User,
    owned: impl Iterator<Item = &'a str>,
    fresh: &Map<String, Value>,
    actor: &str,
    now: UnixTime,
) -> Result<User, StoreError> {
    let mut owned: Vec<&str> = owned.collect();
    if owned.contains(&"email") {
        owned.push("email_verified");
    }
    let mut claims = user.claims.clone();
    for key in &owned {
        match fresh.get(*key) {
            Some(v) => claims.insert((*key).to_owned(), v.clone()),
            None => claims.remove(*key),
        };
    }
    let (before, after) = (user.claims.get("email"), claims.get("email"));
    if after != before
        && let Some(address) = after.and_then(Value::as_str)
        && store.users_with_email(address).await?.iter().any(|u| u.sub != user.sub)
    {
        tracing::warn!(sub = %user.sub, actor, "a provider's new email address belongs to another user here; the old one is kept");
        for key in ["email", "email_verified"] {
            match user.claims.get(key) {
                Some(v) => claims.insert(key.to_owned(), v.clone()),
                None => claims.remove(key),
            };
        }
    }
    if claims == user.claims {
        return Ok(user);
    }
    let changed: Vec<&String> = claims
        .keys()
        .chain(user.claims.keys().filter(|k| !claims.contains_key(*k)))
        .filter(|k| claims.get(*k) != user.claims.get(*k))
        .collect();
    let details = json!({ "claims": changed });
    if !store.set_user_claims(&user.sub, &claims, now).await? {
        return Ok(user);
    }
    audit(store, actor, "user.update", &user.sub, details, now).await?;
    Ok(User { claims, ..user })
}
