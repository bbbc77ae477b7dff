//! The scopes and resource servers (RFC 8707) in force and the discovery document built from
//! them (OIDC Discovery 1.0 §3, RFC 8414 §2), rendered once per change rather than per request.
//!
//! Scopes and resources live in the store. A node rebuilds its catalog at once when it changes a scope itself
//! (admin API, registration) and re-reads the store every `catalog_reload_interval` seconds, so a
//! change made on another node or by the CLI is seen within that bound.

use bytes::Bytes;
use gatehouse_protocol::authorize::{ResponseMode, SUPPORTED_RESPONSE_TYPES};
use gatehouse_protocol::claims::{ScopeDefinition, builtin_scopes, is_gatehouse_scope};
use gatehouse_protocol::client::TokenEndpointAuthMethod;
use gatehouse_protocol::discovery::{Capabilities, Endpoints, ProviderMetadata};
use gatehouse_protocol::grant::GrantType;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::protected_resource::ProtectedResourceMetadata;
use gatehouse_protocol::resource::ResourceDefinition;
use gatehouse_store::{Store, StoreError};
use std::sync::{Arc, RwLock};

/// One consistent view: the scopes, the resources, and the discovery document that advertises them.
pub struct CatalogView {
    pub scopes: Vec<ScopeDefinition>,
    pub resources: Vec<ResourceDefinition>,
    pub discovery: Bytes,
    /// RFC 9728 metadata of Gatehouse's own protected APIs (userinfo, the admin API).
    pub resource_metadata: Bytes,
}

impl CatalogView {
    /// Whether `scope` is defined here (built in or configured): other names in a request are
    /// ignored (OIDC Core §3.1.2.1).
    pub fn knows(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.name.as_str() == scope)
    }
}

/// What discovery advertises beyond the endpoints every build has.
#[derive(Debug, Clone, Default)]
pub struct Features {
    /// `/register` exists.
    pub registration: bool,
    /// Client ID metadata documents are fetched.
    pub client_id_metadata_documents: bool,
    /// `[par] required`: every client must push its authorization requests.
    pub par_required: bool,
    /// The `acr` levels (`acr_values_supported`).
    pub acr_values: Vec<String>,
    /// `[secrets] sealing_key` is set: `client_secret_jwt` and HS256 ID tokens are offered.
    pub sealing: bool,
}

pub struct Catalog {
    issuer: Arc<str>,
    algs: Vec<SigningAlg>,
    registration: Features,
    current: RwLock<Arc<CatalogView>>,
}

impl Catalog {
    pub async fn load(
        store: &dyn Store,
        issuer: Arc<str>,
        algs: Vec<SigningAlg>,
        registration: Features,
    ) -> Result<Self, StoreError> {
        let view = Self::render(store, &issuer, &algs, &registration).await?;
        Ok(Self { issuer, algs, registration, current: RwLock::new(Arc::new(view)) })
    }

    pub fn get(&self) -> Arc<CatalogView> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the scopes; the old view stays in force if the store fails.
    pub async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let view = Arc::new(Self::render(store, &self.issuer, &self.algs, &self.registration).await?);
        match self.current.write() {
            Ok(mut g) => *g = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
        Ok(())
    }

    async fn render(
        store: &dyn Store,
        issuer: &str,
        algs: &[SigningAlg],
        registration: &Features,
    ) -> Result<CatalogView, StoreError> {
        let mut scopes = builtin_scopes();
        scopes.extend(store.list_scopes().await?.into_iter().filter(|s| !s.builtin));
        let doc = ProviderMetadata::build(issuer, &capabilities(algs, &scopes, registration));
        let discovery = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
        let resources = store.list_resources().await?;
        // Every scope a token for Gatehouse's own APIs can carry: the OpenID ones and the
        // operator's claims scopes, not those that belong to other resources.
        let own_scopes: Vec<String> = scopes
            .iter()
            .map(|s| s.name.as_str())
            .filter(|s| !resources.iter().any(|r| r.scopes.contains(s)))
            .map(str::to_owned)
            .collect();
        let prm = ProtectedResourceMetadata::for_issuer(issuer, own_scopes);
        let resource_metadata = Bytes::from(serde_json::to_vec(&prm).unwrap_or_default());
        Ok(CatalogView { scopes, resources, discovery, resource_metadata })
    }
}

/// What this build implements; discovery advertises exactly this (grows as endpoints land).
pub fn capabilities(
    algs: &[gatehouse_protocol::jose::SigningAlg],
    scopes: &[ScopeDefinition],
    features: &Features,
) -> Capabilities {
    // The management scopes are Gatehouse's own business, not something relying parties ask for.
    let scopes: Vec<&ScopeDefinition> = scopes.iter().filter(|s| !is_gatehouse_scope(s.name.as_str())).collect();
    let mut claims: Vec<String> = vec!["sub".into(), "iss".into(), "aud".into(), "exp".into(), "iat".into()];
    for s in &scopes {
        for c in &s.claims {
            if !claims.contains(c) {
                claims.push(c.clone());
            }
        }
    }
    Capabilities {
        response_types: SUPPORTED_RESPONSE_TYPES.to_vec(),
        response_modes: ResponseMode::SUPPORTED.to_vec(),
        grant_types: vec![
            GrantType::AuthorizationCode,
            GrantType::Implicit,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
            GrantType::Password,
            GrantType::DeviceCode,
        ],
        token_endpoint_auth_methods: TokenEndpointAuthMethod::ALL
            .into_iter()
            .filter(|m| features.sealing || *m != TokenEndpointAuthMethod::ClientSecretJwt)
            .collect(),
        hs256_id_tokens: features.sealing,
        signing_algs: algs.to_vec(),
        scopes: scopes.iter().map(|s| s.name.as_str().to_owned()).collect(),
        claims,
        // plain is accepted only from clients an operator opted in; S256 is what to use.
        code_challenge_methods: vec!["S256"],
        endpoints: Endpoints {
            authorization: Some("/authorize"),
            token: Some("/token"),
            userinfo: Some("/userinfo"),
            device_authorization: Some("/device_authorization"),
            introspection: Some("/introspect"),
            revocation: Some("/revoke"),
            end_session: Some("/end_session"),
            jwks: "/jwks",
            registration: features.registration.then_some("/register"),
            pushed_authorization_request: Some("/par"),
        },
        par_required: features.par_required,
        acr_values: features.acr_values.clone(),
        backchannel_logout: true,
        client_id_metadata_documents: features.client_id_metadata_documents,
    }
}
