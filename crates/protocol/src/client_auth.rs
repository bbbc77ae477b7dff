//! Client authentication at the token endpoint (RFC 6749 §2.3.1, §3.2.1; RFC 7591 §2
//! `token_endpoint_auth_method`; RFC 7523 §2.2 JWT assertions). Parsing and the method rule
//! live here; checking the secret against its hash (the server caches argon2 results) and the
//! assertion against the client's keys are the server's.

use crate::client::{Client, ClientId, TokenEndpointAuthMethod};
use crate::client_assertion;
use crate::error::OAuthError;
use crate::jwk;
use crate::params::Params;
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// How the client presented itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub client_id: ClientId,
    pub secret: Option<Secret>,
    /// A JWT client assertion (`private_key_jwt`), parsed but not verified.
    pub assertion: Option<String>,
    pub method: TokenEndpointAuthMethod,
}

impl Presented {
    pub fn via_basic(&self) -> bool {
        self.method == TokenEndpointAuthMethod::ClientSecretBasic
    }
}

const BAD_CLIENT: OAuthError = OAuthError::InvalidClient { via_basic: false };

/// Reads the credentials from the `Authorization` header and the form. Using two methods at
/// once is refused (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
pub fn parse(authorization: Option<&str>, params: &Params) -> Result<Presented, OAuthError> {
    let basic = authorization
        .and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")))
        .map(parse_basic)
        .transpose()?;
    if authorization.is_some() && basic.is_none() {
        return Err(OAuthError::InvalidClient { via_basic: true });
    }
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    if let Some(kind) = params.get("client_assertion_type") {
        if basic.is_some() || form_secret.is_some() {
            return Err(OAuthError::InvalidRequest("use one client authentication method, not two"));
        }
        return parse_assertion(kind, params.get("client_assertion"), form_id);
    }
    if params.get("client_assertion").is_some() {
        return Err(OAuthError::InvalidRequest("client_assertion needs client_assertion_type"));
    }
    match basic {
        Some((id, secret)) => {
            if form_secret.is_some() {
                return Err(OAuthError::InvalidRequest("use one client authentication method, not two"));
            }
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::InvalidRequest("client_id does not match the Authorization header"));
            }
            let client_id = ClientId::parse(&id).map_err(|_| OAuthError::InvalidClient { via_basic: true })?;
            Ok(Presented {
                client_id,
                secret: Some(Secret::new(secret)),
                assertion: None,
                method: TokenEndpointAuthMethod::ClientSecretBasic,
            })
        }
        None => {
            let id = form_id.ok_or(BAD_CLIENT)?;
            let client_id = ClientId::parse(id).map_err(|_| BAD_CLIENT)?;
            Ok(match form_secret {
                Some(s) => Presented {
                    client_id,
                    secret: Some(Secret::new(s)),
                    assertion: None,
                    method: TokenEndpointAuthMethod::ClientSecretPost,
                },
                None => Presented { client_id, secret: None, assertion: None, method: TokenEndpointAuthMethod::None },
            })
        }
    }
}

