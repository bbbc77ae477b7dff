//! Redirect URIs (RFC 6749 §3.1.2): absolute, no fragment, matched exactly (RFC 9700 §4.1.3).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("{0:?} is not an absolute URI (RFC 6749 §3.1.2 requires one)")]
    NotAbsolute(String),
    #[error("{0:?} has a fragment, which RFC 6749 §3.1.2 forbids")]
    Fragment(String),
}

impl RedirectUri {
    pub fn parse(s: &str) -> Result<Self, RedirectUriError> {
        // RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI".
        let parsed = url::Url::parse(s).map_err(|_| RedirectUriError::NotAbsolute(s.to_owned()))?;
        if parsed.cannot_be_a_base() && parsed.scheme() != "urn" {
            // e.g. "mailto:x": not a place a browser can be sent back to.
            return Err(RedirectUriError::NotAbsolute(s.to_owned()));
        }
        // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
        if parsed.fragment().is_some() || s.contains('#') {
            return Err(RedirectUriError::Fragment(s.to_owned()));
        }
        // Kept exactly as registered: matching is a plain string comparison (RFC 9700 §4.1.3).
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Exact, case-sensitive string comparison; no wildcards, no prefix match.
    pub fn matches(&self, presented: &str) -> bool {
        self.0 == presented
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_uris() {
        for ok in [
            "https://app.example.com/callback",
            "http://127.0.0.1:3000/cb",
            "com.example.app:/oauth2redirect",
            "https://app.example.com/cb?tenant=a",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_relative_and_fragment() {
        assert!(matches!(RedirectUri::parse("/callback"), Err(RedirectUriError::NotAbsolute(_))));
        assert!(matches!(RedirectUri::parse("app.example.com/cb"), Err(RedirectUriError::NotAbsolute(_))));
        assert!(matches!(RedirectUri::parse("https://a.example/cb#x"), Err(RedirectUriError::Fragment(_))));
        assert!(matches!(RedirectUri::parse("https://a.example/cb#"), Err(RedirectUriError::Fragment(_))));
    }

    #[test]
    fn matching_is_exact() {
        let r = RedirectUri::parse("https://app.example.com/callback").unwrap();
        assert!(r.matches("https://app.example.com/callback"));
        assert!(!r.matches("https://app.example.com/callback/"));
        assert!(!r.matches("https://app.example.com/callback?x=1"));
        assert!(!r.matches("https://APP.example.com/callback"));
    }
}

crate::string_serde!(RedirectUri, |s: &str| RedirectUri::parse(s).ok(), |v: &RedirectUri| v.0.clone());
