//! The services the OAuth endpoints share, built once at start.

use crate::client_auth::SecretCache;
use crate::issuer::TokenIssuer;
use crate::throttle::Throttle;
use crate::web::Pages;
use gatehouse_protocol::clock::Clock;
use gatehouse_store::Store;
use std::sync::Arc;

pub struct Core {
    pub store: Arc<dyn Store>,
    pub tokens: TokenIssuer,
    pub pages: Pages,
    pub secrets: SecretCache,
    pub throttle: Throttle,
    pub clock: Arc<dyn Clock>,
    /// `Secure` on cookies: off only for an http issuer on loopback.
    pub secure_cookies: bool,
    /// Outbound HTTP (back-channel logout).
    pub backchannel: reqwest::Client,
}

impl Core {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
