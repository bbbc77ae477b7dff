//! `/admin/v1/keys`: the signing keys (never their private parts) and rotation.

use super::http::{Caller, Params, Problem, json};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::admin::Administration;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::jose::SigningAlg;
use std::sync::Arc;

/// A signing key: `next` (published, not signing yet), `current` (signing) or `retired`
/// (published until every token it signed has expired).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created_at: UnixTime,
    pub activated_at: Option<UnixTime>,
    pub retired_at: Option<UnixTime>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RotateParams {
    /// Rotate only this algorithm (RS256, PS256, ES256, EdDSA); all when absent.
    pub alg: Option<String>,
}

async fn key_list(ops: &Administration) -> Result<KeyList, Problem> {
    let items = ops
        .store()
        .list_keys()
        .await?
        .into_iter()
        .map(|k| KeyView {
            kid: k.kid,
            alg: k.alg.as_str().to_owned(),
            state: k.state.as_str().to_owned(),
            created_at: k.created_at,
            activated_at: k.activated_at,
            retired_at: k.retired_at,
        })
        .collect();
    Ok(KeyList { items })
}

/// The signing keys, oldest first.
#[utoipa::path(get, path = "/admin/v1/keys", tag = "keys", responses((status = 200, body = KeyList)))]
pub async fn list_keys(_: Caller, State(ops): State<Arc<Administration>>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &key_list(&ops).await?))
}

/// Rotate: the current key retires (still published), the published next key starts signing,
/// and a new next key is published. In force on this node at once, on others at their next
/// key reload.
#[utoipa::path(post, path = "/admin/v1/keys/rotate", tag = "keys", params(RotateParams),
    responses((status = 200, body = KeyList), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_keys(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Params(p): Params<RotateParams>,
) -> Result<Response, Problem> {
    let algs = match p.alg.as_deref() {
        None => SigningAlg::ALL.to_vec(),
        Some(a) => vec![SigningAlg::parse(a).ok_or_else(|| {
            Problem::bad_request("alg", format!("unknown algorithm {a:?}; supported: {}", SigningAlg::names()))
        })?],
    };
    ops.rotate_keys(&ops.as_actor(caller.actor.clone()), &algs).await?;
    Ok(json(StatusCode::OK, &key_list(&ops).await?))
}
