//! `/admin/v1/users`: create, read, update claims, set password, disable, delete; and a user's
//! SSO sessions: list, revoke one or all (the clients that got tokens in them are told through
//! back-channel logout).
//!
//! Creating a user, setting a password and replacing claims also accept a client's own token
//! granted `gatehouse:provision` (an application's sign-up and account forms), narrowed by
//! `gatehouse_core::provisioning`: never an administrator, nothing but username, password and
//! claims.

use super::http::{Authority, Body, Caller, ListParams, Params, Problem, Segments, UserWriter, json};
use super::schema::UserSpecDoc;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::Administration;
use gatehouse_core::admin::UserUpdate;
use gatehouse_core::provisioning::Provisioning;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::{User, UserSpec};
use serde_json::{Map, Value};
use std::sync::Arc;

/// What to change on a user; absent fields stay as they are (the body of PATCH).
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub username: Option<String>,
    /// Replaces all of the user's claims.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Map<String, Value>>,
    /// A disabled user cannot sign in, and their sessions end.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// An administrator may use the admin console.
    #[serde(default)]
    pub admin: Option<bool>,
}

impl From<UserPatch> for UserUpdate {
    fn from(p: UserPatch) -> Self {
        Self { username: p.username, claims: p.claims, disabled: p.disabled, admin: p.admin }
    }
}

/// A user as the admin API shows it: never the password or its hash.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub sub: String,
    pub username: String,
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    pub disabled: bool,
    /// May use the admin console.
    pub admin: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self { sub: u.sub, username: u.username, claims: u.claims, disabled: u.disabled, admin: u.admin }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Keep users whose username or claims contain this text (case-insensitive).
    pub q: Option<String>,
    /// Only disabled (`true`) or only enabled (`false`) users.
    pub disabled: Option<bool>,
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

/// An SSO session.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The session id that ID tokens carry as `sid`.
    pub sid: String,
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub amr: Vec<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    /// The sids of the sessions ended.
    pub ended: Vec<String>,
}

/// List users by username; `q` looks in usernames and claims.
#[utoipa::path(get, path = "/admin/v1/users", tag = "users", params(UserListParams),
    responses((status = 200, body = UserList)))]
pub async fn list_users(
    _: Caller,
    State(ops): State<Arc<Administration>>,
    Params(p): Params<UserListParams>,
) -> Result<Response, Problem> {
    let page = ListParams { limit: p.limit, cursor: p.cursor, q: p.q }.page()?;
    let users = ops.store().list_users_page(&page, p.disabled).await?;
    let next_cursor = super::http::next_cursor(&page, &users, |u| u.username.clone());
    Ok(json(StatusCode::OK, &UserList { items: users.into_iter().map(UserView::from).collect(), next_cursor }))
}

/// Create a user. Give `password` (hashed with argon2id) or `password_hash`; `sub` is generated
/// when absent and never changes. With `gatehouse:provision`: only `username`, `password` and
/// `claims`.
#[utoipa::path(post, path = "/admin/v1/users", tag = "users", request_body = UserSpecDoc,
    responses((status = 201, body = UserView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    caller: UserWriter,
    State(ops): State<Arc<Administration>>,
    Body(spec): Body<UserSpec>,
) -> Result<Response, Problem> {
    let admin = ops.as_actor(caller.actor.clone());
    let user = match caller.authority {
        Authority::Admin => admin.create_user(&spec).await?,
        Authority::Provision => Provisioning::new(admin).create_user(&spec).await?,
    };
    let location = format!("/admin/v1/users/{}", user.sub);
    let mut r = json(StatusCode::CREATED, &UserView::from(user));
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// Read a user.
#[utoipa::path(get, path = "/admin/v1/users/{sub}", tag = "users",
    params(("sub" = String, Path)), responses((status = 200, body = UserView)))]
pub async fn get_user(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &UserView::from(ops.as_actor(caller.actor.clone()).get_user(&sub).await?)))
}

