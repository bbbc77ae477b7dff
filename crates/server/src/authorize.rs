//! `/authorize`, `/login`, `/consent` (RFC 6749 §4.1; OIDC Core §3.1.2; RFC 7636; RFC 9207).
//!
//! The request is validated by `gatehouse_protocol::authorize`; while the user signs in and
//! consents it is kept server-side as an *interaction* (found by a random id in the form, bound
//! to the browser by a CSRF cookie that must match the form and the stored value). Signing in
//! always creates a new session id (no fixation).

// The error type of these helpers is the page to show; it is returned once per request, so its
// size does not matter.
#![allow(clippy::result_large_err)]

use crate::core::Core;
use crate::issuer::{IdTokenInput, Subject, hash_token};
use crate::throttle::Key;
use crate::web::{authorization_response, cookie, set_cookie};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_protocol::authorize::{
    self, AuthorizeRequest, DecideContext, Decision, ResponseMode, SessionView, TargetError,
};
use gatehouse_protocol::client::{Client, ClientId};
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::jose;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::token::authorization_code::CodeGrant;
use gatehouse_store::{Interaction, Session};
use minijinja::context;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "gh_session";

/// A response plus cookies to set on it.
struct Reply {
    response: Response,
    cookies: Vec<axum::http::HeaderValue>,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = self.response;
        for c in self.cookies {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        r
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    })
}

/// GET or POST `/authorize` (OIDC Core §3.1.2.1: both must be supported).
pub async fn authorize(
    State(core): State<Arc<Core>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let parsed = if method == Method::POST {
        if !is_form(&headers) {
            return core.pages.error(
                StatusCode::BAD_REQUEST,
                "The request must be a form post.",
                Some("invalid_request"),
            );
        }
        Params::parse(&body)
    } else {
        Params::parse(query.as_deref().unwrap_or("").as_bytes())
    };
    // Until the client and redirect URI are known to be good, errors are pages, never redirects.
    let params = match parsed {
        Ok(p) => p,
        Err(e) => return core.pages.error(StatusCode::BAD_REQUEST, "The request is malformed.", Some(e.code())),
    };
    let client = match params.get("client_id").map(ClientId::parse) {
        None => return target_error(&core, TargetError::MissingClientId),
        Some(Err(_)) => return target_error(&core, TargetError::UnknownClient),
        Some(Ok(id)) => match core.store.get_client(&id).await {
            Ok(Some(c)) => c,
            Ok(None) => return target_error(&core, TargetError::UnknownClient),
            Err(e) => return server_error_page(&core, e),
        },
    };
    let redirect_uri = match authorize::resolve_target(&client, &params) {
        Ok(r) => r,
        Err(e) => return target_error(&core, e),
    };
    // From here on, errors go back to the client.
    let mode = authorize::error_response_mode(&params);
    let state = params.get("state").map(str::to_owned);
    let back = |e: OAuthError| error_redirect(&core, redirect_uri.as_str(), mode, state.as_deref(), &e);
    let req = match authorize::validate(&client, redirect_uri.clone(), &params) {
        Ok(r) => r,
        Err(e) => return back(e),
    };
    let hint_sub = match &req.id_token_hint {
        None => None,
        Some(hint) => match verify_id_token_hint(&core, hint, &client) {
            Some(sub) => Some(sub),
            None => return back(OAuthError::InvalidRequest("id_token_hint is not a valid ID token from this issuer")),
        },
    };
    let session = match current_session(&core, &headers).await {
        Ok(s) => s,
        Err(e) => return back(e),
    };
    let flow = Flow { core: &core, client: &client, req: &req, interaction: None, headers: &headers };
    flow.proceed(session.as_ref(), hint_sub.as_deref(), false, false).await.into_response()
}

fn target_error(core: &Core, e: TargetError) -> Response {
    core.pages.error(StatusCode::BAD_REQUEST, e.message(), Some("invalid_request"))
}

/// A page for a failure: 503 `temporarily_unavailable` when the database is briefly away,
/// else 500 `server_error`. The detail goes to the log only.
pub(crate) fn server_error_page(core: &Core, e: impl std::fmt::Display + 'static) -> Response {
    let passing = (&e as &dyn std::any::Any)
        .downcast_ref::<gatehouse_store::StoreError>()
        .is_some_and(|e| matches!(e, gatehouse_store::StoreError::Unavailable(_)));
    if passing {
        tracing::warn!(error = %e, "temporarily unavailable on a page");
        let mut r = core.pages.error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Gatehouse is briefly unavailable. Please try again in a moment.",
            Some("temporarily_unavailable"),
        );
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return r;
    }
    tracing::error!(error = %e, "server error on a page");
    core.pages.error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Gatehouse had a problem. Please try again.",
        Some("server_error"),
    )
}

