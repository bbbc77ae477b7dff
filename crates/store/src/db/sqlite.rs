//! SQLite through rusqlite: the store's only SQLite driver.
//!
//! SQLite work is short and local (a lookup by key or a single-use redemption takes a few
//! microseconds), so handing each statement to another thread and back costs more than the
//! statement: a profile of code exchange on sqlx's SQLite driver, which does that, had over half
//! of the server's CPU in thread switches. Here a [`Weight::Light`] statement runs on the thread
//! that asks, on the store's one connection for such work (taken in turn), and never waits
//! for a lock there: connections have no busy timeout,
//! so when another connection holds the write lock the attempt fails at once, before it changed
//! anything, and the same work is done again on a blocking thread (`spawn_blocking`) that may
//! wait for the lock. [`Weight::Heavy`] work always runs on a blocking thread. What a request
//! does to an async worker is therefore bounded by its own statements: no lock waits, and no
//! `fsync` (WAL with `synchronous = NORMAL` syncs only at checkpoints).
//!
//! Checkpoints are never on a request's path: connections do not checkpoint on commit
//! (`wal_autocheckpoint = 0`); a thread of the store's own ([`checkpoints`]) copies the WAL back
//! into the database after every [`CHECKPOINT_AFTER_WRITES`] writes (and every second). So that
//! a checkpoint completes and SQLite can start the WAL over (it cannot while writers keep
//! appending), writers take turns in-process ([`Writers`]) and the checkpoint takes a turn too;
//! a writer on the calling thread that finds the turn held or wanted (by a checkpoint, or a
//! writer on a blocking thread waiting for another process) does not wait: it goes the
//! blocking thread's way.
//!
//! Migrations are sqlx's (`migrations/`), applied here with sqlx's bookkeeping table, so a
//! database migrated by earlier releases (which ran SQLite through sqlx) carries on as is.

use super::{Arg, Outcome, Row, Sql, Step, Value, Weight};
use crate::{Result, StoreError};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long work on a blocking thread waits for another connection's write lock before the
/// store answers [`StoreError::Unavailable`].
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// How often the WAL is checkpointed at least.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Writes after which the WAL is checkpointed (a few thousand pages; a write is a handful).
/// While a checkpoint copies and syncs, writers on calling threads go the blocking way, so
/// each checkpoint costs a burst of thread hand-offs: fewer, larger ones cost less (200 gave
/// 0.84 of the CPU efficiency of the code before, 2,000 0.95–0.99; bench/README.md).
const CHECKPOINT_AFTER_WRITES: u64 = 2_000;

/// WAL pages (4 KiB each) past which a checkpoint also truncates the WAL file, waiting for
/// readers and holding writers off while it does: 16 MiB. Passive checkpoints alone do not
/// bound the WAL under steady writes: SQLite starts it over only when a checkpoint has copied
/// all of it and no reader still uses it.
const TRUNCATE_PAST_PAGES: i64 = 4_096;

/// Where and how to open the database, from a `sqlite://PATH[?mode=rwc|rw]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) path: PathBuf,
    /// Create the file when missing (`mode=rwc`, the default).
    pub(crate) create: bool,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::Url(
                "in-memory SQLite loses everything on restart and is not shared across connections; give a file path"
                    .into(),
            ));
        }
        let mut create = true;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair {
                "mode=rwc" => create = true,
                "mode=rw" => create = false,
                other => {
                    return Err(StoreError::Url(format!(
                        "SQLite URL option {other:?} is not supported (supported: mode=rwc, the default, and mode=rw)"
                    )));
                }
            }
        }
        Ok(Self { path: PathBuf::from(path), create })
    }
}

/// A pool of connections to one SQLite file.
pub(crate) struct Sqlite {
    /// The connection for light work on calling threads.
    calling: Mutex<Connection>,
    /// Connections for work on blocking threads.
    pool: Arc<Pool>,
}

impl Drop for Sqlite {
    /// Stops the checkpoint thread, after a last checkpoint.
    fn drop(&mut self) {
        self.pool.writers.stop.store(true, Ordering::Release);
        let _ = self.pool.writers.nudge.send(());
    }
}

struct Pool {
    path: PathBuf,
    max: u32,
    acquire_timeout: Duration,
    state: Mutex<PoolState>,
    returned: Condvar,
    writers: Arc<Writers>,
}

