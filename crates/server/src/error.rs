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

/// What the error page says: set on a response by [`PageError`], rendered by
/// `web::render_error_pages` with the templates, in the page's language.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub message: std::borrow::Cow<'static, str>,
    pub code: Option<&'static str>,
}

/// Why a page (authorize, login, consent, device, logout, console) could not be answered as
/// asked. Handlers return it with `?`; the person sees the error page, and a failure of the
/// server is logged, never shown.
#[derive(Debug)]
pub enum PageError {
    /// A refusal the person can read: its status, a sentence, and the error code beside it.
    Refused {
        status: StatusCode,
        message: std::borrow::Cow<'static, str>,
        code: Option<&'static str>,
    },
    /// A response chosen instead (a redirect, a form shown again with its message).
    Response(Box<Response>),
    /// The database is briefly away (503 with `Retry-After`) or the server failed (500).
    Unavailable(String),
    Server(String),
}

impl PageError {
    pub fn bad_request(message: &'static str) -> Self {
        Self::Refused { status: StatusCode::BAD_REQUEST, message: message.into(), code: Some("invalid_request") }
    }

    pub fn refused(
        status: StatusCode,
        message: impl Into<std::borrow::Cow<'static, str>>,
        code: Option<&'static str>,
    ) -> Self {
        Self::Refused { status, message: message.into(), code }
    }
}

impl From<gatehouse_store::StoreError> for PageError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        match e {
            gatehouse_store::StoreError::Unavailable(_) => Self::Unavailable(e.to_string()),
            e => Self::Server(e.to_string()),
        }
    }
}

impl From<OAuthError> for PageError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::TemporarilyUnavailable(d) => Self::Unavailable(d.to_string()),
            e => Self::Server(e.to_string()),
        }
    }
}

impl From<Response> for PageError {
    fn from(r: Response) -> Self {
        Self::Response(Box::new(r))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message, code) = match self {
            Self::Response(r) => return *r,
            Self::Refused { status, message, code } => (status, message, code),
            Self::Unavailable(detail) => {
                tracing::warn!(error = %detail, "temporarily unavailable on a page");
                let message = "Gatehouse is briefly unavailable. Please try again in a moment.";
                (StatusCode::SERVICE_UNAVAILABLE, message.into(), Some("temporarily_unavailable"))
            }
            Self::Server(detail) => {
                tracing::error!(error = %detail, "server error on a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Gatehouse had a problem. Please try again.".into(),
                    Some("server_error"),
                )
            }
        };
        let mut r = status.into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r.extensions_mut().insert(ErrorPage { message, code });
        r
    }
}
