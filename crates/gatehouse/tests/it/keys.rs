//! Key rotation: next → current → retired, through `gatehouse keys rotate` on the server's own
//! store, with the server running.

use crate::CONFIG;
use gatehouse_protocol::jose::{SigningAlg, SigningKey};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn cli(db: &str, args: &[&str]) -> String {
    let out =
        Command::new(BIN).args(["keys"]).args(args).args(["--database", db]).env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn kids(s: &TestServer) -> BTreeSet<String> {
    let (_, set) = s.get_json("/jwks").await.unwrap();
    set["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

async fn password_token(s: &TestServer) -> String {
    let r: Value = s
        .http
        .post(s.url("/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&[("grant_type", "password"), ("username", "alice"), ("password", "alice-password"), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn userinfo_status(s: &TestServer, token: &str) -> u16 {
    s.http.get(s.url("/userinfo")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn rotation_publishes_before_signing_and_keeps_retired_keys() {
    for db in TestDb::each().await {
        let label = db.label;
        let cfg = format!("key_reload_interval = 1\n{CONFIG}");
        let s = TestServer::start(&cfg, db).await.unwrap();
        let before = kids(&s).await;
        assert_eq!(before.len(), 8, "{label}: a current and a next key per algorithm");
        let old_token = password_token(&s).await;
        let old_kid = kid(&old_token);

        let out = cli(&s.db.url, &["rotate", "--alg", "RS256"]);
        assert!(out.contains("rotated: RS256"), "{out}");
        let states: Vec<Value> =
            cli(&s.db.url, &["list", "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let rs: Vec<&str> =
            states.iter().filter(|k| k["alg"] == "RS256").map(|k| k["state"].as_str().unwrap()).collect();
        assert_eq!(rs.iter().filter(|s| **s == "retired").count(), 1, "{label}: {rs:?}");
        assert_eq!(rs.iter().filter(|s| **s == "current").count(), 1);
        assert_eq!(rs.iter().filter(|s| **s == "next").count(), 1);
        assert!(states.iter().any(|k| k["kid"] == json!(old_kid) && k["state"] == "retired"));

        // The running server picks the rotation up (key_reload_interval = 1 s).
        let deadline = Instant::now() + Duration::from_secs(15);
        let new_token = loop {
            let t = password_token(&s).await;
            if kid(&t) != old_kid {
                break t;
            }
            assert!(Instant::now() < deadline, "{label}: rotation not picked up");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(before.contains(&kid(&new_token)), "{label}: the new signing key was published before it signed");
        let after = kids(&s).await;
        assert_eq!(after.len(), 9, "{label}: retired key still published, plus a new next key");
        assert!(after.contains(&old_kid));
        assert_eq!(userinfo_status(&s, &old_token).await, 200, "{label}: a token of the retired key still verifies");
        assert_eq!(userinfo_status(&s, &new_token).await, 200);

        // A token signed by a key Gatehouse never published does not.
        let der = gatehouse_core::keys::generate_pkcs8(SigningAlg::RS256).unwrap();
        let stranger = SigningKey::from_pkcs8(SigningAlg::RS256, &der).unwrap();
        use base64::Engine;
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(new_token.split('.').nth(1).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&payload).unwrap();
        let forged = stranger.sign("at+jwt", &claims).unwrap();
        assert_eq!(userinfo_status(&s, &forged).await, 401, "{label}");
    }
}

#[test]
fn rotate_refuses_unknown_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let out = Command::new(BIN).args(["keys", "rotate", "--alg", "HS256", "--database", &db]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown algorithm \"HS256\""));
}

#[tokio::test]
async fn scheduled_rotation_happens_once_keys_are_due() {
    use gatehouse_protocol::clock::ManualClock;
    for db in TestDb::each().await {
        let label = db.label;
        let clock = std::sync::Arc::new(ManualClock::new(1_800_000_000));
        // Tokens outlive the rotation period, so the old one must still verify afterwards.
        let cfg = format!(
            "key_reload_interval = 1\nkey_rotation_interval = 3600\n[tokens]\naccess_token_ttl = 7200\n{CONFIG}"
        );
        let s = TestServer::start_with_clock(&cfg, db, clock.clone()).await.unwrap();
        let before = kids(&s).await;
        let old_token = password_token(&s).await;
        // Not due yet: a few reload ticks change nothing.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(kids(&s).await, before, "{label}: not due");

        clock.advance(3601);
        let deadline = Instant::now() + Duration::from_secs(15);
        // Each algorithm rotates on its own (and on PostgreSQL each rotation is announced at
        // once), so wait for the signing key to change and for every algorithm to have rotated.
        let new_token = loop {
            let t = password_token(&s).await;
            let published = kids(&s).await.len();
            assert!(published <= 12, "{label}: an algorithm rotated twice ({published} keys)");
            if kid(&t) != kid(&old_token) && published == 12 {
                break t;
            }
            assert!(Instant::now() < deadline, "{label}: scheduled rotation did not happen");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(before.contains(&kid(&new_token)), "{label}: signs with the key published before");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(kids(&s).await.len(), 12, "{label}: every algorithm rotated once");
        assert_eq!(userinfo_status(&s, &old_token).await, 200);
    }
}
