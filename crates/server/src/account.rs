//! The account page at `/account`, where people look after their own sign-in: change the
//! password, add and remove second factors, make new recovery codes, see and end their sessions.
//! Server-rendered, no JavaScript but the passkey page's (`account/passkey.rs`); every form
//! carries the CSRF token.
//!
//! Signing in is Gatehouse's own authorization code flow with PKCE for the built-in public
//! client `gatehouse-account` (as the console does), so the whole sign-in applies, second factor
//! included. The page then belongs to the browser's SSO session, and only while the sign-in
//! that the callback saw is the session's: signing out anywhere ends it. Changing factors needs
//! a sign-in of the last ten minutes (`max_age`), so a browser left open cannot have a factor
//! added by someone else.

mod passkey;
mod upstream;

use crate::state::AppState;
use crate::web::{Pages, SESSION_COOKIE, cookie, query_param, with_cookies};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gatehouse_core::admin::{ACCOUNT_CLIENT_ID, AdminError, Administration};
use gatehouse_core::authorization::Authorization;
use gatehouse_core::factors::{EnrolError, Factors};
use gatehouse_core::grant::Grants;
use gatehouse_core::sign_in::{CheckError, SignIn};
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::User;
use gatehouse_store::Session;
use minijinja::{Value, context};
use std::sync::Arc;

/// The short-lived cookie of a sign-in in progress: state, PKCE verifier, where to go after.
const LOGIN_COOKIE: &str = "gh_account_login";
/// The sid of the session the account sign-in completed in.
const ACCOUNT_COOKIE: &str = "gh_account";
/// Seconds a sign-in may take between `/account/login` and the callback.
const LOGIN_TTL: i64 = 600;
/// Changing factors needs a sign-in at most this old (seconds).
const RECENT: i64 = 600;

/// What the account pages use.
#[derive(Clone)]
pub struct AccountPages {
    admin: Arc<Administration>,
    az: Arc<Authorization>,
    grants: Arc<Grants>,
    sign_in: Arc<SignIn>,
    factors: Arc<Factors>,
    upstreams: Arc<gatehouse_core::upstreams::Upstreams>,
    pages: Arc<Pages>,
    issuer: Arc<str>,
}

