//! Nothing secret reaches the logs: a full run of flows against the real binary with debug
//! logging everywhere (sqlx and tower-http included), then every password, secret, code, token
//! and cookie value seen on the wire is looked for in what the server wrote.

use crate::cli::{free_port, sigterm_and_wait, spawn_serve_logged};
use gatehouse_testkit::browser::{Browser, VERIFIER};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn a_full_run_with_debug_logging_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("g.toml");
    std::fs::write(&cfg, crate::admin::config()).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let (child, log) = spawn_serve_logged(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "--listen", &listen],
        &[("RUST_LOG", "debug,sqlx=debug,tower_http=trace,hyper=debug")],
    );
    let http = gatehouse_testkit::http_client();
    let mut secrets: Vec<String> =
        ["alice-password", "webapp-secret", "pwapp-secret", "ops-secret", "service-secret"].map(String::from).to_vec();

    // Code flow with PKCE, refresh, userinfo, introspection, revocation.
    let b = Browser::new(&base);
    let p = b.sign_in(&crate::webapp_auth(&[]), "alice", "alice-password").await;
    secrets.push(p["code"].clone());
    let form = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    let post = |path: &str, id: &str, secret: &str, pairs: Vec<(String, String)>| {
        http.post(format!("{base}{path}")).basic_auth(id.to_owned(), Some(secret.to_owned())).form(&pairs).send()
    };
    let t: Value = post(
        "/token",
        "webapp",
        "webapp-secret",
        form(&[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", crate::WEBAPP_CB),
            ("code_verifier", VERIFIER),
        ]),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    for k in ["access_token", "id_token", "refresh_token"] {
        secrets.push(t[k].as_str().unwrap().to_owned());
    }
    let r: Value = post(
        "/token",
        "webapp",
        "webapp-secret",
        form(&[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())]),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    secrets.push(r["refresh_token"].as_str().unwrap().to_owned());
    http.get(format!("{base}/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
    post("/introspect", "webapp", "webapp-secret", form(&[("token", t["access_token"].as_str().unwrap())]))
        .await
        .unwrap();
    post("/revoke", "webapp", "webapp-secret", form(&[("token", r["refresh_token"].as_str().unwrap())])).await.unwrap();
    // Password grant, right and wrong; a wrong client secret.
    post(
        "/token",
        "pwapp",
        "pwapp-secret",
        form(&[("grant_type", "password"), ("username", "alice"), ("password", "alice-password")]),
    )
    .await
    .unwrap();
    secrets.push("not-alices-password".into());
    post(
        "/token",
        "pwapp",
        "pwapp-secret",
        form(&[("grant_type", "password"), ("username", "alice"), ("password", "not-alices-password")]),
    )
    .await
    .unwrap();
    secrets.push("a-wrong-client-secret".into());
    post("/token", "service", "a-wrong-client-secret", form(&[("grant_type", "client_credentials")])).await.unwrap();
    // The admin API: a generated secret, a rotation, a new user's password.
    let admin: Value = post(
        "/token",
        "ops",
        "ops-secret",
        form(&[("grant_type", "client_credentials"), ("scope", "gatehouse:admin")]),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let at = admin["access_token"].as_str().unwrap().to_owned();
    secrets.push(at.clone());
    let c: Value = http
        .post(format!("{base}/admin/v1/clients"))
        .bearer_auth(&at)
        .json(&json!({"client_id": "logged", "grants": ["client_credentials"], "scope": "roles"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    secrets.push(c["client_secret"].as_str().unwrap().to_owned());
    let u: Value = http
        .post(format!("{base}/admin/v1/users"))
        .bearer_auth(&at)
        .json(&json!({"username": "frank", "password": "franks-first-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    secrets.push("franks-first-password".into());
    http.put(format!("{base}/admin/v1/users/{}/password", u["sub"].as_str().unwrap()))
        .bearer_auth(&at)
        .json(&json!({"password": "franks-second-password"}))
        .send()
        .await
        .unwrap();
    secrets.push("franks-second-password".into());
    // Cookie values the browser holds (session, CSRF).
    for cookie in b.cookie_values() {
        secrets.push(cookie);
    }

    assert_eq!(sigterm_and_wait(child), 0);
    let mut text = String::new();
    while let Ok(line) = log.recv_timeout(Duration::from_millis(500)) {
        text.push_str(&line);
        text.push('\n');
    }
    assert!(text.contains("DEBUG"), "debug logging was on");
    assert!(text.lines().count() > 50, "the run logged plenty: {} lines", text.lines().count());
    for s in &secrets {
        assert!(s.len() >= 8, "{s:?} is too short to look for");
        assert!(!text.contains(s.as_str()), "the log holds a secret ({}…)", &s[..6]);
    }
}

/// One OTLP request the stand-in collector received: its content type and body.
type Export = (String, Vec<u8>);

/// OpenTelemetry export: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the request spans reach an
/// OTLP/HTTP collector (a stand-in here that records what it receives), carrying the service
/// name and each request's id; a graceful stop flushes what is queued. Nothing secret goes along.
/// (Multi-threaded: the collector must answer while the test blocks waiting for the stop.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_when_an_endpoint_is_configured() {
    use axum::body::Bytes;
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Export>>> = Arc::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                sink.lock().unwrap().push((kind, body.to_vec()));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("g.toml");
    std::fs::write(&cfg, crate::admin::config()).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let (child, _log) = spawn_serve_logged(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "--listen", &listen],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_SERVICE_NAME", "gatehouse-under-test")],
    );
    let http = gatehouse_testkit::http_client();
    let r = http
        .post(format!("{base}/token"))
        .basic_auth("service", Some("service-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let token: Value = r.json().await.unwrap();
    let access_token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(sigterm_and_wait(child), 0);

    let batches = received.lock().unwrap().clone();
    assert!(!batches.is_empty(), "the spans were flushed at the graceful stop");
    let all: Vec<u8> = batches.iter().flat_map(|(_, b)| b.clone()).collect();
    let has = |needle: &str| all.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(batches.iter().all(|(kind, _)| kind == "application/x-protobuf"), "OTLP/HTTP protobuf");
    assert!(has("gatehouse-under-test"), "the service name is the resource's");
    assert!(has("request") && has("/token"), "the request span, with its path");
    assert!(has(&request_id), "the request id links the span to the log lines and the response");
    for secret in ["service-secret", access_token.as_str()] {
        assert!(!has(secret), "nothing secret is exported");
    }
}
