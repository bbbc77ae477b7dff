//! The axum application: [`app`] builds the router shared by `gatehouse serve` and the tests.

use crate::core::Core;
use crate::keys::Keys;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use gatehouse_protocol::authorize::{ResponseMode, SUPPORTED_RESPONSE_TYPES};
use gatehouse_protocol::claims::{ADMIN_SCOPE, ScopeDefinition};
use gatehouse_protocol::client::TokenEndpointAuthMethod;
use gatehouse_protocol::discovery::{Capabilities, Endpoints};
use gatehouse_protocol::grant::GrantType;
use gatehouse_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted anywhere (form posts are small).
pub const MAX_BODY: usize = 64 * 1024;

/// What the handlers share. Handlers extract only the part they use (`State<Arc<dyn Store>>`,
/// `State<Arc<Keys>>`, ...) through `FromRef`.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub keys: Arc<Keys>,
    pub issuer: Arc<str>,
    pub core: Arc<Core>,
    pub registration: Arc<crate::config::RegistrationPolicy>,
    /// Whether `/admin` serves the console.
    pub console: bool,
}

impl FromRef<AppState> for Arc<crate::config::RegistrationPolicy> {
    fn from_ref(s: &AppState) -> Self {
        s.registration.clone()
    }
}

impl FromRef<AppState> for Arc<Core> {
    fn from_ref(s: &AppState) -> Self {
        s.core.clone()
    }
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(s: &AppState) -> Self {
        s.store.clone()
    }
}

impl FromRef<AppState> for Arc<Keys> {
    fn from_ref(s: &AppState) -> Self {
        s.keys.clone()
    }
}

/// What this build implements; discovery advertises exactly this (grows as endpoints land).
pub fn capabilities(
    algs: &[gatehouse_protocol::jose::SigningAlg],
    scopes: &[ScopeDefinition],
    registration: bool,
) -> Capabilities {
    // The admin scope is Gatehouse's own business, not something relying parties ask for.
    let scopes: Vec<&ScopeDefinition> = scopes.iter().filter(|s| s.name.as_str() != ADMIN_SCOPE).collect();
    let mut claims: Vec<String> = vec!["sub".into(), "iss".into(), "aud".into(), "exp".into(), "iat".into()];
    for s in &scopes {
        for c in &s.claims {
            if !claims.contains(c) {
                claims.push(c.clone());
            }
        }
    }
    Capabilities {
        response_types: SUPPORTED_RESPONSE_TYPES.to_vec(),
        response_modes: ResponseMode::SUPPORTED.to_vec(),
        grant_types: vec![
            GrantType::AuthorizationCode,
            GrantType::Implicit,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
            GrantType::Password,
            GrantType::DeviceCode,
        ],
        token_endpoint_auth_methods: TokenEndpointAuthMethod::ALL.to_vec(),
        signing_algs: algs.to_vec(),
        scopes: scopes.iter().map(|s| s.name.as_str().to_owned()).collect(),
        claims,
        // plain is accepted only from clients an operator opted in; S256 is what to use.
        code_challenge_methods: vec!["S256"],
        endpoints: Endpoints {
            authorization: Some("/authorize"),
            token: Some("/token"),
            userinfo: Some("/userinfo"),
            device_authorization: Some("/device_authorization"),
            introspection: Some("/introspect"),
            revocation: Some("/revoke"),
            end_session: Some("/end_session"),
            jwks: "/jwks",
            registration: registration.then_some("/register"),
        },
        backchannel_logout: true,
    }
}

/// The router with every endpoint and the cross-cutting layers.
pub fn app(state: AppState) -> Router {
    // Metadata and keys are public and fetched by browser apps: any origin may read them.
    let public_cors = CorsLayer::new().allow_origin(tower_http::cors::Any).allow_methods([Method::GET]);
    let metadata = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/jwks", get(jwks))
        .layer(public_cors);

    // Token and userinfo are called from browser apps too; they use no cookies.
    let api_cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let mut api = Router::new()
        .route("/token", post(crate::token::token))
        .route("/device_authorization", post(crate::device::device_authorization))
        .route("/introspect", post(crate::lifecycle::introspect))
        .route("/revoke", post(crate::lifecycle::revoke))
        .route("/userinfo", get(crate::userinfo::userinfo).post(crate::userinfo::userinfo));
    // Off by default: then the paths do not exist (404 from the fallback).
    if state.registration.enabled {
        api = api.route("/register", post(crate::register::register)).route(
            "/register/{client_id}",
            get(crate::register::read).put(crate::register::update).delete(crate::register::delete),
        );
    }
    let api = api.layer(api_cors);

    // RFC 6797: over https, browsers must never fall back to http for this host.
    let hsts = state.issuer.starts_with("https://").then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    let metrics = state.core.metrics.clone();
    let mut router = Router::new();
    if metrics.exposed {
        router = router.route("/metrics", get(crate::metrics::scrape));
    }
    if state.console {
        router = router.merge(crate::console::router());
    }
    // The pages people read: they answer in the browser's language (crate::i18n). Only these
    // routes pay for remembering Accept-Language.
    let pages = Router::new()
        .route("/authorize", get(crate::authorize::authorize).post(crate::authorize::authorize))
        .route("/login", post(crate::authorize::login))
        .route("/consent", post(crate::authorize::consent))
        .route("/end_session", get(crate::logout::end_session).post(crate::logout::end_session))
        .route("/end_session/confirm", post(crate::logout::confirm))
        .route("/device", get(crate::device::device_page).post(crate::device::device_submit))
        .route("/device/login", post(crate::device::device_login))
        .route("/device/consent", post(crate::device::device_consent))
        .layer(axum::middleware::from_fn(crate::i18n::remember_accept_language));
    router
        .merge(metadata)
        .merge(api)
        .merge(crate::admin::router())
        .merge(pages)
        .route("/assets/gatehouse.css", get(css))
        .route("/assets/logo", get(logo))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(state)
        // Per route (MatchedPath is set by then); the fallback counts as "unmatched".
        .layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::track))
        .layer(tower::util::option_layer(hsts))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

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
async fn discovery(State(core): State<Arc<Core>>) -> Response {
    json_bytes(core.catalog.get().discovery.clone(), "application/json", "public, max-age=300")
}

/// RFC 7517 §5: the JWK Set. Short caching: a key is published before it signs (DESIGN.md §4).
async fn jwks(State(keys): State<Arc<Keys>>) -> Response {
    json_bytes(keys.get().jwks_json(), "application/jwk-set+json", "public, max-age=300")
}

async fn css(State(core): State<Arc<Core>>) -> Response {
    core.pages.css()
}

async fn logo(State(core): State<Arc<Core>>) -> Response {
    core.pages.logo()
}

/// Liveness: the process answers.
async fn healthz() -> Response {
    json_bytes(Bytes::from_static(br#"{"status":"ok"}"#), "application/json", "no-store")
}

/// Readiness: the store answers within two seconds.
async fn readyz(State(store): State<Arc<dyn Store>>) -> Response {
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

async fn not_found() -> Response {
    let mut r = json_bytes(Bytes::from_static(br#"{"error":"not_found"}"#), "application/json", "no-store");
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
