//! Gatehouse integration tests: one binary, a module per capability. Every test talks to a
//! real server over HTTP on an ephemeral port, with its own database, on SQLite and (when
//! `GATEHOUSE_TEST_POSTGRES_URL` is set) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod account;
mod acr;
mod admin;
mod authorize;
mod backchannel;
mod book;
mod cimd;
mod claims_parameter;
mod cli;
mod client;
mod client_secret_jwt;
mod conformance;
mod console;
mod crash;
mod device;
mod discovery;
mod dpop;
mod encrypted_responses;
mod first_minutes;
mod fuzz;
mod health;
mod hostile;
mod implicit_hybrid;
mod initiate_login;
mod interop;
mod introspect_revoke;
mod jarm;
mod jwks;
mod keys;
mod ldap;
mod logout;
mod logs;
mod metrics;
mod nodes;
mod pages;
mod pairwise;
mod par;
mod passkeys;
mod private_key_jwt;
mod provision;
mod refresh_retry;
mod register;
mod resources;
mod restart;
mod second_factor;
mod security;
mod sessions;
mod signed_responses;
mod signer;
mod store;
mod throttle;
mod token;
mod upstream_mock;
mod upstreams;
mod userinfo;

/// A config with one of each kind of client, users and a custom scope.
pub const CONFIG: &str = r#"
[[scopes]]
name = "roles"
claims = ["roles"]
description = "See which roles you have"

[[clients]]
client_id = "webapp"
client_name = "Web App"
client_secret = "webapp-secret"
scope = "openid profile email roles offline_access"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1:3000/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:3000/"]

[[clients]]
client_id = "postapp"
client_name = "Post App"
client_secret = "postapp-secret"
token_endpoint_auth_method = "client_secret_post"
id_token_signed_response_alg = "ES256"
access_token_signed_response_alg = "EdDSA"
scope = "openid profile"
grants = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:4000/cb"]
first_party = true

[[clients]]
client_id = "spa"
scope = "openid profile offline_access"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1:5173/callback"]

[[clients]]
client_id = "service"
client_secret = "service-secret"
scope = "roles"
grants = ["client_credentials"]

[[clients]]
client_id = "pwapp"
client_secret = "pwapp-secret"
scope = "openid profile roles offline_access"
grants = ["password", "refresh_token"]

[[clients]]
client_id = "implicit-app"
scope = "openid profile email"
grants = ["implicit"]
redirect_uris = ["http://127.0.0.1:6000/cb"]
first_party = true

[[clients]]
client_id = "hybrid-app"
client_secret = "hybrid-secret"
scope = "openid profile email roles offline_access"
grants = ["hybrid client_credentials", "refresh_token"]
redirect_uris = ["http://127.0.0.1:7000/cb"]
id_token_signed_response_alg = "ES256"
first_party = true

[[clients]]
client_id = "tv"
client_name = "Living Room TV"
scope = "openid profile offline_access"
grants = ["device_code", "refresh_token"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
name = "Alice Example"
email = "alice@example.com"
email_verified = true
roles = ["admin"]

[[users]]
username = "bob"
password = "bob-password"
disabled = true
"#;

pub const WEBAPP_CB: &str = "http://127.0.0.1:3000/callback";

/// Standard parameters for the webapp's code flow with PKCE.
pub fn webapp_auth<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", "webapp"),
        ("redirect_uri", WEBAPP_CB),
        ("response_type", "code"),
        ("scope", "openid profile email roles offline_access"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", gatehouse_testkit::browser::CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        p.retain(|(kk, _)| kk != k);
        p.push((k, v));
    }
    p
}

/// Verifies a JWT against the server's JWKS with an independent library; returns the claims.
pub async fn verify_jwt(s: &gatehouse_testkit::TestServer, token: &str, aud: Option<&str>) -> serde_json::Value {
    let set: jsonwebtoken::jwk::JwkSet = s.http.get(s.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = set.find(header.kid.as_deref().unwrap()).expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[s.url.as_str()]);
    match aud {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).unwrap().claims
}

/// Verifies a document Gatehouse signed (no `exp`: it is an answer, not a credential).
pub async fn verify_document(
    s: &gatehouse_testkit::TestServer,
    jwt: &str,
    aud: &str,
) -> (jsonwebtoken::Header, serde_json::Value) {
    let set: jsonwebtoken::jwk::JwkSet = s.http.get(s.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_issuer(&[s.url.as_str()]);
    v.set_audience(&[aud]);
    (header.clone(), jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &v).unwrap().claims)
}

/// Refreshes with the webapp's credentials: the token response.
pub async fn webapp_refresh(s: &gatehouse_testkit::TestServer, refresh_token: &str) -> serde_json::Value {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let r = s.http.post(s.url("/token")).basic_auth("webapp", Some("webapp-secret")).form(&form).send().await.unwrap();
    r.json().await.unwrap()
}

/// Signs alice in through the webapp in browser `b` (with `extra` authorization parameters)
/// and redeems the code: the token response.
pub async fn webapp_tokens(
    s: &gatehouse_testkit::TestServer,
    b: &gatehouse_testkit::browser::Browser,
    extra: &[(&str, &str)],
) -> serde_json::Value {
    let p = b.sign_in(&webapp_auth(extra), "alice", "alice-password").await;
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("webapp", Some("webapp-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", WEBAPP_CB),
            ("code_verifier", gatehouse_testkit::browser::VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}
