//! The client model (DESIGN.md §2, RFC 7591 §2 metadata names) and its validation.
//!
//! A [`ClientSpec`] is what an operator writes (config file, admin API, registration); it is
//! validated once into a [`Client`]. Errors name the key and say what is allowed, so the config
//! loader and the admin API report them the same way.

use crate::client_keys::{self, ClientKeys};
use crate::client_responses::{self, ResponseFormats};
use crate::error::OAuthError;
use crate::grant::{GrantSet, GrantType, ResponseType};
use crate::jose::{IdTokenAlg, SigningAlg};
use crate::redirect_uri::RedirectUri;
use crate::resource_id::ResourceId;
use crate::scope::ScopeSet;
use crate::secret::{Secret, SecretHash};
use serde::Deserialize;
use std::fmt;

/// A client identifier: 1–255 printable ASCII characters without spaces (RFC 6749 §2.2 leaves
/// the format to the server; this keeps it safe in URLs, headers and logs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.is_empty() || s.len() > 255 {
            return Err("must be 1 to 255 characters");
        }
        if !s.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
            return Err("must be printable ASCII without spaces");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::string_serde!(ClientId, |s: &str| ClientId::parse(s).ok(), |v: &ClientId| v.0.clone());

/// RFC 7591 §2 `token_endpoint_auth_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpointAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// OIDC Core §9, RFC 7523 §2.2: a JWT signed with one of the client's own keys.
    PrivateKeyJwt,
    /// OIDC Core §9: a JWT with HS256 keyed by the client secret (which Gatehouse then keeps
    /// sealed, not hashed).
    ClientSecretJwt,
    None,
}

impl TokenEndpointAuthMethod {
    pub const ALL: [Self; 5] =
        [Self::ClientSecretBasic, Self::ClientSecretPost, Self::PrivateKeyJwt, Self::ClientSecretJwt, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

crate::string_serde!(TokenEndpointAuthMethod, TokenEndpointAuthMethod::parse, |v: &TokenEndpointAuthMethod| v
    .as_str()
    .to_owned());

/// OIDC Dynamic Client Registration §2 `application_type`: what kind of redirect URIs a
/// registered client may use (checked at registration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApplicationType {
    #[default]
    Web,
    Native,
}

impl ApplicationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Native => "native",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Web, Self::Native].into_iter().find(|t| t.as_str() == s)
    }

    pub fn is_web(&self) -> bool {
        *self == Self::Web
    }
}

crate::string_serde!(ApplicationType, ApplicationType::parse, |v: &ApplicationType| v.as_str().to_owned());

/// A validated client. Its serde form (RFC 7591 names) is the stored document and the admin
/// API's view; the secret hash never appears in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Client {
    #[serde(rename = "client_id")]
    pub id: ClientId,
    #[serde(rename = "client_name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `None`: a public client (RFC 6749 §2.1), which must use PKCE. Stored apart from the document.
    #[serde(skip)]
    pub secret: Option<SecretHash>,
    /// Space-separated scopes the client may ask for.
    #[serde(rename = "scope")]
    pub scopes: ScopeSet,
    pub grants: GrantSet,
    pub redirect_uris: Vec<RedirectUri>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub id_token_signed_response_alg: IdTokenAlg,
    /// `None`: the server-wide default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signed_response_alg: Option<SigningAlg>,
    /// First-party clients skip the consent page.
    #[serde(default)]
    pub first_party: bool,
    /// Every user signing in to this client must use a second factor (and enrols one first
    /// when they have none).
    #[serde(default)]
    pub require_second_factor: bool,
    /// PKCE is always required of public clients; this requires it of a confidential one too.
    #[serde(default)]
    pub require_pkce: bool,
    /// Accept `code_challenge_method=plain` (RFC 7636 §4.2); off unless an operator opts in.
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// As a resource server, the token audiences this client may introspect (RFC 7662 §4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introspection_audiences: Vec<String>,
    /// The resources (RFC 8707) this client may ask tokens for, besides those open to any client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::resource_id::ResourceId>,
    /// The audience of its tokens when a request names no `resource`; empty: the issuer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_resources: Vec<crate::resource_id::ResourceId>,
    /// RFC 9449 §5.2: every token request must carry a DPoP proof.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// Its public keys and what it signs with them (`private_key_jwt`, request objects).
    #[serde(flatten)]
    pub keys: ClientKeys,
    /// Signed userinfo and introspection responses.
    #[serde(flatten)]
    pub responses: ResponseFormats,
    /// Public or pairwise subject identifiers (OIDC Core §8).
    #[serde(flatten)]
    pub subjects: crate::pairwise::Subjects,
    /// OIDC Core §4: where a third party (Gatehouse's `/initiate_login/{client_id}`) sends a
    /// browser to have this client start a sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<RedirectUri>,
    /// RFC 9126 §6: its authorization requests must be pushed to `/par` first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// Lifetimes (seconds) overriding the server's for this client.
    #[serde(default, skip_serializing_if = "ClientLifetimes::is_empty")]
    pub lifetimes: ClientLifetimes,
    /// OIDC Back-Channel Logout 1.0 §2.2: where to POST a logout token when a session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<RedirectUri>,
    /// Whether the logout token must carry `sid` (it always does here).
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    #[serde(default, skip_serializing_if = "ApplicationType::is_web")]
    pub application_type: ApplicationType,
}

