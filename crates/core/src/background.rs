//! The background tasks of a running node: key reloads and scheduled rotation, scope reloads,
//! following other nodes' changes (PostgreSQL `LISTEN/NOTIFY`), and the cleanup of expired rows.
//! Each holds only weak references and stops when the services are dropped.

use crate::catalog::Catalog;
use crate::issuer::Lifetimes;
use crate::keys::Keys;
use gatehouse_protocol::clock::Clock;
use gatehouse_store::Store;
use std::sync::Arc;

/// Re-reads the signing keys every `every` seconds, so a rotation made by another node or by
/// `gatehouse keys rotate` is picked up, and first rotates keys that are due when a rotation
/// schedule is configured. Stops when the server's state is dropped.
pub fn spawn_key_reloader(
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
                && let Err(e) = crate::keys::rotate_due(store.as_ref(), period, clock.now()).await
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
/// Loads the stored upstream providers again every `every` seconds (other nodes' changes).
pub fn spawn_upstream_reloader(upstreams: &Arc<crate::upstreams::Upstreams>, every: u64) {
    let upstreams = Arc::downgrade(upstreams);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(upstreams) = upstreams.upgrade() else { return };
            if let Err(e) = upstreams.reload().await {
                tracing::warn!(error = %e, "could not reload the upstream providers; keeping the current ones");
            }
        }
    });
}

pub fn spawn_catalog_reloader(catalog: &Arc<Catalog>, store: &Arc<dyn Store>, every: u64) {
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
pub fn spawn_change_follower(
    mut changes: tokio::sync::broadcast::Receiver<gatehouse_store::changes::Change>,
    catalog: &Arc<Catalog>,
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
pub async fn cleanup_once(store: &dyn Store, now: i64, lifetimes: Lifetimes) -> gatehouse_store::Result<u64> {
    // A retired key stays published while any token it signed can be alive, per-client
    // lifetimes included.
    let longest = store
        .list_clients()
        .await?
        .iter()
        .filter_map(|c| c.lifetimes.longest_token())
        .chain(store.list_resources().await?.iter().filter_map(|r| r.access_token_ttl))
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
            pass.activity,
            pass.seen_jtis,
            pass.pushed_requests,
            pass.ceremonies,
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
pub fn spawn_cleanup(store: &Arc<dyn Store>, clock: Arc<dyn Clock>, lifetimes: Lifetimes, every: u64) {
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

/// Adds each minute's sign-ins, failures and tokens to the store's hourly counts (the console's
/// overview) until the server's state is dropped.
pub fn spawn_activity_flush(metrics: &Arc<crate::metrics::Metrics>, store: &Arc<dyn Store>, clock: Arc<dyn Clock>) {
    let (metrics, store) = (Arc::downgrade(metrics), Arc::downgrade(store));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let (Some(metrics), Some(store)) = (metrics.upgrade(), store.upgrade()) else { return };
            if let Err(e) = metrics.activity.flush(store.as_ref(), clock.now()).await {
                tracing::warn!(error = %e, "could not record the last minute's activity; will retry");
            }
        }
    });
}
