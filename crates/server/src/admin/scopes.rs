//! `/admin/v1/scopes`: the built-in scopes (read-only) and operator-defined ones mapping to
//! claims. A change is in force on this node at once and on every other within
//! `catalog_reload_interval` seconds.

use super::http::{Body, Caller, Problem, Segments, json};
use super::schema::ScopeSpecDoc;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::Administration;
use gatehouse_protocol::claims::{ScopeDefinition, ScopeSpec};
use std::sync::Arc;

/// A scope: its config-file form, and whether it is built in.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ScopeView {
    pub name: String,
    pub claims: Vec<String>,
    pub description: String,
    /// Where the claims go; all of id_token, access_token and userinfo when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_in: Option<Vec<String>>,
    /// Built in (OpenID Connect's, `gatehouse:admin`, `gatehouse:provision`): cannot be changed or
    /// deleted.
    pub builtin: bool,
}

impl From<&ScopeDefinition> for ScopeView {
    fn from(d: &ScopeDefinition) -> Self {
        let spec = d.to_spec();
        Self {
            name: spec.name,
            claims: spec.claims,
            description: d.description.clone(),
            include_in: spec.include_in,
            builtin: d.builtin,
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ScopeList {
    pub items: Vec<ScopeView>,
}

/// Every scope, built-in ones first.
#[utoipa::path(get, path = "/admin/v1/scopes", tag = "scopes", responses((status = 200, body = ScopeList)))]
pub async fn list_scopes(caller: Caller, State(ops): State<Arc<Administration>>) -> Result<Response, Problem> {
    let scopes = ops.as_actor(caller.actor.clone()).scopes().await?;
    Ok(json(StatusCode::OK, &ScopeList { items: scopes.iter().map(ScopeView::from).collect() }))
}

/// Define a scope and the claims it releases.
#[utoipa::path(post, path = "/admin/v1/scopes", tag = "scopes", request_body = ScopeSpecDoc,
    responses((status = 201, body = ScopeView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_scope(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Body(spec): Body<ScopeSpec>,
) -> Result<Response, Problem> {
    let def = ops.as_actor(caller.actor.clone()).create_scope(&spec).await?;
    ops.reload_scopes().await?;
    Ok(json(StatusCode::CREATED, &ScopeView::from(&def)))
}

/// Read a scope.
#[utoipa::path(get, path = "/admin/v1/scopes/{name}", tag = "scopes",
    params(("name" = String, Path)), responses((status = 200, body = ScopeView)))]
pub async fn get_scope(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(name): Segments<String>,
) -> Result<Response, Problem> {
    let scopes = ops.as_actor(caller.actor.clone()).scopes().await?;
    let def =
        scopes.iter().find(|s| s.name.as_str() == name).ok_or(gatehouse_core::admin::AdminError::NotFound("scope"))?;
    Ok(json(StatusCode::OK, &ScopeView::from(def)))
}

/// Replace an operator-defined scope.
#[utoipa::path(put, path = "/admin/v1/scopes/{name}", tag = "scopes", request_body = ScopeSpecDoc,
    params(("name" = String, Path)),
    responses((status = 200, body = ScopeView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn put_scope(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(name): Segments<String>,
    Body(spec): Body<ScopeSpec>,
) -> Result<Response, Problem> {
    let def = ops.as_actor(caller.actor.clone()).update_scope(&name, &spec).await?;
    ops.reload_scopes().await?;
    Ok(json(StatusCode::OK, &ScopeView::from(&def)))
}

/// Delete an operator-defined scope no client may ask for any more.
#[utoipa::path(delete, path = "/admin/v1/scopes/{name}", tag = "scopes",
    params(("name" = String, Path)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_scope(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(name): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).delete_scope(&name).await?;
    ops.reload_scopes().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
