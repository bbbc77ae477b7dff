//! `gatehouse client|user|scope|export|import`: the admin API's operations on the local store,
//! for operators with a shell on the machine. Same validation, same audit log (actor
//! `cli:<login>`). Human tables by default, `--json` for scripts; exit codes in [`Exit`].

use anyhow::Context;
use clap::{Args, Subcommand};
use gatehouse_core::admin::{Admin, AdminError, UserUpdate};
use gatehouse_core::config::{Config, Overrides};
use gatehouse_core::sealing::Sealer;
use gatehouse_protocol::claims::ScopeSpec;
use gatehouse_protocol::client::ClientSpec;
use gatehouse_protocol::clock::{Clock, SystemClock};
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::UserSpec;
use gatehouse_server::admin::{ClientView, ScopeView, UserView};
use gatehouse_store::{Page, Store};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes scripts can rely on.
pub enum Exit {
    /// 0: done.
    Ok = 0,
    /// 1: the store or the system failed.
    Failed = 1,
    /// 2: invalid input (also clap's code for bad flags).
    Invalid = 2,
    /// 3: no such client, user or scope.
    NotFound = 3,
    /// 4: conflicts with what is stored (id taken, scope in use).
    Conflict = 4,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

#[derive(Args)]
pub struct Output {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Default)]
pub struct ClientFields {
    /// Human-readable name.
    #[arg(long)]
    name: Option<String>,
    /// Space-separated scopes the client may ask for.
    #[arg(long)]
    scope: Option<String>,
    /// A grant the client may use; repeat for several.
    #[arg(long = "grant")]
    grants: Vec<String>,
    /// A redirect URI (exact match); repeat for several.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Where to return after logout; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// client_secret_basic (default), client_secret_post, or none (a public client).
    #[arg(long)]
    token_endpoint_auth_method: Option<String>,
    /// Skip the consent page.
    #[arg(long)]
    first_party: Option<bool>,
}

