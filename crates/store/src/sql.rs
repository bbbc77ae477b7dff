//! [`SqlStore`]: the one implementation of the store traits, for SQLite and PostgreSQL.
//!
//! The SQL is written once in the common dialect of both (numbered `$n` parameters, `ON
//! CONFLICT`, `RETURNING`, partial indexes) and runs on the database's one driver ([`crate::db`]:
//! rusqlite for SQLite, sqlx for PostgreSQL). Where the dialects differ (PostgreSQL's writing
//! CTEs and advisory locks) the method says so next to both statements.

use crate::cache::TtlCache;
use crate::changes::{CHANNEL, Change};
use crate::db::{Db, Outcome, PoolOptions, Row, Step, args};
use crate::records::{self, ClientRecord, ResourceRecord, ScopeRecord};
use crate::{
    ClientStore, KeyState, KeyStore, Page, ResourceStore, Result, ScopeStore, Store, StoreError, StoredKey, UserStore,
};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use gatehouse_protocol::claims::ScopeDefinition;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::resource::ResourceDefinition;
use gatehouse_protocol::secret::SecretHash;
use gatehouse_protocol::user::User;
use gatehouse_protocol::{Client, ClientId};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Url(format!("{:?}: expected sqlite://PATH or postgres://USER@HOST/DB", redact_url(url))))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[derive(Clone)]
pub struct SqlStore {
    pub(crate) db: Arc<Db>,
    pub(crate) backend: Backend,
    /// Clients (by id) and users (by `sub`) are read on nearly every request; see
    /// [`StoreOptions::cache_ttl`].
    pub(crate) clients: Arc<TtlCache<Client>>,
    pub(crate) users: Arc<TtlCache<User>>,
    /// Whether an access token (by `jti`) is revoked: read by every introspection and userinfo.
    pub(crate) revoked: Arc<TtlCache<bool>>,
    /// Changes other nodes announced (PostgreSQL), for the server's own caches.
    changes: tokio::sync::broadcast::Sender<Change>,
    /// Stops the listener when the last clone of this store is dropped.
    _listener: Option<Arc<tokio::sync::oneshot::Sender<()>>>,
}

/// How the store behaves beyond its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a client, a user, or whether an access token is revoked, once read from the
    /// database, is reused. Changes made through this process apply at once; changes made
    /// elsewhere (another node, the CLI) within this bound. Zero reads every time.
    pub cache_ttl: Duration,
    /// On PostgreSQL, `LISTEN` for the changes other nodes announce and drop what they
    /// invalidate (a server does; a one-shot CLI command need not).
    pub listen: bool,
    pub pool: PoolOptions,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { cache_ttl: Duration::from_secs(5), listen: false, pool: PoolOptions::default() }
    }
}

