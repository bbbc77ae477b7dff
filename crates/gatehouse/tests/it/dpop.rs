//! DPoP (RFC 9449) over real HTTP on both stores: bound tokens from /token (cnf.jkt, token_type
//! DPoP), proofs checked (request, key, replay, nonce), a public client's refresh tokens and a
//! dpop_jkt code bound to the key, clients that must use DPoP, userinfo with the DPoP scheme
//! and ath, introspection showing the binding.

use crate::{CONFIG, verify_jwt};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

const CB: &str = "http://127.0.0.1:5174/cb";

fn config() -> String {
    format!(
        r#"{CONFIG}
[[clients]]
client_id = "dpop-spa"
scope = "openid offline_access"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["{CB}"]
dpop_bound_access_tokens = true
first_party = true
"#
    )
}

/// A client's DPoP key.
struct Key(EcdsaKeyPair);

impl Key {
    fn new() -> Self {
        Key(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
    }

    fn jwk(&self) -> Value {
        let p = self.0.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])})
    }

    fn jkt(&self) -> String {
        gatehouse_protocol::jose::thumbprint(&self.jwk())
    }

    /// A fresh proof for `method url`, with `ath` of `token` and `nonce` when given.
    fn proof(&self, method: &str, url: &str, token: Option<&str>, nonce: Option<&str>) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let mut claims = json!({
            "jti": uuid_like(),
            "htm": method,
            "htu": url,
            "iat": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        });
        if let Some(t) = token {
            claims["ath"] = json!(gatehouse_protocol::dpop::ath(t));
        }
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let mut out = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let sig = self.0.sign(&SystemRandom::new(), out.as_bytes()).unwrap();
        out.push('.');
        out.push_str(&B64.encode(sig.as_ref()));
        out
    }
}

fn uuid_like() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    B64.encode(b)
}

async fn token(
    s: &TestServer,
    who: Option<(&str, &str)>,
    form: &[(&str, &str)],
    proof: Option<String>,
) -> (u16, Value) {
    let mut req = s.http.post(s.url("/token")).form(form);
    if let Some((id, secret)) = who {
        req = req.basic_auth(id, Some(secret));
    }
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

const SERVICE: Option<(&str, &str)> = Some(("service", "service-secret"));
const CC: &[(&str, &str)] = &[("grant_type", "client_credentials")];

#[tokio::test]
async fn tokens_are_bound_to_the_key_that_proved() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let token_url = s.url("/token");
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["dpop_signing_alg_values_supported"], json!(["RS256", "PS256", "ES256", "EdDSA"]));

        let key = Key::new();
        let proof = key.proof("POST", &token_url, None, None);
        let (st, t) = token(&s, SERVICE, CC, Some(proof.clone())).await;
        assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{label}: {t}");
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(verify_jwt(&s, at, None).await["cnf"], json!({"jkt": key.jkt()}), "{label}");
        let r = s.http.post(s.url("/introspect")).basic_auth("service", Some("service-secret")).form(&[("token", at)]);
        let i: Value = r.send().await.unwrap().json().await.unwrap();
        assert_eq!((i["token_type"].as_str(), i["cnf"].clone()), (Some("DPoP"), json!({"jkt": key.jkt()})), "{label}");

        // Each proof once, on every node: the store remembers its jti.
        let (st, e) = token(&s, SERVICE, CC, Some(proof)).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")), "{label}: replay: {e}");
        let (st, e) = token(&s, SERVICE, CC, Some(key.proof("POST", &s.url("/userinfo"), None, None))).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")), "{label}: another URL");
        let (st, e) = token(&s, SERVICE, CC, Some("not.a.proof".into())).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")), "{label}");
        // Without a proof, a bearer token as before.
        let (_, t) = token(&s, SERVICE, CC, None).await;
        assert_eq!(t["token_type"], "Bearer");
        assert!(verify_jwt(&s, t["access_token"].as_str().unwrap(), None).await.get("cnf").is_none());
    }
}