/// RFC 6749 §4.1.2.1 with RFC 9207's `iss`.
fn error_redirect(
    core: &Core,
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    e: &OAuthError,
) -> Response {
    match e {
        OAuthError::Server(d) => tracing::error!(error = %d, "server error during authorization"),
        OAuthError::TemporarilyUnavailable(d) => {
            tracing::warn!(error = %d, "temporarily unavailable during authorization")
        }
        _ => {}
    }
    let mut params: Vec<(&str, &str)> = vec![("error", e.code())];
    if let Some(d) = e.description() {
        params.push(("error_description", d));
    }
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", &core.tokens.issuer));
    let nonce = core.tokens.random(16);
    authorization_response(&core.pages, redirect_uri, mode, &params, &nonce)
}

/// The `sub` of an ID token this issuer signed for this client. Expiry is not checked: OIDC
/// Core §3.1.2.1 allows an expired token as a hint.
fn verify_id_token_hint(core: &Core, hint: &str, client: &Client) -> Option<String> {
    let (_, claims) = jose::verify(hint, core.tokens.keys.get().published()).ok()?;
    let iss_ok = claims.get("iss").and_then(|v| v.as_str()) == Some(&core.tokens.issuer);
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == client.id.as_str(),
        Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(client.id.as_str())),
        _ => false,
    };
    (iss_ok && aud_ok).then(|| claims.get("sub").and_then(|v| v.as_str()).map(str::to_owned)).flatten()
}

pub(crate) async fn current_session(core: &Core, headers: &HeaderMap) -> Result<Option<Session>, OAuthError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(s) = core.store.get_session(&hash_token(id), core.now()).await? else { return Ok(None) };
    // A disabled or deleted user has no session.
    match core.store.get_user_by_sub(&s.sub).await? {
        Some(u) if !u.disabled => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// An authorization request in progress.
struct Flow<'a> {
    core: &'a Core,
    client: &'a Client,
    req: &'a AuthorizeRequest,
    /// The interaction id and CSRF token when continuing from a login or consent form.
    interaction: Option<(String, String)>,
    headers: &'a HeaderMap,
}

