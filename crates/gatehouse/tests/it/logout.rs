//! `/end_session` (OpenID Connect RP-Initiated Logout 1.0) over real HTTP.

use crate::{CONFIG, webapp_auth, webapp_tokens};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};

async fn is_signed_in(b: &Browser) -> bool {
    let page = b.authorize(&webapp_auth(&[("prompt", "none")])).await;
    page.redirect_params().contains_key("code")
}

fn q(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[tokio::test]
async fn logout_with_the_sessions_own_id_token_redirects_back_with_state() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let b = Browser::new(&s.url);
        let idt = webapp_tokens(&s, &b, &[]).await["id_token"].as_str().unwrap().to_owned();
        assert!(is_signed_in(&b).await, "{label}");
        let page = b
            .get(&format!(
                "/end_session?{}",
                q(&[
                    ("id_token_hint", &idt),
                    ("post_logout_redirect_uri", "http://127.0.0.1:3000/"),
                    ("state", "bye-1")
                ])
            ))
            .await;
        assert_eq!(page.status, 303, "{label}: {}", page.body);
        assert_eq!(page.header("location"), Some("http://127.0.0.1:3000/?state=bye-1"));
        let cleared = page
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("gh_session=;") && c.contains("Max-Age=0"));
        assert!(cleared, "{label}: the session cookie is cleared");
        assert!(!is_signed_in(&b).await, "{label}: the SSO session has ended");
    }
}

#[tokio::test]
async fn logout_without_a_matching_hint_asks_first() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    webapp_tokens(&s, &b, &[]).await;
    let page = b
        .get(&format!(
            "/end_session?{}",
            q(&[("client_id", "webapp"), ("post_logout_redirect_uri", "http://127.0.0.1:3000/"), ("state", "x")])
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign out?") && page.body.contains("Web App"), "{}", page.body);
    assert!(is_signed_in(&b).await, "nothing happens before the user answers");

    let answer = |decision: &'static str| -> Vec<(&'static str, String)> {
        ["csrf", "client_id", "post_logout_redirect_uri", "state"]
            .into_iter()
            .map(|k| (k, page.field(k).unwrap()))
            .chain([("decision", decision.to_owned())])
            .collect()
    };
    let stay = answer("stay");
    let stay: Vec<(&str, &str)> = stay.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page2 = b.post("/end_session/confirm", &stay).await;
    assert!(page2.body.contains("Still signed in"));
    assert!(is_signed_in(&b).await);

    // A forged confirmation from another site (no CSRF cookie) changes nothing.
    let other = Browser::new(&s.url);
    let forged = other.post("/end_session/confirm", &[("csrf", "x".repeat(43).as_str()), ("decision", "logout")]).await;
    assert_eq!(forged.status, 403);
    // Nor with a CSRF cookie the attacker planted (a sibling subdomain, plain-http injection)
    // and the same value in the form: the form token is an HMAC of the cookie under a server
    // key, which the attacker cannot make (issue 19 §7).
    let planted = "p".repeat(43);
    other.set_cookie(&format!("gh_csrf={planted}"));
    let forged = other.post("/end_session/confirm", &[("csrf", planted.as_str()), ("decision", "logout")]).await;
    assert_eq!(forged.status, 403, "a planted cookie and its copy in the form");

    let out = answer("logout");
    let out: Vec<(&str, &str)> = out.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = b.post("/end_session/confirm", &out).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("http://127.0.0.1:3000/?state=x"));
    assert!(!is_signed_in(&b).await);
}

#[tokio::test]
async fn a_hint_for_another_session_is_not_enough() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let first = Browser::new(&s.url);
    let old_hint = webapp_tokens(&s, &first, &[]).await["id_token"].as_str().unwrap().to_owned();
    let second = Browser::new(&s.url);
    webapp_tokens(&s, &second, &[]).await;
    let page = second.get(&format!("/end_session?{}", q(&[("id_token_hint", &old_hint)]))).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign out?"), "another session's ID token: ask");
    assert!(is_signed_in(&second).await);
}

#[tokio::test]
async fn logout_refusals_never_redirect() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let idt = webapp_tokens(&s, &b, &[]).await["id_token"].as_str().unwrap().to_owned();
    let cases = [
        q(&[("id_token_hint", &idt), ("post_logout_redirect_uri", "https://evil.example/")]),
        q(&[("post_logout_redirect_uri", "http://127.0.0.1:3000/")]),
        q(&[("id_token_hint", &idt), ("client_id", "postapp")]),
        q(&[("id_token_hint", "not.a.token")]),
        q(&[("client_id", "nobody")]),
    ];
    for c in cases {
        let page = b.get(&format!("/end_session?{c}")).await;
        assert_eq!(page.status, 400, "{c}");
        assert!(page.header("location").is_none());
        assert!(is_signed_in(&b).await, "{c}: refused requests end nothing");
    }
}

#[tokio::test]
async fn logout_without_a_session_just_says_so() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = b.get("/end_session").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Signed out"));
    let page = b
        .post("/end_session", &[("client_id", "webapp"), ("post_logout_redirect_uri", "http://127.0.0.1:3000/")])
        .await;
    assert_eq!(page.header("location"), Some("http://127.0.0.1:3000/"));
    let (_, m) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(m["end_session_endpoint"], s.url("/end_session"));
}
