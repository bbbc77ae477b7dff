//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.3, §4.4, §6, §5.1).
//!
//! The form is parsed once into [`TokenRequest`]; each grant is a module of its own with a
//! `validate` that checks the request against the client and the stored record, so adding a
//! grant touches no other (the fosite shape). Whether the client holds the grant at all is
//! [`check_grant_allowed`], once per request. Issuing (minting, persisting) is `gatehouse-core`'s.

pub mod authorization_code;
pub mod client_credentials;
pub mod password;
pub mod refresh_token;

use crate::client::Client;
use crate::error::OAuthError;
use crate::grant::GrantType;
use crate::params::Params;
use crate::scope::ScopeSet;
use crate::secret::Secret;
use serde::Serialize;

/// A parsed token request, one variant per grant.
#[derive(Debug, Clone)]
pub enum TokenRequest {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<ScopeSet>,
    },
    ClientCredentials {
        scope: Option<ScopeSet>,
    },
    Password {
        username: String,
        password: Secret,
        scope: Option<ScopeSet>,
    },
    /// RFC 8628 §3.4.
    DeviceCode {
        device_code: String,
    },
}

fn scope_param(params: &Params) -> Result<Option<ScopeSet>, OAuthError> {
    params
        .get("scope")
        .map(|s| ScopeSet::parse(s).map_err(|_| OAuthError::InvalidScope("the scope is malformed")))
        .transpose()
}

impl TokenRequest {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let grant = params.require("grant_type", "grant_type is required")?;
        let owned = |k: &str| params.get(k).map(str::to_owned);
        Ok(match GrantType::parse(grant) {
            Some(GrantType::AuthorizationCode) => Self::AuthorizationCode {
                code: params.require("code", "code is required")?.to_owned(),
                redirect_uri: owned("redirect_uri"),
                code_verifier: owned("code_verifier"),
            },
            Some(GrantType::RefreshToken) => Self::RefreshToken {
                refresh_token: params.require("refresh_token", "refresh_token is required")?.to_owned(),
                scope: scope_param(params)?,
            },
            Some(GrantType::ClientCredentials) => Self::ClientCredentials { scope: scope_param(params)? },
            Some(GrantType::Password) => Self::Password {
                username: params.require("username", "username is required")?.to_owned(),
                password: Secret::new(params.require("password", "password is required")?),
                scope: scope_param(params)?,
            },
            Some(GrantType::DeviceCode) => {
                Self::DeviceCode { device_code: params.require("device_code", "device_code is required")?.to_owned() }
            }
            // `implicit`/`hybrid` are authorization-endpoint interactions, not token grants.
            Some(GrantType::Implicit | GrantType::Hybrid) | None => {
                return Err(OAuthError::UnsupportedGrantType);
            }
        })
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
            Self::Password { .. } => GrantType::Password,
            Self::DeviceCode { .. } => GrantType::DeviceCode,
        }
    }
}

/// The grant must be one the client was given (RFC 6749 §5.2 `unauthorized_client`), checked
/// once per request before any grant's own rules (and before anything is looked up). A
/// `hybrid` client redeems its codes like an `authorization_code` one (OIDC Core §3.3.3).
pub fn check_grant_allowed(client: &Client, grant: GrantType) -> Result<(), OAuthError> {
    let allowed = client.grants.contains(grant)
        || (grant == GrantType::AuthorizationCode && client.grants.contains(GrantType::Hybrid));
    if allowed { Ok(()) } else { Err(OAuthError::UnauthorizedClient("the client may not use this grant type")) }
}

/// RFC 6749 §5.1 successful response.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// The scopes that identify a user; meaningless without one (client_credentials).
pub const IDENTITY_SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];

#[cfg(test)]
mod tests;
