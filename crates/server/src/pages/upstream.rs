//! `/login/upstream/{id}` and `/login/upstream/{id}/callback`: signing in with an upstream
//! identity provider (`gatehouse_core::upstreams` does the protocol).
//!
//! The sign-in page links to `/login/upstream/{id}?interaction=…` (a link, not a form: a form's
//! redirect to another origin is bound by CSP `form-action`). Both ends check that the
//! interaction belongs to this browser (its CSRF cookie), so a planted callback cannot sign a
//! browser in as someone else. The callback finishes an interaction's sign-in (second factor
//! included, unless the provider reported `mfa` and is trusted to) or, for the account page, a
//! link to the signed-in user.

use crate::error::PageError;
use crate::pages::authorize::{Flow, Services, first_factor_done};
use crate::pages::second_factor::expired;
use crate::pages::session::current_session;
use crate::web::{Pages, query_param, see_other_to};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::authorization::Authorization;
use gatehouse_core::factors::Factors;
use gatehouse_core::sign_in::SignIn;
use gatehouse_core::upstreams::{Again, Callback, Finished, Purpose, UpstreamError, Upstreams};
use gatehouse_protocol::authorize::AuthorizeRequest;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::upstream;
use std::sync::Arc;

/// The services of these pages.
pub struct UpstreamPages {
    az: Arc<Authorization>,
    sign_in: Arc<SignIn>,
    factors: Arc<Factors>,
    pages: Arc<Pages>,
    upstreams: Arc<Upstreams>,
}

impl axum::extract::FromRef<crate::state::AppState> for UpstreamPages {
    fn from_ref(s: &crate::state::AppState) -> Self {
        let g = &s.services;
        Self {
            az: g.authorization.clone(),
            sign_in: g.sign_in.clone(),
            factors: g.factors.clone(),
            pages: s.pages.clone(),
            upstreams: g.upstreams.clone(),
        }
    }
}

fn unknown() -> PageError {
    PageError::refused(StatusCode::NOT_FOUND, "There is no such sign-in provider.", Some("invalid_request"))
}

/// What the sign-in page says when a provider's sign-in did not work, and with which status.
fn message(e: &UpstreamError) -> (&'static str, StatusCode) {
    match e {
        UpstreamError::Denied(_) => (
            "The sign-in with the other provider was cancelled or refused. Try again, or sign in another way.",
            StatusCode::FORBIDDEN,
        ),
        UpstreamError::Unavailable => (
            "The other provider could not be reached. Try again later, or sign in another way.",
            StatusCode::BAD_GATEWAY,
        ),
        UpstreamError::Refused(_) => {
            ("The other provider's answer could not be verified. Try again.", StatusCode::BAD_REQUEST)
        }
        UpstreamError::NoAccount => {
            ("There is no account here for that identity. Sign in another way.", StatusCode::FORBIDDEN)
        }
        UpstreamError::Disabled => ("This account is disabled.", StatusCode::FORBIDDEN),
        UpstreamError::EmailTaken => (
            "An account with that email address exists already. Sign in to it another way, then link this provider on your account page.",
            StatusCode::CONFLICT,
        ),
        UpstreamError::LinkedElsewhere => ("That identity is linked to another account.", StatusCode::CONFLICT),
        UpstreamError::Expired | UpstreamError::Unknown | UpstreamError::LastWay | UpstreamError::Store(_) => {
            ("The sign-in could not be completed. Try again.", StatusCode::BAD_REQUEST)
        }
    }
}

/// An interaction's request and client, when the interaction exists and belongs to this browser.
async fn interaction(
    p: &UpstreamPages,
    headers: &HeaderMap,
    id: &str,
) -> Result<(AuthorizeRequest, Client, String), PageError> {
    let pending = p.az.interaction(id).await?.ok_or_else(expired)?;
    if !p.pages.csrf_matches(headers, &p.sign_in, Some(&pending.csrf)) {
        return Err(PageError::refused(
            StatusCode::FORBIDDEN,
            "This sign-in was started in another browser. Go back to the application and start again.",
            Some("invalid_request"),
        ));
    }
    let client = p.az.client(&pending.request.client_id).await?.ok_or_else(expired)?;
    Ok((pending.request, client, pending.csrf))
}

