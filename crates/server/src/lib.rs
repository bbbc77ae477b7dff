//! The Gatehouse HTTP server.
//!
//! - [`config`]: the layered, validated configuration.
//! - [`build`]: config → store (migrated, seeded) → keys → [`AppState`] → router.
//! - [`serve`]: runs a router on a listener until a shutdown future resolves, letting in-flight
//!   requests finish. `gatehouse serve` and the integration tests both use it.

pub mod config;
mod console;
pub mod issuer;
pub mod keys;
pub mod secrets;
pub mod seed;

pub mod admin;
mod app;
mod authorize;
mod backchannel;
pub mod catalog;
mod client_auth;
mod core;
mod device;
mod error;
mod i18n;
mod lifecycle;
mod logout;
mod metrics;
mod register;
mod throttle;
mod token;
mod userinfo;
mod web;

pub use app::{AppState, app};
pub use error::ApiError;

use crate::config::ValidConfig;
use crate::keys::{KeyRing, Keys};
use gatehouse_protocol::clock::{Clock, SystemClock};
use gatehouse_store::{SqlStore, Store, StoreOptions};
use std::future::Future;
use std::sync::Arc;

/// Installs rustls on aws-lc-rs as the process's TLS provider, for every outbound HTTPS client
/// (back-channel logout, the OpenTelemetry exporter). A second call finds it installed.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Opens the store (running migrations), applies the config's clients, users and scopes, loads
/// or creates the signing keys, and returns the application state.
pub async fn build(cfg: &ValidConfig) -> anyhow::Result<AppState> {
    build_with_clock(cfg, Arc::new(SystemClock)).await
}

/// [`build`] with a given clock, so tests can move time instead of sleeping.
pub async fn build_with_clock(cfg: &ValidConfig, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let options = StoreOptions {
        cache_ttl: std::time::Duration::from_secs(cfg.cache_ttl),
        listen: true,
        pool: cfg.database_pool,
    };
    let store = SqlStore::connect_with(&cfg.database, options).await?;
    let changes = store.subscribe();
    let store: Arc<dyn Store> = Arc::new(store);
    let now = clock.now();
    let report = seed::apply(store.as_ref(), cfg, now).await?;
    if cfg.console {
        admin::ops::ensure_console_client(store.as_ref(), &cfg.issuer, now).await?;
    }
    tracing::debug!(?report, "applied configuration to the store");
    let ring = KeyRing::load_or_init(store.as_ref(), now).await?;
    let algs_ring = ring.algs();
    let keys = Arc::new(Keys::new(ring));
    spawn_key_reloader(&keys, &store, clock.clone(), cfg.key_reload_interval, cfg.key_rotation_interval);
    spawn_cleanup(&store, clock.clone(), cfg.lifetimes, cfg.cleanup_interval);
    let issuer: Arc<str> = cfg.issuer.as_str().into();
    let catalog =
        Arc::new(catalog::Catalog::load(store.as_ref(), issuer.clone(), algs_ring, cfg.registration.enabled).await?);
    spawn_catalog_reloader(&catalog, &store, cfg.catalog_reload_interval);
    spawn_change_follower(changes, &catalog, &keys, &store);
    let metrics = Arc::new(metrics::Metrics::new(cfg.metrics.clone()));
    let core = Arc::new(core::Core {
        store: store.clone(),
        tokens: issuer::TokenIssuer {
            issuer: issuer.clone(),
            keys: keys.clone(),
            catalog: catalog.clone(),
            lifetimes: cfg.lifetimes,
            default_access_token_alg: cfg.access_token_alg,
            rng: Arc::new(issuer::SystemRng),
        },
        catalog,
        pages: web::Pages::new(cfg.templates.clone(), &cfg.issuer, cfg.theme.clone()),
        secrets: client_auth::SecretCache::default(),
        throttle: throttle::Throttle::new(store.clone(), clock.clone(), cfg.throttle, metrics.clone()),
        metrics,
        clock,
        secure_cookies: !config::is_loopback_issuer(&cfg.issuer),
        backchannel: backchannel::http_client(),
    });
    Ok(AppState { store, keys, issuer, core, registration: Arc::new(cfg.registration.clone()), console: cfg.console })
}

/// Re-reads the signing keys every `every` seconds, so a rotation made by another node or by
/// `gatehouse keys rotate` is picked up, and first rotates keys that are due when a rotation
/// schedule is configured. Stops when the server's state is dropped.
fn spawn_key_reloader(
    keys: &Arc<Keys>,
    store: &Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    every: u64,
    rotate_every: Option<i64>,
) {
    let (keys, store) = (Arc::downgrade(keys), Arc::downgrade(store));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let (Some(keys), Some(store)) = (keys.upgrade(), store.upgrade()) else { return };
            if let Some(period) = rotate_every
                && let Err(e) = keys::rotate_due(store.as_ref(), period, clock.now()).await
            {
                tracing::warn!(error = %e, "scheduled key rotation failed; will retry");
            }
            if let Err(e) = keys.reload(store.as_ref()).await {
                tracing::warn!(error = %e, "could not reload signing keys; keeping the current ones");
            }
        }
    });
}

