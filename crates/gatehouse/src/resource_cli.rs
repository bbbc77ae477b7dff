//! `gatehouse resource`: the resource servers (RFC 8707) from the command line, through the
//! same operations as the admin API (`gatehouse_core::resources`).

use crate::manage::{Exit, Output, admin, catalog_changed, print_json, table};
use clap::{Args, Subcommand};
use gatehouse_protocol::resource::ResourceSpec;
use gatehouse_store::Store;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ResourceAction {
    /// Define a resource server (an API tokens can be asked for with `resource`).
    Add {
        /// Its identifier: an absolute URI, such as https://mcp.example.com/mcp.
        identifier: String,
        #[command(flatten)]
        fields: ResourceFields,
    },
    /// List every resource server.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Replace a resource server.
    Update {
        identifier: String,
        #[command(flatten)]
        fields: ResourceFields,
    },
    /// Delete a resource server no client lists.
    Remove { identifier: String },
}

#[derive(Args)]
pub struct ResourceFields {
    /// Shown on the consent page and in the console.
    #[arg(long)]
    name: Option<String>,
    /// A scope that belongs to this resource; repeat for several.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Lifetime in seconds of its access tokens.
    #[arg(long)]
    access_token_ttl: Option<i64>,
    /// How its access tokens are signed (RS256, PS256, ES256, EdDSA).
    #[arg(long)]
    access_token_signing_alg: Option<String>,
    /// Any client may ask for it, not only those that list it.
    #[arg(long)]
    any_client: bool,
}

impl ResourceFields {
    fn spec(self, identifier: String) -> ResourceSpec {
        ResourceSpec {
            identifier,
            name: self.name,
            scopes: self.scopes,
            access_token_ttl: self.access_token_ttl,
            access_token_signing_alg: self.access_token_signing_alg,
            any_client: self.any_client,
        }
    }
}

pub async fn resource(
    store: &dyn Store,
    sealer: &gatehouse_core::sealing::Sealer,
    action: ResourceAction,
) -> anyhow::Result<ExitCode> {
    let a = admin(store, sealer);
    let result = match action {
        ResourceAction::Add { identifier, fields } => {
            a.create_resource(&fields.spec(identifier)).await.map(|d| format!("added resource {}", d.identifier))
        }
        ResourceAction::Update { identifier, fields } => a
            .update_resource(&identifier, &fields.spec(identifier.clone()))
            .await
            .map(|d| format!("updated resource {}", d.identifier)),
        ResourceAction::Remove { identifier } => {
            a.delete_resource(&identifier).await.map(|()| format!("removed resource {identifier}"))
        }
        ResourceAction::List { out } => {
            let specs: Vec<ResourceSpec> = a.resources().await?.iter().map(|r| r.to_spec()).collect();
            if out.json {
                print_json(&specs)?;
            } else {
                let rows: Vec<Vec<String>> = specs
                    .iter()
                    .map(|s| {
                        vec![
                            s.identifier.clone(),
                            s.name.clone().unwrap_or_default(),
                            s.scopes.join(","),
                            s.access_token_ttl.map(|t| t.to_string()).unwrap_or_default(),
                            if s.any_client { "yes" } else { "no" }.to_owned(),
                        ]
                    })
                    .collect();
                table(&["RESOURCE", "NAME", "SCOPES", "TTL", "ANY_CLIENT"], &rows);
            }
            return Ok(Exit::Ok.into());
        }
    };
    Ok(catalog_changed(result))
}
