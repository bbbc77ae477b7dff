//! `/introspect` (RFC 7662) and `/revoke` (RFC 7009) over real HTTP.

use crate::{CONFIG, webapp_tokens};
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;

/// CONFIG plus a resource server allowed to introspect tokens for the issuer's audience.
fn config() -> String {
    format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"api\"\nclient_secret = \"api-secret\"\ngrants = [\"client_credentials\"]\nintrospection_audiences = [\"${{ISSUER}}\"]\n"
    )
}

async fn post(s: &TestServer, path: &str, who: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let r = s.http.post(s.url(path)).basic_auth(who.0, Some(who.1)).form(form).send().await.unwrap();
    assert_eq!(r.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

async fn introspect(s: &TestServer, who: (&str, &str), token: &str, hint: Option<&str>) -> Value {
    let mut form = vec![("token", token)];
    if let Some(h) = hint {
        form.push(("token_type_hint", h));
    }
    let (st, body) = post(s, "/introspect", who, &form).await;
    assert_eq!(st, 200, "{body}");
    body
}

const WEBAPP: (&str, &str) = ("webapp", "webapp-secret");

#[tokio::test]
async fn introspection_of_access_and_refresh_tokens() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let at = t["access_token"].as_str().unwrap();
        let rt = t["refresh_token"].as_str().unwrap();

        let i = introspect(&s, WEBAPP, at, None).await;
        assert_eq!(i["active"], true, "{label}: {i}");
        assert_eq!(i["client_id"], "webapp");
        assert_eq!(i["username"], "alice");
        assert_eq!(i["token_type"], "Bearer");
        assert_eq!(i["iss"], s.url);
        assert_eq!(i["aud"], json!([s.url]));
        assert_eq!(i["scope"], "email offline_access openid profile roles");
        for k in ["sub", "exp", "iat", "jti"] {
            assert!(i.get(k).is_some(), "{label}: {k}");
        }
        // A wrong hint is not trusted.
        assert_eq!(introspect(&s, WEBAPP, at, Some("refresh_token")).await["active"], true);

        let i = introspect(&s, WEBAPP, rt, Some("refresh_token")).await;
        assert_eq!((i["active"].as_bool(), i["token_type"].as_str()), (Some(true), Some("refresh_token")), "{label}");
        assert_eq!(introspect(&s, WEBAPP, rt, Some("access_token")).await["active"], true);

        // Another client learns nothing; a resource server for the audience does.
        assert_eq!(introspect(&s, ("service", "service-secret"), at, None).await, json!({"active": false}));
        assert_eq!(introspect(&s, ("service", "service-secret"), rt, None).await, json!({"active": false}));
        assert_eq!(introspect(&s, ("api", "api-secret"), at, None).await["active"], true, "{label}");
        assert_eq!(
            introspect(&s, ("api", "api-secret"), rt, None).await,
            json!({"active": false}),
            "refresh tokens stay private"
        );

        // A rotated refresh token is inactive.
        let (_, next) = post(&s, "/token", WEBAPP, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        assert_eq!(introspect(&s, WEBAPP, rt, None).await, json!({"active": false}), "{label}");
        assert_eq!(introspect(&s, WEBAPP, next["refresh_token"].as_str().unwrap(), None).await["active"], true);

        // client_credentials tokens: no username, the client is the subject.
        let (_, cc) = post(&s, "/token", ("service", "service-secret"), &[("grant_type", "client_credentials")]).await;
        let i = introspect(&s, ("service", "service-secret"), cc["access_token"].as_str().unwrap(), None).await;
        assert_eq!((i["active"].as_bool(), i["sub"].as_str()), (Some(true), Some("service")));
        assert!(i.get("username").is_none());
    }
}

#[tokio::test]
async fn forged_foreign_and_expired_tokens_are_inactive() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let s = TestServer::start_with_clock(&config(), TestDb::sqlite(), clock.clone()).await.unwrap();
    let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
    let at = t["access_token"].as_str().unwrap();
    let parts: Vec<&str> = at.split('.').collect();
    use base64::Engine;
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"iss":"x","sub":"mallory","client_id":"webapp"}"#),
        parts[2]
    );
    for bad in [forged.as_str(), "not-a-token", "a.b.c", t["id_token"].as_str().unwrap()] {
        assert_eq!(introspect(&s, WEBAPP, bad, None).await, json!({"active": false}), "{bad}");
    }
    // A token from another Gatehouse (other keys, other issuer).
    let other = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let foreign = webapp_tokens(&other, &Browser::new(&other.url), &[]).await;
    assert_eq!(introspect(&s, WEBAPP, foreign["access_token"].as_str().unwrap(), None).await, json!({"active": false}));
    // Expired.
    clock.advance(3601);
    assert_eq!(introspect(&s, WEBAPP, at, None).await, json!({"active": false}));
}

