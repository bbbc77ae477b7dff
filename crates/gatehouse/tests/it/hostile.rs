//! Hostile input: slow clients are cut off, request heads and bodies are capped, connections
//! are bounded, and malformed requests to every endpoint get 4xx answers (never a 5xx or a
//! dropped connection) and leave the store unchanged.

use crate::CONFIG;
use gatehouse_testkit::{TestDb, TestServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn addr(s: &TestServer) -> String {
    s.url.trim_start_matches("http://").to_owned()
}

/// Reads what the server sends until it closes the connection (or 10 s pass).
fn read_until_closed(mut c: TcpStream) -> (String, Duration) {
    let start = Instant::now();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let s = TestServer::start(&format!("[limits]\nheader_read_timeout = 1\n{CONFIG}"), TestDb::sqlite()).await.unwrap();
    let a = addr(&s);
    let (_, took) = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(a).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
        read_until_closed(c)
    })
    .await
    .unwrap();
    assert!(took < Duration::from_secs(5), "closed after the 1 s header timeout, not {took:?}");
    // The server still answers others.
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn oversized_heads_and_bodies_are_refused() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let a = addr(&s);
    let head = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(a).unwrap();
        let big = "a".repeat(64 * 1024);
        let _ = c.write_all(format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes());
        read_until_closed(c).0
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 431"), "{}", head.lines().next().unwrap_or(""));
    let r = s
        .http
        .post(s.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&x={}", "a".repeat(100 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

/// Whether the server closed `c` (end of stream) within 10 s, rather than leaving it open.
fn closed_by_server(mut c: TcpStream) -> bool {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).is_ok()
}

/// Whether `c` is still open: nothing to read, no end of stream, for 300 ms.
fn still_open(c: &mut TcpStream) -> bool {
    c.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut buf = [0u8; 1];
    matches!(c.read(&mut buf), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
}

/// Issue 19 §1: a connection that sends nothing (or a byte, or the start of the HTTP/2
/// preface) is closed once the header timeout has passed since it was accepted.
#[tokio::test]
async fn silent_connections_are_closed_after_the_header_timeout() {
    let s = TestServer::start(&format!("[limits]\nheader_read_timeout = 1\n{CONFIG}"), TestDb::sqlite()).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for opening in [&b""[..], b"G", b"PRI * HTTP/2.0"] {
        let a = addr(&s);
        set.spawn_blocking(move || {
            let mut c = TcpStream::connect(a).unwrap();
            c.write_all(opening).unwrap();
            (String::from_utf8_lossy(opening).into_owned(), closed_by_server(c))
        });
    }
    for (opening, closed) in set.join_all().await {
        assert!(closed, "a connection that sent {opening:?} and then nothing was left open");
    }
}

/// At the limit, a new connection closes the one idle longest, and is served.
#[tokio::test]
async fn at_the_limit_the_longest_idle_connection_makes_room() {
    let cfg = format!("[limits]\nmax_connections = 2\nheader_read_timeout = 60\n{CONFIG}");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let a = addr(&s);
    let oldest = TcpStream::connect(&a).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut newer = TcpStream::connect(&a).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let a2 = a.clone();
    let (answer, _) = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(a2).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        read_until_closed(c)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        tokio::task::spawn_blocking(move || closed_by_server(oldest)).await.unwrap(),
        "the oldest idle one made room"
    );
    assert!(still_open(&mut newer), "only one was closed");
}

/// Connections serving a request are never closed for the limit: when all are busy, a new
/// connection waits for one to end.
#[tokio::test]
async fn busy_connections_are_kept_and_a_new_one_waits_its_turn() {
    let s = TestServer::start(&format!("[limits]\nmax_connections = 2\n{CONFIG}"), TestDb::sqlite()).await.unwrap();
    let a = addr(&s);
    // Each is busy: its request head is in, its body still coming.
    let busy = || {
        let mut c = TcpStream::connect(&a).unwrap();
        c.write_all(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant").unwrap();
        c
    };
    let (first, mut second) = (busy(), busy());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a2 = a.clone();
    let third = tokio::task::spawn_blocking(move || {
        let mut c = TcpStream::connect(a2).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        read_until_closed(c)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!third.is_finished(), "served beyond the limit by closing a busy connection");
    assert!(still_open(&mut second), "a busy connection was closed");
    drop(first);
    let (answer, _) = third.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(second);
}

/// 2,000 silent connections from one address, four times the connection limit: discovery from
/// another connection is still answered. Before, the limit's permits were all held by silent
/// sockets and discovery was never answered.
#[tokio::test]
async fn discovery_answers_under_a_flood_of_silent_connections() {
    let s = TestServer::start(&format!("[limits]\nmax_connections = 500\n{CONFIG}"), TestDb::sqlite()).await.unwrap();
    let a = addr(&s);
    let mut flood = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        flood.push(tokio::net::TcpStream::connect(&a).await.unwrap());
    }
    let fresh = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let started = Instant::now();
    let r = fresh.get(s.url("/.well-known/openid-configuration")).send().await;
    let took = started.elapsed();
    eprintln!("discovery under 2,000 silent connections answered in {took:?}");
    assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(200), "discovery under the flood ({took:?})");
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    drop(flood);
}

