//! Clients described by a client ID metadata document (`[cimd]`; the rules are
//! `gatehouse_protocol::cimd`'s): fetched through the SSRF-safe [`Fetcher`] when first met, kept
//! as long as the document's `Cache-Control` allows (one minute to a day), at most
//! [`MAX_CACHED`] of them. A document that cannot be fetched or does not pass is no client at
//! all: the authorization endpoint shows its unknown-client page, the token endpoint answers
//! `invalid_client`, and the reason is logged.

use crate::catalog::Catalog;
use crate::config::CimdPolicy;
use crate::fetch::{FetchPolicy, Fetcher};
use crate::ttl_cache::TtlCache;
use gatehouse_protocol::cimd::{self, MAX_DOCUMENT_BYTES, client_from_document};
use gatehouse_protocol::client::{Client, ClientId};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Documents kept at once; past this, expired ones go, then the oldest.
pub const MAX_CACHED: usize = 1000;
const MIN_CACHE: u64 = 60;
const MAX_CACHE: u64 = 86_400;
const DEFAULT_CACHE: u64 = 300;

pub struct MetadataClients {
    policy: CimdPolicy,
    fetcher: Fetcher,
    catalog: Arc<Catalog>,
    cache: TtlCache<Client>,
}

impl MetadataClients {
    pub fn new(policy: CimdPolicy, catalog: Arc<Catalog>) -> Self {
        let fetch = FetchPolicy {
            allow_loopback: policy.allow_loopback,
            max_bytes: MAX_DOCUMENT_BYTES,
            ..FetchPolicy::default()
        };
        let fetcher = Fetcher::trusting(fetch, &policy.extra_roots);
        Self { policy, fetcher, catalog, cache: TtlCache::new(MAX_CACHED) }
    }

    pub fn enabled(&self) -> bool {
        self.policy.enabled
    }

    /// Whether `id` names a metadata document this server would fetch: the feature is on, the
    /// id is a metadata URL, and its host is allowed.
    pub fn handles(&self, id: &str) -> bool {
        let shaped = cimd::is_metadata_url(id) || (self.policy.allow_loopback && cimd::is_loopback_test_url(id));
        self.policy.enabled && shaped && cimd::host_of(id).is_some_and(|h| self.host_allowed(&h))
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.policy.allowed_domains.is_empty()
            || self.policy.allowed_domains.iter().any(|d| match d.strip_prefix("*.") {
                Some(parent) => host.ends_with(&format!(".{parent}")),
                None => *d == host,
            })
    }

    /// The client `id`'s document describes, from the cache or fetched now; `None` when there
    /// is none that passes.
    pub async fn get(&self, id: &ClientId) -> Option<Client> {
        if !self.handles(id.as_str()) {
            return None;
        }
        let now = Instant::now();
        if let Some(client) = self.cache.fresh(id.as_str(), now) {
            return Some(client);
        }
        let url = url::Url::parse(id.as_str()).ok()?;
        let fetched = match self.fetcher.get(&url, "application/json").await {
            Ok(f) if f.status == 200 => f,
            Ok(f) => {
                tracing::warn!(client_id = %id, status = f.status, "client metadata document not served");
                return None;
            }
            Err(e) => {
                tracing::warn!(client_id = %id, error = %e, "client metadata document could not be fetched");
                return None;
            }
        };
        let catalog = self.catalog.get();
        let client = match client_from_document(id.as_str(), &fetched.body, &self.policy.allowed_scopes, &|s| {
            catalog.knows(s)
        }) {
            Ok(c) => c,
            Err(errs) => {
                let why: Vec<String> = errs.iter().map(ToString::to_string).collect();
                tracing::warn!(client_id = %id, problems = %why.join("; "), "client metadata document refused");
                return None;
            }
        };
        let cache_control = fetched.headers.get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok());
        if let Some(secs) = cimd::cache_seconds(cache_control, MIN_CACHE, MAX_CACHE, DEFAULT_CACHE) {
            self.cache.insert(id.as_str(), client.clone(), now, now + Duration::from_secs(secs));
        }
        Some(client)
    }
}

/// Where clients are found: the store (configured, administered, registered ones), then, for
/// an https `client_id`, its metadata document.
pub struct Clients {
    store: Arc<dyn gatehouse_store::Store>,
    metadata: Arc<MetadataClients>,
}

impl Clients {
    pub fn new(store: Arc<dyn gatehouse_store::Store>, metadata: Arc<MetadataClients>) -> Self {
        Self { store, metadata }
    }

    pub async fn get(&self, id: &ClientId) -> Result<Option<Client>, gatehouse_store::StoreError> {
        if let Some(c) = self.store.get_client(id).await? {
            return Ok(Some(c));
        }
        if self.metadata.handles(id.as_str()) {
            return Ok(self.metadata.get(id).await);
        }
        Ok(None)
    }
}
