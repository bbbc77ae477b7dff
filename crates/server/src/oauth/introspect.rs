//! `/introspect` (RFC 7662) and `/revoke` (RFC 7009), for authenticated clients. The work is
//! `gatehouse_core::lifecycle`'s.

use crate::error::ApiError;
use crate::extract::AuthenticatedClient;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::lifecycle::TokenLifecycle;
use gatehouse_protocol::introspect::{Hint, JWT_RESPONSE_TYPE};
use std::sync::Arc;

/// POST `/introspect`: JSON, or a signed JWT when the client's `Accept` asks for RFC 9701's
/// `application/token-introspection+jwt`.
pub async fn introspect(
    State(tokens): State<Arc<TokenLifecycle>>,
    headers: HeaderMap,
    caller: AuthenticatedClient,
) -> Result<Response, ApiError> {
    let token = caller.params.require("token", "token is required")?;
    let hint = Hint::parse(caller.params.get("token_type_hint"));
    let answer = tokens.introspect(&caller.client, token, hint).await?;
    let wants_jwt = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(JWT_RESPONSE_TYPE)));
    if wants_jwt {
        let jwt = tokens.introspection_jwt(&caller.client, &answer).await?;
        return Ok(([(header::CONTENT_TYPE, JWT_RESPONSE_TYPE)], jwt).into_response());
    }
    Ok(Json(answer).into_response())
}

/// POST `/revoke`. Unknown, expired or already revoked tokens: 200 (RFC 7009 §2.2).
pub async fn revoke(
    State(tokens): State<Arc<TokenLifecycle>>,
    caller: AuthenticatedClient,
) -> Result<Response, ApiError> {
    let token = caller.params.require("token", "token is required")?;
    let hint = Hint::parse(caller.params.get("token_type_hint"));
    tokens.revoke(&caller.client, token, hint).await?;
    Ok(StatusCode::OK.into_response())
}
