//! `/end_session`: OpenID Connect RP-Initiated Logout 1.0. Ends the SSO session, then sends the
//! user to the client's registered `post_logout_redirect_uri` (with `state`) or shows a
//! signed-out page. Without an `id_token_hint` naming this very session the user is asked first,
//! so a link cannot sign anyone out behind their back.

use crate::authorize::{SESSION_COOKIE, current_session, form_params, server_error_page};
use crate::core::Core;
use crate::issuer::hash_token;
use crate::web::{cookie, set_cookie};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::client::{Client, ClientId};
use gatehouse_protocol::end_session::{self, HintClaims, LogoutError, LogoutRequest};
use gatehouse_protocol::jose;
use gatehouse_protocol::params::Params;
use gatehouse_store::Session;
use minijinja::context;
use serde_json::Value;
use std::sync::Arc;

fn refuse(core: &Core, e: LogoutError) -> Response {
    core.pages.error(StatusCode::BAD_REQUEST, e.message(), Some("invalid_request"))
}

/// Verifies an `id_token_hint`: our signature and issuer; expiry does not matter (§2).
fn hint_claims(core: &Core, hint: &str) -> Option<HintClaims> {
    let (_, claims) = jose::verify(hint, core.tokens.keys.get().published()).ok()?;
    if claims.get("iss").and_then(Value::as_str) != Some(&core.tokens.issuer) {
        return None;
    }
    let aud = match claims.get("aud")? {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return None,
    };
    Some(HintClaims {
        aud,
        sub: claims.get("sub")?.as_str()?.to_owned(),
        sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
    })
}

async fn load_client(core: &Core, id: Option<&str>) -> Result<Option<Client>, Response> {
    let Some(id) = id else { return Ok(None) };
    let Ok(id) = ClientId::parse(id) else { return Err(refuse(core, LogoutError::UnregisteredRedirect)) };
    match core.store.get_client(&id).await {
        Ok(Some(c)) => Ok(Some(c)),
        Ok(None) => Err(core.pages.error(
            StatusCode::BAD_REQUEST,
            "The application asking to sign you out is not known here.",
            Some("invalid_request"),
        )),
        Err(e) => Err(server_error_page(core, e)),
    }
}

/// Ends the session (if any) and answers: redirect back with `state`, or the signed-out page.
async fn finish(core: &Arc<Core>, headers: &HeaderMap, req: &LogoutRequest, session: Option<&Session>) -> Response {
    if let Some(s) = session {
        if let Some(id) = cookie(headers, SESSION_COOKIE)
            && let Err(e) = core.store.delete_session(&hash_token(id)).await
        {
            return server_error_page(core, e);
        }
        tracing::info!(sub = %s.sub, sid = %s.sid, "session ended by logout");
        crate::backchannel::session_ended(core, s).await;
    }
    let mut r = match &req.post_logout_redirect_uri {
        Some(uri) => {
            let mut location = uri.clone();
            if let Some(state) = &req.state {
                let sep = if uri.contains('?') { '&' } else { '?' };
                location.push(sep);
                location.push_str(
                    &url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish(),
                );
            }
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        None => core.pages.render(StatusCode::OK, "logout.html", context! { step => "done" }),
    };
    r.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, core.secure_cookies));
    r
}

/// GET or POST `/end_session` (§2: both must be supported).
pub async fn end_session(
    State(core): State<Arc<Core>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = if method == Method::POST {
        match form_params(&core, &headers, &body) {
            Ok(p) => p,
            Err(r) => return r,
        }
    } else {
        match Params::parse(query.as_deref().unwrap_or("").as_bytes()) {
            Ok(p) => p,
            Err(e) => return core.pages.error(StatusCode::BAD_REQUEST, "The request is malformed.", Some(e.code())),
        }
    };
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(h) => match hint_claims(&core, h) {
            Some(c) => Some(c),
            None => return refuse(&core, LogoutError::BadHint),
        },
    };
    let client_id = params.get("client_id").or_else(|| hint.as_ref().and_then(|h| h.aud.first().map(String::as_str)));
    let client = match load_client(&core, client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let session = match current_session(&core, &headers).await {
        Ok(s) => s,
        Err(e) => return server_error_page(&core, e),
    };
    let req = match end_session::validate(
        &params,
        hint.as_ref(),
        client.as_ref(),
        session.as_ref().map(|s| (s.sub.as_str(), s.sid.as_str())),
    ) {
        Ok(r) => r,
        Err(e) => return refuse(&core, e),
    };
    let Some(session) = session else { return finish(&core, &headers, &req, None).await };
    if req.confirmed_by_hint {
        return finish(&core, &headers, &req, Some(&session)).await;
    }
    let username = core.store.get_user_by_sub(&session.sub).await.ok().flatten().map(|u| u.username);
    let (csrf, new_cookie) = core.csrf_token(&headers);
    let mut r = core.pages.render(
        StatusCode::OK,
        "logout.html",
        context! {
            step => "confirm", csrf, username,
            client_id => req.client_id, client_name => client.and_then(|c| c.name),
            post_logout_redirect_uri => req.post_logout_redirect_uri, state => req.state,
        },
    );
    if let Some(target) = &req.post_logout_redirect_uri {
        crate::web::allow_form_redirect(&mut r, target);
    }
    if let Some(c) = new_cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// POST `/end_session/confirm`: the user's answer to the confirmation page. Everything in the
/// form is checked again, as if it came from outside.
pub async fn confirm(State(core): State<Arc<Core>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match form_params(&core, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !Core::csrf_matches(&headers, params.get("csrf")) {
        return core.pages.error(
            StatusCode::FORBIDDEN,
            "The form could not be verified. Nothing was changed.",
            Some("invalid_request"),
        );
    }
    let client = match load_client(&core, params.get("client_id")).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let req = match end_session::validate(&params, None, client.as_ref(), None) {
        Ok(r) => r,
        Err(e) => return refuse(&core, e),
    };
    match params.get("decision") {
        Some("logout") => {}
        Some("stay") => return core.pages.render(StatusCode::OK, "logout.html", context! { step => "stayed" }),
        _ => {
            return core.pages.error(
                StatusCode::BAD_REQUEST,
                "Choose Sign out or Stay signed in.",
                Some("invalid_request"),
            );
        }
    }
    let session = match current_session(&core, &headers).await {
        Ok(s) => s,
        Err(e) => return server_error_page(&core, e),
    };
    finish(&core, &headers, &req, session.as_ref()).await
}
