//! What the user grants share once validated: deciding what to issue (the access token's id,
//! the refresh token and its row) before anything is stored, so a redemption records it in the
//! same statement that retires the code or refresh token; signing afterwards; and the answer to
//! a replay (RFC 6749 §4.1.2, RFC 9700 §4.14.2).

use crate::client_keys::Encrypter;
use crate::issuer::{IdTokenInput, Subject, TokenIssuer, hash_token};
use gatehouse_protocol::claims_request::ClaimsRequest;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::clock::{Clock, UnixTime};
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::grant::GrantType;
use gatehouse_protocol::resource::{self, Audience, ResourceId};
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::TokenResponse;
use gatehouse_protocol::token::refresh_token::RefreshGrant;
use gatehouse_protocol::user::User;
use gatehouse_store::{IssuedAccessToken, NewRefresh, Store};
use std::sync::Arc;

/// What every grant issues with: the store, the token minting, the clock.
pub struct Issuing {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenIssuer>,
    pub clock: Arc<dyn Clock>,
}

impl Issuing {
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> OAuthError {
    OAuthError::Server(InternalError::new(e.to_string()))
}

/// What a token request asks beyond its grant: a scope, resources (RFC 8707), and the DPoP
/// key its proof was signed with (RFC 9449), to bind the tokens to.
#[derive(Clone, Copy)]
pub struct Requested<'a> {
    pub scope: Option<&'a ScopeSet>,
    pub resources: &'a [ResourceId],
    pub dpop_jkt: Option<&'a str>,
}

/// `token_type` of the answer: `DPoP` for bound tokens (RFC 9449 §5).
pub fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() { "DPoP" } else { "Bearer" }
}

/// A grant bound to a DPoP key (a code by `dpop_jkt`, a public client's refresh token) may only
/// be used with a proof by that key (RFC 9449 §5.0, §10).
pub fn check_binding(bound: Option<&str>, presented: Option<&str>) -> Result<(), OAuthError> {
    match (bound, presented) {
        (Some(b), Some(p)) if b == p => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::InvalidDpopProof("the grant is bound to another DPoP key")),
        (Some(_), None) => Err(OAuthError::InvalidDpopProof("the grant is bound to a DPoP key: send a proof")),
        (None, _) => Ok(()),
    }
}

/// This token's scope and audience (RFC 8707): `scope` without the scopes of resources outside
/// `resources`, and the audience those resources make.
pub fn target(core: &Issuing, scope: &ScopeSet, resources: &[ResourceId]) -> Result<(ScopeSet, Audience), OAuthError> {
    let catalog = core.tokens.catalog.get();
    let scope = resource::scope_for(scope, resources, &catalog.resources);
    let audience = Audience::of(resources, &scope, &core.tokens.issuer, &catalog.resources)?;
    Ok((scope, audience))
}

/// What a user grant (code, refresh, password) has established about the sign-in.
pub struct UserGrant<'a> {
    pub user: &'a User,
    /// The scope of the tokens issued now (already without other resources' scopes, [`target`]).
    pub scope: ScopeSet,
    /// The audience of the access token issued now.
    pub audience: Audience,
    /// The resources of the whole grant, which the refresh token keeps (RFC 8707 §2.2).
    pub resources: Vec<ResourceId>,
    /// The DPoP key of this request's proof: the access token is bound to it, and so is a
    /// public client's refresh token.
    pub dpop_jkt: Option<String>,
    /// The scope the refresh token keeps: the original grant's, even when a refresh narrowed
    /// `scope` (RFC 6749 §6: the new refresh token has the same scope as the old).
    pub grant_scope: ScopeSet,
    pub auth_time: UnixTime,
    pub sid: String,
    pub amr: Vec<String>,
    pub nonce: Option<String>,
    /// The claims the authorization request asked for by name (OIDC Core §5.5).
    pub claims: Option<ClaimsRequest>,
    /// The sign-in's authentication context class.
    pub acr: Option<String>,
    /// The refresh family to continue, or a new one with this id.
    pub family_id: String,
    pub family_expires_at: Option<UnixTime>,
    /// For a client that has its ID tokens encrypted: looked up before anything is stored.
    pub id_token_encrypter: Option<Encrypter>,
}

/// What a user grant issues, decided before anything is stored, so a redemption can record it
/// in the same statement that retires the code or refresh token.
pub struct Planned {
    pub access_token: IssuedAccessToken,
    /// The refresh token and its row, when the client gets one.
    pub refresh: Option<(String, NewRefresh)>,
}

/// What was presented again after its single use.
#[derive(Clone, Copy)]
pub enum Replay {
    Code,
    RefreshToken,
    /// A refresh token whose family was already revoked (sign-out, revocation, a replayed
    /// code, an administrator): refused, not a new replay.
    RevokedRefreshToken,
}