impl SqlStore {
    /// Connects, creating the SQLite file (and its folder) if missing, and runs the embedded
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`Self::connect`] with options.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        let backend = Backend::from_url(url)?;
        let db = match backend {
            Backend::Sqlite => Db::Sqlite(
                crate::db::sqlite::Sqlite::connect(
                    crate::db::sqlite::Target::parse(url)?,
                    options.pool.max_connections.unwrap_or(8),
                    options.pool.acquire_timeout,
                )
                .await?,
            ),
            Backend::Postgres => Db::Postgres(crate::db::postgres::Postgres::connect(url, options.pool).await?),
        };
        let mut store = Self {
            db: Arc::new(db),
            backend,
            clients: Arc::new(TtlCache::new(options.cache_ttl)),
            users: Arc::new(TtlCache::new(options.cache_ttl)),
            revoked: Arc::new(TtlCache::new(options.cache_ttl)),
            changes: tokio::sync::broadcast::channel(256).0,
            _listener: None,
        };
        if options.listen && backend == Backend::Postgres {
            let mut listener = sqlx::postgres::PgListener::connect(url).await?;
            listener.listen(CHANNEL).await?;
            let (stop, stopped) = tokio::sync::oneshot::channel();
            tokio::spawn(store.clone().listen(url.to_owned(), listener, stopped));
            store._listener = Some(Arc::new(stop));
        }
        Ok(store)
    }

    /// Changes announced by any node (this one included), after this store's own caches have
    /// dropped what they invalidate: for the caches above the store (scopes, keys).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Tells every node `change` happened (PostgreSQL `NOTIFY`; nothing on SQLite). A failure is
    /// not the write's: the change is made, and other nodes see it within `cache_ttl`.
    pub(crate) async fn announce(&self, change: Change) {
        if self.backend != Backend::Postgres {
            return;
        }
        let sent = self.db.execute("SELECT pg_notify($1, $2)", args![CHANNEL, change.encode()]).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, ?change, "could not announce a change; other nodes see it within cache_ttl");
        }
    }

    /// Receives announcements until `stopped`: drops invalidated cache entries, then passes
    /// the change on. When the connection is lost, anything may be missed until it is back, so
    /// once a new connection is listening everything cached is dropped.
    async fn listen(
        self,
        url: String,
        mut listener: sqlx::postgres::PgListener,
        mut stopped: tokio::sync::oneshot::Receiver<()>,
    ) {
        // The listener's clone must not keep itself alive.
        let Self { clients, users, revoked, changes, .. } = self;
        loop {
            let received = tokio::select! {
                r = listener.try_recv() => r,
                _ = &mut stopped => return,
            };
            let change = match received {
                Ok(Some(n)) => Change::decode(n.payload()),
                // The connection is gone (`None`, or an error): listen again on a new one.
                lost => {
                    if let Err(e) = lost {
                        tracing::warn!(error = %e, "lost the change notifications; reconnecting");
                    } else {
                        tracing::warn!("lost the change notifications; reconnecting");
                    }
                    listener = tokio::select! {
                        l = relisten(&url) => l,
                        _ = &mut stopped => return,
                    };
                    tracing::info!("listening for changes again; dropped everything cached");
                    Change::Unknown
                }
            };
            match &change {
                Change::Client(id) => clients.remove(id),
                Change::User(sub) => users.remove(sub),
                Change::Revoked(Some(jti)) => revoked.remove(jti),
                Change::Revoked(None) => revoked.clear(),
                Change::Unknown => {
                    clients.clear();
                    users.clear();
                    revoked.clear();
                }
                Change::Scopes | Change::Keys => {}
            }
            let _ = changes.send(change);
        }
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// A new connection listening on [`CHANNEL`], retried (backing off from 0.1 s to 2 s) until it is.
async fn relisten(url: &str) -> sqlx::postgres::PgListener {
    let mut wait = Duration::from_millis(100);
    loop {
        tokio::time::sleep(wait).await;
        match sqlx::postgres::PgListener::connect(url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => return l,
                Err(e) => tracing::debug!(error = %e, "LISTEN failed; retrying"),
            },
            Err(e) => tracing::debug!(error = %e, "cannot reconnect for change notifications yet; retrying"),
        }
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

fn corrupt(table: &'static str) -> impl Fn(String) -> StoreError {
    move |detail| StoreError::Corrupt { table, detail }
}

fn client_from_row(row: &Row) -> Result<Client> {
    let doc: String = row.get("document")?;
    let record: ClientRecord = records::decode("clients", &doc)?;
    let hash: Option<String> = row.get("secret_hash")?;
    let secret = hash.map(|h| SecretHash::parse(&h).map_err(|e| corrupt("clients")(e.to_string()))).transpose()?;
    Ok(record.into_client(secret))
}

pub(crate) fn user_from_row(row: &Row) -> Result<User> {
    let claims: String = row.get("claims")?;
    let hash: String = row.get("password_hash")?;
    Ok(User {
        sub: row.get("sub")?,
        username: row.get("username")?,
        password_hash: SecretHash::parse(&hash).map_err(|e| corrupt("users")(e.to_string()))?,
        claims: serde_json::from_str(&claims).map_err(|e| corrupt("users")(e.to_string()))?,
        disabled: row.get::<i64>("disabled")? != 0,
        admin: row.get::<i64>("admin")? != 0,
    })
}

fn key_from_row(row: &Row) -> Result<StoredKey> {
    let alg: String = row.get("alg")?;
    let state: String = row.get("state")?;
    let private: String = row.get("private_key")?;
    Ok(StoredKey {
        kid: row.get("kid")?,
        alg: SigningAlg::parse(&alg).ok_or_else(|| corrupt("signing_keys")(format!("alg {alg:?}")))?,
        state: KeyState::parse(&state).ok_or_else(|| corrupt("signing_keys")(format!("state {state:?}")))?,
        private_pkcs8: B64.decode(private).map_err(|e| corrupt("signing_keys")(e.to_string()))?,
        created_at: row.get("created_at")?,
        activated_at: row.get("activated_at")?,
        retired_at: row.get("retired_at")?,
    })
}

/// The statement that inserts `user`; `on_conflict` says what a taken sub does.
pub(crate) fn insert_user(on_conflict: &str, user: &User, now: UnixTime) -> Result<Step> {
    let sql = format!(
        "INSERT INTO users (sub, username, password_hash, claims, disabled, admin, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {on_conflict}"
    );
    let args = args![
        &user.sub,
        &user.username,
        user.password_hash.to_stored(),
        to_json(&user.claims)?,
        user.disabled,
        user.admin,
        now,
        now
    ];
    Ok(Step::write(sql, args))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("serialise: {e}")))
}

