//! The documents the store keeps in its JSON columns, as types the store owns, with explicit
//! conversions from and to the protocol's types. A protocol field renamed or retyped does not
//! silently change what is stored: the record's field names and value forms are the schema,
//! and a change to them is a change here (and a migration for rows already written).
//!
//! Value types that serialise as one string by design (`ScopeSet`, `ClientId`, `RedirectUri`,
//! `ResponseType`) keep that form; enums are kept by their protocol names (`S256`,
//! `form_post`), converted here by hand.

use crate::{Result, StoreError};
use gatehouse_protocol::authorize::{AuthorizeRequest, Prompt, ResponseMode};
use gatehouse_protocol::claims::{ClaimTargets, ScopeDefinition};
use gatehouse_protocol::claims_request::ClaimsRequest;
use gatehouse_protocol::client::ClientId;
use gatehouse_protocol::client::{ApplicationType, Client, ClientLifetimes, TokenEndpointAuthMethod};
use gatehouse_protocol::client_keys::ClientKeys;
use gatehouse_protocol::client_responses::ResponseFormats;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::grant::GrantSet;
use gatehouse_protocol::grant::ResponseType;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::pkce;
use gatehouse_protocol::redirect_uri::RedirectUri;
use gatehouse_protocol::resource::{ResourceDefinition, ResourceId};
use gatehouse_protocol::scope::Scope;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::authorization_code::CodeGrant;
use gatehouse_protocol::token::refresh_token::RefreshGrant;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Encodes a record for its column.
pub(crate) fn encode<T: Serialize>(table: &'static str, record: &T) -> Result<String> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt { table, detail: format!("encode: {e}") })
}

/// Decodes a column into its record.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(table: &'static str, raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt { table, detail: e.to_string() })
}

fn corrupt(table: &'static str, what: &str) -> StoreError {
    StoreError::Corrupt { table, detail: format!("{what} does not parse") }
}

fn pkce_method(m: pkce::Method) -> String {
    match m {
        pkce::Method::S256 => "S256",
        pkce::Method::Plain => "plain",
    }
    .to_owned()
}

fn parse_pkce_method(table: &'static str, m: Option<String>) -> Result<Option<pkce::Method>> {
    m.map(|m| pkce::Method::parse(&m).ok_or_else(|| corrupt(table, "code_challenge_method"))).transpose()
}

/// `authorization_codes.document`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodeRecord {
    grant_id: String,
    client_id: String,
    sub: String,
    redirect_uri: String,
    scope: ScopeSet,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    auth_time: UnixTime,
    sid: String,
    amr: Vec<String>,
    expires_at: UnixTime,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ResourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claims: Option<ClaimsRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acr: Option<String>,
}

impl From<&CodeGrant> for CodeRecord {
    fn from(g: &CodeGrant) -> Self {
        Self {
            grant_id: g.grant_id.clone(),
            client_id: g.client_id.clone(),
            sub: g.sub.clone(),
            redirect_uri: g.redirect_uri.clone(),
            scope: g.scope.clone(),
            nonce: g.nonce.clone(),
            code_challenge: g.code_challenge.clone(),
            code_challenge_method: g.code_challenge_method.map(pkce_method),
            auth_time: g.auth_time,
            sid: g.sid.clone(),
            amr: g.amr.clone(),
            expires_at: g.expires_at,
            resources: g.resources.clone(),
            dpop_jkt: g.dpop_jkt.clone(),
            claims: g.claims.clone(),
            acr: g.acr.clone(),
        }
    }
}

impl TryFrom<CodeRecord> for CodeGrant {
    type Error = StoreError;

    fn try_from(r: CodeRecord) -> Result<Self> {
        Ok(Self {
            code_challenge_method: parse_pkce_method("authorization_codes", r.code_challenge_method)?,
            grant_id: r.grant_id,
            client_id: r.client_id,
            sub: r.sub,
            redirect_uri: r.redirect_uri,
            scope: r.scope,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            auth_time: r.auth_time,
            sid: r.sid,
            amr: r.amr,
            expires_at: r.expires_at,
            resources: r.resources,
            dpop_jkt: r.dpop_jkt,
            claims: r.claims,
            acr: r.acr,
        })
    }
}