/// Re-reads the scopes every `every` seconds, so changes made on another node arrive.
fn spawn_catalog_reloader(catalog: &Arc<catalog::Catalog>, store: &Arc<dyn Store>, every: u64) {
    let (catalog, store) = (Arc::downgrade(catalog), Arc::downgrade(store));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let (Some(catalog), Some(store)) = (catalog.upgrade(), store.upgrade()) else { return };
            if let Err(e) = catalog.reload(store.as_ref()).await {
                tracing::warn!(error = %e, "could not reload scopes; keeping the current ones");
            }
        }
    });
}

/// Reloads the scopes or the keys as soon as another node announces a change to them
/// (PostgreSQL `LISTEN/NOTIFY`); the periodic reloads above remain for a lost notification.
fn spawn_change_follower(
    mut changes: tokio::sync::broadcast::Receiver<gatehouse_store::changes::Change>,
    catalog: &Arc<catalog::Catalog>,
    keys: &Arc<Keys>,
    store: &Arc<dyn Store>,
) {
    use gatehouse_store::changes::Change;
    use tokio::sync::broadcast::error::RecvError;
    let (catalog, keys, store) = (Arc::downgrade(catalog), Arc::downgrade(keys), Arc::downgrade(store));
    tokio::spawn(async move {
        loop {
            let (scopes, signing_keys) = match changes.recv().await {
                Ok(Change::Scopes) => (true, false),
                Ok(Change::Keys) => (false, true),
                Ok(Change::Unknown) | Err(RecvError::Lagged(_)) => (true, true),
                Ok(_) => continue,
                Err(RecvError::Closed) => return,
            };
            let (Some(catalog), Some(keys), Some(store)) = (catalog.upgrade(), keys.upgrade(), store.upgrade()) else {
                return;
            };
            if scopes && let Err(e) = catalog.reload(store.as_ref()).await {
                tracing::warn!(error = %e, "could not reload scopes after a change; the periodic reload will retry");
            }
            if signing_keys && let Err(e) = keys.reload(store.as_ref()).await {
                tracing::warn!(error = %e, "could not reload keys after a change; the periodic reload will retry");
            }
        }
    });
}

/// Rows deleted per statement: small enough that no request waits long behind a cleanup.
pub const CLEANUP_BATCH: i64 = 500;

/// One cleanup: passes of bounded batches until nothing expired is left. Retired keys go once
/// every token they can have signed has expired. When another node is cleaning up (PostgreSQL
/// advisory lock), this one stops and leaves the rest to it.
pub async fn cleanup_once(store: &dyn Store, now: i64, lifetimes: issuer::Lifetimes) -> gatehouse_store::Result<u64> {
    // A retired key stays published while any token it signed can be alive, per-client
    // lifetimes included.
    let longest = store
        .list_clients()
        .await?
        .iter()
        .filter_map(|c| c.lifetimes.longest_token())
        .fold(lifetimes.access_token.max(lifetimes.id_token), i64::max);
    let keys_retired_before = now - longest;
    let mut total = 0;
    loop {
        let Some(pass) = store.delete_expired(now, keys_retired_before, CLEANUP_BATCH).await? else {
            tracing::debug!(deleted = total, "another node is cleaning up; leaving the rest to it");
            return Ok(total);
        };
        total += pass.total();
        let full = [
            pass.interactions,
            pass.sessions,
            pass.codes,
            pass.refresh_tokens,
            pass.revoked_access_tokens,
            pass.device_codes,
            pass.keys,
            pass.throttle,
        ]
        .iter()
        .any(|n| *n >= CLEANUP_BATCH as u64);
        if !full {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Runs [`cleanup_once`] every `every` seconds until the server's state is dropped.
fn spawn_cleanup(store: &Arc<dyn Store>, clock: Arc<dyn Clock>, lifetimes: issuer::Lifetimes, every: u64) {
    let store = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        loop {
            tick.tick().await;
            let Some(store) = store.upgrade() else { return };
            match cleanup_once(store.as_ref(), clock.now(), lifetimes).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "cleanup removed expired rows"),
                Err(e) => tracing::warn!(error = %e, "cleanup failed; will retry"),
            }
        }
    });
}

/// Connection-level limits against slow and greedy clients (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; beyond it new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// A client must send its whole request head within this (slowloris).
    pub header_read_timeout: std::time::Duration,
    /// Largest request head (request line and headers), in bytes: larger gets 431.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: std::time::Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
        }
    }
}

/// Serves `router` on `listener` with the default [`Limits`] until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, Limits::default(), shutdown).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests complete. HTTP/1.1 and HTTP/2 (prior knowledge), each connection bounded
/// by `limits`; handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