/// The in-process writers' turn, taken before asking SQLite for its write lock: writers on the
/// calling thread queue here for microseconds instead of finding SQLite busy (and going the
/// long way round, through a blocking thread), and the checkpoint thread takes it so that no
/// write lands while it copies the WAL back. A writer on the calling thread never waits here
/// (calling-thread work takes turns on its one connection already): when a checkpoint or a
/// writer on a blocking thread (which may wait seconds for another process) holds the turn or
/// is queued for it, the write goes the blocking way.
struct Writers {
    state: Mutex<TurnState>,
    changed: Condvar,
    /// Writes since the last checkpoint.
    writes: AtomicU64,
    /// Wakes the checkpoint thread.
    nudge: mpsc::Sender<()>,
    stop: AtomicBool,
}

#[derive(Default)]
struct TurnState {
    held: bool,
    /// Checkpoints and blocking-thread writers waiting for the turn.
    waiting: u32,
    /// Threads asleep on `changed`.
    sleeping: u32,
}

/// How a statement takes the writers' turn before it writes.
#[derive(Clone, Copy)]
enum Turn<'a> {
    /// On the calling thread: never wait.
    Calling(&'a Writers),
    /// On a blocking thread: wait for the turn.
    Blocking(&'a Writers),
    /// Inside a transaction, which holds the turn already.
    Held,
}

/// A writers' turn, held; dropping it gives it back, counts the write and may wake the
/// checkpoint thread.
struct Held<'a> {
    writers: &'a Writers,
    count: bool,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.writers.give_back();
        if self.count && self.writers.writes.fetch_add(1, Ordering::Relaxed) + 1 == CHECKPOINT_AFTER_WRITES {
            let _ = self.writers.nudge.send(());
        }
    }
}

impl Writers {
    fn lock(&self) -> std::sync::MutexGuard<'_, TurnState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sleep<'s>(&self, mut st: std::sync::MutexGuard<'s, TurnState>) -> std::sync::MutexGuard<'s, TurnState> {
        st.sleeping += 1;
        let mut st = self.changed.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
        st.sleeping -= 1;
        st
    }

    /// Waits for the turn, ahead of calling threads that come after (a blocking thread, or the
    /// checkpoint thread).
    fn wait(&self) -> Held<'_> {
        let mut st = self.lock();
        st.waiting += 1;
        while st.held {
            st = self.sleep(st);
        }
        st.waiting -= 1;
        st.held = true;
        Held { writers: self, count: true }
    }

    fn give_back(&self) {
        let mut st = self.lock();
        st.held = false;
        if st.sleeping > 0 {
            self.changed.notify_all();
        }
    }
}

impl<'a> Turn<'a> {
    /// Takes the turn; on the calling thread, a busy error (so the work is done again on a
    /// blocking thread) when it is held or wanted.
    fn take(self) -> rusqlite::Result<Option<Held<'a>>> {
        let writers = match self {
            Self::Held => return Ok(None),
            Self::Blocking(w) => return Ok(Some(w.wait())),
            Self::Calling(w) => w,
        };
        let mut st = writers.lock();
        if st.held || st.waiting > 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("the writers' turn is held or wanted by a checkpoint or a waiting writer".into()),
            ));
        }
        st.held = true;
        Ok(Some(Held { writers, count: true }))
    }
}

struct PoolState {
    idle: Vec<Connection>,
    open: u32,
    closed: bool,
    /// Threads waiting for a connection to come back (so that giving one back wakes someone
    /// only when someone waits: a wake-up is a system call).
    waiting: u32,
}

impl Sqlite {
    /// Opens (and, with `create`, creates) the database and applies the migrations that have not
    /// been, then starts the checkpoint thread.
    pub(crate) async fn connect(target: Target, max: u32, acquire_timeout: Duration) -> Result<Self> {
        let path = target.path.clone();
        tokio::task::spawn_blocking(move || prepare_database(&target)).await.map_err(joined)??;
        let (nudge, nudged) = mpsc::channel();
        let pool = Arc::new(Pool {
            path: path.clone(),
            max: max.max(1),
            acquire_timeout,
            state: Mutex::new(PoolState { idle: Vec::new(), open: 0, closed: false, waiting: 0 }),
            returned: Condvar::new(),
            writers: Arc::new(Writers {
                state: Mutex::new(TurnState::default()),
                changed: Condvar::new(),
                writes: AtomicU64::new(0),
                nudge,
                stop: AtomicBool::new(false),
            }),
        });
        let calling = Mutex::new(open(&path).map_err(database)?);
        let conn = open(&path).map_err(database)?;
        let writers = pool.writers.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoints(&conn, &writers, &nudged))
            .map_err(|e| StoreError::Database(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { calling, pool })
    }