/// Per-client lifetime overrides, in seconds; `None` uses the server-wide value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientLifetimes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_absolute_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_ttl: Option<i64>,
    /// Seconds during which a just-rotated refresh token presented again by this client is
    /// answered as a retry rather than revoking its family (0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_reuse_grace: Option<i64>,
    /// The longest-lived SSO session this client accepts: sign-ins older than this must be
    /// renewed for it (a default `max_age`, OIDC Core §3.1.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<i64>,
}

impl ClientLifetimes {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The longest lifetime, in seconds, this client's tokens can be given: the key that signed
    /// them must stay published that long.
    pub fn longest_token(&self) -> Option<i64> {
        self.access_token_ttl.into_iter().chain(self.id_token_ttl).max()
    }
}

/// The range every lifetime must be in: one second to a leap year.
pub const LIFETIME_RANGE: std::ops::RangeInclusive<i64> = 1..=366 * 86_400;

/// The range of a refresh token's reuse grace window: off, up to five minutes. A retry comes
/// within seconds; a longer window only gives a thief longer.
pub const REUSE_GRACE_RANGE: std::ops::RangeInclusive<i64> = 0..=300;

impl Client {
    /// Whether Gatehouse must be able to use this client's secret as a key (HS256 ID tokens,
    /// `client_secret_jwt`): it is then kept sealed, not hashed.
    pub fn needs_usable_secret(&self) -> bool {
        self.id_token_signed_response_alg == IdTokenAlg::Hs256
            || self.token_endpoint_auth_method == TokenEndpointAuthMethod::ClientSecretJwt
    }

    /// A public client (RFC 6749 §2.1): it cannot authenticate.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }

