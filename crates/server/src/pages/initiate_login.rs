//! `/initiate_login/{client_id}` (OIDC Core §4, third-party-initiated login): Gatehouse as the
//! third party sends the browser to a client's registered `initiate_login_uri` with `iss` (and
//! the `login_hint` and `target_link_uri` it was given), so the client starts a sign-in with
//! this issuer — a link an application launcher or a portal can offer.

use crate::error::PageError;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authorization::Authorization;
use gatehouse_protocol::ClientId;
use gatehouse_protocol::params::Params;
use std::sync::Arc;

pub async fn initiate_login(
    State(az): State<Arc<Authorization>>,
    Path(client_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let unknown = || PageError::refused(StatusCode::NOT_FOUND, "This application cannot be started from here.", None);
    let id = ClientId::parse(&client_id).map_err(|_| unknown())?;
    let client = az.client(&id).await?.ok_or_else(unknown)?;
    let target = client.initiate_login_uri.ok_or_else(unknown)?;
    let params = Params::parse(query.as_deref().unwrap_or("").as_bytes())
        .map_err(|e| PageError::refused(StatusCode::BAD_REQUEST, "The request is malformed.", Some(e.code())))?;
    let mut url = url::Url::parse(target.as_str()).map_err(|_| unknown())?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("iss", az.issuer());
        for k in ["login_hint", "target_link_uri"] {
            if let Some(v) = params.get(k) {
                q.append_pair(k, v);
            }
        }
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response())
}