#[derive(Subcommand)]
pub enum ClientAction {
    /// Create a client; a confidential one gets a generated secret, printed once.
    Add {
        client_id: String,
        /// A public client (no secret; PKCE required): `--token-endpoint-auth-method none`.
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        fields: ClientFields,
        #[command(flatten)]
        out: Output,
    },
    /// List clients.
    List {
        /// Only clients whose settings contain this text.
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Show one client.
    Show {
        client_id: String,
        #[command(flatten)]
        out: Output,
    },
    /// Change a client: each flag given replaces that setting.
    Update {
        client_id: String,
        #[command(flatten)]
        fields: ClientFields,
        #[command(flatten)]
        out: Output,
    },
    /// Delete a client.
    Remove { client_id: String },
    /// Give a confidential client a new generated secret, printed once.
    RotateSecret {
        client_id: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user. The password is asked for without echo, or read from stdin with
    /// --password-stdin.
    Add {
        username: String,
        /// A claim as NAME=VALUE (VALUE is JSON when it parses as JSON); repeat for several.
        #[arg(long = "claim")]
        claims: Vec<String>,
        /// The subject identifier; generated when absent.
        #[arg(long)]
        sub: Option<String>,
        /// Make the user an administrator (may sign in to the admin console).
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        out: Output,
    },
    /// List users.
    List {
        /// Only users whose username or claims contain this text.
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Show one user.
    Show {
        username: String,
        #[command(flatten)]
        out: Output,
    },
    /// Set a user's password (asked for without echo, or from stdin with --password-stdin).
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: no sign-in, and their sessions end.
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
    /// Make a user an administrator: they may sign in to the admin console.
    GrantAdmin { username: String },
    /// Take administration from a user.
    RevokeAdmin { username: String },
    /// Delete a user with their sessions and consents.
    Remove { username: String },
    /// List a user's second factors (never their secrets) and unused recovery codes.
    Factors {
        username: String,
        #[command(flatten)]
        out: Output,
    },
    /// Remove all of a user's second factors and recovery codes (a lost authenticator). Where a
    /// second factor is required, they enrol a new one at their next sign-in.
    ResetFactors { username: String },
    /// List the upstream identities (`[[upstreams]]`) linked to a user.
    Links {
        username: String,
        #[command(flatten)]
        out: Output,
    },
    /// Remove one of a user's upstream identities (as `links` shows it: provider and subject).
    Unlink { username: String, provider: String, subject: String },
}

#[derive(Subcommand)]
pub enum ScopeAction {
    /// Define a scope that releases claims.
    Add {
        name: String,
        #[command(flatten)]
        fields: ScopeFields,
    },
    /// List every scope.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Replace an operator-defined scope.
    Update {
        name: String,
        #[command(flatten)]
        fields: ScopeFields,
    },
    /// Delete an operator-defined scope no client uses.
    Remove { name: String },
}

#[derive(Args)]
pub struct ScopeFields {
    /// A claim the scope releases; repeat for several.
    #[arg(long = "claim")]
    claims: Vec<String>,
    /// The consent page's words for it.
    #[arg(long)]
    description: Option<String>,
    /// id_token, access_token or userinfo; repeat for several (all three by default).
    #[arg(long = "include-in")]
    include_in: Vec<String>,
}

impl ScopeFields {
    fn spec(self, name: String) -> ScopeSpec {
        ScopeSpec {
            name,
            claims: self.claims,
            description: self.description,
            include_in: (!self.include_in.is_empty()).then_some(self.include_in),
        }
    }
}

pub fn admin<'a>(store: &'a dyn Store, sealer: &'a Sealer) -> Admin<'a> {
    let who = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    Admin { store, sealer, actor: format!("cli:{who}"), now: SystemClock.now() }
}

/// Prints an operation's refusal and picks its exit code.
pub fn refused(e: &AdminError) -> ExitCode {
    match e {
        AdminError::Invalid(fields) => {
            eprintln!("gatehouse: invalid input:");
            for f in fields {
                eprintln!("  - {f}");
            }
            Exit::Invalid.into()
        }
        AdminError::NotFound(what) => {
            eprintln!("gatehouse: no such {what}");
            Exit::NotFound.into()
        }
        AdminError::Conflict(m) => {
            eprintln!("gatehouse: {m}");
            Exit::Conflict.into()
        }
        e => {
            eprintln!("gatehouse: {e}");
            Exit::Failed.into()
        }
    }
}

/// Every entry of a keyed list, fetched a page at a time (`key` gives the cursor).
async fn every_page<T, F, Fut>(
    search: Option<String>,
    key: impl Fn(&T) -> String,
    fetch: F,
) -> gatehouse_store::Result<Vec<T>>
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = gatehouse_store::Result<Vec<T>>>,
{
    let mut all = Vec::new();
    let mut page = Page { search, after: None, limit: 500 };
    loop {
        let batch = fetch(page.clone()).await?;
        let full = batch.len() as i64 >= page.limit;
        page.after = batch.last().map(&key);
        all.extend(batch);
        if !full {
            return Ok(all);
        }
    }
}

pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let s: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", s.join("  ").trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for r in rows {
        line(r.clone());
    }
}

fn show_client(v: &ClientView, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(v);
    }
    let c = &v.client;
    println!("client_id:      {}", c.id);
    if let Some(n) = &c.name {
        println!("name:           {n}");
    }
    println!("type:           {}", if v.public { "public" } else { "confidential" });
    println!("auth method:    {}", c.token_endpoint_auth_method.as_str());
    println!("scope:          {}", c.scopes);
    println!("grants:         {}", c.grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "));
    for u in &c.redirect_uris {
        println!("redirect_uri:   {}", u.as_str());
    }
    if let Some(s) = &v.client_secret {
        println!("client_secret:  {s}");
        println!("\n(the secret is shown this once; store it now)");
    }
    Ok(())
}

/// Builds the spec from flags, starting from `base` (the stored client, for updates).
fn client_spec(client_id: String, base: Option<ClientSpec>, f: ClientFields) -> ClientSpec {
    let mut s = base.unwrap_or_else(|| ClientSpec { client_id, ..Default::default() });
    if f.name.is_some() {
        s.client_name = f.name;
    }
    if f.scope.is_some() {
        s.scope = f.scope;
    }
    if !f.grants.is_empty() {
        s.grants = Some(f.grants);
    }
    if !f.redirect_uris.is_empty() {
        s.redirect_uris = f.redirect_uris;
    }
    if !f.post_logout_redirect_uris.is_empty() {
        s.post_logout_redirect_uris = f.post_logout_redirect_uris;
    }
    if let Some(m) = f.token_endpoint_auth_method {
        if m == "none" {
            s.client_secret_hash = None;
        }
        s.token_endpoint_auth_method = Some(m);
    }
    if let Some(fp) = f.first_party {
        s.first_party = fp;
    }
    s
}

pub async fn client(store: &dyn Store, sealer: &Sealer, action: ClientAction) -> anyhow::Result<ExitCode> {
    let a = admin(store, sealer);
    match action {
        ClientAction::Add { client_id, public, mut fields, out } => {
            if public {
                fields.token_endpoint_auth_method = Some("none".into());
            }
            if fields.scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
                eprintln!(
                    "note: no --scope given, so {client_id:?} may ask for no scope at all (not even openid); \
                     give one with `gatehouse client update {client_id} --scope \"openid profile\"`"
                );
            }
            match a.create_client(&client_spec(client_id, None, fields)).await {
                Ok(w) => show_client(&ClientView::new(w.client, w.generated_secret.as_ref()), &out)?,
                Err(e) => return Ok(refused(&e)),
            }
        }
        ClientAction::List { search, out } => {
            let clients = every_page(
                search,
                |c: &gatehouse_protocol::Client| c.id.to_string(),
                |p| async move { store.list_clients_page(&p).await },
            )
            .await?;
            let all: Vec<ClientView> = clients.into_iter().map(|c| ClientView::new(c, None)).collect();
            if out.json {
                print_json(&all)?;
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|v| {
                        vec![
                            v.client.id.to_string(),
                            if v.public { "public" } else { "confidential" }.to_owned(),
                            v.client.grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(","),
                            v.client.scopes.to_string(),
                        ]
                    })
                    .collect();
                table(&["CLIENT_ID", "TYPE", "GRANTS", "SCOPE"], &rows);
            }
        }
        ClientAction::Show { client_id, out } => match a.get_client(&client_id).await {
            Ok(c) => show_client(&ClientView::new(c, None), &out)?,
            Err(e) => return Ok(refused(&e)),
        },
        ClientAction::Update { client_id, fields, out } => {
            let current = match a.get_client(&client_id).await {
                Ok(c) => c,
                Err(e) => return Ok(refused(&e)),
            };
            let spec = client_spec(client_id.clone(), Some(current.to_spec()), fields);
            match a.update_client(&client_id, &spec).await {
                Ok(w) => show_client(&ClientView::new(w.client, w.generated_secret.as_ref()), &out)?,
                Err(e) => return Ok(refused(&e)),
            }
        }
        ClientAction::Remove { client_id } => match a.delete_client(&client_id).await {
            Ok(()) => println!("removed client {client_id}"),
            Err(e) => return Ok(refused(&e)),
        },
        ClientAction::RotateSecret { client_id, out } => match a.rotate_client_secret(&client_id).await {
            Ok((c, s)) => show_client(&ClientView::new(c, Some(&s)), &out)?,
            Err(e) => return Ok(refused(&e)),
        },
    }
    Ok(Exit::Ok.into())
}

