//! The users behind the subjects clients know (OIDC Core §8): public subjects are users' own
//! `sub`; a pairwise subject is recorded when a pairwise client first gets tokens for a user,
//! so userinfo, introspection and `id_token_hint` can find the user again.

use crate::issuer::TokenIssuer;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::error::OAuthError;
use gatehouse_store::Store;

/// Records the pairwise subject `client` will know the user `sub` by (nothing for a public
/// client).
pub async fn remember(store: &dyn Store, tokens: &TokenIssuer, client: &Client, sub: &str) -> Result<(), OAuthError> {
    if client.subjects.is_pairwise() {
        store.remember_pairwise(&tokens.subject_for(client, sub), sub).await?;
    }
    Ok(())
}

/// The user `client` means by `presented` (its view of a `sub`), if any.
pub async fn owner(store: &dyn Store, client: &Client, presented: &str) -> Result<Option<String>, OAuthError> {
    if client.subjects.is_pairwise() {
        Ok(store.pairwise_owner(presented).await?)
    } else {
        Ok(Some(presented.to_owned()))
    }
}
