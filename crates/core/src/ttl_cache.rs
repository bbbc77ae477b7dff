//! A small per-node cache of fetched documents (client metadata documents, clients' JWK sets):
//! each entry with the moment it stops being fresh, at most `capacity` of them. Past that,
//! expired entries go, then the one closest to expiring.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct TtlCache<V> {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

/// A cached value, when it was stored, and until when it is fresh.
#[derive(Clone)]
pub struct Entry<V> {
    pub value: V,
    pub stored: Instant,
    pub until: Instant,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(HashMap::new()) }
    }

    /// The entry for `key`, fresh or not.
    pub fn entry(&self, key: &str) -> Option<Entry<V>> {
        self.entries.lock().ok()?.get(key).cloned()
    }

    /// The value for `key` while it is fresh.
    pub fn fresh(&self, key: &str, now: Instant) -> Option<V> {
        self.entry(key).filter(|e| e.until > now).map(|e| e.value)
    }

    pub fn insert(&self, key: &str, value: V, now: Instant, until: Instant) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            entries.retain(|_, e| e.until > now);
            if entries.len() >= self.capacity
                && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.until).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key.to_owned(), Entry { value, stored: now, until });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_at_most_capacity_dropping_the_expired_then_the_oldest() {
        let now = Instant::now();
        let c = TtlCache::new(2);
        c.insert("a", 1, now, now + Duration::from_secs(10));
        c.insert("b", 2, now, now + Duration::from_secs(20));
        c.insert("c", 3, now, now + Duration::from_secs(30));
        assert_eq!((c.fresh("a", now), c.fresh("b", now), c.fresh("c", now)), (None, Some(2), Some(3)));
        assert_eq!(c.fresh("b", now + Duration::from_secs(25)), None, "stale");
        assert_eq!(c.entry("b").map(|e| e.value), Some(2), "a stale entry is still there to fall back on");
        c.insert("b", 4, now, now + Duration::from_secs(40));
        assert_eq!((c.fresh("b", now), c.fresh("c", now)), (Some(4), Some(3)), "replacing does not evict");
    }
}