impl Flow<'_> {
    fn back(&self, e: &OAuthError) -> Response {
        error_redirect(self.core, self.req.redirect_uri.as_str(), self.req.response_mode, self.req.state.as_deref(), e)
    }

    async fn proceed(
        self,
        session: Option<&Session>,
        hint_sub: Option<&str>,
        fresh_login: bool,
        consent_now: bool,
    ) -> Reply {
        let core = self.core;
        let consented = match session {
            Some(s) => match core.store.get_consent(&s.sub, self.client.id.as_str()).await {
                Ok(c) => c.and_then(|c| ScopeSet::parse(&c).ok()),
                Err(e) => return self.reply(self.back(&e.into())),
            },
            None => None,
        };
        let view = session.map(|s| SessionView { sub: s.sub.clone(), auth_time: s.auth_time });
        let ctx = DecideContext {
            session: view.as_ref(),
            hint_sub,
            fresh_login,
            consented: consented.as_ref(),
            consent_given_now: consent_now,
            now: core.now(),
        };
        match authorize::decide(self.req, self.client, &ctx) {
            Err(e) => self.finish(self.back(&e)).await,
            Ok(Decision::Login) => self.login_page(None, StatusCode::OK).await,
            Ok(Decision::Consent) => match session {
                Some(s) => self.consent_page(s).await,
                None => self.login_page(None, StatusCode::OK).await,
            },
            Ok(Decision::Issue) => match session {
                Some(s) => {
                    let r = self.issue(s).await;
                    self.finish(r).await
                }
                None => self.login_page(None, StatusCode::OK).await,
            },
        }
    }

    fn reply(&self, response: Response) -> Reply {
        Reply { response, cookies: Vec::new() }
    }

    /// Ends the interaction (if any): the request is answered.
    async fn finish(&self, response: Response) -> Reply {
        if let Some((id, _)) = &self.interaction
            && let Err(e) = self.core.store.delete_interaction(&hash_token(id)).await
        {
            tracing::warn!(error = %e, "could not delete a finished interaction");
        }
        self.reply(response)
    }

    /// The interaction for the forms, creating it (and the CSRF cookie) when new.
    async fn interaction(&self) -> Result<(String, String, Vec<axum::http::HeaderValue>), OAuthError> {
        if let Some((id, csrf)) = &self.interaction {
            return Ok((id.clone(), csrf.clone(), Vec::new()));
        }
        let core = self.core;
        let (csrf, new_cookie) = core.csrf_token(self.headers);
        let cookies: Vec<_> = new_cookie.into_iter().collect();
        let id = core.tokens.random(32);
        let request = serde_json::to_string(self.req)
            .map_err(|e| OAuthError::Server(gatehouse_protocol::error::InternalError::new(e.to_string())))?;
        let now = core.now();
        let i = Interaction { request, csrf: csrf.clone(), expires_at: now + core.tokens.lifetimes.interaction };
        core.store.insert_interaction(&hash_token(&id), &i, now).await?;
        Ok((id, csrf, cookies))
    }

    async fn login_page(&self, error: Option<&str>, status: StatusCode) -> Reply {
        self.login_form(error, status, self.req.login_hint.clone()).await
    }

    /// The login page, its username field filled with `username` (the hint, or what was typed).
    async fn login_form(&self, error: Option<&str>, status: StatusCode, username: Option<String>) -> Reply {
        let (interaction, csrf, cookies) = match self.interaction().await {
            Ok(x) => x,
            Err(e) => return self.reply(self.back(&e)),
        };
        let mut response = self.core.pages.render(
            status,
            "login.html",
            context! {
                interaction, csrf, error,
                client_name => self.client.name.clone().unwrap_or_else(|| self.client.id.to_string()),
                username,
                ui_locales => self.req.ui_locales.clone(),
            },
        );
        // Signing in may answer the client at once (consent given before, or first party).
        crate::web::allow_form_redirect(&mut response, self.req.redirect_uri.as_str());
        Reply { response, cookies }
    }

    async fn consent_page(&self, session: &Session) -> Reply {
        let (interaction, csrf, cookies) = match self.interaction().await {
            Ok(x) => x,
            Err(e) => return self.reply(self.back(&e)),
        };
        let username = match self.core.store.get_user_by_sub(&session.sub).await {
            Ok(Some(u)) => u.username,
            Ok(None) => return self.login_page(None, StatusCode::OK).await,
            Err(e) => return self.reply(self.back(&e.into())),
        };
        let scopes = self.core.scope_lines(&self.req.scope);
        let mut response = self.core.pages.render(
            StatusCode::OK,
            "consent.html",
            context! {
                interaction, csrf, scopes, username,
                client_name => self.client.name.clone().unwrap_or_else(|| self.client.id.to_string()),
                ui_locales => self.req.ui_locales.clone(),
            },
        );
        crate::web::allow_form_redirect(&mut response, self.req.redirect_uri.as_str());
        Reply { response, cookies }
    }

    /// Answers the request: a code, tokens, or both (OIDC Core §3.1.2.5, §3.2.2.5, §3.3.2.5).
    async fn issue(&self, session: &Session) -> Response {
        match self.issue_params(session).await {
            Ok(params) => {
                let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let nonce = self.core.tokens.random(16);
                authorization_response(
                    &self.core.pages,
                    self.req.redirect_uri.as_str(),
                    self.req.response_mode,
                    &borrowed,
                    &nonce,
                )
            }
            Err(e) => self.back(&e),
        }
    }

    async fn issue_params(&self, session: &Session) -> Result<Vec<(&'static str, String)>, OAuthError> {
        let core = self.core;
        let now = core.now();
        let rt = self.req.response_type;
        let mut params: Vec<(&'static str, String)> = Vec::new();
        // Remembered so that ending this session can notify the client (back-channel logout).
        core.store.add_session_client(&session.sid, self.client.id.as_str(), now).await?;
        let code = if rt.code {
            let code = core.tokens.random(32);
            let grant = CodeGrant {
                grant_id: core.tokens.random(16),
                client_id: self.client.id.to_string(),
                sub: session.sub.clone(),
                redirect_uri: self.req.redirect_uri.to_string(),
                scope: self.req.scope.clone(),
                nonce: self.req.nonce.clone(),
                code_challenge: self.req.code_challenge.clone(),
                code_challenge_method: self.req.code_challenge_method,
                auth_time: session.auth_time,
                sid: session.sid.clone(),
                amr: session.amr.clone(),
                expires_at: now + core.tokens.lifetimes.for_client(self.client).code,
            };
            let doc =
                serde_json::to_string(&grant).map_err(|e| OAuthError::Server(InternalError::new(e.to_string())))?;
            core.store.insert_code(&hash_token(&code), &grant.grant_id, &doc, grant.expires_at).await?;
            params.push(("code", code.clone()));
            Some(code)
        } else {
            None
        };
        if rt.token || rt.id_token {
            let user = match core.store.get_user_by_sub(&session.sub).await? {
                Some(u) if !u.disabled => u,
                _ => return Err(OAuthError::LoginRequired),
            };
            let access_token = if rt.token {
                let subject = Subject {
                    sub: &user.sub,
                    user: Some(&user),
                    auth_time: Some(session.auth_time),
                    sid: Some(&session.sid),
                };
                let (at, _) = core.tokens.access_token(self.client, &subject, &self.req.scope, now)?;
                params.push(("access_token", at.clone()));
                params.push(("token_type", "Bearer".to_owned()));
                params.push(("expires_in", core.tokens.lifetimes.for_client(self.client).access_token.to_string()));
                params.push(("scope", self.req.scope.to_string()));
                Some(at)
            } else {
                None
            };
            if rt.id_token {
                let input = IdTokenInput {
                    user: &user,
                    scope: &self.req.scope,
                    auth_time: session.auth_time,
                    sid: &session.sid,
                    amr: &session.amr,
                    nonce: self.req.nonce.as_deref(),
                    access_token: access_token.as_deref(),
                    code: code.as_deref(),
                };
                params.push(("id_token", core.tokens.id_token(self.client, &input, now)?));
            }
        }
        if let Some(s) = &self.req.state {
            params.push(("state", s.clone()));
        }
        params.push(("iss", core.tokens.issuer.to_string()));
        Ok(params)
    }
}

