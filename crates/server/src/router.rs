//! The axum application: [`app`] builds the router shared by `gatehouse serve` and the tests.
//! Routes are grouped: the metadata, the OAuth API (JSON, no cookies, `no-store`), the pages
//! people read (in their language, failing with the error page), the admin API and console.

use crate::oauth::protected_resource::{self, MetadataUrl};
use crate::oauth::{device_authorization, introspect, metadata, par, register, token, userinfo};
use crate::pages::{authorize, device, initiate_login, logout, passkey, second_factor, upstream};
use crate::state::{AppState, MAX_BODY};
use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::{get, post};
use std::time::Duration;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The router with every endpoint and the cross-cutting layers.
pub fn app(state: AppState) -> Router {
    // Metadata and keys are public and fetched by browser apps: any origin may read them.
    let public_cors = CorsLayer::new().allow_origin(tower_http::cors::Any).allow_methods([Method::GET]);
    let metadata = Router::new()
        .route("/.well-known/openid-configuration", get(metadata::discovery))
        .route("/.well-known/oauth-authorization-server", get(metadata::discovery))
        .route(gatehouse_protocol::protected_resource::WELL_KNOWN, get(protected_resource::metadata))
        .route("/jwks", get(metadata::jwks))
        .layer(public_cors);

    // RFC 9728: where Gatehouse's own protected APIs (userinfo, the admin API) are described.
    let resource_metadata =
        MetadataUrl(gatehouse_protocol::protected_resource::metadata_url(state.issuer()).unwrap_or_default().into());

    // Token and userinfo are called from browser apps too; they use no cookies.
    let api_cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let mut api = Router::new()
        .route("/token", post(token::token))
        .route("/device_authorization", post(device_authorization::device_authorization))
        .route("/par", post(par::par))
        .route("/introspect", post(introspect::introspect))
        .route("/revoke", post(introspect::revoke))
        .route(
            "/userinfo",
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .layer(axum::middleware::from_fn_with_state(resource_metadata.clone(), protected_resource::challenge)),
        );
    // Off by default: then the paths do not exist (404 from the fallback).
    if state.services.registration.enabled() {
        api = api
            .route("/register", post(register::register))
            .route("/register/{client_id}", get(register::read).put(register::update).delete(register::delete));
    }
    // RFC 6749 §5.1, RFC 7662 §2.2, RFC 7591 §3.2: answers hold tokens or secrets.
    let api = api
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::PRAGMA, HeaderValue::from_static("no-cache")))
        .layer(api_cors);

    // RFC 6797: over https, browsers must never fall back to http for this host.
    let hsts = state.issuer().starts_with("https://").then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    let metrics = state.services.metrics.clone();
    let trusted_proxies = state.trusted_proxies.clone();
    let mut router = Router::new();
    if metrics.exposed {
        router = router.route("/metrics", get(crate::metrics::scrape));
    }
    if state.console {
        let console = crate::console::router()
            .layer(axum::middleware::from_fn_with_state(state.pages.clone(), crate::web::render_error_pages));
        router = router.merge(console);
    }
    // The pages people read: they answer in the browser's language (crate::i18n). Only these
    // routes pay for remembering Accept-Language.
    let pages = Router::new()
        .route("/authorize", get(authorize::authorize).post(authorize::authorize))
        .route("/login", post(authorize::login))
        .route("/login/factor", post(second_factor::factor))
        .route("/login/factor/passkey", post(passkey::second_factor))
        .route("/login/passkey", post(passkey::sign_in))
        .route("/login/enrol", post(second_factor::enrol))
        .route("/login/upstream/{id}", get(upstream::start))
        .route("/login/upstream/{id}/callback", get(upstream::callback))
        .route("/login/continue", post(second_factor::continue_sign_in))
        .route("/consent", post(authorize::consent))
        .route("/end_session", get(logout::end_session).post(logout::end_session))
        .route("/end_session/confirm", post(logout::confirm))
        .route("/initiate_login/{client_id}", get(initiate_login::initiate_login))
        .route("/device", get(device::device_page).post(device::device_submit))
        .route("/device/login", post(device::device_login))
        .route("/device/factor", post(device::device_factor))
        .route("/device/consent", post(device::device_consent))
        .merge(crate::account::router())
        // Inside the language layer: the error page is rendered in the reader's language.
        .layer(axum::middleware::from_fn_with_state(state.pages.clone(), crate::web::render_error_pages))
        .layer(axum::middleware::from_fn(crate::i18n::remember_accept_language));
    router
        .merge(metadata)
        .merge(api)
        .merge(
            crate::admin::router()
                .layer(axum::middleware::from_fn_with_state(resource_metadata, protected_resource::challenge)),
        )
        .merge(pages)
        .route("/assets/gatehouse.css", get(metadata::css))
        .route("/assets/logo", get(metadata::logo))
        .route("/assets/webauthn.js", get(passkey::script))
        .route("/healthz", get(metadata::healthz))
        .route("/readyz", get(metadata::readyz))
        .fallback(metadata::not_found)
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
            let client = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                request_id = %id,
                client = client.map(tracing::field::display)
            )
        }))
        // Outside the span, so that it and everything inside see the client, not the proxy.
        .layer(axum::middleware::from_fn_with_state(trusted_proxies, crate::client_address::resolve))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