impl SqlStore {
    /// Inserts a client row; `on_conflict` says what a taken id does. Returns rows written.
    async fn write_client(&self, on_conflict: &str, client: &Client, now: UnixTime) -> Result<u64> {
        let sql = format!(
            "INSERT INTO clients (client_id, document, secret_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5) {on_conflict}"
        );
        let document = records::encode("clients", &ClientRecord::from(client))?;
        let secret = client.secret.as_ref().map(SecretHash::to_stored);
        self.db.execute(sql, args![client.id.as_str(), document, secret, now, now]).await
    }

    /// Inserts a user row; `on_conflict` says what a taken sub does (nothing: a conflict error).
    async fn write_user(&self, on_conflict: &str, user: &User, now: UnixTime) -> Result<()> {
        let Step { sql, args, .. } = insert_user(on_conflict, user, now)?;
        self.db.execute(sql, args).await?;
        self.users.remove(&user.sub);
        self.announce(Change::User(user.sub.clone())).await;
        Ok(())
    }
}

#[async_trait]
impl ClientStore for SqlStore {
    async fn upsert_client(&self, client: &Client, now: UnixTime) -> Result<()> {
        self.write_client(
            "ON CONFLICT (client_id) DO UPDATE
             SET document = excluded.document, secret_hash = excluded.secret_hash, updated_at = excluded.updated_at",
            client,
            now,
        )
        .await?;
        // After the write: a read that began before it cannot store what it saw.
        self.clients.remove(client.id.as_str());
        self.announce(Change::Client(client.id.to_string())).await;
        Ok(())
    }

    async fn insert_client(&self, client: &Client, now: UnixTime) -> Result<bool> {
        Ok(self.write_client("ON CONFLICT (client_id) DO NOTHING", client, now).await? == 1)
    }

    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>> {
        if let Some(c) = self.clients.get(id.as_str()) {
            return Ok(Some(c));
        }
        let generation = self.clients.generation();
        let row = self
            .db
            .optional("SELECT document, secret_hash FROM clients WHERE client_id = $1", args![id.as_str()])
            .await?;
        let client = row.as_ref().map(client_from_row).transpose()?;
        if let Some(c) = &client {
            self.clients.put(id.as_str(), c.clone(), generation);
        }
        Ok(client)
    }

