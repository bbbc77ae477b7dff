//! `/account/passkey`: adding a passkey to the account. The page asks the browser to create
//! one (`/assets/webauthn.js`, the only script the account pages run) for a registration
//! ceremony the server keeps; the form brings back the browser's answer. Like every factor
//! change, it needs a sign-in of the last ten minutes.

use super::{AccountPages, Me, RECENT};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::factors::passkey::PasskeyError;
use minijinja::context;

const BACK: &str = "/account/passkey";

/// GET `/account/passkey`.
pub(super) async fn page(State(p): State<AccountPages>, headers: HeaderMap) -> Response {
    let me = match p.me(&headers, BACK).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    if p.az.now() - me.session.auth_time > RECENT {
        return p.see_other("/account/login?return=%2Faccount%2Fpasskey&fresh=1");
    }
    form(&p, &me, None, StatusCode::OK, None).await
}

async fn form(p: &AccountPages, me: &Me, error: Option<&str>, status: StatusCode, name: Option<&str>) -> Response {
    let ceremony = match p.factors.start_passkey_registration(&me.user).await {
        Ok(c) => c,
        Err(PasskeyError::Store(e)) => return crate::error::PageError::from(e).into_response(),
        Err(e) => return p.pages.error(StatusCode::FORBIDDEN, &e.to_string(), None),
    };
    let ctx = context! { error, name, ceremony => ceremony.id, options => ceremony.options };
    let mut r = p.render(me, status, "add_passkey.html", ctx);
    crate::web::allow_own_script(&mut r);
    r
}

/// POST `/account/passkey`: the browser's new passkey.
pub(super) async fn add(State(p): State<AccountPages>, headers: HeaderMap, body: Bytes) -> Response {
    let (me, f) = match p.posted(&headers, &body, BACK, true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (name, actor) = (f.get("name"), me.actor());
    let result =
        p.factors.finish_passkey_registration(&actor, &me.user.sub, f.get("ceremony"), f.get("credential"), name);
    let problem = match result.await {
        Ok((_, Some(codes))) => {
            return p.render(&me, StatusCode::OK, "recovery_codes.html", context! { codes, action => "/account/done" });
        }
        Ok((_, None)) => return p.see_other("/account?done=passkey-added"),
        Err(PasskeyError::Store(e)) => return crate::error::PageError::from(e).into_response(),
        Err(PasskeyError::BadName) => "Give the passkey a name of 1 to 64 characters.",
        Err(PasskeyError::Duplicate) => "This passkey is on your account already.",
        Err(PasskeyError::Missing) => "The browser did not send a passkey. Try again.",
        Err(PasskeyError::Expired) => "The passkey request expired. Try again.",
        Err(PasskeyError::Unavailable) => {
            return p.pages.error(StatusCode::FORBIDDEN, "Passkeys are not available here.", None);
        }
        Err(_) => "The passkey was not accepted. Try again.",
    };
    form(&p, &me, Some(problem), StatusCode::BAD_REQUEST, Some(name)).await
}
