//! RFC 6749 §4.4: the client acts as itself. Confidential clients only; no ID token and no
//! refresh token (§4.4.3); only the client's non-identity scopes.

use super::IDENTITY_SCOPES;
use crate::client::Client;
use crate::error::OAuthError;
use crate::scope::ScopeSet;

/// `known`: the scope names this server defines; others are ignored.
pub fn validate(
    client: &Client,
    requested: Option<&ScopeSet>,
    known: &dyn Fn(&str) -> bool,
) -> Result<ScopeSet, OAuthError> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient("client_credentials needs a confidential client"));
    }
    let allowed: ScopeSet = client.scopes.iter().filter(|s| !IDENTITY_SCOPES.contains(&s.as_str())).cloned().collect();
    client.grantable_scope(requested, &allowed, known)
}
