//! OAuth 2.0 Protected Resource Metadata (RFC 9728) for Gatehouse's own protected APIs, the
//! userinfo endpoint and the admin API: one resource, the issuer, whose tokens name the issuer
//! as their audience. A client that meets a `401` there learns from `WWW-Authenticate`'s
//! `resource_metadata` where the document is, and from the document which authorization server
//! to ask.

use serde::Serialize;

/// The well-known suffix (RFC 9728 §3).
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// RFC 9728 §2 metadata. Field names are the registered ones.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub bearer_methods_supported: Vec<&'static str>,
    pub resource_name: &'static str,
}

impl ProtectedResourceMetadata {
    /// Gatehouse's own APIs, protected by Gatehouse itself.
    pub fn for_issuer(issuer: &str, scopes: Vec<String>) -> Self {
        Self {
            resource: issuer.to_owned(),
            authorization_servers: vec![issuer.to_owned()],
            scopes_supported: scopes,
            bearer_methods_supported: vec!["header"],
            resource_name: "Gatehouse userinfo and admin API",
        }
    }
}

/// Where a resource's metadata lives (RFC 9728 §3.1): the well-known suffix goes between the
/// host and the path, so `https://h/p` is described at `https://h/.well-known/oauth-protected-resource/p`.
pub fn metadata_url(resource: &str) -> Option<String> {
    let url = url::Url::parse(resource).ok()?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    Some(format!("{origin}{WELL_KNOWN}{path}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_suffix_goes_between_host_and_path() {
        assert_eq!(
            metadata_url("https://id.example.com").as_deref(),
            Some("https://id.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(
            metadata_url("https://example.com/auth/").as_deref(),
            Some("https://example.com/.well-known/oauth-protected-resource/auth")
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:8080/mcp").as_deref(),
            Some("http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(metadata_url("not a url"), None);
    }

    #[test]
    fn the_document_names_the_issuer_as_resource_and_server() {
        let doc =
            serde_json::to_value(ProtectedResourceMetadata::for_issuer("https://id", vec!["openid".into()])).unwrap();
        assert_eq!(doc["resource"], "https://id");
        assert_eq!(doc["authorization_servers"], serde_json::json!(["https://id"]));
        assert_eq!(doc["bearer_methods_supported"], serde_json::json!(["header"]));
    }
}
