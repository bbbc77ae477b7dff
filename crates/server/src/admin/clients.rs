//! `/admin/v1/clients`: create (a generated secret is shown once), read, update (replace or
//! RFC 7396 merge patch), delete, rotate the secret.

use super::http::{Body, Caller, ListParams, Params, Problem, Segments, json};
use super::schema::{ClientSpecDoc, ClientViewDoc};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::Administration;
use gatehouse_protocol::Client;
use gatehouse_protocol::client::ClientSpec;
use gatehouse_protocol::secret::Secret;
use serde_json::Value;
use std::sync::Arc;

/// A client as the admin API shows it. `client_secret` appears only in the answer that created
/// it (create, rotate-secret, or an update that made a public client confidential).
#[derive(serde::Serialize)]
pub struct ClientView {
    #[serde(flatten)]
    pub client: Client,
    /// No secret: PKCE is required and `token_endpoint_auth_method` is `none`.
    pub public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ClientView {
    pub fn new(client: Client, secret: Option<&Secret>) -> Self {
        Self { public: client.is_public(), client_secret: secret.map(|s| s.expose().to_owned()), client }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ClientList {
    #[schema(value_type = Vec<ClientViewDoc>)]
    pub items: Vec<ClientView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// List clients by id.
#[utoipa::path(get, path = "/admin/v1/clients", tag = "clients", params(ListParams),
    responses((status = 200, body = ClientList)))]
pub async fn list_clients(
    _: Caller,
    State(ops): State<Arc<Administration>>,
    Params(p): Params<ListParams>,
) -> Result<Response, Problem> {
    let page = p.page()?;
    let clients = ops.store().list_clients_page(&page).await?;
    let next_cursor = super::http::next_cursor(&page, &clients, |c| c.id.as_str().to_owned());
    let items = clients.into_iter().map(|c| ClientView::new(c, None)).collect();
    Ok(json(StatusCode::OK, &ClientList { items, next_cursor }))
}

/// Create a client. Validation is the config file's. Without `client_secret` or
/// `client_secret_hash`, a confidential client gets a generated 256-bit secret, returned once.
#[utoipa::path(post, path = "/admin/v1/clients", tag = "clients", request_body = ClientSpecDoc,
    responses((status = 201, body = ClientViewDoc), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_client(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Body(spec): Body<ClientSpec>,
) -> Result<Response, Problem> {
    let w = ops.as_actor(caller.actor.clone()).create_client(&spec).await?;
    let location = format!("/admin/v1/clients/{}", w.client.id);
    let mut r = json(StatusCode::CREATED, &ClientView::new(w.client, w.generated_secret.as_ref()));
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// Read a client.
#[utoipa::path(get, path = "/admin/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)), responses((status = 200, body = ClientViewDoc)))]
pub async fn get_client(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(id): Segments<String>,
) -> Result<Response, Problem> {
    let c = ops.as_actor(caller.actor.clone()).get_client(&id).await?;
    Ok(json(StatusCode::OK, &ClientView::new(c, None)))
}

/// Replace a client's settings. Without secret fields a confidential client keeps its secret.
#[utoipa::path(put, path = "/admin/v1/clients/{client_id}", tag = "clients", request_body = ClientSpecDoc,
    params(("client_id" = String, Path)), responses((status = 200, body = ClientViewDoc), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn put_client(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(id): Segments<String>,
    Body(spec): Body<ClientSpec>,
) -> Result<Response, Problem> {
    let w = ops.as_actor(caller.actor.clone()).update_client(&id, &spec).await?;
    Ok(json(StatusCode::OK, &ClientView::new(w.client, w.generated_secret.as_ref())))
}

/// Change some of a client's settings: a JSON merge patch (RFC 7396) over its config-file form.
#[utoipa::path(patch, path = "/admin/v1/clients/{client_id}", tag = "clients",
    request_body(content = Object, content_type = "application/merge-patch+json"),
    params(("client_id" = String, Path)), responses((status = 200, body = ClientViewDoc), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_client(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(id): Segments<String>,
    Body(patch): Body<Value>,
) -> Result<Response, Problem> {
    let w = ops.as_actor(caller.actor.clone()).patch_client(&id, &patch).await?;
    Ok(json(StatusCode::OK, &ClientView::new(w.client, w.generated_secret.as_ref())))
}

/// Delete a client. Its tokens stop working: every grant looks the client up.
#[utoipa::path(delete, path = "/admin/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)), responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_client(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(id): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).delete_client(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replace a confidential client's secret with a generated one, returned once. The old secret
/// stops working at once.
#[utoipa::path(post, path = "/admin/v1/clients/{client_id}/rotate-secret", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientViewDoc), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_secret(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(id): Segments<String>,
) -> Result<Response, Problem> {
    let (client, secret) = ops.as_actor(caller.actor.clone()).rotate_client_secret(&id).await?;
    Ok(json(StatusCode::OK, &ClientView::new(client, Some(&secret))))
}