    /// The spec that validates back into this client, secret hash included (export, updates).
    pub fn to_spec(&self) -> ClientSpec {
        let l = &self.lifetimes;
        let r = &self.responses;
        ClientSpec {
            client_id: self.id.as_str().to_owned(),
            client_secret: None,
            client_secret_hash: self.secret.as_ref().map(SecretHash::to_stored),
            client_name: self.name.clone(),
            scope: Some(self.scopes.to_string()),
            // The defaults stay implicit, as an operator would have written them.
            grants: (self.grants != default_grants(self.is_public()))
                .then(|| self.grants.iter().map(|g| g.as_str().to_owned()).collect()),
            grant_types: None,
            response_types: None,
            redirect_uris: self.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            token_endpoint_auth_method: Some(self.token_endpoint_auth_method.as_str().to_owned()),
            id_token_signed_response_alg: Some(self.id_token_signed_response_alg.as_str().to_owned()),
            access_token_signed_response_alg: self.access_token_signed_response_alg.map(|a| a.as_str().to_owned()),
            first_party: self.first_party,
            require_second_factor: self.require_second_factor,
            require_pkce: self.require_pkce,
            allow_plain_pkce: self.allow_plain_pkce,
            introspection_audiences: self.introspection_audiences.clone(),
            resources: self.resources.iter().map(|r| r.as_str().to_owned()).collect(),
            default_resources: self.default_resources.iter().map(|r| r.as_str().to_owned()).collect(),
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            jwks: self.keys.jwks.as_ref().map(crate::jwk::Jwks::to_value),
            jwks_uri: self.keys.jwks_uri.clone(),
            token_endpoint_auth_signing_alg: self.keys.token_endpoint_auth_signing_alg.map(|a| a.as_str().to_owned()),
            request_object_signing_alg: self.keys.request_object_signing_alg.map(|a| a.as_str().to_owned()),
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            userinfo_signed_response_alg: self.responses.userinfo_signed_response_alg.map(|a| a.as_str().to_owned()),
            introspection_signed_response_alg: self
                .responses
                .introspection_signed_response_alg
                .map(|a| a.as_str().to_owned()),
            authorization_signed_response_alg: self
                .responses
                .authorization_signed_response_alg
                .map(|a| a.as_str().to_owned()),
            id_token_encrypted_response_alg: r.id_token_encrypted_response_alg.map(|a| a.as_str().to_owned()),
            id_token_encrypted_response_enc: r.id_token_encrypted_response_enc.map(|a| a.as_str().to_owned()),
            userinfo_encrypted_response_alg: r.userinfo_encrypted_response_alg.map(|a| a.as_str().to_owned()),
            userinfo_encrypted_response_enc: r.userinfo_encrypted_response_enc.map(|a| a.as_str().to_owned()),
            introspection_encrypted_response_alg: r.introspection_encrypted_response_alg.map(|a| a.as_str().to_owned()),
            introspection_encrypted_response_enc: r.introspection_encrypted_response_enc.map(|a| a.as_str().to_owned()),
            authorization_encrypted_response_alg: r.authorization_encrypted_response_alg.map(|a| a.as_str().to_owned()),
            authorization_encrypted_response_enc: r.authorization_encrypted_response_enc.map(|a| a.as_str().to_owned()),
            initiate_login_uri: self.initiate_login_uri.as_ref().map(|u| u.as_str().to_owned()),
            subject_type: (!self.subjects.subject_type.is_public())
                .then(|| self.subjects.subject_type.as_str().to_owned()),
            sector_identifier_uri: self.subjects.sector_identifier_uri.clone(),
            authorization_code_ttl: l.authorization_code_ttl,
            access_token_ttl: l.access_token_ttl,
            id_token_ttl: l.id_token_ttl,
            refresh_token_idle_ttl: l.refresh_token_idle_ttl,
            refresh_token_absolute_ttl: l.refresh_token_absolute_ttl,
            device_code_ttl: l.device_code_ttl,
            refresh_token_reuse_grace: l.refresh_token_reuse_grace,
            session_ttl: l.session_ttl,
            backchannel_logout_uri: self.backchannel_logout_uri.as_ref().map(|u| u.as_str().to_owned()),
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            application_type: self.application_type,
        }
    }

    pub fn pkce_required(&self) -> bool {
        self.is_public() || self.require_pkce
    }

    /// What a request for `requested` scopes gets, of `allowed` (the client's scopes, or fewer
    /// for a grant that excludes some). OIDC Core §3.1.2.1: scope values that are not understood
    /// SHOULD be ignored, so names `known` does not know are dropped; so is `offline_access` when
    /// this client may not use refresh tokens (nothing could honour it; OIDC Core §11). A known
    /// scope beyond `allowed` is `invalid_scope`. Absent, the request gets all of `allowed`
    /// (RFC 6749 §3.3 lets the server default). The token response names the result when it
    /// differs from the request (RFC 6749 §5.1; Gatehouse always names it).
    pub fn grantable_scope(
        &self,
        requested: Option<&ScopeSet>,
        allowed: &ScopeSet,
        known: &dyn Fn(&str) -> bool,
    ) -> Result<ScopeSet, OAuthError> {
        let refresh = self.grants.contains(GrantType::RefreshToken);
        let honoured = |s: &&crate::scope::Scope| refresh || s.as_str() != "offline_access";
        let Some(requested) = requested else { return Ok(allowed.iter().filter(honoured).cloned().collect()) };
        let kept: ScopeSet = requested.iter().filter(|s| known(s.as_str())).filter(honoured).cloned().collect();
        if !kept.is_subset(allowed) {
            return Err(OAuthError::InvalidScope("the client may not ask for a requested scope"));
        }
        if kept.is_empty() && !requested.is_empty() {
            return Err(OAuthError::InvalidScope("none of the requested scopes can be granted"));
        }
        Ok(kept)
    }
}

