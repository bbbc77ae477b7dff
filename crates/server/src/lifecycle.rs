//! What happens to tokens after they are issued: `/introspect` (RFC 7662) and `/revoke`
//! (RFC 7009). Both authenticate the client as the token endpoint does, honour
//! `token_type_hint` for the lookup order without trusting it, and never reveal anything about
//! tokens of other clients.

use crate::client_auth::authenticate;
use crate::core::Core;
use crate::error::ApiError;
use crate::issuer::hash_token;
use crate::token::client_form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::introspect::{
    AccessTokenView, Hint, Introspection, access_token_view, lookup_order, may_introspect,
};
use gatehouse_protocol::token::refresh_token::RefreshGrant;
use std::sync::Arc;

/// A JWT access token this issuer signed, of the right type, unexpired and not revoked.
pub(crate) async fn live_access_token(core: &Core, token: &str) -> Result<Option<AccessTokenView>, OAuthError> {
    let Ok(verified) = core.tokens.keys.get().verify(token) else { return Ok(None) };
    let (header, claims) = verified.as_ref();
    let Some(view) = access_token_view(header, claims, &core.tokens.issuer, core.now()) else { return Ok(None) };
    if core.store.is_access_token_revoked(&view.jti).await? {
        return Ok(None);
    }
    Ok(Some(view))
}

/// The username of an enabled user, `Err(())` when the user is gone or disabled (the token is
/// then inactive), `Ok(None)` when the subject is a client (client_credentials).
async fn subject_username(core: &Core, sub: &str, client_id: &str) -> Result<Result<Option<String>, ()>, OAuthError> {
    match core.store.get_user_by_sub(sub).await? {
        Some(u) if !u.disabled => Ok(Ok(Some(u.username))),
        Some(_) => Ok(Err(())),
        None if sub == client_id => Ok(Ok(None)),
        None => Ok(Err(())),
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// POST `/introspect`.
pub async fn introspect(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = client_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (client, _) = authenticate(&core, authorization, &params, Some(peer.ip())).await?;
    let token = params.require("token", "token is required")?;
    let mut answer = Introspection::inactive();
    for kind in lookup_order(Hint::parse(params.get("token_type_hint")), token) {
        match kind {
            Hint::AccessToken => {
                let Some(v) = live_access_token(&core, token).await? else { continue };
                if !may_introspect(client.id.as_str(), &client.introspection_audiences, &v.client_id, &v.aud) {
                    break;
                }
                let Ok(username) = subject_username(&core, &v.sub, &v.client_id).await? else { break };
                answer = Introspection {
                    active: true,
                    scope: Some(v.scope.to_string()),
                    client_id: Some(v.client_id),
                    username,
                    token_type: Some("Bearer"),
                    exp: Some(v.exp),
                    iat: Some(v.iat),
                    sub: Some(v.sub),
                    aud: Some(v.aud),
                    iss: Some(core.tokens.issuer.to_string()),
                    jti: Some(v.jti),
                };
                break;
            }
            Hint::RefreshToken => {
                let Some(found) = core.store.find_refresh(&hash_token(token), core.now()).await? else { continue };
                let Ok(grant) = serde_json::from_str::<RefreshGrant>(&found.document) else { continue };
                // Refresh tokens are only ever the business of the client they were issued to.
                if !found.live || grant.client_id != client.id.as_str() {
                    break;
                }
                let Ok(username) = subject_username(&core, &grant.sub, &grant.client_id).await? else { break };
                answer = Introspection {
                    active: true,
                    scope: Some(grant.scope.to_string()),
                    client_id: Some(grant.client_id),
                    username,
                    token_type: Some("refresh_token"),
                    exp: Some(grant.expires_at),
                    sub: Some(grant.sub),
                    iss: Some(core.tokens.issuer.to_string()),
                    ..Introspection::default()
                };
                break;
            }
        }
    }
    Ok(no_store(Json(answer).into_response()))
}

/// POST `/revoke`. Unknown, expired or already revoked tokens: 200 (RFC 7009 §2.2).
pub async fn revoke(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = client_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (client, _) = authenticate(&core, authorization, &params, Some(peer.ip())).await?;
    let token = params.require("token", "token is required")?;
    // RFC 7009 §2.1: the token must have been issued to the client asking; otherwise refused.
    let foreign = OAuthError::UnauthorizedClient("the token was issued to another client");
    let now = core.now();
    for kind in lookup_order(Hint::parse(params.get("token_type_hint")), token) {
        match kind {
            Hint::AccessToken => {
                let Some(v) = live_access_token(&core, token).await? else { continue };
                if v.client_id != client.id.as_str() {
                    return Err(foreign.into());
                }
                core.store.revoke_access_token(&v.jti, v.exp).await?;
                tracing::info!(client_id = %client.id, "access token revoked");
                break;
            }
            Hint::RefreshToken => {
                let Some(found) = core.store.find_refresh(&hash_token(token), now).await? else { continue };
                let Ok(grant) = serde_json::from_str::<RefreshGrant>(&found.document) else { continue };
                if grant.client_id != client.id.as_str() {
                    return Err(foreign.into());
                }
                let n = core.store.revoke_family(&found.family_id, now).await?;
                tracing::info!(client_id = %client.id, revoked_refresh_tokens = n, "refresh token family revoked");
                break;
            }
        }
    }
    Ok(no_store(StatusCode::OK.into_response()))
}
