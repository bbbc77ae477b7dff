//! The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1) for
//! server-side web apps that send users to the provider's own pages: the login URL with
//! `state`, `nonce` and a code verifier; the callback, checked and exchanged for a session;
//! the logout URL (RP-initiated logout).

use crate::auth::AuthClient;
use crate::auth_error::AuthError;
use crate::provider::random_token;
use crate::session::Session;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A login under way: what the callback must match. Keep it where only this browser's next
/// request finds it (an encrypted or signed cookie, or the server-side pre-login session);
/// it holds the PKCE verifier, a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent; the callback must bring it back.
    pub state: String,
    /// The `nonce` sent; the ID token must carry it.
    pub nonce: String,
    /// The PKCE `code_verifier` (RFC 7636); only its S256 challenge was sent.
    pub code_verifier: String,
    /// The `redirect_uri` sent; the code exchange repeats it.
    pub redirect_uri: String,
}

impl AuthClient {
    /// Where to send the browser to sign in: the provider's authorization endpoint with
    /// `response_type=code`, this client, `redirect_uri`, `scope`, a fresh `state` and `nonce`
    /// and a PKCE S256 challenge. Keep the [`PendingLogin`] for [`callback`](Self::callback).
    ///
    /// ```no_run
    /// # async fn f(client: gatehouse_client::AuthClient) -> Result<(), gatehouse_client::AuthError> {
    /// let (url, pending) = client.authorization_url("http://127.0.0.1:3000/callback", "openid profile")?;
    /// // Keep `pending` (e.g. serde_json into a signed cookie), redirect the browser to `url`;
    /// // then, at /callback, with the request's query string:
    /// let session = client.callback(&pending, "code=...&state=...&iss=...").await?;
    /// # Ok(()) }
    /// ```
    pub fn authorization_url(&self, redirect_uri: &str, scope: &str) -> Result<(String, PendingLogin), AuthError> {
        let p = &self.provider;
        let endpoint = p.authorization_endpoint.as_deref().ok_or_else(|| {
            AuthError::Discovery(crate::Error::Invalid("the discovery document has no authorization_endpoint".into()))
        })?;
        let mut url = url::Url::parse(endpoint)
            .map_err(|e| AuthError::Discovery(crate::Error::Invalid(format!("authorization_endpoint: {e}"))))?;
        let pending = PendingLogin {
            state: random_token(24)?,
            nonce: random_token(24)?,
            code_verifier: random_token(32)?,
            redirect_uri: redirect_uri.to_owned(),
        };
        let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, pending.code_verifier.as_bytes()));
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &p.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok((url.into(), pending))
    }

    /// Finishes a login: `query` is the callback request's query string. Checks `state`, the
    /// provider's `error`, `iss` (RFC 9207: required when the provider advertises it, and
    /// compared whenever present), exchanges the code with the PKCE verifier, verifies the ID
    /// token and its `nonce`, and starts a session kept in the store.
    pub async fn callback(&self, pending: &PendingLogin, query: &str) -> Result<Session, AuthError> {
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()).into_owned().collect();
        let p = &self.provider;
        if params.get("state") != Some(&pending.state) {
            return Err(AuthError::Callback("the state does not match this login".into()));
        }
        match params.get("iss") {
            Some(iss) if *iss != p.issuer => {
                return Err(AuthError::Callback(format!("the response comes from another issuer ({iss})")));
            }
            None if p.sends_iss => return Err(AuthError::Callback("the response has no iss".into())),
            _ => {}
        }
        if let Some(error) = params.get("error") {
            return Err(AuthError::Refused {
                error: error.clone(),
                description: params.get("error_description").cloned(),
            });
        }
        let code = params.get("code").ok_or_else(|| AuthError::Callback("the response has no code".into()))?;
        let form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("code_verifier", pending.code_verifier.as_str()),
        ];
        let answer = p.token(form).await?;
        let (tokens, claims) = p.session_tokens(answer, Some(&pending.nonce), None).await?;
        self.start(tokens, claims).await
    }

    /// The provider's RP-initiated logout URL for `session` (OIDC RP-Initiated Logout 1.0):
    /// `id_token_hint`, this client, and where to come back to. Take the URL first, then sign the
    /// session out ([`sign_out`](Self::sign_out)), then send the browser here to end the
    /// provider's own browser session too. `None` if the provider has no `end_session_endpoint`.
    pub async fn end_session_url(
        &self,
        session: &Session,
        post_logout_redirect_uri: Option<&str>,
    ) -> Result<Option<String>, AuthError> {
        let Some(endpoint) = &self.provider.end_session_endpoint else { return Ok(None) };
        let hint = session.tokens().await.ok().and_then(|t| t.id_token);
        let mut url = url::Url::parse(endpoint)
            .map_err(|e| AuthError::Discovery(crate::Error::Invalid(format!("end_session_endpoint: {e}"))))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.provider.client_id);
            if let Some(hint) = &hint {
                q.append_pair("id_token_hint", hint);
            }
            if let Some(uri) = post_logout_redirect_uri {
                q.append_pair("post_logout_redirect_uri", uri);
            }
        }
        Ok(Some(url.into()))
    }
}
