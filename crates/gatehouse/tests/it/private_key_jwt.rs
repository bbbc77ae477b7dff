//! `private_key_jwt` (OIDC Core §9, RFC 7523) over real HTTP on both stores: clients with
//! keys by value (`jwks`) and by reference (`jwks_uri`, rotated without re-registering), the
//! audiences accepted, and every refusal — a replayed `jti`, a bad signature, an expired or
//! misdirected assertion, two methods at once, the wrong method for the client.

use crate::CONFIG;
use crate::signer::{ClientKey, JwksHost, fresh_id, now};
use gatehouse_protocol::client_assertion::ASSERTION_TYPE;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// A JWK set as a TOML inline table (every member of these keys is a string).
pub fn toml_jwks(set: &Value) -> String {
    let keys: Vec<String> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let members: Vec<String> = k.as_object().unwrap().iter().map(|(n, v)| format!("{n} = {}", v)).collect();
            format!("{{ {} }}", members.join(", "))
        })
        .collect();
    format!("{{ keys = [{}] }}", keys.join(", "))
}

fn config(key: &ClientKey, jwks_uri: &str) -> String {
    format!(
        r#"{CONFIG}
[fetch]
allow_loopback = true

[registration]
enabled = true

[[clients]]
client_id = "keyed"
token_endpoint_auth_method = "private_key_jwt"
jwks = {jwks}
scope = "roles"
grants = ["client_credentials"]
introspection_audiences = ["${{ISSUER}}"]

[[clients]]
client_id = "rotating"
token_endpoint_auth_method = "private_key_jwt"
token_endpoint_auth_signing_alg = "ES256"
jwks_uri = "{jwks_uri}"
scope = "roles"
grants = ["client_credentials"]
"#,
        jwks = toml_jwks(&ClientKey::set(&[key]))
    )
}

async fn with_assertion(s: &TestServer, path: &str, assertion: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("client_assertion_type", ASSERTION_TYPE), ("client_assertion", assertion)];
    form.extend_from_slice(extra);
    let r = s.http.post(s.url(path)).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const CC: [(&str, &str); 1] = [("grant_type", "client_credentials")];

