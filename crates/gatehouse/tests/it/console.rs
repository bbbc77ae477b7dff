//! The admin console at `/admin` over real HTTP: sign-in through Gatehouse (code + PKCE), who
//! gets in, every page, forms with and without their CSRF token, the secret shown once, the
//! audit trail, self-lockout, sign-out and the console's own client. The same flows run in
//! headless Chromium in `interop::admin_console_in_chromium`.

use crate::admin::{admin_token, call};
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// The test config plus an administrator.
pub fn config() -> String {
    format!(
        "{}\n{}",
        crate::admin::config(),
        r#"
[[users]]
username = "root"
password = "root-password"
admin = true
"#
    )
}

fn path_of(s: &TestServer, location: &str) -> String {
    location.strip_prefix(&s.url).unwrap_or(location).to_owned()
}

/// Follows `page`'s redirect, if it has one.
async fn follow(s: &TestServer, b: &Browser, page: Page) -> Page {
    match (page.status, page.header("location")) {
        (301..=303, Some(loc)) => b.get(&path_of(s, loc)).await,
        _ => page,
    }
}

/// Opens `path` in the console, signing in as `username` on the way: the console sends the
/// browser to `/admin/login`, that to `/authorize`, the login form back to `/admin/callback`
/// and that to `path`. Returns the page finally shown.
async fn open_signed_in(s: &TestServer, b: &Browser, path: &str, username: &str, password: &str) -> Page {
    let first = b.get(path).await;
    assert_eq!(first.status, 303, "{path} without a session goes to sign in");
    let to_login = first.header("location").unwrap().to_owned();
    assert!(to_login.contains("/admin/login?return="), "{to_login}");
    let authorize = b.get(&path_of(s, &to_login)).await;
    let authorize_url = authorize.header("location").unwrap().to_owned();
    assert!(
        authorize_url.contains("code_challenge_method=S256") && authorize_url.contains("client_id=gatehouse-console")
    );
    let login = b.get(&path_of(s, &authorize_url)).await;
    assert!(login.is_login_page(), "the sign-in is Gatehouse's own login page");
    let back = b.login(&login, username, password).await;
    assert_eq!(back.status, 303);
    let callback = back.header("location").unwrap().to_owned();
    assert!(callback.starts_with(&s.url("/admin/callback?")), "{callback}");
    let landed = b.get(&path_of(s, &callback)).await;
    assert_eq!(landed.status, 303, "{}", landed.body);
    assert_eq!(landed.header("location"), Some(s.url(path).as_str()), "back where the operator was going");
    b.get(path).await
}

/// The access token the console keeps in its cookie (scoped to `/admin`).
fn console_token(s: &TestServer, b: &Browser) -> Option<String> {
    b.at(&s.url("/admin/")).cookie_values().into_iter().find(|v| v.starts_with("eyJ"))
}

/// The console page's CSRF token (every console page carries one, in its sign-out form).
fn csrf(page: &Page) -> String {
    page.field("csrf").expect("a csrf field")
}

pub async fn sub_of(s: &TestServer, username: &str) -> String {
    let token = admin_token(s).await;
    let (_, _, list) = call(s, &token, "GET", &format!("/admin/v1/users?q={username}"), None).await;
    list["items"].as_array().unwrap().iter().find(|u| u["username"] == username).unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn audit_actions(s: &TestServer) -> Vec<(String, String, String)> {
    let token = admin_token(s).await;
    let (_, _, log) = call(s, &token, "GET", "/admin/v1/audit?limit=200", None).await;
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap().to_owned();
            (f("actor"), f("action"), f("target"))
        })
        .collect()
}

