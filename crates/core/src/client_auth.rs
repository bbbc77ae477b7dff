//! Client authentication, written once for every endpoint that needs it (token, introspection,
//! revocation, device authorization, pushed authorization requests): parse, look up, check the
//! method, verify the secret or the client's signed assertion (`private_key_jwt`: the
//! signature by one of its keys, the claims, each `jti` once across every node).
//!
//! Operator-chosen secrets are argon2id hashes, tens of milliseconds each. A successful check
//! is remembered for a few minutes under an HMAC of (client, stored hash, presented secret)
//! with a per-process random key (DESIGN.md §4): a client authenticating thousands of times a
//! second pays argon2 once, the cache holds nothing an attacker could use, and a changed
//! secret hash changes every key.

use crate::cimd::Clients;
use crate::client_keys::ClientKeySets;
use crate::issuer::hash_token;
use crate::throttle::{Key, Throttle};
use aws_lc_rs::hmac;
use gatehouse_protocol::client::{Client, TokenEndpointAuthMethod};
use gatehouse_protocol::client_assertion;
use gatehouse_protocol::client_auth::{self, Presented};
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::jwk;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::secret::SecretHash;
use gatehouse_store::Store;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 10_000;

pub struct SecretCache {
    key: hmac::Key,
    seen: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Default for SecretCache {
    fn default() -> Self {
        let mut k = [0u8; 32];
        gatehouse_protocol::rand::Rng::fill(&crate::issuer::SystemRng, &mut k);
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, &k), seen: Mutex::new(HashMap::new()) }
    }
}

