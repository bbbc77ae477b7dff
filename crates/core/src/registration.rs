//! Dynamic client registration (RFC 7591) and management (RFC 7592), apart from HTTP.
//!
//! Open, or gated by an initial access token (RFC 7591 §3). A registered client is validated
//! like every other client (exact redirect URIs) and capped by policy: only the allowed scopes
//! and grants, never `gatehouse:admin` or `password`, and none of the operator-only settings
//! (first-party, lifetimes, introspection rights) since metadata Gatehouse does not offer to
//! registrants is ignored (RFC 7591 §2).

use crate::admin::{Admin, AdminError, Written};
use crate::config::RegistrationPolicy;
use crate::issuer::{TokenIssuer, hash_token};
use crate::secrets::constant_time_eq;
use gatehouse_protocol::authorize::SUPPORTED_RESPONSE_TYPES;
use gatehouse_protocol::client::{ApplicationType, ClientSpec, FieldError, TokenEndpointAuthMethod};
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::grant::GrantType;
use gatehouse_protocol::registration::check_redirect_uris;
use gatehouse_protocol::{Client, ClientId, RedirectUri};
use gatehouse_store::Store;
use serde_json::{Value, json};
use std::sync::Arc;

/// The RFC 7591 §2 metadata a registrant may set; anything else is ignored.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Metadata {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    #[serde(default)]
    application_type: Option<String>,
    /// RFC 9449 §5.2: the client will always use DPoP.
    #[serde(default)]
    dpop_bound_access_tokens: bool,
    #[serde(default)]
    jwks: Option<Value>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    token_endpoint_auth_signing_alg: Option<String>,
    #[serde(default)]
    request_object_signing_alg: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    #[serde(default)]
    userinfo_signed_response_alg: Option<String>,
    #[serde(default)]
    introspection_signed_response_alg: Option<String>,
    #[serde(default)]
    authorization_signed_response_alg: Option<String>,
    #[serde(default)]
    id_token_encrypted_response_alg: Option<String>,
    #[serde(default)]
    id_token_encrypted_response_enc: Option<String>,
    #[serde(default)]
    userinfo_encrypted_response_alg: Option<String>,
    #[serde(default)]
    userinfo_encrypted_response_enc: Option<String>,
    #[serde(default)]
    introspection_encrypted_response_alg: Option<String>,
    #[serde(default)]
    introspection_encrypted_response_enc: Option<String>,
    #[serde(default)]
    authorization_encrypted_response_alg: Option<String>,
    #[serde(default)]
    authorization_encrypted_response_enc: Option<String>,
    #[serde(default)]
    initiate_login_uri: Option<String>,
    #[serde(default)]
    subject_type: Option<String>,
    #[serde(default)]
    sector_identifier_uri: Option<String>,
}

/// Why a registration request was refused (RFC 7591 §3.2.2, RFC 6750 §3.1).
#[derive(Debug)]
pub enum RegistrationError {
    /// `invalid_redirect_uri` or `invalid_client_metadata`, with a description.
    Metadata { code: &'static str, description: String },
    /// The access token is missing or not valid for this client.
    InvalidToken,
    /// The server failed; the detail is for the log.
    Server(String),
}

/// Where a registrant asked for its grants: `grant_types`, or only `response_types` (which
/// imply them).
fn grants_field(m: &Metadata) -> &'static str {
    if m.grant_types.is_none() && m.response_types.is_some() { "response_types" } else { "grant_types" }
}

impl RegistrationError {
    pub fn metadata(description: impl Into<String>) -> Self {
        Self::Metadata { code: "invalid_client_metadata", description: description.into() }
    }
}

/// RFC 7591 §3.2.2: redirect URI problems are `invalid_redirect_uri`, others `invalid_client_metadata`.
impl From<AdminError> for RegistrationError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(fields) => {
                let code = if fields.iter().any(|f| f.key.contains("redirect_uri")) {
                    "invalid_redirect_uri"
                } else {
                    "invalid_client_metadata"
                };
                let description = fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                Self::Metadata { code, description }
            }
            AdminError::Conflict(m) => Self::metadata(m),
            AdminError::NotFound(_) => Self::InvalidToken,
            e => Self::Server(e.to_string()),
        }
    }
}

impl From<gatehouse_store::StoreError> for RegistrationError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        AdminError::from(e).into()
    }
}

