//! `/token` (RFC 6749 §3.2): the form parsed and the client authenticated once (the
//! extractor), the typed request handed to its grant in `gatehouse_core::grant`. Responses are
//! JSON with `Cache-Control: no-store` (RFC 6749 §5.1, the API routes' layer); errors are
//! mapped in one place ([`ApiError`]). A `DPoP` proof (RFC 9449) binds the tokens to its key.

use crate::error::ApiError;
use crate::extract::AuthenticatedClient;
use crate::oauth::dpop;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use gatehouse_core::dpop::DpopProofs;
use gatehouse_core::grant::Grants;
use gatehouse_protocol::resource::parse_requested;
use gatehouse_protocol::token::TokenRequest;
use std::sync::Arc;

pub async fn token(
    State(grants): State<Arc<Grants>>,
    State(proofs): State<Arc<DpopProofs>>,
    headers: HeaderMap,
    caller: AuthenticatedClient,
) -> Response {
    let answer = async {
        let request = TokenRequest::parse(&caller.params)?;
        let resources = parse_requested(caller.params.all("resource"))?;
        let jkt = match dpop::proof(&headers)? {
            Some(p) => Some(proofs.check(p, "POST", "/token", None).await?.jkt),
            None => None,
        };
        let response = grants.token(&caller.client, request, &resources, jkt.as_deref(), caller.peer.ip()).await?;
        Ok::<_, ApiError>(Json(response).into_response())
    };
    let response = answer.await.unwrap_or_else(IntoResponse::into_response);
    dpop::with_nonce(response, proofs.nonce())
}
