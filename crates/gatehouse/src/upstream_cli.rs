//! `gatehouse upstream`: the identity providers users may sign in with, from the command line,
//! through the same operations as the admin API (`gatehouse_core::upstreams`). The
//! configuration file's providers are listed and changed only in the file.

use crate::manage::{Exit, Output, print_json, refused, table};
use clap::Subcommand;
use gatehouse_core::admin::AdminError;
use gatehouse_core::config::UpstreamSpec;
use gatehouse_core::sealing::Sealer;
use gatehouse_core::upstreams::{self, PutError};
use gatehouse_protocol::clock::{Clock, SystemClock};
use gatehouse_protocol::upstream::Upstream;
use gatehouse_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UpstreamAction {
    /// List the providers: the configuration file's and those added here or by the admin API.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Add or replace a provider from a file with one `[[upstreams]]` entry's keys (TOML, or
    /// JSON when its name ends in .json). A client secret needs `[secrets] sealing_key`.
    Put { file: PathBuf },
    /// Remove a provider added here or by the admin API.
    Remove { id: String },
}

fn failed(e: PutError) -> ExitCode {
    match e {
        PutError::Configured => refused(&AdminError::Conflict(
            "that provider is defined in the configuration file; change it there".to_owned(),
        )),
        PutError::Invalid(fields) => refused(&AdminError::Invalid(fields)),
        PutError::Store(e) => refused(&AdminError::Store(e)),
    }
}

pub async fn upstream(
    store: &dyn Store,
    sealer: &Sealer,
    configured: &[Upstream],
    action: UpstreamAction,
) -> anyhow::Result<ExitCode> {
    let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned()));
    let now = SystemClock.now();
    match action {
        UpstreamAction::List { out } => {
            let mut views: Vec<_> = configured.iter().map(|p| upstreams::view(p, configured)).collect();
            for (id, opened) in upstreams::stored(store, sealer).await? {
                match opened {
                    Ok(p) if !configured.iter().any(|c| c.id == id) => views.push(upstreams::view(&p, configured)),
                    Ok(_) => {}
                    Err(e) => eprintln!("gatehouse: the stored provider {id} cannot be used: {e}"),
                }
            }
            if out.json {
                print_json(&views)?;
            } else {
                let rows: Vec<Vec<String>> = views
                    .iter()
                    .map(|v| {
                        vec![
                            v.id.clone(),
                            v.kind.to_owned(),
                            v.label.clone(),
                            v.issuer.clone().unwrap_or_else(|| "-".to_owned()),
                            v.client_id.clone(),
                            v.source.to_owned(),
                        ]
                    })
                    .collect();
                table(&["ID", "KIND", "LABEL", "ISSUER", "CLIENT ID", "SOURCE"], &rows);
            }
        }
        UpstreamAction::Put { file } => {
            let text = std::fs::read_to_string(&file)?;
            let spec: UpstreamSpec = if file.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text)?
            } else {
                toml::from_str(&text)?
            };
            let id = spec.id.clone();
            match upstreams::put(store, sealer, configured, &actor, spec, now).await {
                Ok(true) => println!("added provider {id}"),
                Ok(false) => println!("replaced provider {id}"),
                Err(e) => return Ok(failed(e)),
            }
        }
        UpstreamAction::Remove { id } => match upstreams::delete(store, configured, &actor, &id, now).await {
            Ok(true) => println!("removed provider {id}"),
            Ok(false) => {
                eprintln!("gatehouse: no stored provider {id}");
                return Ok(Exit::NotFound.into());
            }
            Err(e) => return Ok(failed(e)),
        },
    }
    Ok(Exit::Ok.into())
}
