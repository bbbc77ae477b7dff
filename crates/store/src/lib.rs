//! Gatehouse persistence (DESIGN.md §5).
//!
//! Narrow role traits, one per artifact ([`ClientStore`], [`UserStore`], [`ScopeStore`],
//! [`KeyStore`]), and [`Store`], which is all of them plus health. One implementation,
//! [`SqlStore`], serves SQLite (the embedded default, WAL, through rusqlite) and PostgreSQL
//! (through sqlx), with portable SQL and embedded migrations run at start. No driver type
//! appears in a signature here: callers see protocol types and [`StoreError`].

mod activity;
mod audit;
mod cache;
pub mod changes;
pub mod cleanup;
mod db;
mod device;
mod error;
mod factors;
mod pairwise;
mod pushed;
mod records;
mod sign_in;
pub mod sql;
mod throttle;
mod upstream;

pub use db::PoolOptions;
pub use error::StoreError;
pub use sql::{Backend, SqlStore, StoreOptions};

use async_trait::async_trait;
use gatehouse_protocol::authorize::AuthorizeRequest;
use gatehouse_protocol::claims::ScopeDefinition;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::resource::{ResourceDefinition, ResourceId};
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::authorization_code::CodeGrant;
use gatehouse_protocol::token::refresh_token::RefreshGrant;
use gatehouse_protocol::user::User;
use gatehouse_protocol::{Client, ClientId};

pub type Result<T> = std::result::Result<T, StoreError>;

/// One page of a list, in key order: up to `limit` entries after the key `after`, keeping
/// those that contain `search` (case-insensitive) in the fields the list says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub search: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts or replaces the client (document and secret hash) in one statement.
    async fn upsert_client(&self, client: &Client, now: UnixTime) -> Result<()>;
    /// Inserts a new client; returns `false` (changing nothing) when the id is taken.
    async fn insert_client(&self, client: &Client, now: UnixTime) -> Result<bool>;
    async fn get_client(&self, id: &ClientId) -> Result<Option<Client>>;
    async fn list_clients(&self) -> Result<Vec<Client>>;
    /// Clients by id; `search` looks in the id, name, redirect URIs, scopes and grant types.
    async fn list_clients_page(&self, page: &Page) -> Result<Vec<Client>>;
    /// Returns whether a client was deleted.
    async fn delete_client(&self, id: &ClientId) -> Result<bool>;
    /// RFC 7592: sets (or clears) the hash of the client's registration access token.
    async fn set_registration_token(&self, id: &ClientId, token_hash: Option<&str>) -> Result<()>;
    async fn registration_token(&self, id: &ClientId) -> Result<Option<String>>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts or replaces by `sub`. A different user holding the username is a
    /// [`StoreError::Conflict`].
    async fn upsert_user(&self, user: &User, now: UnixTime) -> Result<()>;
    /// Inserts a new user; a taken `sub` or username is a [`StoreError::Conflict`].
    async fn insert_user(&self, user: &User, now: UnixTime) -> Result<()>;
    async fn get_user_by_username(&self, username: &str) -> Result<Option<User>>;
    async fn get_user_by_sub(&self, sub: &str) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Users by username; `search` looks in the username and the claims; `disabled` filters.
    async fn list_users_page(&self, page: &Page, disabled: Option<bool>) -> Result<Vec<User>>;
    /// Deletes the user with their sessions and consents. Returns whether a user was deleted.
    async fn delete_user(&self, sub: &str) -> Result<bool>;
    /// Replaces the user's claims and nothing else (a password changed meanwhile stays).
    /// Returns whether the user exists.
    async fn set_user_claims(
        &self,
        sub: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
        now: UnixTime,
    ) -> Result<bool>;
}

#[async_trait]
pub trait ScopeStore: Send + Sync {
    async fn upsert_scope(&self, scope: &ScopeDefinition, now: UnixTime) -> Result<()>;
    async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>>;
    /// Returns whether a scope was deleted.
    async fn delete_scope(&self, name: &str) -> Result<bool>;
}

