//! `gatehouse:provision`, the narrow scope behind an application's own sign-up and account
//! forms: creating users and setting their password and claims works; everything beyond it —
//! other admin endpoints, administrators, fields other than username/password/claims, tokens
//! users signed in for — is refused with 403 `insufficient_scope` and changes nothing.

use crate::admin::{admin_token, call};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// The admin test config plus `signup`: a client that may provision users, and sign them in.
fn config() -> String {
    format!(
        "{}\n{}",
        crate::admin::config(),
        r#"
[[clients]]
client_id = "signup"
client_secret = "signup-secret"
scope = "openid profile roles gatehouse:provision"
grants = ["client_credentials", "password"]
"#
    )
}

async fn token(s: &TestServer, scope: &str) -> Value {
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("signup", Some("signup-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn sign_in(s: &TestServer, user: &str, pw: &str) -> u16 {
    let form = [("grant_type", "password"), ("username", user), ("password", pw), ("scope", "openid")];
    let r = s.http.post(s.url("/token")).basic_auth("signup", Some("signup-secret")).form(&form);
    r.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_provisioning_client_creates_users_and_sets_their_password_and_claims() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = token(&s, "gatehouse:provision").await;
        assert_eq!(t["scope"], "gatehouse:provision", "{t}");
        let t = t["access_token"].as_str().unwrap();

        let (status, _, user) = call(
            &s,
            t,
            "POST",
            "/admin/v1/users",
            Some(json!({"username": "carol", "password": "carol-password-1", "claims": {"name": "Carol"}})),
        )
        .await;
        assert_eq!(status, 201, "{user}");
        assert_eq!(user["claims"]["name"], "Carol");
        assert_eq!(user["admin"], false);
        assert_eq!(sign_in(&s, "carol", "carol-password-1").await, 200);
        let sub = user["sub"].as_str().unwrap();

        let path = format!("/admin/v1/users/{sub}");
        let (status, _, user) = call(&s, t, "PATCH", &path, Some(json!({"claims": {"name": "Carol C."}}))).await;
        assert_eq!(status, 200, "{user}");
        assert_eq!(user["claims"]["name"], "Carol C.");

        let pw = format!("{path}/password");
        let (status, _, _) = call(&s, t, "PUT", &pw, Some(json!({"password": "carol-password-2"}))).await;
        assert_eq!(status, 204);
        assert_eq!(sign_in(&s, "carol", "carol-password-1").await, 400);
        assert_eq!(sign_in(&s, "carol", "carol-password-2").await, 200);

        let (status, _, p) =
            call(&s, t, "POST", "/admin/v1/users", Some(json!({"username": "carol", "password": "x-password-3"})))
                .await;
        assert_eq!(status, 409, "a taken username: {p}");

        // The audit log names the provisioning client.
        let admin = admin_token(&s).await;
        let (_, _, log) = call(&s, &admin, "GET", "/admin/v1/audit?limit=10", None).await;
        let entries = log["items"].as_array().unwrap();
        assert!(entries.iter().any(|e| e["action"] == "user.create" && e["actor"] == "client:signup"), "{log}");
        assert!(entries.iter().any(|e| e["action"] == "user.set_password" && e["actor"] == "client:signup"), "{log}");
    }
}

#[tokio::test]
async fn everything_beyond_provisioning_is_refused_and_changes_nothing() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = token(&s, "gatehouse:provision").await["access_token"].as_str().unwrap().to_owned();
        let admin = admin_token(&s).await;
        let (_, _, alice) = call(&s, &admin, "GET", "/admin/v1/users?q=alice", None).await;
        let alice = alice["items"][0]["sub"].as_str().unwrap().to_owned();
        // Make alice an administrator: the one kind of user provisioning must never touch.
        let (status, _, _) =
            call(&s, &admin, "PATCH", &format!("/admin/v1/users/{alice}"), Some(json!({"admin": true}))).await;
        assert_eq!(status, 200);
        let audit_before =
            call(&s, &admin, "GET", "/admin/v1/audit?limit=200", None).await.2["items"].as_array().unwrap().len();

        let refused: Vec<(&str, String, Option<Value>)> = vec![
            // Other endpoints.
            ("GET", "/admin/v1/users".into(), None),
            ("GET", format!("/admin/v1/users/{alice}"), None),
            ("DELETE", format!("/admin/v1/users/{alice}"), None),
            ("DELETE", format!("/admin/v1/users/{alice}/sessions"), None),
            ("GET", "/admin/v1/clients".into(), None),
            (
                "POST",
                "/admin/v1/clients".into(),
                Some(json!({"client_id": "evil", "grants": ["client_credentials"], "scope": "gatehouse:admin"})),
            ),
            ("GET", "/admin/v1/scopes".into(), None),
            ("POST", "/admin/v1/keys/rotate".into(), Some(json!({}))),
            ("GET", "/admin/v1/audit".into(), None),
            // Fields beyond username, password and claims.
            (
                "POST",
                "/admin/v1/users".into(),
                Some(json!({"username": "mallory", "password": "mallory-password", "admin": true})),
            ),
            (
                "POST",
                "/admin/v1/users".into(),
                Some(json!({"username": "mallory", "password": "mallory-password", "sub": "ops"})),
            ),
            (
                "POST",
                "/admin/v1/users".into(),
                Some(
                    json!({"username": "mallory", "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}),
                ),
            ),
            (
                "POST",
                "/admin/v1/users".into(),
                Some(json!({"username": "mallory", "password": "mallory-password", "disabled": true})),
            ),
            // An administrator.
            ("PUT", format!("/admin/v1/users/{alice}/password"), Some(json!({"password": "taken-over-password"}))),
            ("PATCH", format!("/admin/v1/users/{alice}"), Some(json!({"claims": {"name": "Mallory"}}))),
            // Other fields of anyone.
            ("PATCH", format!("/admin/v1/users/{alice}"), Some(json!({"admin": false}))),
        ];
        for (method, path, body) in refused {
            let r = s.http.request(method.parse().unwrap(), s.url(&path)).bearer_auth(&t);
            let r = if let Some(b) = &body { r.json(b) } else { r };
            let r = r.send().await.unwrap();
            let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(r.status(), 403, "{method} {path} {body:?}: {}", r.text().await.unwrap());
            assert!(challenge.unwrap().contains("error=\"insufficient_scope\""), "{method} {path}");
        }

        let (_, _, after) = call(&s, &admin, "GET", &format!("/admin/v1/users/{alice}"), None).await;
        assert_eq!(after["admin"], true);
        assert_eq!(after["claims"]["name"], "Alice Example");
        assert_eq!(sign_in(&s, "alice", "alice-password").await, 200, "alice's password is unchanged");
        let (_, _, users) = call(&s, &admin, "GET", "/admin/v1/users?q=mallory", None).await;
        assert_eq!(users["items"].as_array().unwrap().len(), 0, "{users}");
        let audit_after =
            call(&s, &admin, "GET", "/admin/v1/audit?limit=200", None).await.2["items"].as_array().unwrap().len();
        assert_eq!(audit_after, audit_before, "nothing was written");
    }
}

#[tokio::test]
async fn provisioning_needs_the_scope_on_a_clients_own_token_from_a_client_that_still_holds_it() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let new_user = || Some(json!({"username": "dave", "password": "dave-password-1"}));
    // A token the client asked for without the scope.
    let plain = token(&s, "roles").await;
    let plain = plain["access_token"].as_str().unwrap();
    assert_eq!(call(&s, plain, "POST", "/admin/v1/users", new_user()).await.0, 403);

    // A user's token carrying the scope (password grant): a user never provisions.
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "alice-password"),
        ("scope", "openid gatehouse:provision"),
    ];
    let r: Value = s
        .http
        .post(s.url("/token"))
        .basic_auth("signup", Some("signup-secret"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["scope"].as_str().unwrap().contains("gatehouse:provision"), "{r}");
    let user_token = r["access_token"].as_str().unwrap();
    assert_eq!(call(&s, user_token, "POST", "/admin/v1/users", new_user()).await.0, 403);

    // Another client cannot obtain it.
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("service", Some("service-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "gatehouse:provision")]);
    let v: Value = r.send().await.unwrap().json().await.unwrap();
    assert!(v["error"] == "invalid_scope" || !v["scope"].as_str().unwrap_or("").contains("gatehouse:provision"), "{v}");

    // Taking the scope from the client takes effect at once, even on tokens already issued.
    let t = token(&s, "gatehouse:provision").await["access_token"].as_str().unwrap().to_owned();
    let admin = admin_token(&s).await;
    let (status, _, c) =
        call(&s, &admin, "PATCH", "/admin/v1/clients/signup", Some(json!({"scope": "openid profile roles"}))).await;
    assert_eq!(status, 200, "{c}");
    let (status, _, _) = call(&s, &t, "POST", "/admin/v1/users", new_user()).await;
    assert_eq!(status, 403);

    // Not advertised to relying parties.
    let (_, doc) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert!(!doc["scopes_supported"].as_array().unwrap().iter().any(|v| v == "gatehouse:provision"), "{doc}");
}
