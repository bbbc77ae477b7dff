//! OAuth 2.0 / OIDC protocol errors (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 8628 §3.5;
//! OIDC Core §3.1.2.6). Each variant carries the spec's error code; descriptions are fixed,
//! user-safe strings. Internal detail travels in [`InternalError`] and is only ever logged.

/// An internal failure (storage, crypto). Its text is for logs, never for the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct InternalError(pub String);

impl InternalError {
    pub fn new(detail: impl Into<String>) -> Self {
        Self(detail.into())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// `via_basic`: the client authenticated with the Authorization header, so the 401 carries
    /// `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    #[error("invalid_client")]
    InvalidClient { via_basic: bool },
    /// A JWT client assertion (RFC 7523 §3) that failed: the reason is safe to show, as it
    /// names no secret and helps a client's developer. `invalid_client`, 401.
    #[error("invalid_client: {0}")]
    InvalidClientAssertion(&'static str),
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    #[error("invalid_scope: {0}")]
    InvalidScope(&'static str),
    /// RFC 8707 §2: a `resource` that is malformed, unknown, not allowed to the client, or
    /// beyond what was granted.
    #[error("invalid_target: {0}")]
    InvalidTarget(&'static str),
    /// RFC 9449 §7.1: a DPoP proof that is missing where required, malformed, or not for this
    /// request, key, moment or token.
    #[error("invalid_dpop_proof: {0}")]
    InvalidDpopProof(&'static str),
    /// RFC 9449 §8: the proof must carry the nonce the server sends in `DPoP-Nonce`.
    #[error("use_dpop_nonce")]
    UseDpopNonce,
    #[error("access_denied: {0}")]
    AccessDenied(&'static str),
    #[error("login_required")]
    LoginRequired,
    /// OpenID Connect Core Unmet Authentication Requirements 1.0: an essential `acr` no
    /// sign-in here can meet.
    #[error("unmet_authentication_requirements")]
    UnmetAuthenticationRequirements,
    #[error("consent_required")]
    ConsentRequired,
    #[error("authorization_pending")]
    AuthorizationPending,
    #[error("slow_down")]
    SlowDown,
    #[error("expired_token")]
    ExpiredToken,
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    #[error("insufficient_scope")]
    InsufficientScope,
    #[error("request_not_supported")]
    RequestNotSupported,
    /// RFC 9101 §6.2 / OIDC Core §3.1.2.6: a request object that is malformed, badly signed,
    /// expired, replayed or for another server.
    #[error("invalid_request_object: {0}")]
    InvalidRequestObject(&'static str),
    /// RFC 9101 §6.2, RFC 9126 §2.2: a `request_uri` that is unknown, expired, used, or could not
    /// be fetched.
    #[error("invalid_request_uri: {0}")]
    InvalidRequestUri(&'static str),
    #[error("request_uri_not_supported")]
    RequestUriNotSupported,
    #[error("server_error")]
    Server(#[source] InternalError),
    /// A passing failure (the database is restarting or unreachable): 503 and `Retry-After`,
    /// `temporarily_unavailable` (RFC 6749 §4.1.2.1; used at every endpoint, as providers do).
    #[error("temporarily_unavailable")]
    TemporarilyUnavailable(#[source] InternalError),
}

impl OAuthError {
    /// The registered error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } | Self::InvalidClientAssertion(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidTarget(_) => "invalid_target",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::AccessDenied(_) => "access_denied",
            Self::LoginRequired => "login_required",
            Self::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            Self::ConsentRequired => "consent_required",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidToken(_) => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidRequestObject(_) => "invalid_request_object",
            Self::InvalidRequestUri(_) => "invalid_request_uri",
            Self::Server(_) => "server_error",
            Self::TemporarilyUnavailable(_) => "temporarily_unavailable",
        }
    }

    /// HTTP status for a direct (non-redirect) response.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient { .. } | Self::InvalidClientAssertion(_) | Self::InvalidToken(_) => 401,
            Self::InsufficientScope => 403,
            Self::Server(_) => 500,
            Self::TemporarilyUnavailable(_) => 503,
            _ => 400,
        }
    }

    /// A fixed, user-safe description, or `None` where the code says it all.
    pub fn description(&self) -> Option<&'static str> {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::InvalidScope(d)
            | Self::InvalidTarget(d)
            | Self::InvalidDpopProof(d)
            | Self::InvalidClientAssertion(d)
            | Self::InvalidRequestObject(d)
            | Self::InvalidRequestUri(d)
            | Self::AccessDenied(d)
            | Self::InvalidToken(d) => Some(d),
            Self::InvalidClient { .. } => Some("client authentication failed"),
            Self::UnsupportedGrantType => Some("the grant type is not supported"),
            Self::UnsupportedResponseType => Some("the response type is not supported"),
            Self::LoginRequired => Some("the user must sign in"),
            Self::UnmetAuthenticationRequirements => Some("no sign-in here can meet the requested acr"),
            Self::ConsentRequired => Some("the user must consent"),
            Self::ExpiredToken => Some("the device code has expired"),
            Self::InsufficientScope => Some("the token lacks the required scope"),
            Self::RequestNotSupported => Some("request objects are not supported"),
            Self::UseDpopNonce => Some("send a DPoP proof with the nonce in the DPoP-Nonce header"),
            Self::RequestUriNotSupported => Some("request_uri is not supported"),
            Self::TemporarilyUnavailable(_) => Some("the service is briefly unavailable; try again shortly"),
            Self::AuthorizationPending | Self::SlowDown | Self::Server(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc_6749_and_6750() {
        assert_eq!(OAuthError::InvalidRequest("x").status(), 400);
        assert_eq!(OAuthError::InvalidClient { via_basic: true }.status(), 401);
        assert_eq!(OAuthError::InvalidToken("x").status(), 401);
        assert_eq!(OAuthError::InsufficientScope.status(), 403);
        assert_eq!(OAuthError::Server(InternalError::new("db down")).status(), 500);
        let passing = OAuthError::TemporarilyUnavailable(InternalError::new("connection refused to 10.0.0.5"));
        assert_eq!((passing.status(), passing.code()), (503, "temporarily_unavailable"));
        assert!(!passing.description().unwrap_or_default().contains("10.0.0.5"), "detail stays in the log");
    }

    #[test]
    fn server_errors_expose_no_detail() {
        let e = OAuthError::Server(InternalError::new("password=hunter2"));
        assert_eq!(e.code(), "server_error");
        assert_eq!(e.description(), None);
    }
}