impl SecretCache {
    fn tag(&self, client: &Client, hash: &SecretHash, presented: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in [client.id.as_str(), &hash.to_stored(), presented] {
            ctx.update(&(part.len() as u64).to_le_bytes());
            ctx.update(part.as_bytes());
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn remembered(&self, tag: &[u8; 32]) -> bool {
        let now = Instant::now();
        self.seen.lock().is_ok_and(|seen| seen.get(tag).is_some_and(|t| *t > now))
    }

    /// The answer without running a slow hash: `Some` for a fast (SHA-256) hash, or a slow one
    /// remembered as verified; `None` when argon2 must run.
    fn cached(
        &self,
        client: &Client,
        hash: &SecretHash,
        presented: &gatehouse_protocol::secret::Secret,
    ) -> Option<bool> {
        if !hash.is_slow() {
            return Some(hash.verify(presented));
        }
        self.remembered(&self.tag(client, hash, presented.expose())).then_some(true)
    }

    /// Verifies `presented` against the client's hash, using and filling the cache.
    async fn verify(&self, client: &Client, hash: &SecretHash, presented: &gatehouse_protocol::secret::Secret) -> bool {
        if !hash.is_slow() {
            return hash.verify(presented);
        }
        let tag = self.tag(client, hash, presented.expose());
        if self.remembered(&tag) {
            return true;
        }
        // Many requests of one client can miss together; after waiting for an argon2 turn,
        // the first one's result is usually here already.
        let _permit = crate::secrets::argon2_permit().await;
        if self.remembered(&tag) {
            return true;
        }
        let (h, p) = (hash.clone(), presented.clone());
        let ok = tokio::task::spawn_blocking(move || h.verify(&p)).await.unwrap_or(false);
        if ok && let Ok(mut seen) = self.seen.lock() {
            let now = Instant::now();
            if seen.len() >= MAX_ENTRIES {
                seen.retain(|_, t| *t > now);
                if seen.len() >= MAX_ENTRIES {
                    seen.clear();
                }
            }
            seen.insert(tag, now + TTL);
        }
        ok
    }
}

/// Authenticates clients: the store to find them, the cache of verified secrets, the throttle
/// for wrong ones, and for signed assertions the clients' keys and the replay record.
pub struct ClientAuth {
    clients: Arc<Clients>,
    secrets: SecretCache,
    throttle: Arc<Throttle>,
    assertions: Assertions,
}

/// What checking a client assertion needs.
pub struct Assertions {
    pub keys: Arc<ClientKeySets>,
    /// Opens sealed secrets: `client_secret_jwt` keys and secrets that must stay usable.
    pub sealer: Arc<crate::sealing::Sealer>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub issuer: Arc<str>,
}

impl Assertions {
    /// RFC 7523 §3: signed by one of the client's keys with an allowed algorithm, for this
    /// server (the issuer, the token endpoint, or `endpoint`, the path called), in date, and
    /// never seen before.
    async fn check(&self, client: &Client, assertion: &str, endpoint: &str) -> Result<(), OAuthError> {
        let parsed = jwk::parse(assertion)
            .map_err(|_| OAuthError::InvalidClientAssertion("the client assertion is not a JWT"))?;
        if client.token_endpoint_auth_method == TokenEndpointAuthMethod::ClientSecretJwt {
            // OIDC Core §9: HS256 keyed by the client secret, which Gatehouse keeps sealed.
            let secret = client.secret.as_ref().and_then(|h| self.sealer.open(h));
            if secret.is_none_or(|s| parsed.verify_hs256(s.expose().as_bytes()).is_err()) {
                return Err(OAuthError::InvalidClientAssertion("the JWT's signature does not verify"));
            }
        } else {
            self.keys
                .verify(client, &parsed, &client.keys.assertion_algs())
                .await
                .map_err(|p| OAuthError::InvalidClientAssertion(p.describe()))?;
        }
        let base = self.issuer.trim_end_matches('/');
        let (token, called) = (format!("{base}/token"), format!("{base}{endpoint}"));
        let now = self.clock.now();
        let accepted = client_assertion::check_claims(&parsed.claims, &[&self.issuer, base, &token, &called], now)?;
        let key = hash_token(&format!("client-assertion:{}:{}", client.id.as_str(), accepted.jti));
        if !self.store.record_once(&key, accepted.exp + client_assertion::SKEW).await? {
            return Err(OAuthError::InvalidClientAssertion("the client assertion was used before (its jti)"));
        }
        Ok(())
    }
}

impl ClientAuth {
    pub fn new(clients: Arc<Clients>, throttle: Arc<Throttle>, assertions: Assertions) -> Self {
        Self { clients, secrets: SecretCache::default(), throttle, assertions }
    }

    /// Authenticates the client of a request to `endpoint` (its path: `/token`, `/par`...;
    /// RFC 6749 §2.3, §3.2.1; RFC 7523). Wrong secrets are throttled per client and per source
    /// address (DESIGN.md §7); the check costs a store read only when a slow (argon2) secret
    /// misses the cache, so the hot path stays one lookup.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        params: &Params,
        peer: Option<IpAddr>,
        endpoint: &str,
    ) -> Result<(Client, Presented), OAuthError> {
        let presented = client_auth::parse(authorization, params)?;
        let via_basic = presented.via_basic();
        let client = self.clients.get(&presented.client_id).await?.ok_or(OAuthError::InvalidClient { via_basic })?;
        client_auth::check_method(&client, &presented)?;
        if let Some(assertion) = &presented.assertion {
            self.assertions.check(&client, assertion, endpoint).await?;
        }
        if let (Some(hash @ SecretHash::Sealed(_)), Some(secret)) = (&client.secret, &presented.secret) {
            // A secret kept usable: opened and compared (fast, so not throttled like argon2).
            if !self.assertions.sealer.verify(hash, secret) {
                return Err(OAuthError::InvalidClient { via_basic });
            }
            return Ok((client, presented));
        }
        if let (Some(hash), Some(secret)) = (&client.secret, &presented.secret) {
            let mut keys = vec![Key::Client(client.id.as_str())];
            keys.extend(peer.map(Key::Ip));
            let ok = match self.secrets.cached(&client, hash, secret) {
                Some(ok) => ok,
                None if self.throttle.wait(&keys).await.is_some() => {
                    return Err(OAuthError::InvalidClient { via_basic });
                }
                None => self.secrets.verify(&client, hash, secret).await,
            };
            if !ok {
                // A generated (SHA-256) secret has 256 bits: guessing it is hopeless, so only the
                // operator-chosen (argon2) kind is counted.
                if hash.is_slow() {
                    self.throttle.failure(&keys).await;
                }
                return Err(OAuthError::InvalidClient { via_basic });
            }
        }
        Ok((client, presented))
    }
}
