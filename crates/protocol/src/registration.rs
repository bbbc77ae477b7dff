//! OpenID Connect Dynamic Client Registration 1.0 rules that go beyond a client's own
//! validation: the redirect URIs each `application_type` may register (§2).

use crate::client::{ApplicationType, FieldError};
use crate::redirect_uri::RedirectUri;

/// §2 `application_type`: a `web` client using the implicit grant registers only `https` URIs,
/// never on `localhost`; a `native` client only custom URI schemes or `http` loopback URIs
/// (`localhost`, `127.0.0.1`, `[::1]`; RFC 8252 §7.1, §7.3). Every other web client is bound
/// only by the ordinary redirect URI rules.
pub fn check_redirect_uris(kind: ApplicationType, implicit: bool, uris: &[RedirectUri]) -> Vec<FieldError> {
    uris.iter()
        .filter_map(|u| {
            let url = url::Url::parse(u.as_str()).ok()?;
            let host = url.host_str().unwrap_or("");
            let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
            let why = match kind {
                ApplicationType::Web if implicit && url.scheme() != "https" => {
                    "a web client using the implicit grant may register only https redirect URIs"
                }
                ApplicationType::Web if implicit && host == "localhost" => {
                    "a web client using the implicit grant may not register localhost redirect URIs"
                }
                ApplicationType::Native if url.scheme() == "https" => {
                    "a native client may register only custom-scheme or http loopback redirect URIs, not https"
                }
                ApplicationType::Native if url.scheme() == "http" && !loopback => {
                    "a native client's http redirect URIs must be loopback (localhost, 127.0.0.1, [::1])"
                }
                _ => return None,
            };
            Some(FieldError::new("redirect_uris", format!("{}: {why}", u.as_str())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: ApplicationType, implicit: bool, uri: &str) -> bool {
        check_redirect_uris(kind, implicit, &[RedirectUri::parse(uri).unwrap()]).is_empty()
    }

    #[test]
    fn web_implicit_clients_register_https_only_and_never_localhost() {
        use ApplicationType::Web;
        assert!(check(Web, true, "https://app.example.com/cb"));
        assert!(!check(Web, true, "http://app.example.com/cb"));
        assert!(!check(Web, true, "https://localhost/cb"));
        assert!(!check(Web, true, "http://127.0.0.1:8080/cb"));
        assert!(check(Web, false, "http://localhost:3000/cb"), "without implicit, the ordinary rules");
    }

    #[test]
    fn native_clients_register_custom_schemes_or_http_loopback() {
        use ApplicationType::Native;
        for ok in ["com.example.app:/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "http://localhost/cb"] {
            assert!(check(Native, false, ok), "{ok}");
        }
        for bad in ["https://app.example.com/cb", "http://app.example.com/cb", "https://127.0.0.1/cb"] {
            assert!(!check(Native, true, bad), "{bad}");
        }
    }
}
