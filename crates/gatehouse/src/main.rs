//! `gatehouse`: the command line. Parses flags, loads and validates the configuration, opens
//! the store and serves (STYLE.md rule 11: a thin binary over an injectable server).

mod config_reference;
mod manage;
mod resource_cli;
mod upstream_cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse_core::config::{Config, Overrides, ValidConfig};
use gatehouse_core::sealing::Sealer;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: it hands freed memory back to the system. With glibc,
/// each argon2 call (19 MiB) left its block in the calling thread's arena, so a server that had
/// checked a few passwords on a few blocking threads sat at 75 MB idle and 230 MB after a
/// benchmark; small allocations on the request path are also cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands the memory freed during start-up back to the system. Seeding the config's secrets runs
/// argon2 (19 MiB a call); mimalloc returns freed memory a second later, but only when some later
/// free gives it the chance, which on an idle server is never: idle RSS stayed 9 MiB above its
/// floor (30 MiB instead of 21).
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers; it walks and trims mimalloc's own structures and
    // may be called from any thread at any time (mimalloc.h).
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// `gatehouse --version`: the crate version and the git revision it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BUILD_GIT_REVISION"), ")");

#[derive(Parser)]
#[command(name = "gatehouse", version = VERSION, about = "OpenID Connect provider and OAuth 2.0 authorization server")]
struct Cli {
    /// Configuration file (TOML, or JSON when it ends in .json).
    #[arg(long, short, global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: `text` (default) or `json`. Levels come from RUST_LOG (default `info`).
    #[arg(long, global = true, env = "GATEHOUSE_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Every stored key with its state; retired keys stay published until their tokens expire.
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rotate the keys of the given algorithms (all by default). Running nodes pick the change
    /// up at once on PostgreSQL, else within `key_reload_interval` seconds.
    Rotate {
        /// RS256, PS256, ES256 or EdDSA; repeat for several.
        #[arg(long = "alg")]
        algs: Vec<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<String>,
        /// Issuer identifier, the public base URL [default: http://LISTEN]
        #[arg(long)]
        issuer: Option<String>,
        /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://gatehouse-data/gatehouse.db]
        #[arg(long)]
        database: Option<String>,
    },
    /// Validate a configuration file without starting anything; exits 1 when it is invalid.
    CheckConfig {
        /// The file to check (defaults to --config).
        file: Option<PathBuf>,
    },
    /// Print the configuration reference (every key, its type, default and meaning) as Markdown.
    ConfigReference,
    /// Signing keys: list them, or rotate (current → retired, next → current, new next).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
        #[arg(long, global = true)]
        database: Option<String>,
    },
    /// Check the store's integrity (after a crash, a restore); exits 1 when a problem is found.
    CheckStore {
        #[arg(long)]
        database: Option<String>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
    /// Clients: add, list, show, update, remove, rotate-secret.
    Client {
        #[command(subcommand)]
        action: manage::ClientAction,
        #[arg(long, global = true)]
        database: Option<String>,
    },
    /// Users: add, list, show, set-password, disable, enable, grant-admin, revoke-admin, remove.
    User {
        #[command(subcommand)]
        action: manage::UserAction,
        #[arg(long, global = true)]
        database: Option<String>,
    },
    /// Scopes: add, list, update, remove.
    Scope {
        #[command(subcommand)]
        action: manage::ScopeAction,
        #[arg(long, global = true)]
        database: Option<String>,
    },
    /// Identity providers users may sign in with: list, put, remove.
    Upstream {
        #[command(subcommand)]
        action: upstream_cli::UpstreamAction,
        #[arg(long, global = true)]
        database: Option<String>,
    },
    /// Resource servers (RFC 8707): add, list, update, remove.
    Resource {
        #[command(subcommand)]
        action: resource_cli::ResourceAction,
        #[arg(long, global = true)]
        database: Option<String>,
    },
    /// Write the store's clients, users, scopes and resources in the config format (hashes, never secrets).
    Export {
        /// The file to write (TOML, or JSON when it ends in .json); stdout when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply a config-format file's clients, users and scopes to the store.
    Import {
        file: PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
    /// Print a shell completion script: `gatehouse completions bash > /etc/bash_completion.d/gatehouse`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// The store named by the configuration (and `--database`), migrated, with the configuration's
/// sealing key (for the clients whose secret must stay usable).
async fn open_store(
    config: Option<&std::path::Path>,
    database: Option<String>,
) -> anyhow::Result<Option<(gatehouse_store::SqlStore, Sealer)>> {
    let overrides = Overrides { database, ..Default::default() };
    let Some(cfg) = load(config, &overrides) else { return Ok(None) };
    let store = gatehouse_store::SqlStore::connect(&cfg.database).await.context("opening the database")?;
    Ok(Some((store, Sealer::new(cfg.sealing_key.as_ref()))))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let otel = init_tracing(cli.log_format);
    // Blocking threads (argon2, key generation) end one second after their last job instead of
    // ten: each keeps a stack and its allocator heap while it lives.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_keep_alive(std::time::Duration::from_secs(1))
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gatehouse: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    };
    // The spans still queued go out before the process ends.
    if let Some(provider) = otel
        && let Err(e) = provider.shutdown()
    {
        eprintln!("gatehouse: could not flush the OpenTelemetry spans: {e}");
    }
    code
}

/// Logs to stderr (text or JSON lines) and, when an OTLP endpoint is configured, spans to it.
/// Returns the span exporter's provider, to flush at exit.
fn init_tracing(format: LogFormat) -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        // Colours for a terminal only: not in files, journald or `docker logs`.
        LogFormat::Text => fmt.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    let (provider, problem) = match otlp_provider() {
        Ok(p) => (p, None),
        Err(e) => (None, Some(e)),
    };
    let otel = provider.as_ref().map(|p| {
        use opentelemetry::trace::TracerProvider as _;
        tracing_opentelemetry::layer().with_tracer(p.tracer("gatehouse"))
    });
    tracing_subscriber::registry().with(fmt).with(otel).with(filter).init();
    if let Some(e) = problem {
        tracing::warn!(error = %e, "OpenTelemetry export is configured but could not start; spans are not exported");
    }
    provider
}

/// OpenTelemetry (OTLP/HTTP, protobuf), configured the way every OpenTelemetry SDK is: by the
/// standard environment variables. Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; `OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME` (default `gatehouse`),
/// `OTEL_RESOURCE_ATTRIBUTES` and the batch settings `OTEL_BSP_*` apply as usual.
fn otlp_provider() -> anyhow::Result<Option<opentelemetry_sdk::trace::SdkTracerProvider>> {
    let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    if !configured {
        return Ok(None);
    }
    gatehouse_core::backchannel::install_tls_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
    let mut resource = opentelemetry_sdk::Resource::builder()
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("gatehouse");
    }
    Ok(Some(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    ))
}

