//! [`SqlStore`] for brute-force throttling: one row per key, counted and blocked with single
//! statements so concurrent failures at several nodes are all counted.

use crate::{Result, SqlStore, ThrottleStore};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use sqlx::Row;

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn blocked_until(&self, key: &str, now: UnixTime) -> Result<Option<UnixTime>> {
        let row = sqlx::query("SELECT blocked_until FROM throttle WHERE key = $1 AND blocked_until > $2")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("blocked_until")).transpose()?)
    }

    async fn count_failure(&self, key: &str, now: UnixTime, window_ends: UnixTime) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO throttle (key, failures, blocked_until, expires_at) VALUES ($1, 1, 0, $3)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN throttle.expires_at <= $2 THEN 1 ELSE throttle.failures + 1 END,
               blocked_until = CASE WHEN throttle.expires_at <= $2 THEN 0 ELSE throttle.blocked_until END,
               expires_at = CASE WHEN throttle.blocked_until > $3 THEN throttle.blocked_until ELSE $3 END
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window_ends)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("failures")?)
    }

    async fn block(&self, key: &str, until: UnixTime) -> Result<()> {
        sqlx::query(
            "UPDATE throttle SET blocked_until = $1,
               expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END
             WHERE key = $2 AND blocked_until < $1",
        )
        .bind(until)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}
