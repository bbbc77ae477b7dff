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
        set(&mut claims, key, fresh.get(*key));
    }
    let (before, after) = (user.claims.get("email"), claims.get("email"));
    if after != before
        && let Some(address) = after.and_then(Value::as_str)
        && store.users_with_email(address).await?.iter().any(|u| u.sub != user.sub)
    {
        tracing::warn!(sub = %user.sub, actor, "a provider's new email address belongs to another user here; the old one is kept");
        for key in ["email", "email_verified"] {
            set(&mut claims, key, user.claims.get(key));
        }
    }
    if claims == user.claims {
        return Ok(user);
    }
    let details = json!({ "claims": changed_claims(&user.claims, &claims) });
    if !store.set_user_claims(&user.sub, &claims, now).await? {
        return Ok(user);
    }
    audit(store, actor, "user.update", &user.sub, details, now).await?;
    Ok(User { claims, ..user })
}

/// `claims[key]` becomes `value`, or is removed when there is none.
fn set(claims: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    match value {
        Some(v) => claims.insert(key.to_owned(), v.clone()),
        None => claims.remove(key),
    };
}

/// The names of the claims that differ between `before` and `after` (the audit log names
/// claims that changed, never their values).
pub(crate) fn changed_claims<'a>(before: &'a Map<String, Value>, after: &'a Map<String, Value>) -> Vec<&'a String> {
    before
        .keys()
        .chain(after.keys().filter(|k| !before.contains_key(*k)))
        .filter(|k| before.get(*k) != after.get(*k))
        .collect()
}