    pub(crate) async fn execute(&self, sql: Sql, args: Vec<Arg>, weight: Weight) -> Result<u64> {
        self.run(move |conn, turn| execute(conn, &sql, &args, turn), weight, true).await
    }

    pub(crate) async fn rows(&self, sql: Sql, args: Vec<Arg>, weight: Weight) -> Result<Vec<Row>> {
        let writes = !reads_only(&sql);
        self.run(move |conn, turn| rows(conn, &sql, &args, turn), weight, writes).await
    }

    pub(crate) async fn transaction(&self, steps: Vec<Step>, weight: Weight) -> Result<Outcome> {
        self.run(move |conn, turn| transaction(conn, &steps, turn), weight, true).await
    }

    /// Light work on this thread when a connection is free and no lock is in the way; else (and
    /// heavy work always) on a blocking thread that may wait for both. `work` must change
    /// nothing when it fails busy (a single statement, or a transaction that begins by taking
    /// the write lock), so that it can be done again. On a blocking thread, work that `writes`
    /// takes the writers' turn before a connection: a writer waiting for its turn (behind a
    /// checkpoint) holds none of the pool's connections, which readers need meanwhile.
    async fn run<T, F>(&self, work: F, weight: Weight, writes: bool) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut Connection, Turn<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        if weight == Weight::Light {
            // One connection for all calling-thread work, taken in turn (holders never wait for
            // anything, so the queue is microseconds): its page cache stays warm, where
            // connections taking turns would each find theirs invalidated by the others' writes
            // and read pages back from the file (a profile of code exchange had 15 % of the CPU
            // in those reads with a pool here).
            let mut conn = self.calling.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let done = work(&mut conn, Turn::Calling(&self.pool.writers));
            drop(conn);
            match done {
                Err(e) if is_busy(&e) => {}
                done => return done.map_err(settle),
            }
        }
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let held = writes.then(|| pool.writers.wait());
            let mut conn = pool.take_waiting()?;
            let turn = if held.is_some() { Turn::Held } else { Turn::Blocking(&pool.writers) };
            let done = conn.busy_timeout(BUSY_WAIT).and_then(|()| {
                let done = work(&mut conn, turn);
                conn.busy_timeout(Duration::ZERO)?;
                done
            });
            pool.put(conn);
            drop(held);
            done.map_err(settle)
        })
        .await
        .map_err(joined)?
    }

    pub(crate) fn status(&self) -> (u32, usize) {
        let state = self.pool.lock();
        (state.open + 1, state.idle.len() + usize::from(self.calling.try_lock().is_ok()))
    }

    pub(crate) async fn close(&self) {
        let mut state = self.pool.lock();
        state.closed = true;
        state.open -= state.idle.len() as u32;
        state.idle.clear();
        self.pool.returned.notify_all();
    }
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves the state consistent (each change is one step).
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An idle connection, or a new one while fewer than `max` are open; `None` when all are
    /// in use.
    fn try_take(&self) -> Result<Option<Connection>> {
        let mut state = self.lock();
        if state.closed {
            return Err(StoreError::Unavailable("the store is closed".into()));
        }
        if let Some(conn) = state.idle.pop() {
            return Ok(Some(conn));
        }
        if state.open >= self.max {
            return Ok(None);
        }
        state.open += 1;
        drop(state);
        match open(&self.path) {
            Ok(conn) => Ok(Some(conn)),
            Err(e) => {
                let mut state = self.lock();
                state.open -= 1;
                if state.waiting > 0 {
                    self.returned.notify_one();
                }
                Err(database(e))
            }
        }
    }

    /// [`Self::try_take`], waiting up to the acquire timeout for a connection to come back.
    fn take_waiting(&self) -> Result<Connection> {
        let deadline = Instant::now() + self.acquire_timeout;
        loop {
            if let Some(conn) = self.try_take()? {
                return Ok(conn);
            }
            let mut state = self.lock();
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "all {} SQLite connections stayed busy for {:?}",
                    self.max, self.acquire_timeout
                )));
            }
            if state.idle.is_empty() && state.open >= self.max && !state.closed {
                state.waiting += 1;
                let (mut state, _) =
                    self.returned.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner());
                state.waiting -= 1;
            }
        }
    }

    fn put(&self, conn: Connection) {
        let mut state = self.lock();
        if state.closed {
            state.open -= 1;
        } else {
            state.idle.push(conn);
        }
        if state.waiting > 0 {
            self.returned.notify_one();
        }
    }
}