#[tokio::test]
async fn an_administrator_signs_in_and_every_page_renders() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let b = Browser::new(&s.url);
        let home = open_signed_in(&s, &b, "/admin/users", "root", "root-password").await;
        assert_eq!(home.status, 200, "{}", home.body);
        assert!(home.body.contains("Signed in as <strong>root</strong>") && home.body.contains("alice"));
        let alice = sub_of(&s, "alice").await;
        for (path, expect) in [
            ("/admin", "Recent changes"),
            ("/admin/clients", "webapp"),
            ("/admin/clients?q=post", "postapp"),
            ("/admin/clients/new", "Create client"),
            ("/admin/clients/webapp", "127.0.0.1:3000"),
            ("/admin/users/new", "Create user"),
            (&format!("/admin/users/{alice}"), "alice@example.com"),
            ("/admin/scopes", "See which roles you have"),
            ("/admin/keys", "EdDSA"),
            ("/admin/audit", "client.create"),
            ("/admin/audit?action=client.", "client.create"),
        ] {
            let p = b.get(path).await;
            assert_eq!(p.status, 200, "{path}: {}", p.body);
            assert!(p.body.contains(expect), "{path} shows {expect}");
            // A missing value is shown as nothing, never as the word "None" (the Chromium
            // suite found filter fields that said "None" and then filtered by it).
            assert!(!p.body.contains("None"), "{path} renders a missing value as \"None\"");
            let csp = p.header("content-security-policy").unwrap();
            assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{path}: no script at all");
            assert_eq!(p.header("x-frame-options"), Some("DENY"));
        }
        let p = b.get("/admin/clients?q=post").await;
        assert!(!p.body.contains(">webapp<"), "search narrows the list");
        assert_eq!(b.get("/admin/clients/nope").await.status, 404);
        assert_eq!(b.get("/admin/users/nope").await.status, 404);
        let css = b.get("/admin/assets/console.css").await;
        assert_eq!((css.status, css.header("content-type")), (200, Some("text/css; charset=utf-8")));
    }
}

#[tokio::test]
async fn lists_page_through_every_entry() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let token = admin_token(&s).await;
    for i in 0..30 {
        let body = json!({ "client_id": format!("bulk-{i:02}"), "grants": ["client_credentials"] });
        assert_eq!(call(&s, &token, "POST", "/admin/v1/clients", Some(body)).await.0, 201);
    }
    let b = Browser::new(&s.url);
    let mut page = open_signed_in(&s, &b, "/admin/clients?q=bulk", "root", "root-password").await;
    let mut seen = Vec::new();
    loop {
        seen.extend((0..30).filter(|i| page.body.contains(&format!(">bulk-{i:02}<"))));
        let Some(start) = page.body.find("/admin/clients?cursor=") else { break };
        let end = start + page.body[start..].find('"').unwrap();
        page = b.get(&page.body[start..end].replace("&amp;", "&")).await;
    }
    assert_eq!(seen, (0..30).collect::<Vec<_>>(), "two pages, every client once, in order");
}

#[tokio::test]
async fn without_a_session_pages_go_to_sign_in_and_forms_change_nothing() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    for path in ["/admin", "/admin/clients", "/admin/keys", "/admin/audit?actor=x"] {
        let p = b.get(path).await;
        assert_eq!(p.status, 303, "{path}");
        let loc = p.header("location").unwrap();
        let wanted = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
        assert_eq!(loc, s.url(&format!("/admin/login?return={wanted}")));
    }
    let p = b.post("/admin/clients", &[("client_id", "sneaky"), ("csrf", "x")]).await;
    assert_eq!(p.status, 303, "no session: to sign in, nothing done");
    // A forged console cookie is no session either.
    b.set_cookie("gh_console=eyJhbGciOiJub25lIn0.e30.; Path=/admin");
    assert_eq!(b.get("/admin/clients").await.status, 303);

    // Signed in, a form without the page's CSRF token is refused and changes nothing.
    let page = open_signed_in(&s, &b, "/admin/clients/new", "root", "root-password").await;
    let p = b.post("/admin/clients", &[("client_id", "sneaky"), ("grants", "client_credentials")]).await;
    assert_eq!(p.status, 403);
    let p =
        b.post("/admin/clients", &[("client_id", "sneaky"), ("grants", "client_credentials"), ("csrf", "nope")]).await;
    assert_eq!(p.status, 403);
    assert_eq!(call(&s, &admin_token(&s).await, "GET", "/admin/v1/clients/sneaky", None).await.0, 404);
    // The login return path only ever points into the console.
    for evil in ["https://evil.example/", "//evil.example/admin", "/admin/login", "/other"] {
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("return", evil).finish();
        let p = b.get(&format!("/admin/login?{q}")).await;
        let pending = p.header("set-cookie").unwrap();
        assert!(pending.contains("return=%2Fadmin;"), "{evil} becomes /admin: {pending}");
    }
    assert!(csrf(&page).len() >= 32);
}

