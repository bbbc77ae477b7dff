//! Implicit and hybrid flows (OIDC Core §3.2, §3.3; OAuth 2.0 Multiple Response Types).

use crate::{CONFIG, verify_jwt};
use base64::Engine;
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};

/// OIDC Core §3.3.2.11: base64url of the left half of SHA-256 (ES256/RS256).
fn half_hash(v: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, v.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

fn params<'a>(
    client: &'a str,
    redirect: &'a str,
    rt: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", client),
        ("redirect_uri", redirect),
        ("response_type", rt),
        ("scope", "openid profile email"),
        ("state", "st"),
        ("nonce", "nonce-1"),
    ];
    for (k, v) in extra {
        p.retain(|(kk, _)| kk != k);
        p.push((k, v));
    }
    p
}

#[tokio::test]
async fn every_response_type_with_hashes_verified() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let b = Browser::new(&s.url);
        let cases = [
            ("implicit-app", "http://127.0.0.1:6000/cb", "id_token"),
            ("implicit-app", "http://127.0.0.1:6000/cb", "id_token token"),
            ("implicit-app", "http://127.0.0.1:6000/cb", "token"),
            ("hybrid-app", "http://127.0.0.1:7000/cb", "code id_token"),
            ("hybrid-app", "http://127.0.0.1:7000/cb", "code token"),
            ("hybrid-app", "http://127.0.0.1:7000/cb", "code id_token token"),
        ];
        for ((client, redirect, rt), mode) in cases.iter().flat_map(|c| [(*c, "fragment"), (*c, "form_post")]) {
            let extra: &[(&str, &str)] = if mode == "form_post" { &[("response_mode", "form_post")] } else { &[] };
            let page = b.authorize(&params(client, redirect, rt, extra)).await;
            let page = if page.is_login_page() { b.login(&page, "alice", "alice-password").await } else { page };
            let p: std::collections::HashMap<String, String> = if mode == "form_post" {
                assert_eq!(page.status, 200, "{label} {rt} form_post: {}", page.body);
                ["code", "access_token", "token_type", "id_token", "state", "iss"]
                    .into_iter()
                    .filter_map(|k| page.field(k).map(|v| (k.to_owned(), v)))
                    .collect()
            } else {
                assert_eq!(page.status, 303, "{label} {rt}: {}", page.body);
                let loc = page.header("location").unwrap();
                assert!(loc.starts_with(&format!("{redirect}#")), "{label} {rt}: fragment by default: {loc}");
                page.redirect_params()
            };
            assert_eq!(p["state"], "st");
            assert_eq!(p["iss"], s.url, "{label} {rt} {mode}");
            assert!(!p.contains_key("refresh_token"), "never from the authorization endpoint");
            let has = |w: &str| rt.split(' ').any(|x| x == w);
            assert_eq!(p.contains_key("code"), has("code"), "{rt}");
            assert_eq!(p.contains_key("access_token"), has("token"), "{rt}");
            if p.contains_key("access_token") {
                assert_eq!(p["token_type"], "Bearer");
                verify_jwt(&s, &p["access_token"], Some(&s.url)).await;
            }
            if has("id_token") {
                let idt = verify_jwt(&s, &p["id_token"], Some(client)).await;
                assert_eq!(idt["nonce"], "nonce-1", "{rt}");
                match p.get("access_token") {
                    Some(at) => assert_eq!(idt["at_hash"], half_hash(at), "{rt}"),
                    None => {
                        assert!(idt.get("at_hash").is_none());
                        // OIDC Core §5.4: no access token, so the scope's claims are in the ID token.
                        assert_eq!(idt["email"], "alice@example.com", "{rt}");
                    }
                }
                match p.get("code") {
                    Some(c) => assert_eq!(idt["c_hash"], half_hash(c), "{rt}"),
                    None => assert!(idt.get("c_hash").is_none()),
                }
            }
        }
    }
}

#[tokio::test]
async fn hybrid_code_is_redeemable_and_form_post_works() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let q = params(
        "hybrid-app",
        "http://127.0.0.1:7000/cb",
        "code id_token",
        &[("scope", "openid offline_access"), ("response_mode", "form_post")],
    );
    let login = b.authorize(&q).await;
    let page = b.login(&login, "alice", "alice-password").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let code = page.field("code").unwrap();
    assert!(page.field("id_token").is_some());
    let r: serde_json::Value = s
        .http
        .post(s.url("/token"))
        .basic_auth("hybrid-app", Some("hybrid-secret"))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "http://127.0.0.1:7000/cb")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["refresh_token"].is_string(), "offline_access kept for hybrid: {r}");
    let idt = verify_jwt(&s, r["id_token"].as_str().unwrap(), Some("hybrid-app")).await;
    assert_eq!(idt["nonce"], "nonce-1");
}

#[tokio::test]
async fn refusals_go_back_in_the_fragment() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        // Missing nonce.
        (
            params("implicit-app", "http://127.0.0.1:6000/cb", "id_token", &[])
                .into_iter()
                .filter(|(k, _)| *k != "nonce")
                .collect(),
            "invalid_request",
        ),
        // Tokens in the query.
        (
            params("implicit-app", "http://127.0.0.1:6000/cb", "id_token token", &[("response_mode", "query")]),
            "invalid_request",
        ),
        // Hybrid for an implicit-only client.
        (params("implicit-app", "http://127.0.0.1:6000/cb", "code id_token", &[]), "unauthorized_client"),
        // Implicit for a code-only client.
        (params("webapp", "http://127.0.0.1:3000/callback", "id_token", &[]), "unauthorized_client"),
        // An ID token without openid.
        (params("implicit-app", "http://127.0.0.1:6000/cb", "id_token", &[("scope", "profile")]), "invalid_scope"),
    ];
    for (q, code) in cases {
        let page = b.authorize(&q).await;
        assert_eq!(page.status, 303, "{q:?}");
        let loc = page.header("location").unwrap();
        assert!(loc.contains('#'), "errors for token response types use the fragment: {loc}");
        assert_eq!(page.redirect_params().get("error").map(String::as_str), Some(code), "{q:?}");
    }
}

#[tokio::test]
async fn discovery_lists_exactly_the_response_types_and_modes() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let (_, m) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    let rts: Vec<&str> =
        m["response_types_supported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        rts,
        ["code", "id_token", "id_token token", "token", "code id_token", "code token", "code id_token token"]
    );
    assert_eq!(
        m["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"])
    );
    assert!(m["grant_types_supported"].as_array().unwrap().contains(&"implicit".into()));
}
