//! OpenID Connect Back-Channel Logout 1.0: when an SSO session ends, every client that received
//! tokens in it and registered a `backchannel_logout_uri` gets a signed logout token (§2.4) by
//! POST (§2.5). Delivery runs in the background with retries and back-off, is logged, and never
//! holds up the person signing out.

use crate::fetch::{FetchError, FetchPolicy, Fetcher};
use crate::issuer::TokenIssuer;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::tokens::{BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYP, LogoutTokenClaims};
use gatehouse_store::{Session, Store};
use std::sync::Arc;
use std::time::Duration;

/// Attempts per client, and the wait before each retry (doubling).
const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(500);

pub use crate::fetch::install_tls_provider;

/// The outbound HTTP client: rustls on aws-lc-rs, short timeouts, no redirects (§2.5).
pub fn http_client() -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Sends logout tokens to the clients of ended sessions.
pub struct Backchannel {
    store: Arc<dyn Store>,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    /// For dynamically registered clients, whose URIs anyone allowed to register chose: https
    /// on public addresses only (an operator's own clients may deliver inside the network).
    guarded: Fetcher,
}

impl Backchannel {
    pub fn new(store: Arc<dyn Store>, tokens: Arc<TokenIssuer>, clock: Arc<dyn Clock>) -> Self {
        Self { store, tokens, clock, http: http_client(), guarded: Fetcher::new(FetchPolicy::default()) }
    }

    /// Sessions an administrator ended (by sid; the rest of the session is gone already).
    pub async fn sessions_ended(self: &Arc<Self>, sub: &str, sids: Vec<String>) {
        for sid in sids {
            let s = Session { sid, sub: sub.to_owned(), auth_time: 0, amr: Vec::new(), expires_at: 0 };
            self.session_ended(&s).await;
        }
    }

    /// Tells the session's clients that it ended. Returns at once; delivery happens in the background.
    pub async fn session_ended(self: &Arc<Self>, session: &Session) {
        let client_ids = match self.store.take_session_clients(&session.sid).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, sid = %session.sid, "could not read the session's clients; no back-channel logout sent");
                return;
            }
        };
        for id in client_ids {
            let Ok(id) = gatehouse_protocol::ClientId::parse(&id) else { continue };
            let client = match self.store.get_client(&id).await {
                Ok(Some(c)) if c.backchannel_logout_uri.is_some() => c,
                _ => continue,
            };
            let (this, session) = (self.clone(), session.clone());
            tokio::spawn(async move { this.deliver(&client, &session).await });
        }
    }

    async fn deliver(&self, client: &Client, session: &Session) {
        let Some(uri) = &client.backchannel_logout_uri else { return };
        let now = self.clock.now();
        let jti = self.tokens.random(16);
        let sub = self.tokens.subject_for(client, &session.sub);
        let claims = LogoutTokenClaims {
            iss: &self.tokens.issuer,
            sub: &sub,
            aud: client.id.as_str(),
            iat: now,
            exp: now + 120,
            jti: &jti,
            sid: &session.sid,
            events: serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
        };
        let token = match self.tokens.sign_for_client(client, LOGOUT_TOKEN_TYP, &claims) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(client_id = %client.id, error = %e, "could not sign a logout token");
                return;
            }
        };
        // A registered client, or one whose origin cannot be told, goes through the guard.
        let registered = !matches!(self.store.registration_token(&client.id).await, Ok(None));
        let form = [("logout_token", token.as_str())];
        let mut wait = FIRST_RETRY;
        for attempt in 1..=ATTEMPTS {
            let sent = if registered {
                match url::Url::parse(uri.as_str()) {
                    Ok(url) => self.guarded.post_form(&url, &form).await,
                    Err(_) => Err(FetchError::NoHost),
                }
            } else {
                match self.http.post(uri.as_str()).form(&form).send().await {
                    Ok(r) => Ok(r.status().as_u16()),
                    Err(e) => Err(FetchError::Http(e.to_string())),
                }
            };
            match sent {
                // §2.8: 200 (or 204) means the RP logged the session out.
                Ok(status) if (200..300).contains(&status) => {
                    tracing::info!(client_id = %client.id, sid = %session.sid, attempt, "back-channel logout delivered");
                    return;
                }
                Ok(status) => tracing::warn!(client_id = %client.id, status, attempt, "back-channel logout refused"),
                Err(e) if e.is_refusal() => {
                    tracing::error!(client_id = %client.id, error = %e,
                        "back-channel logout not sent: a registered client's URI must be https on a public address");
                    return;
                }
                Err(e) => tracing::warn!(client_id = %client.id, error = %e, attempt, "back-channel logout failed"),
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        tracing::error!(client_id = %client.id, sid = %session.sid, "back-channel logout gave up after {ATTEMPTS} attempts");
    }
}
