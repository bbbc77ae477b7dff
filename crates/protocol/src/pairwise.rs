//! Subject identifiers (OIDC Core §8): `public` (the user's `sub`, the same for every client) or
//! `pairwise` (a different, stable `sub` per *sector*, so clients of different sectors cannot
//! correlate their users). A client's sector is the host of its `sector_identifier_uri`, or,
//! without one, the one host all its redirect URIs share (§8.1). The `sector_identifier_uri`
//! names a JSON array of URLs that must include every redirect URI of the client (§5 of OIDC
//! Dynamic Client Registration). The pairwise value itself is an HMAC the server computes
//! ([`input`] is what it is computed over). A leaf the client model holds.

use crate::redirect_uri::RedirectUri;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `subject_type` (OIDC Dynamic Client Registration §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectType {
    #[default]
    Public,
    Pairwise,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Pairwise => "pairwise",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Public, Self::Pairwise].into_iter().find(|t| t.as_str() == s)
    }

    pub fn is_public(&self) -> bool {
        *self == Self::Public
    }
}

crate::string_serde!(SubjectType, SubjectType::parse, |v: &SubjectType| v.as_str().to_owned());

/// The validated subject settings of a client; flattened into the client's document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subjects {
    #[serde(default, skip_serializing_if = "SubjectType::is_public")]
    pub subject_type: SubjectType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// The sector pairwise subjects are computed for (a host); `None` for public subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
}

impl Subjects {
    /// Validates the raw settings against the client's redirect URIs; problems go to `errs` as
    /// (key, message).
    pub fn validate(
        subject_type: Option<&str>,
        sector_identifier_uri: Option<&str>,
        redirect_uris: &[RedirectUri],
        errs: &mut Vec<(&'static str, String)>,
    ) -> Self {
        let subject_type = match subject_type {
            None => SubjectType::Public,
            Some(t) => SubjectType::parse(t).unwrap_or_else(|| {
                errs.push(("subject_type", format!("{t:?} is not public or pairwise")));
                SubjectType::Public
            }),
        };
        let uri_host = sector_identifier_uri.and_then(|u| match url::Url::parse(u) {
            Ok(url) if url.scheme() == "https" || url.scheme() == "http" => url.host_str().map(str::to_ascii_lowercase),
            _ => {
                errs.push(("sector_identifier_uri", format!("{u:?} is not an https URL")));
                None
            }
        });
        let sector = match subject_type {
            SubjectType::Public => None,
            SubjectType::Pairwise => match uri_host {
                Some(h) => Some(h),
                None if sector_identifier_uri.is_some() => None,
                None => {
                    let mut hosts: Vec<String> = redirect_uris.iter().filter_map(host_of).collect();
                    hosts.sort();
                    hosts.dedup();
                    match hosts.as_slice() {
                        [one] => Some(one.clone()),
                        [] => {
                            errs.push((
                                "subject_type",
                                "pairwise subjects need redirect URIs or a sector_identifier_uri".into(),
                            ));
                            None
                        }
                        _ => {
                            errs.push((
                                "sector_identifier_uri",
                                "redirect URIs on several hosts need a sector_identifier_uri for pairwise subjects"
                                    .into(),
                            ));
                            None
                        }
                    }
                }
            },
        };
        Self { subject_type, sector_identifier_uri: sector_identifier_uri.map(str::to_owned), sector }
    }

    pub fn is_pairwise(&self) -> bool {
        self.subject_type == SubjectType::Pairwise
    }
}

fn host_of(u: &RedirectUri) -> Option<String> {
    url::Url::parse(u.as_str()).ok()?.host_str().map(str::to_ascii_lowercase)
}

/// What a pairwise subject is computed over for `sector` and the user's `sub` (§8.1).
pub fn input(sector: &str, sub: &str) -> String {
    format!("pairwise:{}:{sector}:{sub}", sector.len())
}

/// Checks a `sector_identifier_uri` document: a JSON array of URLs holding every redirect URI.
pub fn check_sector_document(body: &[u8], redirect_uris: &[RedirectUri]) -> Result<(), String> {
    let Ok(Value::Array(listed)) = serde_json::from_slice::<Value>(body) else {
        return Err("the sector_identifier_uri document is not a JSON array of URLs".into());
    };
    let listed: Vec<&str> = listed.iter().filter_map(Value::as_str).collect();
    match redirect_uris.iter().find(|u| !listed.contains(&u.as_str())) {
        Some(missing) => Err(format!("the sector_identifier_uri document does not list {:?}", missing.as_str())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(list: &[&str]) -> Vec<RedirectUri> {
        list.iter().map(|u| RedirectUri::parse(u).unwrap()).collect()
    }

    #[test]
    fn the_sector_is_the_uri_host_or_the_one_redirect_host() {
        let mut errs = Vec::new();
        let one = uris(&["https://app.example.com/cb", "https://app.example.com/other"]);
        let s = Subjects::validate(Some("pairwise"), None, &one, &mut errs);
        assert_eq!((s.sector.as_deref(), errs.len()), (Some("app.example.com"), 0));
        let two = uris(&["https://a.example.com/cb", "https://b.example.com/cb"]);
        Subjects::validate(Some("pairwise"), None, &two, &mut errs);
        assert_eq!(errs.len(), 1, "{errs:?}");
        errs.clear();
        let s = Subjects::validate(Some("pairwise"), Some("https://example.com/sector.json"), &two, &mut errs);
        assert_eq!((s.sector.as_deref(), errs.len()), (Some("example.com"), 0));
        let s = Subjects::validate(None, None, &two, &mut errs);
        assert_eq!((s.subject_type, s.sector, errs.len()), (SubjectType::Public, None, 0));
        Subjects::validate(Some("secret"), None, &one, &mut errs);
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn the_sector_document_lists_every_redirect_uri() {
        let list = uris(&["https://a.example.com/cb", "https://b.example.com/cb"]);
        assert!(
            check_sector_document(br#"["https://a.example.com/cb", "https://b.example.com/cb", "https://c/"]"#, &list)
                .is_ok()
        );
        assert!(
            check_sector_document(br#"["https://a.example.com/cb"]"#, &list).unwrap_err().contains("b.example.com")
        );
        assert!(check_sector_document(br#"{"redirect_uris": []}"#, &list).is_err());
        assert_ne!(input("a.example.com", "u1"), input("b.example.com", "u1"));
    }
}
