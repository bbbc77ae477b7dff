//! `/authorize`, `/login`, `/consent` (RFC 6749 §4.1; OIDC Core §3.1.2; RFC 7636; RFC 9207).
//!
//! The request is validated by `gatehouse_protocol::authorize`; while the user signs in and
//! consents it is kept server-side as an *interaction* (`gatehouse_core::authorization`; found
//! by a random id in the form, bound to the browser by a CSRF cookie that must match the form
//! and the stored value). Signing in always creates a new session id (no fixation). A user with
//! a second factor gives it after the password (`pages::second_factor` takes the code); the
//! session starts only then.

use crate::error::PageError;
use crate::pages::session::{form_params, start_session, throttled_message};
use crate::web::{Pages, SESSION_COOKIE, authorization_response};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authorization::Authorization;
use gatehouse_core::factors::passkey::Purpose;
use gatehouse_core::factors::{EnrolError, Factors, Next};
use gatehouse_core::request_objects::RequestObjects;
use gatehouse_core::secrets::constant_time_eq;
use gatehouse_core::sign_in::{CheckError, SignIn};
use gatehouse_protocol::authorize::{
    self, AuthorizeRequest, DecideContext, Decision, ResponseMode, SessionView, TargetError,
};
use gatehouse_protocol::client::{Client, ClientId};
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::User;
use gatehouse_store::{PendingFactor, Session};
use minijinja::context;
use std::sync::Arc;

/// A response plus cookies to set on it.
pub(crate) struct Reply {
    pub(crate) response: Response,
    pub(crate) cookies: Vec<HeaderValue>,
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

/// The services the authorization pages use.
pub(crate) struct Services<'a> {
    pub(crate) az: &'a Authorization,
    pub(crate) sign_in: &'a SignIn,
    pub(crate) factors: &'a Factors,
    pub(crate) pages: &'a Pages,
}

fn target_error(e: TargetError) -> PageError {
    PageError::refused(StatusCode::BAD_REQUEST, e.message(), Some("invalid_request"))
}

/// The parameters of an authorization request: the query of a GET, the form of a POST (OIDC
/// Core §3.1.2.1: both must be supported). Until the client and redirect URI are known to be
/// good, errors are pages, never redirects.
pub struct AuthorizeParams(Params);

impl<S: Send + Sync> FromRequest<S> for AuthorizeParams {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let malformed =
            |e: OAuthError| PageError::refused(StatusCode::BAD_REQUEST, "The request is malformed.", Some(e.code()));
        if req.method() != Method::POST {
            return Params::parse(req.uri().query().unwrap_or("").as_bytes()).map(Self).map_err(malformed);
        }
        if !crate::extract::is_form(req.headers()) {
            return Err(PageError::bad_request("The request must be a form post."));
        }
        // A body over the limit keeps its 413.
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError::refused(e.status(), "The request is too large or malformed.", None))?;
        Params::parse(&body).map(Self).map_err(malformed)
    }
}