/// "1 client", "2 clients".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// A password from stdin (one line), or asked for twice on the terminal without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<Secret> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading the password from stdin")?;
        let password = s.trim_end_matches(['\r', '\n']);
        if password.is_empty() && !from_stdin {
            anyhow::bail!(
                "no password: stdin is not a terminal, so it cannot be asked for; pipe it in with --password-stdin \
                 (printf '%s' \"$PASSWORD\" | gatehouse user add NAME --password-stdin)"
            );
        }
        return Ok(Secret::new(password));
    }
    let p = rpassword::prompt_password("Password: ").context("reading the password")?;
    let again = rpassword::prompt_password("Password again: ").context("reading the password")?;
    if p != again {
        anyhow::bail!("the passwords differ");
    }
    Ok(Secret::new(p))
}

fn parse_claims(raw: &[String]) -> Result<Map<String, Value>, AdminError> {
    let mut claims = Map::new();
    for c in raw {
        let Some((k, v)) = c.split_once('=') else {
            return Err(AdminError::Invalid(vec![gatehouse_protocol::client::FieldError::new(
                "claims",
                format!("{c:?} is not NAME=VALUE"),
            )]));
        };
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
        claims.insert(k.to_owned(), value);
    }
    Ok(claims)
}

fn show_user(u: &UserView, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(u);
    }
    println!("username:  {}", u.username);
    println!("sub:       {}", u.sub);
    println!("disabled:  {}", u.disabled);
    println!("admin:     {}", u.admin);
    for (k, v) in &u.claims {
        println!("claim:     {k} = {v}");
    }
    Ok(())
}