/// GET `/login/upstream/{id}?interaction=…`: off to the provider.
pub async fn start(
    State(p): State<UpstreamPages>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, PageError> {
    if p.upstreams.label(&id).is_none() {
        return Err(unknown());
    }
    let interaction_id = query_param(q.as_deref(), "interaction").ok_or_else(expired)?;
    let (req, client, csrf) = interaction(&p, &headers, &interaction_id).await?;
    let again = Again { login: req.prompt.login, max_age: req.max_age };
    match p.upstreams.start(&id, Purpose::SignIn { interaction: interaction_id.clone() }, again).await {
        Ok(url) => Ok(see_other_to(url.as_str())),
        Err(UpstreamError::Store(e)) => Err(e.into()),
        Err(e) => {
            let s = Services { az: &p.az, sign_in: &p.sign_in, factors: &p.factors, pages: &p.pages };
            let flow = Flow {
                s: &s,
                client: &client,
                req: &req,
                interaction: Some((interaction_id, csrf)),
                headers: &headers,
            };
            let (msg, status) = message(&e);
            Ok(flow.login_page(Some(msg), status).await.into_response())
        }
    }
}

/// GET `/login/upstream/{id}/callback`: the provider's answer.
pub async fn callback(
    State(p): State<UpstreamPages>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, PageError> {
    let q = q.as_deref();
    let (state, code, iss, error) =
        (query_param(q, "state"), query_param(q, "code"), query_param(q, "iss"), query_param(q, "error"));
    let back =
        Callback { state: state.as_deref(), code: code.as_deref(), iss: iss.as_deref(), error: error.as_deref() };
    let Finished { purpose, identity } = match p.upstreams.finish(&id, &back).await {
        Ok(f) => f,
        Err(UpstreamError::Unknown) => return Err(unknown()),
        Err(UpstreamError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(expired()),
    };
    match purpose {
        Purpose::SignIn { interaction: interaction_id } => {
            let (req, client, csrf) = interaction(&p, &headers, &interaction_id).await?;
            let s = Services { az: &p.az, sign_in: &p.sign_in, factors: &p.factors, pages: &p.pages };
            let ids = (interaction_id.clone(), csrf);
            let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(ids), headers: &headers };
            let user = match identity {
                Ok(identity) => p.upstreams.user_for(&id, &identity).await.map(|u| (u, upstream::amr(&identity))),
                Err(e) => Err(e),
            };
            match user {
                Ok((user, amr)) => {
                    // A sign-in half-done with a password in this interaction is superseded.
                    p.az.note_pending_factor(&interaction_id, None).await?;
                    Ok(first_factor_done(&flow, &user, amr).await?.into_response())
                }
                Err(UpstreamError::Store(e)) => Err(e.into()),
                Err(e) => {
                    let (msg, status) = message(&e);
                    Ok(flow.login_page(Some(msg), status).await.into_response())
                }
            }
        }
        Purpose::Link { sub } => {
            // The account page started it: the browser must still be signed in as that user.
            match current_session(&p.sign_in, &p.pages, &headers).await? {
                Some(s) if s.sub == sub => {}
                _ => return Err(expired()),
            }
            let outcome = match identity {
                Ok(identity) => p.upstreams.link(&sub, &id, &identity).await,
                Err(e) => Err(e),
            };
            Ok(match outcome {
                Ok(()) => p.pages.see_other("/account?done=linked"),
                Err(UpstreamError::Store(e)) => return Err(e.into()),
                Err(UpstreamError::LinkedElsewhere) => p.pages.see_other("/account?problem=linked-elsewhere"),
                Err(_) => p.pages.see_other("/account?problem=link-failed"),
            })
        }
    }
}
