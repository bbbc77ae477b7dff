//! Signing in with an upstream provider (`[[upstreams]]`), over real HTTP on both stores: a
//! second Gatehouse is the upstream OpenID provider (client secret and `private_key_jwt`); a
//! mock in this file is a GitHub-style OAuth 2.0 provider and, for what a real provider never
//! does (a wrong nonce, a foreign issuer, a bad signature), a misbehaving OpenID provider.

use crate::{WEBAPP_CB, verify_jwt, webapp_auth};
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// The upstream Gatehouse: its users and the clients the downstream one uses there. Loopback
/// redirect URIs match any port (RFC 8252 §7.3), so they can be registered before the
/// downstream server's port is known.
const UPSTREAM: &str = r#"
[fetch]
allow_loopback = true

[[clients]]
client_id = "ops"
client_secret = "ops-secret"
scope = "gatehouse:admin"
grants = ["client_credentials"]

[[clients]]
client_id = "downstream"
client_secret = "downstream-secret"
scope = "openid profile email"
grants = ["authorization_code"]
redirect_uris = ["http://127.0.0.1/login/upstream/corp/callback"]
first_party = true

[[users]]
username = "alice"
password = "alice-upstream"
[users.claims]
name = "Alice Upstream"
email = "alice@example.com"
email_verified = true

[[users]]
username = "newbie"
password = "newbie-upstream"
[users.claims]
preferred_username = "newbie"
name = "New Bie"
email = "newbie@example.com"
email_verified = true

[[users]]
username = "mallory"
password = "mallory-upstream"
[users.claims]
name = "Mallory"
email = "carol@example.com"
email_verified = false

[[users]]
username = "namesake"
password = "namesake-upstream"
[users.claims]
preferred_username = "carol"
email = "namesake@example.com"
email_verified = true
"#;

/// The downstream Gatehouse: the shared config (alice with a password) plus carol, and the
/// upstream provider.
fn downstream(upstream: &str, extra: &str) -> String {
    format!(
        r#"{base}
[fetch]
allow_loopback = true

[[clients]]
client_id = "ops"
client_secret = "ops-secret"
scope = "gatehouse:admin"
grants = ["client_credentials"]

[[users]]
username = "carol"
password = "carol-password"
[users.claims]
email = "carol@example.com"
email_verified = true

[[upstreams]]
id = "corp"
label = "Corp"
issuer = "{upstream}"
client_id = "downstream"
client_secret = "downstream-secret"
link_by_email = true
{extra}"#,
        base = crate::CONFIG
    )
}

/// The path and query of an absolute URL.
pub(crate) fn path_of(location: &str) -> String {
    if location.starts_with('/') {
        return location.to_owned();
    }
    let u = url::Url::parse(location).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

/// The sign-in page's link to provider `id`.
pub(crate) fn provider_link(login: &Page, id: &str) -> String {
    let needle = format!("/login/upstream/{id}?interaction=");
    let start = login.body.find(&needle).unwrap_or_else(|| panic!("no {id} button:\n{}", login.body));
    let end = login.body[start..].find('"').unwrap() + start;
    login.body[start..end].replace("&amp;", "&")
}

/// From the downstream sign-in page, through the upstream Gatehouse's sign-in as `username`, to
/// the downstream callback's answer.
async fn through_upstream(b: &Browser, up: &Browser, login: &Page, id: &str, username: &str, password: &str) -> Page {
    let out = b.get(&provider_link(login, id)).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let to = out.header("location").unwrap().to_owned();
    let q: std::collections::HashMap<String, String> =
        url::Url::parse(&to).unwrap().query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 20, "{to}");
    let callback = upstream_answer(up, &to, username, password).await;
    assert!(callback.contains(&format!("/login/upstream/{id}/callback?")), "{callback}");
    b.get(&path_of(&callback)).await
}

