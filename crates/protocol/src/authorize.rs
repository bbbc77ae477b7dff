//! The authorization endpoint's rules (RFC 6749 §4.1.1, §4.1.2.1; OIDC Core §3.1.2.1–§3.1.2.6;
//! RFC 7636 §4.3–§4.4; OAuth 2.0 Form Post Response Mode; RFC 9207).
//!
//! Validation happens in two stages, as the specs require:
//! 1. [`resolve_target`]: the client and the redirect URI. A failure here must never redirect
//!    (RFC 6749 §4.1.2.1): the user gets an error page.
//! 2. [`validate`]: everything else. A failure here goes back to the client's redirect URI.
//!
//! Then [`decide`] says, from the session and the stored consent, whether to sign the user in,
//! ask consent, issue, or answer `login_required`/`consent_required` for `prompt=none`.

use crate::claims_request::ClaimsRequest;
use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::grant::ResponseType;
use crate::params::Params;
use crate::pkce;
use crate::redirect_uri::RedirectUri;
use crate::resource::{self, ResourceDefinition, ResourceId};
use crate::scope::ScopeSet;
use serde::{Deserialize, Serialize};

/// Where and how the response goes (OAuth 2.0 Multiple Response Types §2.1, Form Post §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    /// Every `response_mode` accepted: the plain ones and JARM's (`jwt` picks the response
    /// type's default delivery).
    pub const SUPPORTED: [&'static str; 7] =
        ["query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"];

    /// A `response_mode` with JARM's forms: the delivery (`None` for plain `jwt`: the response
    /// type's default) and whether the response is a signed JWT (JARM §2.3).
    pub fn parse_with_jarm(s: &str) -> Option<(Option<Self>, bool)> {
        match s.strip_suffix(".jwt") {
            _ if s == "jwt" => Some((None, true)),
            Some(base) => Self::parse(base).map(|m| (Some(m), true)),
            None => Self::parse(s).map(|m| (Some(m), false)),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }
}

/// Why the request cannot even be answered at the redirect URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetError {
    MissingClientId,
    UnknownClient,
    MissingRedirectUri,
    UnregisteredRedirectUri,
}

impl TargetError {
    pub fn message(self) -> &'static str {
        match self {
            Self::MissingClientId => "The request has no client_id.",
            Self::UnknownClient => "The application asking you to sign in is not known here.",
            Self::MissingRedirectUri => "The request has no redirect_uri and the application has several registered.",
            Self::UnregisteredRedirectUri => {
                "The address the application asked to return to is not one it registered, so you were not sent there."
            }
        }
    }
}

/// Stage 1: the redirect URI must be given and registered (exact match, RFC 9700 §4.1.3, but
/// for a loopback redirect's port, RFC 8252 §7.3); the one given is the one used. An
/// omitted one is accepted only for a client with exactly one registered and no `openid`
/// scope (OIDC Core §3.1.2.1 makes it REQUIRED for OpenID requests).
pub fn resolve_target(client: &Client, params: &Params) -> Result<RedirectUri, TargetError> {
    match params.get("redirect_uri") {
        Some(given) => match client.redirect_uris.iter().find(|r| r.matches(given)) {
            // Kept as given: the token request must repeat it exactly (RFC 6749 §4.1.3).
            Some(_) => RedirectUri::parse(given).map_err(|_| TargetError::UnregisteredRedirectUri),
            None => Err(TargetError::UnregisteredRedirectUri),
        },
        None => {
            let is_oidc = params.get("scope").is_some_and(|s| s.split(' ').any(|x| x == "openid"));
            match client.redirect_uris.as_slice() {
                [only] if !is_oidc => Ok(only.clone()),
                _ => Err(TargetError::MissingRedirectUri),
            }
        }
    }
}

/// `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

impl Prompt {
    fn parse(s: &str) -> Result<Self, OAuthError> {
        let mut p = Self::default();
        for v in s.split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => p.select_account = true,
                _ => return Err(OAuthError::InvalidRequest("unsupported prompt value")),
            }
        }
        // OIDC Core §3.1.2.1: "none" with any other value is an error.
        if p.none && (p.login || p.consent || p.select_account) {
            return Err(OAuthError::InvalidRequest("prompt=none cannot be combined with other values"));
        }
        Ok(p)
    }
}

