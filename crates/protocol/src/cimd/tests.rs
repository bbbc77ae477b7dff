use super::*;
use serde_json::json;

const URL: &str = "https://app.example.com/oauth/client.json";

fn allowed() -> ScopeSet {
    ScopeSet::parse("openid profile offline_access mcp:tools").unwrap()
}

fn known(s: &str) -> bool {
    matches!(s, "openid" | "profile" | "email" | "offline_access" | "mcp:tools")
}

fn client(doc: Value) -> Result<Client, Vec<FieldError>> {
    client_from_document(URL, doc.to_string().as_bytes(), &allowed(), &known)
}

fn base() -> Value {
    json!({"client_id": URL, "client_name": "Example Agent", "redirect_uris": ["http://127.0.0.1:33418/callback"]})
}

#[test]
fn metadata_urls_are_plain_https_urls_with_a_path() {
    for ok in [URL, "https://app.example.com/c", "https://app.example.com:8443/c"] {
        assert!(is_metadata_url(ok), "{ok}");
    }
    for bad in [
        "http://app.example.com/c",
        "https://app.example.com",
        "https://app.example.com/",
        "https://user:pw@app.example.com/c",
        "https://app.example.com/c#x",
        "https://app.example.com/c?x=1",
        "https://app.example.com/a/../c",
        "https://app.example.com/./c",
        "https://APP.example.com/c",
        "webapp",
        "urn:example:client",
    ] {
        assert!(!is_metadata_url(bad), "{bad}");
    }
    assert_eq!(host_of(URL).as_deref(), Some("app.example.com"));
    assert_eq!(host_of("webapp"), None);
    assert!(is_loopback_test_url("http://127.0.0.1:8080/client.json"));
    assert!(!is_loopback_test_url("http://app.example.com/client.json"), "loopback only");
    assert!(!is_loopback_test_url("http://127.0.0.1:8080/"), "still needs a path");
}

#[test]
fn a_document_becomes_a_public_client() {
    let c = client(base()).unwrap();
    assert!(c.is_public());
    assert_eq!(c.id.as_str(), URL);
    assert_eq!(c.name.as_deref(), Some("Example Agent (app.example.com)"), "the host beside the chosen name");
    assert_eq!(c.scopes, allowed(), "no scope named: all that is allowed");
    assert!(!c.first_party);
    let mut doc = base();
    doc["scope"] = json!("openid mcp:tools email gatehouse:admin");
    doc["grant_types"] = json!(["authorization_code", "refresh_token"]);
    let c = client(doc).unwrap();
    assert_eq!(c.scopes.to_string(), "mcp:tools openid", "narrowed to what such clients may have");
    assert!(!c.dpop_bound_access_tokens);
    let mut doc = base();
    doc["dpop_bound_access_tokens"] = json!(true);
    assert!(client(doc).unwrap().dpop_bound_access_tokens, "RFC 9449 §5.2 metadata is honoured");
}

#[test]
fn a_document_may_name_a_key_instead() {
    let mut doc = base();
    doc["token_endpoint_auth_method"] = json!("private_key_jwt");
    doc["jwks_uri"] = json!("https://app.example.com/jwks.json");
    let c = client(doc).unwrap();
    assert_eq!(c.token_endpoint_auth_method, crate::client::TokenEndpointAuthMethod::PrivateKeyJwt);
    assert!(!c.is_public(), "a confidential client, with no secret");
    assert_eq!(c.keys.jwks_uri.as_deref(), Some("https://app.example.com/jwks.json"));
}

#[test]
fn documents_that_break_the_rules_are_refused() {
    let refused = |change: &dyn Fn(&mut Value), key: &str| {
        let mut doc = base();
        change(&mut doc);
        let errs = client(doc).unwrap_err();
        assert_eq!(errs[0].key, key, "{errs:?}");
    };
    refused(&|d| d["client_id"] = json!("https://evil.example.com/c"), "client_id");
    refused(&|d| d["client_secret"] = json!("s"), "client_secret");
    refused(&|d| d["token_endpoint_auth_method"] = json!("client_secret_basic"), "token_endpoint_auth_method");
    refused(&|d| d["redirect_uris"] = json!([]), "redirect_uris");
    refused(&|d| d["redirect_uris"] = json!(["not a uri"]), "redirect_uris");
    refused(&|d| d["grant_types"] = json!(["client_credentials"]), "grant_types");
    refused(&|d| d["response_types"] = json!(["token"]), "response_types");
    refused(
        &|d| {
            d["application_type"] = json!("native");
            d["redirect_uris"] = json!(["https://app.example.com/cb"]);
        },
        "redirect_uris",
    );
    refused(&|d| d["token_endpoint_auth_method"] = json!("private_key_jwt"), "token_endpoint_auth_method");
    assert_eq!(client_from_document(URL, b"[1]", &allowed(), &known).unwrap_err()[0].key, "document");
    let big = format!("{{\"client_id\": \"{URL}\", \"pad\": \"{}\"}}", "x".repeat(MAX_DOCUMENT_BYTES));
    assert_eq!(client_from_document(URL, big.as_bytes(), &allowed(), &known).unwrap_err()[0].key, "document");
}

#[test]
fn cache_lifetimes_follow_the_headers_within_bounds() {
    assert_eq!(cache_seconds(Some("public, max-age=600"), 60, 86_400, 300), Some(600));
    assert_eq!(cache_seconds(Some("max-age=5"), 60, 86_400, 300), Some(60), "at least the minimum");
    assert_eq!(cache_seconds(Some("max-age=99999999"), 60, 86_400, 300), Some(86_400), "at most the maximum");
    assert_eq!(cache_seconds(None, 60, 86_400, 300), Some(300));
    assert_eq!(cache_seconds(Some("no-store"), 60, 86_400, 300), None);
    assert_eq!(cache_seconds(Some("max-age=600, no-cache"), 60, 86_400, 300), None);
    assert_eq!(cache_seconds(Some("max-age=banana"), 60, 86_400, 300), Some(300));
}
