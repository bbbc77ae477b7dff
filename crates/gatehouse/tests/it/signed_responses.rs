//! Signed responses over real HTTP on both stores: userinfo as a JWT for a client registered
//! with `userinfo_signed_response_alg` (OIDC Core §5.3.2), and JWT introspection responses
//! (RFC 9701) for a client that asks with `Accept: application/token-introspection+jwt`, each
//! verified against the JWKS with an independent library; plain JSON otherwise.

use crate::{CONFIG, verify_document};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;

fn config() -> String {
    format!(
        r#"{CONFIG}
[[clients]]
client_id = "signed"
client_secret = "signed-secret"
scope = "openid profile email"
grants = ["password"]
userinfo_signed_response_alg = "ES256"
introspection_signed_response_alg = "EdDSA"
"#
    )
}

async fn password_token(s: &TestServer, client: &str, secret: &str, scope: &str) -> String {
    let form = [("grant_type", "password"), ("username", "alice"), ("password", "alice-password"), ("scope", scope)];
    let r = s.http.post(s.url("/token")).basic_auth(client, Some(secret)).form(&form).send().await.unwrap();
    let t: Value = r.json().await.unwrap();
    t["access_token"].as_str().unwrap_or_else(|| panic!("{t}")).to_owned()
}

#[tokio::test]
async fn userinfo_and_introspection_answer_with_signed_jwts_when_asked() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        for key in ["userinfo_signing_alg_values_supported", "introspection_signing_alg_values_supported"] {
            assert!(meta[key].as_array().unwrap().iter().any(|a| a == "ES256"), "{label}: {key}: {meta}");
        }

        let at = password_token(&s, "signed", "signed-secret", "openid email").await;
        let r = s.http.get(s.url("/userinfo")).bearer_auth(&at).send().await.unwrap();
        assert_eq!(r.status(), 200, "{label}");
        assert_eq!(r.headers()["content-type"], "application/jwt", "{label}");
        let (header, claims) = verify_document(&s, &r.text().await.unwrap(), "signed").await;
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256, "{label}");
        assert_eq!(
            (claims["email"].as_str(), claims["iss"].as_str()),
            (Some("alice@example.com"), Some(s.url.as_str()))
        );
        assert!(claims["sub"].is_string());

        // Another client's userinfo stays JSON.
        let plain = password_token(&s, "pwapp", "pwapp-secret", "openid profile").await;
        let r = s.http.get(s.url("/userinfo")).bearer_auth(&plain).send().await.unwrap();
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{label}");

        // Introspection: JSON by default, a signed JWT on request (RFC 9701).
        let introspect = |accept: Option<&'static str>| {
            let mut req = s
                .http
                .post(s.url("/introspect"))
                .basic_auth("signed", Some("signed-secret"))
                .form(&[("token", at.as_str())]);
            if let Some(a) = accept {
                req = req.header("accept", a);
            }
            req.send()
        };
        let r = introspect(None).await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["active"], true, "{label}");
        let r = introspect(Some("application/json;q=0.5, application/token-introspection+jwt")).await.unwrap();
        assert_eq!(r.headers()["content-type"], "application/token-introspection+jwt", "{label}");
        let jwt = r.text().await.unwrap();
        let (header, claims) = verify_document(&s, &jwt, "signed").await;
        assert_eq!(header.typ.as_deref(), Some("token-introspection+jwt"), "{label}");
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA, "{label}");
        assert_eq!(claims["token_introspection"]["active"], true, "{label}: {claims}");
        assert_eq!(claims["token_introspection"]["client_id"], "signed");
        // An inactive token is a signed answer too.
        let r = s
            .http
            .post(s.url("/introspect"))
            .basic_auth("signed", Some("signed-secret"))
            .header("accept", "application/token-introspection+jwt")
            .form(&[("token", "nonsense")])
            .send()
            .await
            .unwrap();
        let (_, claims) = verify_document(&s, &r.text().await.unwrap(), "signed").await;
        assert_eq!(claims["token_introspection"], serde_json::json!({"active": false}), "{label}");
    }
}
