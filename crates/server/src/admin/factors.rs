//! `/admin/v1/users/{sub}/factors`: a user's second factors — list them, remove one, or reset
//! them all (a user who lost their authenticator and their recovery codes). Never their
//! secrets. Removals and resets are audited as `factor.remove` and `factor.reset`.

use super::http::{Caller, Problem, Segments, json};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::Administration;
use gatehouse_core::factors::{Enrolled, Factors};
use std::sync::Arc;

/// How many factors a reset removed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FactorsReset {
    pub removed: u64,
}

/// A user's second factors and how many unused recovery codes they have.
#[utoipa::path(get, path = "/admin/v1/users/{sub}/factors", tag = "factors",
    params(("sub" = String, Path)), responses((status = 200, body = Enrolled)))]
pub async fn list_factors(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    State(factors): State<Arc<Factors>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).get_user(&sub).await?;
    Ok(json(StatusCode::OK, &factors.enrolled(&sub).await?))
}

/// Remove all of a user's second factors and recovery codes. Where a second factor is
/// required, the user enrols a new one at their next sign-in.
#[utoipa::path(delete, path = "/admin/v1/users/{sub}/factors", tag = "factors",
    params(("sub" = String, Path)), responses((status = 200, body = FactorsReset)))]
pub async fn reset_factors(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    State(factors): State<Arc<Factors>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).get_user(&sub).await?;
    let removed = factors.reset(&caller.actor, &sub).await?;
    Ok(json(StatusCode::OK, &FactorsReset { removed }))
}

/// Remove one of a user's second factors.
#[utoipa::path(delete, path = "/admin/v1/users/{sub}/factors/{id}", tag = "factors",
    params(("sub" = String, Path), ("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn remove_factor(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    State(factors): State<Arc<Factors>>,
    Segments((sub, id)): Segments<(String, String)>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).get_user(&sub).await?;
    if !factors.remove(&caller.actor, &sub, &id).await? {
        return Err(Problem::new(StatusCode::NOT_FOUND, "about:blank", "no such factor".to_owned()));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
