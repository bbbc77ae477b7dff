//! RFC 6749 §6: refreshing with rotation. The presented token is retired atomically; a retired
//! token presented again revokes its family (RFC 9700 §4.14.2).

use super::{UserGrant, active_user, internal, issue_for_user};
use crate::core::Core;
use crate::issuer::hash_token;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::TokenResponse;
use gatehouse_protocol::token::refresh_token::{self, RefreshGrant};
use gatehouse_store::Redeemed;

pub async fn handle(
    core: &Core,
    client: &Client,
    token: &str,
    requested: Option<&ScopeSet>,
) -> Result<TokenResponse, OAuthError> {
    gatehouse_protocol::token::check_grant_allowed(client, gatehouse_protocol::GrantType::RefreshToken)?;
    let now = core.now();
    let doc = match core.store.rotate_refresh(&hash_token(token), now).await? {
        Redeemed::Fresh(doc) => doc,
        Redeemed::Replayed { family_id } => {
            let n = core.store.revoke_family(&family_id, now).await?;
            tracing::warn!(client_id = %client.id, revoked_refresh_tokens = n, "rotated refresh token reused; its family is revoked");
            return Err(OAuthError::InvalidGrant("the refresh token is no longer valid"));
        }
        Redeemed::Unknown => return Err(OAuthError::InvalidGrant("the refresh token is invalid")),
    };
    let grant: RefreshGrant = serde_json::from_str(&doc).map_err(internal)?;
    if grant.client_id != client.id.as_str() {
        // Another client's token: spent now, so revoke the family rather than leave it usable
        // by whoever leaked it.
        core.store.revoke_family(&grant.family_id, now).await?;
    }
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
        access_token_id: None,
    };
    Ok(issue_for_user(core, client, g).await?.0)
}
