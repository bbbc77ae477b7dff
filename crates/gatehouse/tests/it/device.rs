//! The device authorization grant (RFC 8628) end to end, with a clock the test moves.

use crate::{CONFIG, verify_jwt};
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;
use std::sync::Arc;

async fn start(db: TestDb) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    (TestServer::start_with_clock(CONFIG, db, clock.clone()).await.unwrap(), clock)
}

async fn device_authorization(s: &TestServer, form: &[(&str, &str)]) -> (u16, Value) {
    let r = s.http.post(s.url("/device_authorization")).form(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn poll(s: &TestServer, device_code: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", "tv"),
            ("device_code", device_code),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn enter_code(b: &Browser, code: &str) -> Page {
    let page = b.get("/device").await;
    let csrf = page.field("csrf").unwrap();
    b.post("/device", &[("csrf", &csrf), ("user_code", code)]).await
}

async fn sign_in(b: &Browser, page: &Page) -> Page {
    let (csrf, code) = (page.field("csrf").unwrap(), page.field("user_code").unwrap());
    b.post(
        "/device/login",
        &[("csrf", &csrf), ("user_code", &code), ("username", "alice"), ("password", "alice-password")],
    )
    .await
}

async fn decide(b: &Browser, page: &Page, decision: &str) -> Page {
    let (csrf, code) = (page.field("csrf").unwrap(), page.field("user_code").unwrap());
    b.post("/device/consent", &[("csrf", &csrf), ("user_code", &code), ("decision", decision)]).await
}

#[tokio::test]
async fn device_flow_end_to_end() {
    for db in TestDb::each().await {
        let label = db.label;
        let (s, clock) = start(db).await;
        let (st, d) =
            device_authorization(&s, &[("client_id", "tv"), ("scope", "openid profile offline_access")]).await;
        assert_eq!(st, 200, "{label}: {d}");
        let user_code = d["user_code"].as_str().unwrap().to_owned();
        assert!(d["device_code"].as_str().unwrap().len() >= 43, "≥ 256 bits");
        assert_eq!(user_code.len(), 9);
        assert_eq!(user_code.as_bytes()[4], b'-');
        assert!(user_code.chars().filter(|c| *c != '-').all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
        assert_eq!(d["verification_uri"], s.url("/device"));
        assert_eq!(d["verification_uri_complete"], format!("{}?user_code={user_code}", s.url("/device")));
        assert_eq!((d["expires_in"].as_i64(), d["interval"].as_i64()), (Some(600), Some(5)));
        let device_code = d["device_code"].as_str().unwrap().to_owned();

        let (st, r) = poll(&s, &device_code).await;
        assert_eq!((st, r["error"].as_str()), (400, Some("authorization_pending")), "{label}");
        // Polled again at once: slow_down, and the interval grows by 5 s.
        let (_, r) = poll(&s, &device_code).await;
        assert_eq!(r["error"], "slow_down", "{label}");
        clock.advance(6);
        let (_, r) = poll(&s, &device_code).await;
        assert_eq!(r["error"], "slow_down", "{label}: 6 s is under the new 10 s interval");
        clock.advance(16);
        let (_, r) = poll(&s, &device_code).await;
        assert_eq!(r["error"], "authorization_pending", "{label}");

        // The person: the prefilled link, lower case and no dash still work.
        let b = Browser::new(&s.url);
        let prefilled = b.get(&format!("/device?user_code={user_code}")).await;
        assert!(prefilled.body.contains(&user_code), "{label}: code prefilled");
        let login = enter_code(&b, &user_code.replace('-', "").to_lowercase()).await;
        assert_eq!(login.status, 200, "{label}: {}", login.body);
        assert!(login.body.contains("Living Room TV") && login.body.contains("name=\"password\""));
        let consent = sign_in(&b, &login).await;
        assert!(consent.body.contains("name=\"decision\""), "{label}: {}", consent.body);
        assert!(consent.body.contains("Stay signed in"), "scopes in plain words");
        let done = decide(&b, &consent, "approve").await;
        assert_eq!(done.status, 200);
        assert!(done.body.contains("Device connected"));

        clock.advance(30);
        let (st, t) = poll(&s, &device_code).await;
        assert_eq!(st, 200, "{label}: {t}");
        let idt = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("tv")).await;
        assert!(idt["sub"].is_string());
        assert!(t["refresh_token"].is_string());
        // Exactly once.
        clock.advance(30);
        let (st, r) = poll(&s, &device_code).await;
        assert_eq!((st, r["error"].as_str()), (400, Some("invalid_grant")), "{label}");
    }
}

#[tokio::test]
async fn denied_and_expired() {
    let (s, clock) = start(TestDb::sqlite()).await;
    let b = Browser::new(&s.url);
    let (_, d) = device_authorization(&s, &[("client_id", "tv")]).await;
    let login = enter_code(&b, d["user_code"].as_str().unwrap()).await;
    let consent = sign_in(&b, &login).await;
    let done = decide(&b, &consent, "deny").await;
    assert!(done.body.contains("Request denied"));
    let (_, r) = poll(&s, d["device_code"].as_str().unwrap()).await;
    assert_eq!(r["error"], "access_denied");

    // Already signed in: entering the next code goes straight to consent.
    let (_, d2) = device_authorization(&s, &[("client_id", "tv")]).await;
    let consent = enter_code(&b, d2["user_code"].as_str().unwrap()).await;
    assert!(consent.body.contains("name=\"decision\""), "{}", consent.body);
    clock.advance(601);
    let late = decide(&b, &consent, "approve").await;
    assert_eq!(late.status, 400, "expired codes cannot be approved");
    let (_, r) = poll(&s, d2["device_code"].as_str().unwrap()).await;
    assert_eq!(r["error"], "expired_token");
}

#[tokio::test]
async fn device_refusals() {
    let (s, _) = start(TestDb::sqlite()).await;
    // A client without the device grant; an unknown client; a scope beyond the client's.
    let (st, r) = device_authorization(&s, &[("client_id", "spa")]).await;
    assert_eq!((st, r["error"].as_str()), (400, Some("unauthorized_client")));
    let (st, r) = device_authorization(&s, &[("client_id", "nobody")]).await;
    assert_eq!((st, r["error"].as_str()), (401, Some("invalid_client")));
    let (st, r) = device_authorization(&s, &[("client_id", "tv"), ("scope", "openid email")]).await;
    assert_eq!((st, r["error"].as_str()), (400, Some("invalid_scope")));
    // A device code polled by another client.
    let (_, d) = device_authorization(&s, &[("client_id", "tv")]).await;
    let r: Value = s
        .http
        .post(s.url("/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", "spa"),
            ("device_code", d["device_code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["error"], "unauthorized_client");
    let (_, r) = poll(&s, "not-a-device-code").await;
    assert_eq!(r["error"], "invalid_grant");
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let (s, _) = start(TestDb::sqlite()).await;
    let b = Browser::new(&s.url);
    for _ in 0..5 {
        let page = enter_code(&b, "BCDF-GHJK").await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("not valid"));
    }
    let page = enter_code(&b, "BCDF-GHJK").await;
    let page = if page.status == 400 { enter_code(&b, "BCDF-GHJK").await } else { page };
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(page.body.contains("Too many wrong codes"));
    // Even a right code waits out the back-off.
    let (_, d) = device_authorization(&s, &[("client_id", "tv")]).await;
    assert_eq!(enter_code(&b, d["user_code"].as_str().unwrap()).await.status, 429);
}

#[tokio::test]
async fn device_forms_need_the_csrf_cookie() {
    let (s, _) = start(TestDb::sqlite()).await;
    let (_, d) = device_authorization(&s, &[("client_id", "tv")]).await;
    let b = Browser::new(&s.url);
    let page =
        b.post("/device", &[("csrf", "x".repeat(43).as_str()), ("user_code", d["user_code"].as_str().unwrap())]).await;
    assert_eq!(page.status, 403);
}

/// A wrong password on the device page keeps the typed username (as the login page does).
#[tokio::test]
async fn a_failed_device_sign_in_keeps_the_username() {
    let (s, _) = start(TestDb::sqlite()).await;
    let (_, d) = device_authorization(&s, &[("client_id", "tv"), ("scope", "openid")]).await;
    let b = Browser::new(&s.url);
    let login = enter_code(&b, d["user_code"].as_str().unwrap()).await;
    assert!(!login.body.contains("value=\"None\""));
    let (csrf, code) = (login.field("csrf").unwrap(), login.field("user_code").unwrap());
    let again = b
        .post("/device/login", &[("csrf", &csrf), ("user_code", &code), ("username", "alice"), ("password", "nope")])
        .await;
    assert_eq!(again.status, 401);
    assert!(again.body.contains("value=\"alice\""), "{}", again.body);
    assert!(sign_in(&b, &again).await.body.contains("decision"), "then the right password goes on to consent");
}
