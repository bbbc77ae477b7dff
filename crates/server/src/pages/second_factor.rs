//! The second step of a sign-in (`/login/factor`, `/login/enrol`, `/login/continue`): after a
//! right password, the code of a second factor; for a user who must have one and has none,
//! enrolment first; after a recovery code or a first enrolment, a page that says what happened
//! before the request goes on. The sign-in waiting for its factor is kept with the interaction
//! (`PendingFactor`), never in the browser; the session starts only when the factor is given.

use crate::error::PageError;
use crate::pages::authorize::{Flow, Resumed, Services, resume, signed_in};
use crate::pages::session::{current_session, throttled_message};
use crate::web::Pages;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authorization::Authorization;
use gatehouse_core::factors::{CodeError, EnrolError, Factors};
use gatehouse_core::sign_in::SignIn;
use gatehouse_store::PendingFactor;
use minijinja::context;
use std::net::SocketAddr;
use std::sync::Arc;

/// The services of these pages.
pub struct FactorPages {
    pub(crate) az: Arc<Authorization>,
    pub(crate) sign_in: Arc<SignIn>,
    pub(crate) factors: Arc<Factors>,
    pub(crate) pages: Arc<Pages>,
}

impl axum::extract::FromRef<crate::state::AppState> for FactorPages {
    fn from_ref(s: &crate::state::AppState) -> Self {
        let g = &s.services;
        Self {
            az: g.authorization.clone(),
            sign_in: g.sign_in.clone(),
            factors: g.factors.clone(),
            pages: s.pages.clone(),
        }
    }
}

impl FactorPages {
    pub(crate) fn services(&self) -> Services<'_> {
        Services { az: &self.az, sign_in: &self.sign_in, factors: &self.factors, pages: &self.pages }
    }
}

pub(crate) fn expired() -> PageError {
    PageError::bad_request(
        "This sign-in page has expired or was opened elsewhere. Go back to the application and start again.",
    )
}

/// The methods of a sign-in completed by a second factor: those before it, the factor's, and
/// `mfa` (RFC 8176: more than one factor).
pub(crate) fn with_factor(before: &[String], added: &[String]) -> Vec<String> {
    let mut amr: Vec<String> = before.iter().filter(|m| *m != "mfa").cloned().collect();
    for m in added.iter().map(String::as_str).chain(["mfa"]) {
        if !amr.iter().any(|a| a == m) {
            amr.push(m.to_owned());
        }
    }
    amr
}

/// A form of the sign-in's second step, resumed: the interaction and the sign-in waiting there,
/// which must be waiting for a factor (`enrol` false) or for an enrolment (`enrol` true), and
/// whose session, for a step-up, must still be there.
pub(crate) async fn resume_pending(
    p: &FactorPages,
    headers: &HeaderMap,
    body: &Bytes,
    enrol: bool,
) -> Result<(Resumed, PendingFactor), PageError> {
    let mut resumed = resume(&p.az, &p.sign_in, &p.pages, headers, body).await?;
    let pending = resumed.pending_factor.take().filter(|f| f.enrol == enrol).ok_or_else(expired)?;
    session_still_there(p, headers, &pending).await?;
    Ok((resumed, pending))
}

/// A step-up builds on the browser's session: it must still be there, and be the same user's
/// (ended meanwhile — signed out, or by an administrator — a code alone does not revive it).
async fn session_still_there(p: &FactorPages, headers: &HeaderMap, pending: &PendingFactor) -> Result<(), PageError> {
    if !pending.step_up {
        return Ok(());
    }
    match current_session(&p.sign_in, &p.pages, headers).await? {
        Some(s) if s.sub == pending.sub => Ok(()),
        _ => Err(expired()),
    }
}

/// POST `/login/factor`: the code of a second factor (TOTP or a recovery code).
pub async fn factor(
    State(p): State<FactorPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (Resumed { params, req, client, interaction, .. }, pending) =
        resume_pending(&p, &headers, &body, false).await?;
    let s = p.services();
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let code = params.get("code").unwrap_or("");
    let checked = match p.factors.check_code(&pending.sub, code, Some(peer.ip())).await {
        Ok(c) => c,
        Err(CodeError::Throttled(wait)) => {
            let msg = throttled_message(wait);
            return Ok(flow.factor_form(&pending, Some(&msg), StatusCode::TOO_MANY_REQUESTS).await.into_response());
        }
        Err(CodeError::Wrong) => {
            let msg = "The code is not right. Try the next code from your app.";
            return Ok(flow.factor_form(&pending, Some(msg), StatusCode::UNAUTHORIZED).await.into_response());
        }
        Err(CodeError::Store(e)) => return Err(e.into()),
    };
    let user = p.az.active_user(&pending.sub).await?.ok_or_else(expired)?;
    let amr = with_factor(&pending.amr, &checked.amr);
    let Some(left) = checked.recovery_codes_left else {
        return Ok(finish(&flow, &user, amr).await?.into_response());
    };
    // A recovery code: say how many are left before going on.
    let left_message = match left {
        0 => "You have no recovery codes left. Make new ones on your account page.".to_owned(),
        1 => "You have 1 recovery code left.".to_owned(),
        n => format!("You have {n} recovery codes left."),
    };
    interstitial(&flow, &user, amr, context! { left_message }).await
}