/// The resource servers (RFC 8707). Changes are announced as [`Change::Scopes`]: both are the
/// catalog every node re-reads.
#[async_trait]
pub trait ResourceStore: Send + Sync {
    async fn upsert_resource(&self, resource: &ResourceDefinition, now: UnixTime) -> Result<()>;
    async fn list_resources(&self) -> Result<Vec<ResourceDefinition>>;
    /// Returns whether a resource was deleted.
    async fn delete_resource(&self, identifier: &str) -> Result<bool>;
}

/// One entry of the audit log: who changed what, when. `details` never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// A UUIDv7: ordering by id is ordering by time.
    pub id: String,
    pub at: UnixTime,
    /// `client:<id>` (admin API), `cli:<user>`, `registration`, `bootstrap`.
    pub actor: String,
    /// `client.create`, `user.set_password`, ...
    pub action: String,
    /// `client:<id>`, `user:<sub>`, `scope:<name>`, `session:<sid>`, `key:<kid>`.
    pub target: String,
    /// A JSON object.
    pub details: serde_json::Value,
}

/// Audit entries newest first, before the id `before`, filtered by exact actor and target and
/// by action prefix (`client.` gives every client change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub before: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub limit: i64,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<()>;
    async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>>;
}

/// How many clients and users exist, and how many sign-in sessions are active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub clients: i64,
    pub users: i64,
    pub active_sessions: i64,
}

/// Hourly counts of what happened (sign-ins, sign-in failures, tokens issued), added to by every
/// node, for the admin console's overview.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// Adds `count` to `kind` in `hour` (Unix time / 3600); the row may be forgotten after
    /// `expires_at`.
    async fn add_activity(&self, hour: i64, kind: &str, count: i64, expires_at: UnixTime) -> Result<()>;
    /// Each kind's count over the hours from `since_hour` on.
    async fn activity_since(&self, since_hour: i64) -> Result<Vec<(String, i64)>>;
    /// Clients, users and sessions not expired at `now`.
    async fn totals(&self, now: UnixTime) -> Result<Totals>;
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
    /// Rotates the algorithm of each of `new_nexts`, all in one transaction: current → retired,
    /// next → current, and the new key becomes the next one. Fails (changing nothing) when an
    /// algorithm has no next key. With `only_if_current`, rotates only while that kid is still
    /// the current key and returns whether it did: of several nodes rotating on a schedule, one
    /// wins.
    async fn rotate_keys(&self, new_nexts: &[StoredKey], now: UnixTime, only_if_current: Option<&str>) -> Result<bool>;
    /// The server-only secret called `name`, shared by every node: `candidate` is stored if
    /// there is none yet (the first node to ask wins), and the stored one is returned.
    async fn server_secret(&self, name: &str, candidate: &str, now: UnixTime) -> Result<String>;
}

/// A pending authorization request, kept while the user signs in and consents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    pub request: AuthorizeRequest,
    pub csrf: String,
    pub expires_at: UnixTime,
    /// The session a sign-in during this interaction started, if one did.
    pub login_sid: Option<String>,
    /// A sign-in whose password was right, waiting for its second factor.
    pub pending_factor: Option<PendingFactor>,
}

/// A sign-in halfway: the user whose first factor was right, the methods used so far (`amr`),
/// and whether the user must first enrol a second factor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingFactor {
    pub sub: String,
    pub amr: Vec<String>,
    #[serde(default)]
    pub enrol: bool,
    /// Whether the user had a session already (a step-up), so that the page can say so.
    #[serde(default)]
    pub step_up: bool,
}

#[async_trait]
pub trait InteractionStore: Send + Sync {
    async fn insert_interaction(&self, id_hash: &str, i: &Interaction, now: UnixTime) -> Result<()>;
    /// Only an unexpired interaction is returned.
    async fn get_interaction(&self, id_hash: &str, now: UnixTime) -> Result<Option<Interaction>>;
    async fn delete_interaction(&self, id_hash: &str) -> Result<()>;
    /// Records that a sign-in during the interaction started session `sid`.
    async fn note_interaction_login(&self, id_hash: &str, sid: &str) -> Result<()>;
    /// Records (or, with `None`, clears) the sign-in waiting for its second factor.
    async fn set_pending_factor(&self, id_hash: &str, pending: Option<&PendingFactor>) -> Result<()>;
}

