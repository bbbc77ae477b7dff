//! RFC 6749 §6: refreshing. Tokens rotate on every use; a rotated token presented again
//! revokes its whole family (RFC 9700 §4.14.2). A narrower scope may be asked, never a wider one.

use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::resource::ResourceId;
use crate::scope::ScopeSet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshGrant {
    /// The family: every token rotated from one original grant.
    pub family_id: String,
    pub client_id: String,
    pub sub: String,
    /// The scope of the original grant; a refresh may narrow what it asks, not this.
    pub scope: ScopeSet,
    pub auth_time: UnixTime,
    pub sid: String,
    pub amr: Vec<String>,
    /// Idle expiry of this token.
    pub expires_at: UnixTime,
    /// Absolute expiry of the family.
    pub family_expires_at: UnixTime,
    /// The resources (RFC 8707) of the original grant; a refresh may narrow to some of them.
    pub resources: Vec<ResourceId>,
    /// The DPoP key a public client's refresh token is bound to (RFC 9449 §5.0).
    pub dpop_jkt: Option<String>,
    /// The claims the authorization request asked for by name: refreshed ID tokens and
    /// userinfo keep honouring them.
    pub claims: Option<crate::claims_request::ClaimsRequest>,
    /// The `acr` of the original sign-in, repeated in refreshed ID tokens.
    pub acr: Option<String>,
}

pub fn validate(
    client: &Client,
    grant: &RefreshGrant,
    requested: Option<&ScopeSet>,
    now: UnixTime,
) -> Result<ScopeSet, OAuthError> {
    if grant.client_id != client.id.as_str() {
        return Err(OAuthError::InvalidGrant("the refresh token was issued to another client"));
    }
    if now >= grant.expires_at || now >= grant.family_expires_at {
        return Err(OAuthError::InvalidGrant("the refresh token has expired"));
    }
    match requested {
        None => Ok(grant.scope.clone()),
        Some(r) if r.is_subset(&grant.scope) => Ok(r.clone()),
        // RFC 6749 §6: "MUST NOT include any scope not originally granted".
        Some(_) => Err(OAuthError::InvalidScope("a refresh cannot widen the scope")),
    }
}
