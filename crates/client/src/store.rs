//! Where sessions live between requests and across restarts: the [`SessionStore`] trait, what
//! it stores ([`StoredSession`], [`TokenSet`]) and the built-in [`MemoryStore`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A store's failure, in its own words.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// What a [`SessionStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The tokens a provider issued for one session. `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The bearer access token.
    pub access_token: String,
    /// `token_type` as issued (`Bearer`).
    pub token_type: String,
    /// The refresh token, when the client may refresh (`refresh_token` grant, and
    /// `offline_access` where the provider asks for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The latest ID token, kept as the `id_token_hint` for RP-initiated logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The scope granted, when the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the tokens were issued, seconds since the epoch (this machine's clock).
    pub issued_at: i64,
    /// When the access token expires, seconds since the epoch; `None` when the provider did
    /// not say (`expires_in` absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("scope", &self.scope)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// One signed-in user's session as a store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    /// The session's id: random, URL-safe, what the application puts in its own cookie.
    pub id: String,
    /// The tokens.
    pub tokens: TokenSet,
    /// The claims of the verified ID token (empty without `openid`).
    #[serde(default)]
    pub claims: Map<String, Value>,
}

/// Keeps sessions. Implement it over a file, SQLite, Redis or the application's own database
/// so that a restart keeps users signed in; the crate's `file_store` example shows one.
///
/// `save` is called with a session's new tokens after every refresh: with refresh-token
/// rotation the old refresh token no longer works, so a store that loses a save loses the
/// session.
pub trait SessionStore: Send + Sync + 'static {
    /// The session with this id, if it is kept.
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<StoredSession>>;
    /// Keeps `session`, replacing any with the same id.
    fn save<'a>(&'a self, session: &'a StoredSession) -> StoreFuture<'a, ()>;
    /// Forgets the session with this id (no error if there is none).
    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()>;
}

/// Sessions in this process's memory: lost on restart. The default store.
#[derive(Default)]
pub struct MemoryStore(Mutex<HashMap<String, StoredSession>>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, StoredSession>) -> T) -> T {
        match self.0.lock() {
            Ok(mut map) => f(&mut map),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

impl SessionStore for MemoryStore {
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<StoredSession>> {
        let found = self.with(|map| map.get(id).cloned());
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, session: &'a StoredSession) -> StoreFuture<'a, ()> {
        self.with(|map| map.insert(session.id.clone(), session.clone()));
        Box::pin(async { Ok(()) })
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        self.with(|map| map.remove(id));
        Box::pin(async { Ok(()) })
    }
}
