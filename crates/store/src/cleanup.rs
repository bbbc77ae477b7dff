//! [`SqlStore`] cleanup: bounded batches of `DELETE ... WHERE key IN (SELECT key ... LIMIT n)`,
//! which both SQLite and PostgreSQL run without long locks. On PostgreSQL a pass is one
//! transaction holding an advisory lock, so of several nodes one cleans at a time and the
//! others skip their turn instead of deleting the same rows. On SQLite (one file, one writer at
//! a time) each batch is its own statement, so the write lock is never held for a whole pass.

use crate::db::{Outcome, Step, args};
use crate::{Backend, CleanupReport, CleanupStore, Result, SqlStore};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;

/// The PostgreSQL advisory lock key a cleanup pass holds ("gatecln" in ASCII).
pub const CLEANUP_LOCK: i64 = 0x0067_6174_6563_6c6e;

/// One day: how long a spent code is remembered after it expired (replay detection).
const CODE_GRACE: i64 = 86_400;

/// The tables a pass cleans, in [`CleanupReport`]'s order: table, key, condition on `$1`.
const TABLES: [(&str, &str, &str); 14] = [
    ("interactions", "id_hash", "expires_at <= $1"),
    ("sessions", "id_hash", "expires_at <= $1"),
    ("session_clients", "sid", "created_at <= $1 AND sid NOT IN (SELECT sid FROM sessions)"),
    ("authorization_codes", "code_hash", "expires_at <= $1"),
    ("refresh_tokens", "token_hash", "expires_at <= $1"),
    ("revoked_access_tokens", "jti", "expires_at <= $1"),
    ("reissued_access_tokens", "jti", "expires_at <= $1"),
    ("device_codes", "device_code_hash", "expires_at <= $1"),
    ("signing_keys", "kid", "state = 'retired' AND retired_at <= $1"),
    ("throttle", "key", "expires_at <= $1"),
    ("activity", "bucket", "expires_at <= $1"),
    ("seen_jtis", "jti_key", "expires_at <= $1"),
    ("pushed_requests", "id_hash", "expires_at <= $1"),
    ("ceremonies", "id_hash", "expires_at <= $1"),
];

/// One batch of deletes per table.
fn batches(now: UnixTime, keys_retired_before: UnixTime, batch: i64) -> Vec<Step> {
    TABLES
        .iter()
        .map(|(table, key, condition)| {
            let bound = match *table {
                "authorization_codes" => now - CODE_GRACE,
                "signing_keys" => keys_retired_before,
                _ => now,
            };
            Step::write(
                format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)"),
                args![bound, batch],
            )
        })
        .collect()
}

/// The report of a pass whose batches ([`TABLES`]'s order) deleted `counts`.
fn report(counts: &[u64]) -> CleanupReport {
    let c = |i: usize| counts.get(i).copied().unwrap_or(0);
    CleanupReport {
        interactions: c(0),
        sessions: c(1) + c(2),
        codes: c(3),
        refresh_tokens: c(4),
        revoked_access_tokens: c(5) + c(6),
        device_codes: c(7),
        keys: c(8),
        throttle: c(9),
        activity: c(10),
        seen_jtis: c(11),
        pushed_requests: c(12),
        ceremonies: c(13),
    }
}

#[async_trait]
impl CleanupStore for SqlStore {
    async fn delete_expired(
        &self,
        now: UnixTime,
        keys_retired_before: UnixTime,
        batch: i64,
    ) -> Result<Option<CleanupReport>> {
        let steps = batches(now, keys_retired_before, batch);
        match self.backend {
            Backend::Sqlite => {
                let mut counts = Vec::with_capacity(steps.len());
                for step in steps {
                    counts.push(self.db.execute_heavy(step.sql, step.args).await?);
                }
                Ok(Some(report(&counts)))
            }
            Backend::Postgres => {
                let lock = Step::read("SELECT 1 AS locked WHERE pg_try_advisory_xact_lock($1)", args![CLEANUP_LOCK]);
                let all = std::iter::once(lock.required()).chain(steps).collect();
                Ok(match self.db.transaction(all).await? {
                    Outcome::Done(counts) => Some(report(counts.get(1..).unwrap_or_default())),
                    Outcome::StoppedAt(_) => None,
                })
            }
        }
    }
}