/// What kind of second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FactorKind {
    /// A time-based one-time password (RFC 6238).
    Totp,
    /// A WebAuthn credential.
    Passkey,
}

impl FactorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "totp" => Some(Self::Totp),
            "passkey" => Some(Self::Passkey),
            _ => None,
        }
    }
}

/// A user's second factor.
#[derive(Clone, PartialEq, Eq)]
pub struct Factor {
    pub id: String,
    pub sub: String,
    pub kind: FactorKind,
    /// What the user called it.
    pub name: String,
    /// TOTP: the sealed secret; passkey: the credential (JSON).
    pub secret: String,
    /// TOTP: the last time step accepted (each code once).
    pub last_step: Option<i64>,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id)
            .field("sub", &self.sub)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait FactorStore: Send + Sync {
    async fn insert_factor(&self, factor: &Factor) -> Result<()>;
    /// A user's factors, oldest first.
    async fn list_factors(&self, sub: &str) -> Result<Vec<Factor>>;
    /// Removes one factor of the user's; `false` when there was none.
    async fn delete_factor(&self, sub: &str, id: &str) -> Result<bool>;
    /// Removes every factor and recovery code of the user's; the number of factors removed.
    async fn delete_factors(&self, sub: &str) -> Result<u64>;
    /// Records that TOTP factor `id` accepted time step `step`, only when that step is later
    /// than the last it accepted (on every node): `false` means the code was used already.
    async fn use_totp_step(&self, id: &str, step: i64, now: UnixTime) -> Result<bool>;
    /// Records a use of factor `id` (a passkey), with its new state.
    async fn touch_factor(&self, id: &str, secret: &str, now: UnixTime) -> Result<()>;
    /// Replaces the user's recovery codes with these hashes.
    async fn replace_recovery_codes(&self, sub: &str, hashes: &[String]) -> Result<()>;
    /// Uses the unused recovery code with this hash, once: the number left afterwards, or
    /// `None` when no such unused code exists.
    async fn use_recovery_code(&self, sub: &str, hash: &str, now: UnixTime) -> Result<Option<i64>>;
    /// How many unused recovery codes the user has.
    async fn recovery_codes_left(&self, sub: &str) -> Result<i64>;
    /// The factor with this id, whoever's it is (a passkey found by its credential id).
    async fn get_factor(&self, id: &str) -> Result<Option<Factor>>;
    /// Keeps a ceremony's state (a passkey's challenge, an upstream sign-in's nonce and
    /// verifier) under `id_hash`, for `bound_to`, until `expires_at`.
    async fn put_ceremony(&self, id_hash: &str, bound_to: &str, state: &str, expires_at: UnixTime) -> Result<()>;
    /// Takes a ceremony's state (it is gone afterwards, whatever it was bound to): `None` when
    /// unknown, expired, taken before, or bound to something else. Exactly one caller gets it.
    async fn take_ceremony(&self, id_hash: &str, bound_to: &str, now: UnixTime) -> Result<Option<String>>;
}

/// A user of an upstream provider (`provider`, its id in `[[upstreams]]`; `subject`, the id it
/// gives them) linked to user `sub` here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamLink {
    pub provider: String,
    pub subject: String,
    pub sub: String,
    /// The verified address the provider gave when the link was made, for people to recognise it.
    pub email: Option<String>,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

