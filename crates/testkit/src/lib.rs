//! Test helpers: [`TestDb`] gives each test its own database (a temporary SQLite file, or a
//! fresh PostgreSQL database at `GATEHOUSE_TEST_POSTGRES_URL`, dropped afterwards), and
//! [`TestServer`] runs the real Gatehouse router on `127.0.0.1:0` against it.

pub mod browser;
pub mod proxy;
mod skip;

pub use skip::{SKIPS_ENV, skip};

use gatehouse_core::config::{Config, Overrides};
use gatehouse_protocol::clock::{Clock, SystemClock};
use std::io::Write;
use std::sync::Arc;
use std::sync::Once;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const POSTGRES_ENV: &str = "GATEHOUSE_TEST_POSTGRES_URL";

/// One test's own database.
pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

static PG_NOTICE: Once = Once::new();

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
        Self { url, label: "sqlite", _dir: Some(dir), pg_cleanup: None }
    }

    /// A fresh PostgreSQL database, or `None` (with a notice on the terminal) when
    /// `GATEHOUSE_TEST_POSTGRES_URL` is unset. Under `CI=true` an unset URL fails the test:
    /// CI must cover both stores.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin) = std::env::var(POSTGRES_ENV) else {
            PG_NOTICE.call_once(|| {
                skip(
                    "the PostgreSQL half of the store tests",
                    &format!("{POSTGRES_ENV} is not set (./test sets it when PostgreSQL answers on 127.0.0.1:5432)"),
                );
            });
            return None;
        };
        let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin_connection(&admin).await;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let mut url = url::Url::parse(&admin).unwrap_or_else(|e| panic!("{POSTGRES_ENV}: {e}"));
        url.set_path(&name);
        Some(Self { url: url.to_string(), label: "postgres", _dir: None, pg_cleanup: Some((admin, name)) })
    }

    /// The same database for a second server (several nodes on one store). The original keeps
    /// the clean-up: drop it last.
    pub fn shared(&self) -> TestDb {
        TestDb { url: self.url.clone(), label: self.label, _dir: None, pg_cleanup: None }
    }

    /// The same PostgreSQL database reached through `proxy` (which must forward to its
    /// server): for a server whose database the test takes away. The original keeps the
    /// clean-up.
    pub fn through(&self, proxy: &proxy::TcpProxy) -> TestDb {
        let mut url = url::Url::parse(&self.url).unwrap_or_else(|e| panic!("{e}"));
        let _ = url.set_ip_host(proxy.addr.ip());
        let _ = url.set_port(Some(proxy.addr.port()));
        TestDb { url: url.to_string(), label: self.label, _dir: None, pg_cleanup: None }
    }

    /// The same database without TLS: for a test whose proxy must see the statements.
    pub fn plaintext(mut self) -> TestDb {
        self.url.push_str(if self.url.contains('?') { "&sslmode=disable" } else { "?sslmode=disable" });
        self
    }

    /// The `host:port` of a PostgreSQL database's server.
    pub fn server_addr(&self) -> Option<std::net::SocketAddr> {
        let url = url::Url::parse(&self.url).ok()?;
        std::net::ToSocketAddrs::to_socket_addrs(&(url.host_str()?, url.port().unwrap_or(5432))).ok()?.next()
    }

    /// SQLite, plus PostgreSQL when configured: run a test body once per store.
    pub async fn each() -> Vec<TestDb> {
        let mut v = vec![Self::sqlite()];
        v.extend(Self::postgres().await);
        v
    }
}

async fn admin_connection(admin: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(admin).await.unwrap_or_else(|e| panic!("connect {POSTGRES_ENV}: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg_cleanup.take() else { return };
        // Drop runs outside any runtime guarantee: use a private one on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                let mut conn = admin_connection(&admin).await;
                if let Err(e) =
                    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await
                {
                    let _ = writeln!(std::io::stderr(), "warning: could not drop test database {name}: {e}");
                }
            });
        })
        .join();
    }
}

/// A plain HTTP client for tests. reqwest is built without a bundled TLS provider (the server
/// installs aws-lc-rs at start); install it here too, so a test that never starts an
/// in-process server can still build clients.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::new()
}

/// A running Gatehouse on an ephemeral port.
pub struct TestServer {
    /// Base URL and issuer, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// A client that does not follow redirects and keeps cookies.
    pub http: reqwest::Client,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts Gatehouse with the given TOML config on `db`. The issuer is the server's own URL
    /// (written `${ISSUER}` in the config where it is needed).
    pub async fn start(toml: &str, db: TestDb) -> anyhow::Result<Self> {
        Self::start_with_clock(toml, db, Arc::new(SystemClock)).await
    }

    /// Starts with a clock the test controls (e.g. a `ManualClock` to expire things).
    pub async fn start_with_clock(toml: &str, db: TestDb, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::start_inner(toml, db, clock, None).await
    }

    /// Starts one node of several behind one issuer (as behind a load balancer): tokens issued
    /// by any node are accepted by every node that shares `issuer`.
    pub async fn start_node(toml: &str, db: TestDb, issuer: &str) -> anyhow::Result<Self> {
        Self::start_inner(toml, db, Arc::new(SystemClock), Some(issuer)).await
    }

    /// Starts with the issuer `http://localhost:PORT` (still listening on 127.0.0.1): WebAuthn
    /// needs a domain name for its relying party, and browsers treat localhost as secure.
    pub async fn start_on_localhost(toml: &str, db: TestDb) -> anyhow::Result<Self> {
        Self::start_listening(toml, db, Arc::new(SystemClock), None, true).await
    }

    async fn start_inner(toml: &str, db: TestDb, clock: Arc<dyn Clock>, issuer: Option<&str>) -> anyhow::Result<Self> {
        Self::start_listening(toml, db, clock, issuer, false).await
    }

    async fn start_listening(
        toml: &str,
        db: TestDb,
        clock: Arc<dyn Clock>,
        issuer: Option<&str>,
        localhost: bool,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let url = if localhost { format!("http://localhost:{}", addr.port()) } else { format!("http://{addr}") };
        let issuer = issuer.unwrap_or(&url).to_owned();
        let overrides = Overrides { issuer: Some(issuer.clone()), database: Some(db.url.clone()), listen: None };
        // `${ISSUER}` in the config stands for the issuer, the server's own URL unless given.
        let toml = toml.replace("${ISSUER}", &issuer);
        let cfg = Config::from_toml_str(&toml, &overrides)?.validate()?;
        let services = gatehouse_core::build_with_clock(&cfg, clock).await?;
        let app = gatehouse_server::app(gatehouse_server::AppState::new(services, &cfg));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(gatehouse_server::serve_with(listener, app, cfg.limits, async {
            let _ = rx.await;
        }));
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build()?;
        Ok(Self { url, http, db, shutdown: Some(tx), task: Some(task) })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let r = self.http.get(self.url(path)).send().await?;
        let status = r.status();
        Ok((status, r.json().await?))
    }

    /// Shuts down gracefully and hands back the database (for restart tests).
    pub async fn stop(mut self) -> TestDb {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        std::mem::replace(&mut self.db, TestDb { url: String::new(), label: "gone", _dir: None, pg_cleanup: None })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