/// `steps` in one transaction that takes the write lock first, or nothing: a busy database
/// leaves no trace of the attempt.
fn transaction(conn: &mut Connection, steps: &[Step], turn: Turn<'_>) -> rusqlite::Result<Outcome> {
    let _turn = turn.take()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut counts = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let n = if step.returns_rows {
            rows(&tx, &step.sql, &step.args, Turn::Held)?.len() as u64
        } else {
            execute(&tx, &step.sql, &step.args, Turn::Held)?
        };
        if step.required && n == 0 {
            // Dropping `tx` rolls it back.
            return Ok(Outcome::StoppedAt(i));
        }
        counts.push(n);
    }
    tx.commit()?;
    Ok(Outcome::Done(counts))
}

fn prepare<'c>(conn: &'c Connection, sql: &str, args: &[Arg]) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    for (i, arg) in args.iter().enumerate() {
        let name = PARAMETERS.get(i).map_or_else(|| format!("${}", i + 1).into(), |n| std::borrow::Cow::Borrowed(*n));
        if let Some(index) = stmt.parameter_index(&name)? {
            stmt.raw_bind_parameter(index, arg)?;
        }
    }
    Ok(stmt)
}

/// Whether a statement that returns rows only reads (`SELECT`, `PRAGMA`), rather than writing
/// with `RETURNING`.
fn reads_only(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("");
    head.eq_ignore_ascii_case("select") || head.eq_ignore_ascii_case("pragma")
}

/// `$1`… as SQLite names them (it numbers parameters by first appearance, not by their digits).
const PARAMETERS: [&str; 12] = ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12"];

/// Statements slower than this are logged as warnings (every statement is logged at debug
/// level, its SQL without its arguments).
const SLOW: Duration = Duration::from_secs(1);

fn logged<T>(sql: &str, count: impl Fn(&T) -> usize, run: impl FnOnce() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let started = Instant::now();
    let done = run();
    let elapsed = started.elapsed();
    let rows = done.as_ref().map_or(0, &count);
    if elapsed >= SLOW {
        tracing::warn!(target: "gatehouse_store::sqlite", sql, rows, ?elapsed, "slow statement");
    } else {
        tracing::debug!(target: "gatehouse_store::sqlite", sql, rows, ?elapsed, "statement");
    }
    done
}

fn execute(conn: &Connection, sql: &str, args: &[Arg], turn: Turn<'_>) -> rusqlite::Result<u64> {
    logged(
        sql,
        |n| *n as usize,
        || {
            let mut stmt = prepare(conn, sql, args)?;
            let _turn = if stmt.readonly() { None } else { turn.take()? };
            Ok(stmt.raw_execute()? as u64)
        },
    )
}

fn rows(conn: &Connection, sql: &str, args: &[Arg], turn: Turn<'_>) -> rusqlite::Result<Vec<Row>> {
    logged(sql, Vec::len, || read(conn, sql, args, turn))
}

fn read(conn: &Connection, sql: &str, args: &[Arg], turn: Turn<'_>) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = prepare(conn, sql, args)?;
    let _turn = if stmt.readonly() { None } else { turn.take()? };
    let columns: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let values = (columns.iter().enumerate())
            .map(|(i, name)| match row.get_ref(i)? {
                ValueRef::Null => Ok(Value::Null),
                ValueRef::Integer(n) => Ok(Value::Int(n)),
                ValueRef::Text(t) => Ok(Value::Text(String::from_utf8_lossy(t).into_owned())),
                other => Err(rusqlite::Error::InvalidColumnType(i, name.clone(), other.data_type())),
            })
            .collect::<rusqlite::Result<_>>()?;
        out.push(Row::new(columns.clone(), values));
    }
    Ok(out)
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Int(Some(n)) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Arg::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Arg::Int(None) | Arg::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// A pooled connection: WAL, no checkpoints on commit, no waiting for locks.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(Duration::ZERO)?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0")?;
    Ok(conn)
}