#[async_trait]
pub trait UpstreamStore: Send + Sync {
    /// Links an upstream identity to a user; one linked already is a [`StoreError::Conflict`].
    async fn insert_link(&self, link: &UpstreamLink) -> Result<()>;
    /// Creates a user and their first link together (a taken username, sub or identity is a
    /// [`StoreError::Conflict`], and nothing is written).
    async fn insert_user_with_link(&self, user: &User, link: &UpstreamLink, now: UnixTime) -> Result<()>;
    async fn find_link(&self, provider: &str, subject: &str) -> Result<Option<UpstreamLink>>;
    /// A user's links, oldest first.
    async fn list_links(&self, sub: &str) -> Result<Vec<UpstreamLink>>;
    /// Removes one of the user's links; `false` when there was none.
    async fn delete_link(&self, sub: &str, provider: &str, subject: &str) -> Result<bool>;
    /// Records a sign-in through the link.
    async fn touch_link(&self, provider: &str, subject: &str, now: UnixTime) -> Result<()>;
    /// The users whose `email` claim is this address (compared without case).
    async fn users_with_email(&self, email: &str) -> Result<Vec<User>>;
    /// Creates or replaces a stored provider (`document`: its definition as JSON).
    async fn put_upstream(&self, id: &str, document: &str, now: UnixTime) -> Result<()>;
    /// The stored providers: (id, document), by id.
    async fn list_upstreams(&self) -> Result<Vec<(String, String)>>;
    /// Removes a stored provider; `false` when there was none.
    async fn delete_upstream(&self, id: &str) -> Result<bool>;
}

/// An SSO session, found by the hash of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub sid: String,
    pub sub: String,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub expires_at: UnixTime,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, id_hash: &str, s: &Session, now: UnixTime) -> Result<()>;
    /// Only an unexpired session is returned.
    async fn get_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Records that `client_id` received tokens in session `sid` (idempotent).
    async fn add_session_client(&self, sid: &str, client_id: &str, now: UnixTime) -> Result<()>;
    /// The clients that received tokens in session `sid`; forgets them (the session is ending).
    async fn take_session_clients(&self, sid: &str) -> Result<Vec<String>>;
    /// A user's unexpired sessions, newest first, with when each began.
    async fn list_user_sessions(&self, sub: &str, now: UnixTime) -> Result<Vec<(Session, UnixTime)>>;
    /// Ends a user's sessions: the one with `sid`, or all of them. Returns the sids ended.
    async fn delete_user_sessions(&self, sub: &str, sid: Option<&str>) -> Result<Vec<String>>;
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// The scopes the user consented to for the client.
    async fn get_consent(&self, sub: &str, client_id: &str) -> Result<Option<ScopeSet>>;
    async fn put_consent(&self, sub: &str, client_id: &str, scope: &ScopeSet, now: UnixTime) -> Result<()>;
    /// Every client the user consented to: (client id, scopes, when), by client id.
    async fn list_consents(&self, sub: &str) -> Result<Vec<(String, ScopeSet, UnixTime)>>;
    /// Forgets the user's consent to the client; `false` when there was none.
    async fn delete_consent(&self, sub: &str, client_id: &str) -> Result<bool>;
}

/// An access token issued from a code or refresh token, remembered so it can be revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    pub jti: String,
    pub expires_at: UnixTime,
}

/// A refresh token to store: a new family's first, or the successor of one being retired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    pub token_hash: String,
    /// Its family, its expiry and what it grants.
    pub grant: RefreshGrant,
    /// The access token issued with it, revoked with its family.
    pub access_token: Option<IssuedAccessToken>,
}

/// A code looked up without using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLookup {
    /// What the code stands for; `grant_id` ties together what it issued.
    pub grant: CodeGrant,
    pub consumed: bool,
}

#[async_trait]
pub trait CodeStore: Send + Sync {
    async fn insert_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<()>;
    /// Looks a code up without using it.
    async fn find_code(&self, code_hash: &str) -> Result<Option<CodeLookup>>;
    /// Marks the code used, records the access token the redemption issues (so a replay can
    /// revoke it) and stores the grant's first refresh token: of two concurrent
    /// calls exactly one returns `true`, and by the time the other returns `false` the winner's
    /// refresh token is stored, so revoking the family reaches it.
    async fn consume_code(
        &self,
        code_hash: &str,
        now: UnixTime,
        at: &IssuedAccessToken,
        refresh: Option<&NewRefresh>,
    ) -> Result<bool>;
}

