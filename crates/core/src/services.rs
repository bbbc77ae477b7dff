//! The services of one node, built once at start from a validated configuration:
//! config → store (migrated, seeded) → keys → catalog → services, with the background tasks
//! running. The server hands each HTTP handler only the services it uses.

use crate::admin::{self, Administration};
use crate::authorization::Authorization;
use crate::backchannel::Backchannel;
use crate::background;
use crate::catalog::{Catalog, Features};
use crate::cimd::{Clients, MetadataClients};
use crate::client_auth::{Assertions, ClientAuth};
use crate::client_keys::ClientKeySets;
use crate::config::ValidConfig;
use crate::device::Devices;
use crate::grant::Grants;
use crate::grant::issue::Issuing;
use crate::issuer::{SystemRng, TokenIssuer};
use crate::keys::{KeyRing, Keys};
use crate::lifecycle::TokenLifecycle;
use crate::metrics::Metrics;
use crate::registration::Registration;
use crate::request_objects::RequestObjects;
use crate::seed;
use crate::server_keys::ServerKeys;
use crate::sign_in::SignIn;
use crate::throttle::Throttle;
use gatehouse_protocol::clock::{Clock, SystemClock};
use gatehouse_store::{SqlStore, Store, StoreOptions};
use std::sync::Arc;

/// Every service of a node. Cheap to clone: each is shared.
#[derive(Clone)]
pub struct Gatehouse {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<Keys>,
    pub catalog: Arc<Catalog>,
    pub tokens: Arc<TokenIssuer>,
    pub metrics: Arc<Metrics>,
    pub client_auth: Arc<ClientAuth>,
    pub sign_in: Arc<SignIn>,
    pub factors: Arc<crate::factors::Factors>,
    pub grants: Arc<Grants>,
    pub authorization: Arc<Authorization>,
    pub lifecycle: Arc<TokenLifecycle>,
    pub devices: Arc<Devices>,
    pub backchannel: Arc<Backchannel>,
    pub admin: Arc<Administration>,
    pub registration: Arc<Registration>,
    pub dpop: Arc<crate::dpop::DpopProofs>,
    pub client_keys: Arc<ClientKeySets>,
    pub request_objects: Arc<RequestObjects>,
    pub upstreams: Arc<crate::upstreams::Upstreams>,
    /// The sign-in page offers the password form (`[login] password`).
    pub password_login: bool,
}

/// Opens the store (running migrations), applies the config's clients, users and scopes, loads
/// or creates the signing keys, starts the background tasks and returns the services.
pub async fn build(cfg: &ValidConfig) -> anyhow::Result<Gatehouse> {
    build_with_clock(cfg, Arc::new(SystemClock)).await
}