#[tokio::test]
async fn a_created_client_works_its_secret_is_shown_once_and_the_administrator_is_audited() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let b = Browser::new(&s.url);
        let page = open_signed_in(&s, &b, "/admin/clients/new", "root", "root-password").await;
        let token = csrf(&page);
        let form = [
            ("csrf", token.as_str()),
            ("client_id", "reports"),
            ("client_name", "Reports"),
            ("grants", "client_credentials"),
            ("scope", "roles"),
            ("token_endpoint_auth_method", "client_secret_basic"),
        ];
        let created = b.post("/admin/clients", &form).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(created.body.contains("shown this once"));
        let start = created.body.find("id=\"client-secret\" class=\"secret\">").unwrap() + 34;
        let secret = &created.body[start..start + created.body[start..].find('<').unwrap()];
        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth("reports", Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the secret works at the token endpoint");
        let shown = b.get("/admin/clients/reports").await;
        assert!(!shown.body.contains(secret), "never shown again");

        // Invalid input: every problem named, nothing stored.
        let bad = [("csrf", token.as_str()), ("client_id", "bad"), ("grants", "authorization_code")];
        let refused = b.post("/admin/clients", &bad).await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("redirect_uris"), "{}", refused.body);
        assert_eq!(call(&s, &admin_token(&s).await, "GET", "/admin/v1/clients/bad", None).await.0, 404);

        // Editing, rotating and deleting, each audited under the administrator's name.
        let edit = [
            ("csrf", token.as_str()),
            ("client_name", "Monthly reports"),
            ("grants", "client_credentials"),
            ("scope", "roles"),
            ("token_endpoint_auth_method", "client_secret_basic"),
        ];
        let saved = b.post("/admin/clients/reports", &edit).await;
        assert_eq!(saved.header("location"), Some(s.url("/admin/clients/reports?done=saved").as_str()));
        assert!(b.get("/admin/clients/reports?done=saved").await.body.contains("Monthly reports"));
        // The audit log says what the edit changed, before → after, and links the client.
        let log = b.get("/admin/audit?target=client:reports&action=client.update").await;
        assert!(
            log.body.contains("<code>client_name</code>: <del>Reports</del> → <ins>Monthly reports</ins>"),
            "{}",
            log.body
        );
        assert!(!log.body.contains("<code>scope</code>:"), "an unchanged field is not listed");
        assert!(log.body.contains("/admin/clients/reports\">client:reports</a>"), "{}", log.body);
        let rotated = b.post("/admin/clients/reports/rotate-secret", &[("csrf", &token)]).await;
        assert!(rotated.body.contains("New client secret") && !rotated.body.contains(secret));
        let deleted = b.post("/admin/clients/reports/delete", &[("csrf", &token)]).await;
        assert_eq!(deleted.status, 303);
        let root = format!("user:{}", sub_of(&s, "root").await);
        let log = audit_actions(&s).await;
        for action in ["client.create", "client.update", "client.rotate_secret", "client.delete"] {
            assert!(
                log.iter().any(|(actor, a, target)| *actor == root && a == action && target == "client:reports"),
                "{action} by {root} in {log:?}"
            );
        }
    }
}

