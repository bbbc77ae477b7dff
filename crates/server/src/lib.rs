//! The Gatehouse HTTP server.
//!
//! - [`config`]: the layered, validated configuration.
//! - [`build`]: config → store (migrated, seeded) → keys → [`AppState`] → router.
//! - [`serve`]: runs a router on a listener until a shutdown future resolves, letting in-flight
//!   requests finish. `gatehouse serve` and the integration tests both use it.

pub mod config;
pub mod issuer;
pub mod keys;
pub mod secrets;
pub mod seed;

mod app;
mod authorize;
mod client_auth;
mod core;
mod device;
mod error;
mod lifecycle;
mod logout;
mod throttle;
mod token;
mod userinfo;
mod web;

pub use app::{AppState, Discovery, app};
pub use error::ApiError;

use crate::config::ValidConfig;
use crate::keys::{KeyRing, Keys};
use gatehouse_protocol::claims::standard_scopes;
use gatehouse_protocol::clock::{Clock, SystemClock};
use gatehouse_store::{SqlStore, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// Opens the store (running migrations), applies the config's clients, users and scopes, loads
/// or creates the signing keys, and returns the application state.
pub async fn build(cfg: &ValidConfig) -> anyhow::Result<AppState> {
    build_with_clock(cfg, Arc::new(SystemClock)).await
}

/// [`build`] with a given clock, so tests can move time instead of sleeping.
pub async fn build_with_clock(cfg: &ValidConfig, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let store = SqlStore::connect(&cfg.database).await?;
    let store: Arc<dyn Store> = Arc::new(store);
    let now = clock.now();
    let report = seed::apply(store.as_ref(), cfg, now).await?;
    tracing::debug!(?report, "applied configuration to the store");
    let ring = KeyRing::load_or_init(store.as_ref(), now).await?;
    let algs_ring = ring.algs();
    let keys = Arc::new(Keys::new(ring));
    spawn_key_reloader(&keys, &store, cfg.key_reload_interval);
    let mut scopes = standard_scopes();
    scopes.extend(store.list_scopes().await?.into_iter().filter(|s| !s.builtin));
    let caps = app::capabilities(&algs_ring, &scopes);
    let issuer: Arc<str> = cfg.issuer.as_str().into();
    let core = Arc::new(core::Core {
        store: store.clone(),
        tokens: issuer::TokenIssuer {
            issuer: issuer.clone(),
            keys: keys.clone(),
            scopes: Arc::new(scopes),
            lifetimes: cfg.lifetimes,
            default_access_token_alg: cfg.access_token_alg,
            rng: Arc::new(issuer::SystemRng),
        },
        pages: web::Pages::new(cfg.templates.clone(), &cfg.issuer),
        secrets: client_auth::SecretCache::default(),
        throttle: throttle::Throttle::default(),
        clock,
        secure_cookies: !config::is_loopback_issuer(&cfg.issuer),
    });
    Ok(AppState { discovery: app::render_discovery(&cfg.issuer, &caps), store, keys, issuer, core })
}

/// Re-reads the signing keys every `every` seconds, so a rotation made by another node or by
/// `gatehouse keys rotate` is picked up. Stops when the server's state is dropped.
fn spawn_key_reloader(keys: &Arc<Keys>, store: &Arc<dyn Store>, every: u64) {
    let (keys, store) = (Arc::downgrade(keys), Arc::downgrade(store));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let (Some(keys), Some(store)) = (keys.upgrade(), store.upgrade()) else { return };
            if let Err(e) = keys.reload(store.as_ref()).await {
                tracing::warn!(error = %e, "could not reload signing keys; keeping the current ones");
            }
        }
    });
}

/// Serves `router` on `listener` until `shutdown` resolves; in-flight requests complete.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
