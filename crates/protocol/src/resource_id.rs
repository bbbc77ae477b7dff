//! The resource identifier of RFC 8707 §2, apart from the rules that use it (the `resource` module),
//! so that the client model can hold one without importing those rules.

use std::fmt;

/// A resource identifier (RFC 8707 §2): an absolute URI without a fragment, compared as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(String);

impl ResourceId {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.len() > 2048 {
            return Err("must be at most 2048 characters");
        }
        if s.contains('#') {
            return Err("must not have a fragment (RFC 8707 §2)");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        match url::Url::parse(s) {
            Ok(u) if !u.cannot_be_a_base() && u.has_host() => Ok(Self(s.to_owned())),
            _ => Err("must be an absolute URI such as https://api.example.com"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::string_serde!(ResourceId, |s: &str| ResourceId::parse(s).ok(), |v: &ResourceId| v.0.clone());
