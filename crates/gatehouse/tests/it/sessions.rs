//! `gatehouse-client`'s `AuthClient` and `Session` against a real Gatehouse (issue 20): an
//! application's own sign-in and registration forms, the sessions they start, one refresh
//! however many tasks ask, sign-out by revocation, and a session the provider ended surfacing
//! as `AuthError::SessionEnded`.

use crate::CONFIG;
use crate::metrics::{sample, scrape};
use gatehouse_client::{AuthClient, AuthError, MemoryStore, NewUser, SessionStore, Verifier};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const REFRESHES: &str = "gatehouse_tokens_issued_total{grant_type=\"refresh_token\"}";

/// CONFIG with `pwapp`'s access tokens living 2 s (so a refresh falls due within a test),
/// plus `signup`, which may provision users and sign them in.
fn config() -> String {
    let short = CONFIG.replacen(
        "client_id = \"pwapp\"\nclient_secret = \"pwapp-secret\"\n",
        "client_id = \"pwapp\"\nclient_secret = \"pwapp-secret\"\naccess_token_ttl = 2\n",
        1,
    );
    assert_ne!(short, CONFIG);
    format!(
        "{short}\n[[clients]]\nclient_id = \"signup\"\nclient_secret = \"signup-secret\"\n\
         scope = \"openid profile gatehouse:provision\"\ngrants = [\"client_credentials\", \"password\"]\n"
    )
}

async fn pwapp(s: &TestServer) -> AuthClient {
    AuthClient::builder(&s.url, "pwapp").client_secret("pwapp-secret").discover().await.unwrap()
}

async fn refreshes(s: &TestServer) -> f64 {
    sample(&scrape(s).await, REFRESHES).unwrap_or(0.0)
}

async fn introspect(s: &TestServer, token: &str) -> Value {
    let r = s.http.post(s.url("/introspect")).basic_auth("pwapp", Some("pwapp-secret")).form(&[("token", token)]);
    r.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn sign_in_starts_a_session_with_verified_claims_and_a_working_token() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let client = pwapp(&s).await;
        let session = client.sign_in("alice", "alice-password", "openid profile roles offline_access").await.unwrap();
        // The ID token's claims; profile claims come from userinfo (OIDC Core §5.4).
        let claims = session.claims().await.unwrap();
        assert_eq!(claims["aud"], "pwapp");
        assert_eq!(claims["iss"], s.url.as_str());
        let sub = session.subject().await.unwrap().unwrap();

        let token = session.access_token().await.unwrap();
        let api = Verifier::discover(&s.url, &s.url).await.unwrap();
        let verified = api.verify(&token).await.unwrap();
        assert_eq!(verified.subject, sub);
        assert!(verified.scopes.contains("roles"));

        let info = session.userinfo().await.unwrap();
        assert_eq!(info["sub"], sub.as_str());
        assert_eq!(info["name"], "Alice Example");
        assert!(session.tokens().await.unwrap().refresh_token.is_some());

        for (user, password) in [("alice", "wrong-password"), ("nobody", "alice-password"), ("bob", "bob-password")] {
            let e = client.sign_in(user, password, "openid").await.unwrap_err();
            assert!(matches!(e, AuthError::InvalidCredentials), "{user}: {e:?}");
        }
        let e = client.sign_in("alice", "alice-password", "openid email").await.unwrap_err();
        assert!(matches!(&e, AuthError::Refused { error, .. } if error == "invalid_scope"), "{e:?}");
    }
}

#[tokio::test]
async fn fifty_tasks_asking_at_once_cause_exactly_one_refresh() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let client = pwapp(&s).await;
        let session = client.sign_in("alice", "alice-password", "openid offline_access").await.unwrap();
        let first = session.access_token().await.unwrap();
        // The token lives 2 s: it is due for refresh in its last second.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let before = refreshes(&s).await;

        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let session = session.clone();
                tokio::spawn(async move { session.access_token().await })
            })
            .collect();
        let mut tokens = Vec::new();
        for t in tasks {
            tokens.push(t.await.unwrap().unwrap());
        }
        assert_eq!(refreshes(&s).await - before, 1.0, "one refresh at the provider ({})", s.db.label);
        assert_eq!(client.refreshes(), 1);
        assert!(tokens.iter().all(|t| *t == tokens[0]), "every task got the same new token");
        assert_ne!(tokens[0], first);
        assert_eq!(introspect(&s, &tokens[0]).await["active"], true);

        // The same session found again by id is the same session: no second refresh.
        let again = client.session(session.id()).await.unwrap().unwrap();
        assert_eq!(again.access_token().await.unwrap(), tokens[0]);
        assert_eq!(client.refreshes(), 1);
    }
}