impl FromRef<AppState> for AccountPages {
    fn from_ref(s: &AppState) -> Self {
        let g = &s.services;
        Self {
            admin: g.admin.clone(),
            az: g.authorization.clone(),
            grants: g.grants.clone(),
            sign_in: g.sign_in.clone(),
            factors: g.factors.clone(),
            upstreams: g.upstreams.clone(),
            pages: s.pages.clone(),
            issuer: g.tokens.issuer.clone(),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(home))
        .route("/account/login", get(login))
        .route("/account/callback", get(callback))
        .route("/account/password", post(change_password))
        .route("/account/totp", get(totp_page).post(totp_confirm))
        .route("/account/passkey", get(passkey::page).post(passkey::add))
        .route("/account/recovery-codes", post(recovery_codes))
        .route("/account/upstream/{id}/link", get(upstream::link))
        .route("/account/upstream/unlink", post(upstream::unlink))
        .route("/account/factors/{id}/remove", post(remove_factor))
        .route("/account/sessions/{sid}/end", post(end_session))
        .route("/account/apps/{client_id}/revoke", post(revoke_app))
        .route("/account/done", post(done))
}

/// The signed-in person, with what every page needs.
struct Me {
    user: User,
    session: Session,
    csrf: String,
    set_cookies: Vec<HeaderValue>,
}

impl Me {
    /// Who the audit log says acted: the person themselves.
    fn actor(&self) -> String {
        format!("user:{}", self.user.sub)
    }
}

impl AccountPages {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer.trim_end_matches('/'))
    }

    fn see_other(&self, path: &str) -> Response {
        self.pages.see_other(path)
    }

    /// A cookie only the account's paths see.
    fn cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        self.pages.scoped_cookie("/account", name, value, max_age)
    }

    /// The signed-in person, or the way to the sign-in.
    async fn me(&self, headers: &HeaderMap, back: &str) -> Result<Me, Response> {
        let to_login = || self.see_other(&format!("/account/login?{}", query(&[("return", back)])));
        let session = match self.sign_in.current_session(self.pages.read_cookie(headers, SESSION_COOKIE)).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_login()),
            Err(e) => return Err(crate::error::PageError::from(e).into_response()),
        };
        // The account sign-in must have completed in this very session.
        let bound = cookie(headers, ACCOUNT_COOKIE)
            .is_some_and(|sid| gatehouse_core::secrets::constant_time_eq(sid, &session.sid));
        if !bound {
            return Err(to_login());
        }
        let user = match self.az.active_user(&session.sub).await {
            Ok(Some(u)) => u,
            Ok(None) => return Err(to_login()),
            Err(e) => return Err(crate::error::PageError::from(e).into_response()),
        };
        let (csrf, set) = self.pages.csrf_token(headers, &self.sign_in);
        Ok(Me { user, session, csrf, set_cookies: set.into_iter().collect() })
    }

    /// The person, after checking a posted form's CSRF token; `recent`: the sign-in must be
    /// fresh (else a new one is asked for, coming back to `back`).
    async fn posted(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
        back: &str,
        recent: bool,
    ) -> Result<(Me, Form), Response> {
        let me = self.me(headers, back).await?;
        let form = Form(url::form_urlencoded::parse(body).into_owned().collect());
        if !self.pages.csrf_matches(headers, &self.sign_in, Some(form.get("csrf"))) {
            let msg = "This form expired. Go back, reload the page and try again.";
            return Err(self.pages.error(StatusCode::FORBIDDEN, msg, Some("invalid_request")));
        }
        if recent && self.az.now() - me.session.auth_time > RECENT {
            return Err(self.see_other(&format!("/account/login?{}", query(&[("return", back), ("fresh", "1")]))));
        }
        Ok((me, form))
    }

    fn render(&self, me: &Me, status: StatusCode, name: &str, ctx: Value) -> Response {
        let ctx = context! { csrf => me.csrf.clone(), username => me.user.username.clone(), ..ctx };
        let mut r = self.pages.render(status, name, ctx);
        for c in &me.set_cookies {
            r.headers_mut().append(header::SET_COOKIE, c.clone());
        }
        r
    }

    /// The overview, with `notice` (what just happened) or `error`.
    async fn overview(&self, me: &Me, status: StatusCode, notice: Option<&str>, error: Option<&str>) -> Response {
        let sub = &me.user.sub;
        let read = async {
            let enrolled = self.factors.enrolled(sub).await?;
            let sessions = self.admin.store().list_user_sessions(sub, self.admin.now()).await?;
            let apps = self.az.consented_apps(sub).await?;
            let links = self.admin.store().list_links(sub).await?;
            Ok::<_, gatehouse_store::StoreError>((enrolled, sessions, apps, links))
        };
        let (enrolled, sessions, apps, links) = match read.await {
            Ok(x) => x,
            Err(e) => return crate::error::PageError::from(e).into_response(),
        };
        let sessions: Vec<Value> = sessions
            .into_iter()
            .map(|(s, created)| {
                context! {
                    sid => s.sid.clone(),
                    this => s.sid == me.session.sid,
                    signed_in => gatehouse_protocol::clock::utc(s.auth_time),
                    created => gatehouse_protocol::clock::utc(created),
                    amr => s.amr.join(", "),
                }
            })
            .collect();
        let factors: Vec<Value> = enrolled
            .factors
            .iter()
            .map(|f| {
                context! {
                    id => f.id.clone(), name => f.name.clone(), kind => f.kind,
                    added => gatehouse_protocol::clock::utc(f.created_at),
                    used => f.last_used_at.map(gatehouse_protocol::clock::utc),
                }
            })
            .collect();
        let apps: Vec<Value> = apps
            .into_iter()
            .map(|a| {
                context! {
                    client_id => a.client_id.clone(),
                    name => a.name.unwrap_or(a.client_id),
                    scopes => a.scope.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>().join(" "),
                    since => gatehouse_protocol::clock::utc(a.granted_at),
                }
            })
            .collect();
        let links: Vec<Value> = links
            .into_iter()
            .map(|l| {
                context! {
                    label => self.upstreams.label(&l.provider).unwrap_or_else(|| l.provider.clone()),
                    provider => l.provider, subject => l.subject, email => l.email,
                    since => gatehouse_protocol::clock::utc(l.created_at),
                }
            })
            .collect();
        let name = me.user.claims.get("name").and_then(|v| v.as_str()).map(str::to_owned);
        let ctx = context! {
            name, notice, error, factors, sessions, apps, links,
            has_password => me.user.password_hash.is_set(),
            recovery_codes_left => enrolled.recovery_codes_left,
            has_factors => enrolled.any(),
            totp_available => self.factors.totp_available(),
            passkeys_available => self.factors.passkeys_available(),
            required => self.factors.policy.required,
        };
        self.render(me, status, "account/home.html", ctx)
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// A posted form.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }
}