/// Loads and validates, printing every problem; `None` when invalid.
fn load(file: Option<&std::path::Path>, overrides: &Overrides) -> Option<ValidConfig> {
    let result = Config::load(file, overrides).and_then(|c| c.validate());
    match result {
        Ok(v) => {
            for w in &v.warnings {
                tracing::warn!("{w}");
            }
            Some(v)
        }
        Err(e) => {
            eprint!("{e}");
            None
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { listen, issuer, database } => {
            let overrides = Overrides { issuer, listen, database };
            let Some(cfg) = load(cli.config.as_deref(), &overrides) else { return Ok(ExitCode::FAILURE) };
            serve(cfg).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { file } => {
            let file = file.or(cli.config);
            let Some(file) = file else {
                anyhow::bail!("check-config needs a file: gatehouse check-config FILE");
            };
            let Some(cfg) = load(Some(&file), &Overrides::default()) else { return Ok(ExitCode::FAILURE) };
            println!(
                "{}: ok ({}, {}, {})",
                file.display(),
                manage::count(cfg.clients.len(), "client"),
                manage::count(cfg.users.len(), "user"),
                manage::count(cfg.scopes.iter().filter(|s| !s.builtin).count(), "custom scope")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::ConfigReference => {
            print!("{}", config_reference::render());
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys { action, database } => {
            let Some((store, _)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            keys(&store, action).await
        }
        Command::CheckStore { database } => {
            let Some((store, _)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            let problems = gatehouse_store::Store::integrity_problems(&store).await?;
            if problems.is_empty() {
                println!("store ok");
                return Ok(ExitCode::SUCCESS);
            }
            for p in &problems {
                eprintln!("gatehouse: {p}");
            }
            Ok(ExitCode::FAILURE)
        }
        Command::Client { action, database } => {
            let Some((store, sealer)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            manage::client(&store, &sealer, action).await
        }
        Command::User { action, database } => {
            let Some((store, sealer)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            manage::user(&store, &sealer, action).await
        }
        Command::Scope { action, database } => {
            let Some((store, sealer)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            manage::scope(&store, &sealer, action).await
        }
        Command::Upstream { action, database } => {
            let overrides = Overrides { database, ..Default::default() };
            let Some(cfg) = load(cli.config.as_deref(), &overrides) else { return Ok(ExitCode::FAILURE) };
            let store = gatehouse_store::SqlStore::connect(&cfg.database).await.context("opening the database")?;
            let sealer = Sealer::new(cfg.sealing_key.as_ref());
            upstream_cli::upstream(&store, &sealer, &cfg.upstreams, action).await
        }
        Command::Resource { action, database } => {
            let Some((store, sealer)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            resource_cli::resource(&store, &sealer, action).await
        }
        Command::Export { output, database } => {
            let Some((store, _)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            manage::export(&store, output).await
        }
        Command::Import { file, database } => {
            let Some((store, sealer)) = open_store(cli.config.as_deref(), database).await? else {
                return Ok(ExitCode::FAILURE);
            };
            manage::import(&store, &sealer, file).await
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "gatehouse", &mut script);
            // A closed pipe (`| head`) is the reader's choice, not an error.
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Command::Migrate { database } => {
            let overrides = Overrides { database, ..Default::default() };
            let Some(cfg) = load(cli.config.as_deref(), &overrides) else { return Ok(ExitCode::FAILURE) };
            gatehouse_store::SqlStore::connect(&cfg.database).await.context("migrating the database")?;
            println!("database schema is up to date");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn keys(store: &gatehouse_store::SqlStore, action: KeysAction) -> anyhow::Result<ExitCode> {
    use gatehouse_protocol::clock::{Clock, SystemClock};
    use gatehouse_protocol::jose::SigningAlg;
    use gatehouse_store::KeyStore;
    match action {
        KeysAction::List { json } => {
            let keys = store.list_keys().await?;
            if json {
                for k in &keys {
                    let line = serde_json::json!({
                        "kid": k.kid, "alg": k.alg.as_str(), "state": k.state.as_str(),
                        "created_at": k.created_at, "activated_at": k.activated_at, "retired_at": k.retired_at,
                    });
                    println!("{line}");
                }
            } else {
                println!(
                    "{:<44} {:<6} {:<8} {:<20} {:<20} {:<20}",
                    "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"
                );
                for k in &keys {
                    let t = |x: Option<i64>| x.map_or_else(|| "-".to_owned(), gatehouse_protocol::clock::utc);
                    println!(
                        "{:<44} {:<6} {:<8} {:<20} {:<20} {:<20}",
                        k.kid,
                        k.alg.as_str(),
                        k.state.as_str(),
                        gatehouse_protocol::clock::utc(k.created_at),
                        t(k.activated_at),
                        t(k.retired_at)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysAction::Rotate { algs } => {
            let mut parsed = Vec::new();
            for a in &algs {
                match SigningAlg::parse(a) {
                    Some(alg) => parsed.push(alg),
                    None => anyhow::bail!("unknown algorithm {a:?}; supported: {}", SigningAlg::names()),
                }
            }
            if parsed.is_empty() {
                parsed = SigningAlg::ALL.to_vec();
            }
            let admin = gatehouse_core::admin::Admin {
                store,
                sealer: &Sealer::default(),
                actor: format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into())),
                now: SystemClock.now(),
            };
            if let Err(e) = admin.rotate_keys(&parsed).await {
                return Ok(manage::refused(&e));
            }
            println!("rotated: {}", parsed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", "));
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(cfg: ValidConfig) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The port first: a taken port must fail before the data directory, the keys or the
    // one-time bootstrap secret exist (that secret would otherwise be shown to nobody).
    let listener = listen(cfg.listen).await?;
    if let Some(warning) = issuer_mismatch(&cfg.issuer, cfg.listen) {
        tracing::warn!("{warning}");
    }
    let services = gatehouse_core::build(&cfg).await.context("starting Gatehouse")?;
    release_freed_memory();
    let now = gatehouse_protocol::clock::Clock::now(&gatehouse_protocol::clock::SystemClock);
    if let Some((id, secret)) = gatehouse_core::admin::bootstrap(services.store.as_ref(), now)
        .await
        .context("creating the bootstrap admin client")?
    {
        let text = format!(
            "\n  No client could administer Gatehouse, so one was created. Its secret is shown once:\n\n    \
             client_id:     {id}\n    client_secret: {}\n\n  Get an admin token with:\n    \
             curl -u '{id}:<secret>' -d grant_type=client_credentials -d scope=gatehouse:admin {}/token\n",
            secret.expose(),
            cfg.issuer
        );
        deliver_bootstrap_secret(&cfg.database, &text);
    }
    // Before the first connection is accepted: a SIGTERM that arrives once a request has been
    // answered must find the handler in place (registered on first poll, it could be missing,
    // and the default action kills the process).
    let shutdown = shutdown_signal();
    tracing::info!(
        issuer = %cfg.issuer,
        listen = %cfg.listen,
        store = %gatehouse_store::sql::redact_url(&cfg.database),
        startup_ms = started.elapsed().as_millis() as u64,
        "Gatehouse is ready"
    );
    // Sized after raising the open-file limit: beyond it, accepting fails and nobody is served.
    let open_files = gatehouse_server::serve::raise_open_file_limit();
    let (limits, lowered) = cfg.limits.fitted_to(open_files);
    if let Some(why) = lowered {
        tracing::warn!("{why}");
    }
    tracing::info!(max_connections = limits.max_connections, open_files, "connection limit");
    let app = gatehouse_server::app(gatehouse_server::AppState::new(services, &cfg));
    gatehouse_server::serve_with(listener, app, limits, shutdown).await?;
    tracing::info!("Gatehouse stopped");
    Ok(())
}

/// Binds the listening socket, saying what to do when the port is taken.
async fn listen(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
            "cannot listen on {addr}: the port is already in use (another Gatehouse?); choose another with \
             --listen 127.0.0.1:PORT (or `listen` in the config file, or GATEHOUSE_LISTEN), and set the issuer to match"
        ),
        Err(e) => Err(e).with_context(|| format!("cannot listen on {addr}")),
    }
}

/// A warning when the issuer is a loopback URL on another port than the one listened on: every
/// client would be sent to an address where nothing answers (e.g. `--listen` changed, the
/// config's issuer not).
fn issuer_mismatch(issuer: &str, listen: std::net::SocketAddr) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let port = url.port_or_known_default()?;
    (loopback && listen.port() != 0 && port != listen.port()).then(|| {
        format!(
            "the issuer {issuer} is on port {port} of this machine, but Gatehouse listens on {listen}: clients will be \
             sent where nothing answers; set --issuer http://{listen} (or `issuer` in the config file) as well"
        )
    })
}

/// Where the bootstrap secret goes when no one is watching: beside the SQLite database, else
/// in the working directory (the systemd unit's state directory).
const BOOTSTRAP_SECRET_FILE: &str = "bootstrap-admin-secret.txt";

/// Hands the bootstrap admin client's secret to the operator without putting it in a log: to
/// the terminal when stderr is one; otherwise (a service manager, a container, a redirect to a
/// file, all of which end up in logs) into a file only its owner can read, whose path is logged.
fn deliver_bootstrap_secret(database: &str, text: &str) {
    use std::io::{IsTerminal, Write};
    use std::os::unix::fs::OpenOptionsExt;
    if std::io::stderr().is_terminal() {
        eprintln!("{text}");
        return;
    }
    let dir = database
        .strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .and_then(|path| std::path::Path::new(path).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| std::path::PathBuf::from("."), std::path::Path::to_path_buf);
    let path = dir.join(BOOTSTRAP_SECRET_FILE);
    // A stale file from an earlier bootstrap is replaced, never reused with its old mode.
    let _ = std::fs::remove_file(&path);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    match written {
        Ok(()) => tracing::warn!(
            path = %path.display(),
            "no client could administer Gatehouse, so one (gatehouse-admin) was created; its secret is in this file \
             (mode 0600), not in the log: read it, then delete the file"
        ),
        Err(e) => tracing::error!(
            path = %path.display(),
            error = %e,
            "no client could administer Gatehouse, so one (gatehouse-admin) was created, but its secret could not be \
             written; give it a new one from a terminal with: gatehouse client rotate-secret gatehouse-admin"
        ),
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (interrupt, terminate) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()));
    if let Err(e) = interrupt.as_ref().and(terminate.as_ref()) {
        tracing::warn!(error = %e, "cannot handle SIGINT/SIGTERM; stopping will not be graceful");
    }
    let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
        match s {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let (ctrl_c, term) = (wait(interrupt), wait(terminate));
    async move {
        tokio::select! {
            () = ctrl_c => tracing::info!("SIGINT received, finishing in-flight requests"),
            () = term => tracing::info!("SIGTERM received, finishing in-flight requests"),
        }
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = std::future::pending::<()>();
    async move {
        tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, finishing in-flight requests"),
        () = term => tracing::info!("SIGTERM received, finishing in-flight requests"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::issuer_mismatch;

    #[test]
    fn a_loopback_issuer_on_another_port_than_the_listener_is_warned_about() {
        let listen = "127.0.0.1:18888".parse().unwrap();
        assert!(issuer_mismatch("http://127.0.0.1:8080", listen).unwrap().contains("--issuer http://127.0.0.1:18888"));
        assert!(issuer_mismatch("http://localhost:8080", listen).is_some());
        assert!(issuer_mismatch("http://[::1]:8080", listen).is_some());
        assert!(issuer_mismatch("http://127.0.0.1:18888", listen).is_none());
        // Behind a proxy or on a real name, the issuer's port is not the listener's business.
        assert!(issuer_mismatch("https://id.example.com", listen).is_none());
        assert!(issuer_mismatch("http://127.0.0.1:8080", "127.0.0.1:0".parse().unwrap()).is_none());
    }
}
