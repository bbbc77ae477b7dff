//! `/authorize`, `/login`, `/consent` (RFC 6749 §4.1; OIDC Core §3.1.2; RFC 7636; RFC 9207).
//!
//! The request is validated by `gatehouse_protocol::authorize`; while the user signs in and
//! consents it is kept server-side as an *interaction* (`gatehouse_core::authorization`; found
//! by a random id in the form, bound to the browser by a CSRF cookie that must match the form
//! and the stored value). Signing in always creates a new session id (no fixation).

use crate::error::PageError;
use crate::pages::session::{form_params, start_session, throttled_message};
use crate::web::{Pages, SESSION_COOKIE, authorization_response};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authorization::Authorization;
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
use gatehouse_store::Session;
use minijinja::context;
use std::sync::Arc;

/// A response plus cookies to set on it.
struct Reply {
    response: Response,
    cookies: Vec<HeaderValue>,
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
struct Services<'a> {
    az: &'a Authorization,
    sign_in: &'a SignIn,
    pages: &'a Pages,
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
    let s = Services { az: &az, sign_in: &sign_in, pages: &pages };
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
struct Flow<'a> {
    s: &'a Services<'a>,
    client: &'a Client,
    req: &'a AuthorizeRequest,
    /// The interaction id and CSRF token when continuing from a login or consent form.
    interaction: Option<(String, String)>,
    headers: &'a HeaderMap,
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

    async fn back(&self, e: &OAuthError) -> Response {
        error_redirect(self.s, &self.target(), e).await
    }

    async fn proceed(
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
        let ctx = DecideContext {
            session: view.as_ref(),
            hint_sub,
            fresh_login,
            consented: consented.as_ref(),
            consent_given_now: consent_now,
            now: az.now(),
            acr: Some(az.acr_policy()),
        };
        match authorize::decide(self.req, self.client, &ctx) {
            Err(e) => self.finish(self.back(&e).await).await,
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

    async fn login_page(&self, error: Option<&str>, status: StatusCode) -> Reply {
        self.login_form(error, status, self.req.login_hint.clone()).await
    }

    /// The login page, its username field filled with `username` (the hint, or what was typed).
    async fn login_form(&self, error: Option<&str>, status: StatusCode, username: Option<String>) -> Reply {
        let (interaction, csrf, cookies) = match self.interaction().await {
            Ok(x) => x,
            Err(e) => return self.reply(self.back(&e).await),
        };
        let mut response = self.s.pages.render(
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

/// A login or consent form, resumed: its parameters and the interaction it belongs to.
struct Resumed {
    params: Params,
    req: AuthorizeRequest,
    client: Client,
    interaction: (String, String),
    /// The session a sign-in during this interaction started.
    login_sid: Option<String>,
}

/// Parses a login or consent form and loads the interaction it refers to, checking the CSRF
/// token against both the cookie and the stored value.
async fn resume(
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
    Ok(Resumed { params, req, client, interaction: (id, csrf), login_sid: pending.login_sid })
}

/// POST `/login`: username and password for a pending interaction.
pub async fn login(
    State(az): State<Arc<Authorization>>,
    State(sign_in): State<Arc<SignIn>>,
    State(pages): State<Arc<Pages>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Resumed { params, req, client, interaction, .. } = resume(&az, &sign_in, &pages, &headers, &body).await?;
    let interaction_id = interaction.0.clone();
    let s = Services { az: &az, sign_in: &sign_in, pages: &pages };
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
        // The same message whether the user exists or not.
        Ok(None) => {
            let message = "The username or password is incorrect.";
            return Ok(flow.login_form(Some(message), StatusCode::UNAUTHORIZED, Some(username)).await.into_response());
        }
        Ok(Some(u)) => u,
    };
    let (session, session_cookie) = start_session(&sign_in, &pages, &headers, &user).await?;
    tracing::info!(sub = %user.sub, client_id = %client.id, "user signed in");
    // The rest of this interaction (a consent page) knows the user has just signed in.
    if let Err(e) = az.note_login(&interaction_id, &session.sid).await {
        return Ok(flow.back(&e).await);
    }
    let mut reply = flow.proceed(Some(&session), None, true, false).await;
    reply.cookies.push(session_cookie);
    Ok(reply.into_response())
}

/// POST `/consent`: approve or deny a pending interaction.
pub async fn consent(
    State(az): State<Arc<Authorization>>,
    State(sign_in): State<Arc<SignIn>>,
    State(pages): State<Arc<Pages>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Resumed { params, req, client, interaction, login_sid } =
        resume(&az, &sign_in, &pages, &headers, &body).await?;
    let s = Services { az: &az, sign_in: &sign_in, pages: &pages };
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