/// A client as an operator writes it. Both the Gatehouse names (`grants`, `scope`) and the
/// RFC 7591 names (`grant_types`, `response_types`) are accepted.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub client_id: String,
    #[serde(default, skip_serializing)]
    pub client_secret: Option<Secret>,
    /// A stored hash (`$argon2id$...` or `sha256:...`) instead of the secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_party: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_second_factor: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pkce: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plain_pkce: bool,
    /// Audiences whose tokens this client may introspect as a resource server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introspection_audiences: Vec<String>,
    /// Resource identifiers (RFC 8707) this client may ask tokens for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The audience of its tokens when a request names no `resource`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_resources: Vec<String>,
    /// RFC 9449 §5.2: the client always sends DPoP proofs, and its tokens are always bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// The client's public JWK set, for `private_key_jwt` and signed request objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its JWK set instead (https; refetched when it rotates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_enc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_enc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_absolute_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_ttl: Option<i64>,
    /// Seconds during which a just-rotated refresh token presented again by this client is
    /// answered as a retry rather than revoking its family (0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_reuse_grace: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    #[serde(default, skip_serializing_if = "ApplicationType::is_web")]
    pub application_type: ApplicationType,
}

/// One problem with one key of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub key: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self { key, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The secret half of a validated spec, still to be hashed (argon2 runs off the runtime).
#[derive(Debug, Clone)]
pub enum SecretInput {
    Plain(Secret),
    Hashed(SecretHash),
}

/// A validated client whose secret (if any) is not hashed yet.
#[derive(Debug, Clone)]
pub struct ValidClient {
    /// `secret` is `None` here; the caller sets it from `secret_input`.
    pub client: Client,
    pub secret_input: Option<SecretInput>,
}

