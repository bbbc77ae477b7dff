//! JWT-secured authorization responses (JARM) over real HTTP on both stores: `response_mode`
//! `jwt`, `query.jwt`, `fragment.jwt` and `form_post.jwt` carry the response — code, state,
//! errors — as one signed `response` JWT with `iss`, `aud` and `exp`, verified against the JWKS
//! with an independent library; the code inside redeems as usual.

use crate::{CONFIG, WEBAPP_CB, webapp_auth};
use gatehouse_testkit::browser::{Browser, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;

async fn verify(s: &TestServer, jwt: &str, aud: &str) -> (jsonwebtoken::Header, Value) {
    let set: jsonwebtoken::jwk::JwkSet = s.http.get(s.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_issuer(&[s.url.as_str()]);
    v.set_audience(&[aud]);
    (header.clone(), jsonwebtoken::decode::<Value>(jwt, &key, &v).unwrap().claims)
}

#[tokio::test]
async fn authorization_responses_can_be_signed_jwts() {
    let cfg = CONFIG.replacen(
        "client_id = \"webapp\"\n",
        "client_id = \"webapp\"\nauthorization_signed_response_alg = \"ES256\"\n",
        1,
    );
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&cfg, db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        let modes = meta["response_modes_supported"].as_array().unwrap();
        assert!(
            ["jwt", "query.jwt", "fragment.jwt", "form_post.jwt"].iter().all(|m| modes.iter().any(|x| x == m)),
            "{label}"
        );
        assert!(meta["authorization_signing_alg_values_supported"].as_array().unwrap().iter().any(|a| a == "ES256"));

        // jwt for a code: in the query, one parameter.
        let b = Browser::new(&s.url);
        let p = b.sign_in(&webapp_auth(&[("response_mode", "jwt")]), "alice", "alice-password").await;
        assert_eq!(p.keys().collect::<Vec<_>>(), ["response"], "{label}: {p:?}");
        let (header, claims) = verify(&s, &p["response"], "webapp").await;
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256, "{label}");
        assert_eq!(claims["state"], "st-123", "{label}: {claims}");
        let code = claims["code"].as_str().unwrap();
        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth("webapp", Some("webapp-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", WEBAPP_CB),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{label}: the code inside redeems");

        // fragment.jwt puts it in the fragment; form_post.jwt in the form.
        let page = b.authorize(&webapp_auth(&[("response_mode", "fragment.jwt")])).await;
        let location = page.header("location").unwrap_or_default().to_owned();
        assert!(location.contains("#response="), "{label}: {location}");
        let page = b.authorize(&webapp_auth(&[("response_mode", "form_post.jwt")])).await;
        let jwt = page.field("response").unwrap_or_else(|| panic!("{label}: {}", page.body));
        assert!(verify(&s, &jwt, "webapp").await.1["code"].is_string());

        // Errors travel the same way.
        let page = b.authorize(&webapp_auth(&[("response_mode", "query.jwt"), ("scope", "openid phone")])).await;
        let (_, claims) = verify(&s, &page.redirect_params()["response"], "webapp").await;
        assert_eq!(
            (claims["error"].as_str(), claims["state"].as_str()),
            (Some("invalid_scope"), Some("st-123")),
            "{label}"
        );
        // query.jwt cannot carry tokens.
        let page = b
            .authorize(&[
                ("client_id", "implicit-app"),
                ("redirect_uri", "http://127.0.0.1:6000/cb"),
                ("response_type", "id_token"),
                ("scope", "openid"),
                ("nonce", "n"),
                ("response_mode", "query.jwt"),
            ])
            .await;
        let (_, claims) = verify(&s, &page.redirect_params()["response"], "implicit-app").await;
        assert_eq!(claims["error"], "invalid_request", "{label}");
    }
}
