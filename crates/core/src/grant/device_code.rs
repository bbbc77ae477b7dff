//! RFC 8628 §3.4–3.5: polling with a device code. `authorization_pending` until the person
//! decides, `slow_down` (and a longer interval) when polled too fast, `access_denied`,
//! `expired_token`; tokens exactly once.

use crate::grant::issue::{Issuing, Requested, UserGrant, active_user, issue_for_user, target};
use crate::issuer::hash_token;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::device;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource;
use gatehouse_protocol::token::TokenResponse;

pub async fn handle(
    core: &Issuing,
    client: &Client,
    device_code: &str,
    ask: Requested<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = core.now();
    let hash = hash_token(device_code);
    let rec =
        core.store.poll_device(&hash, now).await?.ok_or(OAuthError::InvalidGrant("the device code is invalid"))?;
    device::poll(&rec.status, rec.client_id == client.id.as_str(), rec.expires_at, rec.polled_too_fast, now)?;
    // Checked before the code is spent: a request for a resource never granted changes nothing.
    let narrowed = resource::narrow(ask.resources, &rec.resources)?;
    let id_token_encrypter = core.tokens.encrypter(client, Encrypted::IdToken).await?;
    if !core.store.redeem_device(&hash, now).await? {
        return Err(OAuthError::InvalidGrant("the device code has already been used"));
    }
    let approval = rec.approval.ok_or(OAuthError::InvalidGrant("the device code is invalid"))?;
    let user = active_user(core, &approval.sub).await?;
    crate::subjects::remember(core.store.as_ref(), &core.tokens, client, &user.sub).await?;
    let (scope, audience) = target(core, &rec.scope, &narrowed)?;
    let g = UserGrant {
        user: &user,
        grant_scope: rec.scope,
        scope,
        audience,
        resources: rec.resources,
        dpop_jkt: ask.dpop_jkt.map(str::to_owned),
        auth_time: approval.auth_time,
        sid: approval.sid,
        acr: core.tokens.acr.acr_for(&[], &approval.amr),
        amr: approval.amr,
        nonce: None,
        claims: None,
        family_id: core.tokens.random(16),
        family_expires_at: None,
        id_token_encrypter,
    };
    issue_for_user(core, client, g).await
}