/// [`build`] with a given clock, so tests can move time instead of sleeping.
pub async fn build_with_clock(cfg: &ValidConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Gatehouse> {
    let options = StoreOptions {
        cache_ttl: std::time::Duration::from_secs(cfg.cache_ttl),
        listen: true,
        pool: cfg.database_pool,
    };
    let store = SqlStore::connect_with(&cfg.database, options).await?;
    let changes = store.subscribe();
    let store: Arc<dyn Store> = Arc::new(store);
    let now = clock.now();
    let report = seed::apply(store.as_ref(), cfg, now).await?;
    if cfg.console {
        admin::ensure_console_client(store.as_ref(), &cfg.issuer, now).await?;
    }
    admin::ensure_builtin_client(store.as_ref(), admin::account_client_spec(&cfg.issuer), now).await?;
    tracing::debug!(?report, "applied configuration to the store");
    let ring = KeyRing::load_or_init(store.as_ref(), now).await?;
    let algs = ring.algs();
    let keys = Arc::new(Keys::new(ring));
    background::spawn_key_reloader(&keys, &store, clock.clone(), cfg.key_reload_interval, cfg.key_rotation_interval);
    background::spawn_cleanup(&store, clock.clone(), cfg.lifetimes, cfg.cleanup_interval);
    let issuer: Arc<str> = cfg.issuer.as_str().into();
    let features = Features {
        registration: cfg.registration.enabled,
        client_id_metadata_documents: cfg.cimd.enabled,
        par_required: cfg.par_required,
        acr_values: cfg.acr.levels.iter().map(|l| l.name.clone()).collect(),
        sealing: cfg.sealing_key.is_some(),
    };
    let catalog = Arc::new(Catalog::load(store.as_ref(), issuer.clone(), algs, features).await?);
    let clients =
        Arc::new(Clients::new(store.clone(), Arc::new(MetadataClients::new(cfg.cimd.clone(), catalog.clone()))));
    background::spawn_catalog_reloader(&catalog, &store, cfg.catalog_reload_interval);
    background::spawn_change_follower(changes, &catalog, &keys, &store);

    let metrics = Arc::new(Metrics::new(cfg.metrics.clone()));
    background::spawn_activity_flush(&metrics, &store, clock.clone());
    let server_keys = ServerKeys::load(store.as_ref(), &SystemRng, now).await?;
    let sealer = Arc::new(crate::sealing::Sealer::new(cfg.sealing_key.as_ref()));
    let client_keys = Arc::new(ClientKeySets::new(&cfg.fetch));
    let tokens = Arc::new(TokenIssuer {
        issuer,
        keys: keys.clone(),
        catalog: catalog.clone(),
        lifetimes: cfg.lifetimes,
        default_access_token_alg: cfg.access_token_alg,
        rng: Arc::new(SystemRng),
        successor_key: server_keys.refresh,
        acr: cfg.acr.clone(),
        pairwise_key: server_keys.pairwise.clone(),
        sealer: sealer.clone(),
        client_keys: client_keys.clone(),
    });
    let throttle = Arc::new(Throttle::new(store.clone(), clock.clone(), cfg.throttle, metrics.clone()));
    let dpop = Arc::new(crate::dpop::DpopProofs::new(
        store.clone(),
        clock.clone(),
        tokens.issuer.clone(),
        server_keys.csrf.clone(),
        cfg.dpop_require_nonce,
    ));
    let sign_in = Arc::new(SignIn::new(
        store.clone(),
        throttle.clone(),
        metrics.clone(),
        tokens.clone(),
        clock.clone(),
        server_keys.csrf,
        cfg.directory.clone().map(|d| Arc::new(crate::directory::Directory::new(d, store.clone(), clock.clone()))),
    ));
    let factors = Arc::new(crate::factors::Factors::new(
        store.clone(),
        sealer.clone(),
        throttle.clone(),
        metrics.clone(),
        clock.clone(),
        Arc::new(SystemRng),
        cfg.factors.clone(),
    ));
    let issuing = Issuing { store: store.clone(), tokens: tokens.clone(), clock: clock.clone() };
    let backchannel = Arc::new(Backchannel::new(store.clone(), tokens.clone(), clock.clone()));
    let request_objects = Arc::new(RequestObjects::new(
        store.clone(),
        client_keys.clone(),
        clock.clone(),
        tokens.clone(),
        catalog.clone(),
        cfg.par_required,
    ));
    let upstreams = Arc::new(crate::upstreams::Upstreams::new(
        cfg.upstreams.clone(),
        sealer.clone(),
        &cfg.fetch,
        store.clone(),
        tokens.clone(),
        clock.clone(),
        metrics.clone(),
    ));
    upstreams.reload().await?;
    background::spawn_upstream_reloader(&upstreams, cfg.catalog_reload_interval);
    Ok(Gatehouse {
        upstreams,
        password_login: cfg.password_login,
        request_objects,
        client_auth: Arc::new(ClientAuth::new(
            clients.clone(),
            throttle.clone(),
            Assertions {
                keys: client_keys.clone(),
                sealer: sealer.clone(),
                store: store.clone(),
                clock: clock.clone(),
                issuer: tokens.issuer.clone(),
            },
        )),
        grants: Arc::new(Grants::new(issuing, sign_in.clone(), factors.clone(), metrics.clone())),
        authorization: Arc::new(Authorization::new(store.clone(), clients, tokens.clone(), clock.clone())),
        lifecycle: Arc::new(TokenLifecycle::new(store.clone(), tokens.clone(), clock.clone())),
        devices: Arc::new(Devices::new(store.clone(), tokens.clone(), clock.clone(), throttle)),
        admin: Arc::new(Administration::new(
            store.clone(),
            clock.clone(),
            keys.clone(),
            catalog.clone(),
            backchannel.clone(),
            sealer.clone(),
        )),
        registration: Arc::new(Registration::new(
            store.clone(),
            tokens.clone(),
            clock.clone(),
            cfg.registration.clone(),
            cfg.fetch.allow_loopback,
            client_keys.fetcher().clone(),
        )),
        backchannel,
        dpop,
        client_keys,
        sign_in,
        factors,
        store,
        clock,
        keys,
        catalog,
        tokens,
        metrics,
    })
}
