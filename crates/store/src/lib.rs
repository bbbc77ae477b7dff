//! Gatehouse persistence (DESIGN.md §5).
//!
//! Narrow role traits, one per artifact ([`ClientStore`], [`UserStore`], [`ScopeStore`],
//! [`KeyStore`]), and [`Store`], which is all of them plus health. One implementation,
//! [`SqlStore`], serves SQLite (the embedded default, WAL) and PostgreSQL through sqlx, with
//! portable SQL and embedded migrations run at start. No sqlx type appears in a signature here:
//! callers see protocol types and [`StoreError`].

mod error;
pub mod sql;

pub use error::StoreError;
pub use sql::{Backend, SqlStore};

use async_trait::async_trait;
use gatehouse_protocol::claims::ScopeDefinition;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::user::User;
use gatehouse_protocol::{Client, ClientId};

pub type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts or replaces the client (document and secret hash) in one statement.
    async fn upsert_client(&self, client: &Client, now: UnixTime) -> Result<()>;
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>>;
    async fn list_clients(&self) -> Result<Vec<Client>>;
    /// Returns whether a client was deleted.
    async fn delete_client(&self, id: &ClientId) -> Result<bool>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts or replaces by `sub`. A different user holding the username is a
    /// [`StoreError::Conflict`].
    async fn upsert_user(&self, user: &User, now: UnixTime) -> Result<()>;
    async fn get_user_by_username(&self, username: &str) -> Result<Option<User>>;
    async fn get_user_by_sub(&self, sub: &str) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
}

#[async_trait]
pub trait ScopeStore: Send + Sync {
    async fn upsert_scope(&self, scope: &ScopeDefinition, now: UnixTime) -> Result<()>;
    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>>;
}

/// Key lifecycle state (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published in the JWKS, not yet signing.
    Next,
    /// Signing, one per algorithm.
    Current,
    /// Published until every token it signed has expired; no longer signing.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Next, Self::Current, Self::Retired].into_iter().find(|k| k.as_str() == s)
    }
}

/// A private signing key as stored. `private_pkcs8` is secret material: it never leaves the
/// process except to the database.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub private_pkcs8: Vec<u8>,
    pub created_at: UnixTime,
    pub activated_at: Option<UnixTime>,
    pub retired_at: Option<UnixTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn list_keys(&self) -> Result<Vec<StoredKey>>;
    /// Inserts a key. Returns `false` (and changes nothing) when it would make a second current
    /// key for its algorithm: another node got there first.
    async fn insert_key(&self, key: &StoredKey) -> Result<bool>;
}

/// Everything the server needs from storage.
#[async_trait]
pub trait Store: ClientStore + UserStore + ScopeStore + KeyStore {
    /// Round-trips the database (for `/readyz`).
    async fn ping(&self) -> Result<()>;
    fn backend(&self) -> Backend;
}
