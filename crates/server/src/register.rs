//! Dynamic client registration (RFC 7591) at `/register` and management (RFC 7592) at
//! `/register/{client_id}`, off unless `[registration] enabled = true` (the routes exist only then).
//!
//! Open, or gated by an initial access token (RFC 7591 §3). A registered client is validated
//! like every other client (exact redirect URIs) and capped by policy: only the allowed scopes
//! and grants, never `gatehouse:admin` or `password`, and none of the operator-only settings
//! (first-party, lifetimes, introspection rights) since metadata Gatehouse does not offer to
//! registrants is ignored (RFC 7591 §2).

use crate::admin::ops::{Admin, AdminError, Written};
use crate::config::RegistrationPolicy;
use crate::core::Core;
use crate::issuer::hash_token;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::authorize::SUPPORTED_RESPONSE_TYPES;
use gatehouse_protocol::client::{ClientSpec, FieldError, TokenEndpointAuthMethod};
use gatehouse_protocol::{Client, ClientId};
use serde_json::{Value, json};
use std::sync::Arc;

/// The RFC 7591 §2 metadata a registrant may set; anything else is ignored.
#[derive(Debug, Default, serde::Deserialize)]
struct Metadata {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut r = (status, axum::Json(json!({ "error": code, "error_description": description }))).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED
        && let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{code}\", error_description=\"{description}\""))
    {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn invalid_token() -> Response {
    error(StatusCode::UNAUTHORIZED, "invalid_token", "the access token is missing or not valid for this client")
}

/// RFC 7591 §3.2.2: redirect URI problems are `invalid_redirect_uri`, others `invalid_client_metadata`.
fn refused(e: AdminError) -> Response {
    match e {
        AdminError::Invalid(fields) => {
            let code = if fields.iter().any(|f| f.key.contains("redirect_uri")) {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            };
            let desc = fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            error(StatusCode::BAD_REQUEST, code, &desc)
        }
        AdminError::Conflict(m) => error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &m),
        AdminError::NotFound(_) => invalid_token(),
        e => {
            tracing::error!(error = %e, "registration failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the server failed")
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    crate::web::bearer_token(headers).filter(|t| !t.is_empty())
}

/// The metadata, or what is wrong with it (an `invalid_client_metadata` description).
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Metadata, String> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json_type {
        return Err("send the metadata as application/json".to_owned());
    }
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        msg.split(" at line ").next().unwrap_or(&msg).to_owned()
    })
}

/// The metadata as a client spec, capped by the policy.
fn spec(policy: &RegistrationPolicy, client_id: String, m: Metadata) -> Result<ClientSpec, AdminError> {
    let field = |k, msg: String| AdminError::Invalid(vec![FieldError::new(k, msg)]);
    let scope = m.scope.unwrap_or_else(|| policy.allowed_scopes.to_string());
    if let Some(s) = scope.split(' ').filter(|s| !s.is_empty()).find(|s| !policy.allowed_scopes.contains(s)) {
        return Err(field("scope", format!("{s:?} may not be registered; allowed: {}", policy.allowed_scopes)));
    }
    // RFC 7591 §2: grant_types defaults to authorization_code.
    let grant_types = m.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    Ok(ClientSpec {
        client_id,
        client_name: m.client_name,
        scope: Some(scope),
        grant_types: Some(grant_types),
        response_types: m.response_types,
        redirect_uris: m.redirect_uris,
        post_logout_redirect_uris: m.post_logout_redirect_uris,
        token_endpoint_auth_method: m.token_endpoint_auth_method,
        id_token_signed_response_alg: m.id_token_signed_response_alg,
        backchannel_logout_uri: m.backchannel_logout_uri,
        backchannel_logout_session_required: m.backchannel_logout_session_required,
        ..Default::default()
    })
}

/// The grants a registered client ends up with (from grant_types and response_types) must all
/// be allowed.
fn within_policy(policy: &RegistrationPolicy) -> impl Fn(&Client) -> Result<(), Vec<FieldError>> + Sync + '_ {
    move |c| match c.grants.iter().find(|g| !policy.allowed_grants.contains(*g)) {
        Some(g) => Err(vec![FieldError::new(
            "grant_types",
            format!(
                "{g} may not be registered; allowed: {}",
                policy.allowed_grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )]),
        None => Ok(()),
    }
}

