//! [`SqlStore`] cleanup: bounded batches of `DELETE ... WHERE key IN (SELECT key ... LIMIT n)`,
//! which both SQLite and PostgreSQL run without long locks. On PostgreSQL a pass holds a
//! transaction-scoped advisory lock, so of several nodes one cleans at a time and the others
//! skip their turn instead of deleting the same rows.

use crate::{Backend, CleanupReport, CleanupStore, Result, SqlStore};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use sqlx::{AnyConnection, Row};

/// The PostgreSQL advisory lock key a cleanup pass holds ("gatecln" in ASCII).
pub const CLEANUP_LOCK: i64 = 0x0067_6174_6563_6c6e;

/// One day: how long a spent code is remembered after it expired (replay detection).
const CODE_GRACE: i64 = 86_400;

async fn delete_batch(
    conn: &mut AnyConnection,
    table: &str,
    key: &str,
    condition: &str,
    bound: i64,
    batch: i64,
) -> Result<u64> {
    let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)");
    Ok(sqlx::query(&sql).bind(bound).bind(batch).execute(conn).await?.rows_affected())
}

/// One pass over every table on `conn`.
async fn delete_pass(
    conn: &mut AnyConnection,
    now: UnixTime,
    keys_retired_before: UnixTime,
    batch: i64,
) -> Result<CleanupReport> {
    Ok(CleanupReport {
        interactions: delete_batch(conn, "interactions", "id_hash", "expires_at <= $1", now, batch).await?,
        sessions: delete_batch(conn, "sessions", "id_hash", "expires_at <= $1", now, batch).await?
            + delete_batch(
                conn,
                "session_clients",
                "sid",
                "created_at <= $1 AND sid NOT IN (SELECT sid FROM sessions)",
                now,
                batch,
            )
            .await?,
        codes: delete_batch(conn, "authorization_codes", "code_hash", "expires_at <= $1", now - CODE_GRACE, batch)
            .await?,
        refresh_tokens: delete_batch(conn, "refresh_tokens", "token_hash", "expires_at <= $1", now, batch).await?,
        revoked_access_tokens: delete_batch(conn, "revoked_access_tokens", "jti", "expires_at <= $1", now, batch)
            .await?,
        device_codes: delete_batch(conn, "device_codes", "device_code_hash", "expires_at <= $1", now, batch).await?,
        keys: delete_batch(
            conn,
            "signing_keys",
            "kid",
            "state = 'retired' AND retired_at <= $1",
            keys_retired_before,
            batch,
        )
        .await?,
        throttle: delete_batch(conn, "throttle", "key", "expires_at <= $1", now, batch).await?,
    })
}

#[async_trait]
impl CleanupStore for SqlStore {
    async fn delete_expired(
        &self,
        now: UnixTime,
        keys_retired_before: UnixTime,
        batch: i64,
    ) -> Result<Option<CleanupReport>> {
        match self.backend {
            // One file, one writer at a time: no lock to take.
            Backend::Sqlite => {
                Ok(Some(delete_pass(&mut *self.pool.acquire().await?, now, keys_retired_before, batch).await?))
            }
            Backend::Postgres => {
                let mut tx = self.write_tx().await?;
                let locked: bool = sqlx::query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                    .bind(CLEANUP_LOCK)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("locked")?;
                if !locked {
                    return Ok(None);
                }
                let report = delete_pass(&mut tx, now, keys_retired_before, batch).await?;
                tx.commit().await?;
                Ok(Some(report))
            }
        }
    }
}
