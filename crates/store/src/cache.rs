//! A short-lived in-process cache for what is read on nearly every request (clients, users,
//! whether an access token is revoked), DESIGN.md §5.
//!
//! Writes made through this process remove the entry at once. Writes made by another process
//! (another node, the CLI) are seen when the entry expires, so `ttl` bounds how stale a node can
//! be. The caller decides what is worth keeping (clients and users only when found, so a new
//! client works at once everywhere and random ids cannot fill the cache).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries at most; beyond it expired ones go, then everything (a refill costs one read each).
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct TtlCache<V> {
    ttl: Duration,
    entries: RwLock<HashMap<String, (V, Instant)>>,
    /// Bumped by every invalidation: a read that began before one must not store what it read.
    generation: AtomicU64,
}

impl<V: Clone> TtlCache<V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    /// The cached value, if fresh.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.read().ok()?;
        entries.get(key).filter(|(_, until)| *until > Instant::now()).map(|(v, _)| v.clone())
    }

    /// The generation to pass to [`Self::put`] for a value about to be read from the database.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers `value`, unless caching is off or an invalidation happened since `generation`.
    pub(crate) fn put(&self, key: &str, value: V, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.write() else { return };
        // Checked under the lock: an invalidation takes the same lock after bumping.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        let now = Instant::now();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (value, now + self.ttl));
    }

    /// Forgets everything (after a write whose keys are not known here).
    pub(crate) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Forgets `key` (after a write to it).
    pub(crate) fn remove(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_for_the_ttl_only() {
        let c = TtlCache::new(Duration::from_millis(30));
        c.put("a", 1, c.generation());
        assert_eq!(c.get("a"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get("a"), None);
    }

    #[test]
    fn a_read_overtaken_by_a_write_is_not_cached() {
        let c = TtlCache::new(Duration::from_secs(60));
        let g = c.generation();
        c.remove("a"); // a write lands while the read is in flight
        c.put("a", 1, g);
        assert_eq!(c.get("a"), None);
        c.put("a", 2, c.generation());
        assert_eq!(c.get("a"), Some(2));
        c.remove("a");
        assert_eq!(c.get("a"), None);
        c.put("b", 3, c.generation());
        let g = c.generation();
        c.clear();
        c.put("a", 4, g);
        assert_eq!((c.get("a"), c.get("b")), (None, None));
    }

    #[test]
    fn zero_ttl_turns_caching_off() {
        let c = TtlCache::new(Duration::ZERO);
        c.put("a", 1, c.generation());
        assert_eq!(c.get("a"), None);
    }
}
