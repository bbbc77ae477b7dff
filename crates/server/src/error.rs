//! The one place where protocol errors become HTTP responses (STYLE.md §3, RFC 6749 §5.2,
//! RFC 6750 §3.1).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::OAuthError;
use serde_json::json;

/// An [`OAuthError`] on its way out as a JSON error response.
#[derive(Debug)]
pub struct ApiError(pub OAuthError);

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl From<gatehouse_store::StoreError> for ApiError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        match &e {
            // The detail goes to the log (with the request id from the trace span), never out.
            OAuthError::Server(detail) => tracing::error!(error = %detail, "server error"),
            OAuthError::TemporarilyUnavailable(detail) => tracing::warn!(error = %detail, "temporarily unavailable"),
            _ => {}
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match e.description() {
            Some(d) => json!({"error": e.code(), "error_description": d}),
            None => json!({"error": e.code()}),
        };
        let mut resp = (status, Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        let challenge = match &e {
            // RFC 6749 §5.2: a 401 after Basic authentication carries the matching challenge.
            OAuthError::InvalidClient { via_basic: true } => Some("Basic realm=\"gatehouse\"".to_owned()),
            // RFC 6750 §3: protected resources answer with a Bearer challenge.
            OAuthError::InvalidToken(d) => {
                Some(format!("Bearer realm=\"gatehouse\", error=\"invalid_token\", error_description=\"{d}\""))
            }
            OAuthError::InsufficientScope => {
                Some("Bearer realm=\"gatehouse\", error=\"insufficient_scope\"".to_owned())
            }
            _ => None,
        };
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}
