//! Dynamic client registration (RFC 7591) at `/register` and management (RFC 7592) at
//! `/register/{client_id}`, off unless `[registration] enabled = true` (the routes exist only
//! then). The rules are `gatehouse_core::registration`'s; this maps them onto HTTP: JSON in,
//! JSON out, RFC 7591 §3.2.2 errors, RFC 6750 challenges for a bad access token.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::registration::{Metadata, Registration, RegistrationError};
use serde_json::{Value, json};
use std::sync::Arc;

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut r = (status, axum::Json(json!({ "error": code, "error_description": description }))).into_response();
    if status == StatusCode::UNAUTHORIZED
        && let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{code}\", error_description=\"{description}\""))
    {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn refused(e: RegistrationError) -> Response {
    match e {
        RegistrationError::Metadata { code, description } => error(StatusCode::BAD_REQUEST, code, &description),
        RegistrationError::InvalidToken => {
            error(StatusCode::UNAUTHORIZED, "invalid_token", "the access token is missing or not valid for this client")
        }
        RegistrationError::Server(detail) => {
            tracing::error!(error = %detail, "registration failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the server failed")
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    crate::web::bearer_token(headers).filter(|t| !t.is_empty())
}

/// The metadata, or what is wrong with it (an `invalid_client_metadata` refusal).
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Metadata, RegistrationError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json_type {
        return Err(RegistrationError::metadata("send the metadata as application/json"));
    }
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        RegistrationError::metadata(msg.split(" at line ").next().unwrap_or(&msg).to_owned())
    })
}

fn answer(status: StatusCode, result: Result<Value, RegistrationError>) -> Response {
    match result {
        Ok(body) => (status, axum::Json(body)).into_response(),
        Err(e) => refused(e),
    }
}

/// POST `/register` (RFC 7591 §3.1). The initial access token is checked before the body.
pub async fn register(State(registration): State<Arc<Registration>>, headers: HeaderMap, body: Bytes) -> Response {
    let token = bearer(&headers);
    if !registration.admits(token) {
        return refused(RegistrationError::InvalidToken);
    }
    let result = match parse_body(&headers, &body) {
        Ok(m) => registration.register(token, m).await,
        Err(e) => Err(e),
    };
    answer(StatusCode::CREATED, result)
}

/// GET `/register/{client_id}` (RFC 7592 §2.1).
pub async fn read(
    State(registration): State<Arc<Registration>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = match registration.registered_client(bearer(&headers), &id).await {
        Ok(client) => registration.read(&client).await,
        Err(e) => Err(e),
    };
    answer(StatusCode::OK, result)
}

/// PUT `/register/{client_id}` (RFC 7592 §2.2): replaces the metadata; the secret stays. The
/// registration access token is checked before the body.
pub async fn update(
    State(registration): State<Arc<Registration>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = match registration.registered_client(bearer(&headers), &id).await {
        Ok(client) => match parse_body(&headers, &body) {
            Ok(m) => registration.update(client, m).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    answer(StatusCode::OK, result)
}

/// DELETE `/register/{client_id}` (RFC 7592 §2.3).
pub async fn delete(
    State(registration): State<Arc<Registration>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = match registration.registered_client(bearer(&headers), &id).await {
        Ok(client) => registration.delete(&client).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}
