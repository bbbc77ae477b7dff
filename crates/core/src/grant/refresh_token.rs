//! RFC 6749 §6: refreshing with rotation. The presented token is retired atomically; a retired
//! token presented again revokes its family (RFC 9700 §4.14.2), unless it is its own client's
//! retry inside the reuse grace window.
//!
//! The grace window (`[tokens] refresh_token_reuse_grace`, per client as well): two tabs
//! refreshing at once, a mobile app whose response was lost, a client following our own
//! `503 Retry-After` after a commit whose reply never arrived, all present a token that has just
//! been rotated. Within the window such a repeat by the same client is answered with the same
//! successor refresh token (derived from the presented token with a server key, so it is known
//! again without storing it) and a fresh access token, recorded so a later family revocation
//! reaches it: no second live branch of the family exists. After the window, from another
//! client, or once the successor has itself been used, the repeat is theft and revokes the
//! family as before.

use crate::grant::issue::{
    Issuing, Planned, Replay, Requested, UserGrant, active_user, check_binding, internal, plan_with, replayed, sign,
    target,
};
use crate::issuer::hash_token;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::TokenResponse;
use gatehouse_protocol::token::refresh_token::{self, RefreshGrant};
use gatehouse_protocol::user::User;
use gatehouse_store::{NewRefresh, RefreshLookup};

pub async fn handle(
    core: &Issuing,
    client: &Client,
    token: &str,
    ask: Requested<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = core.now();
    let token_hash = hash_token(token);
    let found = core
        .store
        .find_refresh(&token_hash, now)
        .await?
        .ok_or(OAuthError::InvalidGrant("the refresh token is invalid"))?;
    if found.used {
        return retry_or_replay(core, client, token, &found, &ask, now).await;
    }
    let grant = found.grant;
    if grant.client_id != client.id.as_str() {
        // Another client's token: whoever presents it has leaked it, so revoke the family
        // rather than leave it usable.
        core.store.revoke_family(&grant.family_id, now).await?;
    }
    // Otherwise a request that fails validation (an expired token, a wider scope, a resource
    // not granted) changes nothing.
    let scope = refresh_token::validate(client, &grant, ask.scope, now)?;
    let user = active_user(core, &grant.sub).await?;
    let g = user_grant(core, client, &user, &grant, scope, &ask).await?;
    // One write retires the token and stores its successor; losing a race to a concurrent
    // rotation of the same token makes this a repeat of it (a retry or a replay).
    let planned = plan_with(core, client, &g, now, core.tokens.refresh_successor(token))?;
    let Some((_, successor)) = &planned.refresh else {
        return Err(internal("a refresh grant always issues a refresh token"));
    };
    if !core.store.rotate_refresh(&token_hash, now, successor).await? {
        let again = core.store.find_refresh(&token_hash, now).await?;
        let Some(found) = again.filter(|f| f.used) else {
            return Err(replayed(core, client, &grant.family_id, now, Replay::RefreshToken).await);
        };
        return retry_or_replay(core, client, token, &found, &ask, now).await;
    }
    sign(core, client, &g, planned, now)
}

/// What a refresh of `grant` establishes, `scope` being what this request gets and `ask` what
/// it asks of the granted resources (all of them when none) and the key it proves.
async fn user_grant<'a>(
    core: &Issuing,
    client: &Client,
    user: &'a User,
    grant: &RefreshGrant,
    scope: ScopeSet,
    ask: &Requested<'_>,
) -> Result<UserGrant<'a>, OAuthError> {
    check_binding(grant.dpop_jkt.as_deref(), ask.dpop_jkt)?;
    let narrowed = resource::narrow(ask.resources, &grant.resources)?;
    let (scope, audience) = target(core, &scope, &narrowed)?;
    Ok(UserGrant {
        user,
        grant_scope: grant.scope.clone(),
        scope,
        audience,
        resources: grant.resources.clone(),
        dpop_jkt: ask.dpop_jkt.map(str::to_owned),
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
        amr: grant.amr.clone(),
        nonce: None,
        claims: grant.claims.clone(),
        acr: grant.acr.clone(),
        family_id: grant.family_id.clone(),
        family_expires_at: Some(grant.family_expires_at),
        id_token_encrypter: core.tokens.encrypter(client, Encrypted::IdToken).await?,
    })
}

/// A rotated (or revoked) token presented again: its client's retry inside the grace window
/// gets the successor again; anything else revokes the family.
async fn retry_or_replay(
    core: &Issuing,
    client: &Client,
    token: &str,
    found: &RefreshLookup,
    ask: &Requested<'_>,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    match retry(core, client, token, found, ask, now).await? {
        Some(answer) => Ok(answer),
        // No rotation time: the family was revoked, so this is a stale token, not a replay.
        None if found.rotated_at.is_none() => {
            Err(replayed(core, client, &found.grant.family_id, now, Replay::RevokedRefreshToken).await)
        }
        None => Err(replayed(core, client, &found.grant.family_id, now, Replay::RefreshToken).await),
    }
}

/// The answer to a retry inside the grace window: the successor the first presentation got
/// (still unused) and a fresh access token. `None` when this repeat is not a retry.
async fn retry(
    core: &Issuing,
    client: &Client,
    token: &str,
    found: &RefreshLookup,
    ask: &Requested<'_>,
    now: UnixTime,
) -> Result<Option<TokenResponse>, OAuthError> {
    let grace = core.tokens.lifetimes.for_client(client).refresh_reuse_grace;
    let Some(rotated_at) = found.rotated_at else { return Ok(None) };
    if found.grant.client_id != client.id.as_str() || now >= rotated_at.saturating_add(grace) {
        return Ok(None);
    }
    let successor = core.tokens.refresh_successor(token);
    let successor_hash = hash_token(&successor);
    let Some(next) = core.store.find_refresh(&successor_hash, now).await? else { return Ok(None) };
    if !next.live || next.grant.family_id != found.grant.family_id {
        return Ok(None);
    }
    let grant = next.grant;
    let scope = refresh_token::validate(client, &grant, ask.scope, now)?;
    let user = active_user(core, &grant.sub).await?;
    let g = user_grant(core, client, &user, &grant, scope, ask).await?;
    let access_token = core.tokens.access_token_id(client, &g.audience, now);
    if !core.store.reissue_access_token(&successor_hash, &access_token, now).await? {
        return Ok(None);
    }
    tracing::info!(client_id = %client.id, "rotated refresh token presented again within the reuse grace window; answered with its successor");
    let row = NewRefresh { token_hash: successor_hash, grant, access_token: None };
    let planned = Planned { access_token, refresh: Some((successor, row)) };
    sign(core, client, &g, planned, now).map(Some)
}