/// At the upstream Gatehouse: its sign-in as `username` (unless its session is there already);
/// the URL it sends the browser back to.
async fn upstream_answer(up: &Browser, to: &str, username: &str, password: &str) -> String {
    let page = up.get(&path_of(to)).await;
    let back = if page.is_login_page() { up.login(&page, username, password).await } else { page };
    assert_eq!(back.status, 303, "{}", back.body);
    back.header("location").unwrap().to_owned()
}

/// The downstream webapp's token response after `page` (its consent page, approved, or the
/// redirect to the webapp's callback).
pub(crate) async fn webapp_tokens_after(s: &TestServer, b: &Browser, page: &Page) -> Value {
    let approved;
    let page = if page.is_consent_page() {
        approved = b.consent(page, "approve").await;
        &approved
    } else {
        page
    };
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.header("location").unwrap();
    assert!(location.starts_with(WEBAPP_CB), "{location}");
    let code = page.redirect_params()["code"].clone();
    crate::second_factor::redeem(s, ("webapp", "webapp-secret"), WEBAPP_CB, &code).await
}

/// The downstream webapp's ID token after `page`.
pub(crate) async fn webapp_id_token(s: &TestServer, b: &Browser, page: &Page) -> Value {
    let tokens = webapp_tokens_after(s, b, page).await;
    verify_jwt(s, tokens["id_token"].as_str().unwrap(), Some("webapp")).await
}

