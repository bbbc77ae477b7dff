//! [`AuthClient`]: an application's own sign-in and registration forms over the provider —
//! the password grant, user creation with the narrow `gatehouse:provision` scope, sign-out by
//! revocation — and the sessions they start.

use crate::auth_error::AuthError;
use crate::provider::{Provider, random_token, unavailable};
use crate::session::{Registry, Session};
use crate::store::{MemoryStore, SessionStore, StoredSession};
use crate::verifier::{Verifier, discovery};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The scope a client needs to create users through Gatehouse's admin API (and set their
/// password and claims, nothing else). Grant it to the client in the provider's configuration.
pub const PROVISION_SCOPE: &str = "gatehouse:provision";

/// A client of the provider that signs users in and keeps their sessions.
///
/// ```no_run
/// # async fn f() -> Result<(), gatehouse_client::AuthError> {
/// use gatehouse_client::{AuthClient, AuthError};
/// let client = AuthClient::builder("http://127.0.0.1:8080", "legacy")
///     .client_secret("legacy-secret-change-me")
///     .discover()
///     .await?;
/// match client.sign_in("alice", "alice-password-change-me", "openid profile offline_access").await {
///     Ok(session) => println!("signed in; cookie value {}", session.id()),
///     Err(AuthError::InvalidCredentials) => println!("wrong username or password"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthClient {
    pub(crate) provider: Arc<Provider>,
    pub(crate) sessions: Arc<Registry>,
}

/// Builds an [`AuthClient`]: [`AuthClient::builder`], then options, then
/// [`discover`](Self::discover).
pub struct AuthClientBuilder {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    store: Arc<dyn SessionStore>,
    refresh_ahead: Duration,
    admin_api: Option<String>,
}

impl AuthClientBuilder {
    /// The client's secret: a confidential client, authenticating with HTTP Basic
    /// (`client_secret_basic`). Without one, a public client sending its `client_id`.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Where sessions are kept (default: a [`MemoryStore`], lost on restart).
    pub fn store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = store;
        self
    }

    /// How long before an access token expires a session refreshes it (default 60 s; never
    /// earlier than half the token's lifetime).
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }

    /// The base URL of Gatehouse's admin API, for [`AuthClient::register`] (default
    /// `{issuer}/admin/v1`).
    pub fn admin_api(mut self, url: impl Into<String>) -> Self {
        self.admin_api = Some(url.into());
        self
    }

    /// Fetches the issuer's discovery document and keys, and builds the client.
    pub async fn discover(self) -> Result<AuthClient, AuthError> {
        let (http, metadata) = discovery(&self.issuer).await?;
        let text = |name: &str| metadata.get(name).and_then(Value::as_str).map(str::to_owned);
        let token_endpoint = text("token_endpoint").ok_or_else(|| {
            AuthError::Discovery(crate::Error::Invalid("the discovery document has no token_endpoint".into()))
        })?;
        let id_tokens = Verifier::from_metadata(http.clone(), &metadata, &self.issuer, &self.client_id).await?;
        let provider = Provider {
            admin_api: self.admin_api.unwrap_or_else(|| format!("{}/admin/v1", self.issuer.trim_end_matches('/'))),
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret,
            token_endpoint,
            authorization_endpoint: text("authorization_endpoint"),
            revocation_endpoint: text("revocation_endpoint"),
            userinfo_endpoint: text("userinfo_endpoint"),
            end_session_endpoint: text("end_session_endpoint"),
            sends_iss: metadata.get("authorization_response_iss_parameter_supported") == Some(&Value::Bool(true)),
            http,
            id_tokens,
            store: self.store,
            refresh_ahead: self.refresh_ahead,
            refreshes: AtomicU64::new(0),
        };
        Ok(AuthClient { provider: Arc::new(provider), sessions: Arc::new(Registry::default()) })
    }
}

/// A user to register: [`AuthClient::register`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewUser {
    /// The username they will sign in with.
    pub username: String,
    /// Their password (the provider's password policy applies).
    pub password: String,
    /// Claims to store with them (`name`, `email`, custom ones), released by scope.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
}

/// A user the provider created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisteredUser {
    /// Their subject identifier (`sub`).
    #[serde(rename = "sub")]
    pub subject: String,
    /// Their username.
    pub username: String,
}

impl AuthClient {
    /// Starts building a client of `issuer` (exactly as the provider names itself) with this
    /// `client_id`.
    pub fn builder(issuer: impl Into<String>, client_id: impl Into<String>) -> AuthClientBuilder {
        AuthClientBuilder {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            store: Arc::new(MemoryStore::new()),
            refresh_ahead: Duration::from_secs(60),
            admin_api: None,
        }
    }

