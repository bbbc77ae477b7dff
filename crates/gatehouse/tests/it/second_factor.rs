//! Second factors over real HTTP on both stores, with a clock the test turns: enrolment of a
//! TOTP app when a client requires a second factor (a wrong code keeps the same secret; the
//! first factor brings ten recovery codes), the second step of every later sign-in, each code
//! accepted once, wrong codes throttled, a step-up from a password session to `mfa` by
//! `acr_values`, `amr`/`acr` in the ID token, recovery codes used up one by one, and the
//! password grant refused to a user with a second factor.

use crate::admin::{admin_token, call};
use crate::{WEBAPP_CB, verify_jwt, webapp_auth};
use gatehouse_protocol::clock::ManualClock;
use gatehouse_protocol::totp::{DIGITS, TotpSecret};
use gatehouse_testkit::browser::{Browser, Page, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const START: i64 = 1_900_000_005;

/// The shared configuration with a sealing key (TOTP), the admin client and `strict`, a client
/// that requires a second factor.
pub fn sealing_config() -> String {
    format!(
        "{}\n[secrets]\nsealing_key = \"{KEY}\"\n\n[[clients]]\nclient_id = \"strict\"\nclient_secret = \"strict-secret\"\n\
         scope = \"openid profile\"\ngrants = [\"authorization_code\"]\nredirect_uris = [\"http://127.0.0.1:3100/cb\"]\n\
         first_party = true\nrequire_second_factor = true\n",
        crate::admin::config()
    )
}

fn strict_auth<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = webapp_auth(extra);
    for (k, v) in [("client_id", "strict"), ("redirect_uri", "http://127.0.0.1:3100/cb"), ("scope", "openid profile")] {
        p.retain(|(kk, _)| *kk != k);
        p.push((k, v));
    }
    p
}

