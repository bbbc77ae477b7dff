//! Brute-force throttling kept in the store: shared by nodes, per account, per source address
//! and per client, with exponential back-off, a retry time shown to the user, and a window that
//! forgets. Time moves with a manual clock, never by sleeping.

use crate::CONFIG;
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;
use std::sync::Arc;

const START: i64 = 1_800_000_000;

async fn password(s: &TestServer, user: &str, pw: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&[("grant_type", "password"), ("username", user), ("password", pw)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Six wrong passwords at node A lock the account at node B too; the login page there says when
/// to retry; the lock and then the count pass with time.
#[tokio::test]
async fn an_account_locked_at_one_node_is_locked_at_another() {
    for db in TestDb::each().await {
        let clock = Arc::new(ManualClock::new(START));
        let b = TestServer::start_with_clock(CONFIG, db.shared(), clock.clone()).await.unwrap();
        let a = TestServer::start_with_clock(CONFIG, db, clock.clone()).await.unwrap();
        for _ in 0..5 {
            assert_eq!(password(&a, "alice", "wrong").await.0, 400);
        }
        assert_eq!(password(&b, "alice", "alice-password").await.0, 200, "five free failures; a success clears them");
        for _ in 0..6 {
            password(&a, "alice", "wrong").await;
        }
        let (st, e) = password(&b, "alice", "alice-password").await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")));
        assert!(e["error_description"].as_str().unwrap().contains("too many"), "{e}");

        // The login page at B tells the person when to try again.
        let browser = Browser::new(&b.url);
        let page = browser.authorize(&crate::webapp_auth(&[])).await;
        let page = browser.login(&page, "alice", "alice-password").await;
        assert_eq!(page.status, 429);
        assert!(page.body.contains("Try again in 1 second."), "{}", page.body);
        // ...in the sign-in's language.
        let page = browser.authorize(&crate::webapp_auth(&[("ui_locales", "de")])).await;
        let page = browser.login(&page, "alice", "alice-password").await;
        assert_eq!(page.status, 429);
        assert!(page.body.contains("Versuchen Sie es in 1 Sekunde erneut."), "{}", page.body);

        // The back-off passes: 1 s after the sixth failure.
        clock.advance(2);
        assert_eq!(password(&b, "alice", "alice-password").await.0, 200);
        // Another account was never affected.
        let (st, e) = password(&a, "bob", "bob-password").await;
        assert_eq!((st, e["error_description"].as_str()), (400, Some("the username or password is incorrect")));
        b.stop().await;
    }
}

/// Failures double the wait: the seventh failure blocks for 2 s, the eighth for 4 s.
#[tokio::test]
async fn waits_double_and_the_window_forgets() {
    let clock = Arc::new(ManualClock::new(START));
    let cfg = format!("[throttle]\nfree_failures = 2\nwindow = 600\n{CONFIG}");
    let s = TestServer::start_with_clock(&cfg, TestDb::sqlite(), clock.clone()).await.unwrap();
    for _ in 0..3 {
        password(&s, "alice", "wrong").await; // the third blocks for 1 s
    }
    assert!(
        password(&s, "alice", "alice-password").await.1["error_description"].as_str().unwrap().contains("too many")
    );
    clock.advance(1);
    password(&s, "alice", "wrong").await; // fourth: 2 s
    clock.advance(1);
    assert!(
        password(&s, "alice", "alice-password").await.1["error_description"].as_str().unwrap().contains("too many")
    );
    clock.advance(1);
    password(&s, "alice", "wrong").await; // fifth: 4 s
    clock.advance(3);
    assert_eq!(password(&s, "alice", "alice-password").await.0, 400, "still waiting");
    clock.advance(1);
    // A quiet window forgets the count: after it, two free failures again.
    clock.advance(600);
    password(&s, "alice", "wrong").await;
    password(&s, "alice", "wrong").await;
    assert_eq!(password(&s, "alice", "alice-password").await.0, 200);
}

/// One address guessing across many accounts is stopped by its own count.
#[tokio::test]
async fn one_address_guessing_many_accounts_is_throttled() {
    let cfg = format!("[throttle]\nfree_failures_per_ip = 3\n{CONFIG}");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    for user in ["u1", "u2", "u3", "u4"] {
        password(&s, user, "guess").await;
    }
    let (_, e) = password(&s, "alice", "alice-password").await;
    assert!(e["error_description"].as_str().unwrap().contains("too many"), "{e}");
}

/// Wrong secrets of a client with an operator-chosen (argon2) secret lock the client out, even
/// with the right secret, until the back-off passes.
#[tokio::test]
async fn client_secret_guessing_is_throttled() {
    for db in TestDb::each().await {
        let clock = Arc::new(ManualClock::new(START));
        let s = TestServer::start_with_clock(CONFIG, db, clock.clone()).await.unwrap();
        let cc = |secret: &'static str| {
            let s = &s;
            async move {
                s.http
                    .post(s.url("/token"))
                    .basic_auth("service", Some(secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        for _ in 0..6 {
            assert_eq!(cc("wrong").await, 401);
        }
        assert_eq!(cc("service-secret").await, 401, "locked");
        clock.advance(2);
        assert_eq!(cc("service-secret").await, 200);
    }
}

/// Behind a reverse proxy (issue 19 §7): from a peer in `trusted_proxies`, each client is
/// throttled by the address the proxy forwards, so one guesser does not lock out everyone
/// behind the same proxy; from any other peer, forwarding headers are ignored, so a guesser
/// cannot escape its count by sending them.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_by_its_own_address() {
    let forwarded = |s: &TestServer, xff: &'static str, user: &'static str, pw: &'static str| {
        let req = s
            .http
            .post(s.url("/token"))
            .basic_auth("pwapp", Some("pwapp-secret"))
            .header("x-forwarded-for", xff)
            .form(&[("grant_type", "password"), ("username", user), ("password", pw)]);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let throttled = |e: &Value| e["error_description"].as_str().unwrap_or("").contains("too many");
    let cfg = format!("trusted_proxies = [\"127.0.0.0/8\"]\n[throttle]\nfree_failures_per_ip = 3\n{CONFIG}");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    for user in ["u1", "u2", "u3", "u4"] {
        forwarded(&s, "203.0.113.1", user, "guess").await;
    }
    let (_, e) = forwarded(&s, "203.0.113.1", "alice", "alice-password").await;
    assert!(throttled(&e), "the guesser is throttled: {e}");
    let (st, e) = forwarded(&s, "203.0.113.2", "alice", "alice-password").await;
    assert_eq!(st, 200, "another client behind the same proxy is not: {e}");

    // Without trusted_proxies the headers are the client's own claim, and ignored.
    let cfg = format!("[throttle]\nfree_failures_per_ip = 3\n{CONFIG}");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    for (user, xff) in [("u1", "198.51.100.1"), ("u2", "198.51.100.2"), ("u3", "198.51.100.3"), ("u4", "198.51.100.4")]
    {
        forwarded(&s, xff, user, "guess").await;
    }
    let (_, e) = forwarded(&s, "198.51.100.5", "alice", "alice-password").await;
    assert!(throttled(&e), "a spoofed X-Forwarded-For does not escape the count: {e}");
}