/// A validated authorization request, kept server-side while the user signs in and consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: crate::ClientId,
    pub redirect_uri: RedirectUri,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    /// JARM: the response is a JWT Gatehouse signs (`response_mode` `jwt`, `*.jwt`).
    pub jarm: bool,
    pub scope: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    pub acr_values: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<pkce::Method>,
    pub ui_locales: Option<String>,
    /// The resources (RFC 8707) the request targets: those asked, or the client's defaults.
    pub resources: Vec<crate::resource::ResourceId>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code must be redeemed with.
    pub dpop_jkt: Option<String>,
    /// OIDC Core §5.5: the claims asked for by name.
    pub claims: Option<crate::claims_request::ClaimsRequest>,
}

impl AuthorizeRequest {
    pub fn is_openid(&self) -> bool {
        self.scope.contains("openid")
    }
}

/// The response types this build answers: code, implicit and hybrid.
pub const SUPPORTED_RESPONSE_TYPES: [ResponseType; 7] = ResponseType::ALL;

/// OAuth 2.0 Multiple Response Types §2.1 / §5: `code` defaults to the query; anything that
/// returns a token defaults to the fragment.
pub fn default_response_mode(rt: ResponseType) -> ResponseMode {
    if rt.id_token || rt.token { ResponseMode::Fragment } else { ResponseMode::Query }
}

/// The response mode an error should use: the requested one when it is valid and allowed,
/// else the default for the (parsable) response type.
pub fn error_response_mode(params: &Params) -> (ResponseMode, bool) {
    let rt = params.get("response_type").and_then(ResponseType::parse);
    let default = rt.map_or(ResponseMode::Query, default_response_mode);
    let (mode, jarm) = params.get("response_mode").and_then(ResponseMode::parse_with_jarm).unwrap_or((None, false));
    let mode = match mode {
        Some(ResponseMode::Query) if default == ResponseMode::Fragment => default,
        Some(m) => m,
        None => default,
    };
    (mode, jarm)
}

/// Longest value accepted for free-text parameters (state, nonce, hints).
const MAX_PARAM: usize = 2048;