#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    async fn insert_refresh(&self, token: &NewRefresh, now: UnixTime) -> Result<()>;
    /// Retires the token (unless rotated or revoked already) and stores its successor, at once:
    /// of two concurrent calls exactly one returns `true`, and by the time the other returns
    /// `false` the successor is stored, so revoking the family reaches it.
    async fn rotate_refresh(&self, token_hash: &str, now: UnixTime, successor: &NewRefresh) -> Result<bool>;
    /// Revokes every refresh token of the family (and of the code grant with that id), and
    /// puts every access token they issued on the revocation list. Returns how many refresh
    /// tokens were revoked.
    async fn revoke_family(&self, family_id: &str, now: UnixTime) -> Result<u64>;
    /// Revokes every live refresh token family the client holds for the user (with the access
    /// tokens issued with them); the number of families revoked.
    async fn revoke_user_client_families(&self, sub: &str, client_id: &str, now: UnixTime) -> Result<u64>;
    /// Looks a refresh token up without using it: its grant, and whether it can still be used
    /// (not rotated, not revoked, not expired).
    async fn find_refresh(&self, token_hash: &str, now: UnixTime) -> Result<Option<RefreshLookup>>;
    /// Records an access token issued again with the live refresh token `token_hash` (a retry
    /// inside the reuse grace window), so revoking the family reaches it. Returns `false`, and
    /// records nothing, when that token is no longer live: rotated, revoked or expired. A
    /// family revocation running at the same time either sees this access token or makes this
    /// call return `false`.
    async fn reissue_access_token(&self, token_hash: &str, at: &IssuedAccessToken, now: UnixTime) -> Result<bool>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLookup {
    /// What the token grants; `family_id` is its family.
    pub grant: RefreshGrant,
    pub live: bool,
    /// Rotated or revoked: presenting it again is a replay.
    pub used: bool,
    /// When it was rotated, if it was and its family has not been revoked since: a repeat soon
    /// after may be a retry (the reuse grace window).
    pub rotated_at: Option<UnixTime>,
}

#[async_trait]
pub trait RevocationStore: Send + Sync {
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool>;
    /// Puts an access token on the revocation list until it expires (idempotent).
    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> Result<()>;
}

/// A device authorization (RFC 8628) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub user_code: String,
    pub client_id: String,
    pub scope: ScopeSet,
    /// The resources (RFC 8707) the device asked for, or the client's defaults.
    pub resources: Vec<ResourceId>,
    pub status: gatehouse_protocol::device::DeviceStatus,
    /// Who approved it (set with the approval).
    pub approval: Option<Session>,
    pub interval: i64,
    pub expires_at: UnixTime,
    /// Set by [`DeviceStore::poll_device`]: this poll came sooner than the interval allows.
    pub polled_too_fast: bool,
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
    #[allow(clippy::too_many_arguments)]
    async fn insert_device(
        &self,
        device_code_hash: &str,
        user_code: &str,
        client_id: &str,
        scope: &ScopeSet,
        resources: &[ResourceId],
        interval: i64,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<()>;
    /// A pending, unexpired device authorization by its (normalised) user code.
    async fn find_pending_device(&self, user_code: &str, now: UnixTime) -> Result<Option<DeviceRecord>>;
    /// Approves (with the approving session) or denies a pending authorization. Returns
    /// whether it was still pending.
    async fn decide_device(&self, user_code: &str, approval: Option<&Session>, now: UnixTime) -> Result<bool>;
    /// Records a poll and returns the record; slowing down is decided and the interval grown
    /// in the same statement, so concurrent polls cannot both slip through.
    async fn poll_device(&self, device_code_hash: &str, now: UnixTime) -> Result<Option<DeviceRecord>>;
    /// Marks an approved authorization redeemed. Exactly one caller gets `true`.
    async fn redeem_device(&self, device_code_hash: &str, now: UnixTime) -> Result<bool>;
}

/// JWTs that may be used once (DPoP proofs, client assertions, request objects), seen by any
/// node.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `jti_key` (a hash naming the kind, the JWT's issuer and its `jti`) until
    /// `expires_at`. `true` the first time; `false` when it was recorded before (a replay), also
    /// when two nodes record it at once.
    async fn record_once(&self, jti_key: &str, expires_at: UnixTime) -> Result<bool>;
}

/// Pairwise subjects (OIDC Core §8.1) and the users they stand for.
#[async_trait]
pub trait PairwiseStore: Send + Sync {
    /// Records that `pairwise_sub` stands for the user `sub` (idempotent).
    async fn remember_pairwise(&self, pairwise_sub: &str, sub: &str) -> Result<()>;
    /// The user a pairwise subject stands for, if it was recorded.
    async fn pairwise_owner(&self, pairwise_sub: &str) -> Result<Option<String>>;
}

