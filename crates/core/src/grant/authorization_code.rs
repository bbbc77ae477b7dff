//! RFC 6749 §4.1.3: redeeming a code. Single use, settled by the database; a replayed code
//! revokes every token issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4).

use crate::grant::issue::{
    Issuing, Replay, Requested, UserGrant, active_user, check_binding, plan, replayed, sign, target,
};
use crate::issuer::hash_token;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource;
use gatehouse_protocol::token::TokenResponse;
use gatehouse_protocol::token::authorization_code;

pub async fn handle(
    core: &Issuing,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    ask: Requested<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = core.now();
    let code_hash = hash_token(code);
    let found = core.store.find_code(&code_hash).await?.ok_or(OAuthError::InvalidGrant("the code is invalid"))?;
    if found.consumed {
        return Err(replayed(core, client, &found.grant.grant_id, now, Replay::Code).await);
    }
    // A request that fails validation changes nothing: the code stays redeemable by its client.
    let grant = found.grant;
    authorization_code::validate(client, &grant, redirect_uri, code_verifier, now)?;
    check_binding(grant.dpop_jkt.as_deref(), ask.dpop_jkt)?;
    let narrowed = resource::narrow(ask.resources, &grant.resources)?;
    let (scope, audience) = target(core, &grant.scope, &narrowed)?;
    let user = active_user(core, &grant.sub).await?;
    let g = UserGrant {
        user: &user,
        grant_scope: grant.scope.clone(),
        scope,
        audience,
        resources: grant.resources.clone(),
        dpop_jkt: ask.dpop_jkt.map(str::to_owned),
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
        amr: grant.amr.clone(),
        nonce: grant.nonce.clone(),
        claims: grant.claims.clone(),
        acr: grant.acr.clone(),
        family_id: grant.grant_id.clone(),
        family_expires_at: None,
        id_token_encrypter: core.tokens.encrypter(client, Encrypted::IdToken).await?,
    };
    // One write: the code is consumed, the access token's id recorded (a later replay revokes
    // it) and the first refresh token stored. Losing a race to another redemption is a replay.
    let planned = plan(core, client, &g, now)?;
    let refresh = planned.refresh.as_ref().map(|(_, row)| row);
    if !core.store.consume_code(&code_hash, now, &planned.access_token, refresh).await? {
        return Err(replayed(core, client, &grant.grant_id, now, Replay::Code).await);
    }
    sign(core, client, &g, planned, now)
}