#[tokio::test]
async fn sign_out_revokes_the_tokens_and_ends_the_session() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let client = pwapp(&s).await;
    let session = client.sign_in("alice", "alice-password", "openid offline_access").await.unwrap();
    let tokens = session.tokens().await.unwrap();
    let refresh_token = tokens.refresh_token.clone().unwrap();
    let logout = client.end_session_url(&session, Some("http://127.0.0.1:9/bye")).await.unwrap().unwrap();
    assert!(logout.contains("id_token_hint="), "{logout}");

    client.sign_out(&session).await.unwrap();
    assert_eq!(introspect(&s, &refresh_token).await["active"], false);
    assert_eq!(introspect(&s, &tokens.access_token).await["active"], false);
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())];
    let r = s.http.post(s.url("/token")).basic_auth("pwapp", Some("pwapp-secret")).form(&form);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    assert!(matches!(session.access_token().await, Err(AuthError::SessionEnded)));
    assert!(session.is_ended().await);
    assert!(client.session(session.id()).await.unwrap().is_none(), "gone from the store");
    // Signing out twice is harmless.
    client.sign_out(&session).await.unwrap();
}

#[tokio::test]
async fn a_session_the_provider_ended_surfaces_as_session_ended() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let store = Arc::new(MemoryStore::new());
        let client = AuthClient::builder(&s.url, "pwapp")
            .client_secret("pwapp-secret")
            .store(store.clone())
            .discover()
            .await
            .unwrap();
        let session = client.sign_in("alice", "alice-password", "openid offline_access").await.unwrap();
        let refresh_token = session.tokens().await.unwrap().refresh_token.unwrap();
        // Revoked behind the application's back (an administrator, another device).
        let r =
            s.http.post(s.url("/revoke")).basic_auth("pwapp", Some("pwapp-secret")).form(&[("token", &refresh_token)]);
        assert_eq!(r.send().await.unwrap().status(), 200);
        // The access token still works until it is due; then the refresh is refused.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let e = session.access_token().await.unwrap_err();
        assert!(matches!(e, AuthError::SessionEnded), "{} {e:?}", s.db.label);
        assert!(store.load(session.id()).await.unwrap().is_none(), "removed from the store");
        assert!(matches!(session.claims().await, Err(AuthError::SessionEnded)));
    }
}

#[tokio::test]
async fn a_restarted_application_finds_its_sessions_in_the_store() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let id = {
        let before = AuthClient::builder(&s.url, "pwapp").client_secret("pwapp-secret").store(store.clone());
        let before = before.discover().await.unwrap();
        before.sign_in("alice", "alice-password", "openid offline_access").await.unwrap().id().to_owned()
    };
    let after =
        AuthClient::builder(&s.url, "pwapp").client_secret("pwapp-secret").store(store).discover().await.unwrap();
    let session = after.session(&id).await.unwrap().expect("kept in the store");
    assert!(session.subject().await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let token = session.access_token().await.unwrap();
    assert_eq!(introspect(&s, &token).await["active"], true);
    assert_eq!(after.refreshes(), 1, "the restored session refreshed with its stored refresh token");
    assert!(after.session("no-such-session").await.unwrap().is_none());
}

