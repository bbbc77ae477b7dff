//! `/authorize`, `/login`, `/consent` over real HTTP.

use crate::{CONFIG, WEBAPP_CB, webapp_auth};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};

#[tokio::test]
async fn code_flow_with_login_consent_and_sso() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let b = Browser::new(&s.url);

        let page = b.authorize(&webapp_auth(&[])).await;
        assert_eq!(page.status, 200, "{label}");
        assert!(page.is_login_page());
        assert!(page.body.contains("Web App"), "the login page names the client");
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert!(page.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
        let csrf_cookie = page.header("set-cookie").unwrap();
        assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"), "{csrf_cookie}");

        let consent = b.login(&page, "alice", "alice-password").await;
        assert_eq!(consent.status, 200, "{label}: {}", consent.body);
        assert!(consent.is_consent_page());
        let session_cookie = consent
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("gh_session="))
            .unwrap()
            .to_owned();
        assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
        assert!(!session_cookie.contains("Secure"), "loopback http issuer: no Secure flag");
        for words in ["See your email address", "See which roles you have", "Stay signed in"] {
            assert!(consent.body.contains(words), "consent page explains {words}");
        }

        let done = b.consent(&consent, "approve").await;
        assert_eq!(done.status, 303);
        assert!(done.header("location").unwrap().starts_with(WEBAPP_CB));
        let p = done.redirect_params();
        assert_eq!(p["state"], "st-123");
        assert_eq!(p["iss"], s.url, "RFC 9207");
        assert!(p["code"].len() >= 43, "≥ 256-bit code");

        // SSO and remembered consent: straight back with a code, no pages.
        let again = b.authorize(&webapp_auth(&[("state", "second")])).await;
        assert_eq!(again.status, 303, "{label}");
        assert_eq!(again.redirect_params()["state"], "second");

        // A first-party client: signed in already, no consent page either.
        let post = b
            .authorize(&[
                ("client_id", "postapp"),
                ("redirect_uri", "http://127.0.0.1:4000/cb"),
                ("response_type", "code"),
                ("scope", "openid"),
            ])
            .await;
        assert_eq!(post.status, 303, "{label}: {}", post.body);
        assert!(post.redirect_params().contains_key("code"));

        // prompt=login asks for the password again even with a session.
        let relogin = b.authorize(&webapp_auth(&[("prompt", "login")])).await;
        assert!(relogin.is_login_page(), "{label}");
        let back = b.login(&relogin, "alice", "alice-password").await;
        assert_eq!(back.status, 303, "consent remembered: {}", back.body);

        // prompt=consent asks again.
        let ask = b.authorize(&webapp_auth(&[("prompt", "consent")])).await;
        assert!(ask.is_consent_page(), "{label}");
    }
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_get_a_page_not_a_redirect() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        webapp_auth(&[("client_id", "nobody")]),
        webapp_auth(&[("redirect_uri", "https://evil.example/callback")]),
        webapp_auth(&[("redirect_uri", "http://127.0.0.1:3000/callback/extra")]),
        webapp_auth(&[("redirect_uri", "http://127.0.0.1:3000/CALLBACK")]),
        webapp_auth(&[]).into_iter().filter(|(k, _)| *k != "client_id").collect(),
        webapp_auth(&[]).into_iter().filter(|(k, _)| *k != "redirect_uri").collect(),
    ];
    for q in cases {
        let page = b.authorize(&q).await;
        assert_eq!(page.status, 400, "{q:?}");
        assert!(page.header("location").is_none(), "never redirect: {q:?}");
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
    }
    // A repeated parameter cannot be trusted either.
    let page = b.get("/authorize?client_id=webapp&client_id=evil").await;
    assert_eq!(page.status, 400);
    assert!(page.header("location").is_none());
}

