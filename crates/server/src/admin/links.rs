//! `/admin/v1/users/{sub}/links`: the upstream identities linked to a user (`[[upstreams]]`):
//! list them, remove one (the user can then no longer sign in with it; their next sign-in there
//! links again only by `link_by_email`, or creates a new user). Removals are audited as
//! `upstream.unlink`.

use super::http::{Caller, Problem, Segments, json};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::Administration;
use gatehouse_core::upstreams::{UpstreamError, Upstreams};
use std::sync::Arc;

/// An upstream identity linked to a user.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Link {
    /// The provider's id in `[[upstreams]]`.
    pub provider: String,
    /// The provider's subject for the user.
    pub subject: String,
    /// The verified address the provider gave when the link was made.
    pub email: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last sign-in through it.
    pub last_used_at: Option<i64>,
}

fn problem(e: UpstreamError) -> Problem {
    match e {
        UpstreamError::Store(e) => e.into(),
        e => Problem::new(StatusCode::BAD_REQUEST, "about:blank", e.to_string()),
    }
}

/// The upstream identities linked to a user.
#[utoipa::path(get, path = "/admin/v1/users/{sub}/links", tag = "users",
    params(("sub" = String, Path)), responses((status = 200, body = Vec<Link>)))]
pub async fn list_links(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    State(upstreams): State<Arc<Upstreams>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).get_user(&sub).await?;
    let links: Vec<Link> = upstreams
        .links(&sub)
        .await
        .map_err(problem)?
        .into_iter()
        .map(|l| Link {
            provider: l.provider,
            subject: l.subject,
            email: l.email,
            created_at: l.created_at,
            last_used_at: l.last_used_at,
        })
        .collect();
    Ok(json(StatusCode::OK, &links))
}

/// Remove one of a user's upstream identities.
#[utoipa::path(delete, path = "/admin/v1/users/{sub}/links/{provider}/{subject}", tag = "users",
    params(("sub" = String, Path), ("provider" = String, Path), ("subject" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn remove_link(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    State(upstreams): State<Arc<Upstreams>>,
    Segments((sub, provider, subject)): Segments<(String, String, String)>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).get_user(&sub).await?;
    if !upstreams.unlink(&caller.actor, &sub, &provider, &subject, false).await.map_err(problem)? {
        return Err(Problem::new(StatusCode::NOT_FOUND, "about:blank", "no such link".to_owned()));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
