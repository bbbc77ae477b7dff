//! What every admin endpoint shares: RFC 9457 problem responses, extractors whose rejections
//! are problems too, and the caller check (a bearer access token of Gatehouse's own, granted
//! `gatehouse:admin` — or, for creating users and setting their password and claims,
//! `gatehouse:provision` — whose client may still hold that scope).

use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::admin::AdminError;
use gatehouse_core::lifecycle::TokenLifecycle;
use gatehouse_protocol::ClientId;
use gatehouse_protocol::claims::{ADMIN_SCOPE, PROVISION_SCOPE};
use gatehouse_store::{Page, Store};
use serde::de::DeserializeOwned;

/// RFC 9457 problem details. `errors` names each offending field of the request body.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    #[serde(skip)]
    challenge: Option<Box<str>>,
}

/// One invalid field.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// The field's name, as in the config file.
    pub field: String,
    /// A JSON pointer (RFC 6901) into the request body.
    pub pointer: String,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: Some(detail.into()),
            errors: Vec::new(),
            challenge: None,
        }
    }

    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut p = Self::new(StatusCode::BAD_REQUEST, VALIDATION, format!("{field}: {detail}"));
        p.errors.push(ProblemField { field: field.to_owned(), pointer: format!("/{field}"), detail });
        p
    }

    /// RFC 6750 §3: 401 `invalid_token` (or no error code when no token came), 403
    /// `insufficient_scope`, each with its `WWW-Authenticate` challenge.
    fn unauthorized(status: StatusCode, error: Option<&str>, detail: &str) -> Self {
        let mut p = Self::new(status, "about:blank", detail);
        p.challenge = Some(
            match error {
                Some(e) => format!("Bearer realm=\"gatehouse-admin\", error=\"{e}\", scope=\"{ADMIN_SCOPE}\""),
                None => format!("Bearer realm=\"gatehouse-admin\", scope=\"{ADMIN_SCOPE}\""),
            }
            .into(),
        );
        p
    }

    /// 403 `insufficient_scope`: the token is good but does not reach this far.
    pub fn insufficient_scope(detail: &str) -> Self {
        Self::unauthorized(StatusCode::FORBIDDEN, Some("insufficient_scope"), detail)
    }
}

pub const VALIDATION: &str = "urn:gatehouse:problem:validation";
const CONFLICT: &str = "urn:gatehouse:problem:conflict";

impl From<AdminError> for Problem {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(fields) => {
                let detail = fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                let mut p = Self::new(StatusCode::BAD_REQUEST, VALIDATION, detail);
                p.errors = fields
                    .into_iter()
                    .map(|f| ProblemField {
                        field: f.key.to_owned(),
                        pointer: format!("/{}", f.key),
                        detail: f.message,
                    })
                    .collect();
                p
            }
            AdminError::NotFound(what) => Self::new(StatusCode::NOT_FOUND, "about:blank", format!("no such {what}")),
            AdminError::Conflict(m) => Self::new(StatusCode::CONFLICT, CONFLICT, m),
            AdminError::Forbidden(m) => Self::insufficient_scope(&m),
            AdminError::Store(e @ gatehouse_store::StoreError::Unavailable(_)) => unavailable(&e),
            AdminError::Store(e) => internal(&e),
            AdminError::Internal(m) => internal(&m),
        }
    }
}

/// 503 with `Retry-After` (added by [`Problem::into_response`]): the database is briefly away.
fn unavailable(detail: &dyn std::fmt::Display) -> Problem {
    tracing::warn!(error = %detail, "admin API: database briefly unavailable");
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "about:blank", "the database is briefly unavailable; try again")
}

fn internal(detail: &dyn std::fmt::Display) -> Problem {
    // The detail goes to the log (with the request id), never out.
    tracing::error!(error = %detail, "admin API server error");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "the server failed; see its log")
}

impl From<gatehouse_store::StoreError> for Problem {
    fn from(e: gatehouse_store::StoreError) -> Self {
        AdminError::Store(e).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(v) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

/// A JSON response with `Cache-Control: no-store` (admin answers hold configuration).
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON request body; a wrong content type or bad JSON is a problem, not axum's plain text.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v == "application/merge-patch+json");
        if !json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "about:blank",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Problem::new(e.status(), "about:blank", e.body_text()))?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(Self(v)),
            Err(e) => Err(gatehouse_core::admin::serde_field_error(&e).into()),
        }
    }
}

/// Query parameters; bad ones are a problem naming the parameter.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| Problem::bad_request("query", e.body_text()))
    }
}

/// Path parameters; undecodable ones are a problem.
pub struct Segments<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Segments<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, VALIDATION, e.body_text()))
    }
}