#[tokio::test]
async fn request_errors_go_back_to_the_client_with_state_and_iss() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let spa = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("client_id", "spa"),
            ("redirect_uri", "http://127.0.0.1:5173/callback"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "xyz"),
        ];
        p.extend_from_slice(extra);
        p
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (spa(&[]), "invalid_request"), // public client without PKCE
        (spa(&[("code_challenge", "a".repeat(43).leak()), ("code_challenge_method", "plain")]), "invalid_request"),
        (webapp_auth(&[("scope", "openid phone")]), "invalid_scope"), // known, not the webapp's
        (webapp_auth(&[("response_type", "banana")]), "unsupported_response_type"),
        (webapp_auth(&[("response_type", "code"), ("response_mode", "web_message")]), "invalid_request"),
        (webapp_auth(&[("prompt", "none login")]), "invalid_request"),
        (webapp_auth(&[("prompt", "none")]), "login_required"),
        (webapp_auth(&[("id_token_hint", "not-a-jwt")]), "invalid_request"),
    ];
    for (q, code) in cases {
        let page = b.authorize(&q).await;
        assert_eq!(page.status, 303, "{q:?}: {}", page.body);
        let p = page.redirect_params();
        assert_eq!(p.get("error").map(String::as_str), Some(code), "{q:?}");
        assert_eq!(p.get("iss"), Some(&s.url), "{q:?}");
        let want_state = q.iter().find(|(k, _)| *k == "state").map(|(_, v)| (*v).to_owned());
        assert_eq!(p.get("state").cloned(), want_state, "{q:?}");
    }
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized() {
    let cfg = format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"ccweb\"\nclient_secret = \"x\"\ngrants = [\"client_credentials\"]\nredirect_uris = [\"http://127.0.0.1:9/cb\"]\nscope = \"openid\"\n"
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = b
        .authorize(&[
            ("client_id", "ccweb"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(page.redirect_params().get("error").map(String::as_str), Some("unauthorized_client"));
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    // Sign in through the first-party client (no consent), then ask webapp silently.
    let p = b
        .sign_in(
            &[
                ("client_id", "postapp"),
                ("redirect_uri", "http://127.0.0.1:4000/cb"),
                ("response_type", "code"),
                ("scope", "openid"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    assert!(p.contains_key("code"));
    let page = b.authorize(&webapp_auth(&[("prompt", "none")])).await;
    assert_eq!(page.redirect_params().get("error").map(String::as_str), Some("consent_required"));
}

#[tokio::test]
async fn deny_is_access_denied() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    let consent = b.login(&login, "alice", "alice-password").await;
    let denied = b.consent(&consent, "deny").await;
    let p = denied.redirect_params();
    assert_eq!(p.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(p.get("state").map(String::as_str), Some("st-123"));
    // The interaction is finished: its form cannot be replayed.
    let replay = b.consent(&consent, "approve").await;
    assert_eq!(replay.status, 400);
}

#[tokio::test]
async fn wrong_credentials_reshow_the_form_without_saying_which() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    let wrong_pw = b.login(&login, "alice", "nope").await;
    let no_user = b.login(&login, "mallory", "nope").await;
    let disabled = b.login(&login, "bob", "bob-password").await;
    for page in [&wrong_pw, &no_user, &disabled] {
        assert_eq!(page.status, 401);
        assert!(page.is_login_page());
        assert!(page.body.contains("The username or password is incorrect."));
    }
    // The form still works afterwards.
    let ok = b.login(&wrong_pw, "alice", "alice-password").await;
    assert!(ok.is_consent_page());
}

#[tokio::test]
async fn forms_need_the_csrf_cookie() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let victim = Browser::new(&s.url);
    let login = victim.authorize(&webapp_auth(&[])).await;
    // Another browser (no cookie) replaying the form fields is refused.
    let attacker = Browser::new(&s.url);
    let page = attacker.login(&login, "alice", "alice-password").await;
    assert_eq!(page.status, 403);
    // A wrong csrf value with the right cookie too.
    let i = login.field("interaction").unwrap();
    let page = victim
        .post(
            "/login",
            &[
                ("interaction", &i),
                ("csrf", "x".repeat(43).as_str()),
                ("username", "alice"),
                ("password", "alice-password"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    // Not a form post at all.
    let r =
        victim.http.post(s.url("/login")).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn form_post_response_mode_renders_an_auto_submitting_form() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[("response_mode", "form_post")])).await;
    let consent = b.login(&login, "alice", "alice-password").await;
    let page = b.consent(&consent, "approve").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("action=\"{}\"", WEBAPP_CB.replace('/', "&#x2f;")))
            || page.body.contains(&format!("action=\"{WEBAPP_CB}\"")),
        "{}",
        page.body
    );
    assert!(page.field("code").is_some());
    assert_eq!(page.field("state").as_deref(), Some("st-123"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
}

#[tokio::test]
async fn post_to_authorize_works_like_get() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = b.post("/authorize", &webapp_auth(&[])).await;
    assert!(page.is_login_page(), "{}", page.body);
}

#[tokio::test]
async fn operators_can_replace_templates_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("login.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>ACME sign-in</h1>\
         <form method=\"post\" action=\"{{ base }}/login\"><input type=\"hidden\" name=\"interaction\" value=\"{{ interaction }}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{{ csrf }}\"><input name=\"username\"><input name=\"password\" type=\"password\"></form>{% endblock %}",
    )
    .unwrap();
    std::fs::write(dir.path().join("gatehouse.css"), "body { background: #c0ffee; }").unwrap();
    let cfg = format!("templates = {:?}\n{CONFIG}", dir.path().display().to_string());
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    assert!(login.body.contains("ACME sign-in"), "{}", login.body);
    // The replaced page still works, and untouched templates (consent) are the built-in ones.
    let consent = b.login(&login, "alice", "alice-password").await;
    assert!(consent.is_consent_page());
    assert!(b.get("/assets/gatehouse.css").await.body.contains("#c0ffee"));
}

#[tokio::test]
async fn a_clients_session_ttl_asks_for_a_fresh_sign_in() {
    use gatehouse_protocol::clock::ManualClock;
    let cfg = format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"bank\"\nclient_secret = \"b\"\nscope = \"openid\"\ngrants = [\"authorization_code\"]\n\
         redirect_uris = [\"http://127.0.0.1:9100/cb\"]\nfirst_party = true\nsession_ttl = 60\n"
    );
    let clock = std::sync::Arc::new(ManualClock::new(1_800_000_000));
    let s = TestServer::start_with_clock(&cfg, TestDb::sqlite(), clock.clone()).await.unwrap();
    let b = Browser::new(&s.url);
    b.sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
    let bank = [
        ("client_id", "bank"),
        ("redirect_uri", "http://127.0.0.1:9100/cb"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("prompt", "none"),
    ];
    assert!(b.authorize(&bank).await.redirect_params().contains_key("code"), "a fresh session is fine");
    clock.advance(61);
    assert_eq!(b.authorize(&bank).await.redirect_params().get("error").map(String::as_str), Some("login_required"));
    // Other clients keep using the 61-second-old session.
    assert!(b.authorize(&webapp_auth(&[("prompt", "none")])).await.redirect_params().contains_key("code"));
}

/// Found by the Chromium suite: after a wrong password the page showed `None` in the username
/// field (a missing hint rendered as text), so a person who only retyped the password failed
/// again. The field keeps what was typed; the forms may also hand the code to the client's
/// origin (CSP `form-action` governs the redirect after a form, in a real browser).
#[tokio::test]
async fn a_failed_login_keeps_the_username_and_forms_may_reach_the_client() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = b.authorize(&webapp_auth(&[])).await;
    assert!(!page.body.contains("value=\"None\""));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:3000"), "{csp}");
    let again = b.login(&page, "alice", "wrong").await;
    assert_eq!(again.status, 401);
    assert!(again.body.contains("value=\"alice\""), "the typed username stays");
    let consent = b.login(&again, "alice", "alice-password").await;
    assert!(consent.is_consent_page());
    let csp = consent.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:3000"), "{csp}");
}

/// OIDC Core §3.1.2.1 allows several `prompt` values: every combination of `login`, `consent`
/// and `select_account` ends with a code, showing exactly the pages it asks for, with and
/// without a session (a sign-in earlier in the same interaction satisfies `login` on the
/// consent step; `prompt=login consent` used to loop from consent back to sign-in forever).
#[tokio::test]
async fn every_prompt_combination_ends_with_a_code() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    // Consent for webapp is remembered from here on: a consent page means `prompt=consent`.
    Browser::new(&s.url).sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
    let values = ["login", "consent", "select_account"];
    for mask in 1..8u8 {
        let prompt: Vec<&str> =
            values.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, v)| *v).collect();
        let prompt = prompt.join(" ");
        for signed_in in [false, true] {
            let b = Browser::new(&s.url);
            if signed_in {
                b.sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
            }
            let mut expected = Vec::new();
            if !signed_in || prompt.contains("login") || prompt.contains("select_account") {
                expected.push("login");
            }
            if prompt.contains("consent") {
                expected.push("consent");
            }
            let mut shown = Vec::new();
            let mut page = b.authorize(&webapp_auth(&[("prompt", &prompt)])).await;
            while shown.len() <= expected.len() {
                if page.is_login_page() {
                    shown.push("login");
                    page = b.login(&page, "alice", "alice-password").await;
                } else if page.is_consent_page() {
                    shown.push("consent");
                    page = b.consent(&page, "approve").await;
                } else {
                    break;
                }
            }
            let case = format!("prompt={prompt:?}, signed in: {signed_in}");
            assert_eq!(shown, expected, "{case}");
            assert_eq!(page.status, 303, "{case}: {}", page.body);
            assert!(page.redirect_params().contains_key("code"), "{case}");
        }
    }
    // `none` alone: with a session and consent, straight back with a code.
    let b = Browser::new(&s.url);
    b.sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
    assert!(b.authorize(&webapp_auth(&[("prompt", "none")])).await.redirect_params().contains_key("code"));
}

