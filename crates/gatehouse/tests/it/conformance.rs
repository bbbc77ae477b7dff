//! The negative and edge checks of the OpenID Foundation's OP test plans (basic, implicit,
//! hybrid, config, form post, logout), automated over HTTP. Each case names the test module of
//! the OIDF conformance suite it mirrors.

use crate::{CONFIG, WEBAPP_CB, webapp_auth};
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::browser::{Browser, Page, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A redirect to the client carrying this error (and the request's state).
    Error(&'static str),
    /// An error page: never a redirect to an untrusted URI.
    Page,
    /// The login form.
    Login,
    /// A redirect with a code.
    Code,
}

fn outcome(p: &Page) -> Expect {
    let params = p.redirect_params();
    if let Some(e) = params.get("error") {
        return Expect::Error(match e.as_str() {
            "invalid_request" => "invalid_request",
            "login_required" => "login_required",
            "consent_required" => "consent_required",
            "invalid_scope" => "invalid_scope",
            "unsupported_response_type" => "unsupported_response_type",
            "request_not_supported" => "request_not_supported",
            "unauthorized_client" => "unauthorized_client",
            other => panic!("unexpected error {other}"),
        });
    }
    if params.contains_key("code") {
        return Expect::Code;
    }
    if p.is_login_page() {
        return Expect::Login;
    }
    assert!(p.header("location").is_none(), "an unexpected redirect: {:?}", p.header("location"));
    assert!((400..500).contains(&p.status), "an error page, got {}", p.status);
    Expect::Page
}

/// The authorization endpoint, with a signed-in browser (consent given) and a fresh one.
#[tokio::test]
async fn authorization_endpoint_checks() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let signed_in = Browser::new(&s.url);
    let first = crate::webapp_tokens(&s, &signed_in, &[]).await;
    let hint = first["id_token"].as_str().unwrap().to_owned();
    let without = |k: &str| webapp_auth(&[]).into_iter().filter(|(kk, _)| *kk != k).collect::<Vec<_>>();
    let spa = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("client_id", "spa"),
            ("redirect_uri", "http://127.0.0.1:5173/callback"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
        ];
        p.extend_from_slice(extra);
        p
    };
    let implicit = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("client_id", "implicit-app"),
            ("redirect_uri", "http://127.0.0.1:6000/cb"),
            ("response_type", "id_token"),
            ("scope", "openid"),
            ("state", "st"),
        ];
        p.extend_from_slice(extra);
        p
    };
    // (suite module, signed in?, request, outcome)
    type Case<'a> = (&'a str, bool, Vec<(&'a str, &'a str)>, Expect);
    let cases: Vec<Case<'_>> = vec![
        ("oidcc-prompt-none-not-logged-in", false, webapp_auth(&[("prompt", "none")]), Expect::Error("login_required")),
        ("oidcc-prompt-none-logged-in", true, webapp_auth(&[("prompt", "none")]), Expect::Code),
        ("oidcc-prompt-login", true, webapp_auth(&[("prompt", "login")]), Expect::Login),
        ("oidcc-max-age-1 (max_age=0 forces a login)", true, webapp_auth(&[("max_age", "0")]), Expect::Login),
        ("oidcc-max-age-10000", true, webapp_auth(&[("max_age", "10000")]), Expect::Code),
        ("oidcc-id-token-hint", true, webapp_auth(&[("prompt", "none"), ("id_token_hint", &hint)]), Expect::Code),
        (
            "oidcc-ensure-request-with-unknown-parameter-succeeds",
            true,
            webapp_auth(&[("extra", "foobar")]),
            Expect::Code,
        ),
        ("oidcc-ensure-other-scope-order-succeeds", true, webapp_auth(&[("scope", "email openid")]), Expect::Code),
        ("oidcc-display-page", true, webapp_auth(&[("display", "page")]), Expect::Code),
        ("oidcc-display-popup", true, webapp_auth(&[("display", "popup")]), Expect::Code),
        ("oidcc-login-hint", true, webapp_auth(&[("login_hint", "alice")]), Expect::Code),
        ("oidcc-ui-locales", true, webapp_auth(&[("ui_locales", "se")]), Expect::Code),
        ("oidcc-claims-locales", true, webapp_auth(&[("claims_locales", "se")]), Expect::Code),
        ("oidcc-ensure-request-with-acr-values-succeeds", true, webapp_auth(&[("acr_values", "1 2")]), Expect::Code),
        ("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", true, without("nonce"), Expect::Code),
        ("oidcc-response-type-missing", true, without("response_type"), Expect::Error("invalid_request")),
        (
            "oidcc-unknown-response-type",
            true,
            webapp_auth(&[("response_type", "magic")]),
            Expect::Error("unsupported_response_type"),
        ),
        (
            "oidcc-ensure-registered-redirect-uri",
            true,
            webapp_auth(&[("redirect_uri", "https://attacker.example/cb")]),
            Expect::Page,
        ),
        (
            "oidcc-redirect-uri-query-added",
            true,
            webapp_auth(&[("redirect_uri", "http://127.0.0.1:3000/callback?foo=bar")]),
            Expect::Page,
        ),
        ("oidcc-redirect-uri-missing", true, without("redirect_uri"), Expect::Page),
        ("oidcc-client-id-missing", true, without("client_id"), Expect::Page),
        ("oidcc-unknown-client", true, webapp_auth(&[("client_id", "nobody")]), Expect::Page),
        // Request objects are supported (tests/it/par.rs runs them end to end); an unsigned one
        // from a client not registered for `none` is refused on a page, as is any request
        // object that fails: the redirect URI may be what it failed to carry.
        (
            "oidcc-unsigned-request-object-refused-for-a-signing-client",
            true,
            webapp_auth(&[("request", "eyJhbGciOiJub25lIn0.e30.")]),
            Expect::Page,
        ),
        ("oidcc-scope-not-allowed", true, webapp_auth(&[("scope", "openid phone")]), Expect::Error("invalid_scope")),
        // RFC 6749 §3.1: a request with a repeated parameter cannot be read at all, so it is not
        // trusted to name a redirect URI either: an error page (the suite accepts either).
        (
            "duplicate parameters",
            true,
            {
                let mut p = webapp_auth(&[]);
                p.push(("scope", "openid"));
                p
            },
            Expect::Page,
        ),
        ("pkce required of a public client", true, spa(&[]), Expect::Error("invalid_request")),
        (
            "pkce plain refused",
            true,
            spa(&[
                ("code_challenge", "plainplainplainplainplainplainplainplain1234"),
                ("code_challenge_method", "plain"),
            ]),
            Expect::Error("invalid_request"),
        ),
        ("oidcc-implicit: nonce required", true, implicit(&[]), Expect::Error("invalid_request")),
    ];
    for (name, logged_in, params, expect) in cases {
        let fresh;
        let b = if logged_in {
            &signed_in
        } else {
            fresh = Browser::new(&s.url);
            &fresh
        };
        let page = b.authorize(&params).await;
        let got = outcome(&page);
        assert_eq!(got, expect, "{name}");
        if let Expect::Error(_) = got {
            // RFC 6749 §4.1.2.1 state echoed; RFC 9207 iss.
            assert_eq!(
                page.redirect_params().get("state").map(String::as_str),
                Some(params.iter().find(|(k, _)| *k == "state").map_or("", |(_, v)| *v)),
                "{name}"
            );
            assert_eq!(page.redirect_params().get("iss").map(String::as_str), Some(s.url.as_str()), "{name}");
        }
    }
}

