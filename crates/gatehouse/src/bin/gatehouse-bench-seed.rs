//! `gatehouse-bench-seed`: authorization codes for the code-exchange benchmark (bench/run). A
//! binary of its own: nothing of it is in `gatehouse`, and the container image ships `gatehouse` only.
//!
//! Each code is written exactly as `/authorize` writes one after a sign-in (the same
//! [`CodeGrant`] document, hash and `insert_code`), so redeeming it at `/token` does all the
//! work a real exchange does. Only the browser round trips before it are skipped. The codes are
//! printed one per line.

use anyhow::Context;
use gatehouse_core::config::{Config, Overrides};
use gatehouse_core::issuer::{Lifetimes, SystemRng, hash_token};
use gatehouse_protocol::ClientId;
use gatehouse_protocol::clock::{Clock, SystemClock};
use gatehouse_protocol::rand::token;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::authorization_code::CodeGrant;
use gatehouse_store::{ClientStore, CodeStore, SqlStore, UserStore};
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Parser)]
#[command(about = "Write authorization codes as /authorize does and print them, one per line")]
struct SeedCodes {
    /// The configuration file Gatehouse runs with.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// The database, overriding the configuration's.
    #[arg(long)]
    database: Option<String>,
    #[arg(long)]
    client: String,
    #[arg(long)]
    username: String,
    #[arg(long)]
    scope: String,
    #[arg(long)]
    redirect_uri: String,
    #[arg(long, default_value_t = 1000)]
    count: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<ExitCode> {
    let a = <SeedCodes as clap::Parser>::parse();
    let overrides = Overrides { database: a.database.clone(), ..Default::default() };
    let cfg = Config::load(a.config.as_deref(), &overrides)?.validate()?;
    let store = SqlStore::connect(&cfg.database).await.context("opening the database")?;
    let id = ClientId::parse(&a.client).map_err(|e| anyhow::anyhow!("--client: {e}"))?;
    let client = store.get_client(&id).await?.context("no such client")?;
    let user = store.get_user_by_username(&a.username).await?.context("no such user")?;
    let scope = ScopeSet::parse(&a.scope).map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
    if !client.redirect_uris.iter().any(|u| u.as_str() == a.redirect_uri) {
        anyhow::bail!("{} is not a redirect URI of {}", a.redirect_uri, a.client);
    }
    let now = SystemClock.now();
    let expires_at = now + Lifetimes::default().for_client(&client).code;
    let sid = token(&SystemRng, 16);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for _ in 0..a.count {
        let code = token(&SystemRng, 32);
        let grant = CodeGrant {
            grant_id: token(&SystemRng, 16),
            client_id: client.id.to_string(),
            sub: user.sub.clone(),
            redirect_uri: a.redirect_uri.clone(),
            scope: scope.clone(),
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: now,
            sid: sid.clone(),
            amr: vec!["pwd".to_owned()],
            expires_at,
            resources: Vec::new(),
            dpop_jkt: None,
            claims: None,
            acr: None,
        };
        store.insert_code(&hash_token(&code), &grant).await?;
        writeln!(out, "{code}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
