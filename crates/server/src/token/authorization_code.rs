//! RFC 6749 §4.1.3: redeeming a code. Single use, settled by the database; a replayed code
//! revokes every token issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4).

use super::{UserGrant, active_user, internal, issue_for_user};
use crate::core::Core;
use crate::issuer::hash_token;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::token::TokenResponse;
use gatehouse_protocol::token::authorization_code::{self, CodeGrant};
use gatehouse_store::Redeemed;

pub async fn handle(
    core: &Core,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    gatehouse_protocol::token::check_grant_allowed(client, gatehouse_protocol::GrantType::AuthorizationCode)?;
    let now = core.now();
    // The access token's id goes into the code's row as it is consumed: one write, and a later
    // replay of the code revokes the token.
    let access_token_id = core.tokens.access_token_id(client, now);
    let doc = match core.store.consume_code(&hash_token(code), now, &access_token_id).await? {
        Redeemed::Fresh(doc) => doc,
        Redeemed::Replayed { family_id } => {
            let n = core.store.revoke_family(&family_id, now).await?;
            tracing::warn!(client_id = %client.id, revoked_refresh_tokens = n, "authorization code replayed; its grant is revoked");
            return Err(OAuthError::InvalidGrant("the code has already been used"));
        }
        Redeemed::Unknown => return Err(OAuthError::InvalidGrant("the code is invalid")),
    };
    let grant: CodeGrant = serde_json::from_str(&doc).map_err(internal)?;
    authorization_code::validate(client, &grant, redirect_uri, code_verifier, now)?;
    let user = active_user(core, &grant.sub).await?;
    let g = UserGrant {
        user: &user,
        grant_scope: grant.scope.clone(),
        scope: grant.scope.clone(),
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
        amr: grant.amr.clone(),
        nonce: grant.nonce.clone(),
        family_id: grant.grant_id.clone(),
        family_expires_at: None,
        access_token_id: Some(access_token_id),
    };
    Ok(issue_for_user(core, client, g).await?.0)
}