/// GET `/account`.
async fn home(State(p): State<AccountPages>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let me = match p.me(&headers, "/account").await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let notice = match query_param(q.as_deref(), "done").as_deref() {
        Some("password") => Some("Your password was changed."),
        Some("factor-added") => Some("The authenticator app was added."),
        Some("passkey-added") => Some("The passkey was added."),
        Some("factor-removed") => Some("The second factor was removed."),
        Some("session-ended") => Some("The session was ended."),
        Some("app-revoked") => Some("The application's access was revoked."),
        Some("linked") => Some("The account was linked."),
        Some("unlinked") => Some("The linked account was removed."),
        _ => None,
    };
    let problem = match query_param(q.as_deref(), "problem").as_deref() {
        Some("linked-elsewhere") => Some("That identity is linked to another account."),
        Some("link-failed") => Some("The account could not be linked. Try again."),
        _ => None,
    };
    p.overview(&me, StatusCode::OK, notice, problem).await
}

/// GET `/account/login`: the authorization code flow (PKCE S256, a fresh `state`) for the
/// account's client; `fresh=1` asks for a new sign-in (`max_age`).
async fn login(State(p): State<AccountPages>, RawQuery(q): RawQuery) -> Response {
    let back = query_param(q.as_deref(), "return")
        .filter(|r| r.starts_with("/account") && !r.starts_with("/account/login") && !r.contains('\\'))
        .unwrap_or_else(|| "/account".to_owned());
    let state = p.az.random(16);
    let verifier = p.az.random(32);
    let mut params = vec![
        ("response_type", "code".to_owned()),
        ("client_id", ACCOUNT_CLIENT_ID.to_owned()),
        ("redirect_uri", p.url("/account/callback")),
        ("scope", "openid".to_owned()),
        ("state", state.clone()),
        ("code_challenge", gatehouse_protocol::pkce::s256_challenge(&verifier)),
        ("code_challenge_method", "S256".to_owned()),
    ];
    if query_param(q.as_deref(), "fresh").is_some() {
        params.push(("max_age", RECENT.to_string()));
    }
    let authorize = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let pending = query(&[("state", &state), ("verifier", &verifier), ("return", &back)]);
    with_cookies(p.see_other(&format!("/authorize?{authorize}")), vec![p.cookie(LOGIN_COOKIE, &pending, LOGIN_TTL)])
}

