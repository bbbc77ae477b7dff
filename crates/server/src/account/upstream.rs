//! `/account/upstream/…`: linking an upstream identity to the account (a sign-in at the
//! provider, which comes back to `pages::upstream`'s callback) and removing one. Both change how
//! the account can be signed in to, so, like factor changes, they need a sign-in of the last ten
//! minutes; the link carries the page's CSRF token (it is a link, not a form: a form's redirect
//! to the provider's origin is bound by CSP `form-action`).

use super::{AccountPages, RECENT, query};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::upstreams::{Again, Purpose, UpstreamError};

/// GET `/account/upstream/{id}/link?csrf=…`: off to the provider to link an identity there.
pub(super) async fn link(
    State(p): State<AccountPages>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let me = match p.me(&headers, "/account").await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let csrf = crate::web::query_param(q.as_deref(), "csrf");
    if !p.pages.csrf_matches(&headers, &p.sign_in, csrf.as_deref()) {
        let msg = "This form expired. Go back, reload the page and try again.";
        return p.pages.error(StatusCode::FORBIDDEN, msg, Some("invalid_request"));
    }
    if p.az.now() - me.session.auth_time > RECENT {
        return p.see_other(&format!("/account/login?{}", query(&[("return", "/account"), ("fresh", "1")])));
    }
    match p.upstreams.start(&id, Purpose::Link { sub: me.user.sub.clone() }, Again::default()).await {
        Ok(url) => crate::web::see_other_to(url.as_str()),
        Err(UpstreamError::Unknown) => p.pages.error(StatusCode::NOT_FOUND, "There is no such sign-in provider.", None),
        Err(UpstreamError::Store(e)) => crate::error::PageError::from(e).into_response(),
        Err(_) => {
            let msg = "The other provider could not be reached. Try again later, or sign in another way.";
            p.overview(&me, StatusCode::BAD_GATEWAY, None, Some(msg)).await
        }
    }
}

/// POST `/account/upstream/unlink`: removes one of the account's upstream identities
/// (`provider`, `subject`), unless it is the only way left to sign in.
pub(super) async fn unlink(State(p): State<AccountPages>, headers: HeaderMap, body: Bytes) -> Response {
    let (me, form) = match p.posted(&headers, &body, "/account", true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (provider, subject) = (form.get("provider"), form.get("subject"));
    match p.upstreams.unlink(&me.actor(), &me.user.sub, provider, subject, true).await {
        Ok(true) => p.see_other("/account?done=unlinked"),
        Ok(false) => p.overview(&me, StatusCode::NOT_FOUND, None, Some("There is no such linked account.")).await,
        Err(UpstreamError::LastWay) => {
            let msg = "This is the only way to sign in to your account: link another provider or add a passkey first.";
            p.overview(&me, StatusCode::BAD_REQUEST, None, Some(msg)).await
        }
        Err(UpstreamError::Store(e)) => crate::error::PageError::from(e).into_response(),
        Err(e) => p.pages.error(StatusCode::BAD_REQUEST, &e.to_string(), None),
    }
}
