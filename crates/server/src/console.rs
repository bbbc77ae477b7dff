//! The admin console at `/admin`: server-rendered pages over the operations the admin API and
//! the CLI use (`gatehouse_core::admin`), so every change is validated and audited the same way.
//! No JavaScript: forms post back here, guarded by the CSRF double-submit cookie.
//!
//! Signing in is Gatehouse's own authorization code flow with PKCE, for the built-in public
//! client `gatehouse-console`. The access token it yields is kept in an HttpOnly cookie scoped
//! to `/admin` and checked on every page exactly as the admin API checks a bearer token
//! ([`admin_actor`]): only a user marked administrator gets in, and taking that away, disabling
//! the user or revoking the token ends their console session at the next click.

use crate::admin::http::{Problem, admin_actor};
use crate::state::{AppState, MAX_BODY};
use crate::web::{Pages, cookie, path_segment, query_param, with_cookies};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::admin::{Admin, AdminError, Administration, CONSOLE_CLIENT_ID, UserUpdate};
use gatehouse_core::grant::Grants;
use gatehouse_core::issuer::TokenIssuer;
use gatehouse_core::lifecycle::TokenLifecycle;
use gatehouse_core::sign_in::SignIn;
use gatehouse_protocol::claims::ScopeSpec;
use gatehouse_protocol::client::ClientSpec;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::UserSpec;
use gatehouse_store::Store;
use gatehouse_store::{AuditQuery, Page};
use minijinja::{Value, context};
use serde_json::{Map, Value as Json, json};
use std::sync::Arc;

const SESSION_COOKIE: &str = "gh_console";
const LOGIN_COOKIE: &str = "gh_console_login";
/// Rows per page in every list.
const PAGE: i64 = 25;
/// Seconds a sign-in may take between `/admin/login` and the callback.
const LOGIN_TTL: i64 = 600;

/// What the console uses: the operations, the token checks, the code redemption of its own
/// sign-in, and the pages.
#[derive(Clone)]
pub struct Console {
    admin: Arc<Administration>,
    lifecycle: Arc<TokenLifecycle>,
    grants: Arc<Grants>,
    sign_in: Arc<SignIn>,
    tokens: Arc<TokenIssuer>,
    store: Arc<dyn Store>,
    metrics: Arc<gatehouse_core::metrics::Metrics>,
    pages: Arc<Pages>,
}

impl FromRef<AppState> for Console {
    fn from_ref(s: &AppState) -> Self {
        let g = &s.services;
        Self {
            admin: g.admin.clone(),
            lifecycle: g.lifecycle.clone(),
            grants: g.grants.clone(),
            sign_in: g.sign_in.clone(),
            tokens: g.tokens.clone(),
            store: g.store.clone(),
            metrics: g.metrics.clone(),
            pages: s.pages.clone(),
        }
    }
}

impl Console {
    fn now(&self) -> gatehouse_protocol::clock::UnixTime {
        self.admin.now()
    }

    fn csrf_token(&self, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
        self.pages.csrf_token(headers, &self.sign_in)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/login", get(login))
        .route("/admin/callback", get(callback))
        .route("/admin/logout", post(logout))
        .route("/admin/assets/console.css", get(css))
        .route("/admin/clients", get(clients).post(create_client))
        .route("/admin/clients/new", get(new_client))
        .route("/admin/clients/{id}", get(client).post(update_client))
        .route("/admin/clients/{id}/rotate-secret", post(rotate_secret))
        .route("/admin/clients/{id}/delete", post(delete_client))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/new", get(new_user))
        .route("/admin/users/{sub}", get(user).post(update_user))
        .route("/admin/users/{sub}/password", post(set_password))
        .route("/admin/users/{sub}/sessions", post(end_sessions))
        .route("/admin/users/{sub}/factors/reset", post(reset_factors))
        .route("/admin/users/{sub}/links/remove", post(remove_link))
        .route("/admin/users/{sub}/delete", post(delete_user))
        .route("/admin/scopes", get(scopes).post(create_scope))
        .route("/admin/scopes/{name}/delete", post(delete_scope))
        .route("/admin/keys", get(keys).post(rotate_keys))
        .route("/admin/audit", get(audit))
}

// ---- who is signed in ----

/// A signed-in administrator, with what every console page needs.
struct Operator {
    actor: String,
    name: String,
    csrf: String,
    set_cookies: Vec<HeaderValue>,
}

impl Operator {
    fn admin<'a>(&self, core: &'a Console) -> Admin<'a> {
        core.admin.as_actor(self.actor.clone())
    }
}

