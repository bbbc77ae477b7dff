//! The `/device` pages of the device authorization grant (RFC 8628 §3.3): a person enters the
//! code their device shows, signs in (with the second factor when they have one), and approves
//! or denies. Wrong codes are throttled per source address against guessing (§5.1). The work is
//! `gatehouse_core::device`'s.

use crate::error::PageError;
use crate::pages::session::{current_session, form_params, start_session, throttled_message};
use crate::web::Pages;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use gatehouse_core::authorization::Authorization;
use gatehouse_core::device::{Devices, UserCodeError};
use gatehouse_core::factors::{CodeError, Factors, Next};
use gatehouse_core::sign_in::{CheckError, SignIn};
use gatehouse_protocol::device::display_user_code;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::secret::Secret;
use gatehouse_store::{DeviceRecord, Session};
use minijinja::{Value, context};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// A user who must first set up a second factor (or whose session did not use it) signs in
/// through the full sign-in, and this page then uses that session.
const SECOND_FACTOR_FIRST: &str =
    "This account signs in with a second factor. Sign in on your account page first, then enter the code again.";

/// What the device pages use.
#[derive(Clone)]
pub struct DevicePages {
    devices: Arc<Devices>,
    sign_in: Arc<SignIn>,
    az: Arc<Authorization>,
    factors: Arc<Factors>,
    pages: Arc<Pages>,
}

impl FromRef<crate::state::AppState> for DevicePages {
    fn from_ref(s: &crate::state::AppState) -> Self {
        Self {
            devices: s.services.devices.clone(),
            sign_in: s.services.sign_in.clone(),
            az: s.services.authorization.clone(),
            factors: s.services.factors.clone(),
            pages: s.pages.clone(),
        }
    }
}

impl DevicePages {
    fn page(&self, headers: &HeaderMap, status: StatusCode, ctx: Value) -> Response {
        let (csrf, set) = self.pages.csrf_token(headers, &self.sign_in);
        let mut r = self.pages.render(status, "device.html", context! { csrf, ..ctx });
        if let Some(set) = set {
            r.headers_mut().append(header::SET_COOKIE, set);
        }
        r
    }

    fn enter(&self, headers: &HeaderMap, status: StatusCode, user_code: Option<&str>, error: Option<&str>) -> Response {
        self.page(headers, status, context! { step => "enter", user_code, error })
    }

    /// A device form, checked: CSRF against the cookie, the code against the store, guesses
    /// throttled by source address.
    async fn checked(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
        peer: SocketAddr,
    ) -> Result<(Params, DeviceRecord), PageError> {
        let params = form_params(headers, body)?;
        let typed = params.get("user_code").unwrap_or("").to_owned();
        if !self.pages.csrf_matches(headers, &self.sign_in, params.get("csrf")) {
            return Err(self
                .enter(
                    headers,
                    StatusCode::FORBIDDEN,
                    Some(&typed),
                    Some("The form could not be verified. Please enter the code again."),
                )
                .into());
        }
        match self.devices.pending(&typed, peer.ip()).await {
            Ok(rec) => Ok((params, rec)),
            Err(UserCodeError::Throttled(wait)) => {
                let msg = format!("Too many wrong codes. Try again {}.", gatehouse_core::throttle::retry_in(wait));
                Err(self.enter(headers, StatusCode::TOO_MANY_REQUESTS, Some(&typed), Some(&msg)).into())
            }
            Err(UserCodeError::Unknown) => Err(self
                .enter(
                    headers,
                    StatusCode::BAD_REQUEST,
                    Some(&typed),
                    Some("That code is not valid or has expired. Check the code on your device."),
                )
                .into()),
            Err(UserCodeError::Store(e)) => Err(e.into()),
        }
    }

