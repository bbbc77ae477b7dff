//! `/admin/v1/upstreams`: the identity providers users may sign in with. Those of the
//! configuration file are listed (`source: config`) and changed only there; others are added,
//! replaced and removed here (`source: store`), their client secret sealed under
//! `[secrets] sealing_key`. Changes show on this node's sign-in page at once and on the others'
//! within `catalog_reload_interval`; audited as `upstream.put` and `upstream.delete`.

use super::http::{Body, Caller, Problem, Segments, json};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::AdminError;
use gatehouse_core::config::UpstreamSpec;
use gatehouse_core::upstreams::{PutError, UpstreamView, Upstreams};
use gatehouse_protocol::client::FieldError;
use std::sync::Arc;

fn problem(e: PutError) -> Problem {
    match e {
        PutError::Configured => {
            AdminError::Conflict("that provider is defined in the configuration file; change it there".to_owned())
                .into()
        }
        PutError::Invalid(fields) => AdminError::Invalid(fields).into(),
        PutError::Store(e) => e.into(),
    }
}

/// Every provider, the configuration file's first. Never their secrets.
#[utoipa::path(get, path = "/admin/v1/upstreams", tag = "upstreams",
    responses((status = 200, body = Vec<UpstreamView>)))]
pub async fn list_upstreams(_caller: Caller, State(upstreams): State<Arc<Upstreams>>) -> Response {
    json(StatusCode::OK, &upstreams.describe())
}

/// Add or replace a provider (the body is a `[[upstreams]]` entry; its `id` is the path's).
/// `icon` must be a `data:image/...` URL here. A `client_secret` needs `[secrets] sealing_key`.
#[utoipa::path(put, path = "/admin/v1/upstreams/{id}", tag = "upstreams", request_body = UpstreamSpec,
    params(("id" = String, Path)),
    responses((status = 201, body = UpstreamView), (status = 200, body = UpstreamView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn put_upstream(
    caller: Caller,
    State(upstreams): State<Arc<Upstreams>>,
    Segments(id): Segments<String>,
    Body(spec): Body<UpstreamSpec>,
) -> Result<Response, Problem> {
    if spec.id != id {
        return Err(AdminError::Invalid(vec![FieldError::new("id", "must be the path's id")]).into());
    }
    let (view, created) = upstreams.put(&caller.actor, spec).await.map_err(problem)?;
    Ok(json(if created { StatusCode::CREATED } else { StatusCode::OK }, &view))
}

/// Remove a provider added here. Its users' links stay, should it come back.
#[utoipa::path(delete, path = "/admin/v1/upstreams/{id}", tag = "upstreams",
    params(("id" = String, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_upstream(
    caller: Caller,
    State(upstreams): State<Arc<Upstreams>>,
    Segments(id): Segments<String>,
) -> Result<Response, Problem> {
    if !upstreams.delete(&caller.actor, &id).await.map_err(problem)? {
        return Err(Problem::new(StatusCode::NOT_FOUND, "about:blank", "no such provider".to_owned()));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