/// Every endpoint, fed malformed input: a 4xx with a spec-shaped body, never a 5xx, and the
/// store unchanged (no client, user, session or code appears).
#[tokio::test]
async fn malformed_requests_get_4xx_everywhere_and_change_nothing() {
    for db in TestDb::each().await {
        let s = TestServer::start(&crate::admin::config(), db).await.unwrap();
        let token = crate::admin::admin_token(&s).await;
        let before = store_snapshot(&s, &token).await;
        let form = "application/x-www-form-urlencoded";
        let non_utf8: &[u8] = b"grant_type=\xff\xfe&client_id=webapp";
        let cases: Vec<(&str, &str, Option<&str>, Vec<u8>)> = vec![
            ("POST", "/token", Some(form), b"grant_type=client_credentials&grant_type=password".to_vec()),
            ("POST", "/token", Some(form), non_utf8.to_vec()),
            ("POST", "/token", Some(form), b"grant_type=%zz".to_vec()),
            ("POST", "/token", Some("application/json"), br#"{"grant_type":"client_credentials"}"#.to_vec()),
            ("POST", "/token", None, b"grant_type=client_credentials".to_vec()),
            ("POST", "/token", Some(form), format!("grant_type={}", "x".repeat(10_000)).into_bytes()),
            ("POST", "/introspect", Some(form), non_utf8.to_vec()),
            ("POST", "/revoke", Some("text/plain"), b"token=x".to_vec()),
            ("POST", "/device_authorization", Some(form), b"client_id=tv&client_id=tv".to_vec()),
            ("GET", "/authorize?client_id=webapp&client_id=spa", None, vec![]),
            ("GET", "/authorize?client_id=%ff%fe", None, vec![]),
            (
                "GET",
                "/authorize?response_type=code&client_id=webapp&redirect_uri=https%3A%2F%2Fevil.example%2F",
                None,
                vec![],
            ),
            ("POST", "/login", Some(form), b"interaction=nope&csrf=x&username=alice&password=alice-password".to_vec()),
            ("POST", "/consent", Some(form), non_utf8.to_vec()),
            ("POST", "/device", Some(form), b"user_code=%ff".to_vec()),
            ("GET", "/userinfo", None, vec![]),
            ("POST", "/userinfo", Some(form), b"access_token=a&access_token=b".to_vec()),
            (
                "GET",
                "/end_session?id_token_hint=not.a.jwt&post_logout_redirect_uri=https://evil.example/",
                None,
                vec![],
            ),
            ("POST", "/register", Some("application/json"), b"{not json".to_vec()),
            ("POST", "/admin/v1/clients", Some("application/json"), b"{\"client_id\": 5}".to_vec()),
            ("POST", "/admin/v1/clients", Some("application/json"), non_utf8.to_vec()),
            ("POST", "/admin/v1/users", Some("application/json"), b"[]".to_vec()),
            ("PATCH", "/admin/v1/clients/webapp", Some("application/json"), b"\"x\"".to_vec()),
            ("GET", "/admin/v1/clients?limit=99999999999999999999", None, vec![]),
            ("GET", "/admin/v1/clients/%ff", None, vec![]),
        ];
        for (method, path, ct, body) in cases {
            let mut req = s.http.request(method.parse().unwrap(), s.url(path)).body(body.clone());
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            if path.starts_with("/admin") {
                req = req.bearer_auth(&token);
            }
            let r = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let status = r.status().as_u16();
            assert!((400..500).contains(&status), "{method} {path} {}: got {status}", String::from_utf8_lossy(&body));
        }
        assert_eq!(store_snapshot(&s, &token).await, before, "nothing was written");
    }
}

/// Clients, users and the audit log as the admin API lists them.
async fn store_snapshot(s: &TestServer, token: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for path in
        ["/admin/v1/clients?limit=200", "/admin/v1/users?limit=200", "/admin/v1/scopes", "/admin/v1/audit?limit=200"]
    {
        let (st, _, v) = crate::admin::call(s, token, "GET", path, None).await;
        assert_eq!(st, 200);
        out.push(v);
    }
    out
}
