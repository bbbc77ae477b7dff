//! Signing in with another identity provider (`[[upstreams]]`): OpenID Connect providers and
//! plain OAuth 2.0 ones (GitHub-style).
//!
//! A sign-in goes out with the authorization code flow, PKCE (S256), a `state` and (OIDC) a
//! `nonce`. The state is a random value whose hash keys a ceremony kept server-side (taken once,
//! ten minutes, bound to its provider), holding the nonce, the PKCE verifier and what the
//! sign-in is for: an interaction's sign-in (the browser's CSRF cookie must still be that
//! interaction's when it comes back) or a signed-in user's link. Coming back, the code is
//! exchanged once; an ID token is verified in full (signature by the provider's JWK set, `iss`,
//! `aud`, `azp`, `exp`, `iat`, `nonce`), RFC 9207's `iss` is checked when present (and required
//! when the provider says it sends it), and userinfo is read with the access token. Every
//! request to the provider goes through the SSRF-safe [`Fetcher`]. `provider.rs` talks to the
//! provider; `accounts.rs` decides which user the identity is (a link, a verified email, or a
//! new user).

mod accounts;
mod provider;
mod stored;

pub use accounts::remove_link;
pub use stored::{PutError, UpstreamView, delete, put, stored, view};

use crate::fetch::{ClientFetchPolicy, FetchError, FetchPolicy, Fetcher};
use crate::issuer::{TokenIssuer, hash_token};
use crate::metrics::Metrics;
use crate::ttl_cache::TtlCache;
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::pkce;
use gatehouse_protocol::upstream::{Identity, Kind, Refusal, Upstream};
use gatehouse_store::{Store, StoreError};
use provider::Metadata;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How long a sign-in at the provider may take.
const CEREMONY_TTL: i64 = 600;

/// Why an upstream sign-in did not work. `Display` is safe to show and to log.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("there is no such sign-in provider")]
    Unknown,
    /// The state is unknown, spent, expired or someone else's.
    #[error("the sign-in expired or was already used")]
    Expired,
    /// The provider sent an error instead of a code (the user cancelled, or it refused).
    #[error("the provider answered {0}")]
    Denied(String),
    /// The provider could not be reached or answered something unusable (logged in full).
    #[error("the provider could not be reached or answered badly")]
    Unavailable,
    #[error("the provider's answer was refused: {0}")]
    Refused(#[from] Refusal),
    /// The identity is linked to no one here and may not create a user.
    #[error("no account here is linked to that identity")]
    NoAccount,
    /// The user the identity is linked to is disabled.
    #[error("the account is disabled")]
    Disabled,
    /// The provider's email address is an existing user's, and the link was not made.
    #[error("an account with that email address exists already")]
    EmailTaken,
    /// Linking an identity that is linked to someone else.
    #[error("that identity is linked to another account")]
    LinkedElsewhere,
    /// Removing the last way the user has to sign in.
    #[error("that is the account's only way to sign in")]
    LastWay,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FetchError> for UpstreamError {
    fn from(e: FetchError) -> Self {
        let hint = matches!(e, FetchError::Forbidden(_))
            .then_some("a provider on a private network needs private_network = true");
        tracing::warn!(error = %e, hint, "an upstream provider could not be reached");
        Self::Unavailable
    }
}

/// What a sign-in at a provider is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Purpose {
    /// Signing in to finish an authorization request (its interaction).
    SignIn { interaction: String },
    /// A signed-in user adding the identity to their account.
    Link { sub: String },
}

/// A ceremony's state, kept server-side.
#[derive(Serialize, Deserialize)]
struct Pending {
    purpose: Purpose,
    nonce: String,
    verifier: String,
}

/// How fresh the sign-in at the provider must be.
#[derive(Debug, Clone, Copy, Default)]
pub struct Again {
    /// The application asked for `prompt=login`.
    pub login: bool,
    /// The application's `max_age`.
    pub max_age: Option<i64>,
}

/// What came back to the callback.
#[derive(Debug, Default)]
pub struct Callback<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// RFC 9207.
    pub iss: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// What a sign-in at a provider was for, and the identity it verified (or why none).
#[derive(Debug)]
pub struct Finished {
    pub purpose: Purpose,
    pub identity: Result<Identity, UpstreamError>,
}

/// A provider as the sign-in page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Button {
    pub id: String,
    pub label: String,
    pub icon: Option<String>,
}

pub struct Upstreams {
    /// The configuration file's providers.
    configured: Vec<Upstream>,
    /// Those and the stored ones (admin API, CLI), as last loaded (`stored.rs`).
    current: std::sync::RwLock<Arc<Vec<Upstream>>>,
    sealer: Arc<crate::sealing::Sealer>,
    store: Arc<dyn Store>,
    /// For providers on the public internet.
    fetcher: Fetcher,
    /// For providers marked `private_network`: private addresses allowed too.
    private: Fetcher,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    metadata: TtlCache<Arc<Metadata>>,
    jwks: TtlCache<Arc<gatehouse_protocol::jwk::Jwks>>,
    /// Providers whose JWK set was fetched again for an unknown `kid` in the last minute.
    refetched: TtlCache<()>,
}

