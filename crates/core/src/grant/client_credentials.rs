//! RFC 6749 §4.4: an access token for the client itself. No store write: the JWT is the
//! whole record.

use crate::grant::issue::{Issuing, Requested, target, token_type};
use crate::issuer::Subject;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource;
use gatehouse_protocol::token::{TokenResponse, client_credentials};

pub fn handle(core: &Issuing, client: &Client, requested: Requested<'_>) -> Result<TokenResponse, OAuthError> {
    let catalog = core.tokens.catalog.get();
    let scope = client_credentials::validate(client, requested.scope, &|s| catalog.knows(s))?;
    let resources = resource::resolve(requested.resources, client, &catalog.resources)?;
    let (scope, audience) = target(core, &scope, &resources)?;
    let subject = Subject {
        sub: client.id.as_str(),
        user: None,
        auth_time: None,
        sid: None,
        jkt: requested.dpop_jkt,
        acr: None,
        amr: &[],
        claims: None,
    };
    let (access_token, _) = core.tokens.access_token(client, &subject, &scope, &audience, core.now())?;
    Ok(TokenResponse {
        access_token,
        token_type: token_type(requested.dpop_jkt),
        expires_in: core.tokens.access_token_ttl(client, &audience),
        refresh_token: None,
        id_token: None,
        scope: scope.to_string(),
    })
}
