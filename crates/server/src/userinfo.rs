//! `/userinfo` (OIDC Core §5.3): GET or POST, the access token in the `Authorization: Bearer`
//! header or (POST) the `access_token` form field (RFC 6750 §2.1, §2.2). Answers the claims of
//! the granted scopes (Core §5.4), `sub` always. A missing, expired, revoked or forged token is
//! 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).

use crate::core::Core;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::tokens::{ClaimTarget, released_claims};
use serde_json::Value;
use std::sync::Arc;

const BAD: OAuthError = OAuthError::InvalidToken("the access token is invalid or expired");

fn bearer(method: &Method, headers: &HeaderMap, body: &Bytes) -> Result<String, OAuthError> {
    let from_header = crate::web::bearer_token(headers);
    let from_form = if *method == Method::POST && !body.is_empty() {
        crate::token::client_form(headers, body)?.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (from_header, from_form) {
        // RFC 6750 §2: "MUST NOT use more than one method to transmit the token".
        (Some(_), Some(_)) => Err(OAuthError::InvalidRequest("send the token once")),
        (Some(t), None) if !t.is_empty() => Ok(t.to_owned()),
        (None, Some(t)) => Ok(t),
        // RFC 6750 §3.1: no credentials at all is invalid_token here too (a bare challenge
        // would also do; clients handle both).
        _ => Err(OAuthError::InvalidToken("an access token is required")),
    }
}

pub async fn userinfo(
    State(core): State<Arc<Core>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = bearer(&method, &headers, &body)?;
    let view = crate::lifecycle::live_access_token(&core, &token).await?.ok_or(BAD)?;
    // OIDC Core §5.3: userinfo is for tokens granted `openid`.
    if !view.scope.contains("openid") {
        return Err(OAuthError::InsufficientScope.into());
    }
    let user = match core.store.get_user_by_sub(&view.sub).await? {
        Some(u) if !u.disabled => u,
        _ => return Err(BAD.into()),
    };
    let scope = view.scope;
    let mut out = released_claims(&user.claims, &scope, &core.catalog.get().scopes, ClaimTarget::Userinfo);
    out.insert("sub".into(), Value::String(user.sub));
    let mut r = Json(Value::Object(out)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