/// POST `/login/enrol`: the first second factor of a user who must have one.
pub async fn enrol(State(p): State<FactorPages>, headers: HeaderMap, body: Bytes) -> Result<Response, PageError> {
    let (Resumed { params, req, client, interaction, .. }, pending) = resume_pending(&p, &headers, &body, true).await?;
    let s = p.services();
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let (sealed, code, name) =
        (params.get("sealed").unwrap_or(""), params.get("code").unwrap_or(""), params.get("name").unwrap_or(""));
    let actor = format!("user:{}", pending.sub);
    let codes = match p.factors.confirm_totp(&actor, &pending.sub, sealed, code, name).await {
        Ok((_, codes)) => codes,
        Err(e @ (EnrolError::WrongCode | EnrolError::BadName)) => {
            let msg = match e {
                EnrolError::WrongCode => "The code is not right. Check the time on your device and try the next code.",
                _ => "Give the authenticator a name of 1 to 64 characters.",
            };
            let r = flow.enrol_form(&pending, Some(sealed), Some(msg), StatusCode::BAD_REQUEST, Some(name)).await;
            return Ok(r.into_response());
        }
        Err(e) => return Err(crate::pages::authorize::enrol_refused(e)),
    };
    let user = p.az.active_user(&pending.sub).await?.ok_or_else(expired)?;
    let amr = with_factor(&pending.amr, &["otp".to_owned()]);
    match codes {
        Some(codes) => interstitial(&flow, &user, amr, context! { codes }).await,
        None => Ok(finish(&flow, &user, amr).await?.into_response()),
    }
}

/// The sign-in is complete: the pending factor is forgotten and the session starts.
pub(crate) async fn finish(
    flow: &Flow<'_>,
    user: &gatehouse_protocol::user::User,
    amr: Vec<String>,
) -> Result<crate::pages::authorize::Reply, PageError> {
    if let Some((id, _)) = &flow.interaction {
        flow.s.az.note_pending_factor(id, None).await?;
    }
    signed_in(flow, user, amr).await
}

/// Starts the session, then shows `ctx` (recovery codes, or how many are left) with a button
/// that goes on with the request (`/login/continue`).
async fn interstitial(
    flow: &Flow<'_>,
    user: &gatehouse_protocol::user::User,
    amr: Vec<String>,
    ctx: minijinja::Value,
) -> Result<Response, PageError> {
    let Some((interaction, csrf)) = flow.interaction.clone() else { return Err(expired()) };
    flow.s.az.note_pending_factor(&interaction, None).await?;
    let (session, cookie) =
        crate::pages::session::start_session(flow.s.sign_in, flow.s.pages, flow.headers, user, amr).await?;
    flow.s.az.note_login(&interaction, &session.sid).await?;
    tracing::info!(sub = %user.sub, client_id = %flow.client.id, amr = ?session.amr, "user signed in");
    let ctx =
        context! { interaction, csrf, action => "/login/continue", ui_locales => flow.req.ui_locales.clone(), ..ctx };
    let mut r = flow.s.pages.render(StatusCode::OK, "recovery_codes.html", ctx);
    r.headers_mut().append(axum::http::header::SET_COOKIE, cookie);
    crate::web::allow_form_redirect(&mut r, flow.req.redirect_uri.as_str());
    Ok(r)
}

/// POST `/login/continue`: goes on with the request after [`interstitial`]'s page.
pub async fn continue_sign_in(
    State(p): State<FactorPages>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Resumed { req, client, interaction, login_sid, .. } =
        resume(&p.az, &p.sign_in, &p.pages, &headers, &body).await?;
    let s = p.services();
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let Some(session) = current_session(&p.sign_in, &p.pages, &headers).await? else {
        return Ok(flow.login_page(None, StatusCode::OK).await.into_response());
    };
    let fresh = login_sid.as_deref() == Some(session.sid.as_str());
    Ok(flow.proceed(Some(&session), None, fresh, false).await.into_response())
}

#[cfg(test)]
mod tests {
    use super::with_factor;

    #[test]
    fn a_factor_adds_its_methods_and_mfa_once() {
        let s = |v: &[&str]| v.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>();
        assert_eq!(with_factor(&s(&["pwd"]), &s(&["otp"])), s(&["pwd", "otp", "mfa"]));
        assert_eq!(with_factor(&s(&["pwd", "otp", "mfa"]), &s(&["otp"])), s(&["pwd", "otp", "mfa"]));
        assert_eq!(with_factor(&s(&[]), &s(&["otp"])), s(&["otp", "mfa"]));
    }
}
