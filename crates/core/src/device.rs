//! The device authorization grant's first half (RFC 8628 §3.1–3.3): starting an authorization
//! for a device, and the person's side: the user code they type (guesses throttled per source
//! address, §5.1), and their approval or denial. Polling is a grant (`grant::device_code`).

use crate::issuer::{TokenIssuer, hash_token};
use crate::throttle::{Key, Throttle};
use gatehouse_protocol::authorize::scoped_to_resources;
use gatehouse_protocol::client::{Client, ClientId};
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::device::{display_user_code, new_user_code, normalise_user_code};
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::grant::GrantType;
use gatehouse_protocol::resource::{self, ResourceId};
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::check_grant_allowed;
use gatehouse_store::{DeviceRecord, Session, Store, StoreError};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;

/// RFC 8628 §3.2 device authorization response.
#[derive(Debug, Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// Why a typed user code was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum UserCodeError {
    /// Too many wrong codes from the address: try again in this many seconds.
    #[error("too many wrong codes")]
    Throttled(i64),
    /// Not a pending, unexpired code.
    #[error("no such code")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Devices {
    store: Arc<dyn Store>,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
    throttle: Arc<Throttle>,
}

impl Devices {
    pub fn new(
        store: Arc<dyn Store>,
        tokens: Arc<TokenIssuer>,
        clock: Arc<dyn Clock>,
        throttle: Arc<Throttle>,
    ) -> Self {
        Self { store, tokens, clock, throttle }
    }

    /// RFC 8628 §3.1–3.2: a device code and a user code for an authenticated client holding
    /// the device grant; `requested` is the `scope` parameter as sent, `resources` the RFC 8707
    /// `resource` values (the client's default resources when none).
    pub async fn start(
        &self,
        client: &Client,
        requested: Option<&str>,
        resources: &[ResourceId],
    ) -> Result<DeviceAuthorizationResponse, OAuthError> {
        check_grant_allowed(client, GrantType::DeviceCode)?;
        let requested = requested
            .map(ScopeSet::parse)
            .transpose()
            .map_err(|_| OAuthError::InvalidScope("the scope is malformed"))?;
        let catalog = self.tokens.catalog.get();
        let scope = client.grantable_scope(requested.as_ref(), &client.scopes, &|s| catalog.knows(s))?;
        let resources = resource::resolve(resources, client, &catalog.resources)?;
        let scope = scoped_to_resources(scope, &resources, &catalog.resources)?;
        let now = self.clock.now();
        let lt = self.tokens.lifetimes.for_client(client);
        let device_code = self.tokens.random(32);
        // A user code collision (1 in 20^8 per live code) is retried with a new code.
        let mut user_code = new_user_code(self.tokens.rng.as_ref());
        let mut attempts = 0;
        loop {
            let inserted = self
                .store
                .insert_device(
                    &hash_token(&device_code),
                    &user_code,
                    client.id.as_str(),
                    &scope,
                    &resources,
                    lt.device_poll_interval,
                    now + lt.device_code,
                    now,
                )
                .await;
            match inserted {
                Ok(()) => break,
                Err(StoreError::Conflict(_)) if attempts < 5 => {
                    attempts += 1;
                    user_code = new_user_code(self.tokens.rng.as_ref());
                }
                Err(e) => return Err(e.into()),
            }
        }
        let shown = display_user_code(&user_code);
        let base = self.tokens.issuer.trim_end_matches('/');
        Ok(DeviceAuthorizationResponse {
            device_code,
            verification_uri: format!("{base}/device"),
            verification_uri_complete: format!("{base}/device?user_code={shown}"),
            user_code: shown,
            expires_in: lt.device_code,
            interval: lt.device_poll_interval,
        })
    }

    /// The pending authorization of a user code as typed; wrong codes count against `peer`.
    pub async fn pending(&self, typed: &str, peer: IpAddr) -> Result<DeviceRecord, UserCodeError> {
        let key = [Key::DeviceIp(peer)];
        if let Some(wait) = self.throttle.wait(&key).await {
            return Err(UserCodeError::Throttled(wait));
        }
        let found = match normalise_user_code(typed) {
            Some(code) => self.store.find_pending_device(&code, self.clock.now()).await?,
            None => None,
        };
        match found {
            Some(rec) => Ok(rec),
            None => {
                self.throttle.failure(&key).await;
                Err(UserCodeError::Unknown)
            }
        }
    }

    /// The name to show for the client asking.
    pub async fn client_name(&self, client_id: &str) -> String {
        match ClientId::parse(client_id) {
            Ok(id) => match self.store.get_client(&id).await {
                Ok(Some(c)) => c.name.unwrap_or_else(|| c.id.to_string()),
                _ => client_id.to_owned(),
            },
            Err(_) => client_id.to_owned(),
        }
    }

    /// Approves (in `session`) or denies a pending authorization. `false`: it was no longer
    /// pending (expired, or decided elsewhere).
    pub async fn decide(&self, rec: &DeviceRecord, session: &Session, approved: bool) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let decided = self.store.decide_device(&rec.user_code, approved.then_some(session), now).await?;
        if decided && approved {
            // Remembered so that ending this session can notify the client (back-channel logout).
            self.store.add_session_client(&session.sid, &rec.client_id, now).await?;
        }
        if decided {
            tracing::info!(sub = %session.sub, client_id = %rec.client_id, approved, "device authorization decided");
        }
        Ok(decided)
    }
}