    async fn list_clients(&self) -> Result<Vec<Client>> {
        let rows = self.db.all_heavy("SELECT document, secret_hash FROM clients ORDER BY client_id", args![]).await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn list_clients_page(&self, page: &Page) -> Result<Vec<Client>> {
        // SQL narrows to documents holding the text anywhere; only a match in a value counts
        // (the document's key names, such as "post_logout_redirect_uris", would match "post"
        // for every client). Batches continue until the page is full or the table ends.
        let needle = page.search.as_deref().map(str::to_lowercase);
        let mut after = page.after.clone().unwrap_or_default();
        let mut out = Vec::new();
        loop {
            let rows = self
                .db
                .all_heavy(
                    "SELECT document, secret_hash FROM clients
                     WHERE ($1 = '' OR client_id > $1) AND LOWER(document) LIKE $2 ESCAPE '\\'
                     ORDER BY client_id LIMIT $3",
                    args![after.as_str(), like_pattern(needle.as_deref()), page.limit],
                )
                .await?;
            let full = rows.len() as i64 >= page.limit;
            for row in &rows {
                let client = client_from_row(row)?;
                after = client.id.as_str().to_owned();
                if needle.as_deref().is_none_or(|n| client_values_contain(&client, n))
                    && (out.len() as i64) < page.limit
                {
                    out.push(client);
                }
            }
            if !full || out.len() as i64 >= page.limit {
                return Ok(out);
            }
        }
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool> {
        let n = self.db.execute("DELETE FROM clients WHERE client_id = $1", args![id.as_str()]).await?;
        self.clients.remove(id.as_str());
        self.announce(Change::Client(id.to_string())).await;
        Ok(n > 0)
    }

    async fn set_registration_token(&self, id: &ClientId, token_hash: Option<&str>) -> Result<()> {
        self.db
            .execute(
                "UPDATE clients SET registration_token_hash = $1 WHERE client_id = $2",
                args![token_hash, id.as_str()],
            )
            .await?;
        Ok(())
    }

    async fn registration_token(&self, id: &ClientId) -> Result<Option<String>> {
        let row = self
            .db
            .optional("SELECT registration_token_hash FROM clients WHERE client_id = $1", args![id.as_str()])
            .await?;
        Ok(row.map(|r| r.get::<Option<String>>("registration_token_hash")).transpose()?.flatten())
    }
}

/// Whether lower-case `needle` is in one of the client's values an operator would search by.
fn client_values_contain(c: &Client, needle: &str) -> bool {
    let has = |v: &str| v.to_lowercase().contains(needle);
    has(c.id.as_str())
        || c.name.as_deref().is_some_and(has)
        || c.redirect_uris.iter().chain(&c.post_logout_redirect_uris).any(|u| has(u.as_str()))
        || c.scopes.iter().any(|s| has(s.as_str()))
        || c.grants.iter().any(|g| has(g.as_str()))
}

/// A `LIKE` pattern (with `\` as the escape character) matching text that contains `search`,
/// lower-cased; everything when there is no search.
pub(crate) fn like_pattern(search: Option<&str>) -> String {
    let mut p = String::from("%");
    for c in search.unwrap_or("").to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

pub(crate) const USER_COLUMNS: &str = "sub, username, password_hash, claims, disabled, admin";

#[async_trait]
impl UserStore for SqlStore {
    async fn upsert_user(&self, user: &User, now: UnixTime) -> Result<()> {
        self.write_user(
            "ON CONFLICT (sub) DO UPDATE
             SET username = excluded.username, password_hash = excluded.password_hash,
                 claims = excluded.claims, disabled = excluded.disabled, admin = excluded.admin,
                 updated_at = excluded.updated_at",
            user,
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("username already taken by another user"),
            other => other,
        })
    }

    async fn set_user_claims(
        &self,
        sub: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
        now: UnixTime,
    ) -> Result<bool> {
        let sql = "UPDATE users SET claims = $1, updated_at = $2 WHERE sub = $3";
        let n = self.db.execute(sql, args![to_json(claims)?, now, sub]).await?;
        // After the write: a read that began before it cannot store what it saw.
        self.users.remove(sub);
        self.announce(Change::User(sub.to_owned())).await;
        Ok(n > 0)
    }

    async fn insert_user(&self, user: &User, now: UnixTime) -> Result<()> {
        self.write_user("", user, now).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a user with that username or sub exists"),
            other => other,
        })
    }

    async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = self.db.optional(format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"), args![username]);
        row.await?.as_ref().map(user_from_row).transpose()
    }