#[tokio::test]
async fn registration_uses_the_provision_scope_and_nothing_beyond_it() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let signup = AuthClient::builder(&s.url, "signup").client_secret("signup-secret").discover().await.unwrap();
        let mut claims = serde_json::Map::new();
        claims.insert("name".into(), json!("Carol Example"));
        let carol = NewUser { username: "carol".into(), password: "carol-password-1".into(), claims };
        let created = signup.register(&carol).await.unwrap();
        assert_eq!(created.username, "carol");

        let session = signup.sign_in("carol", "carol-password-1", "openid profile").await.unwrap();
        assert_eq!(session.subject().await.unwrap().as_deref(), Some(created.subject.as_str()));
        assert_eq!(session.userinfo().await.unwrap()["name"], "Carol Example");

        let e = signup.register(&carol).await.unwrap_err();
        assert!(matches!(e, AuthError::UsernameTaken), "{e:?}");
        let spaced = NewUser { username: "dave smith".into(), password: "dave-password".into(), ..NewUser::default() };
        let e = signup.register(&spaced).await.unwrap_err();
        assert!(matches!(&e, AuthError::InvalidUser(detail) if detail.contains("username")), "{e:?}");
        let empty = NewUser { username: "dave".into(), ..NewUser::default() };
        let e = signup.register(&empty).await.unwrap_err();
        assert!(matches!(&e, AuthError::InvalidUser(detail) if detail.contains("password")), "{e:?}");

        // A client without the scope cannot register anyone.
        let e = pwapp(&s).await.register(&NewUser { username: "eve".into(), ..spaced.clone() }).await.unwrap_err();
        assert!(matches!(&e, AuthError::Refused { .. }), "{e:?}");
        // Nor can a provisioning token reach beyond users: the admin API's other endpoints.
        let t = s
            .http
            .post(s.url("/token"))
            .basic_auth("signup", Some("signup-secret"))
            .form(&[("grant_type", "client_credentials"), ("scope", "gatehouse:provision")]);
        let t: Value = t.send().await.unwrap().json().await.unwrap();
        let r = s.http.get(s.url("/admin/v1/clients")).bearer_auth(t["access_token"].as_str().unwrap());
        assert_eq!(r.send().await.unwrap().status(), 403);
    }
}

#[tokio::test]
async fn the_code_flow_with_pkce_starts_a_session_and_refuses_a_forged_callback() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let spa = AuthClient::builder(&s.url, "spa").discover().await.unwrap();
    let redirect = "http://127.0.0.1:5173/callback";
    let (url, pending) = spa.authorization_url(redirect, "openid profile offline_access").unwrap();
    let url = url::Url::parse(&url).unwrap();
    assert!(url.query_pairs().any(|(k, v)| k == "code_challenge_method" && v == "S256"));
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let browser = Browser::new(&s.url);
    let answer = browser.sign_in(&params, "alice", "alice-password").await;
    let query = |answer: &std::collections::HashMap<String, String>| {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(answer.iter()).finish()
    };

    // A forged state, and another issuer's response, are refused before the code is spent.
    let mut forged = answer.clone();
    forged.insert("state".into(), "forged".into());
    assert!(matches!(spa.callback(&pending, &query(&forged)).await, Err(AuthError::Callback(_))));
    let mut elsewhere = answer.clone();
    elsewhere.insert("iss".into(), "https://evil.example".into());
    assert!(matches!(spa.callback(&pending, &query(&elsewhere)).await, Err(AuthError::Callback(_))));

    let session = spa.callback(&pending, &query(&answer)).await.unwrap();
    assert_eq!(session.userinfo().await.unwrap()["name"], "Alice Example");
    assert_eq!(session.claims().await.unwrap()["nonce"], pending.nonce.as_str());
    assert!(session.tokens().await.unwrap().refresh_token.is_some());
    // The code is single-use.
    let e = spa.callback(&pending, &query(&answer)).await.unwrap_err();
    assert!(matches!(&e, AuthError::Refused { error, .. } if error == "invalid_grant"), "{e:?}");
    // A denied login is the provider's error.
    let denied = format!("error=access_denied&state={}&iss={}", pending.state, s.url);
    let e = spa.callback(&pending, &denied).await.unwrap_err();
    assert!(matches!(&e, AuthError::Refused { error, .. } if error == "access_denied"), "{e:?}");
}

#[tokio::test]
async fn two_processes_sharing_a_store_adopt_each_others_refresh() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let process = || AuthClient::builder(&s.url, "pwapp").client_secret("pwapp-secret").store(store.clone()).discover();
    let (one, two) = (process().await.unwrap(), process().await.unwrap());
    let id = one.sign_in("alice", "alice-password", "openid offline_access").await.unwrap().id().to_owned();
    let (a, b) = (one.session(&id).await.unwrap().unwrap(), two.session(&id).await.unwrap().unwrap());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = refreshes(&s).await;
    let token = a.access_token().await.unwrap();
    // The second process finds the first's new tokens in the store instead of spending the
    // rotated refresh token again.
    assert_eq!(b.access_token().await.unwrap(), token);
    assert_eq!(refreshes(&s).await - before, 1.0);
    assert_eq!((one.refreshes(), two.refreshes()), (1, 0));
}
