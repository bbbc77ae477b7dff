//! Prometheus metrics over HTTP: every request counted and timed by the route that matched,
//! and `GET /metrics` rendering `gatehouse_core::metrics`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::metrics::Metrics;
use gatehouse_store::Store;
use std::sync::Arc;
use std::time::Instant;

/// Counts and times every request, by the route that matched.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Any token is a valid method to hyper: only the standard ones become labels.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    metrics.http_request(method, route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`, behind `Authorization: Bearer <[metrics] token>` when one is set.
pub async fn scrape(
    State(metrics): State<Arc<Metrics>>,
    State(store): State<Arc<dyn Store>>,
    State(clock): State<Arc<dyn gatehouse_protocol::clock::Clock>>,
    headers: HeaderMap,
) -> Response {
    if let Some(expected) = &metrics.token {
        let presented = crate::web::bearer_token(&headers).unwrap_or_default();
        if !gatehouse_core::secrets::constant_time_eq(presented, expected) {
            let challenge = HeaderValue::from_static("Bearer realm=\"gatehouse-metrics\"");
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)]).into_response();
        }
    }
    match metrics.render(store.as_ref(), clock.now()).await {
        Ok(body) => {
            let ct = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
            ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], body)
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
