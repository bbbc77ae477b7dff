//! `/metrics` over real HTTP: Prometheus text with what happened, by route, grant and outcome.

use crate::CONFIG;
use gatehouse_testkit::{TestDb, TestServer};

pub(crate) async fn scrape(s: &TestServer) -> String {
    let r = s.http.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    r.text().await.unwrap()
}

/// The value of the sample whose name and labels start with `prefix`, e.g.
/// `gatehouse_tokens_issued_total{grant_type="password"}`.
pub(crate) fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_tokens_password_checks_and_throttling() {
    for db in TestDb::each().await {
        let label = db.label;
        // A long first delay: the refused attempt must not depend on how fast this machine is.
        let s = TestServer::start(&format!("[throttle]\nfirst_delay = 60\n{CONFIG}"), db).await.unwrap();
        let token = |form: &'static [(&'static str, &'static str)], id: &'static str, secret: &'static str| {
            let req = s.http.post(s.url("/token")).basic_auth(id, Some(secret)).form(form);
            async move { req.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(token(&[("grant_type", "client_credentials")], "service", "service-secret").await, 200);
        let good = &[("grant_type", "password"), ("username", "alice"), ("password", "alice-password")];
        assert_eq!(token(good, "pwapp", "pwapp-secret").await, 200);
        let bad = &[("grant_type", "password"), ("username", "alice"), ("password", "wrong")];
        // Five free failures, a sixth that blocks, then a refused attempt.
        for _ in 0..6 {
            assert_eq!(token(bad, "pwapp", "pwapp-secret").await, 400);
        }
        assert_eq!(token(bad, "pwapp", "pwapp-secret").await, 400);
        assert_eq!(s.http.get(s.url("/no/such/page/123")).send().await.unwrap().status(), 404);
        let odd = reqwest::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(s.http.request(odd, s.url("/token")).send().await.unwrap().status(), 405);

        let text = scrape(&s).await;
        let at = |p: &str| sample(&text, p).unwrap_or_else(|| panic!("{label}: no sample {p} in\n{text}"));
        assert_eq!(at(r#"gatehouse_tokens_issued_total{grant_type="client_credentials"}"#), 1.0);
        assert_eq!(at(r#"gatehouse_tokens_issued_total{grant_type="password"}"#), 1.0);
        assert_eq!(at(r#"gatehouse_password_checks_total{outcome="success"}"#), 1.0);
        assert_eq!(at(r#"gatehouse_password_checks_total{outcome="failure"}"#), 6.0);
        assert_eq!(at(r#"gatehouse_password_checks_total{outcome="throttled"}"#), 1.0);
        assert!(at(r#"gatehouse_throttled_total{kind="account"}"#) >= 1.0);
        assert_eq!(at(r#"gatehouse_http_requests_total{method="POST",route="/token",status="200"}"#), 2.0);
        assert_eq!(at(r#"gatehouse_http_requests_total{method="POST",route="/token",status="400"}"#), 7.0);
        assert_eq!(at(r#"gatehouse_http_requests_total{method="GET",route="unmatched",status="404"}"#), 1.0);
        assert!(!text.contains("/no/such/page"), "{label}: raw paths never become labels");
        assert_eq!(at(r#"gatehouse_http_requests_total{method="other",route="/token",status="405"}"#), 1.0);
        assert!(!text.contains("BREW"), "{label}: nor do odd methods");
        assert_eq!(
            at(r#"gatehouse_http_request_duration_seconds_count{method="POST",route="/token",status="200"}"#),
            2.0
        );
        let ping = at("gatehouse_store_ping_seconds");
        assert!(ping > 0.0 && ping < 5.0, "{label}: {ping}");
        let open = at(r#"gatehouse_store_pool_connections{state="idle"}"#)
            + at(r#"gatehouse_store_pool_connections{state="in_use"}"#);
        assert!(open >= 1.0, "{label}: {open}");
        for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
            let age = at(&format!(r#"gatehouse_signing_key_age_seconds{{alg="{alg}"}}"#));
            assert!((0.0..3600.0).contains(&age), "{label}: {alg} {age}");
        }
        assert!(!text.contains("alice-password") && !text.contains("service-secret"), "{label}: no secrets");
        assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics ends with # EOF");
    }
}

#[tokio::test]
async fn metrics_can_want_a_token_or_be_turned_off() {
    let cfg = format!("[metrics]\ntoken = \"scrape-token-0123456789\"\n{CONFIG}");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let get = |token: Option<&str>| {
        let mut req = s.http.get(s.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap() }
    };
    let r = get(None).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer "));
    assert_eq!(get(Some("scrape-token-0123456788")).await.status(), 401);
    assert_eq!(get(Some("scrape-token-0123456789")).await.status(), 200);

    let off = TestServer::start(&format!("[metrics]\nenabled = false\n{CONFIG}"), TestDb::sqlite()).await.unwrap();
    assert_eq!(off.http.get(off.url("/metrics")).send().await.unwrap().status(), 404);
}
