//! Brute-force throttling (DESIGN.md §7): exponential back-off per account, per client and per
//! source address on login, the password grant, client authentication and device user codes.
//!
//! The counts live in the store, so every node sees the same ones. After a key's free failures
//! each further failure doubles its wait, from `first_delay` up to `max_delay`; a window of
//! `window` seconds without failures forgets the count. A success clears an account's or a
//! client's count, never an address's (one good password must not wash a guessing address clean).

use gatehouse_protocol::clock::{Clock, UnixTime};
use gatehouse_store::Store;
use std::net::IpAddr;
use std::sync::Arc;

/// The limits, from `[throttle]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures an account, a client or a device-code guesser gets before waiting.
    pub free_failures: i64,
    /// Failures a source address gets before waiting (higher: many people share a NAT).
    pub free_failures_per_ip: i64,
    pub first_delay: i64,
    pub max_delay: i64,
    pub window: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { free_failures: 5, free_failures_per_ip: 50, first_delay: 1, max_delay: 900, window: 3600 }
    }
}

impl ThrottlePolicy {
    /// How long the `failures`-th failure blocks for, with `free` free ones (`None`: not yet).
    pub fn delay(&self, failures: i64, free: i64) -> Option<i64> {
        let over = failures - free;
        (over > 0).then(|| {
            let doublings = u32::try_from(over - 1).unwrap_or(u32::MAX).min(30);
            self.first_delay.saturating_mul(1i64 << doublings).min(self.max_delay)
        })
    }
}

/// "in 1 second", "in 40 seconds", "in 15 minutes": when to retry, in words for a page.
pub fn retry_in(secs: i64) -> String {
    match secs {
        ..=1 => "in 1 second".to_owned(),
        2..=119 => format!("in {secs} seconds"),
        _ => format!("in {} minutes", (secs + 59) / 60),
    }
}

/// What is being throttled.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Account(&'a str),
    Client(&'a str),
    Ip(IpAddr),
    /// Wrong device user codes from one address (RFC 8628 §5.1).
    DeviceIp(IpAddr),
    /// Wrong second-factor codes for one user (by subject).
    Factor(&'a str),
}

impl Key<'_> {
    fn name(&self) -> String {
        match self {
            Self::Account(u) => format!("user:{u}"),
            Self::Client(c) => format!("client:{c}"),
            Self::Ip(ip) => format!("ip:{ip}"),
            Self::DeviceIp(ip) => format!("device-ip:{ip}"),
            Self::Factor(sub) => format!("factor:{sub}"),
        }
    }

    /// The kind, for logs: an account name or address is personal data.
    fn kind(&self) -> &'static str {
        match self {
            Self::Account(_) => "account",
            Self::Client(_) => "client",
            Self::Ip(_) => "ip",
            Self::DeviceIp(_) => "device-ip",
            Self::Factor(_) => "factor",
        }
    }

    fn free(&self, p: &ThrottlePolicy) -> i64 {
        match self {
            Self::Ip(_) => p.free_failures_per_ip,
            _ => p.free_failures,
        }
    }
}

pub struct Throttle {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    pub policy: ThrottlePolicy,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Throttle {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        policy: ThrottlePolicy,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        Self { store, clock, policy, metrics }
    }

    /// Seconds until every key may try again, when one is blocked now. A store failure lets
    /// the attempt through (the check after it fails closed anyway) and is logged.
    pub async fn wait(&self, keys: &[Key<'_>]) -> Option<i64> {
        let now = self.clock.now();
        let mut until: Option<UnixTime> = None;
        for k in keys {
            match self.store.blocked_until(&k.name(), now).await {
                Ok(Some(u)) => {
                    self.metrics.throttled(k.kind());
                    until = Some(until.map_or(u, |x| x.max(u)));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "throttle check failed; letting the attempt through"),
            }
        }
        until.map(|u| (u - now).max(1))
    }

    /// Counts a failure against every key, blocking those past their free failures.
    pub async fn failure(&self, keys: &[Key<'_>]) {
        let now = self.clock.now();
        for k in keys {
            let name = k.name();
            let result = async {
                let n = self.store.count_failure(&name, now, now + self.policy.window).await?;
                if let Some(d) = self.policy.delay(n, k.free(&self.policy)) {
                    self.store.block(&name, now + d).await?;
                    tracing::info!(key = %k.kind(), failures = n, delay_s = d, "throttled after repeated failures");
                }
                Ok::<_, gatehouse_store::StoreError>(())
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not record a failed attempt");
            }
        }
    }

    /// Clears the accounts' and clients' counts (not addresses').
    pub async fn success(&self, keys: &[Key<'_>]) {
        for k in keys.iter().filter(|k| matches!(k, Key::Account(_) | Key::Client(_))) {
            if let Err(e) = self.store.clear_failures(&k.name()).await {
                tracing::warn!(error = %e, "could not clear failed attempts");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_after_the_free_failures_and_is_capped() {
        let p = ThrottlePolicy::default();
        let d: Vec<Option<i64>> = (1..=8).map(|n| p.delay(n, 5)).collect();
        assert_eq!(d, [None, None, None, None, None, Some(1), Some(2), Some(4)]);
        assert_eq!(p.delay(1000, 5), Some(900), "capped at max_delay");
        assert_eq!(p.delay(i64::MAX, 5), Some(900), "no overflow");
    }

    #[test]
    fn retry_times_read_well() {
        assert_eq!(retry_in(1), "in 1 second");
        assert_eq!(retry_in(40), "in 40 seconds");
        assert_eq!(retry_in(900), "in 15 minutes");
        assert_eq!(retry_in(121), "in 3 minutes");
    }
}