/// The signed-in administrator, or the response to send instead: to the sign-in when there is
/// no valid console session, a refusal for a user who is not an administrator.
async fn operator(core: &Console, headers: &HeaderMap, uri: &Uri) -> Result<Operator, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Err(to_login(core, uri));
    };
    let actor = match admin_actor(&core.lifecycle, core.store.as_ref(), token).await {
        Ok(actor) => actor,
        Err(p) if p.status == 401 => return Err(to_login(core, uri)),
        Err(p) if p.status == 403 => {
            let (csrf, set) = core.csrf_token(headers);
            let page = core.pages.render(StatusCode::FORBIDDEN, "console/denied.html", context! { csrf });
            return Err(with_cookies(page, set.into_iter().collect()));
        }
        Err(p) => return Err(problem_page(core, &p)),
    };
    let name = match actor.strip_prefix("user:") {
        Some(sub) => {
            core.store.get_user_by_sub(sub).await.ok().flatten().map_or_else(|| sub.to_owned(), |u| u.username)
        }
        None => actor.clone(),
    };
    let (csrf, set) = core.csrf_token(headers);
    Ok(Operator { actor, name, csrf, set_cookies: set.into_iter().collect() })
}

/// A console form posted by a signed-in administrator, its CSRF field checked.
async fn posted(core: &Console, headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Result<(Operator, Form), Response> {
    let op = operator(core, headers, uri).await?;
    let form = Form::parse(body);
    if !core.pages.csrf_matches(headers, &core.sign_in, Some(form.get("csrf"))) {
        let message = "This form expired. Go back, reload the page and try again.";
        return Err(render(core, &op, StatusCode::FORBIDDEN, "console/message.html", context! { error => message }));
    }
    Ok((op, form))
}

/// A signed-in administrator; otherwise the response [`operator`] chose.
struct SignedIn(Operator);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        operator(&Console::from_ref(state), &parts.headers, &parts.uri).await.map(Self)
    }
}

/// A console form, posted by a signed-in administrator with the page's CSRF token.
struct Posted(Operator, Form);

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let body =
            axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let (op, form) = posted(&Console::from_ref(state), &parts.headers, &parts.uri, &body).await?;
        Ok(Self(op, form))
    }
}

fn to_login(core: &Console, uri: &Uri) -> Response {
    let back = uri.path_and_query().map_or("/admin", |p| p.as_str());
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("return", back).finish();
    see_other(core, &format!("/admin/login?{query}"))
}

/// 303 to a path of this server.
fn see_other(core: &Console, path: &str) -> Response {
    core.pages.see_other(path)
}

/// A cookie only the console's paths see.
fn console_cookie(core: &Console, name: &str, value: &str, max_age: i64) -> HeaderValue {
    core.pages.scoped_cookie("/admin", name, value, max_age)
}

fn render(core: &Console, op: &Operator, status: StatusCode, name: &str, ctx: Value) -> Response {
    let ctx = context! { me => op.name, csrf => op.csrf, ..ctx };
    with_cookies(core.pages.render(status, name, ctx), op.set_cookies.clone())
}

