//! What can go wrong signing a user in, registering one, or keeping a session.

use crate::verifier::{Error, VerifyError};

/// Why an [`AuthClient`](super::AuthClient) or a [`Session`](super::Session) call failed.
///
/// The variants an application acts on: [`InvalidCredentials`](Self::InvalidCredentials) (show
/// the form again), [`SessionEnded`](Self::SessionEnded) (send the user to sign in again),
/// [`UsernameTaken`](Self::UsernameTaken) and [`InvalidUser`](Self::InvalidUser) (show the
/// registration form again), [`Unavailable`](Self::Unavailable) (try later; the session is
/// kept).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The provider's discovery document or keys could not be had.
    #[error("discovery: {0}")]
    Discovery(#[from] Error),
    /// The username or password is wrong, or the user may not sign in (the password grant's
    /// `invalid_grant`).
    #[error("the username or password is wrong")]
    InvalidCredentials,
    /// The session is over: signed out, revoked, expired, or its user disabled. Sign in again.
    #[error("the session has ended")]
    SessionEnded,
    /// The provider refused the request with an OAuth error (RFC 6749 §5.2 and friends).
    #[error("the provider refused: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        /// The OAuth `error` code, e.g. `unauthorized_client`, `invalid_scope`.
        error: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// Registration: the username is already taken.
    #[error("the username is already taken")]
    UsernameTaken,
    /// Registration: the provider refused the user as given (e.g. a password too short).
    #[error("the user was refused: {0}")]
    InvalidUser(String),
    /// The provider could not be reached or answered unexpectedly. Nothing was changed
    /// locally; try again later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// An ID token failed verification (OIDC Core §3.1.3.7).
    #[error("the ID token is invalid: {0}")]
    IdToken(#[source] VerifyError),
    /// The session store failed.
    #[error("the session store failed: {0}")]
    Storage(String),
    /// An authorization response that does not belong to the login it claims to finish
    /// (wrong `state`, wrong `iss`, no `code`).
    #[error("the authorization response is not valid: {0}")]
    Callback(String),
}
