//! Introspection mode (RFC 7662) for APIs that must see a revocation at once: every token is
//! asked about at the provider's introspection endpoint, the answer kept for a short time (by
//! default 5 s; zero keeps nothing), so a revoked token stops working within that time.

use crate::{AccessToken, Error, VerifyError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many answers are remembered; beyond it the memory starts again empty.
const MAX_CACHED: usize = 10_000;

/// An answer about a token, and when it was given.
type Answer = (Instant, Result<AccessToken, VerifyError>);

/// Asks the provider about each token (as a client allowed to introspect it).
pub struct Introspector {
    issuer: String,
    audience: String,
    endpoint: String,
    client_id: String,
    client_secret: String,
    ttl: Duration,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Answer>>,
}

impl Introspector {
    /// Finds `issuer`'s `introspection_endpoint` by discovery; the API authenticates there as
    /// `client_id` with `client_secret` (HTTP Basic). Tokens must carry `audience` in `aud`.
    pub async fn discover(issuer: &str, audience: &str, client_id: &str, client_secret: &str) -> Result<Self, Error> {
        let (http, metadata) = crate::verifier::discovery(issuer).await?;
        let endpoint = metadata
            .get("introspection_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Invalid("the discovery document has no introspection_endpoint".into()))?
            .to_owned();
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            endpoint,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            ttl: Duration::from_secs(5),
            http,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// How long an answer is reused (zero: ask every time).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The token as the provider sees it now: `VerifyError::Inactive` once it is revoked or
    /// expired, `WrongIssuer`/`WrongAudience` when it is not meant for this API.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, VerifyError> {
        if !self.ttl.is_zero()
            && let Ok(cache) = self.cache.lock()
            && let Some((at, answer)) = cache.get(token)
            && at.elapsed() < self.ttl
        {
            return answer.clone();
        }
        let answer = self.ask(token).await;
        // Only the provider's answers are remembered, not a failure to reach it.
        if !self.ttl.is_zero()
            && !matches!(answer, Err(VerifyError::Unavailable))
            && let Ok(mut cache) = self.cache.lock()
        {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(token.to_owned(), (Instant::now(), answer.clone()));
        }
        answer
    }

    async fn ask(&self, token: &str) -> Result<AccessToken, VerifyError> {
        let r = self
            .http
            .post(&self.endpoint)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|_| VerifyError::Unavailable)?;
        if !r.status().is_success() {
            return Err(VerifyError::Unavailable);
        }
        let v: serde_json::Map<String, Value> = r.json().await.map_err(|_| VerifyError::Unavailable)?;
        if v.get("active") != Some(&Value::Bool(true)) {
            return Err(VerifyError::Inactive);
        }
        if v.get("iss").and_then(Value::as_str).is_some_and(|i| i != self.issuer) {
            return Err(VerifyError::WrongIssuer);
        }
        let audiences: Vec<&str> = match v.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !audiences.contains(&self.audience.as_str()) {
            return Err(VerifyError::WrongAudience);
        }
        Ok(crate::verifier::access_token(v))
    }
}