/// GET or POST `/authorize`.
pub async fn authorize(
    State(az): State<Arc<Authorization>>,
    State(requests): State<Arc<RequestObjects>>,
    State(sign_in): State<Arc<SignIn>>,
    State(factors): State<Arc<Factors>>,
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    AuthorizeParams(params): AuthorizeParams,
) -> Result<Response, PageError> {
    let client = match params.get("client_id").map(ClientId::parse) {
        None => return Err(target_error(TargetError::MissingClientId)),
        Some(Err(_)) => return Err(target_error(TargetError::UnknownClient)),
        Some(Ok(id)) => az.client(&id).await?.ok_or_else(|| target_error(TargetError::UnknownClient))?,
    };
    // A request object or a pushed request (RFC 9101, RFC 9126) replaces the parameters. Its
    // problems are shown, not redirected: the redirect URI itself may be what it failed to
    // carry.
    let params = requests.resolve(&client, params).await.map_err(|e| match e {
        OAuthError::Server(_) | OAuthError::TemporarilyUnavailable(_) => PageError::from(e),
        e => PageError::refused(
            StatusCode::BAD_REQUEST,
            e.description().unwrap_or("The request is malformed."),
            Some(e.code()),
        ),
    })?;
    let redirect_uri = authorize::resolve_target(&client, &params).map_err(target_error)?;
    // From here on, errors go back to the client.
    let s = Services { az: &az, sign_in: &sign_in, factors: &factors, pages: &pages };
    let (mode, jarm) = authorize::error_response_mode(&params);
    let state = params.get("state").map(str::to_owned);
    let target = Target { client: &client, redirect_uri: redirect_uri.as_str(), mode, jarm, state: state.as_deref() };
    let back = async |e: OAuthError| error_redirect(&s, &target, &e).await;
    let catalog = az.catalog();
    let req =
        match authorize::validate(&client, redirect_uri.clone(), &params, &|s| catalog.knows(s), &catalog.resources) {
            Ok(r) => r,
            Err(e) => return Ok(back(e).await),
        };
    let hint_sub = match &req.id_token_hint {
        None => None,
        Some(hint) => match az.id_token_hint_subject(hint, &client).await {
            Ok(Some(sub)) => Some(sub),
            Ok(None) => {
                return Ok(
                    back(OAuthError::InvalidRequest("id_token_hint is not a valid ID token from this issuer")).await
                );
            }
            Err(e) => return Ok(back(e).await),
        },
    };
    let session = match sign_in.current_session(pages.read_cookie(&headers, SESSION_COOKIE)).await {
        Ok(s) => s,
        Err(e) => return Ok(back(e).await),
    };
    let flow = Flow { s: &s, client: &client, req: &req, interaction: None, headers: &headers };
    Ok(flow.proceed(session.as_ref(), hint_sub.as_deref(), false, false).await.into_response())
}

/// Where and how an authorization response goes.
struct Target<'a> {
    client: &'a Client,
    redirect_uri: &'a str,
    mode: ResponseMode,
    /// JARM: the parameters travel as one signed JWT, `response`.
    jarm: bool,
    state: Option<&'a str>,
}

/// Sends `params` to the target: as they are, or (JARM) signed into `response`.
async fn respond(s: &Services<'_>, t: &Target<'_>, params: &[(&str, &str)]) -> Response {
    let nonce = s.az.random(16);
    if !t.jarm {
        return authorization_response(s.pages, t.redirect_uri, t.mode, params, &nonce);
    }
    match s.az.jarm(t.client, params).await {
        Ok(jwt) => authorization_response(s.pages, t.redirect_uri, t.mode, &[("response", jwt.as_str())], &nonce),
        Err(e) => PageError::from(e).into_response(),
    }
}

/// RFC 6749 §4.1.2.1 with RFC 9207's `iss`.
async fn error_redirect(s: &Services<'_>, t: &Target<'_>, e: &OAuthError) -> Response {
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
    if let Some(st) = t.state {
        params.push(("state", st));
    }
    params.push(("iss", s.az.issuer()));
    respond(s, t, &params).await
}

/// An authorization request in progress.
pub(crate) struct Flow<'a> {
    pub(crate) s: &'a Services<'a>,
    pub(crate) client: &'a Client,
    pub(crate) req: &'a AuthorizeRequest,
    /// The interaction id and CSRF token when continuing from a login or consent form.
    pub(crate) interaction: Option<(String, String)>,
    pub(crate) headers: &'a HeaderMap,
}

