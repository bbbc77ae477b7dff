//! Request parameters (RFC 6749 §3.1, §3.2): parsed once, duplicates refused, empty values
//! treated as absent. The one parameter a request may repeat is RFC 8707's `resource`.

use crate::error::OAuthError;
use std::collections::HashMap;

/// Parameters that may appear more than once (RFC 8707 §2: `resource`).
pub const REPEATABLE: [&str; 1] = ["resource"];

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    single: HashMap<String, String>,
    repeated: HashMap<String, Vec<String>>,
}

/// The longest parameter value accepted: room for an ID token hint, far below the body cap.
pub const MAX_VALUE_BYTES: usize = 8192;
const MAX_NAME_BYTES: usize = 128;

impl Params {
    /// From `application/x-www-form-urlencoded` bytes (a query string or a form body).
    pub fn parse(encoded: &[u8]) -> Result<Self, OAuthError> {
        let mut out = Self::default();
        for (k, v) in url::form_urlencoded::parse(encoded) {
            // The decoder replaces bytes that are not UTF-8 with U+FFFD; such a request is refused
            // rather than read as something the client did not send. NUL has no place here either.
            if [&k, &v].iter().any(|x| x.contains(['\u{FFFD}', '\0'])) {
                return Err(OAuthError::InvalidRequest("parameters must be UTF-8 text"));
            }
            if k.len() > MAX_NAME_BYTES || v.len() > MAX_VALUE_BYTES {
                return Err(OAuthError::InvalidRequest("a parameter is too long"));
            }
            // RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
            // omitted from the request."
            if v.is_empty() {
                continue;
            }
            out.insert(k.into_owned(), v.into_owned())?;
        }
        Ok(out)
    }

    fn insert(&mut self, k: String, v: String) -> Result<(), OAuthError> {
        if REPEATABLE.contains(&k.as_str()) {
            let values = self.repeated.entry(k).or_default();
            if values.len() >= 64 {
                return Err(OAuthError::InvalidRequest("a parameter is repeated too often"));
            }
            values.push(v);
            return Ok(());
        }
        // RFC 6749 §3.1/§3.2: "Request and response parameters MUST NOT be included more than once."
        if self.single.insert(k, v).is_some() {
            return Err(OAuthError::InvalidRequest("a parameter is repeated"));
        }
        Ok(())
    }

    /// A parameter that appears once (a repeatable one is read with [`Self::all`]).
    pub fn get(&self, k: &str) -> Option<&str> {
        self.single.get(k).map(String::as_str)
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all(&self, k: &str) -> &[String] {
        self.repeated.get(k).map_or(&[], Vec::as_slice)
    }

    pub fn require(&self, k: &str, missing: &'static str) -> Result<&str, OAuthError> {
        self.get(k).ok_or(OAuthError::InvalidRequest(missing))
    }

    pub fn contains(&self, k: &str) -> bool {
        self.single.contains_key(k) || self.repeated.contains_key(k)
    }

    /// The parameters of a request object's claims (RFC 9101 §4): strings as they are, numbers
    /// and booleans written out, `claims` and other objects as JSON text, and `resource` as an
    /// array of strings or one. The JWT's own claims (`iss`, `aud`, `exp`, `iat`, `nbf`, `jti`)
    /// are not authorization parameters and are left out.
    pub fn from_claims(claims: &serde_json::Map<String, serde_json::Value>) -> Result<Self, OAuthError> {
        use serde_json::Value;
        const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];
        let bad = OAuthError::InvalidRequestObject("a request object claim has a value no parameter can take");
        let mut out = Self::default();
        for (k, v) in claims.iter().filter(|(k, _)| !JWT_CLAIMS.contains(&k.as_str())) {
            let values: Vec<String> = match v {
                Value::Null => continue,
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Bool(b) => vec![b.to_string()],
                Value::Object(_) => vec![v.to_string()],
                Value::Array(items) if REPEATABLE.contains(&k.as_str()) => {
                    items.iter().map(|i| i.as_str().map(str::to_owned).ok_or(bad.clone())).collect::<Result<_, _>>()?
                }
                Value::Array(_) => return Err(bad),
            };
            for v in values {
                if k.len() > MAX_NAME_BYTES || v.len() > MAX_VALUE_BYTES || v.contains('\0') {
                    return Err(bad);
                }
                if !v.is_empty() {
                    out.insert(k.clone(), v)?;
                }
            }
        }
        Ok(out)
    }

