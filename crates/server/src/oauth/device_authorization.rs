//! `/device_authorization` (RFC 8628 §3.1–3.2): client authentication as at the token
//! endpoint (public clients included); the client must hold the device grant.

use crate::error::ApiError;
use crate::extract::AuthenticatedClient;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use gatehouse_core::device::Devices;
use gatehouse_protocol::resource::parse_requested;
use std::sync::Arc;

pub async fn device_authorization(
    State(devices): State<Arc<Devices>>,
    caller: AuthenticatedClient,
) -> Result<Response, ApiError> {
    let resources = parse_requested(caller.params.all("resource"))?;
    Ok(Json(devices.start(&caller.client, caller.params.get("scope"), &resources).await?).into_response())
}