/// Stage 2: every other rule. Errors from here are redirected to `redirect_uri` with `state`.
/// Validates an authorization request from `client` for `redirect_uri`; `known` says which scope
/// names this server defines (others are ignored, [`Client::grantable_scope`]); `resources` are
/// the resource servers defined (RFC 8707).
pub fn validate(
    client: &Client,
    redirect_uri: RedirectUri,
    params: &Params,
    known: &dyn Fn(&str) -> bool,
    resources: &[ResourceDefinition],
) -> Result<AuthorizeRequest, OAuthError> {
    // OIDC Core §6: request objects are not supported; say so with the registered codes.
    if params.contains("request") {
        return Err(OAuthError::RequestNotSupported);
    }
    if params.contains("request_uri") {
        return Err(OAuthError::RequestUriNotSupported);
    }
    let rt_raw = params.require("response_type", "response_type is required")?;
    let response_type = ResponseType::parse(rt_raw).ok_or(OAuthError::UnsupportedResponseType)?;
    if !SUPPORTED_RESPONSE_TYPES.contains(&response_type) {
        return Err(OAuthError::UnsupportedResponseType);
    }
    if !client.grants.allows_response_type(response_type) {
        return Err(OAuthError::UnauthorizedClient("the client may not use this response_type"));
    }
    let (response_mode, jarm) = match params.get("response_mode") {
        None => (default_response_mode(response_type), false),
        Some(m) => match ResponseMode::parse_with_jarm(m) {
            Some((mode, jarm)) => (mode.unwrap_or_else(|| default_response_mode(response_type)), jarm),
            None => return Err(OAuthError::InvalidRequest("unsupported response_mode")),
        },
    };
    // Multiple Response Types §2.1: tokens MUST NOT travel in the query string.
    if response_mode == ResponseMode::Query && (response_type.id_token || response_type.token) {
        return Err(OAuthError::InvalidRequest("response_mode=query cannot carry tokens"));
    }

    let requested = ScopeSet::parse(params.get("scope").unwrap_or(""))
        .map_err(|_| OAuthError::InvalidScope("the scope is malformed"))?;
    if requested.is_empty() {
        return Err(OAuthError::InvalidScope("scope is required"));
    }
    let mut scope = client.grantable_scope(Some(&requested), &client.scopes, known)?;
    let targets = resource::resolve(&resource::parse_requested(params.all("resource"))?, client, resources)?;
    scope = scoped_to_resources(scope, &targets, resources)?;

    for (k, v) in ["state", "nonce", "login_hint", "id_token_hint", "acr_values", "ui_locales"]
        .iter()
        .filter_map(|k| params.get(k).map(|v| (k, v)))
    {
        if v.len() > MAX_PARAM || (*k == "id_token_hint" && v.len() > 8 * 1024) {
            return Err(OAuthError::InvalidRequest("a parameter is too long"));
        }
    }

    let prompt = Prompt::parse(params.get("prompt").unwrap_or(""))?;
    let max_age = params
        .get("max_age")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or(OAuthError::InvalidRequest("max_age must be a non-negative integer"))
        })
        .transpose()?;

    // RFC 7636 §4.3-4.4.
    let code_challenge = params.get("code_challenge").map(str::to_owned);
    let code_challenge_method = match (&code_challenge, params.get("code_challenge_method")) {
        (None, Some(_)) => return Err(OAuthError::InvalidRequest("code_challenge_method without code_challenge")),
        (None, None) => None,
        // RFC 7636 §4.3: an absent method means "plain".
        (Some(c), m) => {
            let method = pkce::Method::parse(m.unwrap_or("plain"))
                .ok_or(OAuthError::InvalidRequest("code_challenge_method must be S256"))?;
            if method == pkce::Method::Plain && !client.allow_plain_pkce {
                return Err(OAuthError::InvalidRequest("code_challenge_method must be S256"));
            }
            if !pkce::is_valid_challenge(c, method) {
                return Err(OAuthError::InvalidRequest("code_challenge is malformed"));
            }
            Some(method)
        }
    };
    if response_type.code && client.pkce_required() && code_challenge.is_none() {
        return Err(OAuthError::InvalidRequest(
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        ));
    }
    if !response_type.code {
        // OIDC Core §11: offline_access MUST be ignored unless a code is returned; refresh
        // tokens never come from the authorization endpoint.
        scope = scope.iter().filter(|s| s.as_str() != "offline_access").cloned().collect();
    }
    if response_type.id_token {
        // OIDC Core §3.2.2.1 / §3.3.2.11: an ID token from the authorization endpoint needs
        // an OpenID request and a nonce.
        if !scope.contains("openid") {
            return Err(OAuthError::InvalidScope("response_type id_token needs the openid scope"));
        }
        if params.get("nonce").is_none() {
            return Err(OAuthError::InvalidRequest(
                "nonce is required when an ID token is returned from the authorization endpoint",
            ));
        }
    }

    let claims = params.get("claims").map(ClaimsRequest::parse).transpose()?.filter(|c| !c.is_empty());
    let owned = |k: &str| params.get(k).map(str::to_owned);
    Ok(AuthorizeRequest {
        claims,
        client_id: client.id.clone(),
        redirect_uri,
        response_type,
        response_mode,
        jarm,
        scope,
        state: owned("state"),
        nonce: owned("nonce"),
        prompt,
        max_age,
        login_hint: owned("login_hint"),
        id_token_hint: owned("id_token_hint"),
        acr_values: owned("acr_values"),
        code_challenge,
        code_challenge_method,
        ui_locales: owned("ui_locales"),
        resources: targets,
        dpop_jkt: match params.get("dpop_jkt") {
            // A base64url SHA-256 thumbprint is 43 characters.
            Some(j) if j.len() == 43 && j.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                Some(j.to_owned())
            }
            Some(_) => return Err(OAuthError::InvalidRequest("dpop_jkt must be a JWK SHA-256 thumbprint")),
            None => None,
        },
    })
}

/// `scope` without the scopes of resources the request does not target; a request left with
/// none of its scopes is `invalid_scope` (it asked only for other resources' scopes).
pub fn scoped_to_resources(
    scope: ScopeSet,
    targets: &[ResourceId],
    resources: &[ResourceDefinition],
) -> Result<ScopeSet, OAuthError> {
    let kept = resource::scope_for(&scope, targets, resources);
    if kept.is_empty() && !scope.is_empty() {
        return Err(OAuthError::InvalidScope(
            "the requested scopes belong to a resource the request does not name: add its resource parameter",
        ));
    }
    Ok(kept)
}

