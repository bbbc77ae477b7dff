//! RFC 6749 §4.3: the resource owner password grant. Failures are throttled per account and
//! per source address (in the shared password check). A user who must use a second factor (one
//! is enrolled, or the deployment or client requires one) cannot use it: a password alone is
//! not their sign-in.

use crate::factors::Factors;
use crate::grant::issue::{Issuing, Requested, UserGrant, issue_for_user, target};
use crate::sign_in::{CheckError, SignIn};
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::token::{TokenResponse, password};

pub async fn handle(
    core: &Issuing,
    sign_in: &SignIn,
    factors: &Factors,
    client: &Client,
    (username, pw): (&str, &Secret),
    requested: Requested<'_>,
    peer: std::net::IpAddr,
) -> Result<TokenResponse, OAuthError> {
    let catalog = core.tokens.catalog.get();
    let scope = password::validate(client, requested.scope, &|s| catalog.knows(s))?;
    let resources = resource::resolve(requested.resources, client, &catalog.resources)?;
    let (scope, audience) = target(core, &scope, &resources)?;
    // Throttled per account and per source address in the shared password check. Not per
    // client: one app's many users would lock each other out with their typos.
    let user = match sign_in.check_password(username, pw, Some(peer)).await {
        Err(CheckError::Throttled(_)) => {
            return Err(OAuthError::InvalidGrant("too many failed attempts; try again later"));
        }
        Err(CheckError::Store(e)) => return Err(e.into()),
        Err(CheckError::DirectoryUnavailable) => {
            return Err(OAuthError::TemporarilyUnavailable(gatehouse_protocol::error::InternalError::new(
                "the directory that checks this password could not be reached",
            )));
        }
        Ok(None) => return Err(OAuthError::InvalidGrant("the username or password is incorrect")),
        Ok(Some(u)) => u,
    };
    if factors.needed_for(&user.sub, client.require_second_factor).await? {
        return Err(OAuthError::InvalidGrant(
            "this user signs in with a second factor, which the password grant cannot carry; use the authorization code flow",
        ));
    }
    crate::subjects::remember(core.store.as_ref(), &core.tokens, client, &user.sub).await?;
    let grant = UserGrant {
        user: &user,
        grant_scope: scope.clone(),
        scope,
        audience,
        resources,
        dpop_jkt: requested.dpop_jkt.map(str::to_owned),
        auth_time: core.now(),
        sid: core.tokens.random(16),
        amr: vec!["pwd".into()],
        nonce: None,
        claims: None,
        acr: core.tokens.acr.acr_for(&[], &["pwd".to_owned()]),
        family_id: core.tokens.random(16),
        family_expires_at: None,
        id_token_encrypter: core.tokens.encrypter(client, Encrypted::IdToken).await?,
    };
    issue_for_user(core, client, grant).await
}
