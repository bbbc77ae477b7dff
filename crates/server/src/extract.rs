//! The steps every client-facing endpoint shares, written once (STYLE.md rule 3): the form
//! body of RFC 6749 §3.2 and client authentication (§2.3), as extractors.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::params::Params;
use std::net::SocketAddr;

/// Whether the body is `application/x-www-form-urlencoded` (parameters after `;` ignored).
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Requires `application/x-www-form-urlencoded` (RFC 6749 §3.2) and parses it, refusing
/// repeated parameters.
pub fn client_form(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::InvalidRequest("the body must be application/x-www-form-urlencoded"));
    }
    Params::parse(body)
}

/// A client's form, parsed by [`client_form`].
pub struct ClientForm(pub Params);

impl<S: Send + Sync> FromRequest<S> for ClientForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        // The body is read first, as it always was: one over the limit is 413 whatever its type.
        let form = is_form(req.headers());
        let body = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        if !form {
            let e = OAuthError::InvalidRequest("the body must be application/x-www-form-urlencoded");
            return Err(ApiError(e).into_response());
        }
        Params::parse(&body).map(Self).map_err(|e| ApiError(e).into_response())
    }
}

/// The client of a request to the token, introspection, revocation or device authorization
/// endpoint, authenticated (RFC 6749 §2.3, §3.2.1; wrong secrets throttled), with its form and
/// the address it came from.
pub struct AuthenticatedClient {
    pub client: Client,
    pub params: Params,
    pub peer: SocketAddr,
}

impl FromRequest<AppState> for AuthenticatedClient {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0).ok_or_else(|| {
            ApiError(OAuthError::Server(InternalError::new("no peer address on the request"))).into_response()
        })?;
        let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let endpoint = req.uri().path().to_owned();
        let ClientForm(params) = ClientForm::from_request(req, state).await?;
        let (client, _) = state
            .services
            .client_auth
            .authenticate(authorization.as_deref(), &params, Some(peer.ip()), &endpoint)
            .await
            .map_err(|e| ApiError(e).into_response())?;
        Ok(Self { client, params, peer })
    }
}
