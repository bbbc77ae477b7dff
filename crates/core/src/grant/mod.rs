//! The token endpoint's grants (RFC 6749 §3.2): the typed request goes to its grant's module,
//! one file per grant (the fosite shape). Adding a grant is a module here and a variant of the
//! protocol's `TokenRequest`; the `match` below is exhaustive, so nothing can be forgotten.

mod authorization_code;
mod client_credentials;
mod device_code;
pub mod issue;
mod password;
mod refresh_token;

use crate::metrics::Metrics;
use crate::sign_in::SignIn;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource::ResourceId;
use gatehouse_protocol::token::{TokenRequest, TokenResponse, check_grant_allowed};
use issue::{Issuing, Requested};
use std::net::IpAddr;
use std::sync::Arc;

pub struct Grants {
    issuing: Issuing,
    sign_in: Arc<SignIn>,
    factors: Arc<crate::factors::Factors>,
    metrics: Arc<Metrics>,
}

impl Grants {
    pub fn new(
        issuing: Issuing,
        sign_in: Arc<SignIn>,
        factors: Arc<crate::factors::Factors>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self { issuing, sign_in, factors, metrics }
    }

    /// Answers a token request of an authenticated client. Whether the client holds the grant
    /// is checked once, before anything is looked up: a client without the grant learns nothing
    /// and changes nothing (a code it presents is not spent, a family not revoked).
    pub async fn token(
        &self,
        client: &Client,
        request: TokenRequest,
        resources: &[ResourceId],
        dpop_jkt: Option<&str>,
        peer: IpAddr,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = request.grant_type();
        check_grant_allowed(client, grant)?;
        // RFC 9449 §5.2: a client registered with dpop_bound_access_tokens always proves.
        if client.dpop_bound_access_tokens && dpop_jkt.is_none() {
            return Err(OAuthError::InvalidDpopProof("this client must send a DPoP proof"));
        }
        let core = &self.issuing;
        let ask = |scope| Requested { scope, resources, dpop_jkt };
        let response = match request {
            TokenRequest::ClientCredentials { scope } => client_credentials::handle(core, client, ask(scope.as_ref()))?,
            TokenRequest::Password { username, password, scope } => {
                let (sign_in, factors) = (&self.sign_in, &self.factors);
                let requested = ask(scope.as_ref());
                password::handle(core, sign_in, factors, client, (&username, &password), requested, peer).await?
            }
            TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
                let (uri, verifier) = (redirect_uri.as_deref(), code_verifier.as_deref());
                authorization_code::handle(core, client, &code, uri, verifier, ask(None)).await?
            }
            TokenRequest::RefreshToken { refresh_token, scope } => {
                refresh_token::handle(core, client, &refresh_token, ask(scope.as_ref())).await?
            }
            TokenRequest::DeviceCode { device_code } => {
                device_code::handle(core, client, &device_code, ask(None)).await?
            }
        };
        self.metrics.token_issued(grant);
        Ok(response)
    }

    /// Redeems an authorization code for a client inside Gatehouse (the admin console): the
    /// same redemption as `/token`'s, PKCE included.
    pub async fn redeem_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = gatehouse_protocol::grant::GrantType::AuthorizationCode;
        check_grant_allowed(client, grant)?;
        let console = Requested { scope: None, resources: &[], dpop_jkt: None };
        let response =
            authorization_code::handle(&self.issuing, client, code, Some(redirect_uri), Some(code_verifier), console)
                .await?;
        self.metrics.token_issued(grant);
        Ok(response)
    }
}
