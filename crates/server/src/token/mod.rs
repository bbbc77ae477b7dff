//! `/token` (RFC 6749 §3.2): parse the form once, authenticate the client once, then hand the
//! typed request to its grant's handler. Responses are JSON with `Cache-Control: no-store`
//! (RFC 6749 §5.1); errors are mapped in one place ([`ApiError`]).

mod authorization_code;
mod client_credentials;
mod device_code;
mod password;
mod refresh_token;

use crate::client_auth::authenticate;
use crate::core::Core;
use crate::error::ApiError;
use crate::issuer::{IdTokenInput, Subject, hash_token};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::client::Client;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::grant::GrantType;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::refresh_token::RefreshGrant;
use gatehouse_protocol::token::{TokenRequest, TokenResponse};
use gatehouse_protocol::user::User;
use gatehouse_store::IssuedAccessToken;
use std::sync::Arc;

/// Requires `application/x-www-form-urlencoded` (RFC 6749 §3.2) and parses it, refusing
/// repeated parameters. Shared by every endpoint that takes a form from a client.
pub fn client_form(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::InvalidRequest("the body must be application/x-www-form-urlencoded"));
    }
    Params::parse(body)
}

pub async fn token(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = client_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (client, _) = authenticate(&core, authorization, &params, Some(peer.ip())).await?;
    let request = TokenRequest::parse(&params)?;
    let response = match request {
        TokenRequest::ClientCredentials { scope } => client_credentials::handle(&core, &client, scope.as_ref())?,
        TokenRequest::Password { username, password, scope } => {
            password::handle(&core, &client, &username, &password, scope.as_ref(), peer.ip()).await?
        }
        TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
            authorization_code::handle(&core, &client, &code, redirect_uri.as_deref(), code_verifier.as_deref()).await?
        }
        TokenRequest::RefreshToken { refresh_token, scope } => {
            refresh_token::handle(&core, &client, &refresh_token, scope.as_ref()).await?
        }
        TokenRequest::DeviceCode { device_code } => device_code::handle(&core, &client, &device_code).await?,
    };
    let mut r = Json(response).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(r)
}

fn internal(e: impl std::fmt::Display) -> OAuthError {
    OAuthError::Server(InternalError::new(e.to_string()))
}

/// What a user grant (code, refresh, password) has established about the sign-in.
struct UserGrant<'a> {
    user: &'a User,
    /// The scope of the tokens issued now.
    scope: ScopeSet,
    /// The scope the refresh token keeps: the original grant's, even when a refresh narrowed
    /// `scope` (RFC 6749 §6: the new refresh token has the same scope as the old).
    grant_scope: ScopeSet,
    auth_time: UnixTime,
    sid: String,
    amr: Vec<String>,
    nonce: Option<String>,
    /// The refresh family to continue, or a new one with this id.
    family_id: String,
    family_expires_at: Option<UnixTime>,
    /// The access token's id and expiry when the store already recorded them (code exchange).
    access_token_id: Option<IssuedAccessToken>,
}

/// The user a grant is about, if they still exist and are enabled.
async fn active_user(core: &Core, sub: &str) -> Result<User, OAuthError> {
    match core.store.get_user_by_sub(sub).await? {
        Some(u) if !u.disabled => Ok(u),
        _ => Err(OAuthError::InvalidGrant("the user no longer exists or is disabled")),
    }
}

/// Issues access token, ID token (for `openid`) and refresh token (when the client has the
/// refresh grant and, for OpenID requests, `offline_access` was granted; OIDC Core §11).
/// Returns the response and the access token it issued (for revocation bookkeeping).
async fn issue_for_user(
    core: &Core,
    client: &Client,
    g: UserGrant<'_>,
) -> Result<(TokenResponse, IssuedAccessToken), OAuthError> {
    let now = core.now();
    let subject = Subject { sub: &g.user.sub, user: Some(g.user), auth_time: Some(g.auth_time), sid: Some(&g.sid) };
    let id = g.access_token_id.unwrap_or_else(|| core.tokens.access_token_id(client, now));
    let (access_token, issued) = core.tokens.access_token_as(client, &subject, &g.scope, now, id)?;
    let id_token = if g.scope.contains("openid") {
        let input = IdTokenInput {
            user: g.user,
            scope: &g.scope,
            auth_time: g.auth_time,
            sid: &g.sid,
            amr: &g.amr,
            nonce: g.nonce.as_deref(),
            access_token: Some(&access_token),
            code: None,
        };
        Some(core.tokens.id_token(client, &input, now)?)
    } else {
        None
    };
    let wants_refresh = client.grants.contains(GrantType::RefreshToken)
        && (!g.grant_scope.contains("openid") || g.grant_scope.contains("offline_access"));
    let refresh_token = if wants_refresh {
        let lt = core.tokens.lifetimes.for_client(client);
        let family_expires_at = g.family_expires_at.unwrap_or(now + lt.refresh_absolute);
        let rt = core.tokens.random(32);
        let grant = RefreshGrant {
            family_id: g.family_id.clone(),
            client_id: client.id.to_string(),
            sub: g.user.sub.clone(),
            scope: g.grant_scope.clone(),
            auth_time: g.auth_time,
            sid: g.sid.clone(),
            amr: g.amr.clone(),
            expires_at: (now + lt.refresh_idle).min(family_expires_at),
            family_expires_at,
        };
        let doc = serde_json::to_string(&grant).map_err(internal)?;
        core.store.insert_refresh(&hash_token(&rt), &g.family_id, &doc, grant.expires_at, Some(&issued), now).await?;
        Some(rt)
    } else {
        None
    };
    Ok((
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: core.tokens.lifetimes.for_client(client).access_token,
            refresh_token,
            id_token,
            scope: g.scope.to_string(),
        },
        issued,
    ))
}