/// `refresh_tokens.document`. Borrows when written (a rotation writes one per request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefreshRecord<'a> {
    family_id: Cow<'a, str>,
    client_id: Cow<'a, str>,
    sub: Cow<'a, str>,
    scope: Cow<'a, ScopeSet>,
    auth_time: UnixTime,
    sid: Cow<'a, str>,
    amr: Cow<'a, [String]>,
    expires_at: UnixTime,
    family_expires_at: UnixTime,
    #[serde(default, skip_serializing_if = "<[ResourceId]>::is_empty")]
    resources: Cow<'a, [ResourceId]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claims: Option<Cow<'a, ClaimsRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acr: Option<Cow<'a, str>>,
}

impl<'a> From<&'a RefreshGrant> for RefreshRecord<'a> {
    fn from(g: &'a RefreshGrant) -> Self {
        Self {
            family_id: Cow::Borrowed(&g.family_id),
            client_id: Cow::Borrowed(&g.client_id),
            sub: Cow::Borrowed(&g.sub),
            scope: Cow::Borrowed(&g.scope),
            auth_time: g.auth_time,
            sid: Cow::Borrowed(&g.sid),
            amr: Cow::Borrowed(&g.amr),
            expires_at: g.expires_at,
            family_expires_at: g.family_expires_at,
            resources: Cow::Borrowed(&g.resources),
            dpop_jkt: g.dpop_jkt.as_deref().map(Cow::Borrowed),
            claims: g.claims.as_ref().map(Cow::Borrowed),
            acr: g.acr.as_deref().map(Cow::Borrowed),
        }
    }
}

impl From<RefreshRecord<'_>> for RefreshGrant {
    fn from(r: RefreshRecord<'_>) -> Self {
        Self {
            family_id: r.family_id.into_owned(),
            client_id: r.client_id.into_owned(),
            sub: r.sub.into_owned(),
            scope: r.scope.into_owned(),
            auth_time: r.auth_time,
            sid: r.sid.into_owned(),
            amr: r.amr.into_owned(),
            expires_at: r.expires_at,
            family_expires_at: r.family_expires_at,
            resources: r.resources.into_owned(),
            dpop_jkt: r.dpop_jkt.map(Cow::into_owned),
            claims: r.claims.map(Cow::into_owned),
            acr: r.acr.map(Cow::into_owned),
        }
    }
}

/// `prompt` of a pending request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct PromptRecord {
    none: bool,
    login: bool,
    consent: bool,
    select_account: bool,
}

/// `interactions.request`: the authorization request waiting for sign-in and consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestRecord {
    client_id: ClientId,
    redirect_uri: RedirectUri,
    response_type: ResponseType,
    response_mode: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    jarm: bool,
    scope: ScopeSet,
    state: Option<String>,
    nonce: Option<String>,
    prompt: PromptRecord,
    max_age: Option<i64>,
    login_hint: Option<String>,
    id_token_hint: Option<String>,
    acr_values: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    ui_locales: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ResourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claims: Option<ClaimsRequest>,
}

fn response_mode(m: ResponseMode) -> String {
    match m {
        ResponseMode::Query => "query",
        ResponseMode::Fragment => "fragment",
        ResponseMode::FormPost => "form_post",
    }
    .to_owned()
}

impl From<&AuthorizeRequest> for RequestRecord {
    fn from(r: &AuthorizeRequest) -> Self {
        let Prompt { none, login, consent, select_account } = r.prompt;
        Self {
            client_id: r.client_id.clone(),
            redirect_uri: r.redirect_uri.clone(),
            response_type: r.response_type,
            response_mode: response_mode(r.response_mode),
            jarm: r.jarm,
            scope: r.scope.clone(),
            state: r.state.clone(),
            nonce: r.nonce.clone(),
            prompt: PromptRecord { none, login, consent, select_account },
            max_age: r.max_age,
            login_hint: r.login_hint.clone(),
            id_token_hint: r.id_token_hint.clone(),
            acr_values: r.acr_values.clone(),
            code_challenge: r.code_challenge.clone(),
            code_challenge_method: r.code_challenge_method.map(pkce_method),
            ui_locales: r.ui_locales.clone(),
            resources: r.resources.clone(),
            dpop_jkt: r.dpop_jkt.clone(),
            claims: r.claims.clone(),
        }
    }
}

