//! Failed-login throttling with exponential back-off, per key (an account, a client).
//!
//! After `FREE` failures each further failure doubles the wait, capped at 15 minutes; a
//! success clears the key. State is in this process only for now: issue 7 moves it to the
//! store so every node shares it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(900);
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    state: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// `Some(wait)` when the key is locked out now.
    pub fn blocked(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let st = self.state.lock().ok()?;
        let (_, until) = st.get(key)?;
        (*until > now).then(|| *until - now)
    }

    pub fn failure(&self, key: &str) {
        let now = Instant::now();
        if let Ok(mut st) = self.state.lock() {
            if st.len() >= MAX_KEYS {
                st.retain(|_, (_, until)| *until > now);
            }
            let e = st.entry(key.to_owned()).or_insert((0, now));
            e.0 = e.0.saturating_add(1);
            if e.0 > FREE {
                let exp = (e.0 - FREE).min(10);
                e.1 = now + (Duration::from_secs(1) * 2u32.pow(exp)).min(MAX_WAIT);
            }
        }
    }

    pub fn success(&self, key: &str) {
        if let Ok(mut st) = self.state.lock() {
            st.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_after_free_attempts_and_clears_on_success() {
        let t = Throttle::default();
        for _ in 0..FREE {
            t.failure("alice");
        }
        assert!(t.blocked("alice").is_none());
        t.failure("alice");
        assert!(t.blocked("alice").is_some());
        assert!(t.blocked("bob").is_none());
        t.success("alice");
        assert!(t.blocked("alice").is_none());
    }
}
