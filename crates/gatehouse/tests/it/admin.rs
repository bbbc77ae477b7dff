//! The admin API over real HTTP on both stores: every operation, its refusals (bad field,
//! unknown id, missing or insufficient token), the audit log, and changes in force at once.

use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// The shared config plus a client that may administer Gatehouse.
pub fn config() -> String {
    format!(
        "{}\n{}",
        crate::CONFIG,
        r#"
[[clients]]
client_id = "ops"
client_secret = "ops-secret"
scope = "gatehouse:admin"
grants = ["client_credentials"]
access_token_signed_response_alg = "ES256"
"#
    )
}

/// An access token granted gatehouse:admin.
pub async fn admin_token(s: &TestServer) -> String {
    let r: Value = s
        .http
        .post(s.url("/token"))
        .basic_auth("ops", Some("ops-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "gatehouse:admin")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().expect("admin token").to_owned()
}

/// A request to the admin API: (status, content type, JSON body or Null).
pub async fn call(s: &TestServer, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, String, Value) {
    let mut req = s.http.request(method.parse().unwrap(), s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = r.text().await.unwrap();
    (status, ct, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn cc_token(s: &TestServer, id: &str, secret: &str, scope: &str) -> reqwest::Response {
    s.http
        .post(s.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_admin_api_wants_a_token_granted_gatehouse_admin() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        // No token.
        let r = s.http.get(s.url("/admin/v1/clients")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer "));
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["status"], 401);
        // A token that is not ours.
        let (st, _, _) = call(&s, "not.a.jwt", "GET", "/admin/v1/clients", None).await;
        assert_eq!(st, 401);
        // A valid token without the scope.
        let t: Value = cc_token(&s, "service", "service-secret", "roles").await.json().await.unwrap();
        let r =
            s.http.get(s.url("/admin/v1/users")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
        // A client without the scope cannot get it.
        assert_eq!(cc_token(&s, "service", "service-secret", "gatehouse:admin").await.status(), 400);

        // With the scope: in. An admin client cannot lock itself out...
        let token = admin_token(&s).await;
        assert_eq!(call(&s, &token, "GET", "/admin/v1/clients", None).await.0, 200);
        let (st, _, _) = call(&s, &token, "PATCH", "/admin/v1/clients/ops", Some(json!({"scope": "openid"}))).await;
        assert_eq!(st, 409);
        assert_eq!(call(&s, &token, "DELETE", "/admin/v1/clients/ops", None).await.0, 409);
        // ...but another can, and taking the scope from a client locks its live tokens out at once.
        let spec = json!({"client_id": "ops2", "scope": "gatehouse:admin", "grants": ["client_credentials"]});
        let (_, _, ops2) = call(&s, &token, "POST", "/admin/v1/clients", Some(spec)).await;
        let t: Value = cc_token(&s, "ops2", ops2["client_secret"].as_str().unwrap(), "gatehouse:admin")
            .await
            .json()
            .await
            .unwrap();
        let token2 = t["access_token"].as_str().unwrap();
        let (st, _, _) = call(&s, token2, "PATCH", "/admin/v1/clients/ops", Some(json!({"scope": "openid"}))).await;
        assert_eq!(st, 200);
        assert_eq!(call(&s, &token, "GET", "/admin/v1/clients", None).await.0, 403);
        assert_eq!(call(&s, token2, "DELETE", "/admin/v1/clients/ops", None).await.0, 204);
        assert_eq!(call(&s, &token, "GET", "/admin/v1/clients", None).await.0, 401, "its client is gone");

        // The OpenAPI document needs no token.
        let (st, doc) = s.get_json("/admin/openapi.json").await.unwrap();
        assert_eq!(st, 200);
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/admin/v1/clients/{client_id}/rotate-secret"]["post"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}

#[tokio::test]
async fn clients_are_created_read_updated_rotated_and_deleted() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;

        // Create: a confidential client gets a generated 256-bit secret, shown once, usable at once.
        let spec = json!({"client_id": "reports", "client_name": "Reports", "scope": "roles",
                          "grants": ["client_credentials"], "access_token_signed_response_alg": "ES256"});
        let (st, _, c) = call(&s, &t, "POST", "/admin/v1/clients", Some(spec.clone())).await;
        assert_eq!(st, 201, "{c}");
        assert_eq!(c["public"], false);
        let secret = c["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 43, "256 bits, base64url");
        assert_eq!(cc_token(&s, "reports", &secret, "roles").await.status(), 200);
        // Read: never the secret.
        let (st, _, c) = call(&s, &t, "GET", "/admin/v1/clients/reports", None).await;
        assert_eq!(st, 200);
        assert!(c.get("client_secret").is_none());
        assert!(!c.to_string().contains("sha256"));
        // Duplicate id.
        let (st, ct, p) = call(&s, &t, "POST", "/admin/v1/clients", Some(spec)).await;
        assert_eq!((st, ct.as_str()), (409, "application/problem+json"), "{p}");

        // Bad fields: every one named, nothing stored.
        let bad = json!({"client_id": "bad", "grants": ["implict"], "redirect_uris": ["/cb"], "scope": "nope"});
        let (st, _, p) = call(&s, &t, "POST", "/admin/v1/clients", Some(bad)).await;
        assert_eq!(st, 400);
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["scope", "grants", "redirect_uris"], "{p}");
        assert_eq!(call(&s, &t, "GET", "/admin/v1/clients/bad", None).await.0, 404);
        let (st, _, p) = call(&s, &t, "POST", "/admin/v1/clients", Some(json!({"client_id": "x", "colour": 1}))).await;
        assert_eq!(st, 400, "unknown fields are refused: {p}");
        let r = s.http.post(s.url("/admin/v1/clients")).bearer_auth(&t).body("client_id=x").send().await.unwrap();
        assert_eq!(r.status(), 415);

        // Merge patch keeps the secret; a bad patch changes nothing.
        let (st, _, c) =
            call(&s, &t, "PATCH", "/admin/v1/clients/reports", Some(json!({"client_name": "Reporting"}))).await;
        assert_eq!(st, 200, "{c}");
        assert_eq!(c["client_name"], "Reporting");
        assert_eq!(cc_token(&s, "reports", &secret, "roles").await.status(), 200);
        let (st, _, _) = call(&s, &t, "PATCH", "/admin/v1/clients/reports", Some(json!({"grants": ["magic"]}))).await;
        assert_eq!(st, 400);
        assert_eq!(call(&s, &t, "GET", "/admin/v1/clients/reports", None).await.2["client_name"], "Reporting");
        // PUT replaces; its client_id must be the path's.
        let (st, _, p) = call(&s, &t, "PUT", "/admin/v1/clients/reports", Some(json!({"client_id": "other"}))).await;
        assert_eq!((st, p["errors"][0]["field"].as_str()), (400, Some("client_id")));

        // Rotate: the old secret stops at once, the new one works.
        let (st, _, c) = call(&s, &t, "POST", "/admin/v1/clients/reports/rotate-secret", None).await;
        assert_eq!(st, 200);
        let new_secret = c["client_secret"].as_str().unwrap();
        assert_eq!(cc_token(&s, "reports", &secret, "roles").await.status(), 401);
        assert_eq!(cc_token(&s, "reports", new_secret, "roles").await.status(), 200);
        // A public client has no secret to rotate.
        assert_eq!(call(&s, &t, "POST", "/admin/v1/clients/spa/rotate-secret", None).await.0, 409);

        // List: paging and search.
        let (st, _, l) = call(&s, &t, "GET", "/admin/v1/clients?limit=3", None).await;
        assert_eq!(st, 200);
        assert_eq!(l["items"].as_array().unwrap().len(), 3);
        let cursor = l["next_cursor"].as_str().unwrap().to_owned();
        let (_, _, l2) = call(&s, &t, "GET", &format!("/admin/v1/clients?limit=3&cursor={cursor}"), None).await;
        assert!(l2["items"][0]["client_id"].as_str().unwrap() > cursor.as_str());
        let (_, _, found) = call(&s, &t, "GET", "/admin/v1/clients?q=REPORTING", None).await;
        let ids: Vec<&str> =
            found["items"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["reports"]);
        assert_eq!(call(&s, &t, "GET", "/admin/v1/clients?limit=0", None).await.0, 400);
        assert_eq!(call(&s, &t, "GET", "/admin/v1/clients?limit=abc", None).await.0, 400);

        // Delete: gone, and its secret no longer works.
        assert_eq!(call(&s, &t, "DELETE", "/admin/v1/clients/reports", None).await.0, 204);
        assert_eq!(call(&s, &t, "GET", "/admin/v1/clients/reports", None).await.0, 404);
        assert_eq!(call(&s, &t, "DELETE", "/admin/v1/clients/reports", None).await.0, 404);
        assert_eq!(cc_token(&s, "reports", new_secret, "roles").await.status(), 401);
    }
}

#[tokio::test]
async fn a_client_created_through_the_api_signs_a_user_in_at_once() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;
        let spec = json!({"client_id": "fresh", "scope": "openid profile", "grants": ["authorization_code"],
                          "redirect_uris": ["http://127.0.0.1:9999/cb"], "token_endpoint_auth_method": "none"});
        let (st, _, c) = call(&s, &t, "POST", "/admin/v1/clients", Some(spec)).await;
        assert_eq!(st, 201);
        assert_eq!(c["public"], true);
        assert!(c.get("client_secret").is_none());
        let b = Browser::new(&s.url);
        let params = [
            ("client_id", "fresh"),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "s1"),
            ("code_challenge", gatehouse_testkit::browser::CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let p = b.sign_in(&params, "alice", "alice-password").await;
        let r = s
            .http
            .post(s.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "fresh"),
                ("code", &p["code"]),
                ("redirect_uri", "http://127.0.0.1:9999/cb"),
                ("code_verifier", gatehouse_testkit::browser::VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let tokens: Value = r.json().await.unwrap();
        let id = crate::verify_jwt(&s, tokens["id_token"].as_str().unwrap(), Some("fresh")).await;
        assert_eq!(id["name"], Value::Null, "profile claims come from userinfo when an access token is issued");
    }
}

async fn password_grant(s: &TestServer, user: &str, pw: &str) -> u16 {
    s.http
        .post(s.url("/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&[("grant_type", "password"), ("username", user), ("password", pw), ("scope", "openid roles")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn users_are_created_updated_disabled_and_deleted() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;
        let (st, _, u) = call(
            &s,
            &t,
            "POST",
            "/admin/v1/users",
            Some(json!({"username": "carol", "password": "carol-pw-1", "claims": {"email": "carol@example.com", "roles": ["ops"]}})),
        )
        .await;
        assert_eq!(st, 201, "{u}");
        let sub = u["sub"].as_str().unwrap().to_owned();
        assert!(!u.to_string().contains("argon2"), "no hash in views");
        assert_eq!(password_grant(&s, "carol", "carol-pw-1").await, 200);
        // Refusals.
        let (st, _, p) =
            call(&s, &t, "POST", "/admin/v1/users", Some(json!({"username": "carol", "password": "x"}))).await;
        assert_eq!(st, 409, "{p}");
        let (st, _, p) = call(
            &s,
            &t,
            "POST",
            "/admin/v1/users",
            Some(json!({"username": "dave", "password": "x", "claims": {"email_verified": "yes"}})),
        )
        .await;
        assert_eq!((st, p["errors"][0]["field"].as_str()), (400, Some("claims")));
        assert_eq!(call(&s, &t, "GET", "/admin/v1/users/nobody", None).await.0, 404);
        // Claims replaced.
        let path = format!("/admin/v1/users/{sub}");
        let (st, _, u) = call(&s, &t, "PATCH", &path, Some(json!({"claims": {"roles": ["admin"]}}))).await;
        assert_eq!((st, &u["claims"]), (200, &json!({"roles": ["admin"]})));
        // Password set: the old one stops working.
        let (st, _, _) =
            call(&s, &t, "PUT", &format!("{path}/password"), Some(json!({"password": "carol-pw-2"}))).await;
        assert_eq!(st, 204);
        assert_eq!(password_grant(&s, "carol", "carol-pw-1").await, 400);
        assert_eq!(password_grant(&s, "carol", "carol-pw-2").await, 200);
        // Disabled: no sign-in; listed as disabled.
        let (st, _, u) = call(&s, &t, "PATCH", &path, Some(json!({"disabled": true}))).await;
        assert_eq!((st, &u["disabled"]), (200, &json!(true)));
        assert_eq!(password_grant(&s, "carol", "carol-pw-2").await, 400);
        let (_, _, l) = call(&s, &t, "GET", "/admin/v1/users?disabled=true", None).await;
        let names: Vec<&str> = l["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["bob", "carol"]);
        let (_, _, l) = call(&s, &t, "GET", "/admin/v1/users?q=example.com", None).await;
        let names: Vec<&str> = l["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["alice"], "search looks in claims");
        // Deleted.
        assert_eq!(call(&s, &t, "DELETE", &path, None).await.0, 204);
        assert_eq!(call(&s, &t, "GET", &path, None).await.0, 404);
    }
}

#[tokio::test]
async fn scopes_take_effect_at_once_and_in_use_ones_cannot_go() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;
        let (st, _, sc) = call(
            &s,
            &t,
            "POST",
            "/admin/v1/scopes",
            Some(json!({"name": "department", "claims": ["department"], "include_in": ["access_token"]})),
        )
        .await;
        assert_eq!(st, 201, "{sc}");
        let (_, disco) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert!(disco["scopes_supported"].as_array().unwrap().contains(&json!("department")));
        assert!(!disco["scopes_supported"].as_array().unwrap().contains(&json!("gatehouse:admin")));
        // A client may now be given it; then the scope cannot be deleted.
        let (st, _, _) =
            call(&s, &t, "PATCH", "/admin/v1/clients/pwapp", Some(json!({"scope": "openid department"}))).await;
        assert_eq!(st, 200);
        let (st, _, p) = call(&s, &t, "DELETE", "/admin/v1/scopes/department", None).await;
        assert_eq!(st, 409);
        assert!(p["detail"].as_str().unwrap().contains("pwapp"));
        // The claim lands in the access token.
        let alice = call(&s, &t, "GET", "/admin/v1/users?q=alice", None).await.2["items"][0]["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        call(&s, &t, "PATCH", &format!("/admin/v1/users/{alice}"), Some(json!({"claims": {"department": "R&D"}})))
            .await;
        let r: Value = s
            .http
            .post(s.url("/token"))
            .basic_auth("pwapp", Some("pwapp-secret"))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "department"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let at = crate::verify_jwt(&s, r["access_token"].as_str().unwrap(), None).await;
        assert_eq!(at["department"], "R&D");
        // Built-in scopes cannot change; unknown ones are 404; bad specs name the field.
        assert_eq!(call(&s, &t, "DELETE", "/admin/v1/scopes/openid", None).await.0, 409);
        assert_eq!(call(&s, &t, "GET", "/admin/v1/scopes/nope", None).await.0, 404);
        let (st, _, p) = call(&s, &t, "POST", "/admin/v1/scopes", Some(json!({"name": "x", "claims": ["sub"]}))).await;
        assert_eq!((st, p["errors"][0]["field"].as_str()), (400, Some("claims")));
        let (st, _, _) = call(&s, &t, "POST", "/admin/v1/scopes", Some(json!({"name": "department"}))).await;
        assert_eq!(st, 409);
        // Unused: deleted, and gone from discovery.
        call(&s, &t, "PATCH", "/admin/v1/clients/pwapp", Some(json!({"scope": "openid"}))).await;
        assert_eq!(call(&s, &t, "DELETE", "/admin/v1/scopes/department", None).await.0, 204);
        let (_, disco) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert!(!disco["scopes_supported"].as_array().unwrap().contains(&json!("department")));
    }
}

#[tokio::test]
async fn sessions_are_listed_and_revoked() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;
        let b = Browser::new(&s.url);
        crate::webapp_tokens(&s, &b, &[]).await;
        let alice = call(&s, &t, "GET", "/admin/v1/users?q=alice", None).await.2["items"][0]["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/admin/v1/users/{alice}/sessions");
        let (st, _, l) = call(&s, &t, "GET", &path, None).await;
        assert_eq!(st, 200);
        let sid = l["items"][0]["sid"].as_str().unwrap().to_owned();
        assert_eq!(l["items"][0]["amr"], json!(["pwd"]));
        assert_eq!(call(&s, &t, "DELETE", &format!("{path}/{sid}"), None).await.0, 204);
        assert_eq!(call(&s, &t, "GET", &path, None).await.2["items"], json!([]));
        assert_eq!(call(&s, &t, "DELETE", &format!("{path}/{sid}"), None).await.0, 404);
        // The browser must sign in again: prompt=none now fails.
        let p = b.authorize(&crate::webapp_auth(&[("prompt", "none")])).await;
        assert_eq!(p.redirect_params().get("error").map(String::as_str), Some("login_required"));
        // Revoke all.
        crate::webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        crate::webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let (st, _, ended) = call(&s, &t, "DELETE", &path, None).await;
        assert_eq!((st, ended["ended"].as_array().unwrap().len()), (200, 2));
        assert_eq!(call(&s, &t, "GET", "/admin/v1/users/nobody/sessions", None).await.0, 404);
    }
}

#[tokio::test]
async fn keys_are_listed_and_rotated() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;
        let (st, _, l) = call(&s, &t, "GET", "/admin/v1/keys", None).await;
        assert_eq!(st, 200);
        assert_eq!(l["items"].as_array().unwrap().len(), 8);
        assert!(!l.to_string().contains("private"));
        let current = |l: &Value| {
            l["items"].as_array().unwrap().iter().find(|k| k["alg"] == "ES256" && k["state"] == "current").unwrap()["kid"]
                .clone()
        };
        let before = current(&l);
        let (st, _, l) = call(&s, &t, "POST", "/admin/v1/keys/rotate?alg=ES256", None).await;
        assert_eq!(st, 200);
        assert_ne!(current(&l), before);
        // Used at once here: a new token is signed with the new key.
        let tok = admin_token(&s).await;
        let h = jsonwebtoken::decode_header(&tok).unwrap();
        assert_eq!(Value::String(h.kid.unwrap()), current(&l));
        let (st, _, p) = call(&s, &tok, "POST", "/admin/v1/keys/rotate?alg=HS256", None).await;
        assert_eq!((st, p["errors"][0]["field"].as_str()), (400, Some("alg")));
    }
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_without_secrets() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let t = admin_token(&s).await;
        let (_, _, c) = call(
            &s,
            &t,
            "POST",
            "/admin/v1/clients",
            Some(json!({"client_id": "audited", "grants": ["client_credentials"], "scope": "roles"})),
        )
        .await;
        let secret = c["client_secret"].as_str().unwrap().to_owned();
        call(&s, &t, "POST", "/admin/v1/clients/audited/rotate-secret", None).await;
        let (_, _, u) =
            call(&s, &t, "POST", "/admin/v1/users", Some(json!({"username": "erin", "password": "erin-secret-pw"})))
                .await;
        let sub = u["sub"].as_str().unwrap();
        call(&s, &t, "PUT", &format!("/admin/v1/users/{sub}/password"), Some(json!({"password": "erin-new-pw"}))).await;
        call(&s, &t, "DELETE", "/admin/v1/clients/audited", None).await;

        // The server's own entries at start (the console's client) are by "bootstrap".
        let (st, _, log) = call(&s, &t, "GET", "/admin/v1/audit?actor=client:ops", None).await;
        assert_eq!(st, 200);
        let actions: Vec<&str> =
            log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            ["client.delete", "user.set_password", "user.create", "client.rotate_secret", "client.create"],
            "newest first"
        );
        for e in log["items"].as_array().unwrap() {
            assert_eq!(e["actor"], "client:ops");
        }
        let text = log.to_string();
        for secret in [secret.as_str(), "erin-secret-pw", "erin-new-pw", "argon2", "sha256:"] {
            assert!(!text.contains(secret), "audit log holds {secret}");
        }
        let (_, _, only) =
            call(&s, &t, "GET", "/admin/v1/audit?action=client.&target=client:audited&limit=2", None).await;
        assert_eq!(only["items"].as_array().unwrap().len(), 2);
        let cursor = only["next_cursor"].as_str().unwrap();
        let (_, _, rest) =
            call(&s, &t, "GET", &format!("/admin/v1/audit?action=client.&target=client:audited&cursor={cursor}"), None)
                .await;
        let actions: Vec<&str> =
            rest["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["client.create"]);
    }
}

/// Two nodes on one store: what one node's admin API changes is in force on the other, clients
/// and users at once (read per request), scopes within `catalog_reload_interval`, keys within
/// `key_reload_interval`.
#[tokio::test]
async fn changes_made_at_one_node_are_in_force_at_another() {
    for db in TestDb::each().await {
        let cfg = format!("catalog_reload_interval = 1\nkey_reload_interval = 1\n{}", config());
        let b = TestServer::start(&cfg, db.shared()).await.unwrap();
        let a = TestServer::start(&cfg, db).await.unwrap();
        let t = admin_token(&a).await;

        let spec = json!({"client_id": "crossing", "scope": "roles", "grants": ["client_credentials"]});
        let (_, _, c) = call(&a, &t, "POST", "/admin/v1/clients", Some(spec)).await;
        assert_eq!(cc_token(&b, "crossing", c["client_secret"].as_str().unwrap(), "roles").await.status(), 200);

        let alice = call(&a, &t, "GET", "/admin/v1/users?q=alice", None).await.2["items"][0]["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        call(&a, &t, "PATCH", &format!("/admin/v1/users/{alice}"), Some(json!({"disabled": true}))).await;
        assert_eq!(password_grant(&b, "alice", "alice-password").await, 400);

        call(&a, &t, "POST", "/admin/v1/scopes", Some(json!({"name": "team", "claims": ["team"]}))).await;
        let (_, _, keys) = call(&a, &t, "POST", "/admin/v1/keys/rotate?alg=EdDSA", None).await;
        let next = keys["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["state"] == "next" && k["alg"] == "EdDSA")
            .unwrap()["kid"]
            .clone();
        // Bounded wait for the other node's reload (1 s intervals).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (_, disco) = b.get_json("/.well-known/openid-configuration").await.unwrap();
            let (_, jwks) = b.get_json("/jwks").await.unwrap();
            let has_scope = disco["scopes_supported"].as_array().unwrap().contains(&json!("team"));
            let has_key = jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == next);
            if has_scope && has_key {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "node B did not pick up the scope and key in time");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        b.stop().await;
    }
}

/// Two nodes on one store behind one issuer (as behind a load balancer, so each accepts the
/// other's tokens), an admin token at A, and a `client_credentials` client `id` created at A with
/// a token issued at B: (B, A, admin token, secret, access token).
async fn two_nodes_and_a_client(cfg: &str, db: TestDb, id: &str) -> (TestServer, TestServer, String, String, String) {
    let issuer = "http://gatehouse.test";
    let b = TestServer::start_node(cfg, db.shared(), issuer).await.unwrap();
    let a = TestServer::start_node(cfg, db, issuer).await.unwrap();
    let t = admin_token(&a).await;
    let spec = json!({"client_id": id, "scope": "roles", "grants": ["client_credentials"]});
    let (_, _, c) = call(&a, &t, "POST", "/admin/v1/clients", Some(spec)).await;
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let token: Value = cc_token(&b, id, &secret, "roles").await.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    (b, a, t, secret, token)
}

/// RFC 7662 `active` for `token`, asked by client `id`.
async fn active(s: &TestServer, id: &str, secret: &str, token: &str) -> Value {
    let req = s.http.post(s.url("/introspect")).basic_auth(id, Some(secret)).form(&[("token", token)]);
    req.send().await.unwrap().json::<Value>().await.unwrap()["active"].clone()
}

/// Clients and revocations are cached for `cache_ttl` seconds: the node that made a change
/// applies it at once, another node on the same store within the TTL.
#[tokio::test]
async fn cached_clients_and_revocations_follow_changes_here_at_once_and_elsewhere_within_cache_ttl() {
    for db in TestDb::each().await {
        let cfg = format!("cache_ttl = 1\n{}", config());
        let (b, a, t, old, token) = two_nodes_and_a_client(&cfg, db, "cached").await;
        // A token both nodes have seen live, revoked at A.
        assert_eq!(active(&a, "cached", &old, &token).await, json!(true));
        assert_eq!(active(&b, "cached", &old, &token).await, json!(true));
        let r = a.http.post(a.url("/revoke")).basic_auth("cached", Some(&old)).form(&[("token", &token)]).send();
        assert_eq!(r.await.unwrap().status(), 200);
        assert_eq!(active(&a, "cached", &old, &token).await, json!(false), "the revoking node at once");

        // A new secret at A: A refuses the old one at once.
        let (_, _, rotated) = call(&a, &t, "POST", "/admin/v1/clients/cached/rotate-secret", None).await;
        let new = rotated["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(cc_token(&a, "cached", &old, "roles").await.status(), 401, "the changing node at once");
        assert_eq!(cc_token(&a, "cached", &new, "roles").await.status(), 200);

        // B follows within cache_ttl (1 s here); bounded wait.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let follows = cc_token(&b, "cached", &new, "roles").await.status() == 200
                && active(&b, "cached", &new, &token).await == json!(false);
            if follows {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "node B still serves the old client or revocation");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(cc_token(&b, "cached", &old, "roles").await.status(), 401);
        b.stop().await;
    }
}

/// On PostgreSQL a change is announced (`NOTIFY`) and every node drops what it cached at once,
/// long before `cache_ttl` or the reload intervals (all 300 s here) would have.
#[tokio::test]
async fn on_postgres_other_nodes_follow_changes_at_once_through_notify() {
    let Some(db) = TestDb::postgres().await else { return };
    let cfg = format!("cache_ttl = 300\ncatalog_reload_interval = 300\nkey_reload_interval = 300\n{}", config());
    let (b, a, t, old, token) = two_nodes_and_a_client(&cfg, db, "notified").await;
    assert_eq!(
        active(&b, "notified", &old, &token).await,
        json!(true),
        "B has the client and the token's state cached"
    );

    let r = a.http.post(a.url("/revoke")).basic_auth("notified", Some(&old)).form(&[("token", &token)]).send();
    assert_eq!(r.await.unwrap().status(), 200);
    let (_, _, rotated) = call(&a, &t, "POST", "/admin/v1/clients/notified/rotate-secret", None).await;
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    call(&a, &t, "POST", "/admin/v1/scopes", Some(json!({"name": "notified_scope", "claims": ["team"]}))).await;
    let (_, _, keys) = call(&a, &t, "POST", "/admin/v1/keys/rotate?alg=EdDSA", None).await;
    let next = keys["items"].as_array().unwrap().iter().find(|k| k["state"] == "next" && k["alg"] == "EdDSA").unwrap()
        ["kid"]
        .clone();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let (_, disco) = b.get_json("/.well-known/openid-configuration").await.unwrap();
        let (_, jwks) = b.get_json("/jwks").await.unwrap();
        let followed = cc_token(&b, "notified", &old, "roles").await.status() == 401
            && active(&b, "notified", &new, &token).await == json!(false)
            && disco["scopes_supported"].as_array().unwrap().contains(&json!("notified_scope"))
            && jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == next);
        if followed {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "node B did not follow the announced changes");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.stop().await;
}