pub async fn user(store: &dyn Store, sealer: &Sealer, action: UserAction) -> anyhow::Result<ExitCode> {
    let a = admin(store, sealer);
    let by_name = |name: String| {
        let a = &a;
        async move { a.get_user_by_username(&name).await }
    };
    match action {
        UserAction::Add { username, claims, sub, admin, password_stdin, out } => {
            let claims = match parse_claims(&claims) {
                Ok(c) => c,
                Err(e) => return Ok(refused(&e)),
            };
            let password = read_password(password_stdin)?;
            let spec = UserSpec { username, sub, password: Some(password), claims, admin, ..Default::default() };
            match a.create_user(&spec).await {
                Ok(u) => show_user(&UserView::from(u), &out)?,
                Err(e) => return Ok(refused(&e)),
            }
        }
        UserAction::List { search, out } => {
            let users = every_page(
                search,
                |u: &gatehouse_protocol::user::User| u.username.clone(),
                |p| async move { store.list_users_page(&p, None).await },
            )
            .await?;
            let all: Vec<UserView> = users.into_iter().map(UserView::from).collect();
            if out.json {
                print_json(&all)?;
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|u| {
                        let email = u.claims.get("email").and_then(Value::as_str).unwrap_or("-").to_owned();
                        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
                        vec![u.username.clone(), u.sub.clone(), email, yes_no(u.disabled), yes_no(u.admin)]
                    })
                    .collect();
                table(&["USERNAME", "SUB", "EMAIL", "DISABLED", "ADMIN"], &rows);
            }
        }
        UserAction::Show { username, out } => match by_name(username).await {
            Ok(u) => show_user(&UserView::from(u), &out)?,
            Err(e) => return Ok(refused(&e)),
        },
        UserAction::SetPassword { username, password_stdin } => {
            let u = match by_name(username).await {
                Ok(u) => u,
                Err(e) => return Ok(refused(&e)),
            };
            let password = read_password(password_stdin)?;
            match a.set_password(&u.sub, password).await {
                Ok(()) => println!("password set for {}", u.username),
                Err(e) => return Ok(refused(&e)),
            }
        }
        UserAction::Disable { username } => {
            return set_flag(&a, username, UserUpdate { disabled: Some(true), ..Default::default() }, "disabled").await;
        }
        UserAction::Enable { username } => {
            return set_flag(&a, username, UserUpdate { disabled: Some(false), ..Default::default() }, "enabled").await;
        }
        UserAction::GrantAdmin { username } => {
            let update = UserUpdate { admin: Some(true), ..Default::default() };
            return set_flag(&a, username, update, "made administrator:").await;
        }
        UserAction::RevokeAdmin { username } => {
            let update = UserUpdate { admin: Some(false), ..Default::default() };
            return set_flag(&a, username, update, "no longer administrator:").await;
        }
        UserAction::Remove { username } => {
            let result = match by_name(username.clone()).await {
                Ok(u) => a.delete_user(&u.sub).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(_) => println!("removed user {username}"),
                Err(e) => return Ok(refused(&e)),
            }
        }
        UserAction::Factors { username, out } => {
            let u = match by_name(username).await {
                Ok(u) => u,
                Err(e) => return Ok(refused(&e)),
            };
            let enrolled = gatehouse_core::factors::enrolled(store, &u.sub).await?;
            if out.json {
                print_json(&enrolled)?;
            } else {
                let when = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), gatehouse_protocol::clock::utc);
                let rows: Vec<Vec<String>> = enrolled
                    .factors
                    .iter()
                    .map(|f| {
                        vec![
                            f.id.clone(),
                            f.kind.to_owned(),
                            f.name.clone(),
                            when(Some(f.created_at)),
                            when(f.last_used_at),
                        ]
                    })
                    .collect();
                table(&["ID", "KIND", "NAME", "ADDED", "LAST USED"], &rows);
                println!("recovery codes left: {}", enrolled.recovery_codes_left);
            }
        }
        UserAction::ResetFactors { username } => {
            let u = match by_name(username).await {
                Ok(u) => u,
                Err(e) => return Ok(refused(&e)),
            };
            let n = gatehouse_core::factors::reset(store, &a.actor, &u.sub, a.now).await?;
            println!("removed {n} second factor(s) and the recovery codes of {}", u.username);
        }
        UserAction::Links { username, out } => {
            let u = match by_name(username).await {
                Ok(u) => u,
                Err(e) => return Ok(refused(&e)),
            };
            let links = store.list_links(&u.sub).await?;
            if out.json {
                let links: Vec<serde_json::Value> = links
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "provider": l.provider, "subject": l.subject, "email": l.email,
                            "created_at": l.created_at, "last_used_at": l.last_used_at,
                        })
                    })
                    .collect();
                print_json(&links)?;
            } else {
                let when = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), gatehouse_protocol::clock::utc);
                let rows: Vec<Vec<String>> = links
                    .iter()
                    .map(|l| {
                        vec![
                            l.provider.clone(),
                            l.subject.clone(),
                            l.email.clone().unwrap_or_else(|| "-".to_owned()),
                            when(Some(l.created_at)),
                            when(l.last_used_at),
                        ]
                    })
                    .collect();
                table(&["PROVIDER", "SUBJECT", "EMAIL", "LINKED", "LAST USED"], &rows);
            }
        }
        UserAction::Unlink { username, provider, subject } => {
            let u = match by_name(username).await {
                Ok(u) => u,
                Err(e) => return Ok(refused(&e)),
            };
            if gatehouse_core::upstreams::remove_link(store, &a.actor, &u.sub, &provider, &subject, a.now).await? {
                println!("removed the {provider} identity {subject} of {}", u.username);
            } else {
                eprintln!("{} has no {provider} identity {subject}", u.username);
                return Ok(Exit::NotFound.into());
            }
        }
    }
    Ok(Exit::Ok.into())
}

