//! OpenID Connect Back-Channel Logout 1.0: a test receiver gets a valid logout token when the
//! session ends, after a failed first delivery is retried.

use crate::{CONFIG, verify_jwt};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Received {
    attempts: usize,
    tokens: Vec<String>,
}

/// A relying party's back-channel endpoint that answers 500 to the first delivery.
async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let got = Arc::new(Mutex::new(Received::default()));
    async fn handle(State(got): State<Arc<Mutex<Received>>>, Form(f): Form<HashMap<String, String>>) -> StatusCode {
        let mut g = got.lock().unwrap();
        g.attempts += 1;
        if g.attempts == 1 {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        g.tokens.push(f.get("logout_token").cloned().unwrap_or_default());
        StatusCode::OK
    }
    let app = axum::Router::new().route("/backchannel", axum::routing::post(handle)).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn ending_a_session_sends_a_logout_token_with_retries() {
    for db in TestDb::each().await {
        let label = db.label;
        let (url, got) = receiver().await;
        let cfg = format!("{CONFIG}\n{}", rp_client(&url));
        let s = TestServer::start(&cfg, db).await.unwrap();
        let (_, m) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(m["backchannel_logout_supported"], true);

        let b = Browser::new(&s.url);
        let t = rp_sign_in(&s, &b).await;
        let id_token = t["id_token"].as_str().unwrap();
        let sid = verify_jwt(&s, id_token, Some("rp")).await["sid"].clone();

        assert_eq!(end_session(&b, id_token).await, 200, "{label}: signed out without waiting for delivery");
        let token = first_token(&got, label).await;
        assert_eq!(got.lock().unwrap().attempts, 2, "{label}: the refused first delivery was retried");
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
        let claims = verify_jwt(&s, &token, Some("rp")).await;
        assert_eq!(claims["sid"], sid, "{label}");
        assert!(claims["sub"].is_string() && claims["jti"].is_string() && claims["iat"].is_i64());
        assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
        assert!(claims.get("nonce").is_none(), "§2.4: a logout token has no nonce");
    }
}

/// A pairwise client (OIDC Core §8) gets its own subject for the user in the logout token, the
/// same as in its ID token, and its ID token still confirms a logout as `id_token_hint`.
#[tokio::test]
async fn a_pairwise_client_gets_its_own_subject_in_the_logout_token() {
    for db in TestDb::each().await {
        let label = db.label;
        let (url, got) = receiver().await;
        let cfg = format!("{CONFIG}\n{}subject_type = \"pairwise\"\n", rp_client(&url));
        let s = TestServer::start(&cfg, db).await.unwrap();
        let b = Browser::new(&s.url);
        let t = rp_sign_in(&s, &b).await;
        let id_token = t["id_token"].as_str().unwrap();
        let sub = verify_jwt(&s, id_token, Some("rp")).await["sub"].clone();
        let public = crate::webapp_tokens(&s, &b, &[]).await;
        let alice = verify_jwt(&s, public["id_token"].as_str().unwrap(), Some("webapp")).await["sub"].clone();
        assert_ne!(sub, alice, "{label}: a pairwise subject");

        assert_eq!(end_session(&b, id_token).await, 200, "{label}: the pairwise hint names this session");
        let claims = verify_jwt(&s, &first_token(&got, label).await, Some("rp")).await;
        assert_eq!(claims["sub"], sub, "{label}: the logout token names the user as the client knows them");
    }
}

/// A registered client's back-channel URI is chosen by whoever registered it: it must be https,
/// and a logout token is never sent to a non-public address, whatever the name resolves to.
/// The operator's own client, in the same session, still gets its token on loopback.
#[tokio::test]
async fn a_registered_client_cannot_aim_logout_tokens_inside_the_network() {
    let (url, got) = receiver().await;
    // Counts every connection made to it: there must be none.
    let inside = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let inside_port = inside.local_addr().unwrap().port();
    let connections = Arc::new(Mutex::new(0usize));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = inside.accept().await {
            *counted.lock().unwrap() += 1;
            drop(socket);
        }
    });
    let cfg = format!("{CONFIG}\n{}\n[registration]\nenabled = true\n", rp_client(&url));
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let register = |backchannel: String| {
        let s = &s;
        async move {
            let body = serde_json::json!({
                "redirect_uris": ["http://127.0.0.1:8800/cb2"], "grant_types": ["authorization_code"],
                "scope": "openid", "backchannel_logout_uri": backchannel,
            });
            let r = s.http.post(s.url("/register")).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, refused) = register(format!("http://127.0.0.1:{inside_port}/bc")).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "invalid_client_metadata");
    assert!(refused["error_description"].as_str().unwrap().contains("backchannel_logout_uri"), "{refused}");
    let (status, registered) = register(format!("https://localhost:{inside_port}/bc")).await;
    assert_eq!(status, 201, "{registered}");
    let registered_id = registered["client_id"].as_str().unwrap().to_owned();

    // One session, both clients in it.
    let b = Browser::new(&s.url);
    let t = rp_sign_in(&s, &b).await;
    b.sign_in(&authorize(&registered_id, "http://127.0.0.1:8800/cb2"), "alice", "alice-password").await;
    assert_eq!(end_session(&b, t["id_token"].as_str().unwrap()).await, 200);

    // The operator's client is told (after its receiver's first refusal and a retry); both
    // deliveries started together, and the guarded one never connects.
    first_token(&got, "the operator's client").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*connections.lock().unwrap(), 0, "nothing was sent inside the network");
}

fn authorize<'a>(client_id: &'a str, redirect_uri: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// The operator's relying party, delivering back-channel logouts to `url`.
fn rp_client(url: &str) -> String {
    format!(
        "[[clients]]\nclient_id = \"rp\"\nclient_secret = \"rp-secret\"\nscope = \"openid\"\ngrants = [\"authorization_code\"]\n\
         redirect_uris = [\"http://127.0.0.1:8800/cb\"]\nfirst_party = true\nbackchannel_logout_uri = \"{url}\"\n\
         backchannel_logout_session_required = true\n"
    )
}

/// Signs alice in to `rp` in browser `b` and redeems the code: the token response.
async fn rp_sign_in(s: &TestServer, b: &Browser) -> Value {
    let p = b.sign_in(&authorize("rp", "http://127.0.0.1:8800/cb"), "alice", "alice-password").await;
    s.http
        .post(s.url("/token"))
        .basic_auth("rp", Some("rp-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", "http://127.0.0.1:8800/cb"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// RP-initiated logout with the ID token as hint (no confirmation page): the page's status.
async fn end_session(b: &Browser, id_token: &str) -> u16 {
    let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("id_token_hint", id_token).finish();
    b.get(&format!("/end_session?{q}")).await.status
}

/// The first logout token `got` receives, within 20 s.
async fn first_token(got: &Mutex<Received>, label: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(t) = got.lock().unwrap().tokens.first().cloned() {
            return t;
        }
        assert!(Instant::now() < deadline, "{label}: no logout token delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