async fn code_for(b: &Browser) -> String {
    b.sign_in(&webapp_auth(&[]), "alice", "alice-password").await["code"].clone()
}

async fn redeem(s: &TestServer, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEBAPP_CB),
        ("code_verifier", VERIFIER),
    ];
    for (k, v) in extra {
        form.retain(|(kk, _)| kk != k);
        form.push((k, v));
    }
    let r = s.http.post(s.url("/token")).basic_auth("webapp", Some("webapp-secret")).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The token endpoint and what follows: code reuse, mismatches, expiry.
#[tokio::test]
async fn token_endpoint_checks() {
    for db in TestDb::each().await {
        let clock = Arc::new(ManualClock::new(1_800_000_000));
        let s = TestServer::start_with_clock(CONFIG, db, clock.clone()).await.unwrap();
        let b = Browser::new(&s.url);

        // oidcc-codereuse / oidcc-codereuse-30seconds: the second use fails, and the access token
        // of the first is revoked.
        let c = code_for(&b).await;
        let (st, first) = redeem(&s, &c, &[]).await;
        assert_eq!(st, 200);
        clock.advance(30);
        let (st, e) = redeem(&s, &c, &[]).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")), "oidcc-codereuse-30seconds");
        let r =
            s.http.get(s.url("/userinfo")).bearer_auth(first["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 401, "the reused code's access token is revoked");

        // Mismatches.
        for (name, extra, want) in [
            ("redirect_uri mismatch", ("redirect_uri", "http://127.0.0.1:3000/other"), "invalid_grant"),
            (
                "wrong code_verifier",
                ("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-0"),
                "invalid_grant",
            ),
            ("unknown grant type", ("grant_type", "magic"), "unsupported_grant_type"),
        ] {
            let c = code_for(&b).await;
            let (st, e) = redeem(&s, &c, &[extra]).await;
            assert_eq!((st, e["error"].as_str()), (400, Some(want)), "{name}");
        }
        // The code of another client.
        let c = code_for(&b).await;
        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth("hybrid-app", Some("hybrid-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &c),
                ("redirect_uri", WEBAPP_CB),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "a code is only for its client");
        // Invalid client.
        let c = code_for(&b).await;
        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth("webapp", Some("wrong"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &c),
                ("redirect_uri", WEBAPP_CB),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("www-authenticate").is_some());
        // Expired code.
        let c = code_for(&b).await;
        clock.advance(61);
        let (st, e) = redeem(&s, &c, &[]).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_grant")), "expired code");
        // Expired access token at userinfo.
        let c = code_for(&b).await;
        let (_, t) = redeem(&s, &c, &[]).await;
        clock.advance(3601);
        let r = s.http.get(s.url("/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 401, "expired access token");
        assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    }
}

/// The Dynamic profile's modules (and the config profile's registration ones): clients
/// registered at `/register` with keys, a sector, signed userinfo and request objects, then used.
/// OIDF signs with RS256 where these sign with ES256; the rules checked are the same.
#[tokio::test]
async fn dynamic_profile_checks() {
    use crate::signer::{ClientKey, JwksHost, fresh_id, now};
    use gatehouse_testkit::browser::CHALLENGE;
    use serde_json::json;
    const CB: &str = "https://rp.example.com/cb";
    let cfg = format!("{CONFIG}\n[registration]\nenabled = true\n[fetch]\nallow_loopback = true\n");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let register = |body: Value| {
        let s = &s;
        async move {
            let r = s.http.post(s.url("/register")).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let key = ClientKey::new("rp-1");
    let published = JwksHost::start(ClientKey::set(&[&key])).await;
    let base = json!({"redirect_uris": [CB], "grant_types": ["authorization_code"], "response_types": ["code"]});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };

    // oidcc-registration-jwks, oidcc-registration-jwks-uri.
    let (st, by_value) =
        register(with(json!({"jwks": ClientKey::set(&[&key]), "userinfo_signed_response_alg": "RS256"}))).await;
    assert_eq!(st, 201, "oidcc-registration-jwks: {by_value}");
    let (st, by_ref) = register(with(json!({"jwks_uri": published.url}))).await;
    assert_eq!(st, 201, "oidcc-registration-jwks-uri: {by_ref}");

    // oidcc-registration-sector-uri, oidcc-registration-sector-bad.
    let sector = JwksHost::serving("/sector.json", json!([CB]), "application/json").await;
    let other = JwksHost::serving("/other.json", json!(["https://elsewhere.example.com/cb"]), "application/json").await;
    let (st, e) = register(with(json!({"subject_type": "pairwise", "sector_identifier_uri": sector.url}))).await;
    assert_eq!(st, 201, "oidcc-registration-sector-uri: {e}");
    let (st, e) = register(with(json!({"subject_type": "pairwise", "sector_identifier_uri": other.url}))).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_redirect_uri")), "oidcc-registration-sector-bad: {e}");

    // oidcc-idtoken-unsigned: Gatehouse never issues unsigned ID tokens, and says so at once.
    let (st, e) = register(with(json!({"id_token_signed_response_alg": "none"}))).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "oidcc-idtoken-unsigned");

    // Requests of a registered client, signed in (consent given) once.
    let (id, secret) = (by_value["client_id"].as_str().unwrap(), by_value["client_secret"].as_str().unwrap());
    let b = Browser::new(&s.url);
    let request = |extra: Value| {
        let mut c = json!({
            "iss": id, "aud": s.url, "client_id": id, "jti": fresh_id(), "exp": now() + 300,
            "response_type": "code", "redirect_uri": CB, "scope": "openid profile", "state": "st",
            "nonce": "n", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let tokens = |code: String| {
        let s = &s;
        async move {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
                ("code_verifier", VERIFIER),
            ];
            let r = s.http.post(s.url("/token")).basic_auth(id, Some(secret)).form(&form).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    // oidcc-request-uri-signed-rs256: the request object fetched from the client, signed.
    let host = JwksHost::serving(
        "/req.jwt",
        Value::String(key.sign(None, &request(json!({})))),
        "application/oauth-authz-req+jwt",
    )
    .await;
    let p = b.sign_in(&[("client_id", id), ("request_uri", &host.url)], "alice", "alice-password").await;
    assert_eq!(p.get("state").map(String::as_str), Some("st"), "oidcc-request-uri-signed-rs256: {p:?}");
    let t = tokens(p["code"].clone()).await;
    assert!(t["id_token"].is_string(), "oidcc-request-uri-signed-rs256: {t}");

    // oidcc-ensure-request-object-with-redirect-uri: the redirect URI only inside the object.
    let jwt = key.sign(None, &request(json!({"state": "inside"})));
    let p = b.sign_in(&[("client_id", id), ("request", &jwt)], "alice", "alice-password").await;
    assert_eq!(p.get("state").map(String::as_str), Some("inside"), "oidcc-ensure-request-object-with-redirect-uri");

    // oidcc-claims-essential: an essential claim asked by name is released — here into the ID
    // token, where the profile scope alone would not put it beside an access token. (A claim
    // of a scope not granted is not: the parameter places claims, consent is by scope.)
    let claims = r#"{"id_token": {"name": {"essential": true}}, "userinfo": {"email": {"essential": true}}}"#;
    let auth = [
        ("client_id", id),
        ("response_type", "code"),
        ("redirect_uri", CB),
        ("scope", "openid profile"),
        ("state", "st"),
        ("nonce", "n"),
        ("claims", claims),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let p = b.sign_in(&auth, "alice", "alice-password").await;
    let t = tokens(p["code"].clone()).await;
    let id_token = crate::verify_jwt(&s, t["id_token"].as_str().unwrap(), Some(id)).await;
    assert_eq!(id_token["name"], "Alice Example", "oidcc-claims-essential: {id_token}");
    // oidcc-userinfo-rs256: signed userinfo, application/jwt, verified against the JWKS.
    let r = s.http.get(s.url("/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/jwt", "oidcc-userinfo-rs256");
    let (header, info) = crate::verify_document(&s, &r.text().await.unwrap(), id).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256, "oidcc-userinfo-rs256");
    assert_eq!(info["name"], "Alice Example", "oidcc-userinfo-rs256: {info}");
    assert!(info.get("email").is_none(), "email's scope was not granted: {info}");

    // oidcc-request-uri-unsigned: refused for a client that did not register `none`.
    let unsigned = "eyJhbGciOiJub25lIn0.e30.";
    let page = Browser::new(&s.url).authorize(&[("client_id", id), ("request", unsigned)]).await;
    assert_eq!(outcome(&page), Expect::Page, "oidcc-request-uri-unsigned, for a client registered to sign");
}
