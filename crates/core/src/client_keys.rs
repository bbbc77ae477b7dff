//! Clients' public keys, for what they sign (`private_key_jwt` assertions, request objects)
//! and for what Gatehouse encrypts to them (ID tokens, userinfo, introspection and authorization
//! responses; [`Encrypter`]).
//! A client's `jwks` is used as registered; its `jwks_uri` is fetched through the SSRF-safe
//! [`Fetcher`] (the `[fetch]` policy), kept five minutes, and fetched again at once when a JWT
//! names a `kid` the set does not have — at most once a minute per URI, so a stream of forged
//! `kid`s cannot turn Gatehouse into a request amplifier. A set that cannot be fetched again
//! falls back on the last good one.

use crate::fetch::{ClientFetchPolicy, FetchPolicy, Fetcher};
use crate::ttl_cache::TtlCache;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::jwe::EncryptionKey;
use gatehouse_protocol::jwk::{Jwks, JwsError, Parsed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a fetched set is used before it is fetched again.
const FRESH: Duration = Duration::from_secs(300);
/// The least time between two fetches of one URI prompted by unknown `kid`s.
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// JWK sets kept at once.
const MAX_CACHED: usize = 1000;
/// The largest JWK set document.
const MAX_BYTES: usize = 64 * 1024;

/// Why a client's JWT did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// The client registered neither `jwks` nor `jwks_uri`.
    NoKeys,
    /// Its `jwks_uri` could not be fetched or did not hold a valid set (logged).
    Unavailable,
    Jws(JwsError),
}

impl KeyProblem {
    /// A description safe to send to the client.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoKeys => "the client has registered no keys (jwks or jwks_uri)",
            Self::Unavailable => "the client's jwks_uri could not be fetched",
            Self::Jws(JwsError::Malformed) => "the JWT is malformed",
            Self::Jws(JwsError::Algorithm) => "the JWT's alg is not one this client may use",
            Self::Jws(JwsError::NoKey) => "no key of the client's JWK set matches the JWT's kid and alg",
            Self::Jws(JwsError::BadSignature) => "the JWT's signature does not verify",
        }
    }
}

pub struct ClientKeySets {
    fetcher: Fetcher,
    cache: TtlCache<Arc<Jwks>>,
    /// URIs fetched again for an unknown `kid` within the last interval.
    refetched: TtlCache<()>,
}

impl ClientKeySets {
    pub fn new(policy: &ClientFetchPolicy) -> Self {
        let fetch =
            FetchPolicy { allow_loopback: policy.allow_loopback, max_bytes: MAX_BYTES, ..FetchPolicy::default() };
        Self {
            fetcher: Fetcher::trusting(fetch, &policy.extra_roots),
            cache: TtlCache::new(MAX_CACHED),
            refetched: TtlCache::new(MAX_CACHED),
        }
    }

    /// The fetcher for other documents clients name (`request_uri`, `sector_identifier_uri`),
    /// under the same policy.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// Verifies that `client` signed `jwt` with one of its keys, with an algorithm of `allowed`.
    pub async fn verify(
        &self,
        client: &Client,
        jwt: &Parsed<'_>,
        allowed: &[SigningAlg],
    ) -> Result<SigningAlg, KeyProblem> {
        if let Some(jwks) = &client.keys.jwks {
            return jwt.verify(jwks, allowed).map_err(KeyProblem::Jws);
        }
        let uri = client.keys.jwks_uri.as_deref().ok_or(KeyProblem::NoKeys)?;
        let jwks = self.set(uri, false).await?;
        match jwt.verify(&jwks, allowed) {
            Err(JwsError::NoKey) => {
                // Perhaps the client rotated its keys: one fresh look, if not looked lately.
                let again = self.set(uri, true).await?;
                jwt.verify(&again, allowed).map_err(KeyProblem::Jws)
            }
            other => other.map_err(KeyProblem::Jws),
        }
    }