/// RFC 8252 §7.3: a loopback IP redirect is matched with any port (native apps bind whatever
/// port is free), and the port given is the one used, here and at the token endpoint;
/// everything else about it stays exact.
#[tokio::test]
async fn loopback_redirects_take_any_port() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let moved = "http://127.0.0.1:49152/callback";
    let p = b.sign_in(&webapp_auth(&[("redirect_uri", moved)]), "alice", "alice-password").await;
    let page = b.authorize(&webapp_auth(&[("redirect_uri", moved)])).await;
    assert!(page.header("location").unwrap().starts_with(moved), "sent back to the port given");
    let token = |redirect_uri: &'static str, code: String| {
        let url = format!("{}/token", s.url);
        async move {
            reqwest::Client::new()
                .post(url)
                .basic_auth("webapp", Some("webapp-secret"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", gatehouse_testkit::browser::VERIFIER),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // The token request must repeat the redirect the code was issued to, port included.
    let wrong = token(crate::WEBAPP_CB, p["code"].clone()).await;
    assert_eq!(wrong.status(), 400);
    let second = page.redirect_params()["code"].clone();
    let right = token(moved, second).await;
    assert_eq!(right.status(), 200, "{}", right.text().await.unwrap());
    for refused in [
        "http://127.0.0.1:49152/callback/x",
        "http://127.0.0.2:49152/callback",
        "https://127.0.0.1:49152/callback",
        "http://localhost:49152/callback",
    ] {
        let page = b.authorize(&webapp_auth(&[("redirect_uri", refused)])).await;
        assert_eq!(page.status, 400, "{refused}");
        assert!(page.header("location").is_none(), "{refused}");
    }
}
