//! The `claims` request parameter (OIDC Core §5.5): which claims a client asks for by name, in
//! the ID token and at userinfo separately, each voluntary (`null`) or described
//! (`{"essential": true}`, `{"value": ...}`, `{"values": [...]}`).
//!
//! What Gatehouse does with it: a claim asked for by name is released where it was asked for
//! when the scope granted in this request covers it (the user consented to that scope), even
//! where the scope alone would not put it — the ID token beside an access token, for one. A
//! claim no granted scope covers is not released: consent is given per scope, and the
//! parameter does not widen it. `acr` asked for with `essential`/`value(s)` is a requirement on
//! the sign-in ([`ClaimsRequest::acr`]).

use crate::error::OAuthError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest `claims` parameter value accepted, and the most claims it may name.
pub const MAX_CLAIMS: usize = 100;

/// Where claims are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    IdToken,
    Userinfo,
}

/// A validated `claims` request: for each member, the claims asked for and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub id_token: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub userinfo: Map<String, Value>,
}

fn bad(why: &'static str) -> OAuthError {
    OAuthError::InvalidRequest(why)
}

impl ClaimsRequest {
    /// Parses the parameter (a JSON object). Members other than `id_token` and `userinfo` are
    /// ignored (§5.5: "MAY be ignored"); each claim's request must be `null` or an object whose
    /// `essential` is a boolean and whose `values` is an array.
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        let Ok(Value::Object(top)) = serde_json::from_str::<Value>(raw) else {
            return Err(bad("claims must be a JSON object"));
        };
        let member = |name: &str| -> Result<Map<String, Value>, OAuthError> {
            match top.get(name) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(claims)) => {
                    for request in claims.values() {
                        match request {
                            Value::Null => {}
                            Value::Object(o) => {
                                if o.get("essential").is_some_and(|e| !e.is_boolean()) {
                                    return Err(bad("a claim's essential must be true or false"));
                                }
                                if o.get("values").is_some_and(|v| !v.is_array()) {
                                    return Err(bad("a claim's values must be an array"));
                                }
                            }
                            _ => return Err(bad("each requested claim is null or an object")),
                        }
                    }
                    Ok(claims.clone())
                }
                Some(_) => Err(bad("claims.id_token and claims.userinfo must be objects")),
            }
        };
        let out = Self { id_token: member("id_token")?, userinfo: member("userinfo")? };
        if out.id_token.len() + out.userinfo.len() > MAX_CLAIMS {
            return Err(bad("claims names too many claims"));
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.id_token.is_empty() && self.userinfo.is_empty()
    }

    fn member(&self, m: Member) -> &Map<String, Value> {
        match m {
            Member::IdToken => &self.id_token,
            Member::Userinfo => &self.userinfo,
        }
    }

    /// The names asked for in member `m`.
    pub fn names(&self, m: Member) -> impl Iterator<Item = &str> {
        self.member(m).keys().map(String::as_str)
    }

    /// The `acr` values the ID token's `acr` must take (`value`, or `values` in order of
    /// preference) and whether that is essential; `None` when `acr` is not asked for with values.
    pub fn acr(&self) -> Option<(Vec<String>, bool)> {
        let Value::Object(req) = self.id_token.get("acr")? else { return None };
        let values: Vec<String> = match (req.get("value"), req.get("values")) {
            (Some(Value::String(v)), _) => vec![v.clone()],
            (_, Some(Value::Array(vs))) => vs.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let essential = req.get("essential").and_then(Value::as_bool).unwrap_or(false);
        (!values.is_empty()).then_some((values, essential))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_members_and_requests() {
        let r = ClaimsRequest::parse(
            r#"{"id_token": {"email": {"essential": true}, "acr": {"values": ["urn:a", "urn:b"]}},
                "userinfo": {"name": null, "nickname": {"value": "x"}}, "other": 1}"#,
        )
        .unwrap();
        // In the order the client wrote them (serde_json keeps insertion order in this workspace).
        assert_eq!(r.names(Member::IdToken).collect::<Vec<_>>(), ["email", "acr"]);
        assert_eq!(r.names(Member::Userinfo).collect::<Vec<_>>(), ["name", "nickname"]);
        assert_eq!(r.acr(), Some((vec!["urn:a".to_owned(), "urn:b".to_owned()], false)));
        assert!(ClaimsRequest::parse(r#"{"userinfo": null}"#).unwrap().is_empty());
        // Stored and read back as it was.
        let back: ClaimsRequest = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn refuses_what_is_not_a_claims_request() {
        for bad in [
            "not json",
            "[]",
            r#"{"id_token": []}"#,
            r#"{"userinfo": {"email": true}}"#,
            r#"{"userinfo": {"email": {"essential": "yes"}}}"#,
            r#"{"id_token": {"acr": {"values": "urn:a"}}}"#,
        ] {
            assert_eq!(ClaimsRequest::parse(bad).unwrap_err().code(), "invalid_request", "{bad}");
        }
        let many: Map<String, Value> = (0..101).map(|i| (format!("c{i}"), Value::Null)).collect();
        let raw = serde_json::json!({ "userinfo": many }).to_string();
        assert!(ClaimsRequest::parse(&raw).is_err());
    }
}
