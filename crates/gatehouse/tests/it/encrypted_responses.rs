//! Encrypted responses over real HTTP on both stores (OIDC Core §10.2, §5.3.2; RFC 9701 §6;
//! JARM §2.3): ID tokens, userinfo, JWT introspection and JARM responses encrypted to a key of
//! the client's — by value (`jwks`, RSA) or by reference (`jwks_uri`, EC P-256) — and decrypted
//! here with josekit, as a client would, then verified against Gatehouse's JWKS. And what may
//! not be registered, and a client whose key cannot be had: refused with nothing spent.

use crate::private_key_jwt::toml_jwks;
use crate::signer::JwksHost;
use crate::{CONFIG, verify_document, verify_jwt};
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use josekit::jwe::{self, JweDecrypter, JweHeader};
use josekit::jwk::Jwk;
use josekit::jwk::alg::ec::EcCurve;
use serde_json::{Value, json};
use std::sync::LazyLock;

/// The clients' private keys: an RSA key they register by value, an EC key they publish.
static RSA: LazyLock<Jwk> = LazyLock::new(|| with_kid(Jwk::generate_rsa_key(2048).unwrap(), "enc-rsa"));
static EC: LazyLock<Jwk> = LazyLock::new(|| with_kid(Jwk::generate_ec_key(EcCurve::P256).unwrap(), "enc-ec"));

fn with_kid(mut k: Jwk, kid: &str) -> Jwk {
    k.set_key_id(kid);
    k.set_key_use("enc");
    k
}

/// The public half, with the private key's `kid` and `use` (which `to_public_key` drops).
fn public_set(k: &Jwk) -> Value {
    let mut public = Value::Object(k.to_public_key().unwrap().as_ref().clone());
    public["kid"] = json!(k.key_id().unwrap());
    public["use"] = json!("enc");
    json!({ "keys": [public] })
}

const EC_CB: &str = "http://127.0.0.1:3100/cb";

fn config(jwks_uri: &str) -> String {
    format!(
        r#"{CONFIG}
[fetch]
allow_loopback = true

[registration]
enabled = true

[[clients]]
client_id = "sealed-rsa"
client_secret = "sealed-rsa-secret"
scope = "openid profile email offline_access"
grants = ["password", "refresh_token"]
jwks = {jwks}
id_token_encrypted_response_alg = "RSA-OAEP-256"
userinfo_encrypted_response_alg = "RSA-OAEP"
userinfo_encrypted_response_enc = "A256GCM"
introspection_encrypted_response_alg = "RSA-OAEP-256"

[[clients]]
client_id = "sealed-ec"
client_secret = "sealed-ec-secret"
scope = "openid profile email"
grants = ["authorization_code", "hybrid"]
redirect_uris = ["{EC_CB}"]
first_party = true
jwks_uri = "{jwks_uri}"
id_token_encrypted_response_alg = "ECDH-ES+A128KW"
id_token_encrypted_response_enc = "A256GCM"
userinfo_signed_response_alg = "ES256"
userinfo_encrypted_response_alg = "ECDH-ES"
authorization_encrypted_response_alg = "ECDH-ES+A256KW"
"#,
        jwks = toml_jwks(&public_set(&RSA)),
    )
}

/// Decrypts `token` with `key` for its header's `alg`: the payload and the header.
fn decrypt(token: &str, key: &Jwk) -> (String, JweHeader) {
    assert_eq!(token.split('.').count(), 5, "a compact JWE: {token}");
    let alg: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let decrypter: Box<dyn JweDecrypter> = match alg["alg"].as_str().unwrap() {
        "RSA-OAEP" => Box::new(jwe::RSA_OAEP.decrypter_from_jwk(key).unwrap()),
        "RSA-OAEP-256" => Box::new(jwe::RSA_OAEP_256.decrypter_from_jwk(key).unwrap()),
        "ECDH-ES" => Box::new(jwe::ECDH_ES.decrypter_from_jwk(key).unwrap()),
        "ECDH-ES+A128KW" => Box::new(jwe::ECDH_ES_A128KW.decrypter_from_jwk(key).unwrap()),
        "ECDH-ES+A256KW" => Box::new(jwe::ECDH_ES_A256KW.decrypter_from_jwk(key).unwrap()),
        other => panic!("unexpected alg {other}"),
    };
    let (payload, header) = jwe::deserialize_compact(token, &*decrypter).unwrap_or_else(|e| panic!("{e}: {alg}"));
    (String::from_utf8(payload).unwrap(), header)
}

fn expect_header(h: &JweHeader, alg: &str, enc: &str, cty: Option<&str>, kid: &str) {
    assert_eq!(
        (h.algorithm(), h.content_encryption(), h.content_type(), h.key_id()),
        (Some(alg), Some(enc), cty, Some(kid))
    );
}

