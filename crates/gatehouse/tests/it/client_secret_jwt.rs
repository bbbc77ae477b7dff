//! Client secrets Gatehouse must use as keys, over real HTTP on both stores: `client_secret_jwt`
//! (OIDC Core §9) and HS256 ID tokens (§10.1) for clients whose secret is kept sealed under
//! `[secrets] sealing_key`; both refused, and not advertised, without a sealing key.

use crate::CONFIG;
use crate::signer::{fresh_id, now};
use gatehouse_protocol::client_assertion::ASSERTION_TYPE;
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

const KEY: &str = "q1dW3U0m8e6yYy3n1qgQm0I5d4hRrjv3bL5t7Q2sX1c=";
const CB: &str = "http://127.0.0.1:8400/cb";

fn clients() -> String {
    format!(
        r#"
[[clients]]
client_id = "hmac"
client_secret = "hmac-secret-0123456789"
token_endpoint_auth_method = "client_secret_jwt"
scope = "roles"
grants = ["client_credentials"]

[[clients]]
client_id = "hs-tokens"
client_secret = "hs-secret-0123456789"
id_token_signed_response_alg = "HS256"
scope = "openid email"
grants = ["authorization_code"]
redirect_uris = ["{CB}"]
first_party = true
"#
    )
}

fn config() -> String {
    format!("{CONFIG}\n[secrets]\nsealing_key = \"{KEY}\"\n[registration]\nenabled = true\n{}", clients())
}

fn hs256(secret: &str, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), claims, &key).unwrap()
}

fn assertion(client: &str, secret: &str, aud: &str) -> String {
    hs256(secret, &json!({"iss": client, "sub": client, "aud": aud, "jti": fresh_id(), "exp": now() + 60}))
}

async fn client_credentials(s: &TestServer, assertion: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    let r = s.http.post(s.url("/token")).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sealed_secrets_key_client_assertions_and_hs256_id_tokens() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert!(
            meta["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!("client_secret_jwt")),
            "{label}"
        );
        assert!(meta["id_token_signing_alg_values_supported"].as_array().unwrap().contains(&json!("HS256")), "{label}");
        assert!(meta["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap().contains(&json!("HS256")));

        // client_secret_jwt: an HMAC keyed by the secret; once; not with another secret.
        let token_url = s.url("/token");
        let once = assertion("hmac", "hmac-secret-0123456789", &token_url);
        let (st, t) = client_credentials(&s, &once).await;
        assert_eq!((st, t["scope"].as_str()), (200, Some("roles")), "{label}: {t}");
        assert_eq!(client_credentials(&s, &once).await.0, 401, "{label}: replayed");
        assert_eq!(client_credentials(&s, &assertion("hmac", "not-the-secret", &token_url)).await.0, 401, "{label}");
        let r = s
            .http
            .post(&token_url)
            .basic_auth("hmac", Some("hmac-secret-0123456789"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{label}: the client registered client_secret_jwt");

        // HS256 ID tokens, keyed by the (sealed) secret the client authenticates with.
        let b = Browser::new(&s.url);
        let p = b
            .sign_in(
                &[
                    ("client_id", "hs-tokens"),
                    ("redirect_uri", CB),
                    ("response_type", "code"),
                    ("scope", "openid email"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                    ("nonce", "n"),
                ],
                "alice",
                "alice-password",
            )
            .await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", p["code"].as_str()),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ];
        let r = s
            .http
            .post(&token_url)
            .basic_auth("hs-tokens", Some("hs-secret-0123456789"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{label}: a sealed secret authenticates");
        let t: Value = r.json().await.unwrap();
        let id_token = t["id_token"].as_str().unwrap();
        assert_eq!(jsonwebtoken::decode_header(id_token).unwrap().alg, jsonwebtoken::Algorithm::HS256);
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.set_audience(&["hs-tokens"]);
        v.set_issuer(&[s.url.as_str()]);
        let key = jsonwebtoken::DecodingKey::from_secret(b"hs-secret-0123456789");
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v).unwrap().claims;
        assert_eq!((claims["nonce"].as_str(), claims.get("at_hash").is_some()), (Some("n"), true), "{label}");
        let wrong = s.http.post(&token_url).basic_auth("hs-tokens", Some("nope")).form(&form).send().await.unwrap();
        assert_eq!(wrong.status(), 401, "{label}");

        // Registration: a client_secret_jwt client gets a secret it can sign with at once.
        let reg: Value = s
            .http
            .post(s.url("/register"))
            .json(&json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_jwt", "scope": "openid"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (id, secret) = (reg["client_id"].as_str().unwrap(), reg["client_secret"].as_str().unwrap());
        assert_eq!(client_credentials(&s, &assertion(id, secret, &token_url)).await.0, 200, "{label}: {reg}");
    }
}

#[tokio::test]
async fn without_a_sealing_key_neither_is_offered() {
    let e = TestServer::start(&format!("{CONFIG}{}", clients()), TestDb::sqlite())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("sealing_key"), "{e}");
    let s = TestServer::start(&format!("{CONFIG}\n[registration]\nenabled = true\n"), TestDb::sqlite()).await.unwrap();
    let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert!(!meta["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!("client_secret_jwt")));
    assert!(!meta["id_token_signing_alg_values_supported"].as_array().unwrap().contains(&json!("HS256")));
    let r = s
        .http
        .post(s.url("/register"))
        .json(&json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_jwt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client_metadata");
}