impl TryFrom<RequestRecord> for AuthorizeRequest {
    type Error = StoreError;

    fn try_from(r: RequestRecord) -> Result<Self> {
        let PromptRecord { none, login, consent, select_account } = r.prompt;
        Ok(Self {
            response_mode: ResponseMode::parse(&r.response_mode)
                .ok_or_else(|| corrupt("interactions", "response_mode"))?,
            code_challenge_method: parse_pkce_method("interactions", r.code_challenge_method)?,
            jarm: r.jarm,
            client_id: r.client_id,
            redirect_uri: r.redirect_uri,
            response_type: r.response_type,
            scope: r.scope,
            state: r.state,
            nonce: r.nonce,
            prompt: Prompt { none, login, consent, select_account },
            max_age: r.max_age,
            login_hint: r.login_hint,
            id_token_hint: r.id_token_hint,
            acr_values: r.acr_values,
            code_challenge: r.code_challenge,
            ui_locales: r.ui_locales,
            resources: r.resources,
            dpop_jkt: r.dpop_jkt,
            claims: r.claims,
        })
    }
}

/// Per-client lifetimes in `clients.document`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct LifetimesRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_code_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token_idle_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token_absolute_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_code_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token_reuse_grace: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_ttl: Option<i64>,
}

impl LifetimesRecord {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `clients.document`, in RFC 7591 names. The secret's hash is a column of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClientRecord {
    client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_name: Option<String>,
    scope: ScopeSet,
    grants: GrantSet,
    redirect_uris: Vec<RedirectUri>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<RedirectUri>,
    token_endpoint_auth_method: TokenEndpointAuthMethod,
    id_token_signed_response_alg: gatehouse_protocol::jose::IdTokenAlg,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_signed_response_alg: Option<SigningAlg>,
    #[serde(default)]
    first_party: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    require_second_factor: bool,
    #[serde(default)]
    require_pkce: bool,
    #[serde(default)]
    allow_plain_pkce: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    introspection_audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ResourceId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    default_resources: Vec<ResourceId>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    dpop_bound_access_tokens: bool,
    #[serde(flatten)]
    keys: ClientKeys,
    #[serde(flatten)]
    responses: ResponseFormats,
    #[serde(flatten)]
    subjects: gatehouse_protocol::pairwise::Subjects,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    initiate_login_uri: Option<RedirectUri>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    require_pushed_authorization_requests: bool,
    #[serde(default, skip_serializing_if = "LifetimesRecord::is_empty")]
    lifetimes: LifetimesRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backchannel_logout_uri: Option<RedirectUri>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    #[serde(default, skip_serializing_if = "ApplicationType::is_web")]
    application_type: ApplicationType,
}

impl From<&Client> for ClientRecord {
    fn from(c: &Client) -> Self {
        let l = &c.lifetimes;
        Self {
            client_id: c.id.clone(),
            client_name: c.name.clone(),
            scope: c.scopes.clone(),
            grants: c.grants.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            id_token_signed_response_alg: c.id_token_signed_response_alg,
            access_token_signed_response_alg: c.access_token_signed_response_alg,
            first_party: c.first_party,
            require_second_factor: c.require_second_factor,
            require_pkce: c.require_pkce,
            allow_plain_pkce: c.allow_plain_pkce,
            introspection_audiences: c.introspection_audiences.clone(),
            resources: c.resources.clone(),
            default_resources: c.default_resources.clone(),
            dpop_bound_access_tokens: c.dpop_bound_access_tokens,
            keys: c.keys.clone(),
            responses: c.responses.clone(),
            subjects: c.subjects.clone(),
            initiate_login_uri: c.initiate_login_uri.clone(),
            require_pushed_authorization_requests: c.require_pushed_authorization_requests,
            lifetimes: LifetimesRecord {
                authorization_code_ttl: l.authorization_code_ttl,
                access_token_ttl: l.access_token_ttl,
                id_token_ttl: l.id_token_ttl,
                refresh_token_idle_ttl: l.refresh_token_idle_ttl,
                refresh_token_absolute_ttl: l.refresh_token_absolute_ttl,
                device_code_ttl: l.device_code_ttl,
                refresh_token_reuse_grace: l.refresh_token_reuse_grace,
                session_ttl: l.session_ttl,
            },
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: c.backchannel_logout_session_required,
            application_type: c.application_type,
        }
    }
}

