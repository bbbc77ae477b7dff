//! What the sign-in pages share on the HTTP side: their forms, the session cookie, and the
//! words for a refused password. The sign-in itself is `gatehouse_core::sign_in`'s.

use crate::error::PageError;
use crate::extract::is_form;
use crate::web::{Pages, SESSION_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use bytes::Bytes;
use gatehouse_core::sign_in::SignIn;
use gatehouse_core::throttle::retry_in;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::user::User;
use gatehouse_store::Session;

/// A page's form: `application/x-www-form-urlencoded`, no repeated fields.
pub fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, PageError> {
    if !is_form(headers) {
        return Err(PageError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The form must be posted as a form.",
            Some("invalid_request"),
        ));
    }
    Params::parse(body)
        .map_err(|e| PageError::refused(StatusCode::BAD_REQUEST, "The form is malformed.", Some(e.code())))
}

/// The browser's live SSO session, if any.
pub async fn current_session(
    sign_in: &SignIn,
    pages: &Pages,
    headers: &HeaderMap,
) -> Result<Option<Session>, PageError> {
    Ok(sign_in.current_session(pages.read_cookie(headers, SESSION_COOKIE)).await?)
}

/// Starts a session for `user`, signed in with `amr` (ending the browser's old one), and
/// returns it with its cookie.
pub async fn start_session(
    sign_in: &SignIn,
    pages: &Pages,
    headers: &HeaderMap,
    user: &User,
    amr: Vec<String>,
) -> Result<(Session, HeaderValue), PageError> {
    let (session, value) = sign_in.start_session(pages.read_cookie(headers, SESSION_COOKIE), user, amr).await?;
    Ok((session, pages.cookie(SESSION_COOKIE, &value, pages.cookies().max_age)))
}

/// The sentence for a throttled sign-in, saying when to try again.
pub fn throttled_message(wait: i64) -> String {
    format!("Too many failed attempts. Try again {}.", retry_in(wait))
}