fn problem_page(core: &Console, p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = core.pages.error(status, p.detail.as_deref().unwrap_or("The request failed."), None);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// An operation that failed: the reason, every invalid field, and the way back.
fn failed(core: &Console, op: &Operator, e: AdminError, back: &str) -> Response {
    let p = Problem::from(e);
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let fields: Vec<(String, String)> = p.errors.iter().map(|f| (f.field.clone(), f.detail.clone())).collect();
    let error = if fields.is_empty() { p.detail.clone() } else { None };
    render(core, op, status, "console/message.html", context! { error, fields, back })
}

// ---- forms ----

/// An `application/x-www-form-urlencoded` body, where a key may repeat (checkboxes).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    /// A text field, `None` when blank.
    fn text(&self, key: &str) -> Option<String> {
        Some(self.get(key).trim()).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    fn checked(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }

    /// One entry per line of a text area.
    fn lines(&self, key: &str) -> Vec<String> {
        self.get(key).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
    }
}

fn list_page(query: Option<&str>) -> Page {
    Page { search: query_param(query, "q"), after: query_param(query, "cursor"), limit: PAGE }
}

/// The cursor of the page after `items`, when this one was full.
fn next_cursor<T>(items: &[T], key: impl Fn(&T) -> String) -> Option<String> {
    (items.len() as i64 >= PAGE).then(|| items.last().map(key)).flatten()
}

// ---- sign-in ----

/// GET `/admin/login`: starts the authorization code flow (PKCE S256, a fresh `state`) for the
/// console's client; the verifier and where to go afterwards wait in a short-lived cookie.
async fn login(State(core): State<Console>, RawQuery(query): RawQuery) -> Response {
    let back = query_param(query.as_deref(), "return")
        .filter(|r| r.starts_with("/admin") && !r.starts_with("/admin/login") && !r.contains('\\'))
        .unwrap_or_else(|| "/admin".to_owned());
    let state = core.tokens.random(16);
    let verifier = core.tokens.random(32);
    let base = core.tokens.issuer.trim_end_matches('/');
    let authorize = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", CONSOLE_CLIENT_ID)
        .append_pair("redirect_uri", &format!("{base}/admin/callback"))
        .append_pair("scope", "openid gatehouse:admin")
        .append_pair("state", &state)
        .append_pair("code_challenge", &gatehouse_protocol::pkce::s256_challenge(&verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    let pending = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &state)
        .append_pair("verifier", &verifier)
        .append_pair("return", &back)
        .finish();
    // The cookie value must not hold ';' or ',': the form encoding has neither.
    let r = see_other(&core, &format!("/authorize?{authorize}"));
    with_cookies(r, vec![console_cookie(&core, LOGIN_COOKIE, &pending, LOGIN_TTL)])
}

/// GET `/admin/callback`: checks `state`, redeems the code in-process (the same redemption as
/// `/token`, PKCE included) and keeps the access token as the console session.
async fn callback(State(core): State<Console>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.as_deref();
    let pending = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    let pending = |k| query_param(Some(pending), k);
    let clear = console_cookie(&core, LOGIN_COOKIE, "", 0);
    let (Some(state), Some(verifier)) = (pending("state"), pending("verifier")) else {
        return with_cookies(see_other(&core, "/admin"), vec![clear]);
    };
    let same_state = query_param(query, "state").is_some_and(|s| gatehouse_core::secrets::constant_time_eq(&s, &state));
    if !same_state {
        let page = core.pages.error(StatusCode::BAD_REQUEST, "This sign-in is not the one the console started.", None);
        return with_cookies(page, vec![clear]);
    }
    if let Some(error) = query_param(query, "error") {
        let detail = query_param(query, "error_description").unwrap_or_else(|| "The sign-in did not finish.".into());
        return with_cookies(core.pages.error(StatusCode::FORBIDDEN, &detail, Some(&error)), vec![clear]);
    }
    let Some(code) = query_param(query, "code") else {
        return with_cookies(core.pages.error(StatusCode::BAD_REQUEST, "No code came back.", None), vec![clear]);
    };
    let admin = core.admin.as_actor(String::new());
    let client = match admin.get_client(CONSOLE_CLIENT_ID).await {
        Ok(c) => c,
        Err(AdminError::NotFound(_)) => {
            let message = "The console's client is missing; restart Gatehouse to restore it.";
            return core.pages.error(StatusCode::INTERNAL_SERVER_ERROR, message, None);
        }
        Err(e) => return problem_page(&core, &Problem::from(e)),
    };
    let redirect_uri = format!("{}/admin/callback", core.tokens.issuer.trim_end_matches('/'));
    let tokens = match core.grants.redeem_code(&client, &code, &redirect_uri, &verifier).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "console sign-in: the code did not redeem");
            let page = core.pages.error(StatusCode::BAD_REQUEST, "The sign-in could not be completed.", Some(e.code()));
            return with_cookies(page, vec![clear]);
        }
    };
    let back = pending("return").unwrap_or_else(|| "/admin".to_owned());
    let session = console_cookie(&core, SESSION_COOKIE, &tokens.access_token, tokens.expires_in);
    with_cookies(see_other(&core, &back), vec![clear, session])
}

/// POST `/admin/logout`: revokes the console's access token and ends the sign-in at Gatehouse
/// (the end-session page asks the browser to confirm). Open to a user who turned out not to be
/// an administrator, so it checks only the CSRF field.
async fn logout(State(core): State<Console>, headers: HeaderMap, body: Bytes) -> Response {
    if !core.pages.csrf_matches(&headers, &core.sign_in, Some(Form::parse(&body).get("csrf"))) {
        return core.pages.error(StatusCode::FORBIDDEN, "This form expired. Reload the page and try again.", None);
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = core.lifecycle.revoke_access_token(token).await
    {
        tracing::warn!(error = %e, "console sign-out: could not revoke the access token");
    }
    let r = see_other(&core, &format!("/end_session?client_id={CONSOLE_CLIENT_ID}"));
    with_cookies(r, vec![console_cookie(&core, SESSION_COOKIE, "", 0)])
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../templates/console/console.css"),
    )
        .into_response()
}

