//! What the handlers share, split by concern: each handler extracts only the services it uses
//! (`State<Arc<Grants>>`, `State<Arc<Pages>>`, ...) through `FromRef`, never the whole state.

use crate::web::{CookiePolicy, Pages};
use axum::extract::FromRef;
use gatehouse_core::Gatehouse;
use gatehouse_core::admin::Administration;
use gatehouse_core::authorization::Authorization;
use gatehouse_core::backchannel::Backchannel;
use gatehouse_core::catalog::Catalog;
use gatehouse_core::client_auth::ClientAuth;
use gatehouse_core::config::{ValidConfig, is_loopback_issuer};
use gatehouse_core::device::Devices;
use gatehouse_core::grant::Grants;
use gatehouse_core::keys::Keys;
use gatehouse_core::lifecycle::TokenLifecycle;
use gatehouse_core::metrics::Metrics;
use gatehouse_core::registration::Registration;
use gatehouse_core::sign_in::SignIn;
use gatehouse_store::Store;
use std::sync::Arc;

/// Largest request body accepted anywhere (form posts are small).
pub const MAX_BODY: usize = 64 * 1024;

/// The node's services and what only HTTP needs (the pages, the routes switched on).
#[derive(Clone)]
pub struct AppState {
    /// Behind one `Arc`: the router clones the state for every request.
    pub services: Arc<Gatehouse>,
    pub pages: Arc<Pages>,
    /// Whether `/admin` serves the console.
    pub console: bool,
    /// Peers whose forwarding headers name the client (`trusted_proxies`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

impl AppState {
    /// The services with the pages configured by `cfg` (templates, theme, cookie policy).
    pub fn new(services: Gatehouse, cfg: &ValidConfig) -> Self {
        let cookies =
            CookiePolicy { secure: !is_loopback_issuer(&cfg.issuer), max_age: services.sign_in.session_ttl() };
        let pages = Pages::new(cfg.templates.clone(), &cfg.issuer, cfg.theme.clone(), cookies)
            .with_login(services.upstreams.clone(), services.password_login);
        Self {
            services: Arc::new(services),
            pages: Arc::new(pages),
            console: cfg.console,
            trusted_proxies: cfg.trusted_proxies.clone().into(),
        }
    }

    /// The issuer, as the tokens carry it.
    pub fn issuer(&self) -> &str {
        &self.services.tokens.issuer
    }
}

impl FromRef<AppState> for Arc<Pages> {
    fn from_ref(s: &AppState) -> Self {
        s.pages.clone()
    }
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(s: &AppState) -> Self {
        s.services.store.clone()
    }
}

/// `FromRef` for each service of [`Gatehouse`].
macro_rules! services {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl FromRef<AppState> for Arc<$ty> {
            fn from_ref(s: &AppState) -> Self {
                s.services.$field.clone()
            }
        }
    )*};
}

services! {
    keys: Keys,
    catalog: Catalog,
    metrics: Metrics,
    client_auth: ClientAuth,
    sign_in: SignIn,
    factors: gatehouse_core::factors::Factors,
    upstreams: gatehouse_core::upstreams::Upstreams,
    grants: Grants,
    authorization: Authorization,
    lifecycle: TokenLifecycle,
    devices: Devices,
    backchannel: Backchannel,
    admin: Administration,
    registration: Registration,
    dpop: gatehouse_core::dpop::DpopProofs,
    request_objects: gatehouse_core::request_objects::RequestObjects,
}

impl FromRef<AppState> for Arc<dyn gatehouse_protocol::clock::Clock> {
    fn from_ref(s: &AppState) -> Self {
        s.services.clock.clone()
    }
}