/// GET `/account/callback`: checks `state`, redeems the code in-process (PKCE included) and
/// binds the account page to the session the sign-in completed in.
async fn callback(State(p): State<AccountPages>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let q = q.as_deref();
    let pending = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    let pending = |k| query_param(Some(pending), k);
    let clear = p.cookie(LOGIN_COOKIE, "", 0);
    let fail =
        |status, msg: &str, code: Option<&str>| with_cookies(p.pages.error(status, msg, code), vec![clear.clone()]);
    let (Some(state), Some(verifier)) = (pending("state"), pending("verifier")) else {
        return with_cookies(p.see_other("/account"), vec![clear]);
    };
    if !query_param(q, "state").is_some_and(|s| gatehouse_core::secrets::constant_time_eq(&s, &state)) {
        return fail(StatusCode::BAD_REQUEST, "This sign-in is not the one the account page started.", None);
    }
    if let Some(error) = query_param(q, "error") {
        let detail = query_param(q, "error_description").unwrap_or_else(|| "The sign-in did not finish.".into());
        return fail(StatusCode::FORBIDDEN, &detail, Some(&error));
    }
    let Some(code) = query_param(q, "code") else {
        return fail(StatusCode::BAD_REQUEST, "No code came back.", None);
    };
    let client = match p.admin.as_actor(String::new()).get_client(ACCOUNT_CLIENT_ID).await {
        Ok(c) => c,
        Err(AdminError::NotFound(_)) => {
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The account page's client is missing; restart Gatehouse.",
                None,
            );
        }
        Err(e) => return fail(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), None),
    };
    if let Err(e) = p.grants.redeem_code(&client, &code, &p.url("/account/callback"), &verifier).await {
        tracing::warn!(error = %e, "account sign-in: the code did not redeem");
        return fail(StatusCode::BAD_REQUEST, "The sign-in could not be completed.", Some(e.code()));
    }
    // The code came from the browser's current session: bind the page to it.
    let session = match p.sign_in.current_session(p.pages.read_cookie(&headers, SESSION_COOKIE)).await {
        Ok(Some(s)) => s,
        _ => return fail(StatusCode::BAD_REQUEST, "The sign-in could not be completed.", None),
    };
    let back = pending("return").unwrap_or_else(|| "/account".to_owned());
    let bound = p.cookie(ACCOUNT_COOKIE, &session.sid, session.expires_at - p.az.now());
    with_cookies(p.see_other(&back), vec![clear, bound])
}

/// POST `/account/password`: the current password, then the new one twice.
async fn change_password(State(p): State<AccountPages>, headers: HeaderMap, body: Bytes) -> Response {
    let (me, form) = match p.posted(&headers, &body, "/account", false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (new, repeat) = (form.get("new_password"), form.get("repeat_password"));
    let current = Secret::new(form.get("current_password"));
    let problem = if new.chars().count() < 8 {
        Some("The new password must have at least 8 characters.")
    } else if new != repeat {
        Some("The new passwords are not the same.")
    } else {
        match p.sign_in.check_password(&me.user.username, &current, None).await {
            Ok(Some(u)) if u.sub == me.user.sub => None,
            Ok(_) => Some("The current password is not right."),
            Err(CheckError::Throttled(_)) => Some("Too many failed attempts. Try again later."),
            Err(CheckError::DirectoryUnavailable) => Some(crate::pages::authorize::DIRECTORY_DOWN),
            Err(CheckError::Store(e)) => return crate::error::PageError::from(e).into_response(),
        }
    };
    if let Some(msg) = problem {
        return p.overview(&me, StatusCode::BAD_REQUEST, None, Some(msg)).await;
    }
    if let Err(e) = p.admin.as_actor(me.actor()).set_password(&me.user.sub, Secret::new(new)).await {
        return p.pages.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), None);
    }
    p.see_other("/account?done=password")
}

/// GET `/account/totp`: a new secret to add as a second factor.
async fn totp_page(State(p): State<AccountPages>, headers: HeaderMap) -> Response {
    let me = match p.me(&headers, "/account/totp").await {
        Ok(me) => me,
        Err(r) => return r,
    };
    if p.az.now() - me.session.auth_time > RECENT {
        return p.see_other("/account/login?return=%2Faccount%2Ftotp&fresh=1");
    }
    totp_form(&p, &me, None, None, StatusCode::OK, None)
}

fn totp_form(
    p: &AccountPages,
    me: &Me,
    sealed: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
    name: Option<&str>,
) -> Response {
    let enrolment = match sealed.and_then(|s| p.factors.resume_totp(&me.user, s)) {
        Some(e) => e,
        None => match p.factors.start_totp(&me.user) {
            Ok(e) => e,
            Err(e) => return p.pages.error(StatusCode::FORBIDDEN, &e.to_string(), None),
        },
    };
    let ctx = context! {
        error, name, action => "/account/totp",
        qr => crate::web::qr_svg(&enrolment.uri),
        secret => enrolment.secret,
        sealed => enrolment.sealed,
    };
    p.render(me, status, "enrol_totp.html", ctx)
}