#[tokio::test]
async fn users_scopes_sessions_and_keys_are_managed_from_the_console() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = open_signed_in(&s, &b, "/admin/users/new", "root", "root-password").await;
    let token = csrf(&page);
    let created = b
        .post(
            "/admin/users",
            &[("csrf", &token), ("username", "carol"), ("password", "carol-password"), ("email", "carol@example.com")],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let carol = sub_of(&s, "carol").await;

    // carol signs in somewhere; the administrator sees the session and ends it.
    let elsewhere = Browser::new(&s.url);
    elsewhere.sign_in(&crate::webapp_auth(&[]), "carol", "carol-password").await;
    let user_page = b.get(&format!("/admin/users/{carol}")).await;
    let sid = user_page.field("sid").expect("one session listed");
    let ended = b.post(&format!("/admin/users/{carol}/sessions"), &[("csrf", &token), ("sid", &sid)]).await;
    assert_eq!(ended.status, 303);
    assert!(b.get(&format!("/admin/users/{carol}")).await.body.contains("No active session."));
    assert!(elsewhere.authorize(&crate::webapp_auth(&[])).await.is_login_page(), "carol must sign in again");

    // Claims must be a JSON object; a bad one changes nothing.
    let bad =
        b.post(&format!("/admin/users/{carol}"), &[("csrf", &token), ("username", "carol"), ("claims", "[1]")]).await;
    assert_eq!(bad.status, 400);
    let form =
        [("csrf", token.as_str()), ("username", "carol"), ("claims", r#"{"email":"c@example.com"}"#), ("admin", "1")];
    assert_eq!(b.post(&format!("/admin/users/{carol}"), &form).await.status, 303);
    let (_, _, view) = call(&s, &admin_token(&s).await, "GET", &format!("/admin/v1/users/{carol}"), None).await;
    assert_eq!((view["admin"].clone(), view["claims"]["email"].clone()), (json!(true), json!("c@example.com")));
    let pw = b.post(&format!("/admin/users/{carol}/password"), &[("csrf", &token), ("password", "")]).await;
    assert_eq!(pw.status, 400, "an empty password is refused");

    // Scopes: create, use, delete.
    let made = b.post("/admin/scopes", &[("csrf", &token), ("name", "inventory"), ("claims", "inventory")]).await;
    assert_eq!(made.status, 303);
    assert!(b.get("/admin/scopes").await.body.contains("inventory"));
    let builtin = b.post("/admin/scopes/openid/delete", &[("csrf", &token)]).await;
    assert_eq!(builtin.status, 409, "built-in scopes stay");
    assert_eq!(b.post("/admin/scopes/inventory/delete", &[("csrf", &token)]).await.status, 303);

    // Keys: one algorithm rotates, the JWKS shows the new next key at once.
    let before: Value = s.http.get(s.url("/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(b.post("/admin/keys", &[("csrf", &token), ("alg", "ES256")]).await.status, 303);
    let after: Value = s.http.get(s.url("/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["keys"].as_array().unwrap().len(), before["keys"].as_array().unwrap().len() + 1);
    assert_eq!(b.post("/admin/keys", &[("csrf", &token), ("alg", "HS256")]).await.status, 400);

    assert_eq!(b.post(&format!("/admin/users/{carol}/delete"), &[("csrf", &token)]).await.status, 303);
    assert_eq!(call(&s, &admin_token(&s).await, "GET", &format!("/admin/v1/users/{carol}"), None).await.0, 404);
}

#[tokio::test]
async fn only_administrators_get_in_and_losing_it_takes_effect_at_once() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let denied = open_signed_in(&s, &b, "/admin/clients", "alice", "alice-password").await;
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("Not an administrator"));
    // Her console token carries gatehouse:admin (the console's client may ask for it), and
    // still opens nothing at the admin API: she is not an administrator.
    let token = console_token(&s, &b).expect("the console's token");
    let (status, _, body) = call(&s, &token, "GET", "/admin/v1/clients", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("not an administrator"));

    // Made an administrator, the same session gets in; taken away, it is out again.
    let ops = admin_token(&s).await;
    let alice = sub_of(&s, "alice").await;
    let path = format!("/admin/v1/users/{alice}");
    assert_eq!(call(&s, &ops, "PATCH", &path, Some(json!({ "admin": true }))).await.0, 200);
    assert_eq!(b.get("/admin/clients").await.status, 200);
    assert_eq!(call(&s, &token, "GET", "/admin/v1/clients", None).await.0, 200);
    assert_eq!(call(&s, &ops, "PATCH", &path, Some(json!({ "admin": false }))).await.0, 200);
    assert_eq!(b.get("/admin/clients").await.status, 403);
    // Disabled: the session is over.
    assert_eq!(call(&s, &ops, "PATCH", &path, Some(json!({ "admin": true, "disabled": true }))).await.0, 200);
    assert_eq!(b.get("/admin/clients").await.status, 303);
}

#[tokio::test]
async fn an_administrator_cannot_lock_themselves_out() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = open_signed_in(&s, &b, "/admin", "root", "root-password").await;
    let token = csrf(&page);
    let root = sub_of(&s, "root").await;
    let path = format!("/admin/users/{root}");
    let demote = b.post(&path, &[("csrf", &token), ("username", "root"), ("claims", "{}")]).await;
    assert_eq!(demote.status, 409, "no admin box: would demote themselves");
    let disable = b
        .post(&path, &[("csrf", &token), ("username", "root"), ("claims", "{}"), ("admin", "1"), ("disabled", "1")])
        .await;
    assert_eq!(disable.status, 409);
    assert_eq!(b.post(&format!("{path}/delete"), &[("csrf", &token)]).await.status, 409);
    let (_, _, view) = call(&s, &admin_token(&s).await, "GET", &format!("/admin/v1/users/{root}"), None).await;
    assert_eq!((view["admin"].clone(), view["disabled"].clone()), (json!(true), json!(false)));
    assert_eq!(b.get("/admin").await.status, 200);
}

#[tokio::test]
async fn the_callback_accepts_only_the_sign_in_it_started() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    // No sign-in pending: back to the console's start.
    let p = b.get("/admin/callback?code=abc&state=xyz").await;
    assert_eq!((p.status, p.header("location")), (303, Some(s.url("/admin").as_str())));
    // A pending sign-in, another state (a login CSRF attempt): refused.
    b.get("/admin/login").await;
    let p = b.get("/admin/callback?code=abc&state=not-mine").await;
    assert_eq!(p.status, 400);
    // The user refused, or the server answered with an error: shown, no session.
    let started = b.get("/admin/login").await;
    let state = url::Url::parse(started.header("location").unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let p = b.get(&format!("/admin/callback?error=access_denied&state={state}")).await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("access_denied"));
    assert_eq!(b.get("/admin").await.status, 303);
    // A code that is not real: refused after the state matched.
    let started = b.get("/admin/login").await;
    let loc = started.header("location").unwrap().to_owned();
    let state = url::Url::parse(&loc).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let p = b.get(&format!("/admin/callback?code=forged&state={state}")).await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("invalid_grant"));
}

#[tokio::test]
async fn signing_out_revokes_the_console_token() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let page = open_signed_in(&s, &b, "/admin", "root", "root-password").await;
    let token = console_token(&s, &b).unwrap();
    assert_eq!(call(&s, &token, "GET", "/admin/v1/clients", None).await.0, 200);
    assert_eq!(b.post("/admin/logout", &[("csrf", "wrong")]).await.status, 403);
    let out = b.post("/admin/logout", &[("csrf", &csrf(&page))]).await;
    assert_eq!(out.header("location"), Some(s.url("/end_session?client_id=gatehouse-console").as_str()));
    assert!(out.header("set-cookie").unwrap().starts_with("gh_console=;"));
    assert_eq!(call(&s, &token, "GET", "/admin/v1/clients", None).await.0, 401, "revoked");
    let confirm = follow(&s, &b, out).await;
    assert!(confirm.body.contains("Sign out"), "Gatehouse asks to end its own session too");
}