    async fn get_user_by_sub(&self, sub: &str) -> Result<Option<User>> {
        if let Some(u) = self.users.get(sub) {
            return Ok(Some(u));
        }
        let generation = self.users.generation();
        let row = self.db.optional(format!("SELECT {USER_COLUMNS} FROM users WHERE sub = $1"), args![sub]).await?;
        let user = row.as_ref().map(user_from_row).transpose()?;
        if let Some(u) = &user {
            self.users.put(sub, u.clone(), generation);
        }
        Ok(user)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = self.db.all_heavy(format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"), args![]).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn list_users_page(&self, page: &Page, disabled: Option<bool>) -> Result<Vec<User>> {
        let rows = self
            .db
            .all_heavy(
                format!(
                    "SELECT {USER_COLUMNS} FROM users
                     WHERE ($1 = '' OR username > $1)
                       AND (LOWER(username) LIKE $2 ESCAPE '\\' OR LOWER(claims) LIKE $2 ESCAPE '\\')
                       AND ($3 < 0 OR disabled = $3)
                     ORDER BY username LIMIT $4"
                ),
                args![
                    page.after.as_deref().unwrap_or(""),
                    like_pattern(page.search.as_deref()),
                    disabled.map_or(-1, i64::from),
                    page.limit
                ],
            )
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn delete_user(&self, sub: &str) -> Result<bool> {
        let done = self
            .db
            .transaction(vec![
                Step::write("DELETE FROM sessions WHERE sub = $1", args![sub]),
                Step::write("DELETE FROM consents WHERE sub = $1", args![sub]),
                Step::write("DELETE FROM user_factors WHERE sub = $1", args![sub]),
                Step::write("DELETE FROM recovery_codes WHERE sub = $1", args![sub]),
                Step::write("DELETE FROM upstream_links WHERE sub = $1", args![sub]),
                Step::write("DELETE FROM users WHERE sub = $1", args![sub]),
            ])
            .await?;
        self.users.remove(sub);
        self.announce(Change::User(sub.to_owned())).await;
        Ok(matches!(done, Outcome::Done(counts) if counts.last().is_some_and(|n| *n > 0)))
    }
}

#[async_trait]
impl ScopeStore for SqlStore {
    async fn upsert_scope(&self, scope: &ScopeDefinition, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO scopes (name, document, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                args![scope.name.as_str(), records::encode("scopes", &ScopeRecord::from(scope))?, now],
            )
            .await?;
        self.announce(Change::Scopes).await;
        Ok(())
    }

    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>> {
        let rows = self.db.all_heavy("SELECT document FROM scopes ORDER BY name", args![]).await?;
        rows.iter()
            .map(|r| {
                let doc: String = r.get("document")?;
                Ok(records::decode::<ScopeRecord>("scopes", &doc)?.into())
            })
            .collect()
    }

    async fn delete_scope(&self, name: &str) -> Result<bool> {
        let n = self.db.execute("DELETE FROM scopes WHERE name = $1", args![name]).await?;
        self.announce(Change::Scopes).await;
        Ok(n > 0)
    }
}

#[async_trait]
impl ResourceStore for SqlStore {
    async fn upsert_resource(&self, resource: &ResourceDefinition, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO resources (identifier, document, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (identifier) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                args![
                    resource.identifier.as_str(),
                    records::encode("resources", &ResourceRecord::from(resource))?,
                    now
                ],
            )
            .await?;
        self.announce(Change::Scopes).await;
        Ok(())
    }

    async fn list_resources(&self) -> Result<Vec<ResourceDefinition>> {
        let rows = self.db.all_heavy("SELECT document FROM resources ORDER BY identifier", args![]).await?;
        rows.iter()
            .map(|r| {
                let doc: String = r.get("document")?;
                Ok(records::decode::<ResourceRecord>("resources", &doc)?.into())
            })
            .collect()
    }

    async fn delete_resource(&self, identifier: &str) -> Result<bool> {
        let n = self.db.execute("DELETE FROM resources WHERE identifier = $1", args![identifier]).await?;
        self.announce(Change::Scopes).await;
        Ok(n > 0)
    }
}

/// The PostgreSQL advisory lock a key rotation holds ("gatekey" in ASCII).
const KEY_ROTATION_LOCK: i64 = 0x0067_6174_656b_6579;

#[async_trait]
impl KeyStore for SqlStore {
    async fn list_keys(&self) -> Result<Vec<StoredKey>> {
        let rows = self
            .db
            .all(
                "SELECT kid, alg, state, private_key, created_at, activated_at, retired_at
                 FROM signing_keys ORDER BY created_at, kid",
                args![],
            )
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<bool> {
        let n = self
            .db
            .execute(
                "INSERT INTO signing_keys (kid, alg, state, private_key, created_at, activated_at, retired_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                args![
                    &key.kid,
                    key.alg.as_str(),
                    key.state.as_str(),
                    B64.encode(&key.private_pkcs8),
                    key.created_at,
                    key.activated_at,
                    key.retired_at
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn rotate_keys(&self, new_nexts: &[StoredKey], now: UnixTime, only_if_current: Option<&str>) -> Result<bool> {
        let mut steps = Vec::new();
        if self.backend == Backend::Postgres {
            // Rotations take turns (SQLite's BEGIN IMMEDIATE does the same): each statement
            // below then sees the one before's result, so concurrent rotations each rotate once
            // instead of colliding on the "one next key" index.
            steps.push(Step::write("SELECT pg_advisory_xact_lock($1)", args![KEY_ROTATION_LOCK]));
        }
        // The steps that find each algorithm's next key: stopping at one is "no next key".
        let mut looked = Vec::new();
        for new_next in new_nexts {
            let alg = new_next.alg.as_str();
            looked.push(steps.len());
            steps.push(
                Step::read("SELECT kid FROM signing_keys WHERE alg = $1 AND state = 'next'", args![alg]).required(),
            );
            // Order matters: each statement keeps "one current, one next per algorithm" true.
            let retire = Step::write(
                "UPDATE signing_keys SET state = 'retired', retired_at = $1
                 WHERE alg = $2 AND state = 'current' AND ($3 = '' OR kid = $3)",
                args![now, alg, only_if_current.unwrap_or("")],
            );
            // Someone else rotated first when the key named is no longer current: roll back.
            steps.push(if only_if_current.is_some() { retire.required() } else { retire });
            steps.push(Step::write(
                "UPDATE signing_keys SET state = 'current', activated_at = $1 WHERE alg = $2 AND state = 'next'",
                args![now, alg],
            ));
            steps.push(Step::write(
                "INSERT INTO signing_keys (kid, alg, state, private_key, created_at, activated_at, retired_at)
                 VALUES ($1, $2, 'next', $3, $4, NULL, NULL)",
                args![&new_next.kid, alg, B64.encode(&new_next.private_pkcs8), now],
            ));
        }
        match self.db.transaction(steps).await? {
            Outcome::StoppedAt(i) if looked.contains(&i) => Err(StoreError::Conflict("no next key to promote")),
            Outcome::StoppedAt(_) => Ok(false),
            Outcome::Done(_) => {
                self.announce(Change::Keys).await;
                Ok(true)
            }
        }
    }

    async fn server_secret(&self, name: &str, candidate: &str, now: UnixTime) -> Result<String> {
        self.db
            .execute(
                "INSERT INTO server_secrets (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                args![name, candidate, now],
            )
            .await?;
        self.db.one("SELECT secret FROM server_secrets WHERE name = $1", args![name]).await?.get("secret")
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<()> {
        self.db.all("SELECT 1 AS one", args![]).await?;
        Ok(())
    }

    async fn integrity_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        if self.backend == Backend::Sqlite {
            for row in self.db.all_heavy("PRAGMA integrity_check", args![]).await? {
                let line: String = row.at(0)?;
                if line != "ok" {
                    problems.push(format!("sqlite: {line}"));
                }
            }
        }
        // Each list decodes every row of its table, or fails naming it.
        let decoded = [self.list_clients().await.err(), self.list_users().await.err(), self.list_scopes().await.err()];
        problems.extend(decoded.into_iter().flatten().map(|e| e.to_string()));
        match self.list_keys().await {
            Ok(keys) => {
                let mut current = std::collections::BTreeMap::new();
                for k in keys.iter().filter(|k| k.state == KeyState::Current) {
                    *current.entry(k.alg.as_str()).or_insert(0) += 1;
                }
                for (alg, n) in current.iter().filter(|(_, n)| **n != 1) {
                    problems.push(format!("signing_keys: {n} current keys for {alg}"));
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
        Ok(problems)
    }

    fn backend(&self) -> Backend {
        self.backend
    }

    fn pool_status(&self) -> (u32, usize) {
        self.db.status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://u@h/db").unwrap(), Backend::Postgres);
        assert!(Backend::from_url("mysql://u@h/db").is_err());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(None), "%%");
        assert_eq!(like_pattern(Some("Web_App%")), "%web\\_app\\%%");
        assert_eq!(like_pattern(Some("a\\b")), "%a\\\\b%");
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        let r = redact_url("postgres://gh:hunter2@db.example.com/gh");
        assert!(!r.contains("hunter2"));
        assert!(r.contains("***"));
    }
}
