//! Signing people in: the password check (throttled per account and per source address), SSO
//! sessions (found by the hash of their cookie value; a new id at every sign-in, so a planted
//! cookie is never promoted), and the CSRF token every form carries. The cookies themselves are
//! the server's; this works on their values.

use crate::directory::{Directory, DirectoryError};
use crate::issuer::{TokenIssuer, hash_token};
use crate::metrics::Metrics;
use crate::secrets;
use crate::server_keys::ServerKey;
use crate::throttle::{Key, Throttle};
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::secret::{Secret, SecretHash};
use gatehouse_protocol::user::User;
use gatehouse_store::{Session, Store, StoreError};
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

/// A password check costs the same whether or not the user exists, so timing does not tell.
static DUMMY_HASH: LazyLock<Option<SecretHash>> =
    LazyLock::new(|| SecretHash::argon2(&Secret::new("dummy"), &[0; 16]).ok());

/// Why a password could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Too many failures for the account or the address: try again in this many seconds.
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(i64),
    /// The LDAP directory that checks this user's password could not be reached.
    #[error("the directory could not be reached")]
    DirectoryUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct SignIn {
    store: Arc<dyn Store>,
    throttle: Arc<Throttle>,
    metrics: Arc<Metrics>,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
    /// Binds each form's CSRF token to the browser's CSRF cookie.
    csrf_key: ServerKey,
    /// Checks the passwords of people who have none here (`[ldap]`).
    directory: Option<Arc<Directory>>,
}

impl SignIn {
    pub fn new(
        store: Arc<dyn Store>,
        throttle: Arc<Throttle>,
        metrics: Arc<Metrics>,
        tokens: Arc<TokenIssuer>,
        clock: Arc<dyn Clock>,
        csrf_key: ServerKey,
        directory: Option<Arc<Directory>>,
    ) -> Self {
        Self { store, throttle, metrics, tokens, clock, csrf_key, directory }
    }

    /// Seconds a session (and the CSRF cookie) lives.
    pub fn session_ttl(&self) -> i64 {
        self.tokens.lifetimes.session
    }

    /// Verifies a username and password, throttled per account and per source address (shared by
    /// every node through the store). `Ok(None)`: wrong, unknown or disabled, indistinguishably.
    pub async fn check_password(
        &self,
        username: &str,
        password: &Secret,
        peer: Option<IpAddr>,
    ) -> Result<Option<User>, CheckError> {
        let mut keys = vec![Key::Account(username)];
        keys.extend(peer.map(Key::Ip));
        if let Some(wait) = self.throttle.wait(&keys).await {
            self.metrics.password_check("throttled");
            return Err(CheckError::Throttled(wait));
        }
        let user = self.store.get_user_by_username(username).await?;
        // No password here: the directory's, when there is one.
        if let Some(directory) = &self.directory
            && user.as_ref().is_none_or(|u| !u.password_hash.is_set())
        {
            return self.check_in_directory(directory, username, password, &keys).await;
        }
        // A user without a password costs the same check as a missing one.
        let hash =
            user.as_ref().map(|u| u.password_hash.clone()).filter(SecretHash::is_set).or_else(|| DUMMY_HASH.clone());
        let ok = match hash {
            Some(h) => secrets::verify(h, password.clone()).await,
            None => false,
        };
        match user {
            Some(u) if ok && !u.disabled && u.password_hash.is_set() => {
                self.metrics.password_check("success");
                self.throttle.success(&keys).await;
                Ok(Some(u))
            }
            _ => {
                self.metrics.password_check("failure");
                self.throttle.failure(&keys).await;
                Ok(None)
            }
        }
    }

    /// [`Self::check_password`] against the directory, for someone without a password here.
    async fn check_in_directory(
        &self,
        directory: &Directory,
        username: &str,
        password: &Secret,
        keys: &[Key<'_>],
    ) -> Result<Option<User>, CheckError> {
        let entry = match directory.verify(username, password).await {
            Ok(entry) => entry,
            Err(DirectoryError::Unavailable) => {
                self.metrics.password_check("unavailable");
                return Err(CheckError::DirectoryUnavailable);
            }
            Err(DirectoryError::Store(e)) => return Err(e.into()),
        };
        let user = match &entry {
            Some(entry) => directory.user_for(username, entry).await?,
            None => None,
        };
        match user {
            Some(u) if !u.disabled => {
                self.metrics.password_check("success");
                self.throttle.success(keys).await;
                Ok(Some(u))
            }
            _ => {
                self.metrics.password_check("failure");
                self.throttle.failure(keys).await;
                Ok(None)
            }
        }
    }

    /// Starts an SSO session for `user`: always a new id, so a planted cookie is never promoted
    /// (session fixation); the session of `old_cookie`, if any, ends. Returns the session and
    /// the new cookie's value. `amr`: how the user signed in (RFC 8176).
    pub async fn start_session(
        &self,
        old_cookie: Option<&str>,
        user: &User,
        amr: Vec<String>,
    ) -> Result<(Session, String), StoreError> {
        if let Some(old) = old_cookie {
            self.store.delete_session(&hash_token(old)).await?;
        }
        let now = self.clock.now();
        let cookie_value = self.tokens.random(32);
        let session = Session {
            sid: self.tokens.random(16),
            sub: user.sub.clone(),
            auth_time: now,
            amr,
            expires_at: now + self.tokens.lifetimes.session,
        };
        self.store.insert_session(&hash_token(&cookie_value), &session, now).await?;
        Ok((session, cookie_value))
    }

    /// The live session of a session cookie's value; none for a disabled or deleted user.
    pub async fn current_session(&self, cookie: Option<&str>) -> Result<Option<Session>, OAuthError> {
        let Some(id) = cookie else { return Ok(None) };
        let Some(s) = self.store.get_session(&hash_token(id), self.clock.now()).await? else { return Ok(None) };
        match self.store.get_user_by_sub(&s.sub).await? {
            Some(u) if !u.disabled => Ok(Some(s)),
            _ => Ok(None),
        }
    }

    /// Ends the session of a session cookie's value.
    pub async fn end_session(&self, cookie: &str) -> Result<(), StoreError> {
        self.store.delete_session(&hash_token(cookie)).await
    }

    /// A fresh value for the browser's CSRF cookie.
    pub fn new_csrf_cookie(&self) -> String {
        self.tokens.random(32)
    }

    /// The CSRF token forms carry for a browser whose CSRF cookie is `cookie`: an HMAC of it
    /// under a server key, so a cookie an attacker planted (from a sibling subdomain, or over
    /// plain http) comes with no form token the attacker can know.
    pub fn csrf_form_token(&self, cookie: &str) -> String {
        self.csrf_key.sign(&format!("csrf\0{cookie}"))
    }

    /// Whether a form's `csrf` field is the token for the browser's CSRF cookie (constant time).
    pub fn csrf_matches(&self, cookie: Option<&str>, form_value: Option<&str>) -> bool {
        match (cookie, form_value) {
            (Some(c), Some(f)) => self.csrf_key.verify(&format!("csrf\0{c}"), f),
            _ => false,
        }
    }
}