// ---- pages ----

async fn home(State(core): State<Console>, SignedIn(op): SignedIn) -> Response {
    let q = AuditQuery { before: None, actor: None, action: None, target: None, limit: 10 };
    let now = core.now();
    let read = async {
        let totals = core.store.totals(now).await?;
        let day = gatehouse_core::activity::last_day(&core.metrics.activity, core.store.as_ref(), now).await?;
        Ok::<_, gatehouse_store::StoreError>((totals, day, core.store.list_audit(&q).await?))
    };
    match read.await {
        Ok((totals, [sign_ins, sign_in_failures, tokens], entries)) => {
            let stats = context! {
                clients => totals.clients, users => totals.users, sessions => totals.active_sessions,
                sign_ins, sign_in_failures, tokens,
            };
            let ctx = context! { section => "home", entries => audit_rows(entries), stats };
            render(&core, &op, StatusCode::OK, "console/home.html", ctx)
        }
        Err(e) => failed(&core, &op, e.into(), "/admin"),
    }
}

// clients

async fn clients(State(core): State<Console>, SignedIn(op): SignedIn, RawQuery(query): RawQuery) -> Response {
    let page = list_page(query.as_deref());
    match core.store.list_clients_page(&page).await {
        Ok(list) => {
            let next = next_cursor(&list, |c| c.id.to_string());
            let rows: Vec<_> = list
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id.as_str(),
                        "name": c.name,
                        "kind": if c.is_public() { "public" } else { "confidential" },
                        "grants": c.grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
                    })
                })
                .collect();
            let ctx = context! { section => "clients", rows, next, q => page.search, done => query_param(query.as_deref(), "done") };
            render(&core, &op, StatusCode::OK, "console/clients.html", ctx)
        }
        Err(e) => failed(&core, &op, e.into(), "/admin"),
    }
}

/// The grant types a client may be given in the form, in the order shown.
const GRANTS: [&str; 6] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
    "implicit",
    "password",
];

/// The client form's fields, for a new client (`None`) or an existing one.
fn client_form(spec: Option<&ClientSpec>) -> Value {
    let grants: Vec<String> = spec.and_then(|s| s.grants.clone()).unwrap_or_else(|| vec!["authorization_code".into()]);
    context! {
        grant_choices => GRANTS.iter().map(|g| json!({ "name": g, "checked": grants.iter().any(|x| x == g) })).collect::<Vec<_>>(),
        spec => spec.map(|s| json!({
            "client_id": s.client_id,
            "client_name": s.client_name,
            "scope": s.scope,
            "redirect_uris": s.redirect_uris.join("\n"),
            "post_logout_redirect_uris": s.post_logout_redirect_uris.join("\n"),
            "token_endpoint_auth_method": s.token_endpoint_auth_method,
            "first_party": s.first_party,
            "require_pkce": s.require_pkce,
        })),
        methods => ["client_secret_basic", "client_secret_post", "none"],
    }
}

/// The fields the console edits, as the config file names them.
fn client_fields(form: &Form) -> Map<String, serde_json::Value> {
    let mut m = Map::new();
    m.insert("client_name".into(), json!(form.text("client_name")));
    m.insert("scope".into(), json!(form.text("scope")));
    m.insert("grants".into(), json!(form.all("grants")));
    m.insert("redirect_uris".into(), json!(form.lines("redirect_uris")));
    m.insert("post_logout_redirect_uris".into(), json!(form.lines("post_logout_redirect_uris")));
    m.insert("token_endpoint_auth_method".into(), json!(form.text("token_endpoint_auth_method")));
    m.insert("first_party".into(), json!(form.checked("first_party")));
    m.insert("require_pkce".into(), json!(form.checked("require_pkce")));
    m
}

async fn new_client(State(core): State<Console>, SignedIn(op): SignedIn) -> Response {
    render(&core, &op, StatusCode::OK, "console/client.html", context! { section => "clients", ..client_form(None) })
}