    /// Whether `session` may approve a device for this client: it used a second factor, or
    /// none is required of its user (none enrolled, and neither the deployment nor the client
    /// requires one).
    async fn strong_enough(&self, session: &Session, client_id: &str) -> Result<bool, PageError> {
        if session.amr.iter().any(|m| m == "mfa") {
            return Ok(true);
        }
        let required = self.factors.required_for(self.az.client_requires_second_factor(client_id).await?);
        Ok(!required && !self.factors.enrolled(&session.sub).await?.any())
    }

    /// Starts the session of a completed sign-in and goes on to the consent step.
    async fn signed_in(
        &self,
        headers: &HeaderMap,
        rec: &DeviceRecord,
        user: &gatehouse_protocol::user::User,
        amr: Vec<String>,
    ) -> Result<Response, PageError> {
        let (session, cookie) = start_session(&self.sign_in, &self.pages, headers, user, amr).await?;
        let mut r = self.consent_or_login(headers, rec, Some(&session)).await?;
        r.headers_mut().append(header::SET_COOKIE, cookie);
        Ok(r)
    }

    /// The second-factor step of the device page's sign-in.
    async fn factor_step(
        &self,
        headers: &HeaderMap,
        rec: &DeviceRecord,
        sealed: &str,
        status: StatusCode,
        error: Option<&str>,
    ) -> Response {
        let client_name = self.devices.client_name(&rec.client_id).await;
        let user_code = rec.user_code.clone();
        self.page(headers, status, context! { step => "factor", client_name, user_code, sealed, error })
    }

    async fn consent_or_login(
        &self,
        headers: &HeaderMap,
        rec: &DeviceRecord,
        session: Option<&Session>,
    ) -> Result<Response, PageError> {
        let client_name = self.devices.client_name(&rec.client_id).await;
        let user_code = rec.user_code.clone();
        let login = || self.page(headers, StatusCode::OK, context! { step => "login", client_name, user_code });
        let Some(session) = session else { return Ok(login()) };
        let Some(user) = self.az.user(&session.sub).await? else { return Ok(login()) };
        if !self.strong_enough(session, &rec.client_id).await? {
            let error = SECOND_FACTOR_FIRST;
            return Ok(self.page(
                headers,
                StatusCode::FORBIDDEN,
                context! { step => "login", client_name, user_code, error },
            ));
        }
        let scopes = self.az.scope_lines(&rec.scope);
        let resources = self.az.resource_lines(&rec.resources);
        let display_code = display_user_code(&rec.user_code);
        let username = user.username;
        Ok(self.page(
            headers,
            StatusCode::OK,
            context! { step => "consent", client_name, user_code, username, scopes, resources, display_code },
        ))
    }
}

/// GET `/device`, optionally with `user_code` (from `verification_uri_complete`).
pub async fn device_page(
    State(p): State<DevicePages>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    p.enter(&headers, StatusCode::OK, q.get("user_code").map(String::as_str), None)
}

/// POST `/device`: the code the person typed.
pub async fn device_submit(
    State(p): State<DevicePages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (_, rec) = p.checked(&headers, &body, peer).await?;
    let session = current_session(&p.sign_in, &p.pages, &headers).await?;
    p.consent_or_login(&headers, &rec, session.as_ref()).await
}

