//! Redirect URIs (RFC 6749 §3.1.2): absolute, no fragment, matched exactly (RFC 9700 §4.1.3),
//! except for the port of a loopback IP redirect, which native apps choose at run time
//! (RFC 8252 §7.3).

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

    /// Exact, case-sensitive string comparison; no wildcards, no prefix match. The one
    /// exception is RFC 8252 §7.3 (a MUST): a registered `http` redirect on a loopback IP
    /// literal (`127.0.0.1`, `[::1]`) matches that URI with any port, because a native app
    /// binds whatever port is free when it signs in. Everything but the port must still be
    /// identical, and `localhost` (a name, which may resolve elsewhere) gets no exception.
    pub fn matches(&self, presented: &str) -> bool {
        self.0 == presented || self.loopback_without_port().is_some_and(|r| loopback_without_port(presented) == Some(r))
    }

    /// Whether this is a plain `http` URI on a loopback IP literal (RFC 8252 §7.3).
    pub fn is_loopback_http(&self) -> bool {
        self.loopback_without_port().is_some()
    }

    fn loopback_without_port(&self) -> Option<String> {
        loopback_without_port(&self.0)
    }
}

/// `uri` with its port removed, when it is an `http` URI on a loopback IP literal written as
/// RFC 8252 §7.3 writes it; `None` for anything else.
fn loopback_without_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let (host, after) = if let Some(v6) = rest.strip_prefix("[::1]") {
        ("[::1]", v6)
    } else {
        ("127.0.0.1", rest.strip_prefix("127.0.0.1")?)
    };
    let after = match after.strip_prefix(':') {
        Some(port_and_path) => {
            let end = port_and_path.find(['/', '?']).unwrap_or(port_and_path.len());
            let (port, path) = port_and_path.split_at(end);
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err() {
                return None;
            }
            path
        }
        None => after,
    };
    if !(after.is_empty() || after.starts_with('/') || after.starts_with('?')) {
        return None;
    }
    Some(format!("http://{host}{after}"))
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
        let port = RedirectUri::parse("https://app.example.com/callback").unwrap();
        assert!(!port.matches("https://app.example.com:8443/callback"), "only loopback ports may vary");
    }

    #[test]
    fn loopback_redirects_match_with_any_port() {
        for registered in ["http://127.0.0.1/cb", "http://127.0.0.1:8080/cb"] {
            let r = RedirectUri::parse(registered).unwrap();
            assert!(r.matches("http://127.0.0.1:51004/cb"), "{registered}");
            assert!(r.matches("http://127.0.0.1/cb"), "{registered}");
            assert!(!r.matches("http://127.0.0.1:51004/other"), "{registered}: the path stays exact");
            assert!(!r.matches("http://127.0.0.1:51004/cb?x=1"), "{registered}: the query stays exact");
            assert!(!r.matches("https://127.0.0.1:51004/cb"), "{registered}: the scheme stays exact");
            assert!(!r.matches("http://127.0.0.2:51004/cb"), "{registered}: another address");
            assert!(!r.matches("http://127.0.0.1:99999/cb"), "{registered}: not a port");
            assert!(!r.matches("http://127.0.0.1:/cb"), "{registered}: an empty port");
            assert!(!r.matches("http://127.0.0.1.evil.example/cb"), "{registered}: a name that starts alike");
            assert!(!r.matches("http://127.0.0.1:80@evil.example/cb"), "{registered}: userinfo");
        }
        let v6 = RedirectUri::parse("http://[::1]/cb").unwrap();
        assert!(v6.matches("http://[::1]:40000/cb"));
        assert!(!v6.matches("http://127.0.0.1:40000/cb"));
        let name = RedirectUri::parse("http://localhost/cb").unwrap();
        assert!(!name.matches("http://localhost:40000/cb"), "a name gets no exception");
        let root = RedirectUri::parse("http://127.0.0.1").unwrap();
        assert!(root.matches("http://127.0.0.1:3000"));
        assert!(!root.matches("http://127.0.0.1:3000x"));
    }
}

crate::string_serde!(RedirectUri, |s: &str| RedirectUri::parse(s).ok(), |v: &RedirectUri| v.0.clone());