impl Upstreams {
    pub fn new(
        providers: Vec<Upstream>,
        sealer: Arc<crate::sealing::Sealer>,
        policy: &ClientFetchPolicy,
        store: Arc<dyn Store>,
        tokens: Arc<TokenIssuer>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let fetch =
            FetchPolicy { allow_loopback: policy.allow_loopback, max_bytes: 256 * 1024, ..FetchPolicy::default() };
        let private = FetchPolicy { allow_private: true, ..fetch };
        let n = 64;
        Self {
            current: std::sync::RwLock::new(Arc::new(providers.clone())),
            configured: providers,
            sealer,
            store,
            fetcher: Fetcher::trusting(fetch, &policy.extra_roots),
            private: Fetcher::trusting(private, &policy.extra_roots),
            tokens,
            clock,
            metrics,
            metadata: TtlCache::new(n),
            jwks: TtlCache::new(n),
            refetched: TtlCache::new(n),
        }
    }

    /// The fetcher for provider `p`'s URLs.
    fn fetcher(&self, p: &Upstream) -> &Fetcher {
        if p.private_network { &self.private } else { &self.fetcher }
    }

    /// The providers now: the configuration's, then the stored ones.
    fn current(&self) -> Arc<Vec<Upstream>> {
        self.current.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// The providers' buttons, the configuration's first.
    pub fn buttons(&self) -> Vec<Button> {
        self.current()
            .iter()
            .map(|p| Button { id: p.id.clone(), label: p.label.clone(), icon: p.icon.clone() })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.current().is_empty()
    }

    fn provider(&self, id: &str) -> Result<Upstream, UpstreamError> {
        self.current().iter().find(|p| p.id == id).cloned().ok_or(UpstreamError::Unknown)
    }

    /// The label of provider `id`, for pages.
    pub fn label(&self, id: &str) -> Option<String> {
        self.current().iter().find(|p| p.id == id).map(|p| p.label.clone())
    }

    /// Where the provider sends the browser back.
    pub fn redirect_uri(&self, id: &str) -> String {
        format!("{}/login/upstream/{id}/callback", self.tokens.issuer.trim_end_matches('/'))
    }

    fn bound_to(id: &str) -> String {
        format!("upstream:{id}")
    }

    /// Starts a sign-in at provider `id`: the URL to send the browser to. `again`: what the
    /// application asked of the sign-in's freshness, passed on (OIDC `prompt=login`, `max_age`)
    /// so the provider does not answer from an older session of its own.
    pub async fn start(&self, id: &str, purpose: Purpose, again: Again) -> Result<url::Url, UpstreamError> {
        let p = self.provider(id)?;
        let metadata = self.metadata(&p).await?;
        let state = self.tokens.random(32);
        let pending = Pending { purpose, nonce: self.tokens.random(16), verifier: self.tokens.random(32) };
        let json = serde_json::to_string(&pending).map_err(|e| StoreError::Database(e.to_string()))?;
        let expires_at = self.clock.now() + CEREMONY_TTL;
        self.store.put_ceremony(&hash_token(&state), &Self::bound_to(id), &json, expires_at).await?;
        let mut url = metadata.authorization_endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &p.client_id)
                .append_pair("redirect_uri", &self.redirect_uri(id))
                .append_pair("state", &state)
                .append_pair("code_challenge", &pkce::s256_challenge(&pending.verifier))
                .append_pair("code_challenge_method", "S256");
            if !p.scopes.is_empty() {
                q.append_pair("scope", &p.scopes);
            }
            if p.kind == Kind::Oidc {
                q.append_pair("nonce", &pending.nonce);
                if again.login {
                    q.append_pair("prompt", "login");
                }
                if let Some(max_age) = again.max_age {
                    q.append_pair("max_age", &max_age.to_string());
                }
            }
        }
        Ok(url)
    }

    /// Finishes a sign-in at provider `id` from what came back to its callback. `Err`: the state
    /// is unknown, spent or expired (nothing is known of what it was for); else what it was for
    /// and the identity, verified, or why there is none. The state is spent either way.
    pub async fn finish(&self, id: &str, back: &Callback<'_>) -> Result<Finished, UpstreamError> {
        let p = self.provider(id)?;
        let state = back.state.filter(|s| !s.is_empty()).ok_or(UpstreamError::Expired)?;
        let taken = self.store.take_ceremony(&hash_token(state), &Self::bound_to(id), self.clock.now()).await?;
        let pending: Pending = taken.and_then(|json| serde_json::from_str(&json).ok()).ok_or(UpstreamError::Expired)?;
        let identity = self.verify(&p, back, &pending).await;
        let outcome = match &identity {
            Ok(_) => "success",
            Err(UpstreamError::Unavailable | UpstreamError::Store(_)) => "failed",
            Err(_) => "refused",
        };
        self.metrics.upstream_sign_in(id, outcome);
        if let Err(e) = &identity {
            tracing::info!(provider = id, error = %e, "an upstream sign-in did not complete");
        }
        Ok(Finished { purpose: pending.purpose, identity })
    }

    async fn verify(&self, p: &Upstream, back: &Callback<'_>, pending: &Pending) -> Result<Identity, UpstreamError> {
        if let Some(error) = back.error {
            // Only the registered error codes are repeated: the text is the provider's.
            let known = ["access_denied", "login_required", "consent_required", "interaction_required"];
            let shown = if known.contains(&error) { error } else { "an error" };
            return Err(UpstreamError::Denied(shown.to_owned()));
        }
        let metadata = self.metadata(p).await?;
        // RFC 9207: the response says which provider it came from (a mix-up attack otherwise).
        match (back.iss, metadata.issuer.as_deref()) {
            (Some(iss), Some(expected)) if iss != expected => return Err(Refusal::IdToken("iss").into()),
            (None, Some(_)) if metadata.iss_parameter => return Err(Refusal::IdToken("iss").into()),
            _ => {}
        }
        let code = back.code.filter(|c| !c.is_empty()).ok_or(UpstreamError::Denied("no code".into()))?;
        self.identify(p, &metadata, code, pending).await
    }
}
