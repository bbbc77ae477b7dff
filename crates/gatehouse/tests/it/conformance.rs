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
