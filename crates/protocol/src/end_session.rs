//! OpenID Connect RP-Initiated Logout 1.0 (§2, §3): which client is asking, where the user may
//! be sent afterwards, and whether to ask the user first.

use crate::client::Client;
use crate::params::Params;

/// What the request says once checked. The ID token hint is verified by the caller (signature
/// and issuer; an expired hint is fine, §2) and passed in as its `aud`, `sub` and `sid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub client_id: Option<String>,
    /// Only set when it exactly matches one of the client's registered URIs (§3).
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    /// The hint names the session being ended: no need to ask the user (§2).
    pub confirmed_by_hint: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutError {
    /// `client_id` and the hint's audience disagree.
    ClientMismatch,
    /// `post_logout_redirect_uri` without a way to know the client, or not registered.
    UnregisteredRedirect,
    /// The hint does not verify.
    BadHint,
}

impl LogoutError {
    pub fn message(self) -> &'static str {
        match self {
            Self::ClientMismatch => "The sign-out request names two different applications.",
            Self::UnregisteredRedirect => {
                "The address to return to after signing out is not registered, so you were not sent there."
            }
            Self::BadHint => "The sign-out request carries an ID token that was not issued here.",
        }
    }
}

/// The verified claims of an `id_token_hint` that matter for logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintClaims {
    pub aud: Vec<String>,
    pub sub: String,
    pub sid: Option<String>,
}

/// `client` is the client named by `client_id` or by the hint's audience, when one exists.
/// `session`: the current session's `(sub, sid)`.
pub fn validate(
    params: &Params,
    hint: Option<&HintClaims>,
    client: Option<&Client>,
    session: Option<(&str, &str)>,
) -> Result<LogoutRequest, LogoutError> {
    let client_id = params.get("client_id").map(str::to_owned);
    if let (Some(id), Some(h)) = (&client_id, hint) {
        // §2: when both are present, client_id must be an audience of the hint.
        if !h.aud.iter().any(|a| a == id) {
            return Err(LogoutError::ClientMismatch);
        }
    }
    let post_logout_redirect_uri = match params.get("post_logout_redirect_uri") {
        None => None,
        // §3: the URI must match one registered for the client exactly.
        Some(uri) => match client {
            Some(c) if c.post_logout_redirect_uris.iter().any(|r| r.matches(uri)) => Some(uri.to_owned()),
            _ => return Err(LogoutError::UnregisteredRedirect),
        },
    };
    let confirmed_by_hint = match (hint, session) {
        (Some(h), Some((sub, sid))) => h.sub == sub && h.sid.as_deref().is_none_or(|s| s == sid),
        _ => false,
    };
    Ok(LogoutRequest {
        client_id: client_id.or_else(|| client.map(|c| c.id.to_string())),
        post_logout_redirect_uri,
        state: params.get("state").map(str::to_owned),
        confirmed_by_hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientSpec;

    fn client() -> Client {
        ClientSpec {
            client_id: "app".into(),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            post_logout_redirect_uris: vec!["https://app.example.com/bye".into()],
            ..Default::default()
        }
        .validate(&|_| true)
        .unwrap()
        .client
    }

    fn p(s: &str) -> Params {
        Params::parse(s.as_bytes()).unwrap()
    }

    fn hint(sid: &str) -> HintClaims {
        HintClaims { aud: vec!["app".into()], sub: "alice".into(), sid: Some(sid.into()) }
    }

    #[test]
    fn redirect_must_be_registered_for_a_known_client() {
        let c = client();
        let ok =
            validate(&p("post_logout_redirect_uri=https://app.example.com/bye&state=s"), None, Some(&c), None).unwrap();
        assert_eq!(ok.post_logout_redirect_uri.as_deref(), Some("https://app.example.com/bye"));
        assert_eq!(ok.state.as_deref(), Some("s"));
        let bad = p("post_logout_redirect_uri=https://evil.example/bye");
        assert_eq!(validate(&bad, None, Some(&c), None), Err(LogoutError::UnregisteredRedirect));
        let no_client = p("post_logout_redirect_uri=https://app.example.com/bye");
        assert_eq!(validate(&no_client, None, None, None), Err(LogoutError::UnregisteredRedirect));
    }

    #[test]
    fn client_id_must_agree_with_the_hint() {
        let c = client();
        assert_eq!(
            validate(&p("client_id=other"), Some(&hint("s1")), Some(&c), None),
            Err(LogoutError::ClientMismatch)
        );
        assert!(validate(&p("client_id=app"), Some(&hint("s1")), Some(&c), None).is_ok());
    }

    #[test]
    fn confirmation_is_skipped_only_for_the_session_the_hint_names() {
        let c = client();
        let r = |h: Option<&HintClaims>, s| validate(&p(""), h, Some(&c), s).unwrap().confirmed_by_hint;
        assert!(r(Some(&hint("s1")), Some(("alice", "s1"))));
        assert!(!r(Some(&hint("s2")), Some(("alice", "s1"))), "another session");
        assert!(!r(Some(&hint("s1")), Some(("bob", "s1"))), "another user");
        assert!(!r(None, Some(("alice", "s1"))), "no hint");
    }
}
