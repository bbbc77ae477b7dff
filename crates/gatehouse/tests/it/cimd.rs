//! Client ID metadata documents over real HTTP: a client nobody registered signs a user in with
//! code + PKCE, its document fetched once and cached; documents that break the rules, hosts
//! outside the allow-list and a server with the feature off all make it an unknown client.

use crate::CONFIG;
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CALLBACK: &str = "http://127.0.0.1:33418/callback";

/// Serves `doc` (with `{URL}` replaced by its own address) at `/client.json`, counting fetches.
async fn host(doc: Value, cache_control: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/client.json", listener.local_addr().unwrap());
    let body = doc.to_string().replace("{URL}", &url);
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().route(
        "/client.json",
        axum::routing::get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { ([("content-type", "application/json"), ("cache-control", cache_control)], body) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

fn document() -> Value {
    json!({
        "client_id": "{URL}",
        "client_name": "Example Agent",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "scope": "openid offline_access"
    })
}

fn config(cimd: &str) -> String {
    format!("{CONFIG}\n[cimd]\n{cimd}\n")
}

fn authorize_params(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "s"),
    ]
}

#[tokio::test]
async fn a_client_nobody_registered_signs_a_user_in_with_its_metadata_document() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config("enabled = true\nallow_loopback = true"), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["client_id_metadata_document_supported"], true, "{label}");
        let (url, hits) = host(document(), "max-age=600").await;

        let b = Browser::new(&s.url);
        let login = b.authorize(&authorize_params(&url)).await;
        assert!(login.is_login_page(), "{label}: {}", login.body);
        let consent = b.login(&login, "alice", "alice-password").await;
        assert!(consent.is_consent_page(), "{label}: {}", consent.body);
        assert!(
            consent.body.contains("Example Agent (127.0.0.1)"),
            "{label}: the host beside the name: {}",
            consent.body
        );
        let done = b.consent(&consent, "approve").await;
        let code = done.redirect_params()["code"].clone();

        let r = s
            .http
            .post(s.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", url.as_str()),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{label}");
        let t: Value = r.json().await.unwrap();
        let claims = crate::verify_jwt(&s, t["id_token"].as_str().unwrap(), Some(&url)).await;
        assert_eq!(claims["azp"], json!(url));
        let rt = t["refresh_token"].as_str().expect("offline_access was asked");
        let r = s
            .http
            .post(s.url("/token"))
            .form(&[("grant_type", "refresh_token"), ("client_id", url.as_str()), ("refresh_token", rt)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{label}: refresh");
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{label}: fetched once, then cached per max-age");
    }
}

#[tokio::test]
async fn documents_that_break_the_rules_make_no_client() {
    let s = TestServer::start(&config("enabled = true\nallow_loopback = true"), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let mut other = document();
    other["client_id"] = json!("https://someone-else.example.com/client.json");
    let mut secret = document();
    secret["client_secret"] = json!("shh");
    let mut no_redirects = document();
    no_redirects["redirect_uris"] = json!([]);
    for (doc, why) in [(other, "names another URL"), (secret, "holds a secret"), (no_redirects, "no redirect URIs")] {
        let (url, hits) = host(doc, "no-store").await;
        let page = b.authorize(&authorize_params(&url)).await;
        assert_eq!(page.status, 400, "{why}: {}", page.body);
        assert!(!page.is_login_page(), "{why}");
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{why}");
        // The token endpoint says invalid_client.
        let r = s
            .http
            .post(s.url("/token"))
            .form(&[("grant_type", "authorization_code"), ("client_id", url.as_str()), ("code", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{why}");
    }
}

#[tokio::test]
async fn off_by_default_and_bounded_by_the_allow_list() {
    let (url, hits) = host(document(), "max-age=600").await;
    for cimd in ["", "enabled = true", "enabled = true\nallow_loopback = true\nallowed_domains = [\"*.example.com\"]"] {
        let s = TestServer::start(&config(cimd), TestDb::sqlite()).await.unwrap();
        let page = Browser::new(&s.url).authorize(&authorize_params(&url)).await;
        assert_eq!(page.status, 400, "{cimd:?}: {}", page.body);
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta.get("client_id_metadata_document_supported").is_some(), cimd.contains("enabled"), "{cimd:?}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "never fetched: off, http without allow_loopback, or outside the allow-list"
    );
}

#[tokio::test]
async fn the_configuration_is_checked() {
    for bad in ["allowed_domains = [\"https://x.example.com/\"]", "allowed_scopes = \"openid gatehouse:admin\""] {
        let err =
            TestServer::start(&config(bad), TestDb::sqlite()).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("cimd."), "{bad}: {err}");
    }
}
