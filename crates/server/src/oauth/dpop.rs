//! The `DPoP` request header (RFC 9449 §4.1) and the `DPoP-Nonce` response header (§8), for
//! the endpoints that take proofs (`/token`, `/userinfo`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::error::OAuthError;

/// The proof, if one was sent; two are refused (§4.3: exactly one).
pub fn proof(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    let mut all = headers.get_all("dpop").iter();
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(OAuthError::InvalidDpopProof("send one DPoP header")),
        (Some(v), None) => {
            v.to_str().map(Some).map_err(|_| OAuthError::InvalidDpopProof("the DPoP header is not text"))
        }
    }
}

/// Adds `DPoP-Nonce` when the server hands out nonces.
pub fn with_nonce(mut response: Response, nonce: Option<String>) -> Response {
    if let Some(v) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
        response.headers_mut().insert("dpop-nonce", v);
    }
    response
}

/// An error at a protected resource for a request that used the DPoP scheme: 401 with a `DPoP`
/// challenge naming the error and the algorithms proofs may use (RFC 9449 §7.1), and the nonce
/// when nonces are on. `insufficient_scope` stays 403.
pub fn resource_error(e: OAuthError, nonce: Option<String>) -> Response {
    let status = match e {
        OAuthError::InsufficientScope => StatusCode::FORBIDDEN,
        OAuthError::Server(_) | OAuthError::TemporarilyUnavailable(_) => {
            return crate::error::ApiError::from(e).into_response();
        }
        _ => StatusCode::UNAUTHORIZED,
    };
    let algs: Vec<&str> = gatehouse_protocol::dpop::ALGS.iter().map(|a| a.as_str()).collect();
    let challenge = match e.description() {
        Some(d) => format!("DPoP error=\"{}\", error_description=\"{d}\", algs=\"{}\"", e.code(), algs.join(" ")),
        None => format!("DPoP error=\"{}\", algs=\"{}\"", e.code(), algs.join(" ")),
    };
    let body = serde_json::json!({"error": e.code(), "error_description": e.description()});
    let mut r = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    with_nonce(r, nonce)
}