#[tokio::test]
async fn revocation() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();

        // Revoking an access token: introspection and userinfo stop accepting it.
        let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let at = t["access_token"].as_str().unwrap();
        let (st, _) = post(&s, "/revoke", WEBAPP, &[("token", at), ("token_type_hint", "access_token")]).await;
        assert_eq!(st, 200, "{label}");
        assert_eq!(introspect(&s, WEBAPP, at, None).await, json!({"active": false}), "{label}");
        let ui = s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap();
        assert_eq!(ui.status(), 401);
        // The refresh token of the same grant is untouched.
        assert_eq!(introspect(&s, WEBAPP, t["refresh_token"].as_str().unwrap(), None).await["active"], true);

        // Revoking a refresh token revokes its family and the access tokens it issued.
        let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let rt = t["refresh_token"].as_str().unwrap();
        let (_, next) = post(&s, "/token", WEBAPP, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        let (rt2, at2) = (next["refresh_token"].as_str().unwrap(), next["access_token"].as_str().unwrap());
        let (st, _) = post(&s, "/revoke", WEBAPP, &[("token", rt2)]).await;
        assert_eq!(st, 200);
        assert_eq!(introspect(&s, WEBAPP, rt2, None).await, json!({"active": false}), "{label}");
        assert_eq!(
            introspect(&s, WEBAPP, at2, None).await,
            json!({"active": false}),
            "{label}: issued from the family"
        );
        let (st, body) = post(&s, "/token", WEBAPP, &[("grant_type", "refresh_token"), ("refresh_token", rt2)]).await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));

        // Unknown tokens: 200, as RFC 7009 §2.2 says. Another client's token: refused.
        let (st, _) = post(&s, "/revoke", WEBAPP, &[("token", "never-issued")]).await;
        assert_eq!(st, 200);
        let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let (st, body) =
            post(&s, "/revoke", ("service", "service-secret"), &[("token", t["access_token"].as_str().unwrap())]).await;
        assert_eq!((st, body["error"].as_str()), (400, Some("unauthorized_client")), "{label}");
        assert_eq!(
            introspect(&s, WEBAPP, t["access_token"].as_str().unwrap(), None).await["active"],
            true,
            "left alone"
        );
    }
}

#[tokio::test]
async fn introspect_and_revoke_refusals() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    for path in ["/introspect", "/revoke"] {
        let r = s.http.post(s.url(path)).form(&[("token", "x")]).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}: client authentication required");
        let (st, body) = post(&s, path, WEBAPP, &[]).await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_request")), "{path}");
        let (st, _) = post(&s, path, ("webapp", "wrong"), &[("token", "x")]).await;
        assert_eq!(st, 401, "{path}");
    }
    let (_, m) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(m["introspection_endpoint"], s.url("/introspect"));
    assert_eq!(m["revocation_endpoint"], s.url("/revoke"));
    assert!(
        m["revocation_endpoint_auth_methods_supported"].as_array().unwrap().contains(&"client_secret_basic".into())
    );
}