    /// Signs a user in with the password grant (RFC 6749 §4.3) for `scope` (include `openid`
    /// for their claims, and `offline_access` where the provider needs it for a refresh
    /// token). The ID token, if any, is verified. The session is saved in the store.
    pub async fn sign_in(&self, username: &str, password: &str, scope: &str) -> Result<Session, AuthError> {
        let form = vec![("grant_type", "password"), ("username", username), ("password", password), ("scope", scope)];
        let answer = match self.provider.token(form).await {
            Err(AuthError::Refused { error, .. }) if error == "invalid_grant" => {
                return Err(AuthError::InvalidCredentials);
            }
            other => other?,
        };
        let (tokens, claims) = self.provider.session_tokens(answer, None, None).await?;
        self.start(tokens, claims).await
    }

    /// Creates a user through Gatehouse's admin API (`POST /admin/v1/users`), authorised by a
    /// client-credentials token with [`PROVISION_SCOPE`] — this client must hold that scope
    /// and the `client_credentials` grant. Does not sign them in: call
    /// [`sign_in`](Self::sign_in) next.
    pub async fn register(&self, user: &NewUser) -> Result<RegisteredUser, AuthError> {
        let p = &self.provider;
        let grant = p.token(vec![("grant_type", "client_credentials"), ("scope", PROVISION_SCOPE)]).await?;
        let r = p
            .http
            .post(format!("{}/users", p.admin_api.trim_end_matches('/')))
            .bearer_auth(&grant.access_token)
            .json(user)
            .send()
            .await
            .map_err(unavailable)?;
        let status = r.status().as_u16();
        if status == 201 || status == 200 {
            return r.json().await.map_err(|e| AuthError::Unavailable(format!("the created user: {e}")));
        }
        let problem: Map<String, Value> = r.json().await.unwrap_or_default();
        let detail = ["detail", "title", "error_description", "error"]
            .iter()
            .find_map(|k| problem.get(*k).and_then(Value::as_str))
            .unwrap_or("no detail")
            .to_owned();
        Err(match status {
            409 => AuthError::UsernameTaken,
            400 | 422 => AuthError::InvalidUser(detail),
            401 | 403 => AuthError::Refused { error: "insufficient_scope".into(), description: Some(detail) },
            _ => AuthError::Unavailable(format!("the admin API answered {status}: {detail}")),
        })
    }

    /// Signs the session out: ends it here and in the store, then revokes its refresh token
    /// (which ends the grant at the provider) and its access token (RFC 7009). The session is
    /// over even if revocation fails; the error says the provider may still honour the tokens
    /// until they expire.
    pub async fn sign_out(&self, session: &Session) -> Result<(), AuthError> {
        let taken = session.take().await;
        self.sessions.forget(session.id());
        let removed = self.provider.store.remove(session.id()).await;
        let Some(stored) = taken else { return Ok(()) };
        if let Some(refresh) = &stored.tokens.refresh_token {
            self.provider.revoke(refresh, "refresh_token").await?;
        }
        self.provider.revoke(&stored.tokens.access_token, "access_token").await?;
        removed.map_err(|e| AuthError::Storage(e.to_string()))
    }

    /// The session with this id: the live one in this process, else the store's. `None` when
    /// there is none (never signed in, signed out, or ended by the provider).
    pub async fn session(&self, id: &str) -> Result<Option<Session>, AuthError> {
        if let Some(live) = self.sessions.get(id) {
            return Ok(Some(live));
        }
        let stored = self.provider.store.load(id).await.map_err(|e| AuthError::Storage(e.to_string()))?;
        Ok(stored.map(|s| self.sessions.adopt(&self.provider, s)))
    }

    /// How many refreshes this client's sessions have made.
    pub fn refreshes(&self) -> u64 {
        self.provider.refreshes.load(Ordering::Relaxed)
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        &self.provider.issuer
    }

    /// A new session for these tokens, kept in the store.
    pub(crate) async fn start(
        &self,
        tokens: crate::TokenSet,
        claims: Map<String, Value>,
    ) -> Result<Session, AuthError> {
        let stored = StoredSession { id: random_token(32)?, tokens, claims };
        self.provider.store.save(&stored).await.map_err(|e| AuthError::Storage(e.to_string()))?;
        Ok(self.sessions.adopt(&self.provider, stored))
    }
}
