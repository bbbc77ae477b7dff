//! `gatehouse`: the command line. Parses flags, loads and validates the configuration, opens
//! the store and serves (STYLE.md rule 11: a thin binary over an injectable server).

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse_server::config::{Config, Overrides, ValidConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "gatehouse", version, about = "OpenID Connect provider and OAuth 2.0 authorization server")]
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
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gatehouse: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
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
                "{}: ok ({} clients, {} users, {} custom scopes)",
                file.display(),
                cfg.clients.len(),
                cfg.users.len(),
                cfg.scopes.iter().filter(|s| !s.builtin).count()
            );
            Ok(ExitCode::SUCCESS)
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

async fn serve(cfg: ValidConfig) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let state = gatehouse_server::build(&cfg).await.context("starting Gatehouse")?;
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    tracing::info!(
        issuer = %cfg.issuer,
        listen = %cfg.listen,
        store = %gatehouse_store::sql::redact_url(&cfg.database),
        startup_ms = started.elapsed().as_millis() as u64,
        "Gatehouse is ready"
    );
    gatehouse_server::serve(listener, gatehouse_server::app(state), shutdown_signal()).await?;
    tracing::info!("Gatehouse stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, finishing in-flight requests"),
        () = term => tracing::info!("SIGTERM received, finishing in-flight requests"),
    }
}
