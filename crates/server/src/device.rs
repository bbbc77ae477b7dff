//! The device authorization grant (RFC 8628): `/device_authorization` (§3.1–3.2) for the
//! device, and the `/device` pages where a person enters the code, signs in, and approves or
//! denies (§3.3). Wrong codes are throttled per source address against guessing (§5.1).

use crate::authorize::{check_password, current_session, form_params, server_error_page, start_session};
use crate::client_auth::authenticate;
use crate::core::Core;
use crate::error::ApiError;
use crate::issuer::hash_token;
use crate::throttle::Key;
use crate::token::client_form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::device::{display_user_code, new_user_code, normalise_user_code};
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::grant::GrantType;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::token::{check_grant_allowed, resolve_scope};
use gatehouse_store::{DeviceRecord, Session, StoreError};
use minijinja::{Value, context};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// RFC 8628 §3.2 device authorization response.
#[derive(Serialize)]
struct DeviceAuthorizationResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: i64,
    interval: i64,
}

/// POST `/device_authorization`: client authentication as at the token endpoint (public
/// clients included); the client must hold the device grant.
pub async fn device_authorization(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = client_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (client, _) = authenticate(&core, authorization, &params, Some(peer.ip())).await?;
    check_grant_allowed(&client, GrantType::DeviceCode)?;
    let requested = params
        .get("scope")
        .map(ScopeSet::parse)
        .transpose()
        .map_err(|_| OAuthError::InvalidScope("the scope is malformed"))?;
    let scope = resolve_scope(requested.as_ref(), &client.scopes)?;
    let now = core.now();
    let lt = core.tokens.lifetimes.for_client(&client);
    let device_code = core.tokens.random(32);
    // A user code collision (1 in 20^8 per live code) is retried with a new code.
    let mut user_code = new_user_code(core.tokens.rng.as_ref());
    let mut attempts = 0;
    loop {
        let inserted = core
            .store
            .insert_device(
                &hash_token(&device_code),
                &user_code,
                client.id.as_str(),
                &scope.to_string(),
                lt.device_poll_interval,
                now + lt.device_code,
                now,
            )
            .await;
        match inserted {
            Ok(()) => break,
            Err(StoreError::Conflict(_)) if attempts < 5 => {
                attempts += 1;
                user_code = new_user_code(core.tokens.rng.as_ref());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let shown = display_user_code(&user_code);
    let base = core.tokens.issuer.trim_end_matches('/');
    let response = DeviceAuthorizationResponse {
        device_code,
        verification_uri: format!("{base}/device"),
        verification_uri_complete: format!("{base}/device?user_code={shown}"),
        user_code: shown,
        expires_in: lt.device_code,
        interval: lt.device_poll_interval,
    };
    let mut r = Json(response).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

fn page(core: &Core, headers: &HeaderMap, status: StatusCode, ctx: Value) -> Response {
    let (csrf, set) = core.csrf_token(headers);
    let mut r = core.pages.render(status, "device.html", context! { csrf, ..ctx });
    if let Some(set) = set {
        r.headers_mut().append(header::SET_COOKIE, set);
    }
    r
}

fn enter(
    core: &Core,
    headers: &HeaderMap,
    status: StatusCode,
    user_code: Option<&str>,
    error: Option<&str>,
) -> Response {
    page(core, headers, status, context! { step => "enter", user_code, error })
}

/// GET `/device`, optionally with `user_code` (from `verification_uri_complete`).
pub async fn device_page(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    enter(&core, &headers, StatusCode::OK, q.get("user_code").map(String::as_str), None)
}

/// A device form, checked: CSRF against the cookie, the code against the store, guesses
/// throttled by source address.
async fn checked(
    core: &Core,
    headers: &HeaderMap,
    body: &Bytes,
    peer: SocketAddr,
) -> Result<(Params, DeviceRecord, String), Response> {
    let params = form_params(core, headers, body)?;
    let typed = params.get("user_code").unwrap_or("").to_owned();
    if !Core::csrf_matches(headers, params.get("csrf")) {
        return Err(enter(
            core,
            headers,
            StatusCode::FORBIDDEN,
            Some(&typed),
            Some("The form could not be verified. Please enter the code again."),
        ));
    }
    let key = [Key::DeviceIp(peer.ip())];
    if let Some(wait) = core.throttle.wait(&key).await {
        let msg = format!("Too many wrong codes. Try again {}.", crate::throttle::retry_in(wait));
        return Err(enter(core, headers, StatusCode::TOO_MANY_REQUESTS, Some(&typed), Some(&msg)));
    }
    let found = match normalise_user_code(&typed) {
        Some(code) => {
            core.store.find_pending_device(&code, core.now()).await.map_err(|e| server_error_page(core, e))?
        }
        None => None,
    };
    match found {
        Some(rec) => {
            let code = rec.user_code.clone();
            Ok((params, rec, code))
        }
        None => {
            core.throttle.failure(&key).await;
            Err(enter(
                core,
                headers,
                StatusCode::BAD_REQUEST,
                Some(&typed),
                Some("That code is not valid or has expired. Check the code on your device."),
            ))
        }
    }
}

async fn client_name(core: &Core, client_id: &str) -> String {
    match gatehouse_protocol::ClientId::parse(client_id) {
        Ok(id) => match core.store.get_client(&id).await {
            Ok(Some(c)) => c.name.unwrap_or_else(|| c.id.to_string()),
            _ => client_id.to_owned(),
        },
        Err(_) => client_id.to_owned(),
    }
}

async fn consent_or_login(core: &Core, headers: &HeaderMap, rec: &DeviceRecord, session: Option<&Session>) -> Response {
    let client_name = client_name(core, &rec.client_id).await;
    let user_code = rec.user_code.clone();
    let Some(session) = session else {
        return page(core, headers, StatusCode::OK, context! { step => "login", client_name, user_code });
    };
    let username = match core.store.get_user_by_sub(&session.sub).await {
        Ok(Some(u)) => u.username,
        Ok(None) => return page(core, headers, StatusCode::OK, context! { step => "login", client_name, user_code }),
        Err(e) => return server_error_page(core, e),
    };
    let scopes = core.scope_lines(&ScopeSet::parse(&rec.scope).unwrap_or_default());
    let display_code = display_user_code(&rec.user_code);
    page(
        core,
        headers,
        StatusCode::OK,
        context! { step => "consent", client_name, user_code, username, scopes, display_code },
    )
}

/// POST `/device`: the code the person typed.
pub async fn device_submit(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, rec, _) = match checked(&core, &headers, &body, peer).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let session = match current_session(&core, &headers).await {
        Ok(s) => s,
        Err(e) => return server_error_page(&core, e),
    };
    consent_or_login(&core, &headers, &rec, session.as_ref()).await
}

/// POST `/device/login`: signing in on the way to the consent step.
pub async fn device_login(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, rec, user_code) = match checked(&core, &headers, &body, peer).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let username = params.get("username").unwrap_or("").to_owned();
    let password = Secret::new(params.get("password").unwrap_or(""));
    let retry = |status, error: &str| {
        let error = error.to_owned();
        let core = core.clone();
        let headers = headers.clone();
        let user_code = user_code.clone();
        let client_id = rec.client_id.clone();
        let username = username.clone();
        async move {
            let client_name = client_name(&core, &client_id).await;
            // What was typed stays, so only the password needs typing again.
            page(&core, &headers, status, context! { step => "login", client_name, user_code, error, username })
        }
    };
    let user = match check_password(&core, &username, &password, Some(peer.ip())).await {
        Err(msg) => return retry(StatusCode::TOO_MANY_REQUESTS, &msg).await,
        Ok(Err(e)) => return server_error_page(&core, e),
        Ok(Ok(None)) => return retry(StatusCode::UNAUTHORIZED, "The username or password is incorrect.").await,
        Ok(Ok(Some(u))) => u,
    };
    let (session, session_cookie) = match start_session(&core, &headers, &user).await {
        Ok(x) => x,
        Err(e) => return server_error_page(&core, e),
    };
    let mut r = consent_or_login(&core, &headers, &rec, Some(&session)).await;
    r.headers_mut().append(header::SET_COOKIE, session_cookie);
    r
}

/// POST `/device/consent`: approve or deny.
pub async fn device_consent(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (params, rec, user_code) = match checked(&core, &headers, &body, peer).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let session = match current_session(&core, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return consent_or_login(&core, &headers, &rec, None).await,
        Err(e) => return server_error_page(&core, e),
    };
    let approved = match params.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return core.pages.error(StatusCode::BAD_REQUEST, "Choose Allow or Deny.", Some("invalid_request")),
    };
    match core.store.decide_device(&user_code, approved.then_some(&session), core.now()).await {
        Ok(true) if approved => {
            if let Err(e) = core.store.add_session_client(&session.sid, &rec.client_id, core.now()).await {
                return server_error_page(&core, e);
            }
        }
        Ok(true) => {}
        Ok(false) => {
            return enter(
                &core,
                &headers,
                StatusCode::BAD_REQUEST,
                None,
                Some("That code has expired. Start again on your device."),
            );
        }
        Err(e) => return server_error_page(&core, e),
    }
    tracing::info!(sub = %session.sub, client_id = %rec.client_id, approved, "device authorization decided");
    let client_name = client_name(&core, &rec.client_id).await;
    page(&core, &headers, StatusCode::OK, context! { step => "done", approved, client_name })
}
