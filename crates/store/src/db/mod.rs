//! The two databases behind one small interface: statements in the common dialect of both
//! (numbered `$n` parameters, `ON CONFLICT`, `RETURNING`), typed arguments, rows of owned
//! values, and short write transactions written as a list of [`Step`]s. The store's methods
//! (`sql.rs`, `sign_in.rs`, …) are written once against it.
//!
//! Each database has one driver: SQLite runs through rusqlite ([`sqlite`]), PostgreSQL through
//! sqlx ([`postgres`]). Nothing falls back from one driver to another.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use crate::{Result, StoreError};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// The schema's migrations, applied at start by either driver with the same bookkeeping.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The connection pool (`[database_pool]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Connections at most; `None` for the backend's default (PostgreSQL 16, SQLite 8). SQLite
    /// has one more, for the light work done on the calling thread.
    pub max_connections: Option<u32>,
    /// How long getting a connection may take: on PostgreSQL retries of refused connections and
    /// of a database that is starting included (sqlx backs off from 10 ms, doubling); on SQLite
    /// the wait for one of the pool's connections to come back. Past it the store answers
    /// [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout` for every pooled connection (`None`: no limit).
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(10)),
        }
    }
}

/// SQL text: a constant, or one built at run time (a column list, a table name).
pub(crate) type Sql = Cow<'static, str>;

/// A statement's argument, by its position: the first is `$1`. Every value carries its SQL type
/// (PostgreSQL must know what an absent value would have been).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Int(Some(i64::from(v)))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}

/// The arguments of one statement: `args![a, b]` is `$1 = a, $2 = b`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::db::Arg::from($v)),*] };
}
pub(crate) use args;

/// One column's value in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A row read from either database.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Self { columns, values }
    }

    /// The value of column `name` as `T`.
    pub(crate) fn get<T: FromValue>(&self, name: &str) -> Result<T> {
        let i = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| StoreError::Database(format!("no column {name:?} in the result")))?;
        self.at(i)
    }

    /// The value of the `i`-th column (from 0) as `T`.
    pub(crate) fn at<T: FromValue>(&self, i: usize) -> Result<T> {
        let value = self.values.get(i).ok_or_else(|| StoreError::Database(format!("no column {i} in the result")))?;
        T::from_value(value).ok_or_else(|| {
            StoreError::Database(format!(
                "column {:?} holds {value:?}",
                self.columns.get(i).map_or("?", |c| c.as_str())
            ))
        })
    }
}

/// Types a column's value reads as.
pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One statement of a write transaction ([`Db::transaction`]).
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) sql: Sql,
    pub(crate) args: Vec<Arg>,
    /// It returns rows (a `SELECT`, or `RETURNING`): it counts the rows it returns; otherwise
    /// the rows it changed.
    pub(crate) returns_rows: bool,
    /// When it counts zero, the transaction stops there and rolls back.
    pub(crate) required: bool,
}

impl Step {
    /// A statement that changes rows.
    pub(crate) fn write(sql: impl Into<Sql>, args: Vec<Arg>) -> Self {
        Self { sql: sql.into(), args, returns_rows: false, required: false }
    }

    /// A statement that returns rows.
    pub(crate) fn read(sql: impl Into<Sql>, args: Vec<Arg>) -> Self {
        Self { sql: sql.into(), args, returns_rows: true, required: false }
    }

    /// The transaction goes on only if this step counts at least one row.
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Committed; each step's count.
    Done(Vec<u64>),
    /// Rolled back: the required step at this index (from 0) counted nothing.
    StoppedAt(usize),
}

/// How long a statement may take on the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    /// A lookup or write of a few rows by key: SQLite runs it on the calling thread when it can
    /// without waiting for a lock.
    Light,
    /// Unbounded or slow work (whole-table reads, searches, cleanup, integrity checks): SQLite
    /// runs it on a blocking thread.
    Heavy,
}

/// The database a store runs on.
pub(crate) enum Db {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

impl Db {
    /// Runs a statement that returns no rows; gives the number of rows it changed.
    pub(crate) async fn execute(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        match self {
            Self::Sqlite(d) => d.execute(sql.into(), args, Weight::Light).await,
            Self::Postgres(d) => d.execute(&sql.into(), args).await,
        }
    }

    /// [`Self::execute`] of heavy work.
    pub(crate) async fn execute_heavy(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        match self {
            Self::Sqlite(d) => d.execute(sql.into(), args, Weight::Heavy).await,
            Self::Postgres(d) => d.execute(&sql.into(), args).await,
        }
    }

    /// The first row a statement returns, if any (the statement runs to its end).
    pub(crate) async fn optional(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Option<Row>> {
        Ok(self.rows(sql.into(), args, Weight::Light).await?.into_iter().next())
    }

    /// The one row a statement returns.
    pub(crate) async fn one(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Row> {
        self.optional(sql, args).await?.ok_or_else(|| StoreError::Database("the statement returned no row".into()))
    }

    /// Every row a statement returns: a few, found by key.
    pub(crate) async fn all(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Vec<Row>> {
        self.rows(sql.into(), args, Weight::Light).await
    }

    /// Every row a statement returns, however many: a whole table or a search.
    pub(crate) async fn all_heavy(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Vec<Row>> {
        self.rows(sql.into(), args, Weight::Heavy).await
    }

    async fn rows(&self, sql: Sql, args: Vec<Arg>, weight: Weight) -> Result<Vec<Row>> {
        match self {
            Self::Sqlite(d) => d.rows(sql, args, weight).await,
            Self::Postgres(d) => d.rows(&sql, args).await,
        }
    }

    /// Runs `steps` in one write transaction (SQLite: `BEGIN IMMEDIATE`, so writers take turns
    /// from the start), stopping and rolling back at a required step that counts nothing.
    pub(crate) async fn transaction(&self, steps: Vec<Step>) -> Result<Outcome> {
        match self {
            Self::Sqlite(d) => d.transaction(steps, Weight::Light).await,
            Self::Postgres(d) => d.transaction(steps).await,
        }
    }

    /// Connections open and, of those, idle.
    pub(crate) fn status(&self) -> (u32, usize) {
        match self {
            Self::Sqlite(d) => d.status(),
            Self::Postgres(d) => d.status(),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Self::Sqlite(d) => d.close().await,
            Self::Postgres(d) => d.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_by_name_and_type() {
        let row = Row::new(
            vec!["a".to_owned(), "b".to_owned(), "c".to_owned()].into(),
            vec![Value::Int(3), Value::Text("x".into()), Value::Null],
        );
        assert_eq!(row.get::<i64>("a").unwrap(), 3);
        assert!(row.get::<bool>("a").unwrap());
        assert_eq!(row.get::<String>("b").unwrap(), "x");
        assert_eq!(row.get::<Option<String>>("c").unwrap(), None);
        assert_eq!(row.get::<Option<i64>>("a").unwrap(), Some(3));
        assert!(row.get::<i64>("b").is_err(), "a text is not an integer");
        assert!(row.get::<String>("c").is_err(), "null is not a string");
        assert!(row.get::<i64>("d").is_err(), "no such column");
    }

    #[test]
    fn arguments_keep_their_type_when_absent() {
        assert_eq!(
            args![None::<i64>, None::<&str>, true, "t"],
            vec![Arg::Int(None), Arg::Text(None), Arg::Int(Some(1)), Arg::Text(Some("t".into()))]
        );
    }
}