    /// How to encrypt `which` for `client`, if it asked for that: its algorithms and a JWK set
    /// holding a key for them. Looked up before anything is issued or stored, so a client whose
    /// keys cannot be had changes nothing. A `jwks_uri` set without such a key is fetched again
    /// (the client may have rotated), within the refetch interval.
    pub async fn encrypter(&self, client: &Client, which: Encrypted) -> Result<Option<Encrypter>, OAuthError> {
        let Some(how) = client.responses.encryption(which) else { return Ok(None) };
        let no_key = || {
            tracing::warn!(client_id = %client.id, alg = %how.alg, "the client's JWK set has no key to encrypt to");
            OAuthError::Server(InternalError::new(format!("client {} has no {} key to encrypt to", client.id, how.alg)))
        };
        let key = match (&client.keys.jwks, client.keys.jwks_uri.as_deref()) {
            (Some(jwks), _) => EncryptionKey::find(jwks, how),
            (None, Some(uri)) => {
                let unavailable = |_| {
                    OAuthError::TemporarilyUnavailable(InternalError::new(format!(
                        "client {}'s jwks_uri could not be fetched to encrypt to",
                        client.id
                    )))
                };
                match EncryptionKey::find(&*self.set(uri, false).await.map_err(unavailable)?, how) {
                    Some(key) => Some(key),
                    None => EncryptionKey::find(&*self.set(uri, true).await.map_err(unavailable)?, how),
                }
            }
            (None, None) => None,
        };
        key.map(|key| Some(Encrypter { key })).ok_or_else(no_key)
    }

    /// The set at `uri`: the cached one while fresh, else fetched now; with `refetch`, fetched
    /// now unless it was refetched within the interval. The last good one when fetching fails.
    async fn set(&self, uri: &str, refetch: bool) -> Result<Arc<Jwks>, KeyProblem> {
        let now = Instant::now();
        let cached = self.cache.entry(uri);
        if let Some(e) = &cached {
            let fresh = if refetch { self.refetched.fresh(uri, now).is_some() } else { e.until > now };
            if fresh {
                return Ok(e.value.clone());
            }
        }
        if refetch {
            self.refetched.insert(uri, (), now, now + REFETCH_INTERVAL);
        }
        match self.fetch(uri).await {
            Some(jwks) => {
                let jwks = Arc::new(jwks);
                self.cache.insert(uri, jwks.clone(), now, now + FRESH);
                Ok(jwks)
            }
            None => cached.map(|e| e.value).ok_or(KeyProblem::Unavailable),
        }
    }

    async fn fetch(&self, uri: &str) -> Option<Jwks> {
        let url = url::Url::parse(uri).ok()?;
        let fetched = match self.fetcher.get(&url, "application/jwk-set+json, application/json").await {
            Ok(f) if f.status == 200 => f,
            Ok(f) => {
                tracing::warn!(jwks_uri = uri, status = f.status, "client JWK set not served");
                return None;
            }
            Err(e) => {
                tracing::warn!(jwks_uri = uri, error = %e, "client JWK set could not be fetched");
                return None;
            }
        };
        let parsed = serde_json::from_slice(&fetched.body).map_err(|_| "not JSON").and_then(|v| Jwks::parse(&v));
        parsed.map_err(|why| tracing::warn!(jwks_uri = uri, why, "client JWK set refused")).ok()
    }
}

/// Encrypts one kind of response for one client, with a key it is known to hold
/// ([`ClientKeySets::encrypter`]).
#[derive(Debug)]
pub struct Encrypter {
    key: EncryptionKey,
}

impl Encrypter {
    /// `payload` as a compact JWE; `nested` when it is a JWS (`cty: JWT`).
    pub fn seal(&self, payload: &[u8], nested: bool) -> Result<String, OAuthError> {
        self.key.encrypt(payload, nested).map_err(|e| OAuthError::Server(InternalError::new(e.to_string())))
    }

    /// Seals `payload` with `enc` if there is one, else returns it as it is.
    pub fn maybe(enc: Option<&Self>, payload: String, nested: bool) -> Result<String, OAuthError> {
        match enc {
            Some(e) => e.seal(payload.as_bytes(), nested),
            None => Ok(payload),
        }
    }
}
