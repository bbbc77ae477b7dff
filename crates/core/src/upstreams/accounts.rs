//! Which user an upstream identity is: the user it is linked to; else, when the provider is
//! trusted to (`link_by_email`), the one user whose `email` is the address the provider says it
//! verified; else a new user (`create_users`), without a password. An address the provider did
//! not verify never links, and an identity whose address is an existing user's creates no second
//! user with it: that person signs in as before and links the provider on their account page.
//! Links and new users are audited (`upstream.link`, `upstream.unlink`, `user.create`). A
//! `sync_claims` provider's claims are copied again at each sign-in (`claim_sync`).

use super::{UpstreamError, Upstreams};
use crate::claim_sync::sync_claims;
use crate::factors::audit;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::secret::SecretHash;
use gatehouse_protocol::upstream::{Identity, Upstream};
use gatehouse_protocol::user::User;
use gatehouse_store::{FactorKind, Store, StoreError, UpstreamLink};
use serde_json::{Value, json};

impl Upstreams {
    /// The user `identity` (from provider `id`) signs in as.
    pub async fn user_for(&self, id: &str, identity: &Identity) -> Result<User, UpstreamError> {
        let p = self.provider(id)?;
        let store = self.store.as_ref();
        let now = self.clock.now();
        if let Some(link) = store.find_link(id, &identity.subject).await? {
            let user = store.get_user_by_sub(&link.sub).await?.ok_or(UpstreamError::NoAccount)?;
            if user.disabled {
                return Err(UpstreamError::Disabled);
            }
            store.touch_link(id, &identity.subject, now).await?;
            if !p.sync_claims {
                return Ok(user);
            }
            let owned = p.claims.keys().map(String::as_str);
            let actor = format!("upstream:{id}");
            return Ok(sync_claims(store, user, owned, &identity.claims, &actor, now).await?);
        }
        // Unknown here. Who holds its address?
        let claimed = identity.claims.get("email").and_then(Value::as_str);
        let address = identity.verified_email.as_deref().or(claimed);
        let holders = match address {
            Some(a) => store.users_with_email(a).await?,
            None => Vec::new(),
        };
        if let (true, Some(verified), [holder]) = (p.link_by_email, &identity.verified_email, holders.as_slice()) {
            if holder.disabled {
                return Err(UpstreamError::Disabled);
            }
            self.insert_link(&p, &holder.sub, identity, "upstream.link", &format!("upstream:{id}")).await?;
            tracing::info!(provider = id, sub = %holder.sub, email = %verified, "linked an upstream identity by its verified email");
            return Ok(holder.clone());
        }
        if !holders.is_empty() {
            return Err(UpstreamError::EmailTaken);
        }
        if !p.create_users {
            return Err(UpstreamError::NoAccount);
        }
        self.create_user(&p, identity).await
    }

    /// A new user for `identity`, with its link, under the first free username.
    async fn create_user(&self, p: &Upstream, identity: &Identity) -> Result<User, UpstreamError> {
        let now = self.clock.now();
        let link = self.link_record(p, "", identity);
        for username in p.username_candidates(identity) {
            let user = User {
                sub: uuid::Uuid::new_v4().to_string(),
                username,
                password_hash: SecretHash::Unset,
                claims: identity.claims.clone(),
                disabled: false,
                admin: false,
            };
            let link = UpstreamLink { sub: user.sub.clone(), ..link.clone() };
            match self.store.insert_user_with_link(&user, &link, now).await {
                Ok(()) => {
                    let details = json!({ "username": user.username, "provider": p.id, "subject": identity.subject });
                    audit(self.store.as_ref(), &format!("upstream:{}", p.id), "user.create", &user.sub, details, now)
                        .await?;
                    tracing::info!(provider = %p.id, sub = %user.sub, username = %user.username, "created a user at their first upstream sign-in");
                    return Ok(user);
                }
                Err(StoreError::Conflict(_)) => {
                    // The same identity's first sign-in in another tab won the race: use it.
                    if let Some(l) = self.store.find_link(&p.id, &identity.subject).await?
                        && let Some(u) = self.store.get_user_by_sub(&l.sub).await?
                    {
                        return Ok(u);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("no free username for the new user").into())
    }

    fn link_record(&self, p: &Upstream, sub: &str, identity: &Identity) -> UpstreamLink {
        let now = self.clock.now();
        UpstreamLink {
            provider: p.id.clone(),
            subject: identity.subject.clone(),
            sub: sub.to_owned(),
            email: identity.verified_email.clone(),
            created_at: now,
            last_used_at: Some(now),
        }
    }

    async fn insert_link(
        &self,
        p: &Upstream,
        sub: &str,
        identity: &Identity,
        action: &str,
        actor: &str,
    ) -> Result<(), UpstreamError> {
        match self.store.insert_link(&self.link_record(p, sub, identity)).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(UpstreamError::LinkedElsewhere),
            Err(e) => return Err(e.into()),
        }
        let details = json!({ "provider": p.id, "subject": identity.subject, "email": identity.verified_email });
        audit(self.store.as_ref(), actor, action, sub, details, self.clock.now()).await?;
        Ok(())
    }

    /// Links `identity` (from provider `id`) to signed-in user `sub`, at their request. Linked
    /// to them already: nothing to do.
    pub async fn link(&self, sub: &str, id: &str, identity: &Identity) -> Result<(), UpstreamError> {
        let p = self.provider(id)?;
        match self.store.find_link(id, &identity.subject).await? {
            Some(l) if l.sub == sub => Ok(()),
            Some(_) => Err(UpstreamError::LinkedElsewhere),
            None => self.insert_link(&p, sub, identity, "upstream.link", &format!("user:{sub}")).await,
        }
    }

    /// The user's links.
    pub async fn links(&self, sub: &str) -> Result<Vec<UpstreamLink>, UpstreamError> {
        Ok(self.store.list_links(sub).await?)
    }

    /// Removes one of `sub`'s links, as `actor`. A user removing their own (`own`) may not
    /// remove their last way to sign in: no password, no passkey, no other link.
    pub async fn unlink(
        &self,
        actor: &str,
        sub: &str,
        provider: &str,
        subject: &str,
        own: bool,
    ) -> Result<bool, UpstreamError> {
        let store = self.store.as_ref();
        if own {
            let user = store.get_user_by_sub(sub).await?.ok_or(UpstreamError::NoAccount)?;
            let others =
                store.list_links(sub).await?.iter().filter(|l| l.provider != provider || l.subject != subject).count();
            let passkeys = store.list_factors(sub).await?.iter().filter(|f| f.kind == FactorKind::Passkey).count();
            if !user.password_hash.is_set() && others == 0 && passkeys == 0 {
                return Err(UpstreamError::LastWay);
            }
        }
        Ok(remove_link(store, actor, sub, provider, subject, self.clock.now()).await?)
    }
}

/// Removes one of `sub`'s links, audited as `actor`'s `upstream.unlink` (the service's, and the
/// CLI's straight on the store).
pub async fn remove_link(
    store: &dyn Store,
    actor: &str,
    sub: &str,
    provider: &str,
    subject: &str,
    now: UnixTime,
) -> Result<bool, StoreError> {
    let removed = store.delete_link(sub, provider, subject).await?;
    if removed {
        let details = json!({ "provider": provider, "subject": subject });
        audit(store, actor, "upstream.unlink", sub, details, now).await?;
    }
    Ok(removed)
}