/// The one time a generated secret is shown.
fn secret_page(core: &Console, op: &Operator, client_id: &str, secret: &Secret, created: bool) -> Response {
    let ctx = context! { section => "clients", client_id, secret => secret.expose(), created };
    render(core, op, StatusCode::OK, "console/secret.html", ctx)
}

async fn create_client(State(core): State<Console>, Posted(op, form): Posted) -> Response {
    let mut fields = client_fields(&form);
    fields.insert("client_id".into(), json!(form.get("client_id").trim()));
    let spec: ClientSpec = match serde_json::from_value(serde_json::Value::Object(fields)) {
        Ok(s) => s,
        Err(e) => return failed(&core, &op, gatehouse_core::admin::serde_field_error(&e), "/admin/clients/new"),
    };
    match op.admin(&core).create_client(&spec).await {
        Ok(w) => match w.generated_secret {
            Some(secret) => secret_page(&core, &op, w.client.id.as_str(), &secret, true),
            None => see_other(&core, &format!("/admin/clients/{}?done=created", path_segment(w.client.id.as_str()))),
        },
        Err(e) => failed(&core, &op, e, "/admin/clients/new"),
    }
}

async fn client(
    State(core): State<Console>,
    SignedIn(op): SignedIn,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match op.admin(&core).get_client(&id).await {
        Ok(c) => {
            let spec = c.to_spec();
            let ctx = context! {
                section => "clients", id, confidential => !c.is_public(), console => id == CONSOLE_CLIENT_ID,
                done => query_param(query.as_deref(), "done"), ..client_form(Some(&spec))
            };
            render(&core, &op, StatusCode::OK, "console/client.html", ctx)
        }
        Err(e) => failed(&core, &op, e, "/admin/clients"),
    }
}

async fn update_client(State(core): State<Console>, Path(id): Path<String>, Posted(op, form): Posted) -> Response {
    let back = format!("/admin/clients/{}", path_segment(&id));
    match op.admin(&core).patch_client(&id, &serde_json::Value::Object(client_fields(&form))).await {
        Ok(w) => match w.generated_secret {
            Some(secret) => secret_page(&core, &op, &id, &secret, false),
            None => see_other(&core, &format!("{back}?done=saved")),
        },
        Err(e) => failed(&core, &op, e, &back),
    }
}

async fn rotate_secret(State(core): State<Console>, Path(id): Path<String>, Posted(op, _): Posted) -> Response {
    match op.admin(&core).rotate_client_secret(&id).await {
        Ok((c, secret)) => secret_page(&core, &op, c.id.as_str(), &secret, false),
        Err(e) => failed(&core, &op, e, &format!("/admin/clients/{}", path_segment(&id))),
    }
}

async fn delete_client(State(core): State<Console>, Path(id): Path<String>, Posted(op, _): Posted) -> Response {
    match op.admin(&core).delete_client(&id).await {
        Ok(()) => see_other(&core, "/admin/clients?done=deleted"),
        Err(e) => failed(&core, &op, e, &format!("/admin/clients/{}", path_segment(&id))),
    }
}

// users

async fn users(State(core): State<Console>, SignedIn(op): SignedIn, RawQuery(query): RawQuery) -> Response {
    let page = list_page(query.as_deref());
    match core.store.list_users_page(&page, None).await {
        Ok(list) => {
            let next = next_cursor(&list, |u| u.username.clone());
            let rows: Vec<_> = list
                .iter()
                .map(|u| {
                    json!({
                        "sub": u.sub, "username": u.username, "email": u.claims.get("email"),
                        "admin": u.admin, "disabled": u.disabled,
                    })
                })
                .collect();
            let ctx = context! { section => "users", rows, next, q => page.search, done => query_param(query.as_deref(), "done") };
            render(&core, &op, StatusCode::OK, "console/users.html", ctx)
        }
        Err(e) => failed(&core, &op, e.into(), "/admin"),
    }
}

async fn new_user(State(core): State<Console>, SignedIn(op): SignedIn) -> Response {
    render(&core, &op, StatusCode::OK, "console/new_user.html", context! { section => "users" })
}

async fn create_user(State(core): State<Console>, Posted(op, form): Posted) -> Response {
    let mut claims = Map::new();
    for key in ["email", "name"] {
        if let Some(v) = form.text(key) {
            claims.insert(key.into(), json!(v));
        }
    }
    let spec = UserSpec {
        username: form.get("username").trim().to_owned(),
        password: Some(Secret::new(form.get("password").to_owned())),
        claims,
        admin: form.checked("admin"),
        ..Default::default()
    };
    match op.admin(&core).create_user(&spec).await {
        Ok(u) => see_other(&core, &format!("/admin/users/{}?done=created", path_segment(&u.sub))),
        Err(e) => failed(&core, &op, e, "/admin/users/new"),
    }
}