/// Change a user's username, claims (replaced whole), `disabled` or `admin`. Disabling ends the
/// user's sessions. With `gatehouse:provision`: only `claims`, and not an administrator's.
#[utoipa::path(patch, path = "/admin/v1/users/{sub}", tag = "users", request_body = UserPatch,
    params(("sub" = String, Path)),
    responses((status = 200, body = UserView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_user(
    caller: UserWriter,
    State(ops): State<Arc<Administration>>,
    Segments(sub): Segments<String>,
    Body(update): Body<UserPatch>,
) -> Result<Response, Problem> {
    if caller.authority == Authority::Provision {
        return provision_claims(&ops, caller.actor, &sub, update).await;
    }
    let (user, ended) = ops.as_actor(caller.actor.clone()).update_user(&sub, &update.into()).await?;
    ops.sessions_ended(&sub, ended).await;
    Ok(json(StatusCode::OK, &UserView::from(user)))
}

/// Delete a user, their sessions and consents.
#[utoipa::path(delete, path = "/admin/v1/users/{sub}", tag = "users",
    params(("sub" = String, Path)), responses((status = 204)))]
pub async fn delete_user(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    let ended = ops.as_actor(caller.actor.clone()).delete_user(&sub).await?;
    ops.sessions_ended(&sub, ended).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PATCH` with `gatehouse:provision`: the claims alone.
async fn provision_claims(
    ops: &Administration,
    actor: String,
    sub: &str,
    update: UserPatch,
) -> Result<Response, Problem> {
    let beyond = [
        ("username", update.username.is_some()),
        ("disabled", update.disabled.is_some()),
        ("admin", update.admin.is_some()),
    ];
    if let Some((field, _)) = beyond.iter().find(|(_, asked)| *asked) {
        return Err(Problem::insufficient_scope(&format!(
            "setting {field} is beyond gatehouse:provision; it needs gatehouse:admin"
        )));
    }
    let claims = update.claims.ok_or_else(|| Problem::bad_request("claims", "is required"))?;
    let user = Provisioning::new(ops.as_actor(actor)).set_claims(sub, claims).await?;
    Ok(json(StatusCode::OK, &UserView::from(user)))
}

/// Set a user's password (hashed with argon2id; never logged or audited). With
/// `gatehouse:provision`: not an administrator's.
#[utoipa::path(put, path = "/admin/v1/users/{sub}/password", tag = "users", request_body = NewPassword,
    params(("sub" = String, Path)), responses((status = 204)))]
pub async fn set_password(
    caller: UserWriter,
    State(ops): State<Arc<Administration>>,
    Segments(sub): Segments<String>,
    Body(body): Body<NewPassword>,
) -> Result<Response, Problem> {
    let admin = ops.as_actor(caller.actor.clone());
    match caller.authority {
        Authority::Admin => admin.set_password(&sub, body.password).await?,
        Authority::Provision => Provisioning::new(admin).set_password(&sub, body.password).await?,
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A user's live SSO sessions, newest first.
#[utoipa::path(get, path = "/admin/v1/users/{sub}/sessions", tag = "sessions",
    params(("sub" = String, Path)), responses((status = 200, body = SessionList)))]
pub async fn list_sessions(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    ops.as_actor(caller.actor.clone()).get_user(&sub).await?;
    let items = ops
        .store()
        .list_user_sessions(&sub, ops.now())
        .await?
        .into_iter()
        .map(|(s, created_at)| SessionView {
            sid: s.sid,
            auth_time: s.auth_time,
            created_at,
            expires_at: s.expires_at,
            amr: s.amr,
        })
        .collect();
    Ok(json(StatusCode::OK, &SessionList { items }))
}

/// End all of a user's sessions.
#[utoipa::path(delete, path = "/admin/v1/users/{sub}/sessions", tag = "sessions",
    params(("sub" = String, Path)), responses((status = 200, body = SessionsEnded)))]
pub async fn revoke_sessions(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments(sub): Segments<String>,
) -> Result<Response, Problem> {
    let ended = ops.as_actor(caller.actor.clone()).end_sessions(&sub, None).await?;
    ops.sessions_ended(&sub, ended.clone()).await;
    Ok(json(StatusCode::OK, &SessionsEnded { ended }))
}

/// End one of a user's sessions.
#[utoipa::path(delete, path = "/admin/v1/users/{sub}/sessions/{sid}", tag = "sessions",
    params(("sub" = String, Path), ("sid" = String, Path)), responses((status = 204)))]
pub async fn revoke_session(
    caller: Caller,
    State(ops): State<Arc<Administration>>,
    Segments((sub, sid)): Segments<(String, String)>,
) -> Result<Response, Problem> {
    let ended = ops.as_actor(caller.actor.clone()).end_sessions(&sub, Some(&sid)).await?;
    ops.sessions_ended(&sub, ended).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
