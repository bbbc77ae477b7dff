//! RFC 6749 §4.4: the client acts as itself. Confidential clients only; no ID token and no
//! refresh token (§4.4.3); only the client's non-identity scopes.

use super::{IDENTITY_SCOPES, resolve_scope};
use crate::client::Client;
use crate::error::OAuthError;
use crate::scope::ScopeSet;

pub fn validate(client: &Client, requested: Option<&ScopeSet>) -> Result<ScopeSet, OAuthError> {
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() {
        return Err(OAuthError::UnauthorizedClient("client_credentials needs a confidential client"));
    }
    let allowed: ScopeSet = client.scopes.iter().filter(|s| !IDENTITY_SCOPES.contains(&s.as_str())).cloned().collect();
    resolve_scope(requested, &allowed)
}
