//! `/token` (RFC 6749 §3.2): the form parsed and the client authenticated once (the
//! extractor), the typed request handed to its grant in `gatehouse_core::grant`. Responses are
//! JSON with `Cache-Control: no-store` (RFC 6749 §5.1, the API routes' layer); errors are
//! mapped in one place ([`ApiError`]).

use crate::error::ApiError;
use crate::extract::AuthenticatedClient;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use gatehouse_core::grant::Grants;
use gatehouse_protocol::resource::parse_requested;
use gatehouse_protocol::token::TokenRequest;
use std::sync::Arc;

pub async fn token(State(grants): State<Arc<Grants>>, caller: AuthenticatedClient) -> Result<Response, ApiError> {
    let request = TokenRequest::parse(&caller.params)?;
    let resources = parse_requested(caller.params.all("resource"))?;
    let response = grants.token(&caller.client, request, &resources, caller.peer.ip()).await?;
    Ok(Json(response).into_response())
}