/// A login or consent form, resumed: its parameters and the interaction it belongs to.
struct Resumed {
    params: Params,
    req: AuthorizeRequest,
    client: Client,
    interaction: (String, String),
}

/// Parses a login or consent form and loads the interaction it refers to, checking the CSRF
/// token against both the cookie and the stored value.
async fn resume(core: &Core, headers: &HeaderMap, body: &Bytes) -> Result<Resumed, Response> {
    let params = form_params(core, headers, body)?;
    let expired = || {
        core.pages.error(
            StatusCode::BAD_REQUEST,
            "This sign-in page has expired or was opened elsewhere. Go back to the application and start again.",
            Some("invalid_request"),
        )
    };
    let (Some(id), Some(csrf)) = (params.get("interaction").map(str::to_owned), params.get("csrf").map(str::to_owned))
    else {
        return Err(expired());
    };
    let cookie_ok = Core::csrf_matches(headers, Some(&csrf));
    let stored = match core.store.get_interaction(&hash_token(&id), core.now()).await {
        Ok(Some(i)) => i,
        Ok(None) => return Err(expired()),
        Err(e) => return Err(server_error_page(core, e)),
    };
    if !cookie_ok || !bool::from(subtle_eq(&stored.csrf, &csrf)) {
        return Err(core.pages.error(
            StatusCode::FORBIDDEN,
            "The form could not be verified. Go back to the application and start again.",
            Some("invalid_request"),
        ));
    }
    let req: AuthorizeRequest = serde_json::from_str(&stored.request).map_err(|e| server_error_page(core, e))?;
    let client = match core.store.get_client(&req.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(target_error(core, TargetError::UnknownClient)),
        Err(e) => return Err(server_error_page(core, e)),
    };
    Ok(Resumed { params, req, client, interaction: (id, csrf) })
}

pub(crate) fn subtle_eq(a: &str, b: &str) -> subtle::Choice {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes())
}

pub(crate) fn form_params(core: &Core, headers: &HeaderMap, body: &Bytes) -> Result<Params, Response> {
    if !is_form(headers) {
        return Err(core.pages.error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The form must be posted as a form.",
            Some("invalid_request"),
        ));
    }
    Params::parse(body).map_err(|e| core.pages.error(StatusCode::BAD_REQUEST, "The form is malformed.", Some(e.code())))
}

/// A password check costs the same whether or not the user exists, so timing does not tell.
static DUMMY_HASH: std::sync::LazyLock<Option<gatehouse_protocol::secret::SecretHash>> =
    std::sync::LazyLock::new(|| gatehouse_protocol::secret::SecretHash::argon2(&Secret::new("dummy"), &[0; 16]).ok());

