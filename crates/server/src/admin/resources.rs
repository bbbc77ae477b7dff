//! `/admin/v1/resources`: the resource servers (RFC 8707) tokens can be asked for. The
//! identifier is a URI, so in a path it is percent-encoded as one segment
//! (`/admin/v1/resources/https%3A%2F%2Fmcp.example.com%2Fmcp`). A change is in force on this node
//! at once and on every other within `catalog_reload_interval` seconds.

use super::http::{Body, Caller, Problem, Segments, json};
use super::schema::ResourceSpecDoc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::Administration;
use gatehouse_protocol::resource::{ResourceDefinition, ResourceSpec};
use std::sync::Arc;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ResourceList {
    /// Each in its config-file form.
    #[schema(value_type = Vec<ResourceSpecDoc>)]
    pub items: Vec<ResourceSpec>,
}

/// Every resource server, by identifier.
#[utoipa::path(get, path = "/admin/v1/resources", tag = "resources", responses((status = 200, body = ResourceList)))]
pub async fn list_resources(caller: Caller, State(ops): State<Arc<Administration>>) -> Result<Response, Problem> {
    let all = ops.as_actor(caller.actor.clone()).resources().await?;
    Ok(json(StatusCode::OK, &ResourceList { items: all.iter().map(ResourceDefinition::to_spec).collect() }))
}

/// Define a resource server.
#[utoipa::path(post, path = "/admin/v1/resources", tag = "resources", request_body = ResourceSpecDoc,
    responses((status = 201, body = ResourceSpecDoc), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_resource(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Body(spec): Body<ResourceSpec>,
) -> Result<Response, Problem> {
    let def = ops.as_actor(caller.actor.clone()).create_resource(&spec).await?;
    ops.reload_scopes().await?;
    Ok(json(StatusCode::CREATED, &def.to_spec()))
}

/// Read a resource server.
#[utoipa::path(get, path = "/admin/v1/resources/{identifier}", tag = "resources",
    params(("identifier" = String, Path, description = "The identifier, percent-encoded")),
    responses((status = 200, body = ResourceSpecDoc)))]
pub async fn get_resource(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(identifier): Segments<String>,
) -> Result<Response, Problem> {
    let def = ops.as_actor(caller.actor.clone()).resource(&identifier).await?;
    Ok(json(StatusCode::OK, &def.to_spec()))
}

/// Replace a resource server.
#[utoipa::path(put, path = "/admin/v1/resources/{identifier}", tag = "resources", request_body = ResourceSpecDoc,
    params(("identifier" = String, Path, description = "The identifier, percent-encoded")),
    responses((status = 200, body = ResourceSpecDoc)))]
pub async fn put_resource(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(identifier): Segments<String>,
    Body(spec): Body<ResourceSpec>,
) -> Result<Response, Problem> {
    let def = ops.as_actor(caller.actor.clone()).update_resource(&identifier, &spec).await?;
    ops.reload_scopes().await?;
    Ok(json(StatusCode::OK, &def.to_spec()))
}

/// Delete a resource server no client lists any more.
#[utoipa::path(delete, path = "/admin/v1/resources/{identifier}", tag = "resources",
    params(("identifier" = String, Path, description = "The identifier, percent-encoded")),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_resource(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(identifier): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).delete_resource(&identifier).await?;
    ops.reload_scopes().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
