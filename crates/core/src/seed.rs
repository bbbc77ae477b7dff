//! Applies the config file's clients, users, scopes and resources to the store at start (DESIGN.md §2).
//!
//! Idempotent: applying the same file twice changes nothing. A plain-text secret or password
//! that still matches the stored argon2 hash keeps that hash, so restarts neither re-hash nor
//! rotate anything; a user's `sub`, once generated, is kept.

use crate::config::ValidConfig;
use crate::secrets;
use gatehouse_protocol::client::SecretInput;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::secret::{Secret, SecretHash};
use gatehouse_protocol::user::{PasswordInput, User};
use gatehouse_store::{Store, StoreError};
use std::sync::Arc;
use tokio::task::JoinSet;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "users: {username:?} already has sub {stored:?} in the store; a sub never changes (the file says {wanted:?})"
    )]
    SubChanged { username: String, stored: String, wanted: String },
    #[error("hashing failed: {0}")]
    Hash(String),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub clients: usize,
    pub users: usize,
    pub scopes: usize,
    pub resources: usize,
}

/// Keeps `existing` when it verifies `plain`; hashes afresh otherwise. Blocking (argon2).
fn hash_or_reuse(existing: Option<SecretHash>, plain: &Secret) -> Result<SecretHash, SeedError> {
    if let Some(h) = existing.filter(|h| h.verify(plain)) {
        return Ok(h);
    }
    secrets::hash_argon2(plain).map_err(SeedError::Hash)
}

pub async fn apply(store: &dyn Store, cfg: &ValidConfig, now: UnixTime) -> Result<SeedReport, SeedError> {
    for scope in cfg.scopes.iter().filter(|s| !s.builtin) {
        store.upsert_scope(scope, now).await?;
    }
    for resource in &cfg.resources {
        store.upsert_resource(resource, now).await?;
    }

    // Argon2 runs on blocking threads, as many at once as there are permits. A client whose
    // secret must stay usable gets it sealed instead (kept when it still seals the same secret).
    let sealer = Arc::new(crate::sealing::Sealer::new(cfg.sealing_key.as_ref()));
    let mut jobs: JoinSet<Result<(usize, Option<SecretHash>), SeedError>> = JoinSet::new();
    for (i, v) in cfg.clients.iter().enumerate() {
        let existing = store.get_client(&v.client.id).await?.and_then(|c| c.secret);
        let input = v.secret_input.clone();
        let (usable, sealer) = (v.client.needs_usable_secret(), sealer.clone());
        spawn_argon2(&mut jobs, move || {
            Ok((
                i,
                match input {
                    None => None,
                    Some(SecretInput::Hashed(h)) => Some(h),
                    Some(SecretInput::Plain(s)) if usable => match existing.filter(|h| sealer.verify(h, &s)) {
                        Some(kept) => Some(kept),
                        None => Some(sealer.seal(&s).map_err(|e| SeedError::Hash(e.to_string()))?),
                    },
                    Some(SecretInput::Plain(s)) => Some(hash_or_reuse(existing, &s)?),
                },
            ))
        });
    }
    let mut client_secrets = vec![None; cfg.clients.len()];
    while let Some(r) = jobs.join_next().await {
        let (i, h) = r.map_err(|e| SeedError::Hash(e.to_string()))??;
        if let Some(slot) = client_secrets.get_mut(i) {
            *slot = h;
        }
    }
    for (v, secret) in cfg.clients.iter().zip(client_secrets) {
        let mut c = v.client.clone();
        c.secret = secret;
        store.upsert_client(&c, now).await?;
    }

    let mut user_jobs: JoinSet<Result<User, SeedError>> = JoinSet::new();
    for u in &cfg.users {
        let existing = store.get_user_by_username(&u.username).await?;
        let sub = match (&u.sub, &existing) {
            (Some(wanted), Some(e)) if *wanted != e.sub => {
                return Err(SeedError::SubChanged {
                    username: u.username.clone(),
                    stored: e.sub.clone(),
                    wanted: wanted.clone(),
                });
            }
            (Some(wanted), _) => wanted.clone(),
            (None, Some(e)) => e.sub.clone(),
            (None, None) => uuid::Uuid::new_v4().to_string(),
        };
        let u = u.clone();
        let existing = existing.map(|e| e.password_hash);
        spawn_argon2(&mut user_jobs, move || {
            let password_hash = match u.password {
                PasswordInput::Hashed(h) => h,
                PasswordInput::Plain(p) => hash_or_reuse(existing, &p)?,
            };
            Ok(User {
                sub,
                username: u.username,
                password_hash,
                claims: u.claims,
                disabled: u.disabled,
                admin: u.admin,
            })
        });
    }
    let mut users = Vec::with_capacity(cfg.users.len());
    while let Some(r) = user_jobs.join_next().await {
        users.push(r.map_err(|e| SeedError::Hash(e.to_string()))??);
    }
    for user in &users {
        store.upsert_user(user, now).await?;
    }
    Ok(SeedReport {
        clients: cfg.clients.len(),
        users: users.len(),
        scopes: cfg.scopes.iter().filter(|s| !s.builtin).count(),
        resources: cfg.resources.len(),
    })
}

/// Runs blocking argon2 work in `jobs`, waiting for a permit first (see `secrets`).
fn spawn_argon2<T: Send + 'static>(
    jobs: &mut JoinSet<Result<T, SeedError>>,
    work: impl FnOnce() -> Result<T, SeedError> + Send + 'static,
) {
    jobs.spawn(async move {
        let _permit = secrets::argon2_permit().await;
        tokio::task::spawn_blocking(work).await.map_err(|e| SeedError::Hash(e.to_string()))?
    });
}
