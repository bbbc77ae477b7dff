//! [`SqlStore`] cleanup: bounded batches of `DELETE ... WHERE key IN (SELECT key ... LIMIT n)`,
//! which both SQLite and PostgreSQL run without long locks.

use crate::{CleanupReport, CleanupStore, Result, SqlStore};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;

/// One day: how long a spent code is remembered after it expired (replay detection).
const CODE_GRACE: i64 = 86_400;

impl SqlStore {
    async fn delete_batch(&self, table: &str, key: &str, condition: &str, bound: i64, batch: i64) -> Result<u64> {
        let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)");
        Ok(sqlx::query(&sql).bind(bound).bind(batch).execute(&self.pool).await?.rows_affected())
    }
}

#[async_trait]
impl CleanupStore for SqlStore {
    async fn delete_expired(&self, now: UnixTime, keys_retired_before: UnixTime, batch: i64) -> Result<CleanupReport> {
        Ok(CleanupReport {
            interactions: self.delete_batch("interactions", "id_hash", "expires_at <= $1", now, batch).await?,
            sessions: self.delete_batch("sessions", "id_hash", "expires_at <= $1", now, batch).await?
                + self
                    .delete_batch(
                        "session_clients",
                        "sid",
                        "created_at <= $1 AND sid NOT IN (SELECT sid FROM sessions)",
                        now,
                        batch,
                    )
                    .await?,
            codes: self
                .delete_batch("authorization_codes", "code_hash", "expires_at <= $1", now - CODE_GRACE, batch)
                .await?,
            refresh_tokens: self.delete_batch("refresh_tokens", "token_hash", "expires_at <= $1", now, batch).await?,
            revoked_access_tokens: self
                .delete_batch("revoked_access_tokens", "jti", "expires_at <= $1", now, batch)
                .await?,
            device_codes: self.delete_batch("device_codes", "device_code_hash", "expires_at <= $1", now, batch).await?,
            keys: self
                .delete_batch(
                    "signing_keys",
                    "kid",
                    "state = 'retired' AND retired_at <= $1",
                    keys_retired_before,
                    batch,
                )
                .await?,
            throttle: self.delete_batch("throttle", "key", "expires_at <= $1", now, batch).await?,
        })
    }
}