#[tokio::test]
async fn a_public_client_keeps_its_code_and_refresh_tokens_to_its_key() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let token_url = s.url("/token");
        let (key, thief) = (Key::new(), Key::new());
        let jkt = key.jkt();
        let b = Browser::new(&s.url);
        let p = b
            .sign_in(
                &[
                    ("client_id", "dpop-spa"),
                    ("redirect_uri", CB),
                    ("response_type", "code"),
                    ("scope", "openid offline_access"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                    ("dpop_jkt", &jkt),
                ],
                "alice",
                "alice-password",
            )
            .await;
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", "dpop-spa"),
            ("code", p["code"].as_str()),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ];
        let (st, e) = token(&s, None, &form, None).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")), "{label}: this client must prove");
        let (st, e) = token(&s, None, &form, Some(thief.proof("POST", &token_url, None, None))).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")), "{label}: not the dpop_jkt key");
        let (st, t) = token(&s, None, &form, Some(key.proof("POST", &token_url, None, None))).await;
        assert_eq!(
            (st, t["token_type"].as_str()),
            (200, Some("DPoP")),
            "{label}: the refused tries spent nothing: {t}"
        );
        let at = t["access_token"].as_str().unwrap().to_owned();
        let rt = t["refresh_token"].as_str().unwrap().to_owned();

        // The refresh token is bound too: a thief with it and its own key gets nothing.
        let refresh = [("grant_type", "refresh_token"), ("client_id", "dpop-spa"), ("refresh_token", rt.as_str())];
        let (st, e) = token(&s, None, &refresh, Some(thief.proof("POST", &token_url, None, None))).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_dpop_proof")), "{label}: {e}");
        let (st, t) = token(&s, None, &refresh, Some(key.proof("POST", &token_url, None, None))).await;
        assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{label}: {t}");

        // Userinfo: the DPoP scheme with a proof over the token; never as a bearer token.
        let userinfo = s.url("/userinfo");
        let call = |scheme: &str, token: &str, proof: Option<String>| {
            let mut r = s.http.get(&userinfo).header("authorization", format!("{scheme} {token}"));
            if let Some(p) = proof {
                r = r.header("DPoP", p);
            }
            r.send()
        };
        let r = call("DPoP", &at, Some(key.proof("GET", &userinfo, Some(&at), None))).await.unwrap();
        assert_eq!(r.status(), 200, "{label}");
        assert!(r.json::<Value>().await.unwrap()["sub"].is_string());
        let r = call("Bearer", &at, None).await.unwrap();
        assert_eq!(r.status(), 401, "{label}: a bound token is no bearer token");
        let r = call("DPoP", &at, Some(key.proof("GET", &userinfo, Some("another-token"), None))).await.unwrap();
        assert_eq!(r.status(), 401, "{label}: ath of another token");
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("DPoP error=\"invalid_dpop_proof\""), "{challenge}");
        let r = call("DPoP", &at, Some(thief.proof("GET", &userinfo, Some(&at), None))).await.unwrap();
        assert_eq!(r.status(), 401, "{label}: the thief's key");
        let r = call("DPoP", &at, None).await.unwrap();
        assert_eq!(r.status(), 401, "{label}: no proof");
    }
}

#[tokio::test]
async fn nonces_when_the_server_requires_them() {
    let s =
        TestServer::start(&format!("{}\n[dpop]\nrequire_nonce = true\n", config()), TestDb::sqlite()).await.unwrap();
    let key = Key::new();
    let url = s.url("/token");
    let r = s
        .http
        .post(&url)
        .basic_auth("service", Some("service-secret"))
        .header("DPoP", key.proof("POST", &url, None, None))
        .form(CC)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let nonce = r.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "use_dpop_nonce");
    let (st, e) = token(&s, SERVICE, CC, Some(key.proof("POST", &url, None, Some("made-up")))).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("use_dpop_nonce")));
    let (st, t) = token(&s, SERVICE, CC, Some(key.proof("POST", &url, None, Some(&nonce)))).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
}