/// Pushed authorization requests (RFC 9126 §2), shared by every node.
#[async_trait]
pub trait PushedRequestStore: Send + Sync {
    /// Keeps a pushed request's parameters under `id_hash` until `expires_at`.
    async fn push_request(
        &self,
        id_hash: &str,
        client: &ClientId,
        params: &gatehouse_protocol::params::Params,
        expires_at: UnixTime,
    ) -> Result<()>;
    /// Takes the request (it is gone afterwards): `None` when unknown, expired or taken before.
    /// Exactly one caller gets it.
    async fn take_pushed_request(
        &self,
        id_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(ClientId, gatehouse_protocol::params::Params)>>;
}

/// Brute-force throttling state (DESIGN.md §7), shared by every node.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// When the key is blocked until, if it is blocked at `now`.
    async fn blocked_until(&self, key: &str, now: UnixTime) -> Result<Option<UnixTime>>;
    /// Counts a failure and returns the failures in the current window; a window that ended
    /// (at the row's `expires_at`) starts again at one. The window now ends at `window_ends`.
    async fn count_failure(&self, key: &str, now: UnixTime, window_ends: UnixTime) -> Result<i64>;
    /// Blocks the key until `until`, unless it is already blocked longer.
    async fn block(&self, key: &str, until: UnixTime) -> Result<()>;
    async fn clear_failures(&self, key: &str) -> Result<()>;
}

/// What one cleanup pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub interactions: u64,
    pub sessions: u64,
    pub codes: u64,
    pub refresh_tokens: u64,
    pub revoked_access_tokens: u64,
    pub device_codes: u64,
    pub keys: u64,
    pub throttle: u64,
    pub activity: u64,
    pub seen_jtis: u64,
    pub pushed_requests: u64,
    pub ceremonies: u64,
}

impl CleanupReport {
    pub fn total(&self) -> u64 {
        self.interactions
            + self.sessions
            + self.codes
            + self.refresh_tokens
            + self.revoked_access_tokens
            + self.device_codes
            + self.keys
            + self.throttle
            + self.activity
            + self.seen_jtis
            + self.pushed_requests
            + self.ceremonies
    }
}

#[async_trait]
pub trait CleanupStore: Send + Sync {
    /// Deletes at most `batch` expired rows of each kind (short statements, so requests are
    /// never blocked for long): rows past `expires_at`; codes a day after expiry (kept that long
    /// so a late replay can still revoke what the code issued); retired keys retired before
    /// `keys_retired_before` (every token they signed has expired).
    /// `None` when another node is cleaning up right now (PostgreSQL: it holds the advisory
    /// lock [`cleanup::CLEANUP_LOCK`]).
    async fn delete_expired(
        &self,
        now: UnixTime,
        keys_retired_before: UnixTime,
        batch: i64,
    ) -> Result<Option<CleanupReport>>;
}

/// Everything the server needs from storage.
#[async_trait]
pub trait Store:
    ClientStore
    + UserStore
    + ScopeStore
    + ResourceStore
    + KeyStore
    + InteractionStore
    + SessionStore
    + ConsentStore
    + CodeStore
    + RefreshTokenStore
    + RevocationStore
    + DeviceStore
    + CleanupStore
    + AuditStore
    + ThrottleStore
    + ReplayStore
    + PushedRequestStore
    + PairwiseStore
    + FactorStore
    + UpstreamStore
    + ActivityStore
{
    /// Round-trips the database (for `/readyz`).
    async fn ping(&self) -> Result<()>;
    /// Checks the database and every stored document: SQLite's own integrity check, then that
    /// each client, user, scope and key row decodes and every algorithm has one current key.
    /// Returns the problems found (empty: all is well).
    async fn integrity_problems(&self) -> Result<Vec<String>>;
    fn backend(&self) -> Backend;
    /// The connection pool now: (open connections, of which idle).
    fn pool_status(&self) -> (u32, usize);
}
