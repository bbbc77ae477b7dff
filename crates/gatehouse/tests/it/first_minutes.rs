//! A newcomer's first five minutes (issue 21), each seen going wrong once: a taken port, an
//! issuer that does not match `--listen`, a password asked of no terminal, a client with no
//! scope, a revoked refresh token logged as a replay.

use crate::cli::{BIN, free_port, gatehouse, spawn_serve_logged, write};
use std::process::Command;
use std::time::Duration;

#[test]
fn a_taken_port_fails_before_anything_is_created_and_says_how_to_choose_another() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN).current_dir(dir.path()).args(["serve", "--listen", &listen]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("cannot listen on {listen}")) && err.contains("already in use"), "{err}");
    assert!(err.contains("--listen 127.0.0.1:PORT"), "names the flag: {err}");
    assert!(!dir.path().join("gatehouse-data").exists(), "no data, keys or bootstrap secret made for nobody");
}

#[test]
fn an_issuer_on_another_local_port_than_the_listener_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "g.toml", "issuer = \"http://127.0.0.1:8080\"\n");
    let listen = format!("127.0.0.1:{}", free_port());
    let (child, log) = spawn_serve_logged(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", &listen], &[]);
    let start: Vec<String> = log.try_iter().collect();
    drop(child);
    let warning = start.iter().find(|l| l.contains("clients will be sent where nothing answers"));
    let warning = warning.unwrap_or_else(|| panic!("no warning in {start:#?}"));
    assert!(warning.contains(&format!("--issuer http://{listen}")), "{warning}");
}

#[test]
fn the_cli_says_what_to_do_when_it_cannot_ask_for_a_password_or_a_client_has_no_scope() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let (code, _, err) = gatehouse(&db, &["user", "add", "carol"], "");
    assert_ne!(code, 0);
    assert!(err.contains("--password-stdin"), "{err}");
    let (code, _, _) = gatehouse(&db, &["user", "show", "carol"], "");
    assert_ne!(code, 0, "no user was made");

    let (code, _, err) = gatehouse(&db, &["client", "add", "cli-app", "--public"], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no --scope given") && err.contains("client update cli-app --scope"), "{err}");
    let (_, _, err) = gatehouse(&db, &["client", "add", "web", "--public", "--scope", "openid"], "");
    assert!(!err.contains("no --scope"), "{err}");

    let cfg = write(dir.path(), "one.toml", "[[users]]\nusername = \"a\"\npassword = \"a-password\"\n");
    let out = Command::new(BIN).args(["check-config", cfg.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (0 clients, 1 user, 0 custom scopes)"));
}

#[tokio::test]
async fn a_revoked_refresh_token_presented_again_is_logged_as_revoked_not_as_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("g.toml");
    std::fs::write(&cfg, crate::CONFIG).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let (_child, log) = spawn_serve_logged(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", &listen], &[]);
    let http = gatehouse_testkit::http_client();
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-password"),
        ("scope", "openid offline_access"),
    ];
    let t: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    let r = http.post(format!("{base}/revoke")).basic_auth("pwapp", Some("pwapp-secret")).form(&[("token", refresh)]);
    assert_eq!(r.send().await.unwrap().status(), 200);
    let r = http
        .post(format!("{base}/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "the refresh token has been revoked");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines: Vec<String> = log.try_iter().collect();
    assert!(lines.iter().any(|l| l.contains("a revoked refresh token was presented")), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("reused")), "{lines:#?}");
}
