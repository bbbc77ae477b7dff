//! `/token` (RFC 6749 §3.2): parse the form once, authenticate the client once, then hand the
//! typed request to its grant's handler. Responses are JSON with `Cache-Control: no-store`
//! (RFC 6749 §5.1); errors are mapped in one place ([`ApiError`]).

mod authorization_code;
mod client_credentials;
mod device_code;
mod password;
mod refresh_token;

/// The code redemption of `/token`, for the admin console (a client inside the server).
pub(crate) use authorization_code::handle as redeem_code;

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
use gatehouse_store::{IssuedAccessToken, NewRefresh};
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
    let grant_type = match &request {
        TokenRequest::ClientCredentials { .. } => "client_credentials",
        TokenRequest::Password { .. } => "password",
        TokenRequest::AuthorizationCode { .. } => "authorization_code",
        TokenRequest::RefreshToken { .. } => "refresh_token",
        TokenRequest::DeviceCode { .. } => "device_code",
    };
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
    core.metrics.token_issued(grant_type);
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
}

/// What a user grant issues, decided before anything is stored, so a redemption can record it
/// in the same statement that retires the code or refresh token.
struct Planned {
    access_token: IssuedAccessToken,
    /// The refresh token and its row, when the client gets one.
    refresh: Option<(String, NewRefresh)>,
}

/// What was presented again after its single use.
#[derive(Clone, Copy)]
enum Replay {
    Code,
    RefreshToken,
}

/// A used code or rotated refresh token presented again (or a concurrent use that lost the
/// race): revokes everything issued from its grant (RFC 6749 §4.1.2, RFC 9700 §4.14.2) and
/// returns the error to answer with.
async fn replayed(core: &Core, client: &Client, family_id: &str, now: UnixTime, what: Replay) -> OAuthError {
    let n = match core.store.revoke_family(family_id, now).await {
        Ok(n) => n,
        Err(e) => return e.into(),
    };
    match what {
        Replay::Code => {
            tracing::warn!(client_id = %client.id, revoked_refresh_tokens = n, "authorization code replayed; its grant is revoked");
            OAuthError::InvalidGrant("the code has already been used")
        }
        Replay::RefreshToken => {
            tracing::warn!(client_id = %client.id, revoked_refresh_tokens = n, "rotated refresh token reused; its family is revoked");
            OAuthError::InvalidGrant("the refresh token is no longer valid")
        }
    }
}

/// The user a grant is about, if they still exist and are enabled.
async fn active_user(core: &Core, sub: &str) -> Result<User, OAuthError> {
    match core.store.get_user_by_sub(sub).await? {
        Some(u) if !u.disabled => Ok(u),
        _ => Err(OAuthError::InvalidGrant("the user no longer exists or is disabled")),
    }
}

/// Issues access token, ID token (for `openid`) and refresh token (when the client has the
/// refresh grant and, for OpenID requests, `offline_access` was granted; OIDC Core §11), for a
/// grant that retires nothing (password, device code).
async fn issue_for_user(core: &Core, client: &Client, g: UserGrant<'_>) -> Result<TokenResponse, OAuthError> {
    let now = core.now();
    let planned = plan(core, client, &g, now)?;
    if let Some((_, row)) = &planned.refresh {
        core.store.insert_refresh(row, now).await?;
    }
    sign(core, client, &g, planned, now)
}

/// The access token's id and the refresh token (with the row to store) for `g`.
fn plan(core: &Core, client: &Client, g: &UserGrant<'_>, now: UnixTime) -> Result<Planned, OAuthError> {
    let access_token = core.tokens.access_token_id(client, now);
    let wants_refresh = client.grants.contains(GrantType::RefreshToken)
        && (!g.grant_scope.contains("openid") || g.grant_scope.contains("offline_access"));
    if !wants_refresh {
        return Ok(Planned { access_token, refresh: None });
    }
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
    let row = NewRefresh {
        token_hash: hash_token(&rt),
        family_id: g.family_id.clone(),
        document: serde_json::to_string(&grant).map_err(internal)?,
        expires_at: grant.expires_at,
        access_token: Some(access_token.clone()),
    };
    Ok(Planned { access_token, refresh: Some((rt, row)) })
}

/// Signs the tokens [`plan`] decided on (after the store has recorded them).
fn sign(
    core: &Core,
    client: &Client,
    g: &UserGrant<'_>,
    planned: Planned,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    let subject = Subject { sub: &g.user.sub, user: Some(g.user), auth_time: Some(g.auth_time), sid: Some(&g.sid) };
    let (access_token, _) = core.tokens.access_token_as(client, &subject, &g.scope, now, planned.access_token)?;
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
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: core.tokens.lifetimes.for_client(client).access_token,
        refresh_token: planned.refresh.map(|(rt, _)| rt),
        id_token,
        scope: g.scope.to_string(),
    })
}
