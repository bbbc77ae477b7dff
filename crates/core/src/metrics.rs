//! The Prometheus registry (served at `/metrics` by the server): HTTP requests and latency per
//! route and status, tokens issued per grant type, password checks (login page, device page,
//! password grant) and second-factor checks by outcome, throttled attempts by key kind, and, read at each scrape, the
//! database's round-trip time, the connection pool, and the age of every current signing key.

use crate::activity::{Activity, Kind};
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::grant::GrantType;
use gatehouse_store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The route as declared (`/register/{client_id}`), never the raw path: bounded cardinality.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FactorLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    provider: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlgLabels {
    alg: &'static str,
}

/// Every metric, registered once per server.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<HttpLabels, Histogram>,
    tokens: Family<GrantLabels, Counter>,
    logins: Family<OutcomeLabels, Counter>,
    second_factors: Family<FactorLabels, Counter>,
    upstream_sign_ins: Family<UpstreamLabels, Counter>,
    throttled: Family<KindLabels, Counter>,
    store_ping: Gauge<f64, AtomicU64>,
    pool: Family<PoolLabels, Gauge>,
    key_age: Family<AlgLabels, Gauge>,
    /// The same events counted for the console's overview (flushed to the store).
    pub activity: Activity,
    /// Whether `/metrics` exists, and the bearer token it wants (`[metrics]`).
    pub exposed: bool,
    /// The bearer token `/metrics` wants, if any.
    pub token: Option<String>,
}

impl Metrics {
    /// `exposure`: `None` keeps `/metrics` off; `Some(token)` serves it, behind `token` if any.
    pub fn new(exposure: Option<Option<String>>) -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let http_requests = Family::<HttpLabels, Counter>::default();
        // 0.5 ms to ~16 s.
        let http_seconds = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let tokens = Family::<GrantLabels, Counter>::default();
        let logins = Family::<OutcomeLabels, Counter>::default();
        let throttled = Family::<KindLabels, Counter>::default();
        let second_factors = Family::<FactorLabels, Counter>::default();
        let upstream_sign_ins = Family::<UpstreamLabels, Counter>::default();
        let store_ping = Gauge::<f64, AtomicU64>::default();
        let pool = Family::<PoolLabels, Gauge>::default();
        let key_age = Family::<AlgLabels, Gauge>::default();
        registry.register("http_requests", "HTTP requests by method, route and status", http_requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", http_seconds.clone());
        registry.register("tokens_issued", "Successful token responses by grant type", tokens.clone());
        registry.register(
            "password_checks",
            "Username and password checks (login pages, password grant) by outcome",
            logins.clone(),
        );
        registry.register(
            "second_factor_checks",
            "Second-factor checks at sign-in and enrolment (kind: totp, recovery, passkey) by outcome",
            second_factors.clone(),
        );
        registry.register(
            "upstream_sign_ins",
            "Sign-ins through upstream identity providers by provider and outcome",
            upstream_sign_ins.clone(),
        );
        registry.register("throttled", "Attempts refused by brute-force throttling, by key kind", throttled.clone());
        registry.register(
            "store_ping_seconds",
            "Round-trip time of a trivial database query, measured at this scrape",
            store_ping.clone(),
        );
        registry.register("store_pool_connections", "Database pool connections by state", pool.clone());
        registry.register(
            "signing_key_age_seconds",
            "How long each algorithm's current key has signed",
            key_age.clone(),
        );
        Self {
            registry,
            http_requests,
            http_seconds,
            tokens,
            logins,
            second_factors,
            upstream_sign_ins,
            throttled,
            store_ping,
            pool,
            key_age,
            activity: Activity::default(),
            exposed: exposure.is_some(),
            token: exposure.flatten(),
        }
    }
}

impl Metrics {
    pub fn token_issued(&self, grant: GrantType) {
        self.tokens.get_or_create(&GrantLabels { grant_type: grant.metric_label() }).inc();
        self.activity.add(Kind::Token);
    }

    /// One answered HTTP request: `route` is the route as declared, never the raw path.
    pub fn http_request(&self, method: &'static str, route: String, status: u16, seconds: f64) {
        let labels = HttpLabels { method, route, status };
        self.http_seconds.get_or_create(&labels).observe(seconds);
        self.http_requests.get_or_create(&labels).inc();
    }

    /// `outcome`: `success`, `failure` or `throttled`.
    pub fn password_check(&self, outcome: &'static str) {
        self.logins.get_or_create(&OutcomeLabels { outcome }).inc();
        self.activity.add(if outcome == "success" { Kind::SignIn } else { Kind::SignInFailure });
    }

    /// `kind`: `totp`, `recovery`, `passkey` (or `code` when throttled before knowing);
    /// `outcome`: `success`, `failure` or `throttled`.
    pub fn second_factor(&self, kind: &'static str, outcome: &'static str) {
        self.second_factors.get_or_create(&FactorLabels { kind, outcome }).inc();
    }

    /// `provider`: an `[[upstreams]]` id; `outcome`: `success`, `refused` (the answer or the
    /// account did not pass), `failed` (the provider could not be reached or answered badly).
    pub fn upstream_sign_in(&self, provider: &str, outcome: &'static str) {
        self.upstream_sign_ins.get_or_create(&UpstreamLabels { provider: provider.to_owned(), outcome }).inc();
    }

    pub fn throttled(&self, kind: &'static str) {
        self.throttled.get_or_create(&KindLabels { kind }).inc();
    }

    /// Reads what is measured at scrape time, then renders everything.
    pub async fn render(&self, store: &dyn Store, now: UnixTime) -> Result<String, std::fmt::Error> {
        let started = Instant::now();
        match store.ping().await {
            Ok(()) => self.store_ping.set(started.elapsed().as_secs_f64()),
            Err(_) => self.store_ping.set(f64::NAN),
        };
        let (open, idle) = store.pool_status();
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool.get_or_create(&PoolLabels { state: "idle" }).set(idle);
        self.pool.get_or_create(&PoolLabels { state: "in_use" }).set(i64::from(open) - idle);
        if let Ok(keys) = store.list_keys().await {
            for k in keys.iter().filter(|k| k.state == gatehouse_store::KeyState::Current) {
                let age = k.activated_at.map_or(0, |t| now - t);
                self.key_age.get_or_create(&AlgLabels { alg: k.alg.as_str() }).set(age);
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
