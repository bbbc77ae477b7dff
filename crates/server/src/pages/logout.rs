//! `/end_session`: OpenID Connect RP-Initiated Logout 1.0. Ends the SSO session, then sends the
//! user to the client's registered `post_logout_redirect_uri` (with `state`) or shows a
//! signed-out page. Without an `id_token_hint` naming this very session the user is asked first,
//! so a link cannot sign anyone out behind their back. Ending a session tells its clients
//! (back-channel logout, `gatehouse_core::backchannel`).

use crate::error::PageError;
use crate::pages::session::{current_session, form_params};
use crate::web::{Pages, SESSION_COOKIE};
use axum::body::Bytes;
use axum::extract::{FromRef, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authorization::Authorization;
use gatehouse_core::backchannel::Backchannel;
use gatehouse_core::issuer::TokenIssuer;
use gatehouse_core::sign_in::SignIn;
use gatehouse_protocol::client::{Client, ClientId};
use gatehouse_protocol::end_session::{self, HintClaims, LogoutError, LogoutRequest};
use gatehouse_protocol::params::Params;
use gatehouse_store::Session;
use minijinja::context;
use serde_json::Value;
use std::sync::Arc;

/// What the logout pages use.
#[derive(Clone)]
pub struct LogoutPages {
    sign_in: Arc<SignIn>,
    az: Arc<Authorization>,
    tokens: Arc<TokenIssuer>,
    backchannel: Arc<Backchannel>,
    pages: Arc<Pages>,
}

impl FromRef<crate::state::AppState> for LogoutPages {
    fn from_ref(s: &crate::state::AppState) -> Self {
        Self {
            sign_in: s.services.sign_in.clone(),
            az: s.services.authorization.clone(),
            tokens: s.services.tokens.clone(),
            backchannel: s.services.backchannel.clone(),
            pages: s.pages.clone(),
        }
    }
}

fn refuse(e: LogoutError) -> PageError {
    PageError::refused(StatusCode::BAD_REQUEST, e.message(), Some("invalid_request"))
}

impl LogoutPages {
    /// Verifies an `id_token_hint`: our signature and issuer; expiry does not matter (§2).
    fn hint_claims(&self, hint: &str) -> Option<HintClaims> {
        let claims = self.tokens.verify_own(hint)?;
        let aud = match claims.get("aud")? {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => return None,
        };
        Some(HintClaims {
            aud,
            sub: claims.get("sub")?.as_str()?.to_owned(),
            sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
        })
    }

    async fn load_client(&self, id: Option<&str>) -> Result<Option<Client>, PageError> {
        let Some(id) = id else { return Ok(None) };
        let Ok(id) = ClientId::parse(id) else { return Err(refuse(LogoutError::UnregisteredRedirect)) };
        match self.az.client(&id).await? {
            Some(c) => Ok(Some(c)),
            None => Err(PageError::bad_request("The application asking to sign you out is not known here.")),
        }
    }

    /// Ends the session (if any) and answers: redirect back with `state`, or the signed-out page.
    async fn finish(
        &self,
        headers: &HeaderMap,
        req: &LogoutRequest,
        session: Option<&Session>,
    ) -> Result<Response, PageError> {
        if let Some(s) = session {
            if let Some(id) = self.pages.read_cookie(headers, SESSION_COOKIE) {
                self.sign_in.end_session(id).await?;
            }
            tracing::info!(sub = %s.sub, sid = %s.sid, "session ended by logout");
            self.backchannel.session_ended(s).await;
        }
        let mut r = match &req.post_logout_redirect_uri {
            Some(uri) => {
                let mut location = uri.clone();
                if let Some(state) = &req.state {
                    let sep = if uri.contains('?') { '&' } else { '?' };
                    location.push(sep);
                    location.push_str(
                        &url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish(),
                    );
                }
                let mut r = StatusCode::SEE_OTHER.into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            None => self.pages.render(StatusCode::OK, "logout.html", context! { step => "done" }),
        };
        r.headers_mut().append(header::SET_COOKIE, self.pages.cookie(SESSION_COOKIE, "", 0));
        Ok(r)
    }
}

/// GET or POST `/end_session` (§2: both must be supported).
pub async fn end_session(
    State(p): State<LogoutPages>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = if method == Method::POST {
        form_params(&headers, &body)?
    } else {
        Params::parse(query.as_deref().unwrap_or("").as_bytes())
            .map_err(|e| PageError::refused(StatusCode::BAD_REQUEST, "The request is malformed.", Some(e.code())))?
    };
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(h) => Some(p.hint_claims(h).ok_or_else(|| refuse(LogoutError::BadHint))?),
    };
    let client_id = params.get("client_id").or_else(|| hint.as_ref().and_then(|h| h.aud.first().map(String::as_str)));
    let client = p.load_client(client_id).await?;
    let session = current_session(&p.sign_in, &p.pages, &headers).await?;
    // The hint names the user as the client knows them (a pairwise client by its own subject).
    let known_as = session.as_ref().map(|s| match &client {
        Some(c) => p.tokens.subject_for(c, &s.sub),
        None => s.sub.clone(),
    });
    let req = end_session::validate(
        &params,
        hint.as_ref(),
        client.as_ref(),
        session.as_ref().zip(known_as.as_deref()).map(|(s, sub)| (sub, s.sid.as_str())),
    )
    .map_err(refuse)?;
    let Some(session) = session else { return p.finish(&headers, &req, None).await };
    if req.confirmed_by_hint {
        return p.finish(&headers, &req, Some(&session)).await;
    }
    let username = p.az.user(&session.sub).await.ok().flatten().map(|u| u.username);
    let (csrf, new_cookie) = p.pages.csrf_token(&headers, &p.sign_in);
    let mut r = p.pages.render(
        StatusCode::OK,
        "logout.html",
        context! {
            step => "confirm", csrf, username,
            client_id => req.client_id, client_name => client.and_then(|c| c.name),
            post_logout_redirect_uri => req.post_logout_redirect_uri, state => req.state,
        },
    );
    if let Some(target) = &req.post_logout_redirect_uri {
        crate::web::allow_form_redirect(&mut r, target);
    }
    if let Some(c) = new_cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(r)
}

/// POST `/end_session/confirm`: the user's answer to the confirmation page. Everything in the
/// form is checked again, as if it came from outside.
pub async fn confirm(State(p): State<LogoutPages>, headers: HeaderMap, body: Bytes) -> Result<Response, PageError> {
    let params = form_params(&headers, &body)?;
    if !p.pages.csrf_matches(&headers, &p.sign_in, params.get("csrf")) {
        return Err(PageError::refused(
            StatusCode::FORBIDDEN,
            "The form could not be verified. Nothing was changed.",
            Some("invalid_request"),
        ));
    }
    let client = p.load_client(params.get("client_id")).await?;
    let req = end_session::validate(&params, None, client.as_ref(), None).map_err(refuse)?;
    match params.get("decision") {
        Some("logout") => {}
        Some("stay") => return Ok(p.pages.render(StatusCode::OK, "logout.html", context! { step => "stayed" })),
        _ => return Err(PageError::bad_request("Choose Sign out or Stay signed in.")),
    }
    let session = current_session(&p.sign_in, &p.pages, &headers).await?;
    p.finish(&headers, &req, session.as_ref()).await
}