/// Applies `update` to one user and says `done` of them.
async fn set_flag(a: &Admin<'_>, username: String, update: UserUpdate, done: &str) -> anyhow::Result<ExitCode> {
    let result = match a.get_user_by_username(&username).await {
        Ok(u) => a.update_user(&u.sub, &update).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((_, ended)) => {
            println!(
                "{done} user {username}{}",
                match ended.len() {
                    0 => String::new(),
                    n => format!("; {n} session(s) ended"),
                }
            );
            Ok(Exit::Ok.into())
        }
        Err(e) => Ok(refused(&e)),
    }
}

pub async fn scope(store: &dyn Store, sealer: &Sealer, action: ScopeAction) -> anyhow::Result<ExitCode> {
    let a = admin(store, sealer);
    let result = match action {
        ScopeAction::Add { name, fields } => {
            a.create_scope(&fields.spec(name)).await.map(|d| format!("added scope {}", d.name))
        }
        ScopeAction::Update { name, fields } => {
            a.update_scope(&name, &fields.spec(name.clone())).await.map(|d| format!("updated scope {}", d.name))
        }
        ScopeAction::Remove { name } => a.delete_scope(&name).await.map(|()| format!("removed scope {name}")),
        ScopeAction::List { out } => {
            let views: Vec<ScopeView> = a.scopes().await?.iter().map(ScopeView::from).collect();
            if out.json {
                print_json(&views)?;
            } else {
                let rows: Vec<Vec<String>> = views
                    .iter()
                    .map(|v| {
                        vec![
                            v.name.clone(),
                            if v.builtin { "yes" } else { "no" }.to_owned(),
                            v.claims.join(","),
                            v.include_in.as_ref().map_or_else(|| "all".to_owned(), |i| i.join(",")),
                        ]
                    })
                    .collect();
                table(&["SCOPE", "BUILTIN", "CLAIMS", "INCLUDE_IN"], &rows);
            }
            return Ok(Exit::Ok.into());
        }
    };
    Ok(catalog_changed(result))
}

