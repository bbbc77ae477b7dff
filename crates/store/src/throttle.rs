//! [`SqlStore`] for brute-force throttling: one row per key, counted and blocked with single
//! statements so concurrent failures at several nodes are all counted.

use crate::db::args;
use crate::{Result, SqlStore, ThrottleStore};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn blocked_until(&self, key: &str, now: UnixTime) -> Result<Option<UnixTime>> {
        let row = self
            .db
            .optional("SELECT blocked_until FROM throttle WHERE key = $1 AND blocked_until > $2", args![key, now]);
        row.await?.map(|r| r.get("blocked_until")).transpose()
    }

    async fn count_failure(&self, key: &str, now: UnixTime, window_ends: UnixTime) -> Result<i64> {
        let row = self
            .db
            .one(
                "INSERT INTO throttle (key, failures, blocked_until, expires_at) VALUES ($1, 1, 0, $3)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN throttle.expires_at <= $2 THEN 1 ELSE throttle.failures + 1 END,
               blocked_until = CASE WHEN throttle.expires_at <= $2 THEN 0 ELSE throttle.blocked_until END,
               expires_at = CASE WHEN throttle.blocked_until > $3 THEN throttle.blocked_until ELSE $3 END
             RETURNING failures",
                args![key, now, window_ends],
            )
            .await?;
        row.get("failures")
    }

    async fn block(&self, key: &str, until: UnixTime) -> Result<()> {
        self.db
            .execute(
                "UPDATE throttle SET blocked_until = $1,
                   expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END
                 WHERE key = $2 AND blocked_until < $1",
                args![until, key],
            )
            .await?;
        Ok(())
    }

    async fn clear_failures(&self, key: &str) -> Result<()> {
        self.db.execute("DELETE FROM throttle WHERE key = $1", args![key]).await?;
        Ok(())
    }
}
