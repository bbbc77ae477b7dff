//! What happened lately, for the admin console's overview: sign-ins, sign-in failures and tokens
//! issued, counted in memory as they happen (no write on the request path) and added to the
//! store's hourly counts about once a minute ([`Activity::flush`]), so every node's share adds up.

use gatehouse_protocol::clock::UnixTime;
use gatehouse_store::ActivityStore;
use std::sync::atomic::{AtomicI64, Ordering};

/// One kind of event counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    SignInFailure,
    Token,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::SignIn, Kind::SignInFailure, Kind::Token];

    /// The store's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignIn => "sign_in",
            Kind::SignInFailure => "sign_in_failure",
            Kind::Token => "token",
        }
    }
}

/// How long an hour's counts are kept: the overview shows the last day.
const KEEP: i64 = 2 * 86_400;

/// This node's counts not yet in the store.
#[derive(Debug, Default)]
pub struct Activity {
    pending: [AtomicI64; 3],
}

impl Activity {
    pub fn add(&self, kind: Kind) {
        if let Some(c) = self.pending.get(kind as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts not yet flushed, so that this node's last minute shows at once.
    pub fn pending(&self, kind: Kind) -> i64 {
        self.pending.get(kind as usize).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Adds the pending counts to the store's hour of `now`; what fails to be written stays
    /// pending for the next flush.
    pub async fn flush(&self, store: &dyn ActivityStore, now: UnixTime) -> gatehouse_store::Result<()> {
        for kind in Kind::ALL {
            let Some(counter) = self.pending.get(kind as usize) else { continue };
            let n = counter.swap(0, Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            if let Err(e) = store.add_activity(now / 3600, kind.as_str(), n, now + KEEP).await {
                counter.fetch_add(n, Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The last day's counts of each kind: the store's last 24 hours (this one included) plus what
/// this node has not flushed yet.
pub async fn last_day(
    activity: &Activity,
    store: &dyn ActivityStore,
    now: UnixTime,
) -> gatehouse_store::Result<[i64; 3]> {
    let stored = store.activity_since(now / 3600 - 23).await?;
    Ok(Kind::ALL
        .map(|k| activity.pending(k) + stored.iter().find(|(name, _)| name == k.as_str()).map_or(0, |(_, n)| *n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_store::{StoreError, Totals};
    use std::sync::Mutex;

    /// Records each add; fails while `down`.
    #[derive(Default)]
    struct Recorder {
        adds: Mutex<Vec<(i64, String, i64)>>,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl ActivityStore for Recorder {
        async fn add_activity(&self, hour: i64, kind: &str, count: i64, _: UnixTime) -> gatehouse_store::Result<()> {
            if self.down.load(Ordering::Relaxed) {
                return Err(StoreError::Unavailable("down".into()));
            }
            self.adds.lock().unwrap().push((hour, kind.to_owned(), count));
            Ok(())
        }
        async fn activity_since(&self, since: i64) -> gatehouse_store::Result<Vec<(String, i64)>> {
            let adds = self.adds.lock().unwrap();
            let sum = |k: &str| adds.iter().filter(|(h, n, _)| *h >= since && n == k).map(|(_, _, c)| c).sum::<i64>();
            Ok(Kind::ALL.iter().map(|k| (k.as_str().to_owned(), sum(k.as_str()))).collect())
        }
        async fn totals(&self, _: UnixTime) -> gatehouse_store::Result<Totals> {
            Ok(Totals::default())
        }
    }

    #[tokio::test]
    async fn counts_reach_the_store_once_and_survive_a_failed_flush() {
        let (a, store, now) = (Activity::default(), Recorder::default(), 1_800_000_000);
        a.add(Kind::Token);
        a.add(Kind::Token);
        a.add(Kind::SignInFailure);
        assert_eq!(last_day(&a, &store, now).await.unwrap(), [0, 1, 2], "pending counts show before a flush");

        store.down.store(true, Ordering::Relaxed);
        assert!(a.flush(&store, now).await.is_err());
        assert_eq!(a.pending(Kind::Token) + a.pending(Kind::SignInFailure), 3, "nothing lost");

        store.down.store(false, Ordering::Relaxed);
        a.flush(&store, now).await.unwrap();
        a.flush(&store, now).await.unwrap();
        assert_eq!(store.adds.lock().unwrap().len(), 2, "one add per kind, none for an empty count");
        assert_eq!(last_day(&a, &store, now).await.unwrap(), [0, 1, 2], "the same totals, now from the store");
        assert_eq!(last_day(&a, &store, now + 86_400).await.unwrap(), [0, 0, 0], "a day later, gone");
    }
}
