//! What is served as it is: discovery (OIDC Discovery 1.0 §4, RFC 8414 §3) and the JWK Set
//! (RFC 7517 §5), both rendered once per change; the stylesheet and logo; liveness and
//! readiness; the fallback.

use crate::web::Pages;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gatehouse_core::catalog::Catalog;
use gatehouse_core::keys::Keys;
use gatehouse_store::Store;
use std::sync::Arc;
use std::time::Duration;

fn json_bytes(body: Bytes, content_type: &'static str, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

/// OIDC Discovery 1.0 §4 / RFC 8414 §3.
pub async fn discovery(State(catalog): State<Arc<Catalog>>) -> Response {
    json_bytes(catalog.get().discovery.clone(), "application/json", "public, max-age=300")
}

/// RFC 7517 §5: the JWK Set. Short caching: a key is published before it signs (DESIGN.md §4).
pub async fn jwks(State(keys): State<Arc<Keys>>) -> Response {
    json_bytes(keys.get().jwks_json(), "application/jwk-set+json", "public, max-age=300")
}

pub async fn css(State(pages): State<Arc<Pages>>) -> Response {
    pages.css()
}

pub async fn logo(State(pages): State<Arc<Pages>>) -> Response {
    pages.logo()
}

/// Liveness: the process answers.
pub async fn healthz() -> Response {
    json_bytes(Bytes::from_static(br#"{"status":"ok"}"#), "application/json", "no-store")
}

/// Readiness: the store answers within two seconds.
pub async fn readyz(State(store): State<Arc<dyn Store>>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), store.ping()).await {
        Ok(Ok(())) => json_bytes(Bytes::from_static(br#"{"status":"ready"}"#), "application/json", "no-store"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    let mut r = json_bytes(Bytes::from_static(br#"{"status":"unavailable"}"#), "application/json", "no-store");
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r
}

pub async fn not_found() -> Response {
    let mut r = json_bytes(Bytes::from_static(br#"{"error":"not_found"}"#), "application/json", "no-store");
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