/// POST `/device/login`: signing in on the way to the consent step.
pub async fn device_login(
    State(p): State<DevicePages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (params, rec) = p.checked(&headers, &body, peer).await?;
    if !p.pages.password_login {
        return Err(PageError::refused(
            StatusCode::FORBIDDEN,
            "Passwords are not accepted here. Go back and choose how to sign in.",
            Some("access_denied"),
        ));
    }
    let username = params.get("username").unwrap_or("").to_owned();
    let password = Secret::new(params.get("password").unwrap_or(""));
    let retry = |status, error: &str| {
        let error = error.to_owned();
        let (p, headers, user_code, client_id, username) =
            (p.clone(), headers.clone(), rec.user_code.clone(), rec.client_id.clone(), username.clone());
        async move {
            let client_name = p.devices.client_name(&client_id).await;
            // What was typed stays, so only the password needs typing again.
            Ok(p.page(&headers, status, context! { step => "login", client_name, user_code, error, username }))
        }
    };
    let user = match p.sign_in.check_password(&username, &password, Some(peer.ip())).await {
        Err(CheckError::Throttled(wait)) => {
            return retry(StatusCode::TOO_MANY_REQUESTS, &throttled_message(wait)).await;
        }
        Err(CheckError::Store(e)) => return Err(e.into()),
        Err(CheckError::DirectoryUnavailable) => {
            return retry(StatusCode::SERVICE_UNAVAILABLE, crate::pages::authorize::DIRECTORY_DOWN).await;
        }
        Ok(None) => return retry(StatusCode::UNAUTHORIZED, "The username or password is incorrect.").await,
        Ok(Some(u)) => u,
    };
    // This form takes a password only: a user who must give a second factor signs in through
    // the full sign-in (the account page), whose session this page then uses.
    let client_requires = p.az.client_requires_second_factor(&rec.client_id).await?;
    match p.factors.after_password(&user, client_requires).await? {
        Next::Done => {}
        // The code comes next, on this page; the right password travels sealed to that form.
        Next::SecondFactor => {
            let Some(sealed) = p.factors.seal_device_sign_in(&user.sub, &rec.user_code) else {
                return retry(StatusCode::FORBIDDEN, SECOND_FACTOR_FIRST).await;
            };
            return Ok(p.factor_step(&headers, &rec, &sealed, StatusCode::OK, None).await);
        }
        Next::Enrol | Next::Impossible => return retry(StatusCode::FORBIDDEN, SECOND_FACTOR_FIRST).await,
    }
    p.signed_in(&headers, &rec, &user, vec!["pwd".into()]).await
}

/// POST `/device/factor`: the second factor's code after a right password.
pub async fn device_factor(
    State(p): State<DevicePages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (params, rec) = p.checked(&headers, &body, peer).await?;
    let sealed = params.get("sealed").unwrap_or("");
    let Some(sub) = p.factors.open_device_sign_in(sealed, &rec.user_code) else {
        return p.consent_or_login(&headers, &rec, None).await;
    };
    let checked = match p.factors.check_code(&sub, params.get("code").unwrap_or(""), Some(peer.ip())).await {
        Ok(c) => c,
        Err(CodeError::Throttled(wait)) => {
            let msg = throttled_message(wait);
            return Ok(p.factor_step(&headers, &rec, sealed, StatusCode::TOO_MANY_REQUESTS, Some(&msg)).await);
        }
        Err(CodeError::Wrong) => {
            let msg = "The code is not right. Try the next code from your app.";
            return Ok(p.factor_step(&headers, &rec, sealed, StatusCode::UNAUTHORIZED, Some(msg)).await);
        }
        Err(CodeError::Store(e)) => return Err(e.into()),
    };
    let Some(user) = p.az.active_user(&sub).await? else { return p.consent_or_login(&headers, &rec, None).await };
    let amr = crate::pages::second_factor::with_factor(&["pwd".to_owned()], &checked.amr);
    p.signed_in(&headers, &rec, &user, amr).await
}

/// POST `/device/consent`: approve or deny.
pub async fn device_consent(
    State(p): State<DevicePages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (params, rec) = p.checked(&headers, &body, peer).await?;
    let Some(session) = current_session(&p.sign_in, &p.pages, &headers).await? else {
        return p.consent_or_login(&headers, &rec, None).await;
    };
    if !p.strong_enough(&session, &rec.client_id).await? {
        return p.consent_or_login(&headers, &rec, Some(&session)).await;
    }
    let approved = match params.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    };
    if !p.devices.decide(&rec, &session, approved).await? {
        return Ok(p.enter(
            &headers,
            StatusCode::BAD_REQUEST,
            None,
            Some("That code has expired. Start again on your device."),
        ));
    }
    let client_name = p.devices.client_name(&rec.client_id).await;
    Ok(p.page(&headers, StatusCode::OK, context! { step => "done", approved, client_name }))
}