/// RFC 7591 §3.2.1 / RFC 7592 §3: the client's metadata as registered.
fn metadata(core: &Core, c: &Client, extra: Value) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        // RFC 7591 names: grant_types and response_types instead of Gatehouse's grants.
        o.remove("grants");
        let grant_types: std::collections::BTreeSet<&str> =
            c.grants.iter().flat_map(|g| g.registration_grant_types().iter().copied()).collect();
        o.insert("grant_types".into(), json!(grant_types));
        let response_types: Vec<String> = SUPPORTED_RESPONSE_TYPES
            .iter()
            .filter(|rt| c.grants.contains(rt.required_grant()))
            .map(ToString::to_string)
            .collect();
        o.insert("response_types".into(), json!(response_types));
        o.insert("registration_client_uri".into(), json!(format!("{}/register/{}", core.tokens.issuer, c.id)));
        if let Value::Object(e) = extra {
            o.extend(e);
        }
    }
    v
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn registrar(core: &Core) -> Admin<'_> {
    Admin { store: core.store.as_ref(), actor: "registration".to_owned(), now: core.now() }
}

/// POST `/register` (RFC 7591 §3.1).
pub async fn register(
    State(core): State<Arc<Core>>,
    State(policy): State<Arc<RegistrationPolicy>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(expected) = &policy.initial_access_token {
        let ok = bearer(&headers).is_some_and(|t| bool::from(crate::authorize::subtle_eq(t, expected.expose())));
        if !ok {
            return invalid_token();
        }
    }
    let m = match parse_body(&headers, &body) {
        Ok(m) => m,
        Err(d) => return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &d),
    };
    let client_id = core.tokens.random(16);
    let spec = match spec(&policy, client_id, m) {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    let Written { client, generated_secret } =
        match registrar(&core).create_client_within(&spec, &within_policy(&policy)).await {
            Ok(w) => w,
            Err(e) => return refused(e),
        };
    let rat = core.tokens.random(32);
    if let Err(e) = core.store.set_registration_token(&client.id, Some(&hash_token(&rat))).await {
        return refused(e.into());
    }
    let mut extra = json!({
        "client_id_issued_at": core.now(),
        "registration_access_token": rat,
    });
    if let (Some(s), Some(o)) = (&generated_secret, extra.as_object_mut()) {
        o.insert("client_secret".into(), json!(s.expose()));
        // RFC 7591 §3.2.1: 0 means the secret does not expire.
        o.insert("client_secret_expires_at".into(), json!(0));
    }
    respond(StatusCode::CREATED, &metadata(&core, &client, extra))
}

/// The client whose registration access token came with the request (RFC 7592 §2).
async fn registered_client(core: &Core, headers: &HeaderMap, id: &str) -> Result<Client, Response> {
    let token = bearer(headers).ok_or_else(invalid_token)?;
    let id = ClientId::parse(id).map_err(|_| invalid_token())?;
    let stored = core.store.registration_token(&id).await.map_err(|e| refused(e.into()))?;
    match stored {
        Some(h) if bool::from(crate::authorize::subtle_eq(&h, &hash_token(token))) => {}
        _ => return Err(invalid_token()),
    }
    core.store.get_client(&id).await.map_err(|e| refused(e.into()))?.ok_or_else(invalid_token)
}

/// GET `/register/{client_id}` (RFC 7592 §2.1).
pub async fn read(State(core): State<Arc<Core>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    match registered_client(&core, &headers, &id).await {
        Ok(c) => respond(StatusCode::OK, &metadata(&core, &c, json!({}))),
        Err(r) => r,
    }
}

/// PUT `/register/{client_id}` (RFC 7592 §2.2): replaces the metadata; the secret stays.
pub async fn update(
    State(core): State<Arc<Core>>,
    State(policy): State<Arc<RegistrationPolicy>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = match registered_client(&core, &headers, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = match parse_body(&headers, &body) {
        Ok(m) => m,
        Err(d) => return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &d),
    };
    // §2.2: the client_id in the body must be the client's.
    if m.client_id.as_deref() != Some(client.id.as_str()) {
        return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "client_id must be the registered client's");
    }
    let was_public = client.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
    let spec = match spec(&policy, client.id.to_string(), m) {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    match registrar(&core).update_client_within(client.id.as_str(), &spec, &within_policy(&policy)).await {
        Ok(Written { client, generated_secret }) => {
            let mut extra = json!({});
            if let (Some(s), Some(o), true) = (&generated_secret, extra.as_object_mut(), was_public) {
                o.insert("client_secret".into(), json!(s.expose()));
                o.insert("client_secret_expires_at".into(), json!(0));
            }
            respond(StatusCode::OK, &metadata(&core, &client, extra))
        }
        Err(e) => refused(e),
    }
}

/// DELETE `/register/{client_id}` (RFC 7592 §2.3).
pub async fn delete(State(core): State<Arc<Core>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let client = match registered_client(&core, &headers, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match registrar(&core).delete_client(client.id.as_str()).await {
        Ok(()) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => refused(e),
    }
}