impl Flow<'_> {
    fn target(&self) -> Target<'_> {
        Target {
            client: self.client,
            redirect_uri: self.req.redirect_uri.as_str(),
            mode: self.req.response_mode,
            jarm: self.req.jarm,
            state: self.req.state.as_deref(),
        }
    }

    pub(crate) async fn back(&self, e: &OAuthError) -> Response {
        error_redirect(self.s, &self.target(), e).await
    }

    pub(crate) async fn proceed(
        self,
        session: Option<&Session>,
        hint_sub: Option<&str>,
        fresh_login: bool,
        consent_now: bool,
    ) -> Reply {
        let az = self.s.az;
        let consented = match session {
            Some(s) => match az.consented(&s.sub, self.client).await {
                Ok(c) => c,
                Err(e) => return self.reply(self.back(&e.into()).await),
            },
            None => None,
        };
        let view = session.map(|s| SessionView { sub: s.sub.clone(), auth_time: s.auth_time, amr: s.amr.clone() });
        // What this user could step up to: the methods they can perform here.
        let mut acr = az.acr_policy().clone();
        // A user with a second factor gives it at every sign-in: a session from before they
        // enrolled one steps up too.
        let mut has_factor = false;
        if let Some(s) = session {
            match self.s.factors.available_methods(&s.sub).await {
                Ok(m) => {
                    has_factor = m.iter().any(|x| x == "mfa");
                    acr.available.retain(|a| m.contains(a));
                }
                Err(e) => return self.reply(self.back(&e.into()).await),
            }
        }
        let ctx = DecideContext {
            session: view.as_ref(),
            hint_sub,
            fresh_login,
            consented: consented.as_ref(),
            consent_given_now: consent_now,
            now: az.now(),
            acr: Some(&acr),
            second_factor_required: has_factor || self.s.factors.required_for(self.client.require_second_factor),
        };
        match authorize::decide(self.req, self.client, &ctx) {
            Err(e) => self.finish(self.back(&e).await).await,
            Ok(Decision::Login) => self.login_page(None, StatusCode::OK).await,
            Ok(Decision::StepUp) => match session {
                Some(s) => self.step_up(s, has_factor).await,
                None => self.login_page(None, StatusCode::OK).await,
            },
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

    pub(crate) fn reply(&self, response: Response) -> Reply {
        Reply { response, cookies: Vec::new() }
    }

    /// Ends the interaction (if any): the request is answered.
    pub(crate) async fn finish(&self, response: Response) -> Reply {
        if let Some((id, _)) = &self.interaction {
            self.s.az.close_interaction(id).await;
        }
        self.reply(response)
    }

    /// The interaction for the forms, creating it (and the CSRF cookie) when new.
    async fn interaction(&self) -> Result<(String, String, Vec<HeaderValue>), OAuthError> {
        if let Some((id, csrf)) = &self.interaction {
            return Ok((id.clone(), csrf.clone(), Vec::new()));
        }
        let (csrf, new_cookie) = self.s.pages.csrf_token(self.headers, self.s.sign_in);
        let id = self.s.az.open_interaction(self.req, &csrf).await?;
        Ok((id, csrf, new_cookie.into_iter().collect()))
    }

    pub(crate) async fn login_page(&self, error: Option<&str>, status: StatusCode) -> Reply {
        self.login_form(error, status, self.req.login_hint.clone()).await
    }

    /// The login page, its username field filled with `username` (the hint, or what was typed).
    async fn login_form(&self, error: Option<&str>, status: StatusCode, username: Option<String>) -> Reply {
        let (interaction, csrf, cookies) = match self.interaction().await {
            Ok(x) => x,
            Err(e) => return self.reply(self.back(&e).await),
        };
        let passkey = self.s.factors.passkey_ceremony(Purpose::SignIn { interaction: &interaction }).await;
        let passkey = passkey.map(|c| context! { id => c.id, options => c.options });
        let has_passkey = passkey.is_some();
        let mut response = self.s.pages.render(
            status,
            "login.html",
            context! {
                interaction, csrf, error, passkey,
                client_name => self.client.name.clone().unwrap_or_else(|| self.client.id.to_string()),
                username,
                ui_locales => self.req.ui_locales.clone(),
            },
        );
        // Signing in may answer the client at once (consent given before, or first party).
        crate::web::allow_form_redirect(&mut response, self.req.redirect_uri.as_str());
        if has_passkey {
            crate::web::allow_own_script(&mut response);
        }
        Reply { response, cookies }
    }

    /// A session that must add a factor: the factor page for a user who has one (`enrolled`),
    /// enrolment for one who must have one, and otherwise a new sign-in.
    async fn step_up(&self, session: &Session, enrolled: bool) -> Reply {
        let factors = self.s.factors;
        let can_enrol = factors.required_for(self.client.require_second_factor) && factors.totp_available();
        if !(enrolled || can_enrol) {
            return self.login_page(None, StatusCode::OK).await;
        }
        let pending =
            PendingFactor { sub: session.sub.clone(), amr: session.amr.clone(), enrol: !enrolled, step_up: true };
        self.ask_factor(pending).await
    }

    /// Keeps `pending` with the interaction and shows its page: the code, or enrolment.
    pub(crate) async fn ask_factor(&self, pending: PendingFactor) -> Reply {
        let (interaction, csrf, cookies) = match self.interaction().await {
            Ok(x) => x,
            Err(e) => return self.reply(self.back(&e).await),
        };
        if let Err(e) = self.s.az.note_pending_factor(&interaction, Some(&pending)).await {
            return self.reply(self.back(&e).await);
        }
        let flow = Flow { interaction: Some((interaction, csrf)), ..*self };
        let mut reply = if pending.enrol {
            flow.enrol_form(&pending, None, None, StatusCode::OK, None).await
        } else {
            flow.factor_form(&pending, None, StatusCode::OK).await
        };
        reply.cookies.extend(cookies);
        reply
    }

    /// The second-factor page of an interaction.
    pub(crate) async fn factor_form(&self, pending: &PendingFactor, error: Option<&str>, status: StatusCode) -> Reply {
        let Some((interaction, csrf)) = self.interaction.clone() else {
            return self.login_page(None, StatusCode::OK).await;
        };
        let purpose = Purpose::SecondFactor { interaction: &interaction, sub: &pending.sub };
        let passkey = self.s.factors.passkey_ceremony(purpose).await;
        let passkey = passkey.map(|c| context! { id => c.id, options => c.options });
        let has_passkey = passkey.is_some();
        let ctx = context! {
            interaction, csrf, error, passkey,
            step_up => pending.step_up,
            ui_locales => self.req.ui_locales.clone(),
        };
        let mut response = self.s.pages.render(status, "factor.html", ctx);
        crate::web::allow_form_redirect(&mut response, self.req.redirect_uri.as_str());
        if has_passkey {
            crate::web::allow_own_script(&mut response);
        }
        self.reply(response)
    }

    /// The enrolment page of an interaction: `sealed`, the secret being enrolled when its form
    /// came back, else a new one.
    pub(crate) async fn enrol_form(
        &self,
        pending: &PendingFactor,
        sealed: Option<&str>,
        error: Option<&str>,
        status: StatusCode,
        name: Option<&str>,
    ) -> Reply {
        let Some((interaction, csrf)) = self.interaction.clone() else {
            return self.login_page(None, StatusCode::OK).await;
        };
        let user = match self.s.az.active_user(&pending.sub).await {
            Ok(Some(u)) => u,
            Ok(None) => return self.login_page(None, StatusCode::OK).await,
            Err(e) => return self.reply(self.back(&e.into()).await),
        };
        let factors = self.s.factors;
        let enrolment = match sealed.and_then(|s| factors.resume_totp(&user, s)) {
            Some(e) => e,
            None => match factors.start_totp(&user) {
                Ok(e) => e,
                Err(e) => return self.reply(enrol_refused(e).into_response()),
            },
        };
        let ctx = context! {
            interaction, csrf, error, name,
            action => "/login/enrol",
            required => true,
            qr => crate::web::qr_svg(&enrolment.uri),
            secret => enrolment.secret,
            sealed => enrolment.sealed,
            ui_locales => self.req.ui_locales.clone(),
        };
        let mut response = self.s.pages.render(status, "enrol_totp.html", ctx);
        crate::web::allow_form_redirect(&mut response, self.req.redirect_uri.as_str());
        self.reply(response)
    }

    async fn consent_page(&self, session: &Session) -> Reply {
        let (interaction, csrf, cookies) = match self.interaction().await {
            Ok(x) => x,
            Err(e) => return self.reply(self.back(&e).await),
        };
        let username = match self.s.az.user(&session.sub).await {
            Ok(Some(u)) => u.username,
            Ok(None) => return self.login_page(None, StatusCode::OK).await,
            Err(e) => return self.reply(self.back(&e.into()).await),
        };
        let scopes = self.s.az.scope_lines(&self.req.scope);
        let resources = self.s.az.resource_lines(&self.req.resources);
        let mut response = self.s.pages.render(
            StatusCode::OK,
            "consent.html",
            context! {
                interaction, csrf, scopes, resources, username,
                client_name => self.client.name.clone().unwrap_or_else(|| self.client.id.to_string()),
                ui_locales => self.req.ui_locales.clone(),
            },
        );
        crate::web::allow_form_redirect(&mut response, self.req.redirect_uri.as_str());
        Reply { response, cookies }
    }

    /// Answers the request: a code, tokens, or both.
    async fn issue(&self, session: &Session) -> Response {
        match self.s.az.issue(self.client, self.req, session).await {
            Ok(params) => {
                let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                respond(self.s, &self.target(), &borrowed).await
            }
            Err(e) => self.back(&e).await,
        }
    }
}

/// An enrolment that cannot go on, as a page.
pub(crate) fn enrol_refused(e: EnrolError) -> PageError {
    match e {
        EnrolError::Store(e) => e.into(),
        EnrolError::Unavailable => PageError::refused(
            StatusCode::FORBIDDEN,
            "A second factor cannot be set up here. Contact the administrator.",
            Some("access_denied"),
        ),
        e => PageError::refused(StatusCode::BAD_REQUEST, e.to_string(), Some("invalid_request")),
    }
}

/// A login or consent form, resumed: its parameters and the interaction it belongs to.
pub(crate) struct Resumed {
    pub(crate) params: Params,
    pub(crate) req: AuthorizeRequest,
    pub(crate) client: Client,
    pub(crate) interaction: (String, String),
    /// The session a sign-in during this interaction started.
    pub(crate) login_sid: Option<String>,
    /// The sign-in waiting for its second factor.
    pub(crate) pending_factor: Option<PendingFactor>,
}

/// Parses a login or consent form and loads the interaction it refers to, checking the CSRF
/// token against both the cookie and the stored value.
pub(crate) async fn resume(
    az: &Authorization,
    sign_in: &SignIn,
    pages: &Pages,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Resumed, PageError> {
    let params = form_params(headers, body)?;
    let expired = || {
        PageError::bad_request(
            "This sign-in page has expired or was opened elsewhere. Go back to the application and start again.",
        )
    };
    let (Some(id), Some(csrf)) = (params.get("interaction").map(str::to_owned), params.get("csrf").map(str::to_owned))
    else {
        return Err(expired());
    };
    let cookie_ok = pages.csrf_matches(headers, sign_in, Some(&csrf));
    let pending = az.interaction(&id).await?.ok_or_else(expired)?;
    if !cookie_ok || !constant_time_eq(&pending.csrf, &csrf) {
        return Err(PageError::refused(
            StatusCode::FORBIDDEN,
            "The form could not be verified. Go back to the application and start again.",
            Some("invalid_request"),
        ));
    }
    let req = pending.request;
    let client = az.client(&req.client_id).await?.ok_or_else(|| target_error(TargetError::UnknownClient))?;
    Ok(Resumed {
        params,
        req,
        client,
        interaction: (id, csrf),
        login_sid: pending.login_sid,
        pending_factor: pending.pending_factor,
    })
}

/// What a sign-in page says when the LDAP directory that checks passwords is down.
pub(crate) const DIRECTORY_DOWN: &str =
    "Passwords cannot be checked right now: the directory is not answering. Try again in a few minutes.";

/// POST `/login`: username and password for a pending interaction.
pub async fn login(
    State(az): State<Arc<Authorization>>,
    State(sign_in): State<Arc<SignIn>>,
    State(factors): State<Arc<Factors>>,
    State(pages): State<Arc<Pages>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Resumed { params, req, client, interaction, .. } = resume(&az, &sign_in, &pages, &headers, &body).await?;
    if !pages.password_login {
        return Err(PageError::refused(
            StatusCode::FORBIDDEN,
            "Passwords are not accepted here. Go back and choose how to sign in.",
            Some("access_denied"),
        ));
    }
    let s = Services { az: &az, sign_in: &sign_in, factors: &factors, pages: &pages };
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let username = params.get("username").unwrap_or("").to_owned();
    let password = Secret::new(params.get("password").unwrap_or(""));
    let user = match sign_in.check_password(&username, &password, Some(peer.ip())).await {
        Err(CheckError::Throttled(wait)) => {
            let msg = throttled_message(wait);
            return Ok(flow
                .login_form(Some(&msg), StatusCode::TOO_MANY_REQUESTS, Some(username))
                .await
                .into_response());
        }
        Err(CheckError::Store(e)) => return Err(e.into()),
        Err(CheckError::DirectoryUnavailable) => {
            let message = DIRECTORY_DOWN;
            return Ok(flow
                .login_form(Some(message), StatusCode::SERVICE_UNAVAILABLE, Some(username))
                .await
                .into_response());
        }
        // The same message whether the user exists or not.
        Ok(None) => {
            let message = "The username or password is incorrect.";
            return Ok(flow.login_form(Some(message), StatusCode::UNAUTHORIZED, Some(username)).await.into_response());
        }
        Ok(Some(u)) => u,
    };
    Ok(first_factor_done(&flow, &user, vec!["pwd".into()]).await?.into_response())
}

/// A first factor passed (`amr`: how): the second one when the user or the client needs one
/// (not when `amr` has `mfa` already), else the session starts.
pub(crate) async fn first_factor_done(flow: &Flow<'_>, user: &User, amr: Vec<String>) -> Result<Reply, PageError> {
    let pending = |enrol| PendingFactor { sub: user.sub.clone(), amr: amr.clone(), enrol, step_up: false };
    if !amr.iter().any(|m| m == "mfa") {
        match flow.s.factors.after_password(user, flow.client.require_second_factor).await? {
            Next::Done => {}
            Next::SecondFactor => return Ok(flow.ask_factor(pending(false)).await),
            Next::Enrol => return Ok(flow.ask_factor(pending(true)).await),
            Next::Impossible => {
                return Err(PageError::refused(
                    StatusCode::FORBIDDEN,
                    "This account needs a second factor, which cannot be set up here. Contact the administrator.",
                    Some("access_denied"),
                ));
            }
        }
    }
    signed_in(flow, user, amr).await
}

/// Starts the session of a completed sign-in and goes on with the request: the rest of the
/// interaction (a consent page) knows the user has just signed in.
pub(crate) async fn signed_in(flow: &Flow<'_>, user: &User, amr: Vec<String>) -> Result<Reply, PageError> {
    let s = flow.s;
    let (session, session_cookie) = start_session(s.sign_in, s.pages, flow.headers, user, amr).await?;
    tracing::info!(sub = %user.sub, client_id = %flow.client.id, amr = ?session.amr, "user signed in");
    if let Some((id, _)) = &flow.interaction
        && let Err(e) = s.az.note_login(id, &session.sid).await
    {
        return Ok(flow.reply(flow.back(&e).await));
    }
    let mut reply =
        Flow { interaction: flow.interaction.clone(), ..*flow }.proceed(Some(&session), None, true, false).await;
    reply.cookies.push(session_cookie);
    Ok(reply)
}

/// POST `/consent`: approve or deny a pending interaction.
pub async fn consent(
    State(az): State<Arc<Authorization>>,
    State(sign_in): State<Arc<SignIn>>,
    State(factors): State<Arc<Factors>>,
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Resumed { params, req, client, interaction, login_sid, .. } =
        resume(&az, &sign_in, &pages, &headers, &body).await?;
    let s = Services { az: &az, sign_in: &sign_in, factors: &factors, pages: &pages };
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let session = match sign_in.current_session(pages.read_cookie(&headers, SESSION_COOKIE)).await {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(flow.login_page(None, StatusCode::OK).await.into_response()),
        Err(e) => return Ok(flow.back(&e).await),
    };
    match params.get("decision") {
        Some("approve") => {}
        Some("deny") => {
            let denied = flow.back(&OAuthError::AccessDenied("the user denied the request")).await;
            return Ok(flow.finish(denied).await.into_response());
        }
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    }
    if let Err(e) = az.remember_consent(&session.sub, &client, &req.scope).await {
        return Ok(flow.back(&e.into()).await);
    }
    // A sign-in earlier in this interaction, into this very session, still counts as fresh.
    let fresh_login = login_sid.as_deref() == Some(session.sid.as_str());
    Ok(flow.proceed(Some(&session), None, fresh_login, true).await.into_response())
}