impl ClientSpec {
    /// Validates the spec. `scope_defined` says whether a scope name exists (built-in or
    /// operator-defined). Returns every problem found, not just the first.
    pub fn validate(&self, scope_defined: &dyn Fn(&str) -> bool) -> Result<ValidClient, Vec<FieldError>> {
        let mut errs = Vec::new();

        let id = ClientId::parse(&self.client_id).map_err(|m| errs.push(FieldError::new("client_id", m))).ok();

        let secret_input = match (&self.client_secret, &self.client_secret_hash) {
            (Some(_), Some(_)) => {
                errs.push(FieldError::new("client_secret_hash", "give client_secret or client_secret_hash, not both"));
                None
            }
            (Some(s), None) if s.expose().is_empty() => {
                errs.push(FieldError::new("client_secret", "is empty; omit it for a public client"));
                None
            }
            (Some(s), None) => Some(SecretInput::Plain(s.clone())),
            (None, Some(h)) => match SecretHash::parse(h) {
                Ok(h) => Some(SecretInput::Hashed(h)),
                Err(e) => {
                    errs.push(FieldError::new("client_secret_hash", e.to_string()));
                    None
                }
            },
            (None, None) => None,
        };
        let has_secret = self.client_secret.is_some() || self.client_secret_hash.is_some();
        let key_auth =
            self.token_endpoint_auth_method.as_deref() == Some(TokenEndpointAuthMethod::PrivateKeyJwt.as_str());
        let public = !has_secret && !key_auth;
        let mut key_errs = Vec::new();
        let keys = ClientKeys::validate(
            &client_keys::Raw {
                jwks: self.jwks.as_ref(),
                jwks_uri: self.jwks_uri.as_deref(),
                token_endpoint_auth_signing_alg: self.token_endpoint_auth_signing_alg.as_deref(),
                request_object_signing_alg: self.request_object_signing_alg.as_deref(),
            },
            &mut key_errs,
        );
        let responses = ResponseFormats::validate(
            &client_responses::Raw {
                userinfo_signed_response_alg: self.userinfo_signed_response_alg.as_deref(),
                introspection_signed_response_alg: self.introspection_signed_response_alg.as_deref(),
                authorization_signed_response_alg: self.authorization_signed_response_alg.as_deref(),
                encrypted: [
                    (self.id_token_encrypted_response_alg.as_deref(), self.id_token_encrypted_response_enc.as_deref()),
                    (self.userinfo_encrypted_response_alg.as_deref(), self.userinfo_encrypted_response_enc.as_deref()),
                    (
                        self.introspection_encrypted_response_alg.as_deref(),
                        self.introspection_encrypted_response_enc.as_deref(),
                    ),
                    (
                        self.authorization_encrypted_response_alg.as_deref(),
                        self.authorization_encrypted_response_enc.as_deref(),
                    ),
                ],
            },
            &keys,
            &mut key_errs,
        );
        errs.extend(key_errs.into_iter().map(|(k, m)| FieldError::new(k, m)));
        if key_auth && has_secret {
            errs.push(FieldError::new(
                "token_endpoint_auth_method",
                "private_key_jwt authenticates with the client's keys; remove client_secret",
            ));
        }
        if key_auth && !keys.has_keys() {
            errs.push(FieldError::new(
                "token_endpoint_auth_method",
                "private_key_jwt needs the client's jwks or jwks_uri",
            ));
        }

        let scopes = match ScopeSet::parse(self.scope.as_deref().unwrap_or("")) {
            Ok(s) => {
                for sc in s.iter() {
                    if !scope_defined(sc.as_str()) {
                        errs.push(FieldError::new(
                            "scope",
                            format!("scope {:?} is not defined; define it in [[scopes]] or use a built-in one (openid profile email address phone offline_access)", sc.as_str()),
                        ));
                    }
                }
                s
            }
            Err(e) => {
                errs.push(FieldError::new("scope", e.to_string()));
                ScopeSet::default()
            }
        };

        let grants = self.grant_set(public, &mut errs);

        for g in grants.iter() {
            if public && g.needs_confidential_client() {
                errs.push(FieldError::new(
                    "grants",
                    format!("{g} needs a confidential client: give the client a client_secret, or remove {g}"),
                ));
            }
        }

        let redirect_uris = parse_uris("redirect_uris", &self.redirect_uris, &mut errs);
        let mut subject_errs = Vec::new();
        let subjects = crate::pairwise::Subjects::validate(
            self.subject_type.as_deref(),
            self.sector_identifier_uri.as_deref(),
            &redirect_uris,
            &mut subject_errs,
        );
        errs.extend(subject_errs.into_iter().map(|(k, m)| FieldError::new(k, m)));
        let post_logout_redirect_uris =
            parse_uris("post_logout_redirect_uris", &self.post_logout_redirect_uris, &mut errs);
        let explicit_grants = self.grants.is_some() || self.grant_types.is_some() || self.response_types.is_some();
        if explicit_grants
            && redirect_uris.is_empty()
            && let Some(g) = grants.iter().find(|g| g.uses_redirect())
        {
            errs.push(FieldError::new(
                "redirect_uris",
                format!("{g} sends the user back to the client: list at least one redirect URI"),
            ));
        }

        let default_method =
            if public { TokenEndpointAuthMethod::None } else { TokenEndpointAuthMethod::ClientSecretBasic };
        let token_endpoint_auth_method = match self.token_endpoint_auth_method.as_deref() {
            None => default_method,
            Some(m) => match TokenEndpointAuthMethod::parse(m) {
                Some(TokenEndpointAuthMethod::None) if !public => {
                    errs.push(FieldError::new(
                        "token_endpoint_auth_method",
                        "\"none\" is for public clients; this client has a secret (use client_secret_basic or client_secret_post)",
                    ));
                    default_method
                }
                Some(m @ TokenEndpointAuthMethod::PrivateKeyJwt) => m,
                Some(m) if public && m != TokenEndpointAuthMethod::None => {
                    errs.push(FieldError::new(
                        "token_endpoint_auth_method",
                        format!("{:?} needs a client_secret; a public client uses \"none\"", m.as_str()),
                    ));
                    default_method
                }
                Some(m) => m,
                None => {
                    errs.push(FieldError::new(
                        "token_endpoint_auth_method",
                        format!(
                            "unknown method {m:?}; supported: client_secret_basic, client_secret_post, private_key_jwt, none"
                        ),
                    ));
                    default_method
                }
            },
        };

        let id_token_signed_response_alg = match self.id_token_signed_response_alg.as_deref() {
            None => IdTokenAlg::Key(SigningAlg::RS256),
            Some(raw) => IdTokenAlg::parse(raw).unwrap_or_else(|| {
                errs.push(FieldError::new(
                    "id_token_signed_response_alg",
                    format!("unknown algorithm {raw:?}; supported: {}, HS256", SigningAlg::names()),
                ));
                IdTokenAlg::Key(SigningAlg::RS256)
            }),
        };
        // OIDC Core §10.1: HS256 is keyed by the client secret, which only a client that has
        // one (and authenticates with it) can share with Gatehouse.
        if id_token_signed_response_alg == IdTokenAlg::Hs256 && !has_secret {
            errs.push(FieldError::new(
                "id_token_signed_response_alg",
                "HS256 ID tokens are keyed by the client secret: give the client a client_secret",
            ));
        }
        let access_token_signed_response_alg =
            parse_alg("access_token_signed_response_alg", self.access_token_signed_response_alg.as_deref(), &mut errs);

        if !public && self.introspection_audiences.iter().any(|a| a.is_empty()) {
            errs.push(FieldError::new("introspection_audiences", "an audience is empty"));
        }
        if public && !self.introspection_audiences.is_empty() {
            errs.push(FieldError::new("introspection_audiences", "a resource server must be a confidential client"));
        }
        let resources = parse_resources("resources", &self.resources, &mut errs);
        let default_resources = parse_resources("default_resources", &self.default_resources, &mut errs);
        // Back-Channel Logout §2.2: an absolute URI without a fragment.
        let backchannel_logout_uri = match self.backchannel_logout_uri.as_deref().map(RedirectUri::parse) {
            None => None,
            Some(Ok(u)) if u.as_str().starts_with("https://") || u.as_str().starts_with("http://") => Some(u),
            Some(Ok(_)) => {
                errs.push(FieldError::new("backchannel_logout_uri", "must be an http(s) URL"));
                None
            }
            Some(Err(e)) => {
                errs.push(FieldError::new("backchannel_logout_uri", e.to_string()));
                None
            }
        };
        // OIDC Core §4: https (plain http only to a loopback address, for development).
        let initiate_login_uri = match self.initiate_login_uri.as_deref().map(RedirectUri::parse) {
            None => None,
            Some(Ok(u)) if u.as_str().starts_with("https://") || u.is_loopback_http() => Some(u),
            Some(Ok(_)) => {
                errs.push(FieldError::new("initiate_login_uri", "must be an https URL"));
                None
            }
            Some(Err(e)) => {
                errs.push(FieldError::new("initiate_login_uri", e.to_string()));
                None
            }
        };
        let lifetimes = ClientLifetimes {
            authorization_code_ttl: self.authorization_code_ttl,
            access_token_ttl: self.access_token_ttl,
            id_token_ttl: self.id_token_ttl,
            refresh_token_idle_ttl: self.refresh_token_idle_ttl,
            refresh_token_absolute_ttl: self.refresh_token_absolute_ttl,
            device_code_ttl: self.device_code_ttl,
            refresh_token_reuse_grace: self.refresh_token_reuse_grace,
            session_ttl: self.session_ttl,
        };
        for (key, v) in [
            ("authorization_code_ttl", self.authorization_code_ttl),
            ("access_token_ttl", self.access_token_ttl),
            ("id_token_ttl", self.id_token_ttl),
            ("refresh_token_idle_ttl", self.refresh_token_idle_ttl),
            ("refresh_token_absolute_ttl", self.refresh_token_absolute_ttl),
            ("device_code_ttl", self.device_code_ttl),
            ("session_ttl", self.session_ttl),
        ] {
            if let Some(v) = v.filter(|v| !LIFETIME_RANGE.contains(v)) {
                errs.push(FieldError::new(key, format!("{v} is not a number of seconds from 1 to 31622400")));
            }
        }
        if let Some(v) = self.refresh_token_reuse_grace.filter(|v| !REUSE_GRACE_RANGE.contains(v)) {
            errs.push(FieldError::new(
                "refresh_token_reuse_grace",
                format!("{v} is not a number of seconds from 0 to 300"),
            ));
        }
        if self.client_name.as_deref().is_some_and(|n| n.chars().any(char::is_control)) {
            errs.push(FieldError::new("client_name", "has control characters"));
        }

        match id {
            Some(id) if errs.is_empty() => Ok(ValidClient {
                client: Client {
                    id,
                    name: self.client_name.clone(),
                    secret: None,
                    scopes,
                    grants,
                    redirect_uris,
                    post_logout_redirect_uris,
                    token_endpoint_auth_method,
                    id_token_signed_response_alg,
                    access_token_signed_response_alg,
                    first_party: self.first_party,
                    require_second_factor: self.require_second_factor,
                    require_pkce: self.require_pkce,
                    allow_plain_pkce: self.allow_plain_pkce,
                    introspection_audiences: self.introspection_audiences.clone(),
                    resources,
                    default_resources,
                    dpop_bound_access_tokens: self.dpop_bound_access_tokens,
                    keys,
                    responses,
                    subjects,
                    initiate_login_uri,
                    require_pushed_authorization_requests: self.require_pushed_authorization_requests,
                    lifetimes,
                    backchannel_logout_uri,
                    backchannel_logout_session_required: self.backchannel_logout_session_required,
                    application_type: self.application_type,
                },
                secret_input,
            }),
            _ => Err(errs),
        }
    }

