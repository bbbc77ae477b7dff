//! `/par` (RFC 9126 §2): a client pushes its authorization request — plain parameters or a
//! request object — authenticated as at the token endpoint, and gets a short-lived, single-use
//! `request_uri` to send to `/authorize` with its `client_id`. A `DPoP` proof sent with the
//! push binds the code to come to its key (RFC 9449 §10.1).

use crate::error::ApiError;
use crate::extract::AuthenticatedClient;
use crate::oauth::dpop;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::dpop::DpopProofs;
use gatehouse_core::request_objects::RequestObjects;
use serde_json::json;
use std::sync::Arc;

pub async fn par(
    State(requests): State<Arc<RequestObjects>>,
    State(proofs): State<Arc<DpopProofs>>,
    headers: HeaderMap,
    caller: AuthenticatedClient,
) -> Response {
    let answer = async {
        let jkt = match dpop::proof(&headers)? {
            Some(p) => Some(proofs.check(p, "POST", "/par", None).await?.jkt),
            None => None,
        };
        let pushed = requests.push(&caller.client, caller.params, jkt.as_deref()).await?;
        let body = json!({"request_uri": pushed.request_uri, "expires_in": pushed.expires_in});
        Ok::<_, ApiError>((StatusCode::CREATED, Json(body)).into_response())
    };
    let response = answer.await.unwrap_or_else(IntoResponse::into_response);
    dpop::with_nonce(response, proofs.nonce())
}