async fn user(
    State(core): State<Console>,
    SignedIn(op): SignedIn,
    Path(sub): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let u = match op.admin(&core).get_user(&sub).await {
        Ok(u) => u,
        Err(e) => return failed(&core, &op, e, "/admin/users"),
    };
    let sessions = match core.store.list_user_sessions(&sub, core.now()).await {
        Ok(s) => s,
        Err(e) => return failed(&core, &op, e.into(), "/admin/users"),
    };
    let sessions: Vec<_> = sessions
        .iter()
        .map(|(s, started)| {
            json!({
                "sid": s.sid, "started": gatehouse_protocol::clock::utc(*started),
                "expires": gatehouse_protocol::clock::utc(s.expires_at), "amr": s.amr.join(" "),
            })
        })
        .collect();
    let enrolled = match gatehouse_core::factors::enrolled(core.store.as_ref(), &sub).await {
        Ok(e) => e,
        Err(e) => return failed(&core, &op, e.into(), "/admin/users"),
    };
    let factors: Vec<_> = enrolled
        .factors
        .iter()
        .map(|f| {
            json!({
                "kind": if f.kind == "totp" { "Authenticator app" } else { "Passkey" }, "name": f.name,
                "added": gatehouse_protocol::clock::utc(f.created_at),
                "used": f.last_used_at.map(gatehouse_protocol::clock::utc),
            })
        })
        .collect();
    let links = match core.store.list_links(&sub).await {
        Ok(l) => l,
        Err(e) => return failed(&core, &op, e.into(), "/admin/users"),
    };
    let links: Vec<_> = links
        .iter()
        .map(|l| {
            json!({
                "provider": l.provider, "subject": l.subject, "email": l.email,
                "linked": gatehouse_protocol::clock::utc(l.created_at),
                "used": l.last_used_at.map(gatehouse_protocol::clock::utc),
            })
        })
        .collect();
    let claims = serde_json::to_string_pretty(&u.claims).unwrap_or_default();
    let ctx = context! {
        section => "users", sub => u.sub, username => u.username, admin => u.admin, disabled => u.disabled,
        factors, recovery_codes_left => enrolled.recovery_codes_left, links,
        has_password => u.password_hash.is_set(),
        claims, sessions, myself => op.actor == format!("user:{sub}"), done => query_param(query.as_deref(), "done"),
    };
    render(&core, &op, StatusCode::OK, "console/user.html", ctx)
}

async fn update_user(State(core): State<Console>, Path(sub): Path<String>, Posted(op, form): Posted) -> Response {
    let back = format!("/admin/users/{}", path_segment(&sub));
    let claims = match serde_json::from_str::<Map<String, serde_json::Value>>(form.get("claims")) {
        Ok(c) => c,
        Err(e) => return failed(&core, &op, AdminError::field("claims", format!("not a JSON object: {e}")), &back),
    };
    let update = UserUpdate {
        username: form.text("username"),
        claims: Some(claims),
        disabled: Some(form.checked("disabled")),
        admin: Some(form.checked("admin")),
    };
    match op.admin(&core).update_user(&sub, &update).await {
        Ok((_, ended)) => {
            core.admin.sessions_ended(&sub, ended).await;
            see_other(&core, &format!("{back}?done=saved"))
        }
        Err(e) => failed(&core, &op, e, &back),
    }
}

async fn set_password(State(core): State<Console>, Path(sub): Path<String>, Posted(op, form): Posted) -> Response {
    let back = format!("/admin/users/{}", path_segment(&sub));
    match op.admin(&core).set_password(&sub, Secret::new(form.get("password").to_owned())).await {
        Ok(()) => see_other(&core, &format!("{back}?done=password")),
        Err(e) => failed(&core, &op, e, &back),
    }
}

async fn end_sessions(State(core): State<Console>, Path(sub): Path<String>, Posted(op, form): Posted) -> Response {
    let back = format!("/admin/users/{}", path_segment(&sub));
    let sid = form.text("sid");
    match op.admin(&core).end_sessions(&sub, sid.as_deref()).await {
        Ok(ended) => {
            core.admin.sessions_ended(&sub, ended).await;
            see_other(&core, &format!("{back}?done=sessions"))
        }
        Err(e) => failed(&core, &op, e, &back),
    }
}