#[tokio::test]
async fn the_console_client_is_kept_as_it_must_be_and_can_be_turned_off() {
    let db = TestDb::sqlite();
    let s = TestServer::start(&config(), db).await.unwrap();
    let ops = admin_token(&s).await;
    let (_, _, c) = call(&s, &ops, "GET", "/admin/v1/clients/gatehouse-console", None).await;
    assert_eq!(c["redirect_uris"], json!([s.url("/admin/callback")]));
    assert_eq!((c["token_endpoint_auth_method"].clone(), c["require_pkce"].clone()), (json!("none"), json!(true)));
    let patch = json!({ "redirect_uris": ["https://evil.example/cb"] });
    assert_eq!(call(&s, &ops, "PATCH", "/admin/v1/clients/gatehouse-console", Some(patch)).await.0, 200);
    let db = s.stop().await;
    let s = TestServer::start(&config(), db).await.unwrap();
    let (_, _, c) = call(&s, &admin_token(&s).await, "GET", "/admin/v1/clients/gatehouse-console", None).await;
    assert_eq!(c["redirect_uris"], json!([s.url("/admin/callback")]), "restored at start");

    // The console's client does not count as an admin client: a store with no other still
    // gets the bootstrap client.
    let empty = TestServer::start("", TestDb::sqlite()).await.unwrap();
    let store = gatehouse_store::SqlStore::connect(&empty.db.url).await.unwrap();
    let created = gatehouse_core::admin::bootstrap(&store, 0).await.unwrap();
    assert!(created.is_some(), "gatehouse-admin is created beside gatehouse-console");

    let off = TestServer::start(&format!("[console]\nenabled = false\n{}", config()), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&off.url);
    assert_eq!(b.get("/admin").await.status, 404);
    assert_eq!(b.get("/admin/login").await.status, 404);
    assert_eq!(call(&off, &admin_token(&off).await, "GET", "/admin/v1/clients", None).await.0, 200, "the API stays");
}

