//! What an API checks a bearer token with: a [`Verifier`] (the JWT itself) or an
//! [`Introspector`] (the provider, for revocations seen at once). The axum layer takes either.

use crate::introspection::Introspector;
use crate::verifier::{AccessToken, Verifier, VerifyError};
use std::future::Future;
use std::pin::Pin;

/// The answer of a [`TokenCheck`].
pub type Checked<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, VerifyError>> + Send + 'a>>;

/// Checks a bearer token.
pub trait TokenCheck: Send + Sync + 'static {
    /// The token's claims if it is good, else why not.
    fn check<'a>(&'a self, token: &'a str) -> Checked<'a>;
}

impl TokenCheck for Verifier {
    /// The token's claims if it is good, else why not.
    fn check<'a>(&'a self, token: &'a str) -> Checked<'a> {
        Box::pin(self.verify(token))
    }
}

impl TokenCheck for Introspector {
    /// The token's claims if it is good, else why not.
    fn check<'a>(&'a self, token: &'a str) -> Checked<'a> {
        Box::pin(self.verify(token))
    }
}