impl ClientRecord {
    /// The client, with the secret hash read from its own column.
    pub(crate) fn into_client(self, secret: Option<gatehouse_protocol::secret::SecretHash>) -> Client {
        let l = self.lifetimes;
        Client {
            id: self.client_id,
            name: self.client_name,
            secret,
            scopes: self.scope,
            grants: self.grants,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            id_token_signed_response_alg: self.id_token_signed_response_alg,
            access_token_signed_response_alg: self.access_token_signed_response_alg,
            first_party: self.first_party,
            require_second_factor: self.require_second_factor,
            require_pkce: self.require_pkce,
            allow_plain_pkce: self.allow_plain_pkce,
            introspection_audiences: self.introspection_audiences,
            resources: self.resources,
            default_resources: self.default_resources,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            keys: self.keys,
            responses: self.responses,
            subjects: self.subjects,
            initiate_login_uri: self.initiate_login_uri,
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            lifetimes: ClientLifetimes {
                authorization_code_ttl: l.authorization_code_ttl,
                access_token_ttl: l.access_token_ttl,
                id_token_ttl: l.id_token_ttl,
                refresh_token_idle_ttl: l.refresh_token_idle_ttl,
                refresh_token_absolute_ttl: l.refresh_token_absolute_ttl,
                device_code_ttl: l.device_code_ttl,
                refresh_token_reuse_grace: l.refresh_token_reuse_grace,
                session_ttl: l.session_ttl,
            },
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            application_type: self.application_type,
        }
    }
}

/// Where a scope's claims go, in `scopes.document`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct TargetsRecord {
    id_token: bool,
    access_token: bool,
    userinfo: bool,
}

/// `scopes.document`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScopeRecord {
    name: Scope,
    claims: Vec<String>,
    description: String,
    targets: TargetsRecord,
    #[serde(default)]
    builtin: bool,
}

impl From<&ScopeDefinition> for ScopeRecord {
    fn from(d: &ScopeDefinition) -> Self {
        let ClaimTargets { id_token, access_token, userinfo } = d.targets;
        Self {
            name: d.name.clone(),
            claims: d.claims.clone(),
            description: d.description.clone(),
            targets: TargetsRecord { id_token, access_token, userinfo },
            builtin: d.builtin,
        }
    }
}

impl From<ScopeRecord> for ScopeDefinition {
    fn from(r: ScopeRecord) -> Self {
        let TargetsRecord { id_token, access_token, userinfo } = r.targets;
        Self {
            name: r.name,
            claims: r.claims,
            description: r.description,
            targets: ClaimTargets { id_token, access_token, userinfo },
            builtin: r.builtin,
        }
    }
}

/// `resources.document`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResourceRecord {
    identifier: ResourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default)]
    scopes: ScopeSet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_signing_alg: Option<SigningAlg>,
    #[serde(default)]
    any_client: bool,
}

impl From<&ResourceDefinition> for ResourceRecord {
    fn from(d: &ResourceDefinition) -> Self {
        Self {
            identifier: d.identifier.clone(),
            name: d.name.clone(),
            scopes: d.scopes.clone(),
            access_token_ttl: d.access_token_ttl,
            access_token_signing_alg: d.access_token_signing_alg,
            any_client: d.any_client,
        }
    }
}