    /// `grants`, `grant_types` and `response_types` together, or the defaults (DESIGN.md §2).
    fn grant_set(&self, public: bool, errs: &mut Vec<FieldError>) -> GrantSet {
        let mut set = GrantSet::default();
        for (key, list) in [("grants", &self.grants), ("grant_types", &self.grant_types)] {
            for entry in list.iter().flatten() {
                if let Err(bad) = set.extend_from_entry(entry) {
                    errs.push(FieldError::new(
                        key,
                        format!("unknown grant {bad:?}; valid grants: {}", GrantType::valid_names()),
                    ));
                }
            }
        }
        // RFC 7591 §2.1: response types map onto the interactions that produce them.
        for rt in self.response_types.iter().flatten() {
            match ResponseType::parse(rt) {
                Some(rt) => set.insert(rt.required_grant()),
                None => errs.push(FieldError::new(
                    "response_types",
                    format!(
                        "unknown response type {rt:?}; valid: code, id_token, \"id_token token\", token, \"code id_token\", \"code token\", \"code id_token token\""
                    ),
                )),
            }
        }
        // RFC 7591 §2.1: `implicit` in grant_types means the implicit/hybrid response types; a
        // bare `authorization_code` with hybrid response types is already covered above.
        if self.grants.is_none() && self.grant_types.is_none() && self.response_types.is_none() {
            set = default_grants(public);
        }
        set
    }
}