#[tokio::test]
async fn a_client_authenticates_with_a_jwt_signed_by_its_key() {
    for db in TestDb::each().await {
        let label = db.label;
        let key = ClientKey::new("k1");
        let host = JwksHost::start(json!({"keys": []})).await;
        let s = TestServer::start(&config(&key, &host.url), db).await.unwrap();
        let token_url = s.url("/token");

        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        let methods = meta["token_endpoint_auth_methods_supported"].as_array().unwrap();
        assert!(methods.contains(&json!("private_key_jwt")), "{label}: {meta}");
        assert!(meta["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap().contains(&json!("ES256")));

        // The token endpoint or the issuer as audience.
        for aud in [token_url.as_str(), s.url.as_str()] {
            let (st, body) = with_assertion(&s, "/token", &key.assertion("keyed", aud), &CC).await;
            assert_eq!(st, 200, "{label}: aud {aud}: {body}");
            assert_eq!(body["scope"], "roles");
        }
        // client_id beside the assertion must be its sub.
        let (st, _) =
            with_assertion(&s, "/token", &key.assertion("keyed", &token_url), &[CC[0], ("client_id", "keyed")]).await;
        assert_eq!(st, 200, "{label}");

        // Each assertion once.
        let once = key.assertion("keyed", &token_url);
        assert_eq!(with_assertion(&s, "/token", &once, &CC).await.0, 200);
        let (st, e) = with_assertion(&s, "/token", &once, &CC).await;
        assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")), "{label}: replay: {e}");
        assert!(e["error_description"].as_str().unwrap().contains("used before"), "{label}: {e}");

        let refused = [
            ("another key under the same kid", ClientKey::new("k1").assertion("keyed", &token_url)),
            ("another server", key.assertion("keyed", "https://elsewhere.example.com/token")),
            (
                "expired",
                key.sign(
                    None,
                    &json!({"iss": "keyed", "sub": "keyed", "aud": token_url, "jti": fresh_id(), "exp": now() - 120}),
                ),
            ),
            (
                "an hour and more",
                key.sign(
                    None,
                    &json!({"iss": "keyed", "sub": "keyed", "aud": token_url, "jti": fresh_id(), "exp": now() + 7200}),
                ),
            ),
            ("no jti", key.sign(None, &json!({"iss": "keyed", "sub": "keyed", "aud": token_url, "exp": now() + 60}))),
            (
                "iss is not sub",
                key.sign(
                    None,
                    &json!({"iss": "x", "sub": "keyed", "aud": token_url, "jti": fresh_id(), "exp": now() + 60}),
                ),
            ),
            ("a client without keys", key.assertion("webapp", &token_url)),
            ("an unknown client", key.assertion("nobody", &token_url)),
        ];
        for (why, assertion) in refused {
            let (st, e) = with_assertion(&s, "/token", &assertion, &CC).await;
            assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")), "{label}: {why}: {e}");
        }
        // Two methods at once; the secret methods for a key client.
        let (st, e) =
            with_assertion(&s, "/token", &key.assertion("keyed", &token_url), &[CC[0], ("client_secret", "x")]).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request")), "{label}: {e}");
        let r = s.http.post(&token_url).basic_auth("keyed", Some("x")).form(&CC).send().await.unwrap();
        assert_eq!(r.status(), 401, "{label}: a key client cannot use a secret");
        let r = s.http.post(&token_url).form(&[CC[0], ("client_id", "keyed")]).send().await.unwrap();
        assert_eq!(r.status(), 401, "{label}: nor nothing");

        // Introspection takes the same authentication, with its own URL as audience.
        let (_, t) = with_assertion(&s, "/token", &key.assertion("keyed", &token_url), &CC).await;
        let at = t["access_token"].as_str().unwrap();
        let assertion = key.assertion("keyed", &s.url("/introspect"));
        let (st, i) = with_assertion(&s, "/introspect", &assertion, &[("token", at)]).await;
        assert_eq!((st, i["active"].as_bool()), (200, Some(true)), "{label}: {i}");
    }
}

#[tokio::test]
async fn keys_published_at_a_jwks_uri_rotate_without_re_registering() {
    for db in TestDb::each().await {
        let label = db.label;
        let (old, new) = (ClientKey::new("2026-11"), ClientKey::new("2026-12"));
        let host = JwksHost::start(ClientKey::set(&[&old])).await;
        let s = TestServer::start(&config(&ClientKey::new("unused"), &host.url), db).await.unwrap();
        let token_url = s.url("/token");

        let (st, body) = with_assertion(&s, "/token", &old.assertion("rotating", &token_url), &CC).await;
        assert_eq!(st, 200, "{label}: {body}");
        assert_eq!(with_assertion(&s, "/token", &old.assertion("rotating", &token_url), &CC).await.0, 200);
        assert_eq!(host.hits(), 1, "{label}: the set is cached");

        // The client rotates: a new kid makes Gatehouse look again, once.
        host.replace(ClientKey::set(&[&new]));
        let (st, body) = with_assertion(&s, "/token", &new.assertion("rotating", &token_url), &CC).await;
        assert_eq!(st, 200, "{label}: {body}");
        assert_eq!(host.hits(), 2, "{label}");
        // The old key is gone from the set (the set in hand is the new one).
        let (st, _) = with_assertion(&s, "/token", &old.assertion("rotating", &token_url), &CC).await;
        assert_eq!(st, 401, "{label}: a retired key no longer works");
        // A stream of unknown kids does not make Gatehouse fetch again within the interval.
        for _ in 0..3 {
            let (st, e) =
                with_assertion(&s, "/token", &ClientKey::new("forged").assertion("rotating", &token_url), &CC).await;
            assert_eq!(st, 401, "{label}: {e}");
        }
        assert_eq!(host.hits(), 2, "{label}: at most one refetch a minute");
    }
}

#[tokio::test]
async fn registration_accepts_key_clients_and_refuses_unusable_ones() {
    let key = ClientKey::new("reg");
    let s = TestServer::start(&config(&key, "http://127.0.0.1:9/unused"), TestDb::sqlite()).await.unwrap();
    let register = |body: Value| {
        let s = &s;
        async move {
            let r = s.http.post(s.url("/register")).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, reg) = register(json!({
        "grant_types": ["client_credentials"], "scope": "openid",
        "token_endpoint_auth_method": "private_key_jwt", "jwks": ClientKey::set(&[&key]),
    }))
    .await;
    assert_eq!(st, 201, "{reg}");
    assert!(reg.get("client_secret").is_none(), "a key client gets no secret: {reg}");
    assert_eq!(reg["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(reg["jwks"]["keys"][0]["kid"], "reg");
    let id = reg["client_id"].as_str().unwrap();
    let (st, body) = with_assertion(&s, "/token", &key.assertion(id, &s.url("/token")), &CC).await;
    assert_eq!(st, 200, "{body}");

    let mut private = key.jwk();
    private["d"] = json!("AAAA");
    for (why, body) in [
        ("no keys", json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"})),
        (
            "a private key",
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [private]}}),
        ),
        (
            "both",
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                        "jwks": ClientKey::set(&[&key]), "jwks_uri": "https://app.example.com/jwks"}),
        ),
        (
            "an unknown alg",
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                        "jwks": ClientKey::set(&[&key]), "token_endpoint_auth_signing_alg": "HS256"}),
        ),
    ] {
        let (st, e) = register(body).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "{why}: {e}");
    }
}
