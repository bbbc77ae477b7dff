//! Browser security: page headers (framing, CSP, referrer, caching), HSTS over https, and no
//! session fixation.

use crate::{CONFIG, webapp_auth};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};

#[tokio::test]
async fn pages_forbid_framing_foreign_forms_referrers_and_caching() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    let error = b.authorize(&[("client_id", "nope")]).await;
    let device = b.get("/device").await;
    for page in [&login, &error, &device] {
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        let csp = page.header("content-security-policy").unwrap();
        for directive in ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(page.header("cache-control"), Some("no-store"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("strict-transport-security"), None, "not over plain http");
    }
}

/// Over https every answer carries HSTS (RFC 6797).
#[tokio::test]
async fn https_issuers_send_hsts() {
    let db = TestDb::sqlite();
    let overrides = gatehouse_core::config::Overrides {
        issuer: Some("https://id.example.test".into()),
        database: Some(db.url.clone()),
        listen: None,
    };
    let cfg = gatehouse_core::config::Config::from_toml_str(CONFIG, &overrides).unwrap().validate().unwrap();
    let services = gatehouse_core::build(&cfg).await.unwrap();
    let state = gatehouse_server::AppState::new(services, &cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gatehouse_server::serve(listener, gatehouse_server::app(state), async {
        let _ = rx.await;
    }));
    let http = gatehouse_testkit::http_client();
    for path in ["/healthz", "/.well-known/openid-configuration", "/authorize?client_id=nope"] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(
            r.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
    }
    // Cookies a sibling subdomain or a plain-http injection cannot plant (issue 19 §7).
    let q = crate::webapp_auth(&[])
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20")))
        .collect::<Vec<_>>()
        .join("&");
    let login = http.get(format!("{url}/authorize?{q}")).send().await.unwrap();
    let set: Vec<String> =
        login.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect();
    assert!(
        set.iter().any(|c| c.starts_with("__Host-gh_csrf=") && c.contains("; Secure") && c.contains("Path=/;")),
        "{set:?}"
    );
    let _ = tx.send(());
    let _ = server.await;
}

/// A session id planted in the browser before sign-in is never promoted: signing in issues a
/// new one, and the planted value opens nothing.
#[tokio::test]
async fn a_planted_session_cookie_is_replaced_at_login() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let planted = "attacker-chosen-session-id-0123456789abcdef";
    let b = Browser::new(&s.url);
    b.set_cookie(&format!("gh_session={planted}"));
    let page = b.authorize(&webapp_auth(&[])).await;
    assert!(page.is_login_page(), "a planted id is no session");
    let after = b.login(&page, "alice", "alice-password").await;
    let set: Vec<&str> = after
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("gh_session="))
        .collect();
    assert_eq!(set.len(), 1, "a new session cookie is set");
    assert!(!set[0].contains(planted));
    // Another browser holding only the planted id is not signed in.
    let other = Browser::new(&s.url);
    other.set_cookie(&format!("gh_session={planted}"));
    assert!(
        other
            .authorize(&webapp_auth(&[("prompt", "none")]))
            .await
            .redirect_params()
            .get("error")
            .is_some_and(|e| e == "login_required")
    );
}