pub struct Registration {
    store: Arc<dyn Store>,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
    policy: RegistrationPolicy,
    /// `[fetch] allow_loopback` (tests): a `jwks_uri` may be plain http to a loopback address.
    loopback_fetches: bool,
    /// Fetches `sector_identifier_uri` documents (the `[fetch]` policy).
    fetcher: crate::fetch::Fetcher,
    sealer: Arc<crate::sealing::Sealer>,
}

type Result<T> = std::result::Result<T, RegistrationError>;

impl Registration {
    pub fn new(
        store: Arc<dyn Store>,
        tokens: Arc<TokenIssuer>,
        clock: Arc<dyn Clock>,
        policy: RegistrationPolicy,
        loopback_fetches: bool,
        fetcher: crate::fetch::Fetcher,
    ) -> Self {
        let sealer = tokens.sealer.clone();
        Self { store, tokens, clock, policy, loopback_fetches, fetcher, sealer }
    }

    /// Whether `/register` exists at all (off by default).
    pub fn enabled(&self) -> bool {
        self.policy.enabled
    }

    fn registrar(&self) -> Admin<'_> {
        Admin {
            store: self.store.as_ref(),
            sealer: &self.sealer,
            actor: "registration".to_owned(),
            now: self.clock.now(),
        }
    }

    /// RFC 7591 §3: whether `bearer` is the initial access token, when one is required.
    pub fn admits(&self, bearer: Option<&str>) -> bool {
        match &self.policy.initial_access_token {
            Some(expected) => bearer.is_some_and(|t| constant_time_eq(t, expected.expose())),
            None => true,
        }
    }

    /// RFC 7591 §3.1: registers a client. `bearer` is the initial access token, when one came.
    pub async fn register(&self, bearer: Option<&str>, m: Metadata) -> Result<Value> {
        if !self.admits(bearer) {
            return Err(RegistrationError::InvalidToken);
        }
        let client_id = self.tokens.random(16);
        let grants_field = grants_field(&m);
        let spec = self.spec(client_id, m)?;
        self.check_sector(&spec).await?;
        let Written { client, generated_secret } =
            self.registrar().create_client_within(&spec, &self.within(grants_field)).await?;
        let rat = self.tokens.random(32);
        self.store.set_registration_token(&client.id, Some(&hash_token(&rat))).await?;
        let mut extra = json!({
            "client_id_issued_at": self.clock.now(),
            "registration_access_token": rat,
        });
        if let (Some(s), Some(o)) = (&generated_secret, extra.as_object_mut()) {
            o.insert("client_secret".into(), json!(s.expose()));
            // RFC 7591 §3.2.1: 0 means the secret does not expire.
            o.insert("client_secret_expires_at".into(), json!(0));
        }
        Ok(self.metadata(&client, extra))
    }

    /// RFC 7592 §2.1: the client's metadata as registered, with `registration_access_token`
    /// and `registration_client_uri`. Only the token's hash is stored, so a new one is issued
    /// (§2.1 allows it) and the one presented stops working.
    pub async fn read(&self, client: &Client) -> Result<Value> {
        let rat = self.tokens.random(32);
        self.store.set_registration_token(&client.id, Some(&hash_token(&rat))).await?;
        Ok(self.metadata(client, json!({ "registration_access_token": rat })))
    }

    /// RFC 7592 §2.2: replaces the metadata; the secret stays.
    pub async fn update(&self, client: Client, m: Metadata) -> Result<Value> {
        // §2.2: the client_id in the body must be the client's.
        if m.client_id.as_deref() != Some(client.id.as_str()) {
            return Err(RegistrationError::metadata("client_id must be the registered client's"));
        }
        let was_public = client.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
        let grants_field = grants_field(&m);
        let spec = self.spec(client.id.to_string(), m)?;
        self.check_sector(&spec).await?;
        let Written { client, generated_secret } =
            self.registrar().update_client_within(client.id.as_str(), &spec, &self.within(grants_field)).await?;
        let mut extra = json!({});
        if let (Some(s), Some(o), true) = (&generated_secret, extra.as_object_mut(), was_public) {
            o.insert("client_secret".into(), json!(s.expose()));
            o.insert("client_secret_expires_at".into(), json!(0));
        }
        Ok(self.metadata(&client, extra))
    }

    /// RFC 7592 §2.3: deletes the client.
    pub async fn delete(&self, client: &Client) -> Result<()> {
        self.registrar().delete_client(client.id.as_str()).await?;
        Ok(())
    }

    /// The client whose registration access token came with the request (RFC 7592 §2).
    pub async fn registered_client(&self, bearer: Option<&str>, id: &str) -> Result<Client> {
        let token = bearer.ok_or(RegistrationError::InvalidToken)?;
        let id = ClientId::parse(id).map_err(|_| RegistrationError::InvalidToken)?;
        match self.store.registration_token(&id).await? {
            Some(h) if constant_time_eq(&h, &hash_token(token)) => {}
            _ => return Err(RegistrationError::InvalidToken),
        }
        self.store.get_client(&id).await?.ok_or(RegistrationError::InvalidToken)
    }

    /// OIDC Dynamic Client Registration §5: a pairwise client's `sector_identifier_uri` is
    /// fetched (SSRF-safe) and must list every one of its redirect URIs.
    async fn check_sector(&self, spec: &ClientSpec) -> Result<()> {
        let Some(uri) = spec.sector_identifier_uri.as_deref() else { return Ok(()) };
        let bad = |why: String| RegistrationError::Metadata { code: "invalid_client_metadata", description: why };
        if !uri.starts_with("https://") && !self.loopback_fetches {
            return Err(bad("sector_identifier_uri: must be an https URL".into()));
        }
        let url = url::Url::parse(uri).map_err(|_| bad("sector_identifier_uri: not a URL".into()))?;
        let body = match self.fetcher.get(&url, "application/json").await {
            Ok(f) if f.status == 200 => f.body,
            Ok(f) => return Err(bad(format!("sector_identifier_uri: answered {}", f.status))),
            Err(e) => return Err(bad(format!("sector_identifier_uri: {e}"))),
        };
        let redirect_uris: Vec<RedirectUri> =
            spec.redirect_uris.iter().filter_map(|u| RedirectUri::parse(u).ok()).collect();
        gatehouse_protocol::pairwise::check_sector_document(&body, &redirect_uris)
            .map_err(|why| RegistrationError::Metadata { code: "invalid_redirect_uri", description: why })
    }

    /// The metadata as a client spec, capped by the policy.
    fn spec(&self, client_id: String, m: Metadata) -> std::result::Result<ClientSpec, AdminError> {
        let policy = &self.policy;
        let scope = m.scope.unwrap_or_else(|| policy.allowed_scopes.to_string());
        if let Some(s) = scope.split(' ').filter(|s| !s.is_empty()).find(|s| !policy.allowed_scopes.contains(s)) {
            return Err(AdminError::field(
                "scope",
                format!("{s:?} may not be registered; allowed: {}", policy.allowed_scopes),
            ));
        }
        // RFC 7591 §2: grant_types defaults to authorization_code.
        let grant_types = m.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
        // offline_access asks for refresh tokens: a client without the grant is not given it
        // (and so is never told it has it).
        let scope = if grant_types.iter().any(|g| g == "refresh_token") {
            scope
        } else {
            scope.split(' ').filter(|s| !s.is_empty() && *s != "offline_access").collect::<Vec<_>>().join(" ")
        };
        let application_type = match m.application_type.as_deref() {
            None => ApplicationType::Web,
            Some(t) => ApplicationType::parse(t)
                .ok_or_else(|| AdminError::field("application_type", format!("{t:?} is not web or native")))?,
        };
        Ok(ClientSpec {
            client_id,
            application_type,
            client_name: m.client_name,
            scope: Some(scope),
            grant_types: Some(grant_types),
            response_types: m.response_types,
            redirect_uris: m.redirect_uris,
            post_logout_redirect_uris: m.post_logout_redirect_uris,
            token_endpoint_auth_method: m.token_endpoint_auth_method,
            id_token_signed_response_alg: m.id_token_signed_response_alg,
            backchannel_logout_uri: m.backchannel_logout_uri,
            backchannel_logout_session_required: m.backchannel_logout_session_required,
            dpop_bound_access_tokens: m.dpop_bound_access_tokens,
            jwks: m.jwks,
            jwks_uri: m.jwks_uri,
            token_endpoint_auth_signing_alg: m.token_endpoint_auth_signing_alg,
            request_object_signing_alg: m.request_object_signing_alg,
            require_pushed_authorization_requests: m.require_pushed_authorization_requests,
            userinfo_signed_response_alg: m.userinfo_signed_response_alg,
            introspection_signed_response_alg: m.introspection_signed_response_alg,
            authorization_signed_response_alg: m.authorization_signed_response_alg,
            id_token_encrypted_response_alg: m.id_token_encrypted_response_alg,
            id_token_encrypted_response_enc: m.id_token_encrypted_response_enc,
            userinfo_encrypted_response_alg: m.userinfo_encrypted_response_alg,
            userinfo_encrypted_response_enc: m.userinfo_encrypted_response_enc,
            introspection_encrypted_response_alg: m.introspection_encrypted_response_alg,
            introspection_encrypted_response_enc: m.introspection_encrypted_response_enc,
            authorization_encrypted_response_alg: m.authorization_encrypted_response_alg,
            authorization_encrypted_response_enc: m.authorization_encrypted_response_enc,
            initiate_login_uri: m.initiate_login_uri,
            subject_type: m.subject_type,
            sector_identifier_uri: m.sector_identifier_uri,
            ..Default::default()
        })
    }

    /// The grants a registered client ends up with (from grant_types and response_types) must
    /// all be allowed, and its redirect URIs must suit its `application_type`. A refused grant
    /// is reported against `grants_field`, the field the registrant wrote it in.
    fn within(
        &self,
        grants_field: &'static str,
    ) -> impl Fn(&Client) -> std::result::Result<(), Vec<FieldError>> + Sync + '_ {
        move |c| {
            if let Some(g) = c.grants.iter().find(|g| !self.policy.allowed_grants.contains(*g)) {
                let allowed = &self.policy.allowed_grants;
                let response_types: Vec<String> = SUPPORTED_RESPONSE_TYPES
                    .iter()
                    .filter(|rt| allowed.contains(rt.required_grant()))
                    .map(ToString::to_string)
                    .collect();
                return Err(vec![FieldError::new(
                    grants_field,
                    format!(
                        "needs the {g} grant, which may not be registered here; allowed grant_types: {}; \
                         allowed response_types: {}",
                        allowed.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
                        response_types.join(", ")
                    ),
                )]);
            }
            let implicit = c.grants.contains(GrantType::Implicit) || c.grants.contains(GrantType::Hybrid);
            let mut problems = check_redirect_uris(c.application_type, implicit, &c.redirect_uris);
            // Gatehouse POSTs to it: a registrant may not point it inside the network (delivery
            // also refuses non-public addresses, whatever the name resolves to then).
            if c.backchannel_logout_uri.as_ref().is_some_and(|u| !u.as_str().starts_with("https://")) {
                problems.push(FieldError::new("backchannel_logout_uri", "must be an https URL"));
            }
            if c.initiate_login_uri.as_ref().is_some_and(|u| !u.as_str().starts_with("https://")) {
                problems.push(FieldError::new("initiate_login_uri", "must be an https URL"));
            }
            // Fetched by Gatehouse as well: https only (the fetcher refuses inner addresses).
            if c.keys.jwks_uri.as_deref().is_some_and(|u| !u.starts_with("https://") && !self.loopback_fetches) {
                problems.push(FieldError::new("jwks_uri", "must be an https URL"));
            }
            if problems.is_empty() { Ok(()) } else { Err(problems) }
        }
    }

    /// RFC 7591 §3.2.1 / RFC 7592 §3: the client's metadata as registered.
    fn metadata(&self, c: &Client, extra: Value) -> Value {
        let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
        if let Some(o) = v.as_object_mut() {
            // RFC 7591 names: grant_types and response_types instead of Gatehouse's grants.
            o.remove("grants");
            let grant_types: std::collections::BTreeSet<&str> =
                c.grants.iter().flat_map(|g| g.registration_grant_types().iter().copied()).collect();
            o.insert("grant_types".into(), json!(grant_types));
            let response_types: Vec<String> = SUPPORTED_RESPONSE_TYPES
                .iter()
                .filter(|rt| c.grants.contains(rt.required_grant()))
                .map(ToString::to_string)
                .collect();
            o.insert("response_types".into(), json!(response_types));
            o.insert("registration_client_uri".into(), json!(format!("{}/register/{}", self.tokens.issuer, c.id)));
            if let Value::Object(e) = extra {
                o.extend(e);
            }
        }
        v
    }
}