/// Removes all of a user's second factors and recovery codes (a lost phone), audited as the
/// administrator's `factor.reset`.
async fn reset_factors(State(core): State<Console>, Path(sub): Path<String>, Posted(op, _): Posted) -> Response {
    let back = format!("/admin/users/{}", path_segment(&sub));
    if let Err(e) = op.admin(&core).get_user(&sub).await {
        return failed(&core, &op, e, &back);
    }
    match gatehouse_core::factors::reset(core.store.as_ref(), &op.actor, &sub, core.now()).await {
        Ok(_) => see_other(&core, &format!("{back}?done=factors")),
        Err(e) => failed(&core, &op, e.into(), &back),
    }
}

/// Removes one of a user's upstream identities (`provider`, `subject`), audited as the
/// administrator's `upstream.unlink`.
async fn remove_link(State(core): State<Console>, Path(sub): Path<String>, Posted(op, form): Posted) -> Response {
    let back = format!("/admin/users/{}", path_segment(&sub));
    if let Err(e) = op.admin(&core).get_user(&sub).await {
        return failed(&core, &op, e, &back);
    }
    let (provider, subject) = (form.get("provider"), form.get("subject"));
    match gatehouse_core::upstreams::remove_link(core.store.as_ref(), &op.actor, &sub, provider, subject, core.now())
        .await
    {
        Ok(true) => see_other(&core, &format!("{back}?done=unlinked")),
        Ok(false) => failed(&core, &op, AdminError::NotFound("linked identity"), &back),
        Err(e) => failed(&core, &op, e.into(), &back),
    }
}

async fn delete_user(State(core): State<Console>, Path(sub): Path<String>, Posted(op, _): Posted) -> Response {
    match op.admin(&core).delete_user(&sub).await {
        Ok(ended) => {
            core.admin.sessions_ended(&sub, ended).await;
            see_other(&core, "/admin/users?done=deleted")
        }
        Err(e) => failed(&core, &op, e, &format!("/admin/users/{}", path_segment(&sub))),
    }
}

// scopes

async fn scopes(State(core): State<Console>, SignedIn(op): SignedIn, RawQuery(query): RawQuery) -> Response {
    match op.admin(&core).scopes().await {
        Ok(list) => {
            let rows: Vec<_> = list
                .iter()
                .map(|d| {
                    json!({
                        "name": d.name.as_str(), "description": d.description,
                        "claims": d.claims.join(" "),
                        "builtin": d.builtin,
                    })
                })
                .collect();
            let ctx = context! { section => "scopes", rows, done => query_param(query.as_deref(), "done") };
            render(&core, &op, StatusCode::OK, "console/scopes.html", ctx)
        }
        Err(e) => failed(&core, &op, e, "/admin"),
    }
}

async fn create_scope(State(core): State<Console>, Posted(op, form): Posted) -> Response {
    let spec = ScopeSpec {
        name: form.get("name").trim().to_owned(),
        claims: form.get("claims").split_whitespace().map(str::to_owned).collect(),
        description: form.text("description"),
        include_in: None,
    };
    match op.admin(&core).create_scope(&spec).await {
        Ok(_) => see_other(&core, "/admin/scopes?done=created"),
        Err(e) => failed(&core, &op, e, "/admin/scopes"),
    }
}

async fn delete_scope(State(core): State<Console>, Path(name): Path<String>, Posted(op, _): Posted) -> Response {
    match op.admin(&core).delete_scope(&name).await {
        Ok(()) => see_other(&core, "/admin/scopes?done=deleted"),
        Err(e) => failed(&core, &op, e, "/admin/scopes"),
    }
}

// keys

async fn keys(State(core): State<Console>, SignedIn(op): SignedIn, RawQuery(query): RawQuery) -> Response {
    match core.store.list_keys().await {
        Ok(list) => {
            let when = |t: Option<i64>| t.map(gatehouse_protocol::clock::utc);
            let rows: Vec<_> = list
                .iter()
                .map(|k| {
                    json!({
                        "kid": k.kid, "alg": k.alg.as_str(), "state": k.state.as_str(),
                        "created": gatehouse_protocol::clock::utc(k.created_at),
                        "activated": when(k.activated_at), "retired": when(k.retired_at),
                    })
                })
                .collect();
            let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
            let ctx = context! { section => "keys", rows, algs, done => query_param(query.as_deref(), "done") };
            render(&core, &op, StatusCode::OK, "console/keys.html", ctx)
        }
        Err(e) => failed(&core, &op, e.into(), "/admin"),
    }
}