/// A used code or rotated refresh token presented again (or a concurrent use that lost the
/// race): revokes everything issued from its grant (RFC 6749 §4.1.2, RFC 9700 §4.14.2) and
/// returns the error to answer with.
pub async fn replayed(core: &Issuing, client: &Client, family_id: &str, now: UnixTime, what: Replay) -> OAuthError {
    let n = match core.store.revoke_family(family_id, now).await {
        Ok(n) => n,
        Err(e) => return e.into(),
    };
    match what {
        Replay::Code => {
            tracing::warn!(client_id = %client.id, revoked_refresh_tokens = n, "authorization code replayed; its grant is revoked");
            OAuthError::InvalidGrant("the code has already been used")
        }
        Replay::RevokedRefreshToken => {
            tracing::info!(client_id = %client.id, "a revoked refresh token was presented");
            OAuthError::InvalidGrant("the refresh token has been revoked")
        }
        Replay::RefreshToken => {
            tracing::warn!(client_id = %client.id, revoked_refresh_tokens = n, "rotated refresh token reused; its family is revoked");
            OAuthError::InvalidGrant("the refresh token is no longer valid")
        }
    }
}

/// The user a grant is about, if they still exist and are enabled.
pub async fn active_user(core: &Issuing, sub: &str) -> Result<User, OAuthError> {
    match core.store.get_user_by_sub(sub).await? {
        Some(u) if !u.disabled => Ok(u),
        _ => Err(OAuthError::InvalidGrant("the user no longer exists or is disabled")),
    }
}

/// Issues access token, ID token (for `openid`) and refresh token (when the client has the
/// refresh grant and, for OpenID requests, `offline_access` was granted; OIDC Core §11), for a
/// grant that retires nothing (password, device code).
pub async fn issue_for_user(core: &Issuing, client: &Client, g: UserGrant<'_>) -> Result<TokenResponse, OAuthError> {
    let now = core.now();
    let planned = plan(core, client, &g, now)?;
    if let Some((_, row)) = &planned.refresh {
        core.store.insert_refresh(row, now).await?;
    }
    sign(core, client, &g, planned, now)
}

/// The access token's id and the refresh token (with the row to store) for `g`; a new refresh
/// token is random.
pub fn plan(core: &Issuing, client: &Client, g: &UserGrant<'_>, now: UnixTime) -> Result<Planned, OAuthError> {
    plan_with(core, client, g, now, core.tokens.random(32))
}

/// [`plan`], with `rt` as the refresh token if the client gets one.
pub fn plan_with(
    core: &Issuing,
    client: &Client,
    g: &UserGrant<'_>,
    now: UnixTime,
    rt: String,
) -> Result<Planned, OAuthError> {
    let access_token = core.tokens.access_token_id(client, &g.audience, now);
    let wants_refresh = client.grants.contains(GrantType::RefreshToken)
        && (!g.grant_scope.contains("openid") || g.grant_scope.contains("offline_access"));
    if !wants_refresh {
        return Ok(Planned { access_token, refresh: None });
    }
    let lt = core.tokens.lifetimes.for_client(client);
    let family_expires_at = g.family_expires_at.unwrap_or(now + lt.refresh_absolute);
    let grant = RefreshGrant {
        family_id: g.family_id.clone(),
        client_id: client.id.to_string(),
        sub: g.user.sub.clone(),
        scope: g.grant_scope.clone(),
        auth_time: g.auth_time,
        sid: g.sid.clone(),
        amr: g.amr.clone(),
        expires_at: (now + lt.refresh_idle).min(family_expires_at),
        family_expires_at,
        resources: g.resources.clone(),
        // RFC 9449 §5.0: a public client's refresh tokens are bound to its key; a confidential
        // client's are bound to its credentials already.
        dpop_jkt: g.dpop_jkt.clone().filter(|_| client.is_public()),
        claims: g.claims.clone(),
        acr: g.acr.clone(),
    };
    let row = NewRefresh { token_hash: hash_token(&rt), grant, access_token: Some(access_token.clone()) };
    Ok(Planned { access_token, refresh: Some((rt, row)) })
}

/// Signs the tokens [`plan`] decided on (after the store has recorded them).
pub fn sign(
    core: &Issuing,
    client: &Client,
    g: &UserGrant<'_>,
    planned: Planned,
    now: UnixTime,
) -> Result<TokenResponse, OAuthError> {
    let subject = Subject {
        sub: &g.user.sub,
        user: Some(g.user),
        auth_time: Some(g.auth_time),
        sid: Some(&g.sid),
        jkt: g.dpop_jkt.as_deref(),
        acr: g.acr.as_deref(),
        amr: &g.amr,
        claims: g.claims.as_ref(),
    };
    let (access_token, _) =
        core.tokens.access_token_as(client, &subject, &g.scope, &g.audience, now, planned.access_token)?;
    let id_token = if g.scope.contains("openid") {
        let input = IdTokenInput {
            user: g.user,
            scope: &g.scope,
            auth_time: g.auth_time,
            sid: &g.sid,
            amr: &g.amr,
            nonce: g.nonce.as_deref(),
            access_token: Some(&access_token),
            code: None,
            claims: g.claims.as_ref(),
            acr: g.acr.as_deref(),
            encrypter: g.id_token_encrypter.as_ref(),
        };
        Some(core.tokens.id_token(client, &input, now)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: token_type(g.dpop_jkt.as_deref()),
        expires_in: core.tokens.access_token_ttl(client, &g.audience),
        refresh_token: planned.refresh.map(|(rt, _)| rt),
        id_token,
        scope: g.scope.to_string(),
    })
}
