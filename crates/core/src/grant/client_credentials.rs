//! RFC 6749 §4.4: an access token for the client itself. No store write: the JWT is the
//! whole record.

use crate::grant::issue::Issuing;
use crate::issuer::Subject;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::{TokenResponse, client_credentials};

pub fn handle(core: &Issuing, client: &Client, requested: Option<&ScopeSet>) -> Result<TokenResponse, OAuthError> {
    let catalog = core.tokens.catalog.get();
    let scope = client_credentials::validate(client, requested, &|s| catalog.knows(s))?;
    let subject = Subject { sub: client.id.as_str(), user: None, auth_time: None, sid: None };
    let (access_token, _) = core.tokens.access_token(client, &subject, &scope, core.now())?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: core.tokens.lifetimes.for_client(client).access_token,
        refresh_token: None,
        id_token: None,
        scope: scope.to_string(),
    })
}