/// The number an overview tile shows under `label`.
fn stat(home: &Page, label: &str) -> i64 {
    let at = home.body.find(&format!("<dt>{label}</dt>")).unwrap_or_else(|| panic!("{label} in {}", home.body));
    let rest = &home.body[at..];
    let dd = &rest[rest.find("<dd").unwrap()..];
    let text: String = dd[dd.find('>').unwrap() + 1..].chars().take_while(|c| *c != '<').collect();
    let text = if text.is_empty() {
        // Linked: <dd><a href=...>N</a></dd>
        let a = &dd[dd.find("<a").unwrap()..];
        a[a.find('>').unwrap() + 1..].chars().take_while(|c| *c != '<').collect()
    } else {
        text
    };
    text.trim().parse().unwrap_or_else(|_| panic!("{label}: {text:?}"))
}

#[tokio::test]
async fn the_overview_counts_clients_users_sessions_and_the_last_day() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        // A failed sign-in on the console's way in, from another browser.
        let other = Browser::new(&s.url);
        let to_login = other.get("/admin").await.header("location").unwrap().to_owned();
        let authorize = other.get(&path_of(&s, &to_login)).await.header("location").unwrap().to_owned();
        let login = other.get(&path_of(&s, &authorize)).await;
        let refused = other.login(&login, "root", "wrong-password").await;
        assert!(refused.is_login_page() || refused.status == 401, "{}", refused.status);
        // A token for the admin API, then the administrator's own sign-in (its code exchanged).
        let token = admin_token(&s).await;
        let b = Browser::new(&s.url);
        let home = open_signed_in(&s, &b, "/admin", "root", "root-password").await;

        let count = |path: &'static str| {
            let (s, token) = (&s, token.clone());
            async move { call(s, &token, "GET", path, None).await.2["items"].as_array().unwrap().len() as i64 }
        };
        assert_eq!(stat(&home, "Clients"), count("/admin/v1/clients?limit=100").await);
        assert_eq!(stat(&home, "Users"), count("/admin/v1/users?limit=100").await);
        assert_eq!(stat(&home, "Active sessions"), 1, "root's; the failed sign-in made none");
        assert_eq!(stat(&home, "Sign-ins, last 24 h"), 1);
        assert_eq!(stat(&home, "Failed sign-ins, last 24 h"), 1);
        assert_eq!(stat(&home, "Tokens issued, last 24 h"), 2, "the admin API's and the console's");
        assert!(home.body.contains("class=\"warn\">1</dd>"), "failures stand out");
    }
}