/// The signed-in user as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub sub: String,
    pub auth_time: UnixTime,
    /// How the user signed in (RFC 8176), for the `acr` the request asks.
    pub amr: Vec<String>,
}

/// What to do next with a validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Login,
    /// The session's user must add a factor to their sign-in (an `acr` the session does not
    /// meet, or a second factor the deployment or client requires): a step-up, not a new
    /// sign-in.
    StepUp,
    Consent,
    Issue,
}

/// What is known about the user agent when deciding.
#[derive(Debug, Clone, Default)]
pub struct DecideContext<'a> {
    pub session: Option<&'a SessionView>,
    /// `sub` of a valid `id_token_hint`, if one was sent.
    pub hint_sub: Option<&'a str>,
    /// The user signed in during this very request, which satisfies `prompt=login`.
    pub fresh_login: bool,
    /// Scopes the user already consented to for this client.
    pub consented: Option<&'a ScopeSet>,
    /// The user approved the consent page for this very request.
    pub consent_given_now: bool,
    pub now: UnixTime,
    /// The deployment's `acr` levels, with the methods the session's user can perform here
    /// as `available`; without them `acr` asks nothing.
    pub acr: Option<&'a crate::acr::AcrPolicy>,
    /// The deployment or the client requires a second factor (`mfa` in the session's `amr`).
    pub second_factor_required: bool,
}

/// OIDC Core §3.1.2.3: authenticate unless a session satisfies `prompt`, `max_age` and
/// `id_token_hint`; ask consent unless it was given for every requested scope (or the client is
/// first-party). With `prompt=none` the answer is `login_required` / `consent_required`.
pub fn decide(req: &AuthorizeRequest, client: &Client, ctx: &DecideContext<'_>) -> Result<Decision, OAuthError> {
    // A client's session lifetime acts as a default max_age; the stricter of the two applies.
    let max_age = match (req.max_age, client.lifetimes.session_ttl) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let session_ok = ctx.session.is_some_and(|s| {
        // OIDC Core §3.1.2.1: max_age=0 is prompt=login; a sign-in in this very second would
        // otherwise pass "elapsed <= 0".
        let within_max_age = max_age.is_none_or(|m| match m {
            0 => ctx.fresh_login,
            m => ctx.now.saturating_sub(s.auth_time) <= m,
        });
        let hint_matches = ctx.hint_sub.is_none_or(|h| h == s.sub);
        within_max_age && hint_matches && (ctx.fresh_login || !(req.prompt.login || req.prompt.select_account))
    });
    if !session_ok {
        return if req.prompt.none { Err(OAuthError::LoginRequired) } else { Ok(Decision::Login) };
    }
    // The `acr` asked for: a sign-in that can meet it, or, essential and beyond reach, an error.
    if let (Some(policy), Some(s)) = (ctx.acr, ctx.session) {
        let asked = crate::acr::requested(req.claims.as_ref(), req.acr_values.as_deref());
        match policy.need(&asked, &s.amr) {
            crate::acr::Need::Met => {}
            crate::acr::Need::SignIn if !ctx.fresh_login => {
                return if req.prompt.none { Err(OAuthError::LoginRequired) } else { Ok(Decision::StepUp) };
            }
            _ if asked.essential => return Err(OAuthError::UnmetAuthenticationRequirements),
            _ => {}
        }
    }
    if ctx.second_factor_required && ctx.session.is_some_and(|s| !s.amr.iter().any(|m| m == "mfa")) {
        return match () {
            _ if req.prompt.none => Err(OAuthError::LoginRequired),
            _ if ctx.fresh_login => Err(OAuthError::AccessDenied("a second factor is required")),
            _ => Ok(Decision::StepUp),
        };
    }
    let has_consent = client.first_party || ctx.consented.is_some_and(|c| req.scope.is_subset(c));
    if ctx.consent_given_now || (has_consent && !req.prompt.consent) {
        return Ok(Decision::Issue);
    }
    if req.prompt.none { Err(OAuthError::ConsentRequired) } else { Ok(Decision::Consent) }
}

#[cfg(test)]
mod tests;
