//! Crash safety: Gatehouse stopped under load, by SIGKILL or SIGTERM, keeps every refresh token
//! and code it had answered with, and its store passes `gatehouse check-store`. (That SIGTERM
//! lets an in-flight request finish is `cli::sigterm_lets_in_flight_requests_finish`.)

use crate::cli::{free_port, spawn_serve_logged};
use gatehouse_testkit::browser::{Browser, VERIFIER};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

#[tokio::test]
async fn sigkill_under_load_loses_nothing_that_was_answered() {
    stop_under_load_and_check("-KILL").await;
}

/// The graceful stop under the same load: the same guarantee, and the process exits 0.
#[tokio::test]
async fn sigterm_under_load_loses_nothing_that_was_answered() {
    stop_under_load_and_check("-TERM").await;
}

async fn stop_under_load_and_check(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("g.toml");
    std::fs::write(&cfg, crate::CONFIG).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let args = ["--config", cfg.to_str().unwrap(), "--listen", &listen];
    let (child, _log) = spawn_serve_logged(dir.path(), &args, &[]);

    let refresh_tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let codes = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (base, out) = (base.clone(), refresh_tokens.clone());
        load.spawn(async move {
            let http = gatehouse_testkit::http_client();
            loop {
                let r = http
                    .post(format!("{base}/token"))
                    .basic_auth("pwapp", Some("pwapp-secret"))
                    .form(&[
                        ("grant_type", "password"),
                        ("username", "alice"),
                        ("password", "alice-password"),
                        ("scope", "openid offline_access"),
                    ])
                    .send()
                    .await;
                let Ok(r) = r else { return };
                if r.status() != 200 {
                    continue;
                }
                let Ok(body) = r.json::<serde_json::Value>().await else { return };
                if let Some(t) = body["refresh_token"].as_str() {
                    out.lock().unwrap().push(t.to_owned());
                }
            }
        });
    }
    for _ in 0..2 {
        let (base, out) = (base.clone(), codes.clone());
        load.spawn(async move {
            // Signed in once; every further authorization answers with a code at once (SSO).
            let b = Browser::new(&base);
            let first = b.sign_in(&crate::webapp_auth(&[]), "alice", "alice-password").await;
            out.lock().unwrap().push(first["code"].clone());
            loop {
                let r = b.http.get(format!("{base}/authorize")).query(&crate::webapp_auth(&[])).send().await;
                let Ok(r) = r else { return };
                let Some(loc) =
                    r.headers().get("location").and_then(|v| v.to_str().ok()).and_then(|l| url::Url::parse(l).ok())
                else {
                    continue;
                };
                if let Some((_, code)) = loc.query_pairs().find(|(k, _)| k == "code") {
                    out.lock().unwrap().push(code.into_owned());
                }
            }
        });
    }
    // Let the load run, then stop the server in the middle of it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap().success());
    let mut child = child;
    let status = child.wait().unwrap();
    if signal == "-TERM" {
        assert_eq!(status.code(), Some(0), "a graceful stop exits 0");
    }
    while load.join_next().await.is_some() {}
    let refresh_tokens = refresh_tokens.lock().unwrap().clone();
    let codes = codes.lock().unwrap().clone();
    assert!(
        refresh_tokens.len() >= 5 && codes.len() >= 5,
        "load ran: {} refresh tokens, {} codes",
        refresh_tokens.len(),
        codes.len()
    );

    // The store is sound after the crash.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["--config", cfg.to_str().unwrap(), "check-store"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Restarted, it honours every code and refresh token it had answered with.
    let (child, _log) = spawn_serve_logged(dir.path(), &args, &[]);
    let http = gatehouse_testkit::http_client();
    for code in &codes {
        let r = http
            .post(format!("{base}/token"))
            .basic_auth("webapp", Some("webapp-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", crate::WEBAPP_CB),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a code answered before the crash: {}", r.text().await.unwrap());
    }
    for t in &refresh_tokens {
        let r = http
            .post(format!("{base}/token"))
            .basic_auth("pwapp", Some("pwapp-secret"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", t)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a refresh token answered before the crash: {}", r.text().await.unwrap());
    }
    assert_eq!(crate::cli::sigterm_and_wait(child), 0);
}
