//! RFC 6749 §4.1.3 and RFC 7636 §4.5–4.6: redeeming an authorization code.

use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::pkce;
use crate::resource::ResourceId;
use crate::scope::ScopeSet;
use serde::{Deserialize, Serialize};

/// What a code stands for. Stored under the SHA-256 of the code, never the code itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    /// Ties together every token issued from this code, so a replay can revoke them.
    pub grant_id: String,
    pub client_id: String,
    pub sub: String,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<pkce::Method>,
    pub auth_time: UnixTime,
    pub sid: String,
    pub amr: Vec<String>,
    pub expires_at: UnixTime,
    /// The resources (RFC 8707) the authorization request was granted for.
    pub resources: Vec<ResourceId>,
    /// `dpop_jkt` of the authorization request (RFC 9449 §10): the key the code must be
    /// redeemed with.
    pub dpop_jkt: Option<String>,
    /// The claims the authorization request asked for by name (OIDC Core §5.5).
    pub claims: Option<crate::claims_request::ClaimsRequest>,
    /// The authentication context class of the sign-in, as the request asked (OIDC Core §2).
    pub acr: Option<String>,
}

/// Checks a fresh (not yet redeemed) code against the request.
pub fn validate(
    client: &Client,
    grant: &CodeGrant,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: UnixTime,
) -> Result<(), OAuthError> {
    // RFC 6749 §4.1.3: the code was issued to this client.
    if grant.client_id != client.id.as_str() {
        return Err(OAuthError::InvalidGrant("the code was issued to another client"));
    }
    if now >= grant.expires_at {
        return Err(OAuthError::InvalidGrant("the code has expired"));
    }
    // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::InvalidGrant("redirect_uri does not match the authorization request"));
    }
    match (&grant.code_challenge, grant.code_challenge_method, code_verifier) {
        (Some(ch), Some(m), Some(v)) if pkce::verify(ch, m, v) => Ok(()),
        (Some(_), _, Some(_)) => Err(OAuthError::InvalidGrant("code_verifier does not match the code_challenge")),
        (Some(_), _, None) => Err(OAuthError::InvalidGrant("code_verifier is required")),
        // A verifier without a challenge is a PKCE downgrade attempt (RFC 9700 §2.1.1).
        (None, _, Some(_)) => Err(OAuthError::InvalidGrant("no code_challenge was sent for this code")),
        (None, _, None) => Ok(()),
    }
}
