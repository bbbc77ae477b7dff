//! Scopes (RFC 6749 §3.3): a validated [`Scope`] and an ordered [`ScopeSet`].

use std::collections::BTreeSet;
use std::fmt;

/// One scope token: `1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("a scope is empty")]
    Empty,
    #[error("scope {0:?} has a character RFC 6749 §3.3 does not allow")]
    BadChar(String),
}

impl Scope {
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        if s.is_empty() {
            return Err(ScopeError::Empty);
        }
        // RFC 6749 §3.3: NQCHAR, i.e. printable ASCII without space, '"' and '\'.
        let ok = s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !ok {
            return Err(ScopeError::BadChar(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes, rendered space separated in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-delimited list (RFC 6749 §3.3). Repeated spaces are tolerated; an empty
    /// string is the empty set.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        s.split(' ').filter(|p| !p.is_empty()).map(Scope::parse).collect::<Result<BTreeSet<_>, _>>().map(Self)
    }

    pub fn contains(&self, s: &str) -> bool {
        self.0.iter().any(|x| x.as_str() == s)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).cloned().collect())
    }

    pub fn insert(&mut self, s: Scope) {
        self.0.insert(s);
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_charset_follows_rfc_6749_3_3() {
        for ok in ["openid", "roles", "api:read", "https://api.example.com/x", "a!#[]~"] {
            assert!(Scope::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "quo\"te", "back\\slash", "tab\t", "é"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scope_set_is_ordered_and_deduplicated() {
        let s = ScopeSet::parse("profile  openid profile email").unwrap();
        assert_eq!(s.to_string(), "email openid profile");
        assert_eq!(s.len(), 3);
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn subset_and_intersection() {
        let allowed = ScopeSet::parse("openid profile roles").unwrap();
        let asked = ScopeSet::parse("openid email").unwrap();
        assert!(!asked.is_subset(&allowed));
        assert_eq!(asked.intersection(&allowed).to_string(), "openid");
    }
}

crate::string_serde!(Scope, |s: &str| Scope::parse(s).ok(), |v: &Scope| v.0.clone());
crate::string_serde!(ScopeSet, |s: &str| ScopeSet::parse(s).ok(), |v: &ScopeSet| v.to_string());
