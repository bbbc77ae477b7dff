//! SQLite's redemption path, run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement over and
//! every result back: two thread switches per statement. A profile of code exchange and refresh
//! on SQLite had over half of the server's CPU in those switches, more than signing and SQL
//! together. The lookups and single-use redemptions behind `/token` (a few microseconds of
//! SQLite work each) therefore run here, on one connection of their own, in the thread that
//! asks, with the same SQL as the sqlx path (`sign_in.rs`, which passes its statements in).
//!
//! Nothing here waits for a lock: the connection's busy timeout is zero. When another
//! connection holds the write lock (a login writing its session, the cleanup task, a CLI
//! command), an attempt gives [`Busy`] before it has changed anything, and the caller runs the
//! same statements through sqlx, whose thread waits.

use crate::{NewRefresh, Result, StoreError};
use gatehouse_protocol::clock::UnixTime;
use rusqlite::types::ToSql;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::sync::Mutex;

/// An attempt could not run without waiting for another connection; nothing was changed.
pub(crate) struct Busy;

/// Named parameters (`$1`, `$8`, …) and their values; a statement takes those it names.
pub(crate) type Params<'a> = [(&'a str, &'a dyn ToSql)];

pub(crate) struct Direct {
    conn: Mutex<Connection>,
}

impl Direct {
    /// Opens `path`, a database sqlx has opened (and migrated) already.
    pub(crate) fn open(path: &str) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(database)?;
        conn.busy_timeout(std::time::Duration::ZERO).map_err(database)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON").map_err(database)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    /// The row `sql` (a `SELECT` of at most one row) finds with `params`, read by `row`.
    pub(crate) fn find<T>(
        &self,
        sql: &str,
        params: &Params<'_>,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> std::result::Result<Result<Option<T>>, Busy> {
        let conn = self.conn.lock().map_err(|_| Busy)?;
        let found = (|| {
            let mut stmt = conn.prepare_cached(sql)?;
            bind(&mut stmt, params)?;
            let mut rows = stmt.raw_query();
            rows.next()?.map(row).transpose()
        })();
        settle(found)
    }

    /// Single-use redemption in one transaction: `retire` (a conditional `UPDATE` of the code
    /// or token presented) and, when it changed a row, `insert` of `successor` with its encoded
    /// document (`$1`–`$7`).
    /// `true` when this call retired it.
    pub(crate) fn redeem(
        &self,
        retire: &str,
        params: &Params<'_>,
        successor: Option<(&str, &NewRefresh, &str)>,
        now: UnixTime,
    ) -> std::result::Result<Result<bool>, Busy> {
        let mut conn = self.conn.lock().map_err(|_| Busy)?;
        let redeemed = (|| {
            // The write lock first, or nothing: a busy database leaves no trace of the attempt.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let retired = {
                let mut stmt = tx.prepare_cached(retire)?;
                bind(&mut stmt, params)?;
                stmt.raw_execute()? == 1
            };
            if let (true, Some((insert, t, document))) = (retired, successor) {
                let jti = t.access_token.as_ref().map(|a| a.jti.as_str());
                let exp = t.access_token.as_ref().map(|a| a.expires_at);
                let mut stmt = tx.prepare_cached(insert)?;
                bind(
                    &mut stmt,
                    &[
                        ("$1", &t.token_hash),
                        ("$2", &t.grant.family_id),
                        ("$3", &document),
                        ("$4", &t.grant.expires_at),
                        ("$5", &now),
                        ("$6", &jti),
                        ("$7", &exp),
                    ],
                )?;
                stmt.raw_execute()?;
            }
            // Dropping `tx` on an error above rolls it back.
            tx.commit()?;
            Ok(retired)
        })();
        settle(redeemed)
    }
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &Params<'_>) -> rusqlite::Result<()> {
    for (name, value) in params {
        if let Some(i) = stmt.parameter_index(name)? {
            stmt.raw_bind_parameter(i, value)?;
        }
    }
    Ok(())
}

/// A busy or locked database is [`Busy`] (the caller tries through sqlx); other failures are
/// the store's errors.
fn settle<T>(r: rusqlite::Result<T>) -> std::result::Result<Result<T>, Busy> {
    match r {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            Err(Busy)
        }
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            Ok(Err(StoreError::Conflict("unique constraint")))
        }
        r => Ok(r.map_err(database)),
    }
}

fn database(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}
