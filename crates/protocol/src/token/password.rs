//! RFC 6749 §4.3: the resource owner password credentials grant, for clients that list it.
//! Checking the password (argon2, throttled) is the server's; this is the client/scope rule.

use crate::client::Client;
use crate::error::OAuthError;
use crate::scope::ScopeSet;

/// `known`: the scope names this server defines; others are ignored.
pub fn validate(
    client: &Client,
    requested: Option<&ScopeSet>,
    known: &dyn Fn(&str) -> bool,
) -> Result<ScopeSet, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient("the password grant needs a confidential client"));
    }
    client.grantable_scope(requested, &client.scopes, known)
}
