//! Protecting axum routes (feature `axum`): the [`RequireScope`] layer verifies the bearer
//! token of every request and demands a scope, answering as RFC 6750 §3 says; handlers take
//! the verified token with the [`Authenticated`] extractor.
//!
//! ```no_run
//! # async fn app() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{Router, routing::get};
//! use gatehouse_client::{Verifier, axum::{Authenticated, RequireScope}};
//! use std::sync::Arc;
//!
//! let verifier = Arc::new(Verifier::discover("http://127.0.0.1:8080", "http://127.0.0.1:8080").await?);
//! let app: Router = Router::new()
//!     .route("/reports", get(|Authenticated(t): Authenticated| async move { format!("hello {}", t.subject) }))
//!     .layer(RequireScope::new(verifier, "api:read"));
//! # Ok(()) }
//! ```

use crate::{AccessToken, TokenCheck, VerifyError};
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A layer that lets a request through only with a valid bearer access token carrying `scope`.
/// Without a token: 401 `WWW-Authenticate: Bearer` (RFC 6750 §3.1: no error code); with an
/// invalid one: 401 `error="invalid_token"`; without the scope: 403 `error="insufficient_scope"`.
/// If the token cannot be checked (an [`crate::Introspector`] that cannot reach the provider),
/// 503. With [`RequireScope::acr`], a token from a sign-in at another level gets RFC 9470's
/// 401 `error="insufficient_user_authentication"` with `acr_values`, which the application
/// meets by sending the user to `/authorize` with those `acr_values` (a step-up).
#[derive(Clone)]
pub struct RequireScope {
    checker: Arc<dyn TokenCheck>,
    scope: Arc<str>,
    /// The `acr` values any one of which the token's sign-in must have; empty: any.
    acr: Arc<[String]>,
}

impl RequireScope {
    /// Checks tokens with `checker`: a [`crate::Verifier`] or an [`crate::Introspector`].
    pub fn new<C: TokenCheck>(checker: Arc<C>, scope: &str) -> Self {
        Self { checker, scope: scope.into(), acr: Arc::new([]) }
    }

    /// Also demands that the user signed in at one of these levels (the token's `acr`, RFC
    /// 9068 §2.2.1), such as `["mfa"]`; otherwise RFC 9470's challenge names them.
    pub fn acr(mut self, values: &[&str]) -> Self {
        self.acr = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    fn acr_met(&self, t: &AccessToken) -> bool {
        self.acr.is_empty()
            || t.claims.get("acr").and_then(|v| v.as_str()).is_some_and(|a| self.acr.iter().any(|x| x == a))
    }
}

impl<S> tower::Layer<S> for RequireScope {
    type Service = RequireScopeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService { inner, rule: self.clone() }
    }
}

/// The service [`RequireScope`] wraps around a route.
#[derive(Clone)]
pub struct RequireScopeService<S> {
    inner: S,
    rule: RequireScope,
}

impl<S> tower::Service<Request<Body>> for RequireScopeService<S>
where
    S: tower::Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's convention).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let rule = self.rule.clone();
        Box::pin(async move {
            let Some(token) = bearer(req.headers()) else {
                return Ok(challenge(StatusCode::UNAUTHORIZED, &rule.scope, None));
            };
            match rule.checker.check(token).await {
                Err(VerifyError::Unavailable) => Ok(StatusCode::SERVICE_UNAVAILABLE.into_response()),
                Err(e) => Ok(challenge(StatusCode::UNAUTHORIZED, &rule.scope, Some(("invalid_token", &e.to_string())))),
                Ok(t) if !t.scopes.contains(&*rule.scope) => Ok(challenge(
                    StatusCode::FORBIDDEN,
                    &rule.scope,
                    Some(("insufficient_scope", "the token lacks the scope this resource needs")),
                )),
                Ok(t) if !rule.acr_met(&t) => {
                    let mut r = challenge(
                        StatusCode::UNAUTHORIZED,
                        &rule.scope,
                        Some(("insufficient_user_authentication", "a stronger sign-in is required")),
                    );
                    step_up(&mut r, &rule.acr);
                    Ok(r)
                }
                Ok(t) => {
                    req.extensions_mut().insert(t);
                    inner.call(req).await
                }
            }
        })
    }
}

/// The bearer token of `Authorization: Bearer …` (RFC 6750 §2.1; the scheme is case-insensitive).
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// An RFC 6750 §3 challenge. Quotes and backslashes never appear in our descriptions, but are
/// dropped rather than trusted.
fn challenge(status: StatusCode, scope: &str, error: Option<(&str, &str)>) -> Response {
    let clean = |s: &str| s.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect::<String>();
    let mut value = format!("Bearer scope=\"{}\"", clean(scope));
    if let Some((code, description)) = error {
        value.push_str(&format!(", error=\"{code}\", error_description=\"{}\"", clean(description)));
    }
    let mut r = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Adds RFC 9470 §3's `acr_values` to a challenge.
fn step_up(r: &mut Response, acr: &[String]) {
    let Some(current) = r.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()) else { return };
    let values: String = acr.join(" ").chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!("{current}, acr_values=\"{values}\"")) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
}

/// The access token [`RequireScope`] verified, for handlers behind it. Without the layer in
/// front, extraction fails with 401.
#[derive(Debug, Clone)]
pub struct Authenticated(pub AccessToken);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AccessToken>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| challenge(StatusCode::UNAUTHORIZED, "", None))
    }
}