/// Verifies a username and password, throttled per account and per source address (shared by
/// every node through the store). `Err(message)` is user-facing and says when to retry.
pub async fn check_password(
    core: &Core,
    username: &str,
    password: &Secret,
    peer: Option<std::net::IpAddr>,
) -> Result<gatehouse_store::Result<Option<gatehouse_protocol::user::User>>, String> {
    let mut keys = vec![Key::Account(username)];
    keys.extend(peer.map(Key::Ip));
    if let Some(wait) = core.throttle.wait(&keys).await {
        core.metrics.password_check("throttled");
        return Err(format!("Too many failed attempts. Try again {}.", crate::throttle::retry_in(wait)));
    }
    let user = match core.store.get_user_by_username(username).await {
        Ok(u) => u,
        Err(e) => return Ok(Err(e)),
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone()).or_else(|| DUMMY_HASH.clone());
    let ok = match hash {
        Some(h) => crate::secrets::verify(h, password.clone()).await,
        None => false,
    };
    match user {
        Some(u) if ok && !u.disabled => {
            core.metrics.password_check("success");
            core.throttle.success(&keys).await;
            Ok(Ok(Some(u)))
        }
        _ => {
            core.metrics.password_check("failure");
            core.throttle.failure(&keys).await;
            Ok(Ok(None))
        }
    }
}

/// Starts an SSO session for `user`: always a new id, so a planted cookie is never promoted
/// (session fixation); the old session, if any, ends. Returns the session and its cookie.
pub(crate) async fn start_session(
    core: &Core,
    headers: &HeaderMap,
    user: &gatehouse_protocol::user::User,
) -> gatehouse_store::Result<(Session, axum::http::HeaderValue)> {
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        core.store.delete_session(&hash_token(old)).await?;
    }
    let now = core.now();
    let cookie_value = core.tokens.random(32);
    let session = Session {
        sid: core.tokens.random(16),
        sub: user.sub.clone(),
        auth_time: now,
        amr: vec!["pwd".into()],
        expires_at: now + core.tokens.lifetimes.session,
    };
    core.store.insert_session(&hash_token(&cookie_value), &session, now).await?;
    Ok((session, set_cookie(SESSION_COOKIE, &cookie_value, core.tokens.lifetimes.session, core.secure_cookies)))
}

/// POST `/login`: username and password for a pending interaction.
pub async fn login(
    State(core): State<Arc<Core>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Resumed { params, req, client, interaction } = match resume(&core, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let flow = Flow { core: &core, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let username = params.get("username").unwrap_or("").to_owned();
    let password = Secret::new(params.get("password").unwrap_or(""));
    let user = match check_password(&core, &username, &password, Some(peer.ip())).await {
        Err(msg) => {
            return flow.login_form(Some(&msg), StatusCode::TOO_MANY_REQUESTS, Some(username)).await.into_response();
        }
        Ok(Err(e)) => return server_error_page(&core, e),
        // The same message whether the user exists or not.
        Ok(Ok(None)) => {
            let message = "The username or password is incorrect.";
            return flow.login_form(Some(message), StatusCode::UNAUTHORIZED, Some(username)).await.into_response();
        }
        Ok(Ok(Some(u))) => u,
    };
    let (session, session_cookie) = match start_session(&core, &headers, &user).await {
        Ok(x) => x,
        Err(e) => return server_error_page(&core, e),
    };
    tracing::info!(sub = %user.sub, client_id = %client.id, "user signed in");
    let mut reply = flow.proceed(Some(&session), None, true, false).await;
    reply.cookies.push(session_cookie);
    reply.into_response()
}

/// POST `/consent`: approve or deny a pending interaction.
pub async fn consent(State(core): State<Arc<Core>>, headers: HeaderMap, body: Bytes) -> Response {
    let Resumed { params, req, client, interaction } = match resume(&core, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let flow = Flow { core: &core, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let session = match current_session(&core, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return flow.login_page(None, StatusCode::OK).await.into_response(),
        Err(e) => return flow.back(&e),
    };
    match params.get("decision") {
        Some("approve") => {}
        Some("deny") => {
            return flow
                .finish(flow.back(&OAuthError::AccessDenied("the user denied the request")))
                .await
                .into_response();
        }
        _ => return core.pages.error(StatusCode::BAD_REQUEST, "Choose Allow or Deny.", Some("invalid_request")),
    }
    // Remember the union of what was ever approved for this client.
    let mut scope = req.scope.clone();
    if let Ok(Some(prev)) = core.store.get_consent(&session.sub, client.id.as_str()).await
        && let Ok(prev) = ScopeSet::parse(&prev)
    {
        for s in prev.iter() {
            scope.insert(s.clone());
        }
    }
    if let Err(e) = core.store.put_consent(&session.sub, client.id.as_str(), &scope.to_string(), core.now()).await {
        return flow.back(&e.into());
    }
    flow.proceed(Some(&session), None, false, true).await.into_response()
}
