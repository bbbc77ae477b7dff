//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a `client_id`
//! that is an https URL names a JSON document, served there by the client, that describes it in
//! RFC 7591 terms. Nobody registers such a client; the authorization server fetches the document
//! when it meets the client, checks it, and caches it as its HTTP headers allow.
//!
//! Here: which URLs qualify ([`is_metadata_url`]), what a document must say to become a
//! [`Client`] ([`client_from_document`]), and how long one may be kept ([`cache_seconds`]).
//! Fetching (over the SSRF-safe fetcher) and caching are `gatehouse-core`'s.

use crate::client::{ApplicationType, Client, ClientSpec, FieldError};
use crate::scope::ScopeSet;
use serde_json::Value;

/// The longest document accepted, in bytes (the draft suggests a small limit; 5 KiB is its
/// example, real documents are well under that).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;

/// §3: an https URL with a path, without a fragment, credentials, query, or dot segments.
pub fn is_metadata_url(id: &str) -> bool {
    let Ok(url) = url::Url::parse(id) else { return false };
    let raw_path = id.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])).unwrap_or("");
    url.scheme() == "https"
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
        && url.query().is_none()
        && !id.contains('#')
        && url.path() != "/"
        && !raw_path.split('/').any(|seg| seg == "." || seg == ".." || seg.eq_ignore_ascii_case("%2e"))
        // What the URL parser normalised (case, dot segments, default port) is not the same id.
        && url.as_str() == id
}

/// For tests only (`[cimd] allow_loopback`): the same rules, over http on a loopback address.
pub fn is_loopback_test_url(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("http://") else { return false };
    let host = url::Url::parse(id).ok().and_then(|u| u.host_str().map(str::to_owned));
    matches!(host.as_deref(), Some("127.0.0.1" | "[::1]" | "localhost")) && is_metadata_url(&format!("https://{rest}"))
}

/// The host a metadata client's id names: what every page shows beside its name.
pub fn host_of(id: &str) -> Option<String> {
    let url = url::Url::parse(id).ok().filter(|u| matches!(u.scheme(), "https" | "http"))?;
    url.host_str().map(str::to_owned)
}

/// The grant types a metadata-document client may use: a public client's.
const GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];

/// Checks a fetched document against its URL and turns it into a public client. `allowed` are
/// the scopes such clients may be given (the document's `scope` is narrowed to them, or they
/// are all of it when it names none); `known` says which scope names exist.
pub fn client_from_document(
    url: &str,
    body: &[u8],
    allowed: &ScopeSet,
    known: &dyn Fn(&str) -> bool,
) -> Result<Client, Vec<FieldError>> {
    let one = |key: &'static str, m: &str| vec![FieldError::new(key, m)];
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(one("document", "is larger than 5 KiB"));
    }
    let doc: serde_json::Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => o,
        _ => return Err(one("document", "is not a JSON object")),
    };
    let s = |k: &str| doc.get(k).and_then(Value::as_str);
    let strings = |k: &str| -> Option<Vec<String>> {
        doc.get(k)?.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
    };
    // §4.1: the document names itself, exactly.
    if s("client_id") != Some(url) {
        return Err(one("client_id", "must be the document's own URL, exactly"));
    }
    // §4.1: no shared secrets: the document is public.
    for k in ["client_secret", "client_secret_expires_at"] {
        if doc.contains_key(k) {
            return Err(one(k, "is not allowed in a client ID metadata document"));
        }
    }
    // A public client, or one that proves itself with a key it publishes (`private_key_jwt`
    // with `jwks_uri` or `jwks`): a document can hold no secret.
    let method = match s("token_endpoint_auth_method") {
        None | Some("none") => "none",
        Some("private_key_jwt") if doc.contains_key("jwks_uri") || doc.contains_key("jwks") => "private_key_jwt",
        Some(m) => {
            return Err(one(
                "token_endpoint_auth_method",
                &format!(
                    "{m:?} is not supported for metadata documents; use \"none\" (a public client with PKCE) or \"private_key_jwt\" with jwks_uri"
                ),
            ));
        }
    };
    let redirect_uris = strings("redirect_uris").unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err(one("redirect_uris", "are required"));
    }
    let grants = strings("grant_types").unwrap_or_else(|| vec!["authorization_code".to_owned()]);
    if let Some(g) = grants.iter().find(|g| !GRANTS.contains(&g.as_str())) {
        return Err(one("grant_types", &format!("{g:?} is not available to metadata-document clients")));
    }
    if let Some(rt) = strings("response_types")
        && rt.iter().any(|r| r != "code")
    {
        return Err(one("response_types", "only \"code\" is available to metadata-document clients"));
    }
    let scope: ScopeSet = match s("scope").map(ScopeSet::parse) {
        None => allowed.clone(),
        Some(Ok(asked)) => asked.iter().filter(|x| allowed.contains(x.as_str())).cloned().collect(),
        Some(Err(_)) => return Err(one("scope", "is malformed")),
    };
    let application_type = match s("application_type") {
        None => ApplicationType::Web,
        Some(t) => ApplicationType::parse(t).ok_or_else(|| one("application_type", "must be web or native"))?,
    };
    // The name is the document's to choose, so it is never shown without the host that serves
    // it: "Example Agent (app.example.com)" cannot pass for another site's application.
    let host = host_of(url).unwrap_or_default();
    let name = match s("client_name").map(|n| n.chars().filter(|c| !c.is_control()).take(100).collect::<String>()) {
        Some(n) if !n.trim().is_empty() => format!("{} ({host})", n.trim()),
        _ => host,
    };
    let spec = ClientSpec {
        client_id: url.to_owned(),
        client_name: Some(name),
        scope: Some(scope.iter().filter(|x| known(x.as_str())).map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
        grant_types: Some(grants),
        redirect_uris,
        token_endpoint_auth_method: Some(method.to_owned()),
        jwks: doc.get("jwks").cloned(),
        jwks_uri: s("jwks_uri").map(str::to_owned),
        token_endpoint_auth_signing_alg: s("token_endpoint_auth_signing_alg").map(str::to_owned),
        application_type,
        dpop_bound_access_tokens: doc.get("dpop_bound_access_tokens").and_then(Value::as_bool).unwrap_or(false),
        ..Default::default()
    };
    let valid = spec.validate(known)?;
    let mut errs = crate::registration::check_redirect_uris(application_type, false, &valid.client.redirect_uris);
    if !errs.is_empty() {
        return Err(std::mem::take(&mut errs));
    }
    Ok(valid.client)
}

/// How long a fetched document may be reused, in seconds: its `Cache-Control` `max-age` (or
/// `s-maxage`), held within `min..=max`; `default` without either; `None` (fetch again next
/// time) for `no-store` or `no-cache`.
pub fn cache_seconds(cache_control: Option<&str>, min: u64, max: u64, default: u64) -> Option<u64> {
    let mut age = None;
    for d in cache_control.unwrap_or("").split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if d == "no-store" || d == "no-cache" {
            return None;
        }
        if let Some(v) = d.strip_prefix("max-age=").or_else(|| d.strip_prefix("s-maxage=")) {
            age = v.trim_matches('"').parse::<u64>().ok().or(age);
        }
    }
    Some(age.unwrap_or(default).clamp(min, max))
}

#[cfg(test)]
mod tests;
