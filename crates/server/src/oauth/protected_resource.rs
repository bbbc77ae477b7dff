//! RFC 9728 for Gatehouse's own protected APIs (userinfo, the admin API): the metadata document
//! at `/.well-known/oauth-protected-resource`, and `resource_metadata` added to every Bearer
//! challenge they answer with (§5.1), so a client that meets a 401 finds its way to the
//! authorization server without configuration.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::catalog::Catalog;
use std::sync::Arc;

/// RFC 9728 §3.2: the metadata, rendered once per catalog change.
pub async fn metadata(State(catalog): State<Arc<Catalog>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
        ],
        catalog.get().resource_metadata.clone(),
    )
        .into_response()
}

/// The metadata document's URL, for the challenges.
#[derive(Clone)]
pub struct MetadataUrl(pub Arc<str>);

/// Adds `resource_metadata="…"` to a `WWW-Authenticate: Bearer` challenge (RFC 9728 §5.1).
pub async fn challenge(State(url): State<MetadataUrl>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let Some(current) = response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()) else {
        return response;
    };
    if !current.starts_with("Bearer") || current.contains("resource_metadata=") {
        return response;
    }
    let joined = if current.trim_end() == "Bearer" {
        format!("Bearer resource_metadata=\"{}\"", url.0)
    } else {
        format!("{current}, resource_metadata=\"{}\"", url.0)
    };
    if let Ok(v) = HeaderValue::from_str(&joined) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}