/// Creates the file (and its folder) when asked, switches it to WAL and migrates it.
fn prepare_file(target: &Target) -> Result<Connection> {
    if let Some(parent) = target.path.parent()
        && !parent.as_os_str().is_empty()
        && target.create
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Url(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if target.create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(&target.path, flags)
        .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", target.path.display())))?;
    conn.busy_timeout(BUSY_WAIT).map_err(database)?;
    // WAL: readers never block the writer, and NORMAL is durable across process crashes.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(database)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(format!("SQLite refused WAL mode (journal_mode is {mode})")));
    }
    Ok(conn)
}

fn prepare_database(target: &Target) -> Result<()> {
    let mut conn = prepare_file(target)?;
    migrate(&mut conn)
}

/// Applies the embedded migrations not yet applied, in one transaction with sqlx's bookkeeping
/// (`_sqlx_migrations`: version, checksum, success), refusing a database that a failed
/// migration left dirty, that was migrated by a newer release, or whose applied migration
/// differs from the one embedded here.
fn migrate(conn: &mut Connection) -> Result<()> {
    let failed = |e: rusqlite::Error| StoreError::Database(format!("migration failed: {e}"));
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        )",
    )
    .map_err(failed)?;
    let applied: Vec<(i64, bool, Vec<u8>)> = {
        let mut stmt =
            tx.prepare("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version").map_err(failed)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(failed)?;
        rows.collect::<rusqlite::Result<_>>().map_err(failed)?
    };
    let embedded = super::MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).collect::<Vec<_>>();
    for (version, success, checksum) in &applied {
        let refuse = |why: &str| Err(StoreError::Database(format!("migration {version} {why}")));
        if !success {
            return refuse("failed part-way earlier: the database is dirty; restore it from a backup");
        }
        match embedded.iter().find(|m| m.version == *version) {
            None => return refuse("was applied by a newer Gatehouse than this one"),
            Some(m) if *m.checksum != checksum[..] => return refuse("differs from the one this Gatehouse carries"),
            Some(_) => {}
        }
    }
    for m in embedded.iter().filter(|m| !applied.iter().any(|(v, ..)| *v == m.version)) {
        let started = Instant::now();
        tx.execute_batch(&m.sql).map_err(|e| StoreError::Database(format!("migration {} failed: {e}", m.version)))?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![m.version, &*m.description, &*m.checksum, started.elapsed().as_nanos() as i64],
        )
        .map_err(failed)?;
    }
    tx.commit().map_err(failed)
}

/// The checkpoint thread: after [`CHECKPOINT_AFTER_WRITES`] writes, or a second after the
/// last checkpoint if anything was written, a passive checkpoint (it copies what it can
/// without waiting for anyone), then another while holding the writers' turn, so that it
/// completes and the next write starts the WAL over; past [`TRUNCATE_PAST_PAGES`] (another process kept writing)
/// a truncating one. Stops, after a last checkpoint, when the store is dropped.
fn checkpoints(conn: &Connection, writers: &Writers, nudged: &mpsc::Receiver<()>) {
    loop {
        let _ = nudged.recv_timeout(CHECKPOINT_EVERY);
        let last = writers.stop.load(Ordering::Acquire);
        if writers.writes.load(Ordering::Relaxed) == 0 && !last {
            continue;
        }
        let checkpoint =
            || conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
        // Most of the copying and syncing while writers go on; then, holding the turn, only
        // what they wrote meanwhile, so that writers wait (on blocking threads) for a short
        // copy, not a long one.
        if let Err(e) = checkpoint() {
            tracing::warn!(error = %e, "SQLite: WAL checkpoint failed");
        }
        let passive = {
            let mut turn = writers.wait();
            turn.count = false;
            writers.writes.store(0, Ordering::Relaxed);
            checkpoint()
        };
        match passive {
            Ok((pages, _)) if pages > TRUNCATE_PAST_PAGES || last => {
                let _ = conn.busy_timeout(if last { Duration::ZERO } else { Duration::from_secs(1) });
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
                    tracing::debug!(error = %e, pages, "SQLite: could not truncate the WAL this time");
                }
            }
            Ok((pages, copied)) if copied < pages => {
                tracing::debug!(pages, copied, "SQLite: a reader kept part of the WAL from being copied back");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "SQLite: WAL checkpoint failed"),
        }
        if last {
            return;
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// rusqlite's errors as the store's: a broken uniqueness rule is a conflict; a lock held past
/// the wait passes.
fn settle(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Conflict("unique constraint")
        }
        _ if is_busy(&e) => StoreError::Unavailable(e.to_string()),
        _ => database(e),
    }
}

