//! `/admin/v1/audit`: who changed what, when; newest first.

use super::http::{Caller, Params, Problem, json};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::admin::Administration;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_store::AuditQuery;
use serde_json::Value;
use std::sync::Arc;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub id: String,
    pub at: UnixTime,
    /// `client:<id>` (admin API), `cli:<user>` (CLI), `registration`, `bootstrap`.
    pub actor: String,
    /// `client.create`, `user.set_password`, `session.revoke`, `key.rotate`, ...
    pub action: String,
    /// `client:<id>`, `user:<sub>`, `scope:<name>`, `session:<sid>`, `keys`.
    pub target: String,
    /// What changed; never a secret or password.
    #[schema(value_type = Object)]
    pub details: Value,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this actor, e.g. `client:ops-bot`.
    pub actor: Option<String>,
    /// Only actions starting with this, e.g. `client.` or `user.delete`.
    pub action: Option<String>,
    /// Only this target, e.g. `client:webapp`.
    pub target: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/admin/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditList)))]
pub async fn list_audit(
    _: Caller,
    State(ops): State<Arc<Administration>>,
    Params(p): Params<AuditParams>,
) -> Result<Response, Problem> {
    let q = AuditQuery {
        before: p.cursor,
        actor: p.actor,
        action: p.action,
        target: p.target,
        limit: super::http::limit(p.limit)?,
    };
    let entries = ops.store().list_audit(&q).await?;
    let next_cursor = (entries.len() as i64 >= q.limit).then(|| entries.last().map(|e| e.id.clone())).flatten();
    let items = entries
        .into_iter()
        .map(|e| AuditView {
            details: e.details,
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
        })
        .collect();
    Ok(json(StatusCode::OK, &AuditList { items, next_cursor }))
}