/// RFC 7523 §2.2: `client_assertion_type` must be the JWT one; the client is the assertion's
/// `sub` (and `iss`), which a `client_id` sent beside it must equal (§3).
fn parse_assertion(kind: &str, assertion: Option<&str>, form_id: Option<&str>) -> Result<Presented, OAuthError> {
    if kind != client_assertion::ASSERTION_TYPE {
        return Err(OAuthError::InvalidClientAssertion("client_assertion_type must be the RFC 7523 JWT type"));
    }
    let assertion = assertion.ok_or(OAuthError::InvalidRequest("client_assertion_type without client_assertion"))?;
    if assertion.len() > client_assertion::MAX_BYTES {
        return Err(OAuthError::InvalidClientAssertion("the client assertion is too long"));
    }
    let parsed =
        jwk::parse(assertion).map_err(|_| OAuthError::InvalidClientAssertion("the client assertion is not a JWT"))?;
    let client_id = client_assertion::claimed_client(&parsed.claims)?;
    // OIDC Core §9: an HMAC keyed by the client secret is client_secret_jwt, a signature
    // private_key_jwt; the client must have registered the one it uses.
    let method = if parsed.header.get("alg").and_then(serde_json::Value::as_str) == Some("HS256") {
        TokenEndpointAuthMethod::ClientSecretJwt
    } else {
        TokenEndpointAuthMethod::PrivateKeyJwt
    };
    if form_id.is_some_and(|f| f != client_id.as_str()) {
        return Err(OAuthError::InvalidClientAssertion("client_id is not the client assertion's sub"));
    }
    Ok(Presented { client_id, secret: None, assertion: Some(assertion.to_owned()), method })
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`.
fn parse_basic(b64: &str) -> Result<(String, String), OAuthError> {
    let bad = OAuthError::InvalidClient { via_basic: true };
    let raw = STANDARD.decode(b64.trim()).map_err(|_| bad.clone())?;
    let raw = String::from_utf8(raw).map_err(|_| bad.clone())?;
    let (id, secret) = raw.split_once(':').ok_or(bad.clone())?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    let (id, secret) = (decode(id), decode(secret));
    if id.is_empty() {
        return Err(bad);
    }
    Ok((id, secret))
}

/// The client must use the method it registered; a public client presents no secret.
pub fn check_method(client: &Client, presented: &Presented) -> Result<(), OAuthError> {
    let via_basic = presented.via_basic();
    if client.token_endpoint_auth_method != presented.method {
        return Err(OAuthError::InvalidClient { via_basic });
    }
    let needs_secret = matches!(
        client.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost
    );
    if needs_secret != presented.secret.is_some() {
        return Err(OAuthError::InvalidClient { via_basic });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Params {
        Params::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn basic_is_form_url_decoded() {
        // "my%3Aid" : "p%40ss w" -> id "my:id", secret "p@ss w"
        let h = format!("Basic {}", STANDARD.encode("my%3Aid:p%40ss+w"));
        let p = parse(Some(&h), &params("")).unwrap();
        assert_eq!(p.client_id.as_str(), "my:id");
        assert_eq!(p.secret.unwrap().expose(), "p@ss w");
        assert_eq!(p.method, TokenEndpointAuthMethod::ClientSecretBasic);
    }

    #[test]
    fn post_and_none() {
        let p = parse(None, &params("client_id=a&client_secret=s")).unwrap();
        assert_eq!(p.method, TokenEndpointAuthMethod::ClientSecretPost);
        let p = parse(None, &params("client_id=spa")).unwrap();
        assert_eq!(p.method, TokenEndpointAuthMethod::None);
        assert!(p.secret.is_none());
    }

    #[test]
    fn assertions() {
        let key = crate::test_keys::Key::ec();
        let jwt = key.jwt("k", None, serde_json::json!({"iss": "app", "sub": "app"}));
        let form = |extra: &str| {
            params(&format!("client_assertion_type={}&client_assertion={jwt}{extra}", client_assertion::ASSERTION_TYPE))
        };
        let p = parse(None, &form("")).unwrap();
        assert_eq!((p.client_id.as_str(), p.method), ("app", TokenEndpointAuthMethod::PrivateKeyJwt));
        assert_eq!(p.assertion.as_deref(), Some(jwt.as_str()));
        assert!(parse(None, &form("&client_id=app")).is_ok());
        assert_eq!(parse(None, &form("&client_id=other")).unwrap_err().code(), "invalid_client");
        assert_eq!(parse(None, &form("&client_secret=s")).unwrap_err().code(), "invalid_request");
        let other_type = params(&format!("client_assertion_type=urn:x&client_assertion={jwt}"));
        assert_eq!(parse(None, &other_type).unwrap_err().code(), "invalid_client");
        assert_eq!(
            parse(None, &params(&format!("client_assertion={jwt}&client_id=app"))).unwrap_err().code(),
            "invalid_request"
        );
        let not_jwt =
            params(&format!("client_assertion_type={}&client_assertion=abc", client_assertion::ASSERTION_TYPE));
        assert_eq!(parse(None, &not_jwt).unwrap_err().code(), "invalid_client");
    }

    #[test]
    fn refusals() {
        let h = format!("Basic {}", STANDARD.encode("a:s"));
        assert_eq!(parse(Some(&h), &params("client_secret=s")).unwrap_err().code(), "invalid_request");
        assert_eq!(parse(Some(&h), &params("client_id=b")).unwrap_err().code(), "invalid_request");
        assert!(parse(Some(&h), &params("client_id=a")).is_ok());
        assert!(matches!(parse(Some("Basic !!!"), &params("")), Err(OAuthError::InvalidClient { via_basic: true })));
        assert!(matches!(parse(Some("Bearer x"), &params("")), Err(OAuthError::InvalidClient { via_basic: true })));
        assert!(matches!(parse(None, &params("")), Err(OAuthError::InvalidClient { via_basic: false })));
        let no_colon = format!("Basic {}", STANDARD.encode("abc"));
        assert!(parse(Some(&no_colon), &params("")).is_err());
    }
}