fn database(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn joined(e: tokio::task::JoinError) -> StoreError {
    StoreError::Database(format!("SQLite work stopped: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_file_and_a_mode() {
        assert_eq!(Target::parse("sqlite://d/g.db").unwrap(), Target { path: "d/g.db".into(), create: true });
        assert_eq!(
            Target::parse("sqlite:///abs/g.db?mode=rw").unwrap(),
            Target { path: "/abs/g.db".into(), create: false }
        );
        assert!(Target::parse("sqlite::memory:").is_err());
        assert!(Target::parse("sqlite://").is_err());
        let unknown = Target::parse("sqlite://g.db?cache=shared").unwrap_err().to_string();
        assert!(unknown.contains("cache=shared"), "{unknown}");
    }

    #[test]
    fn migrations_apply_once_and_refuse_what_they_do_not_know() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::parse(&format!("sqlite://{}/sub/g.db", dir.path().display())).unwrap();
        prepare_database(&target).unwrap();
        prepare_database(&target).unwrap();
        let conn = open(&target.path).unwrap();
        let applied: i64 = conn.query_row("SELECT COUNT(*) FROM _sqlx_migrations", [], |r| r.get(0)).unwrap();
        assert_eq!(applied as usize, crate::db::MIGRATOR.iter().count());
        let refused = |sql: &str, why: &str| {
            let conn = open(&target.path).unwrap();
            let tx = conn.unchecked_transaction().unwrap();
            tx.execute(sql, []).unwrap();
            tx.commit().unwrap();
            let e = prepare_database(&target).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
            conn.execute_batch("DELETE FROM _sqlx_migrations WHERE version = 99999").unwrap();
        };
        refused("INSERT INTO _sqlx_migrations VALUES (99999, 'future', 0, TRUE, x'00', 0)", "newer");
        refused("INSERT INTO _sqlx_migrations VALUES (99999, 'half', 0, FALSE, x'00', 0)", "dirty");
        refused("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1", "differs");
    }

    /// A commit of thousands of pages (past SQLite's default auto-checkpoint of 1,000) leaves
    /// them in the WAL: the committing thread copied nothing into the database file. The
    /// checkpoint thread copies them within a few seconds.
    #[tokio::test]
    async fn commits_leave_checkpoints_to_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::parse(&format!("sqlite://{}/g.db", dir.path().display())).unwrap();
        let path = target.path.clone();
        let db = Sqlite::connect(target, 2, Duration::from_secs(5)).await.unwrap();
        let setting = db.rows("PRAGMA wal_autocheckpoint".into(), vec![], Weight::Light).await.unwrap();
        assert_eq!(setting[0].at::<i64>(0).unwrap(), 0);
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        let page = "x".repeat(4000);
        let steps = (0..2_000)
            .map(|i| {
                Step::write(
                    "INSERT INTO audit_log (id, at, actor, action, target, details) VALUES ($1, 0, 'a', 'b', 'c', $2)",
                    vec![Arg::Text(Some(format!("{i:05}"))), Arg::Text(Some(page.clone()))],
                )
            })
            .collect();
        assert!(matches!(db.transaction(steps, Weight::Light).await.unwrap(), Outcome::Done(_)));
        assert!(size() < before + 1_000_000, "the commit checkpointed: {} -> {}", before, size());
        let deadline = Instant::now() + Duration::from_secs(10);
        while size() < before + 8_000_000 {
            assert!(Instant::now() < deadline, "no checkpoint within 10 s: {} bytes", size());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[test]
    fn statements_that_return_rows_are_told_reads_from_writes() {
        for read in ["SELECT 1", "  select x FROM t", "PRAGMA integrity_check"] {
            assert!(reads_only(read), "{read}");
        }
        for write in
            ["DELETE FROM t RETURNING a", "UPDATE t SET a = 1 RETURNING a", "INSERT INTO t VALUES (1) RETURNING a", ""]
        {
            assert!(!reads_only(write), "{write}");
        }
    }

    #[test]
    fn a_missing_file_is_not_created_with_mode_rw() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::parse(&format!("sqlite://{}/none.db?mode=rw", dir.path().display())).unwrap();
        assert!(prepare_database(&target).is_err());
        assert!(!target.path.exists());
    }
}