/// A user's second factors on their console page, and an administrator removing them (a lost
/// phone): listed without secrets, reset, audited as the administrator's.
#[tokio::test]
async fn an_administrator_sees_and_resets_a_users_second_factors() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let s = TestServer::start(&config(), db).await.unwrap();
    let b = Browser::new(&s.url);
    let page = open_signed_in(&s, &b, "/admin/users", "root", "root-password").await;
    let token = csrf(&page);
    let alice = sub_of(&s, "alice").await;
    let store = gatehouse_store::SqlStore::connect(&url).await.unwrap();
    let factor = gatehouse_store::Factor {
        id: "f-alice".into(),
        sub: alice.clone(),
        kind: gatehouse_store::FactorKind::Totp,
        name: "Alice's phone".into(),
        secret: "sealed-secret".into(),
        last_step: None,
        created_at: 1_900_000_000,
        last_used_at: None,
    };
    gatehouse_store::FactorStore::insert_factor(&store, &factor).await.unwrap();
    let user_page = b.get(&format!("/admin/users/{alice}")).await;
    assert!(
        user_page.body.contains("Alice&#x27;s phone") || user_page.body.contains("Alice's phone"),
        "{}",
        user_page.body
    );
    assert!(user_page.body.contains("Authenticator app") && !user_page.body.contains("sealed-secret"));
    let no_csrf = b.post(&format!("/admin/users/{alice}/factors/reset"), &[]).await;
    assert_eq!(no_csrf.status, 403);
    assert_eq!(gatehouse_store::FactorStore::list_factors(&store, &alice).await.unwrap().len(), 1, "unchanged");
    let reset = b.post(&format!("/admin/users/{alice}/factors/reset"), &[("csrf", &token)]).await;
    assert_eq!(reset.status, 303, "{}", reset.body);
    let after = b.get(&path_of(&s, reset.header("location").unwrap())).await;
    assert!(after.body.contains("The second factors were removed.") && after.body.contains("No second factor."));
    assert!(gatehouse_store::FactorStore::list_factors(&store, &alice).await.unwrap().is_empty());
    let log = b.get(&format!("/admin/audit?target=user:{alice}&action=factor.reset")).await;
    assert!(log.body.contains("factor.reset"), "{}", log.body);
    store.close().await;
}

#[tokio::test]
async fn an_administrator_sees_and_removes_a_users_linked_identities() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let s = TestServer::start(&config(), db).await.unwrap();
    let b = Browser::new(&s.url);
    let page = open_signed_in(&s, &b, "/admin/users", "root", "root-password").await;
    let token = csrf(&page);
    let alice = sub_of(&s, "alice").await;
    let store = gatehouse_store::SqlStore::connect(&url).await.unwrap();
    let link = gatehouse_store::UpstreamLink {
        provider: "corp".into(),
        subject: "248289761001".into(),
        sub: alice.clone(),
        email: Some("alice@corp.example".into()),
        created_at: 1_900_000_000,
        last_used_at: None,
    };
    gatehouse_store::UpstreamStore::insert_link(&store, &link).await.unwrap();
    let user_page = b.get(&format!("/admin/users/{alice}")).await;
    assert!(
        user_page.body.contains("248289761001") && user_page.body.contains("alice@corp.example"),
        "{}",
        user_page.body
    );
    let fields = [("csrf", token.as_str()), ("provider", "corp"), ("subject", "248289761001")];
    assert_eq!(b.post(&format!("/admin/users/{alice}/links/remove"), &fields[1..]).await.status, 403);
    let removed = b.post(&format!("/admin/users/{alice}/links/remove"), &fields).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let after = b.get(&path_of(&s, removed.header("location").unwrap())).await;
    assert!(
        after.body.contains("The linked identity was removed.") && after.body.contains("No identity at an upstream")
    );
    assert!(gatehouse_store::UpstreamStore::list_links(&store, &alice).await.unwrap().is_empty());
    let again = b.post(&format!("/admin/users/{alice}/links/remove"), &fields).await;
    assert!(again.status >= 300, "{}", again.status);
    let log = b.get(&format!("/admin/audit?target=user:{alice}&action=upstream.unlink")).await;
    assert!(log.body.contains("upstream.unlink"), "{}", log.body);
    store.close().await;
}