impl From<ResourceRecord> for ResourceDefinition {
    fn from(r: ResourceRecord) -> Self {
        Self {
            identifier: r.identifier,
            name: r.name,
            scopes: r.scopes,
            access_token_ttl: r.access_token_ttl,
            access_token_signing_alg: r.access_token_signing_alg,
            any_client: r.any_client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored form is the one rows already hold: a record decodes what the protocol types
    /// wrote before records existed, and writes it back the same.
    #[test]
    fn records_keep_the_stored_form() {
        let code = r#"{"grant_id":"g","client_id":"c","sub":"s","redirect_uri":"https://a/cb","scope":"openid profile","nonce":null,"code_challenge":"x","code_challenge_method":"S256","auth_time":1,"sid":"i","amr":["pwd"],"expires_at":2}"#;
        let r: CodeRecord = decode("t", code).unwrap();
        let g = CodeGrant::try_from(r.clone()).unwrap();
        assert_eq!(g.code_challenge_method, Some(pkce::Method::S256));
        assert_eq!(encode("t", &CodeRecord::from(&g)).unwrap(), code);

        let refresh = r#"{"family_id":"f","client_id":"c","sub":"s","scope":"offline_access openid","auth_time":1,"sid":"i","amr":["pwd"],"expires_at":2,"family_expires_at":3}"#;
        let g = RefreshGrant::from(decode::<RefreshRecord>("t", refresh).unwrap());
        assert_eq!(encode("t", &RefreshRecord::from(&g)).unwrap(), refresh);

        let request = r#"{"client_id":"c","redirect_uri":"https://a/cb","response_type":"code id_token","response_mode":"form_post","scope":"openid","state":"st","nonce":"n","prompt":{"none":false,"login":true,"consent":false,"select_account":false},"max_age":60,"login_hint":null,"id_token_hint":null,"acr_values":null,"code_challenge":null,"code_challenge_method":null,"ui_locales":"de"}"#;
        let req = AuthorizeRequest::try_from(decode::<RequestRecord>("t", request).unwrap()).unwrap();
        assert_eq!(req.response_mode, ResponseMode::FormPost);
        assert!(req.prompt.login);
        assert_eq!(encode("t", &RequestRecord::from(&req)).unwrap(), request);
    }

    #[test]
    fn client_and_scope_records_keep_the_stored_form() {
        let client = r#"{"client_id":"web","client_name":"Web","scope":"openid profile","grants":["authorization_code","refresh_token"],"redirect_uris":["https://a/cb"],"post_logout_redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","id_token_signed_response_alg":"RS256","first_party":false,"require_pkce":true,"allow_plain_pkce":false,"lifetimes":{"access_token_ttl":600},"backchannel_logout_session_required":false}"#;
        let c = decode::<ClientRecord>("t", client).unwrap().into_client(None);
        assert_eq!(c.lifetimes.access_token_ttl, Some(600));
        assert!(c.require_pkce);
        assert_eq!(encode("t", &ClientRecord::from(&c)).unwrap(), client);

        let resource = r#"{"identifier":"https://mcp.example.com/mcp","name":"MCP","scopes":"mcp:tools","access_token_ttl":300,"access_token_signing_alg":"ES256","any_client":true}"#;
        let d = ResourceDefinition::from(decode::<ResourceRecord>("t", resource).unwrap());
        assert_eq!(d.access_token_signing_alg, Some(SigningAlg::ES256));
        assert_eq!(encode("t", &ResourceRecord::from(&d)).unwrap(), resource);

        let scope = r#"{"name":"roles","claims":["roles"],"description":"Your roles","targets":{"id_token":true,"access_token":false,"userinfo":true},"builtin":false}"#;
        let d = ScopeDefinition::from(decode::<ScopeRecord>("t", scope).unwrap());
        assert!(d.targets.id_token && !d.targets.access_token);
        assert_eq!(encode("t", &ScopeRecord::from(&d)).unwrap(), scope);
    }

    #[test]
    fn a_record_with_an_unknown_method_is_corrupt_not_a_panic() {
        let code = r#"{"grant_id":"g","client_id":"c","sub":"s","redirect_uri":"https://a/cb","scope":"openid","nonce":null,"code_challenge":"x","code_challenge_method":"S512","auth_time":1,"sid":"i","amr":[],"expires_at":2}"#;
        let r: CodeRecord = decode("authorization_codes", code).unwrap();
        assert!(matches!(CodeGrant::try_from(r), Err(StoreError::Corrupt { .. })));
    }
}
