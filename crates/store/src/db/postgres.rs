//! PostgreSQL through sqlx: the store's only PostgreSQL driver.

use super::{Arg, Outcome, PoolOptions, Row, Step, Value};
use crate::{Result, StoreError};
use sqlx::postgres::{PgArguments, PgConnection, PgPoolOptions, PgRow};
use sqlx::{Column, PgPool, Row as _, TypeInfo};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct Postgres {
    pool: PgPool,
    /// How long a statement (or a transaction's) may go without an answer before the
    /// connection is presumed dead: `statement_timeout` plus a margin for the server's own
    /// cancellation to arrive. A connection whose packets are dropped (not refused) gives no
    /// error of its own for many minutes; past the deadline it is closed, not returned to the
    /// pool, and the request is answered 503 with `Retry-After`.
    deadline: Option<Duration>,
}

/// What is added to `statement_timeout` before the client gives up on a connection.
const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

type Work<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'c>>;

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, PgArguments>;

impl Postgres {
    /// Connects and applies the migrations not yet applied (sqlx's migrator, which takes an
    /// advisory lock so that nodes starting together migrate once).
    pub(crate) async fn connect(url: &str, options: PoolOptions) -> Result<Self> {
        let statement_timeout = options.statement_timeout.map_or(0, |t| t.as_millis());
        // sqlx pings every connection as it goes back to the pool, and by default again as it
        // comes out: a third round trip per statement for a connection checked moments ago.
        // Connections idle for over a second are still pinged before use, so after a database
        // restart the dead ones are replaced instead of failing a request each.
        let pool = PgPoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .max_connections(options.max_connections.unwrap_or(16))
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    sqlx::query(&format!("SET statement_timeout = {statement_timeout}")).execute(&mut *conn).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        super::MIGRATOR.run(&pool).await?;
        Ok(Self { pool, deadline: options.statement_timeout.map(|t| t + DEADLINE_MARGIN) })
    }

    /// Runs `work` on a pooled connection within the deadline; a connection that missed it is
    /// closed rather than returned to the pool (where sqlx's check of it would wait as long).
    async fn run<T>(&self, work: impl for<'c> FnOnce(&'c mut PgConnection) -> Work<'c, T>) -> Result<T> {
        let mut conn = self.pool.acquire().await?;
        let Some(deadline) = self.deadline else { return work(&mut conn).await };
        match tokio::time::timeout(deadline, work(&mut conn)).await {
            Ok(done) => done,
            Err(_) => {
                drop(conn.detach());
                Err(StoreError::Unavailable(format!(
                    "no answer from PostgreSQL within {deadline:?}; the connection was closed"
                )))
            }
        }
    }

    // The statement's text is copied into the work (which must not borrow beyond the
    // connection): a few hundred bytes beside a round trip.
    pub(crate) async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        let sql = sql.to_owned();
        self.run(|c| Box::pin(async move { Ok(bind(sqlx::query(&sql), args).execute(c).await?.rows_affected()) })).await
    }

    pub(crate) async fn rows(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<Row>> {
        let sql = sql.to_owned();
        self.run(|c| Box::pin(async move { rows(&bind(sqlx::query(&sql), args).fetch_all(c).await?) })).await
    }

    pub(crate) async fn transaction(&self, steps: Vec<Step>) -> Result<Outcome> {
        self.run(|c| {
            Box::pin(async move {
                let mut tx = sqlx::Connection::begin(c).await?;
                let mut counts = Vec::with_capacity(steps.len());
                for (i, step) in steps.into_iter().enumerate() {
                    let q = bind(sqlx::query(&step.sql), step.args);
                    let n = if step.returns_rows {
                        q.fetch_all(&mut *tx).await?.len() as u64
                    } else {
                        q.execute(&mut *tx).await?.rows_affected()
                    };
                    if step.required && n == 0 {
                        // Dropping `tx` rolls it back.
                        return Ok(Outcome::StoppedAt(i));
                    }
                    counts.push(n);
                }
                tx.commit().await?;
                Ok(Outcome::Done(counts))
            })
        })
        .await
    }

    pub(crate) fn status(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

fn bind(mut q: Query<'_>, args: Vec<Arg>) -> Query<'_> {
    for arg in args {
        q = match arg {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
        };
    }
    q
}

fn rows(found: &[PgRow]) -> Result<Vec<Row>> {
    let Some(first) = found.first() else { return Ok(Vec::new()) };
    let columns: Arc<[String]> = first.columns().iter().map(|c| c.name().to_owned()).collect();
    found
        .iter()
        .map(|r| {
            let values = r
                .columns()
                .iter()
                .map(|c| {
                    let i = c.ordinal();
                    Ok(match c.type_info().name() {
                        "INT8" => r.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::Int),
                        "INT4" => r.try_get::<Option<i32>, _>(i)?.map_or(Value::Null, |n| Value::Int(n.into())),
                        "INT2" => r.try_get::<Option<i16>, _>(i)?.map_or(Value::Null, |n| Value::Int(n.into())),
                        "BOOL" => r.try_get::<Option<bool>, _>(i)?.map_or(Value::Null, |b| Value::Int(b.into())),
                        "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => {
                            r.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::Text)
                        }
                        other => {
                            return Err(StoreError::Database(format!(
                                "column {:?} has type {other}, which the store does not read",
                                c.name()
                            )));
                        }
                    })
                })
                .collect::<Result<_>>()?;
            Ok(Row::new(columns.clone(), values))
        })
        .collect()
}