#[tokio::test]
async fn responses_are_encrypted_to_the_clients_key_when_it_asked() {
    for db in TestDb::each().await {
        let label = db.label;
        let host = JwksHost::start(public_set(&EC)).await;
        let s = TestServer::start(&config(&host.url), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        for kind in ["id_token", "userinfo", "introspection", "authorization"] {
            let algs = meta[format!("{kind}_encryption_alg_values_supported")].as_array().unwrap().clone();
            assert_eq!(
                algs,
                ["RSA-OAEP", "RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A256KW"],
                "{label}: {kind}"
            );
            let encs = meta[format!("{kind}_encryption_enc_values_supported")].as_array().unwrap().clone();
            assert_eq!(encs, ["A128CBC-HS256", "A256GCM"], "{label}: {kind}");
        }

        // RSA, by value: the ID token of a password grant, and of its refresh.
        let form = [
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
            ("scope", "openid email offline_access"),
        ];
        let r = s.http.post(s.url("/token")).basic_auth("sealed-rsa", Some("sealed-rsa-secret")).form(&form);
        let t: Value = r.send().await.unwrap().json().await.unwrap();
        let (jws, h) = decrypt(t["id_token"].as_str().unwrap_or_else(|| panic!("{t}")), &RSA);
        expect_header(&h, "RSA-OAEP-256", "A128CBC-HS256", Some("JWT"), "enc-rsa");
        let claims = verify_jwt(&s, &jws, Some("sealed-rsa")).await;
        assert!(claims["sub"].is_string() && claims["at_hash"].is_string(), "{label}: {claims}");
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(at.split('.').count(), 3, "{label}: access tokens are not encrypted");

        let form = [("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())];
        let r = s.http.post(s.url("/token")).basic_auth("sealed-rsa", Some("sealed-rsa-secret")).form(&form);
        let refreshed: Value = r.send().await.unwrap().json().await.unwrap();
        let (jws, _) = decrypt(refreshed["id_token"].as_str().unwrap_or_else(|| panic!("{refreshed}")), &RSA);
        assert_eq!(verify_jwt(&s, &jws, Some("sealed-rsa")).await["sub"], claims["sub"], "{label}");

        // Userinfo encrypted, not signed: the JSON itself inside, no cty.
        let r = s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap()), (200, "application/jwt"));
        let (json, h) = decrypt(&r.text().await.unwrap(), &RSA);
        expect_header(&h, "RSA-OAEP", "A256GCM", None, "enc-rsa");
        let info: Value = serde_json::from_str(&json).unwrap();
        assert_eq!((info["email"].as_str(), info["sub"].as_str()), (Some("alice@example.com"), claims["sub"].as_str()));

        // JWT introspection, signed then encrypted; plain JSON when not asked for a JWT.
        let introspect = |accept: &'static str| {
            s.http
                .post(s.url("/introspect"))
                .basic_auth("sealed-rsa", Some("sealed-rsa-secret"))
                .header("accept", accept)
                .form(&[("token", at)])
                .send()
        };
        let r = introspect("application/token-introspection+jwt").await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/token-introspection+jwt", "{label}");
        let (jws, h) = decrypt(&r.text().await.unwrap(), &RSA);
        expect_header(&h, "RSA-OAEP-256", "A128CBC-HS256", Some("JWT"), "enc-rsa");
        let header = jsonwebtoken::decode_header(&jws).unwrap();
        assert_eq!(header.typ.as_deref(), Some("token-introspection+jwt"), "{label}");
        let r = introspect("application/json").await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["active"], true, "{label}");

        // EC, by reference: a JARM response (hybrid, so the ID token travels inside it too),
        // then the code's ID token and a signed-then-encrypted userinfo.
        let b = Browser::new(&s.url);
        let p = b
            .sign_in(
                &[
                    ("client_id", "sealed-ec"),
                    ("redirect_uri", EC_CB),
                    ("response_type", "code id_token"),
                    ("response_mode", "fragment.jwt"),
                    ("scope", "openid email"),
                    ("state", "st-ec"),
                    ("nonce", "n-ec"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                ],
                "alice",
                "alice-password",
            )
            .await;
        assert_eq!(p.keys().collect::<Vec<_>>(), ["response"], "{label}: {p:?}");
        let (jws, h) = decrypt(&p["response"], &EC);
        expect_header(&h, "ECDH-ES+A256KW", "A128CBC-HS256", Some("JWT"), "enc-ec");
        let response = verify_jwt(&s, &jws, Some("sealed-ec")).await;
        assert_eq!(response["state"], "st-ec", "{label}: {response}");
        let (front_jws, h) = decrypt(response["id_token"].as_str().unwrap(), &EC);
        expect_header(&h, "ECDH-ES+A128KW", "A256GCM", Some("JWT"), "enc-ec");
        assert_eq!(verify_jwt(&s, &front_jws, Some("sealed-ec")).await["nonce"], "n-ec", "{label}");

        let form = [
            ("grant_type", "authorization_code"),
            ("code", response["code"].as_str().unwrap()),
            ("redirect_uri", EC_CB),
            ("code_verifier", VERIFIER),
        ];
        let r = s.http.post(s.url("/token")).basic_auth("sealed-ec", Some("sealed-ec-secret")).form(&form);
        let t: Value = r.send().await.unwrap().json().await.unwrap();
        let (jws, _) = decrypt(t["id_token"].as_str().unwrap_or_else(|| panic!("{t}")), &EC);
        assert_eq!(verify_jwt(&s, &jws, Some("sealed-ec")).await["nonce"], "n-ec", "{label}");
        let r = s.http.get(s.url("/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
        let (jws, h) = decrypt(&r.text().await.unwrap(), &EC);
        expect_header(&h, "ECDH-ES", "A128CBC-HS256", Some("JWT"), "enc-ec");
        let (_, info) = verify_document(&s, &jws, "sealed-ec").await;
        assert_eq!(info["email"], "alice@example.com", "{label}: signed, then encrypted");
        assert_eq!(host.hits(), 1, "{label}: the published set is fetched once and kept");
    }
}

#[tokio::test]
async fn a_client_whose_key_cannot_be_had_gets_nothing_and_loses_nothing() {
    let host = JwksHost::start(Value::String("not a JWK set".into())).await;
    let s = TestServer::start(&config(&host.url), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    // A code (no ID token at the front, no JARM: nothing to encrypt yet).
    let p = b
        .sign_in(
            &[
                ("client_id", "sealed-ec"),
                ("redirect_uri", EC_CB),
                ("response_type", "code"),
                ("scope", "openid email"),
                ("state", "st"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let redeem = || {
        s.http
            .post(s.url("/token"))
            .basic_auth("sealed-ec", Some("sealed-ec-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", p["code"].as_str()),
                ("redirect_uri", EC_CB),
                ("code_verifier", VERIFIER),
            ])
            .send()
    };
    let r = redeem().await.unwrap();
    assert_eq!(r.status(), 503, "the client's jwks_uri is broken: try again later");
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "temporarily_unavailable");
    // The client fixes its set: the same code redeems, its ID token encrypted.
    host.replace(public_set(&EC));
    let r = redeem().await.unwrap();
    assert_eq!(r.status(), 200, "the code was not spent");
    let t: Value = r.json().await.unwrap();
    let (jws, _) = decrypt(t["id_token"].as_str().unwrap(), &EC);
    assert_eq!(verify_jwt(&s, &jws, Some("sealed-ec")).await["aud"], "sealed-ec");
}

#[tokio::test]
async fn registration_takes_encryption_metadata_and_refuses_what_cannot_work() {
    let s = TestServer::start(&config("https://rp.example/jwks"), TestDb::sqlite()).await.unwrap();
    let register = |extra: Value| {
        let s = &s;
        async move {
            let mut body = json!({"redirect_uris": ["https://rp.example/cb"]});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            let r = s.http.post(s.url("/register")).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, reg) = register(json!({"jwks": public_set(&RSA), "id_token_encrypted_response_alg": "RSA-OAEP"})).await;
    assert_eq!(st, 201, "{reg}");
    assert_eq!(
        (reg["id_token_encrypted_response_alg"].as_str(), reg["id_token_encrypted_response_enc"].as_str()),
        (Some("RSA-OAEP"), Some("A128CBC-HS256")),
        "the default enc is registered and echoed"
    );
    let (st, reg) = register(json!({"jwks_uri": "https://rp.example/jwks", "userinfo_encrypted_response_alg": "ECDH-ES", "userinfo_encrypted_response_enc": "A256GCM"})).await;
    assert_eq!((st, reg["userinfo_encrypted_response_enc"].as_str()), (201, Some("A256GCM")), "{reg}");

    for (body, field) in [
        (
            json!({"jwks": public_set(&RSA), "id_token_encrypted_response_enc": "A256GCM"}),
            "id_token_encrypted_response_enc",
        ),
        (
            json!({"jwks": public_set(&RSA), "id_token_encrypted_response_alg": "RSA1_5"}),
            "id_token_encrypted_response_alg",
        ),
        (
            json!({"jwks": public_set(&RSA), "userinfo_encrypted_response_alg": "RSA-OAEP", "userinfo_encrypted_response_enc": "A128GCM"}),
            "userinfo_encrypted_response_enc",
        ),
        (json!({"id_token_encrypted_response_alg": "RSA-OAEP"}), "id_token_encrypted_response_alg"),
        (
            json!({"jwks": public_set(&EC), "introspection_encrypted_response_alg": "RSA-OAEP-256"}),
            "introspection_encrypted_response_alg",
        ),
        (
            json!({"jwks": public_set(&RSA), "authorization_encrypted_response_alg": "ECDH-ES"}),
            "authorization_encrypted_response_alg",
        ),
    ] {
        let (st, e) = register(body.clone()).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}: {e}");
        assert!(e["error_description"].as_str().unwrap().contains(field), "{body}: {e}");
    }
}
