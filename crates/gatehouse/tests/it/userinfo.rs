//! `/userinfo` over real HTTP.

use crate::{CONFIG, webapp_tokens};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;

#[tokio::test]
async fn userinfo_answers_the_granted_claims_by_get_and_post() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let at = webapp_tokens(&s, &Browser::new(&s.url), &[("scope", "openid email")]).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = s.http.get(s.url("/userinfo")).bearer_auth(&at).send().await.unwrap();
        assert_eq!(r.status(), 200, "{label}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["email"], "alice@example.com");
        assert_eq!(body["email_verified"], true);
        assert!(body["sub"].is_string());
        assert!(body.get("name").is_none(), "{label}: profile was not granted");
        assert!(body.get("roles").is_none(), "roles was not granted");
        let r = s.http.post(s.url("/userinfo")).form(&[("access_token", at.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 200, "{label}");
        let r = s.http.post(s.url("/userinfo")).bearer_auth(&at).send().await.unwrap();
        assert_eq!(r.status(), 200, "{label}: POST with the header");
    }
}

#[tokio::test]
async fn userinfo_refusals() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let at = webapp_tokens(&s, &Browser::new(&s.url), &[("scope", "openid email")]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let challenge = |r: &reqwest::Response| {
        r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    };

    let r = s.http.get(s.url("/userinfo")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(challenge(&r).starts_with("Bearer") && challenge(&r).contains("invalid_token"));

    // Forged: a valid token with its payload swapped.
    let parts: Vec<&str> = at.split('.').collect();
    use base64::Engine;
    let forged_payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"mallory","scope":"openid"}"#);
    for bad in [format!("{}.{}.{}", parts[0], forged_payload, parts[2]), "garbage".to_owned(), format!("{at}x")] {
        let r = s.http.get(s.url("/userinfo")).bearer_auth(&bad).send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad}");
        assert!(challenge(&r).contains("error=\"invalid_token\""));
    }

    // A client_credentials token has no user and no openid scope: 403 insufficient_scope.
    let cc: Value = s
        .http
        .post(s.url("/token"))
        .basic_auth("service", Some("service-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = s.http.get(s.url("/userinfo")).bearer_auth(cc["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(challenge(&r).contains("insufficient_scope"));

    // Header and form at once.
    let r =
        s.http.post(s.url("/userinfo")).bearer_auth(&at).form(&[("access_token", at.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 400);
}