/// The base32 key shown on the enrolment page.
pub fn shown_key(page: &Page) -> TotpSecret {
    let start = page.body.find("class=\"secret\">").expect("the key is shown") + "class=\"secret\">".len();
    let b32: String = page.body[start..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    TotpSecret::new(base32_decode(&b32))
}

fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buf = (buf << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

pub fn code_at(secret: &TotpSecret, now: i64) -> String {
    secret.code(TotpSecret::step_at(now), DIGITS)
}

pub async fn post_form(b: &Browser, page: &Page, path: &str, fields: &[(&str, &str)]) -> Page {
    let (i, c) = (page.field("interaction").unwrap_or_default(), page.field("csrf").unwrap_or_default());
    let mut form = vec![("interaction", i.as_str()), ("csrf", c.as_str())];
    form.extend_from_slice(fields);
    b.post(path, &form).await
}

pub async fn redeem(s: &TestServer, client: (&str, &str), redirect_uri: &str, code: &str) -> Value {
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn totp_enrolment_sign_in_step_up_and_recovery_codes() {
    for db in TestDb::each().await {
        let label = db.label;
        let clock = Arc::new(ManualClock::new(START));
        let s = TestServer::start_with_clock(&sealing_config(), db, clock.clone()).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["acr_values_supported"], json!(["pwd", "mfa"]), "{label}");

        // A password session from before any factor.
        let old = Browser::new(&s.url);
        let p = old.sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
        let t = redeem(&s, ("webapp", "webapp-secret"), WEBAPP_CB, &p["code"]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!((id["acr"].as_str(), &id["amr"]), (Some("pwd"), &json!(["pwd"])), "{label}");
        let sub = id["sub"].as_str().unwrap().to_owned();
        // Voluntary mfa, and alice has no factor: she keeps what she has.
        let p = old.sign_in(&webapp_auth(&[("acr_values", "mfa")]), "alice", "alice-password").await;
        assert!(p.contains_key("code"), "{label}: {p:?}");

        // A client that requires a second factor: alice enrols one before she gets in.
        let b = Browser::new(&s.url);
        let login = b.authorize(&strict_auth(&[])).await;
        let enrol = b.login(&login, "alice", "alice-password").await;
        assert_eq!(enrol.status, 200, "{label}: {}", enrol.body);
        assert!(enrol.body.contains("Set up an authenticator app") && enrol.body.contains("<svg"), "{label}");
        assert!(b.cookie_values().iter().all(|c| !c.starts_with("gh_session=")), "{label}: no session yet");
        let secret = shown_key(&enrol);
        let sealed = enrol.field("sealed").unwrap();
        assert!(!sealed.is_empty());
        let wrong =
            post_form(&b, &enrol, "/login/enrol", &[("sealed", &sealed), ("name", "Phone"), ("code", "000000")]).await;
        assert_eq!(wrong.status, 400, "{label}");
        assert_eq!(wrong.field("sealed").as_deref(), Some(sealed.as_str()), "{label}: the same secret again");
        // A secret sealed for someone else (or tampered with) does not enrol.
        let forged =
            post_form(&b, &enrol, "/login/enrol", &[("sealed", "AAAA"), ("name", "x"), ("code", "123456")]).await;
        assert_eq!(forged.status, 400, "{label}");
        let now_code = code_at(&secret, START);
        let codes_page =
            post_form(&b, &enrol, "/login/enrol", &[("sealed", &sealed), ("name", "Phone"), ("code", &now_code)]).await;
        assert_eq!(codes_page.status, 200, "{label}: {}", codes_page.body);
        let codes: Vec<String> =
            codes_page.body.split("<li><code>").skip(1).map(|c| c.split('<').next().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), 10, "{label}: {}", codes_page.body);
        // The same form again (a double click, a replay) adds nothing.
        let twice =
            post_form(&b, &enrol, "/login/enrol", &[("sealed", &sealed), ("name", "Phone"), ("code", &now_code)]).await;
        assert_eq!(twice.status, 400, "{label}: {}", twice.body);
        let done = post_form(&b, &codes_page, "/login/continue", &[]).await;
        let p = done.redirect_params();
        let t = redeem(&s, ("strict", "strict-secret"), "http://127.0.0.1:3100/cb", &p["code"]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("strict")).await;
        assert_eq!((id["acr"].as_str(), &id["amr"]), (Some("mfa"), &json!(["pwd", "otp", "mfa"])), "{label}: {id}");

        // Step-up: the old password session, asked for mfa, gives the code only (no password).
        clock.advance(30);
        let step = old.authorize(&webapp_auth(&[("acr_values", "mfa")])).await;
        assert!(step.body.contains("This needs a stronger sign-in."), "{label}: {}", step.body);
        assert!(!step.is_login_page(), "{label}");
        // The code the enrolment used does not work again.
        let reused = post_form(&old, &step, "/login/factor", &[("code", &now_code)]).await;
        assert_eq!(reused.status, 401, "{label}");
        let stepped = post_form(&old, &step, "/login/factor", &[("code", &code_at(&secret, START + 30))]).await;
        let p = stepped.redirect_params();
        let t = redeem(&s, ("webapp", "webapp-secret"), WEBAPP_CB, &p["code"]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!((id["acr"].as_str(), &id["amr"]), (Some("mfa"), &json!(["pwd", "otp", "mfa"])), "{label}: {id}");

        // Every later sign-in asks for the factor; a code is good once, on any node.
        clock.advance(30);
        let c2 = code_at(&secret, START + 60);
        let b3 = Browser::new(&s.url);
        let second = b3.login(&b3.authorize(&webapp_auth(&[])).await, "alice", "alice-password").await;
        assert!(second.body.contains("name=\"code\""), "{label}: {}", second.body);
        let ok = post_form(&b3, &second, "/login/factor", &[("code", &c2)]).await;
        assert!(ok.redirect_params().contains_key("code"), "{label}: {}", ok.body);
        let b4 = Browser::new(&s.url);
        let again = b4.login(&b4.authorize(&webapp_auth(&[])).await, "alice", "alice-password").await;
        assert_eq!(post_form(&b4, &again, "/login/factor", &[("code", &c2)]).await.status, 401, "{label}: replay");

        // Recovery codes, one per sign-in, until none is left.
        for (i, rc) in codes.iter().enumerate() {
            let b = Browser::new(&s.url);
            let f = b.login(&b.authorize(&webapp_auth(&[])).await, "alice", "alice-password").await;
            // Typed loosely: upper case, no dashes.
            let typed = rc.replace('-', "").to_uppercase();
            let said = post_form(&b, &f, "/login/factor", &[("code", &typed)]).await;
            assert_eq!(said.status, 200, "{label}: code {i}: {}", said.body);
            let left = 9 - i;
            let expected = match left {
                0 => "You have no recovery codes left.".to_owned(),
                1 => "You have 1 recovery code left.".to_owned(),
                n => format!("You have {n} recovery codes left."),
            };
            assert!(said.body.contains(&expected), "{label}: {}", said.body);
            let done = post_form(&b, &said, "/login/continue", &[]).await;
            assert!(done.redirect_params().contains_key("code"), "{label}: {}", done.body);
        }
        let b5 = Browser::new(&s.url);
        let f = b5.login(&b5.authorize(&webapp_auth(&[])).await, "alice", "alice-password").await;
        let spent = post_form(&b5, &f, "/login/factor", &[("code", &codes[0])]).await;
        assert_eq!(spent.status, 401, "{label}: a used recovery code");
        // Wrong codes are throttled like passwords.
        let mut last = 0;
        for _ in 0..8 {
            last = post_form(&b5, &f, "/login/factor", &[("code", "999999")]).await.status;
        }
        assert_eq!(last, 429, "{label}");

        // The password grant cannot carry a second factor.
        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth("pwapp", Some("pwapp-secret"))
            .form(&[("grant_type", "password"), ("username", "alice"), ("password", "alice-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{label}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "invalid_grant", "{label}");
        assert!(e["error_description"].as_str().unwrap().contains("second factor"), "{label}: {e}");

        // An administrator sees the factor (never its secret) and the audit trail, and resets.
        let t = admin_token(&s).await;
        let (status, _, listed) = call(&s, &t, "GET", &format!("/admin/v1/users/{sub}/factors"), None).await;
        assert_eq!(status, 200, "{label}: {listed}");
        assert_eq!(listed["recovery_codes_left"], 0, "{label}");
        assert_eq!(listed["factors"].as_array().unwrap().len(), 1, "{label}: {listed}");
        assert_eq!((&listed["factors"][0]["kind"], &listed["factors"][0]["name"]), (&json!("totp"), &json!("Phone")));
        assert!(!listed.to_string().contains(&sealed), "{label}");
        let (_, _, audit) = call(&s, &t, "GET", &format!("/admin/v1/audit?target=user:{sub}&limit=100"), None).await;
        let count = |a: &str| audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == a).count();
        assert_eq!((count("factor.add"), count("recovery_codes.issue"), count("recovery_codes.use")), (1, 1, 10));
        assert_eq!(
            call(&s, &t, "DELETE", &format!("/admin/v1/users/{sub}/factors/nope"), None).await.0,
            404,
            "{label}"
        );
        assert_eq!(call(&s, &t, "GET", "/admin/v1/users/nobody/factors", None).await.0, 404, "{label}");
        let (status, _, reset) = call(&s, &t, "DELETE", &format!("/admin/v1/users/{sub}/factors"), None).await;
        assert_eq!((status, &reset["removed"]), (200, &json!(1)), "{label}");
        let (_, _, audit) = call(&s, &t, "GET", "/admin/v1/audit?action=factor.reset", None).await;
        assert_eq!(audit["items"][0]["actor"], "client:ops", "{label}: {audit}");
        // With no factor left, alice signs in to webapp with her password alone again, and the
        // strict client asks her to enrol anew.
        let b6 = Browser::new(&s.url);
        let p = b6.sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
        assert!(p.contains_key("code"), "{label}: {p:?}");
        let again = b6.authorize(&strict_auth(&[])).await;
        assert!(again.body.contains("Set up an authenticator app"), "{label}: step-up to enrolment");
    }
}

/// RFC 9470 end to end: an API built with `gatehouse-client` demands `acr` `mfa`; a token from
/// a password sign-in gets `insufficient_user_authentication` with `acr_values`; the application
/// sends the user back with those `acr_values`, the user gives their code (no password), and the
/// new token passes.
#[tokio::test]
async fn an_apis_step_up_challenge_is_met_by_acr_values() {
    use axum::routing::get;
    use gatehouse_client::Verifier;
    use gatehouse_client::axum::RequireScope;
    let clock = Arc::new(ManualClock::new(START));
    let s = TestServer::start_with_clock(&sealing_config(), TestDb::sqlite(), clock.clone()).await.unwrap();
    let v = Arc::new(Verifier::discover(&s.url, &s.url).await.unwrap());
    let api = axum::Router::new()
        .route("/payroll", get(|| async { "ok" }))
        .layer(RequireScope::new(v, "roles").acr(&["mfa"]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, api).await });
    let call = |token: String| {
        let url = format!("{base}/payroll");
        async move {
            let r = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
            let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), challenge.unwrap_or_default())
        }
    };

    // A password session, then alice adds a factor (through the client that requires one).
    let app = Browser::new(&s.url);
    let p = app.sign_in(&webapp_auth(&[]), "alice", "alice-password").await;
    let weak = redeem(&s, ("webapp", "webapp-secret"), WEBAPP_CB, &p["code"]).await;
    let b = Browser::new(&s.url);
    let secret = enrol_alice(&b).await;

    let (status, challenge) = call(weak["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"insufficient_user_authentication\""), "{challenge}");
    let acr_values = challenge.split("acr_values=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(acr_values, "mfa");

    clock.advance(30);
    let step = app.authorize(&webapp_auth(&[("acr_values", &acr_values)])).await;
    assert!(step.body.contains("This needs a stronger sign-in."), "{}", step.body);
    let done = post_form(&app, &step, "/login/factor", &[("code", &code_at(&secret, START + 30))]).await;
    let strong = redeem(&s, ("webapp", "webapp-secret"), WEBAPP_CB, &done.redirect_params()["code"]).await;
    let claims = verify_jwt(&s, strong["access_token"].as_str().unwrap(), None).await;
    assert_eq!((&claims["acr"], &claims["amr"]), (&json!("mfa"), &json!(["pwd", "otp", "mfa"])), "{claims}");
    assert_eq!(call(strong["access_token"].as_str().unwrap().to_owned()).await, (200, String::new()));
    server.abort();
}

/// A user with a second factor: every path to a session asks for it. A password session from
/// before the factor was added steps up at the next authorization (even without `acr_values`),
/// and cannot approve a device; the device page's own sign-in asks for the code after the
/// password; a session that used the factor approves.
#[tokio::test]
async fn a_password_session_from_before_the_factor_is_not_enough() {
    let clock = Arc::new(ManualClock::new(START));
    let s = TestServer::start_with_clock(&sealing_config(), TestDb::sqlite(), clock.clone()).await.unwrap();
    let pre = Browser::new(&s.url);
    assert!(pre.sign_in(&webapp_auth(&[]), "alice", "alice-password").await.contains_key("code"));
    let b = Browser::new(&s.url);
    let secret = enrol_alice(&b).await;

    // The device page: neither the old session nor the password form is enough.
    let r: Value = s
        .http
        .post(s.url("/device_authorization"))
        .form(&[("client_id", "tv"), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_code = r["user_code"].as_str().unwrap();
    let refused = enter_device_code(&pre, user_code).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("Sign in on your account page first"), "{}", refused.body);
    let fresh = Browser::new(&s.url);
    let login = enter_device_code(&fresh, user_code).await;
    let csrf = login.field("csrf").unwrap();
    let tried = fresh
        .post(
            "/device/login",
            &[("csrf", &csrf), ("user_code", user_code), ("username", "alice"), ("password", "alice-password")],
        )
        .await;
    // The device page's own sign-in: the password, then the code on the same page.
    assert_eq!(tried.status, 200, "{}", tried.body);
    assert!(tried.body.contains("name=\"code\"") && !tried.body.contains("alice-password"), "{}", tried.body);
    let sealed = tried.field("sealed").unwrap();
    let csrf = tried.field("csrf").unwrap();
    let device_factor = |code: &str| {
        let form = [
            ("csrf", csrf.clone()),
            ("user_code", user_code.to_owned()),
            ("sealed", sealed.clone()),
            ("code", code.to_owned()),
        ];
        let fresh = &fresh;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            fresh.post("/device/factor", &pairs).await
        }
    };
    assert_eq!(device_factor("000000").await.status, 401);
    let forged = fresh
        .post("/device/factor", &[("csrf", &csrf), ("user_code", user_code), ("sealed", "AAAA"), ("code", "123456")])
        .await;
    assert!(forged.is_login_page(), "a forged sealed sign-in starts over: {}", forged.body);
    let consent = device_factor(&code_at(&secret, START)).await;
    assert_eq!(consent.status, 401, "the code the enrolment used does not work again");
    clock.advance(30);
    let consent = device_factor(&code_at(&secret, START + 30)).await;
    assert!(consent.is_consent_page(), "{}", consent.body);
    let approved = enter_device_code(&b, user_code).await;
    assert!(approved.is_consent_page(), "a session that used the factor: {}", approved.body);

    // The old session steps up at its next authorization, acr_values or not.
    clock.advance(30);
    let step = pre.authorize(&webapp_auth(&[])).await;
    assert!(step.body.contains("This needs a stronger sign-in."), "{}", step.body);
    // Ended meanwhile (here by an administrator), the session is not revived by a code alone.
    let t = admin_token(&s).await;
    let sub = crate::console::sub_of(&s, "alice").await;
    assert_eq!(call(&s, &t, "DELETE", &format!("/admin/v1/users/{sub}/sessions"), None).await.0, 200);
    let revived = post_form(&pre, &step, "/login/factor", &[("code", &code_at(&secret, START + 60))]).await;
    assert_eq!(revived.status, 400, "{}", revived.body);
    let pre = Browser::new(&s.url);
    let step = {
        let login = pre.authorize(&webapp_auth(&[])).await;
        pre.login(&login, "alice", "alice-password").await
    };
    assert!(step.body.contains("name=\"code\""), "signing in anew: password, then the code: {}", step.body);
    let done = post_form(&pre, &step, "/login/factor", &[("code", &code_at(&secret, START + 60))]).await;
    assert!(done.redirect_params().contains_key("code"), "{}", done.body);
}

async fn enter_device_code(b: &Browser, user_code: &str) -> Page {
    let page = b.get(&format!("/device?user_code={user_code}")).await;
    let csrf = page.field("csrf").unwrap();
    b.post("/device", &[("csrf", &csrf), ("user_code", user_code)]).await
}

/// alice, signing in to `strict` in `b`, sets up an authenticator app (the code of `START`) and
/// finishes that sign-in: her key.
async fn enrol_alice(b: &Browser) -> TotpSecret {
    let enrol = b.login(&b.authorize(&strict_auth(&[])).await, "alice", "alice-password").await;
    let secret = shown_key(&enrol);
    let sealed = enrol.field("sealed").unwrap();
    let code = code_at(&secret, START);
    let shown = post_form(b, &enrol, "/login/enrol", &[("sealed", &sealed), ("name", "Phone"), ("code", &code)]).await;
    assert_eq!(shown.status, 200);
    let done = post_form(b, &shown, "/login/continue", &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    secret
}