async fn user_sub(s: &TestServer, token: &str, username: &str) -> Option<String> {
    let (_, _, users) = crate::admin::call(s, token, "GET", &format!("/admin/v1/users?search={username}"), None).await;
    users["items"]
        .as_array()
        .or(users.as_array())
        .and_then(|a| a.iter().find(|u| u["username"] == username))
        .map(|u| u["sub"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn users_sign_in_through_an_upstream_gatehouse() {
    for db in TestDb::each().await {
        let label = db.label;
        let up = TestServer::start(UPSTREAM, TestDb::sqlite()).await.unwrap();
        let s = TestServer::start(&downstream(&up.url, ""), db).await.unwrap();
        let admin = crate::admin::admin_token(&s).await;

        // The sign-in page offers the provider beside the password form.
        let b = Browser::new(&s.url);
        let login = b.authorize(&webapp_auth(&[])).await;
        assert!(login.body.contains("Sign in with Corp") && login.body.contains("name=\"password\""), "{label}");

        // alice exists here with the address the upstream verified: linked by it.
        let u = Browser::new(&up.url);
        let done = through_upstream(&b, &u, &login, "corp", "alice", "alice-upstream").await;
        let id_token = webapp_id_token(&s, &b, &done).await;
        let alice = user_sub(&s, &admin, "alice").await.unwrap();
        assert_eq!(id_token["sub"], alice.as_str(), "{label}: the existing alice");
        assert_eq!(id_token["amr"], json!(["fed"]), "{label}");
        assert_eq!(id_token["acr"], "pwd", "{label}: fed meets the pwd level");
        let (st, _, links) =
            crate::admin::call(&s, &admin, "GET", &format!("/admin/v1/users/{alice}/links"), None).await;
        assert_eq!(st, 200, "{label}");
        assert_eq!(links[0]["provider"], "corp", "{label}: {links}");
        assert_eq!(links[0]["email"], "alice@example.com", "{label}");

        // The callback's URL again: its state is spent.
        // (A new browser's sign-in, then its callback replayed.)
        let b2 = Browser::new(&s.url);
        let login = b2.authorize(&webapp_auth(&[])).await;
        let u2 = Browser::new(&up.url);
        let out = b2.get(&provider_link(&login, "corp")).await;
        let callback =
            path_of(&upstream_answer(&u2, out.header("location").unwrap(), "newbie", "newbie-upstream").await);
        // A tampered state finds nothing (and spends nothing).
        let tampered = callback.replace("state=", "state=x");
        let refused = b2.get(&tampered).await;
        assert_eq!(refused.status, 400, "{label}: {}", refused.body);
        assert!(refused.body.contains("expired"), "{label}");
        // The callback in another browser: the interaction is not that browser's.
        let elsewhere = Browser::new(&s.url).get(&callback).await;
        assert_eq!(elsewhere.status, 403, "{label}: {}", elsewhere.body);
        // Its state was spent there: the real browser cannot use it now either.
        let spent = b2.get(&callback).await;
        assert_eq!(spent.status, 400, "{label}: {}", spent.body);

        // newbie is unknown here: created at the first sign-in, without a password.
        let login = b2.authorize(&webapp_auth(&[])).await;
        let done = through_upstream(&b2, &u2, &login, "corp", "newbie", "newbie-upstream").await;
        let id_token = webapp_id_token(&s, &b2, &done).await;
        let newbie = user_sub(&s, &admin, "newbie").await.expect("newbie was created");
        assert_eq!(id_token["sub"], newbie.as_str(), "{label}");
        let (_, _, user) = crate::admin::call(&s, &admin, "GET", &format!("/admin/v1/users/{newbie}"), None).await;
        assert_eq!(user["claims"]["email"], "newbie@example.com", "{label}: {user}");
        assert_eq!(user["claims"]["email_verified"], true, "{label}");
        assert_eq!(user["claims"]["name"], "New Bie", "{label}");
        let pw = Browser::new(&s.url);
        let page = pw.authorize(&webapp_auth(&[])).await;
        for guess in ["", "none", "newbie-upstream"] {
            assert_eq!(pw.login(&page, "newbie", guess).await.status, 401, "{label}: no password at all");
        }
        // The same upstream user again: the same user here, no second one.
        let login = b2.authorize(&webapp_auth(&[("prompt", "login")])).await;
        let done = through_upstream(&b2, &u2, &login, "corp", "newbie", "newbie-upstream").await;
        assert_eq!(webapp_id_token(&s, &b2, &done).await["sub"], newbie.as_str(), "{label}");

        // The upstream says carol's address but did not verify it: no link, and no second
        // user with her address.
        let b3 = Browser::new(&s.url);
        let u3 = Browser::new(&up.url);
        let login = b3.authorize(&webapp_auth(&[])).await;
        let refused = through_upstream(&b3, &u3, &login, "corp", "mallory", "mallory-upstream").await;
        assert_eq!(refused.status, 409, "{label}: {}", refused.body);
        assert!(refused.body.contains("exists already") && refused.is_login_page(), "{label}");
        let carol = user_sub(&s, &admin, "carol").await.unwrap();
        let (_, _, links) =
            crate::admin::call(&s, &admin, "GET", &format!("/admin/v1/users/{carol}/links"), None).await;
        assert_eq!(links, json!([]), "{label}");
        assert!(user_sub(&s, &admin, "mallory").await.is_none(), "{label}");

        // An upstream user whose preferred name is taken here gets another: never carol's.
        let login = b3.authorize(&webapp_auth(&[])).await;
        let u4 = Browser::new(&up.url);
        let done = through_upstream(&b3, &u4, &login, "corp", "namesake", "namesake-upstream").await;
        let sub = webapp_id_token(&s, &b3, &done).await["sub"].as_str().unwrap().to_owned();
        assert_ne!(sub, carol, "{label}");
        let (_, _, user) = crate::admin::call(&s, &admin, "GET", &format!("/admin/v1/users/{sub}"), None).await;
        assert!(user["username"].as_str().unwrap().starts_with("corp-"), "{label}: {user}");

        // An administrator removes alice's link (audited); alice signs in by email again.
        let path = format!("/admin/v1/users/{alice}/links/corp/{}", links_subject(&s, &admin, &alice).await);
        assert_eq!(crate::admin::call(&s, &admin, "DELETE", &path, None).await.0, 204, "{label}");
        assert_eq!(crate::admin::call(&s, &admin, "DELETE", &path, None).await.0, 404, "{label}");
        let (_, _, audit) = crate::admin::call(&s, &admin, "GET", "/admin/v1/audit", None).await;
        assert!(audit.to_string().contains("upstream.unlink"), "{label}: {audit}");
        let metrics = s.http.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(
            metrics.contains("gatehouse_upstream_sign_ins_total{provider=\"corp\",outcome=\"success\"}"),
            "{label}"
        );
    }
}

async fn links_subject(s: &TestServer, admin: &str, sub: &str) -> String {
    let (_, _, links) = crate::admin::call(s, admin, "GET", &format!("/admin/v1/users/{sub}/links"), None).await;
    links[0]["subject"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_replayed_upstream_code_and_private_key_jwt() {
    let up = TestServer::start(UPSTREAM, TestDb::sqlite()).await.unwrap();
    let extra = format!(
        "\n[[upstreams]]\nid = \"corpjwt\"\nissuer = \"{}\"\nclient_id = \"downstream-jwt\"\nclient_auth = \"private_key_jwt\"\n",
        up.url
    );
    let s = TestServer::start(&downstream(&up.url, &extra), TestDb::sqlite()).await.unwrap();
    // The upstream knows this server by its JWK set.
    let ops = crate::admin::admin_token(&up).await;
    let client = json!({
        "client_id": "downstream-jwt", "scope": "openid profile email", "grants": ["authorization_code"],
        "redirect_uris": ["http://127.0.0.1/login/upstream/corpjwt/callback"], "first_party": true,
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": s.url("/jwks"),
    });
    let (st, _, body) = crate::admin::call(&up, &ops, "POST", "/admin/v1/clients", Some(client)).await;
    assert_eq!(st, 201, "{body}");

    let b = Browser::new(&s.url);
    let u = Browser::new(&up.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    let done = through_upstream(&b, &u, &login, "corpjwt", "newbie", "newbie-upstream").await;
    let id_token = webapp_id_token(&s, &b, &done).await;
    assert_eq!(id_token["amr"], json!(["fed"]));

    // A code used once, brought back with a fresh state: the upstream refuses it.
    let login = b.authorize(&webapp_auth(&[("prompt", "login")])).await;
    let out = b.get(&provider_link(&login, "corp")).await;
    let used = path_of(&upstream_answer(&u, out.header("location").unwrap(), "newbie", "newbie-upstream").await);
    let _ = b.get(&used).await;
    let login = b.authorize(&webapp_auth(&[("prompt", "login")])).await;
    let out = b.get(&provider_link(&login, "corp")).await;
    let fresh_state: String = url::Url::parse(out.header("location").unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let code: String =
        url::Url::parse(&format!("http://x{used}")).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into();
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("code", code.as_str()), ("state", fresh_state.as_str()), ("iss", up.url.as_str())])
        .finish();
    let replayed = b.get(&format!("/login/upstream/corp/callback?{q}")).await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
    assert!(replayed.body.contains("could not be verified") && replayed.is_login_page());
}

/// The account page's link (its href, `&amp;` undone).
fn link_on(page: &Page, prefix: &str) -> String {
    let start = page.body.find(prefix).unwrap_or_else(|| panic!("no {prefix}:\n{}", page.body));
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn people_link_and_unlink_upstream_identities_on_their_account_page() {
    use crate::account::follow;
    for db in TestDb::each().await {
        let label = db.label;
        let up = TestServer::start(UPSTREAM, TestDb::sqlite()).await.unwrap();
        // No linking by email here: carol links by hand.
        let cfg = downstream(&up.url, "").replace("link_by_email = true", "link_by_email = false");
        let s = TestServer::start(&cfg, db).await.unwrap();
        let b = Browser::new(&s.url);
        let u = Browser::new(&up.url);

        // carol signs in with her password and links the upstream's mallory (whose address the
        // upstream never verified: linking by hand does not need it).
        let page = follow(&b, &s, b.get("/account").await).await;
        let home = follow(&b, &s, b.login(&page, "carol", "carol-password").await).await;
        assert!(home.body.contains("Linked accounts") && home.body.contains("None yet."), "{label}: {}", home.body);
        let link = link_on(&home, "/account/upstream/corp/link?csrf=");
        // Without the page's CSRF token: refused.
        let forged = b.get("/account/upstream/corp/link?csrf=forged").await;
        assert_eq!(forged.status, 403, "{label}");
        let out = b.get(&link).await;
        assert_eq!(out.status, 303, "{label}: {}", out.body);
        let callback = upstream_answer(&u, out.header("location").unwrap(), "mallory", "mallory-upstream").await;
        let back = b.get(&path_of(&callback)).await;
        assert_eq!(back.header("location"), Some(format!("{}/account?done=linked", s.url).as_str()), "{label}");
        let home = b.get("/account?done=linked").await;
        assert!(home.body.contains("The account was linked.") && home.body.contains("Corp"), "{label}");
        // Now mallory's sign-in upstream is carol's here.
        let b2 = Browser::new(&s.url);
        let login = b2.authorize(&webapp_auth(&[])).await;
        let done = through_upstream(&b2, &u, &login, "corp", "mallory", "mallory-upstream").await;
        let carol_sub = webapp_id_token(&s, &b2, &done).await["sub"].as_str().unwrap().to_owned();
        let admin = crate::admin::admin_token(&s).await;
        assert_eq!(user_sub(&s, &admin, "carol").await.as_deref(), Some(carol_sub.as_str()), "{label}");

        // The same identity cannot be linked to a second account.
        let b3 = Browser::new(&s.url);
        let page = follow(&b3, &s, b3.get("/account").await).await;
        let home = follow(&b3, &s, b3.login(&page, "alice", "alice-password").await).await;
        let out = b3.get(&link_on(&home, "/account/upstream/corp/link?csrf=")).await;
        let callback = upstream_answer(&u, out.header("location").unwrap(), "mallory", "mallory-upstream").await;
        let back = b3.get(&path_of(&callback)).await;
        assert!(back.header("location").unwrap().ends_with("/account?problem=linked-elsewhere"), "{label}");

        // carol removes the link (she still has her password); the link is gone.
        let home = b.get("/account").await;
        let csrf = home.field("csrf").unwrap();
        let subject = links_subject(&s, &admin, &carol_sub).await;
        let fields = [("csrf", csrf.as_str()), ("provider", "corp"), ("subject", subject.as_str())];
        let removed = b.post("/account/upstream/unlink", &fields).await;
        assert_eq!(removed.header("location"), Some(format!("{}/account?done=unlinked", s.url).as_str()), "{label}");
        let again = b.post("/account/upstream/unlink", &fields).await;
        assert_eq!(again.status, 404, "{label}");
        assert_eq!(b.post("/account/upstream/unlink", &fields[1..]).await.status, 403, "{label}: no CSRF token");

        // newbie, created upstream-only, has no password and cannot remove the only link.
        let bn = Browser::new(&s.url);
        let un = Browser::new(&up.url);
        let page = follow(&bn, &s, bn.get("/account").await).await;
        let answer = through_upstream(&bn, &un, &page, "corp", "newbie", "newbie-upstream").await;
        let home = follow(&bn, &s, answer).await;
        assert!(home.body.contains("Your account has no password"), "{label}: {}", home.body);
        assert!(!home.body.contains("current_password"), "{label}");
        let newbie = user_sub(&s, &admin, "newbie").await.unwrap();
        let subject = links_subject(&s, &admin, &newbie).await;
        let csrf = home.field("csrf").unwrap();
        let fields = [("csrf", csrf.as_str()), ("provider", "corp"), ("subject", subject.as_str())];
        let refused = bn.post("/account/upstream/unlink", &fields).await;
        assert_eq!(refused.status, 400, "{label}: {}", refused.body);
        assert!(refused.body.contains("only way to sign in"), "{label}");
    }
}

#[tokio::test]
async fn a_deployment_can_offer_upstream_providers_only() {
    let up = TestServer::start(UPSTREAM, TestDb::sqlite()).await.unwrap();
    let cfg = format!("{}\n[login]\npassword = false\n", downstream(&up.url, ""));
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    assert!(login.body.contains("Sign in with Corp"), "{}", login.body);
    assert!(!login.body.contains("name=\"password\""), "no password form");
    // A password posted anyway is refused, right or not (the page has no form token to send
    // with it; the interaction's alone is not enough either).
    let interaction = provider_link(&login, "corp").split("interaction=").nth(1).unwrap().to_owned();
    let fields = [("interaction", interaction.as_str()), ("username", "alice"), ("password", "alice-password")];
    let refused = b.post("/login", &fields).await;
    assert!([400, 403].contains(&refused.status), "{}", refused.body);
    // On a domain name the page has a passkey form, hence the form token: refused all the same.
    let named = TestServer::start_on_localhost(&cfg, TestDb::sqlite()).await.unwrap();
    let bn = Browser::new(&named.url);
    let page = bn.authorize(&webapp_auth(&[])).await;
    assert!(page.field("csrf").is_some() && !page.body.contains("name=\"password\""), "{}", page.body);
    let refused = bn.login(&page, "alice", "alice-password").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("Passwords are not accepted here"));
    // The provider still signs alice in.
    let u = Browser::new(&up.url);
    let done = through_upstream(&b, &u, &login, "corp", "alice", "alice-upstream").await;
    assert_eq!(webapp_id_token(&s, &b, &done).await["amr"], json!(["fed"]));
    // The device page has no password form either, and refuses one posted.
    let r = s.http.post(s.url("/device_authorization")).form(&[("client_id", "tv")]).send().await.unwrap();
    let d: Value = r.json().await.unwrap();
    let tv = Browser::new(&s.url);
    let page = tv.get("/device").await;
    let csrf = page.field("csrf").unwrap();
    let code = d["user_code"].as_str().unwrap();
    let step = tv.post("/device", &[("csrf", &csrf), ("user_code", code)]).await;
    assert!(
        step.body.contains("Sign in on your account page first") && !step.body.contains("name=\"password\""),
        "{}",
        step.body
    );
    let fields = [("csrf", csrf.as_str()), ("user_code", code), ("username", "alice"), ("password", "alice-password")];
    assert_eq!(tv.post("/device/login", &fields).await.status, 403);
    // Without any provider, such a configuration does not start.
    let cfg = format!("{}\n[login]\npassword = false\n", crate::CONFIG);
    let err = TestServer::start(&cfg, TestDb::sqlite()).await.err().unwrap().to_string();
    assert!(err.contains("login.password"), "{err}");
}

const SEALING: &str = "[secrets]\nsealing_key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n";

#[tokio::test]
async fn administrators_add_and_remove_providers_through_the_admin_api() {
    use crate::admin::{admin_token, call};
    for db in TestDb::each().await {
        let label = db.label;
        let up = TestServer::start(UPSTREAM, TestDb::sqlite()).await.unwrap();
        // No provider in the file; the ops client and a sealing key for the secret.
        let cfg = format!("{}\n{SEALING}\n[fetch]\nallow_loopback = true\n", crate::admin::config());
        let s = TestServer::start(&cfg, db).await.unwrap();
        let admin = admin_token(&s).await;
        let b = Browser::new(&s.url);
        assert!(!b.authorize(&webapp_auth(&[])).await.body.contains("Sign in with"), "{label}");

        let spec = json!({"id": "corp", "label": "Corp", "issuer": up.url, "client_id": "downstream",
                          "client_secret": "downstream-secret", "link_by_email": true});
        let (st, _, body) = call(&s, &admin, "PUT", "/admin/v1/upstreams/corp", Some(spec.clone())).await;
        assert_eq!(st, 201, "{label}: {body}");
        assert_eq!(body["source"], "store", "{label}");
        assert!(!body.to_string().contains("downstream-secret"), "{label}: never the secret");
        assert_eq!(body["private_network"], false, "{label}: public addresses only unless asked");
        let mut private = spec.clone();
        private["private_network"] = json!(true);
        let (st, _, body) = call(&s, &admin, "PUT", "/admin/v1/upstreams/corp", Some(private)).await;
        assert_eq!((st, &body["private_network"]), (200, &json!(true)), "{label}: {body}");
        let (st, _, body) = call(&s, &admin, "PUT", "/admin/v1/upstreams/corp", Some(spec.clone())).await;
        assert_eq!(st, 200, "{label}: replaced: {body}");
        assert_eq!(body["private_network"], false, "{label}");
        let (_, _, list) = call(&s, &admin, "GET", "/admin/v1/upstreams", None).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{label}: {list}");
        assert!(!list.to_string().contains("downstream-secret"), "{label}");

        // At once on the sign-in page, and it signs alice in (its sealed secret opened).
        let login = b.authorize(&webapp_auth(&[])).await;
        assert!(login.body.contains("Sign in with Corp"), "{label}");
        let u = Browser::new(&up.url);
        let done = through_upstream(&b, &u, &login, "corp", "alice", "alice-upstream").await;
        assert_eq!(webapp_id_token(&s, &b, &done).await["amr"], json!(["fed"]), "{label}");

        // Refusals: the path's id and the body's differ, an icon from a file, an unknown kind.
        for (bad, field) in [
            (json!({"id": "other", "issuer": up.url, "client_id": "c", "client_secret": "s"}), "id"),
            (
                json!({"id": "corp", "issuer": up.url, "client_id": "c", "client_secret": "s", "icon": "/etc/passwd.png"}),
                "icon",
            ),
            (json!({"id": "corp", "kind": "saml", "client_id": "c", "client_secret": "s"}), "kind"),
        ] {
            let (st, _, body) = call(&s, &admin, "PUT", "/admin/v1/upstreams/corp", Some(bad)).await;
            assert_eq!(st, 400, "{label}: {body}");
            assert_eq!(body["errors"][0]["field"], field, "{label}: {body}");
        }
        let (_, _, audit) = call(&s, &admin, "GET", "/admin/v1/audit", None).await;
        assert!(audit.to_string().contains("upstream.put"), "{label}");

        // Removed: gone from the page and from the list; a second removal finds nothing.
        assert_eq!(call(&s, &admin, "DELETE", "/admin/v1/upstreams/corp", None).await.0, 204, "{label}");
        assert_eq!(call(&s, &admin, "DELETE", "/admin/v1/upstreams/corp", None).await.0, 404, "{label}");
        assert!(!b.authorize(&webapp_auth(&[])).await.body.contains("Sign in with Corp"), "{label}");
        assert_eq!(b.get(&provider_link(&login, "corp")).await.status, 404, "{label}");
    }

    // A provider of the configuration file is changed there only; a secret needs the sealing key.
    let up = TestServer::start(UPSTREAM, TestDb::sqlite()).await.unwrap();
    let s = TestServer::start(&format!("{}\n{}", downstream(&up.url, ""), "[[clients]]\nclient_id = \"ops2\"\nclient_secret = \"ops2-secret\"\nscope = \"gatehouse:admin\"\ngrants = [\"client_credentials\"]\n"), TestDb::sqlite())
        .await
        .unwrap();
    let admin = crate::admin::admin_token(&s).await;
    let spec = json!({"id": "corp", "issuer": up.url, "client_id": "c", "client_secret": "s"});
    let (st, _, body) = call(&s, &admin, "PUT", "/admin/v1/upstreams/corp", Some(spec)).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(call(&s, &admin, "DELETE", "/admin/v1/upstreams/corp", None).await.0, 409);
    let (_, _, list) = call(&s, &admin, "GET", "/admin/v1/upstreams", None).await;
    assert_eq!(list[0]["source"], "config", "{list}");
    let spec = json!({"id": "more", "issuer": up.url, "client_id": "c", "client_secret": "s"});
    let (st, _, body) = call(&s, &admin, "PUT", "/admin/v1/upstreams/more", Some(spec)).await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "client_secret", "{body}");
    let spec = json!({"id": "more", "issuer": up.url, "client_id": "c", "client_auth": "private_key_jwt"});
    assert_eq!(call(&s, &admin, "PUT", "/admin/v1/upstreams/more", Some(spec)).await.0, 201, "no secret to keep");
}
