//! Refresh-token reuse grace (issue 19 §2): a just-rotated refresh token presented again by its
//! own client (two tabs, a lost response, a retry after our own 503) is a retry, answered with
//! the same successor; anything else is theft and revokes the family, as before.

use crate::CONFIG;
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;
use std::sync::Arc;

const PWAPP: (&str, &str) = ("pwapp", "pwapp-secret");

async fn start(cfg: &str, db: TestDb) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    (TestServer::start_with_clock(cfg, db, clock.clone()).await.unwrap(), clock)
}

async fn post(s: &TestServer, client: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let r = s.http.post(s.url("/token")).basic_auth(client.0, Some(client.1)).form(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A new refresh family for alice through pwapp: its first refresh token.
async fn first_refresh_token(s: &TestServer) -> String {
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-password"),
        ("scope", "openid offline_access"),
    ];
    let (st, t) = post(s, PWAPP, &form).await;
    assert_eq!(st, 200, "{t}");
    t["refresh_token"].as_str().unwrap().to_owned()
}

async fn refresh(s: &TestServer, client: (&str, &str), rt: &str) -> (u16, Value) {
    post(s, client, &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await
}

fn rt(v: &Value) -> String {
    v["refresh_token"].as_str().unwrap().to_owned()
}

async fn userinfo(s: &TestServer, v: &Value) -> u16 {
    let at = v["access_token"].as_str().unwrap();
    s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_repeat_within_the_grace_window_gets_the_same_successor_and_the_family_lives() {
    for db in TestDb::each().await {
        let label = db.label;
        let (s, clock) = start(CONFIG, db).await;
        let rt0 = first_refresh_token(&s).await;
        let (st, a) = refresh(&s, PWAPP, &rt0).await;
        assert_eq!(st, 200, "{label}: {a}");
        clock.advance(9);
        let (st, b) = refresh(&s, PWAPP, &rt0).await;
        assert_eq!(st, 200, "{label}: a retry 9 s later (default window 10 s): {b}");
        assert_eq!(rt(&b), rt(&a), "{label}: the same successor, not a second live branch");
        assert_ne!(b["access_token"], a["access_token"], "{label}: a fresh access token");
        assert!(b["id_token"].is_string(), "{label}");
        assert_eq!((userinfo(&s, &a).await, userinfo(&s, &b).await), (200, 200), "{label}");

        // The family lives on through the successor.
        let (st, c) = refresh(&s, PWAPP, &rt(&a)).await;
        assert_eq!(st, 200, "{label}: {c}");

        // Past the window a repeat is theft: the family goes, the retry's access token with it.
        clock.advance(10);
        let (st, e) = refresh(&s, PWAPP, &rt(&a)).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")), "{label}: rotated 10 s ago");
        let (st, _) = refresh(&s, PWAPP, &rt(&c)).await;
        assert_eq!(st, 400, "{label}: the family is revoked");
        assert_eq!(userinfo(&s, &b).await, 401, "{label}: the access token issued to the retry is revoked too");
        assert_eq!(userinfo(&s, &c).await, 401, "{label}");
    }
}

#[tokio::test]
async fn a_repeat_after_the_successor_was_used_or_by_another_client_revokes_the_family() {
    let cfg = format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"other\"\nclient_secret = \"other-secret\"\n\
         scope = \"openid offline_access\"\ngrants = [\"password\", \"refresh_token\"]\n"
    );
    for db in TestDb::each().await {
        let label = db.label;
        let (s, _clock) = start(&cfg, db).await;
        // The successor has been used: whoever repeats the old token is not the client that
        // moved on, even inside the window.
        let rt0 = first_refresh_token(&s).await;
        let (_, a) = refresh(&s, PWAPP, &rt0).await;
        let (st, b) = refresh(&s, PWAPP, &rt(&a)).await;
        assert_eq!(st, 200, "{label}");
        let (st, _) = refresh(&s, PWAPP, &rt0).await;
        assert_eq!(st, 400, "{label}: repeat after the successor rotated");
        assert_eq!(refresh(&s, PWAPP, &rt(&b)).await.0, 400, "{label}: family revoked");

        // Another client presenting a just-rotated token.
        let rt0 = first_refresh_token(&s).await;
        let (_, a) = refresh(&s, PWAPP, &rt0).await;
        let (st, e) = refresh(&s, ("other", "other-secret"), &rt0).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")), "{label}");
        assert_eq!(refresh(&s, PWAPP, &rt(&a)).await.0, 400, "{label}: family revoked");
        assert_eq!(userinfo(&s, &a).await, 401, "{label}");
    }
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_all_get_the_same_successor() {
    for db in TestDb::each().await {
        let label = db.label;
        let (s, _clock) = start(CONFIG, db).await;
        let s = Arc::new(s);
        for round in 0..5 {
            let rt0 = first_refresh_token(&s).await;
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..6 {
                let (s, rt0) = (s.clone(), rt0.clone());
                set.spawn(async move { refresh(&s, PWAPP, &rt0).await });
            }
            let answers: Vec<(u16, Value)> = set.join_all().await;
            assert!(answers.iter().all(|(st, _)| *st == 200), "{label} round {round}: {answers:?}");
            let successors: std::collections::BTreeSet<String> = answers.iter().map(|(_, v)| rt(v)).collect();
            assert_eq!(successors.len(), 1, "{label}: one successor");
            let only = successors.first().unwrap();
            assert_eq!(refresh(&s, PWAPP, only).await.0, 200, "{label}: and it works");
        }
    }
}

#[tokio::test]
async fn a_client_with_no_grace_keeps_strict_reuse_detection() {
    let cfg = format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"strict\"\nclient_secret = \"strict-secret\"\n\
         scope = \"openid offline_access\"\ngrants = [\"password\", \"refresh_token\"]\nrefresh_token_reuse_grace = 0\n"
    );
    for db in TestDb::each().await {
        let label = db.label;
        let (s, _clock) = start(&cfg, db).await;
        let strict = ("strict", "strict-secret");
        let form = [
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
            ("scope", "openid offline_access"),
        ];
        let (_, t) = post(&s, strict, &form).await;
        let (st, a) = refresh(&s, strict, &rt(&t)).await;
        assert_eq!(st, 200, "{label}: {a}");
        let (st, _) = refresh(&s, strict, &rt(&t)).await;
        assert_eq!(st, 400, "{label}: an immediate repeat is a replay");
        assert_eq!(refresh(&s, strict, &rt(&a)).await.0, 400, "{label}: family revoked");
    }
}

/// PostgreSQL commits a rotation, then the reply is lost (packets dropped, not refused): the
/// node gives up on the connection after `statement_timeout` + 2 s and answers 503 with
/// `Retry-After`, rather than 408 after the 30 s request timeout; the client that follows that
/// advice gets the rotation's successor instead of a revoked family.
#[tokio::test]
async fn a_retry_after_a_503_whose_rotation_had_committed_is_not_a_logout() {
    use gatehouse_testkit::proxy::TcpProxy;
    let Some(db) = TestDb::postgres().await else { return };
    let proxy = TcpProxy::start(db.server_addr().unwrap()).await.unwrap();
    let cfg = format!("{CONFIG}\n[database_pool]\nacquire_timeout = 2\nstatement_timeout = 1\n");
    let s = TestServer::start(&cfg, db.through(&proxy).plaintext()).await.unwrap();
    let rt0 = first_refresh_token(&s).await;

    proxy.lose_replies_after(b"SET rotated_at");
    let started = std::time::Instant::now();
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(PWAPP.0, Some(PWAPP.1))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt0)])
        .send()
        .await
        .unwrap();
    eprintln!("the lost reply was answered {} after {:?}", r.status(), started.elapsed());
    assert_eq!(r.status(), 503, "not 408");
    assert_eq!(r.headers()["retry-after"], "1");

    let (st, retried) = refresh(&s, PWAPP, &rt0).await;
    assert_eq!(st, 200, "the retry the 503 asked for: {retried}");
    assert_eq!(refresh(&s, PWAPP, &rt(&retried)).await.0, 200, "the family lives");
    s.stop().await;
    drop(proxy);
}