/// DESIGN.md §2: without `grants`, a confidential client gets `client_credentials` and
/// `authorization_code`, a public one `authorization_code`.
fn default_grants(public: bool) -> GrantSet {
    let mut set = GrantSet::default();
    set.insert(GrantType::AuthorizationCode);
    if !public {
        set.insert(GrantType::ClientCredentials);
    }
    set
}

fn parse_uris(key: &'static str, raw: &[String], errs: &mut Vec<FieldError>) -> Vec<RedirectUri> {
    let mut out: Vec<RedirectUri> = Vec::with_capacity(raw.len());
    for u in raw {
        match RedirectUri::parse(u) {
            Ok(u) if out.contains(&u) => errs.push(FieldError::new(key, format!("{:?} is listed twice", u.as_str()))),
            Ok(u) => out.push(u),
            Err(e) => errs.push(FieldError::new(key, e.to_string())),
        }
    }
    out
}

fn parse_resources(key: &'static str, raw: &[String], errs: &mut Vec<FieldError>) -> Vec<ResourceId> {
    let mut out: Vec<ResourceId> = Vec::new();
    for r in raw {
        match ResourceId::parse(r) {
            Ok(id) if !out.contains(&id) => out.push(id),
            Ok(_) => {}
            Err(m) => errs.push(FieldError::new(key, format!("{r:?} {m}"))),
        }
    }
    out
}

fn parse_alg(key: &'static str, raw: Option<&str>, errs: &mut Vec<FieldError>) -> Option<SigningAlg> {
    let raw = raw?;
    match SigningAlg::parse(raw) {
        Some(a) => Some(a),
        None => {
            errs.push(FieldError::new(key, format!("unknown algorithm {raw:?}; supported: {}", SigningAlg::names())));
            None
        }
    }
}

#[cfg(test)]
mod tests;