/// The outcome of a change to the catalog (scopes, resources): running servers see it within
/// `catalog_reload_interval`.
pub fn catalog_changed(result: Result<String, AdminError>) -> ExitCode {
    match result {
        Ok(msg) => {
            println!("{msg} (running servers pick it up within catalog_reload_interval)");
            Exit::Ok.into()
        }
        Err(e) => refused(&e),
    }
}

/// Writes the store's clients, users and scopes in the config format (TOML, or JSON for a
/// `.json` file), with hashes instead of secrets.
pub async fn export(store: &dyn Store, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let doc = match gatehouse_core::admin::export(store).await {
        Ok(d) => d,
        Err(e) => return Ok(refused(&e)),
    };
    let json = output.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")));
    let text = if json {
        serde_json::to_string_pretty(&doc)?
    } else {
        let header = "# Exported by `gatehouse export`: secrets and passwords appear only as hashes.\n";
        format!(
            "{header}{}",
            toml::to_string(&doc).context("rendering TOML (a claim may be null, which TOML cannot hold)")?
        )
    };
    match output {
        Some(p) => {
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            eprintln!(
                "exported {}, {}, {} to {}",
                count(doc.clients.len(), "client"),
                count(doc.users.len(), "user"),
                count(doc.scopes.len(), "scope"),
                p.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(Exit::Ok.into())
}

/// Applies a config-format file's clients, users and scopes to the store, validated exactly as
/// at start (idempotent: existing entries are replaced, nothing else is removed).
pub async fn import(store: &dyn Store, sealer: &Sealer, file: PathBuf) -> anyhow::Result<ExitCode> {
    let cfg = match Config::load(Some(&file), &Overrides::default()).and_then(|c| c.validate()) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{e}");
            return Ok(Exit::Invalid.into());
        }
    };
    let a = admin(store, sealer);
    let report = gatehouse_core::seed::apply(store, &cfg, a.now).await?;
    a.audit(
        "import",
        "store",
        serde_json::json!({ "file": file.display().to_string(), "clients": report.clients, "users": report.users, "scopes": report.scopes, "resources": report.resources }),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "imported {}, {}, {}, {} from {}",
        count(report.clients, "client"),
        count(report.users, "user"),
        count(report.scopes, "scope"),
        count(report.resources, "resource"),
        file.display()
    );
    Ok(Exit::Ok.into())
}
