//! Passkeys at sign-in: `/login/passkey` (signing in without a password, from the login page's
//! autofill or its button) and `/login/factor/passkey` (a passkey as the second factor after a
//! password), and `/assets/webauthn.js`, the one first-party script the passkey forms need
//! (`navigator.credentials` has no HTML form). The ceremonies are
//! `gatehouse_core::factors::passkey`'s; a page carries only a ceremony's id.

use crate::error::PageError;
use crate::pages::authorize::{Flow, Resumed, resume, signed_in};
use crate::pages::second_factor::{FactorPages, expired, finish, resume_pending, with_factor};
use crate::pages::session::throttled_message;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::factors::passkey::{PasskeyError, Purpose};
use std::net::SocketAddr;

const SCRIPT: &str = include_str!("../../assets/webauthn.js");

/// GET `/assets/webauthn.js`.
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        SCRIPT,
    )
        .into_response()
}

/// What a refused passkey says, and with which status.
fn refusal(e: PasskeyError) -> Result<(String, StatusCode), PageError> {
    Ok(match e {
        PasskeyError::Store(e) => return Err(e.into()),
        PasskeyError::Throttled(wait) => (throttled_message(wait), StatusCode::TOO_MANY_REQUESTS),
        PasskeyError::Expired => ("The passkey request expired. Try again.".to_owned(), StatusCode::BAD_REQUEST),
        PasskeyError::Missing => ("The browser did not send a passkey. Try again.".to_owned(), StatusCode::BAD_REQUEST),
        _ => ("That passkey was not accepted.".to_owned(), StatusCode::UNAUTHORIZED),
    })
}

/// POST `/login/passkey`: a sign-in with a passkey alone (a discoverable credential, which
/// says whose it is).
pub async fn sign_in(
    State(p): State<FactorPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Resumed { params, req, client, interaction, .. } = resume(&p.az, &p.sign_in, &p.pages, &headers, &body).await?;
    let s = p.services();
    let purpose = Purpose::SignIn { interaction: &interaction.0 };
    let (ceremony, credential) = (params.get("ceremony").unwrap_or(""), params.get("credential").unwrap_or(""));
    let result = p.factors.finish_passkey_sign_in(purpose, ceremony, credential, Some(peer.ip())).await;
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction.clone()), headers: &headers };
    let signed = match result {
        Ok(signed) => signed,
        Err(e) => {
            let (msg, status) = refusal(e)?;
            return Ok(flow.login_page(Some(&msg), status).await.into_response());
        }
    };
    let Some(user) = p.az.active_user(&signed.sub).await? else {
        let msg = "That passkey was not accepted.";
        return Ok(flow.login_page(Some(msg), StatusCode::UNAUTHORIZED).await.into_response());
    };
    // A half-done password sign-in of this interaction is superseded.
    p.az.note_pending_factor(&interaction.0, None).await?;
    Ok(signed_in(&flow, &user, signed.amr).await?.into_response())
}

/// POST `/login/factor/passkey`: a passkey as the second factor of the sign-in waiting for one.
pub async fn second_factor(
    State(p): State<FactorPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (Resumed { params, req, client, interaction, .. }, pending) =
        resume_pending(&p, &headers, &body, false).await?;
    let s = p.services();
    let purpose = Purpose::SecondFactor { interaction: &interaction.0, sub: &pending.sub };
    let (ceremony, credential) = (params.get("ceremony").unwrap_or(""), params.get("credential").unwrap_or(""));
    let result = p.factors.finish_passkey_sign_in(purpose, ceremony, credential, Some(peer.ip())).await;
    let flow = Flow { s: &s, client: &client, req: &req, interaction: Some(interaction), headers: &headers };
    let signed = match result {
        Ok(signed) if signed.sub == pending.sub => signed,
        Ok(_) => return Err(expired()),
        Err(e) => {
            let (msg, status) = refusal(e)?;
            return Ok(flow.factor_form(&pending, Some(&msg), status).await.into_response());
        }
    };
    let user = p.az.active_user(&pending.sub).await?.ok_or_else(expired)?;
    let amr = with_factor(&pending.amr, &signed.amr);
    Ok(finish(&flow, &user, amr).await?.into_response())
}