    /// These parameters with `inner`'s in place of any of the same name (OIDC Core §6.3.3,
    /// RFC 9101 §6.3: the request object's values are the ones used).
    pub fn overridden_by(mut self, inner: Params) -> Self {
        for (k, v) in inner.single {
            self.single.insert(k, v);
        }
        for (k, v) in inner.repeated {
            self.repeated.insert(k, v);
        }
        self
    }

    /// One parameter.
    pub fn single(k: &str, v: &str) -> Self {
        let mut p = Self::default();
        p.single.insert(k.to_owned(), v.to_owned());
        p
    }

    /// Removes a parameter.
    pub fn remove(&mut self, k: &str) {
        self.single.remove(k);
        self.repeated.remove(k);
    }

    /// Merges another parameter set (e.g. a POSTed form over an empty query); a key present in
    /// both is a repeated parameter.
    pub fn merge(mut self, other: Params) -> Result<Self, OAuthError> {
        for (k, v) in other.single {
            self.insert(k, v)?;
        }
        for (k, values) in other.repeated {
            for v in values {
                self.insert(k.clone(), v)?;
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_nul_and_over_long_values_are_refused() {
        for bad in [&b"client_id=%ff%fe"[..], b"client_id=\xff", b"state=a%00b", b"%ff=x"] {
            assert_eq!(Params::parse(bad).unwrap_err().code(), "invalid_request", "{bad:?}");
        }
        let long = format!("state={}", "a".repeat(MAX_VALUE_BYTES + 1));
        assert!(Params::parse(long.as_bytes()).is_err());
        let ok = format!("state={}", "a".repeat(MAX_VALUE_BYTES));
        assert!(Params::parse(ok.as_bytes()).is_ok());
        assert!(Params::parse(format!("{}=x", "k".repeat(129)).as_bytes()).is_err());
        assert_eq!(Params::parse("name=J%C3%B6rg".as_bytes()).unwrap().get("name"), Some("Jörg"), "real UTF-8 is fine");
    }

    #[test]
    fn duplicates_refused_empty_ignored() {
        assert!(Params::parse(b"a=1&a=2").is_err());
        let p = Params::parse(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y"));
        assert!(Params::parse(b"a=1").unwrap().merge(Params::parse(b"a=1").unwrap()).is_err());
    }

    #[test]
    fn request_object_claims_become_parameters_and_win() {
        let claims = serde_json::json!({
            "iss": "app", "aud": "https://id", "exp": 1, "jti": "j",
            "scope": "openid", "max_age": 60, "claims": {"userinfo": {"email": null}},
            "resource": ["https://a", "https://b"], "state": null
        });
        let inner = Params::from_claims(claims.as_object().unwrap()).unwrap();
        assert_eq!(inner.get("iss"), None, "JWT claims are not parameters");
        assert_eq!(inner.get("max_age"), Some("60"));
        assert_eq!(inner.get("claims"), Some(r#"{"userinfo":{"email":null}}"#));
        assert_eq!(inner.all("resource").len(), 2);
        let outer = Params::parse(b"scope=profile&state=s&client_id=app").unwrap();
        let merged = outer.overridden_by(inner);
        assert_eq!((merged.get("scope"), merged.get("state")), (Some("openid"), Some("s")));
        let nested = serde_json::json!({"prompt": ["login"]});
        assert!(Params::from_claims(nested.as_object().unwrap()).is_err(), "only resource may be an array");
    }

    #[test]
    fn resource_may_repeat() {
        let p = Params::parse(b"resource=https%3A%2F%2Fa&scope=x&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(p.all("resource"), ["https://a", "https://b"]);
        assert_eq!(p.get("resource"), None, "read with all()");
        assert!(p.contains("resource"));
        assert!(Params::parse(b"x=1").unwrap().all("resource").is_empty());
        let merged = p.merge(Params::parse(b"resource=https%3A%2F%2Fc").unwrap()).unwrap();
        assert_eq!(merged.all("resource").len(), 3);
        let many = vec!["resource=https%3A%2F%2Fa"; 65].join("&");
        assert!(Params::parse(many.as_bytes()).is_err());
    }
}
