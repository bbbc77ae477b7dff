//! The provider as one client sees it: its endpoints from discovery, how this client
//! authenticates there, token requests and their answers, ID-token checks, revocation.

use crate::auth_error::AuthError;
use crate::store::{SessionStore, StoredSession, TokenSet};
use crate::verifier::Verifier;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Everything a session needs from its client: shared by the `AuthClient` and its sessions.
pub(crate) struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub http: reqwest::Client,
    pub token_endpoint: String,
    pub authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the provider says it sends `iss` with every authorization response.
    pub sends_iss: bool,
    pub admin_api: String,
    /// Verifies ID tokens: audience = this client.
    pub id_tokens: Verifier,
    pub store: Arc<dyn SessionStore>,
    pub refresh_ahead: Duration,
    pub refreshes: AtomicU64,
}

/// A token endpoint's successful answer (RFC 6749 §5.1).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

impl Provider {
    /// Posts `form` to the token endpoint as this client (HTTP Basic with a secret, else
    /// `client_id` in the body) and reads the answer.
    pub async fn token(&self, mut form: Vec<(&str, &str)>) -> Result<TokenResponse, AuthError> {
        if self.client_secret.is_none() {
            form.push(("client_id", &self.client_id));
        }
        let r = self.authenticated(self.http.post(&self.token_endpoint)).form(&form);
        let r = r.send().await.map_err(unavailable)?;
        if r.status().is_success() {
            return r.json().await.map_err(|e| AuthError::Unavailable(format!("the token response: {e}")));
        }
        Err(refusal(r).await)
    }

    /// The tokens of a token response, with its ID token verified (OIDC Core §3.1.3.7; on a
    /// refresh, §12.2: the same subject) and the claims the session keeps.
    pub async fn session_tokens(
        &self,
        t: TokenResponse,
        nonce: Option<&str>,
        previous: Option<&StoredSession>,
    ) -> Result<(TokenSet, Map<String, Value>), AuthError> {
        let now = now();
        let mut claims = previous.map(|p| p.claims.clone()).unwrap_or_default();
        if let Some(id_token) = &t.id_token {
            let fresh = self.id_tokens.verify_id_token(id_token, nonce).await.map_err(AuthError::IdToken)?;
            if previous.is_some_and(|p| p.claims.get("sub").is_some_and(|s| fresh.get("sub") != Some(s))) {
                return Err(AuthError::IdToken(crate::VerifyError::Invalid("the subject changed on refresh".into())));
            }
            claims = fresh;
        }
        let tokens = TokenSet {
            access_token: t.access_token,
            token_type: t.token_type.unwrap_or_else(|| "Bearer".into()),
            // RFC 6749 §6: without a new refresh token, the old one stays good.
            refresh_token: t.refresh_token.or_else(|| previous.and_then(|p| p.tokens.refresh_token.clone())),
            id_token: t.id_token.or_else(|| previous.and_then(|p| p.tokens.id_token.clone())),
            scope: t.scope.or_else(|| previous.and_then(|p| p.tokens.scope.clone())),
            issued_at: now,
            expires_at: t.expires_in.map(|s| now.saturating_add(s)),
        };
        Ok((tokens, claims))
    }

    /// Revokes `token` (RFC 7009), if the provider has a revocation endpoint.
    pub async fn revoke(&self, token: &str, hint: &str) -> Result<(), AuthError> {
        let Some(endpoint) = &self.revocation_endpoint else { return Ok(()) };
        let mut form = vec![("token", token), ("token_type_hint", hint)];
        if self.client_secret.is_none() {
            form.push(("client_id", &self.client_id));
        }
        let r = self.authenticated(self.http.post(endpoint)).form(&form).send().await.map_err(unavailable)?;
        if r.status().is_success() { Ok(()) } else { Err(refusal(r).await) }
    }

    /// Counts a refresh done by a session.
    pub fn refreshed(&self) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// RFC 6749 §2.3.1: client_secret_basic, the id and secret form-encoded first.
    fn authenticated(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.client_secret {
            Some(secret) => r.basic_auth(form_encoded(&self.client_id), Some(form_encoded(secret))),
            None => r,
        }
    }
}

/// The error a provider answered with: an OAuth error body (RFC 6749 §5.2) is `Refused`,
/// anything else (a 5xx, a proxy's page) is `Unavailable`.
pub(crate) async fn refusal(r: reqwest::Response) -> AuthError {
    let status = r.status();
    let body: Map<String, Value> = r.json().await.unwrap_or_default();
    match body.get("error").and_then(Value::as_str) {
        Some(error) if !status.is_server_error() => AuthError::Refused {
            error: error.to_owned(),
            description: body.get("error_description").and_then(Value::as_str).map(str::to_owned),
        },
        _ => AuthError::Unavailable(format!("the provider answered {status}")),
    }
}

pub(crate) fn unavailable(e: reqwest::Error) -> AuthError {
    AuthError::Unavailable(e.to_string())
}

fn form_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// `bytes` random bytes from the system's generator, base64url: session ids, `state`, `nonce`,
/// PKCE verifiers.
pub(crate) fn random_token(bytes: usize) -> Result<String, AuthError> {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| AuthError::Unavailable("no randomness".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}