async fn rotate_keys(State(core): State<Console>, Posted(op, form): Posted) -> Response {
    let algs = match form.text("alg") {
        None => SigningAlg::ALL.to_vec(),
        Some(a) => match SigningAlg::parse(&a) {
            Some(alg) => vec![alg],
            None => return failed(&core, &op, AdminError::field("alg", "unknown algorithm"), "/admin/keys"),
        },
    };
    match core.admin.rotate_keys(&op.admin(&core), &algs).await {
        Ok(()) => see_other(&core, "/admin/keys?done=rotated"),
        Err(e) => failed(&core, &op, e, "/admin/keys"),
    }
}

// audit log

fn audit_rows(entries: Vec<gatehouse_store::AuditEntry>) -> Vec<serde_json::Value> {
    entries
        .into_iter()
        .map(|e| {
            let link = audit_link(&e.action, &e.target);
            // An update says what changed, field by field; anything else lists what it recorded.
            let changes: Vec<_> = e
                .details
                .get("changes")
                .and_then(|c| c.as_object())
                .into_iter()
                .flatten()
                .map(|(field, c)| {
                    let side = |k| shown(c.get(k).unwrap_or(&Json::Null));
                    json!({ "field": field, "before": side("before"), "after": side("after") })
                })
                .collect();
            // With changes, the rest of an update's record is a snapshot: keep only its news.
            let news = |k: &str, v: &Json| match k {
                "changes" | "changed" => false,
                "secret_changed" => *v == Json::Bool(true),
                "sessions_ended" => *v != json!(0),
                // What a creation recorded, less the settings left at nothing.
                _ => changes.is_empty() && !matches!(v, Json::Null | Json::Bool(false)) && v != &json!([]) && v != "",
            };
            let facts: Vec<_> = e
                .details
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| news(k, v))
                .map(|(k, v)| json!({ "key": k, "value": shown(v) }))
                .collect();
            json!({
                "id": e.id, "at": gatehouse_protocol::clock::utc(e.at), "actor": e.actor,
                "unchanged": e.details.get("changes").is_some() && changes.is_empty() && facts.is_empty(),
                "action": e.action, "target": e.target, "link": link, "changes": changes, "facts": facts,
            })
        })
        .collect()
}

/// The console page of an entry's target, while it exists: `{section, id}`.
fn audit_link(action: &str, target: &str) -> Json {
    if action.ends_with(".delete") {
        return Json::Null;
    }
    match target.split_once(':') {
        Some(("client", id)) => json!({ "section": "clients", "id": id }),
        Some(("user", sub)) => json!({ "section": "users", "id": sub }),
        Some(("scope", _)) => json!({ "section": "scopes" }),
        Some(("key", _)) => json!({ "section": "keys" }),
        _ => Json::Null,
    }
}

/// A recorded value as a person reads it: text as is, lists joined, absence as a dash.
fn shown(v: &Json) -> String {
    let text = match v {
        Json::Null => "—".to_owned(),
        Json::String(s) => s.clone(),
        Json::Array(items) if items.is_empty() => "none".to_owned(),
        Json::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    if text.chars().count() > 160 { format!("{}…", text.chars().take(160).collect::<String>()) } else { text }
}

async fn audit(State(core): State<Console>, SignedIn(op): SignedIn, RawQuery(query): RawQuery) -> Response {
    let q = query.as_deref();
    let filter = AuditQuery {
        before: query_param(q, "before"),
        actor: query_param(q, "actor"),
        action: query_param(q, "action"),
        target: query_param(q, "target"),
        limit: PAGE,
    };
    match core.store.list_audit(&filter).await {
        Ok(entries) => {
            let next = next_cursor(&entries, |e| e.id.clone());
            let more = next.map(|before| {
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in [("actor", &filter.actor), ("action", &filter.action), ("target", &filter.target)] {
                    if let Some(v) = v {
                        s.append_pair(k, v);
                    }
                }
                s.append_pair("before", &before).finish()
            });
            let ctx = context! {
                section => "audit", entries => audit_rows(entries), more,
                actor => filter.actor, action => filter.action, target => filter.target,
            };
            render(&core, &op, StatusCode::OK, "console/audit.html", ctx)
        }
        Err(e) => failed(&core, &op, e.into(), "/admin"),
    }
}