/// An authenticated admin caller: a client's own token (`client_credentials`; the audit log
/// records `client:<client_id>`) or an administrator's, obtained through a client that holds
/// `gatehouse:admin` (the console; `user:<sub>`). A user who is not an administrator gets
/// nothing from a token that carries the scope.
pub struct Caller {
    pub actor: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match UserWriter::from_request_parts(parts, state).await? {
            UserWriter { actor, authority: Authority::Admin } => Ok(Self { actor }),
            UserWriter { authority: Authority::Provision, .. } => Err(not_admin()),
        }
    }
}

/// A caller of the endpoints that create users and set their password or claims: an admin
/// caller, or a client's own token granted `gatehouse:provision` (which the endpoints narrow).
pub struct UserWriter {
    pub actor: String,
    pub authority: Authority,
}

/// How far a caller's token reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// `gatehouse:admin`: everything.
    Admin,
    /// `gatehouse:provision`: create users, set their password and claims.
    Provision,
}

impl FromRequestParts<AppState> for UserWriter {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = crate::web::bearer_token(&parts.headers).filter(|t| !t.is_empty()).ok_or_else(|| {
            Problem::unauthorized(StatusCode::UNAUTHORIZED, None, "send an access token: Authorization: Bearer ...")
        })?;
        let s = &state.services;
        let (actor, authority) = authority(&s.lifecycle, s.store.as_ref(), token).await?;
        Ok(Self { actor, authority })
    }
}

fn not_admin() -> Problem {
    Problem::insufficient_scope("the access token was not granted gatehouse:admin")
}

/// Who `token` lets administer Gatehouse (`client:<id>` or `user:<sub>`). 401 for a token
/// that is not valid, 403 for one that does not carry administration.
pub async fn admin_actor(tokens: &TokenLifecycle, store: &dyn Store, token: &str) -> Result<String, Problem> {
    match authority(tokens, store, token).await? {
        (actor, Authority::Admin) => Ok(actor),
        (_, Authority::Provision) => Err(not_admin()),
    }
}

/// Who `token` lets act (`client:<id>` or `user:<sub>`) and how far, checked afresh on every
/// call: revoking the token, deleting the client, taking the scope from it or taking
/// administration from the user takes effect at once. `gatehouse:provision` counts only on a
/// client's own token, never on one a user signed in for.
async fn authority(tokens: &TokenLifecycle, store: &dyn Store, token: &str) -> Result<(String, Authority), Problem> {
    let invalid =
        || Problem::unauthorized(StatusCode::UNAUTHORIZED, Some("invalid_token"), "the access token is not valid");
    let view = tokens
        .own_access_token(token)
        .await
        .map_err(|e| match e {
            gatehouse_protocol::error::OAuthError::TemporarilyUnavailable(_) => unavailable(&e),
            e => internal(&e),
        })?
        .ok_or_else(invalid)?;
    // DPoP-bound tokens need a proof, which the admin API does not take: refused, never
    // accepted as bearer tokens.
    if view.jkt.is_some() {
        return Err(invalid());
    }
    let id = ClientId::parse(&view.client_id).map_err(|_| invalid())?;
    let client = store.get_client(&id).await?.ok_or_else(invalid)?;
    let holds = |scope| view.scope.contains(scope) && client.scopes.contains(scope);
    let own = view.sub == view.client_id;
    if holds(ADMIN_SCOPE) {
        if own {
            return Ok((format!("client:{}", view.client_id), Authority::Admin));
        }
        return match store.get_user_by_sub(&view.sub).await? {
            Some(u) if u.admin && !u.disabled => Ok((format!("user:{}", u.sub), Authority::Admin)),
            Some(u) if !u.disabled => Err(Problem::insufficient_scope("the signed-in user is not an administrator")),
            _ => Err(invalid()),
        };
    }
    if holds(PROVISION_SCOPE) && own {
        return Ok((format!("client:{}", view.client_id), Authority::Provision));
    }
    Err(not_admin())
}

/// Entries per page when the caller does not say, and the most it may ask for.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// Paging and search for lists.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Keep entries containing this text (case-insensitive).
    pub q: Option<String>,
}

impl ListParams {
    pub fn page(&self) -> Result<Page, Problem> {
        Ok(Page {
            search: self.q.clone().filter(|q| !q.is_empty()),
            after: self.cursor.clone(),
            limit: limit(self.limit)?,
        })
    }
}

pub fn limit(l: Option<i64>) -> Result<i64, Problem> {
    match l {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(Problem::bad_request("limit", format!("must be from 1 to {MAX_LIMIT}"))),
    }
}

/// The cursor for the page after `items`: the last key, when the page was full.
pub fn next_cursor<T>(page: &Page, items: &[T], key: impl Fn(&T) -> String) -> Option<String> {
    (items.len() as i64 >= page.limit).then(|| items.last().map(key)).flatten()
}
