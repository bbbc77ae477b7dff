//! RFC 6749 §6: refreshing with rotation. The presented token is retired atomically; a retired
//! token presented again revokes its family (RFC 9700 §4.14.2).

use crate::grant::issue::{Issuing, Replay, UserGrant, active_user, internal, plan, replayed, sign};
use crate::issuer::hash_token;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::TokenResponse;
use gatehouse_protocol::token::refresh_token;

pub async fn handle(
    core: &Issuing,
    client: &Client,
    token: &str,
    requested: Option<&ScopeSet>,
) -> Result<TokenResponse, OAuthError> {
    let now = core.now();
    let token_hash = hash_token(token);
    let found = core
        .store
        .find_refresh(&token_hash, now)
        .await?
        .ok_or(OAuthError::InvalidGrant("the refresh token is invalid"))?;
    if found.used {
        return Err(replayed(core, client, &found.grant.family_id, now, Replay::RefreshToken).await);
    }
    let grant = found.grant;
    if grant.client_id != client.id.as_str() {
        // Another client's token: whoever presents it has leaked it, so revoke the family
        // rather than leave it usable.
        core.store.revoke_family(&grant.family_id, now).await?;
    }
    // Otherwise a request that fails validation (an expired token, a wider scope) changes
    // nothing.
    let scope = refresh_token::validate(client, &grant, requested, now)?;
    let user = active_user(core, &grant.sub).await?;
    let g = UserGrant {
        user: &user,
        grant_scope: grant.scope.clone(),
        scope,
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
        amr: grant.amr.clone(),
        nonce: None,
        family_id: grant.family_id.clone(),
        family_expires_at: Some(grant.family_expires_at),
    };
    // One write retires the token and stores its successor; losing a race to a concurrent
    // rotation of the same token is a replay (RFC 9700 §4.14.2).
    let planned = plan(core, client, &g, now)?;
    let Some((_, successor)) = &planned.refresh else {
        return Err(internal("a refresh grant always issues a refresh token"));
    };
    if !core.store.rotate_refresh(&token_hash, now, successor).await? {
        return Err(replayed(core, client, &grant.family_id, now, Replay::RefreshToken).await);
    }
    sign(core, client, &g, planned, now)
}