/// POST `/account/totp`: the code that confirms the new secret.
async fn totp_confirm(State(p): State<AccountPages>, headers: HeaderMap, body: Bytes) -> Response {
    let (me, form) = match p.posted(&headers, &body, "/account/totp", true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (sealed, code, name) = (form.get("sealed"), form.get("code"), form.get("name"));
    match p.factors.confirm_totp(&me.actor(), &me.user.sub, sealed, code, name).await {
        Ok((_, Some(codes))) => {
            p.render(&me, StatusCode::OK, "recovery_codes.html", context! { codes, action => "/account/done" })
        }
        Ok((_, None)) => p.see_other("/account?done=factor-added"),
        Err(e @ (EnrolError::WrongCode | EnrolError::BadName)) => {
            let msg = match e {
                EnrolError::WrongCode => "The code is not right. Check the time on your device and try the next code.",
                _ => "Give the authenticator a name of 1 to 64 characters.",
            };
            totp_form(&p, &me, Some(sealed), Some(msg), StatusCode::BAD_REQUEST, Some(name))
        }
        Err(EnrolError::Store(e)) => crate::error::PageError::from(e).into_response(),
        Err(e) => p.pages.error(StatusCode::BAD_REQUEST, &e.to_string(), None),
    }
}

/// POST `/account/recovery-codes`: ten new codes, replacing the old ones.
async fn recovery_codes(State(p): State<AccountPages>, headers: HeaderMap, body: Bytes) -> Response {
    let (me, _) = match p.posted(&headers, &body, "/account", true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !p.factors.enrolled(&me.user.sub).await.is_ok_and(|e| e.any()) {
        return p.overview(&me, StatusCode::BAD_REQUEST, None, Some("Add a second factor first.")).await;
    }
    match p.factors.new_recovery_codes(&me.actor(), &me.user.sub).await {
        Ok(codes) => {
            p.render(&me, StatusCode::OK, "recovery_codes.html", context! { codes, action => "/account/done" })
        }
        Err(e) => crate::error::PageError::from(e).into_response(),
    }
}

/// POST `/account/factors/{id}/remove`. Where a second factor is required, the last one stays.
async fn remove_factor(
    State(p): State<AccountPages>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (me, _) = match p.posted(&headers, &body, "/account", true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let count = p.factors.enrolled(&me.user.sub).await.map(|e| e.factors.len()).unwrap_or(0);
    if p.factors.policy.required && count <= 1 {
        let msg = "Your account needs a second factor: add another before removing this one.";
        return p.overview(&me, StatusCode::BAD_REQUEST, None, Some(msg)).await;
    }
    match p.factors.remove(&me.actor(), &me.user.sub, &id).await {
        Ok(true) => p.see_other("/account?done=factor-removed"),
        Ok(false) => p.overview(&me, StatusCode::NOT_FOUND, None, Some("There is no such second factor.")).await,
        Err(e) => crate::error::PageError::from(e).into_response(),
    }
}

/// POST `/account/sessions/{sid}/end`: ends one of the person's sessions (their applications
/// are told by back-channel logout). Ending this one signs out here too.
async fn end_session(
    State(p): State<AccountPages>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (me, _) = match p.posted(&headers, &body, "/account", false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match p.admin.as_actor(me.actor()).end_sessions(&me.user.sub, Some(&sid)).await {
        Ok(ended) => p.admin.sessions_ended(&me.user.sub, ended).await,
        Err(AdminError::NotFound(_)) => {
            return p.overview(&me, StatusCode::NOT_FOUND, None, Some("There is no such session.")).await;
        }
        Err(e) => return p.pages.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), None),
    }
    if sid == me.session.sid {
        return p.see_other("/account");
    }
    p.see_other("/account?done=session-ended")
}

/// POST `/account/apps/{client_id}/revoke`: takes back consent and the application's tokens.
async fn revoke_app(
    State(p): State<AccountPages>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (me, _) = match p.posted(&headers, &body, "/account", false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match p.az.revoke_app(&me.actor(), &me.user.sub, &client_id).await {
        Ok(true) => p.see_other("/account?done=app-revoked"),
        Ok(false) => p.overview(&me, StatusCode::NOT_FOUND, None, Some("There is no such application.")).await,
        Err(e) => crate::error::PageError::from(e).into_response(),
    }
}

/// POST `/account/done`: back to the overview after the recovery codes were shown.
async fn done(State(p): State<AccountPages>) -> Response {
    p.see_other("/account")
}
