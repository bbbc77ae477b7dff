//! `/introspect` (RFC 7662) and `/revoke` (RFC 7009), for authenticated clients. The work is
//! `gatehouse_core::lifecycle`'s.

use crate::error::ApiError;
use crate::extract::AuthenticatedClient;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::lifecycle::TokenLifecycle;
use gatehouse_protocol::introspect::Hint;
use std::sync::Arc;

/// POST `/introspect`.
pub async fn introspect(
    State(tokens): State<Arc<TokenLifecycle>>,
    caller: AuthenticatedClient,
) -> Result<Response, ApiError> {
    let token = caller.params.require("token", "token is required")?;
    let hint = Hint::parse(caller.params.get("token_type_hint"));
    Ok(Json(tokens.introspect(&caller.client, token, hint).await?).into_response())
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
