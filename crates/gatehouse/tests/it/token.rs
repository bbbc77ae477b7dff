//! `/token` over real HTTP: client authentication, every grant, and their refusals.

use crate::{CONFIG, WEBAPP_CB, verify_jwt, webapp_auth};
use gatehouse_testkit::browser::{Browser, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;

async fn token(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = s.http.post(s.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// A fresh code for the webapp, through the real browser flow.
async fn code(b: &Browser) -> String {
    b.sign_in(&webapp_auth(&[]), "alice", "alice-password").await["code"].clone()
}

async fn exchange(s: &TestServer, code: &str) -> (u16, Value) {
    let (st, _, body) = token(
        s,
        Some(("webapp", "webapp-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEBAPP_CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    (st, body)
}

#[tokio::test]
async fn client_credentials_issues_an_rfc_9068_access_token() {
    for db in TestDb::each().await {
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let (st, h, body) =
            token(&s, Some(("service", "service-secret")), &[("grant_type", "client_credentials")]).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "roles");
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let at = body["access_token"].as_str().unwrap();
        assert_eq!(jsonwebtoken::decode_header(at).unwrap().typ.as_deref(), Some("at+jwt"));
        let claims = verify_jwt(&s, at, Some(&s.url)).await;
        assert_eq!(claims["sub"], "service");
        assert_eq!(claims["client_id"], "service");
        assert_eq!(claims["scope"], "roles");
        assert!(claims["jti"].is_string() && claims["exp"].is_i64() && claims["iat"].is_i64());
    }
}

#[tokio::test]
async fn client_authentication_failures() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let cc = [("grant_type", "client_credentials")];
    // Wrong secret over Basic: 401 with a Basic challenge.
    let (st, h, body) = token(&s, Some(("service", "wrong")), &cc).await;
    assert_eq!((st, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    // Unknown client.
    let (st, _, body) = token(&s, Some(("nobody", "x")), &cc).await;
    assert_eq!((st, body["error"].as_str()), (401, Some("invalid_client")));
    // No authentication at all: 401 without a Basic challenge.
    let (st, h, _) = token(&s, None, &cc).await;
    assert_eq!(st, 401);
    assert!(h.get("www-authenticate").is_none());
    // A basic client using client_secret_post is refused: the registered method is the method.
    let (st, _, _) = token(
        &s,
        None,
        &[("grant_type", "client_credentials"), ("client_id", "service"), ("client_secret", "service-secret")],
    )
    .await;
    assert_eq!(st, 401);
    // Two methods at once.
    let (st, _, body) = token(
        &s,
        Some(("service", "service-secret")),
        &[("grant_type", "client_credentials"), ("client_secret", "service-secret")],
    )
    .await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_request")));
    // A public client cannot pretend with a secret.
    let (st, _, _) = token(
        &s,
        None,
        &[("grant_type", "authorization_code"), ("client_id", "spa"), ("client_secret", "x"), ("code", "c")],
    )
    .await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn malformed_token_requests() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let auth = Some(("service", "service-secret"));
    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Form, u16, &str)] = &[
        (&[], 400, "invalid_request"),
        (&[("grant_type", "urn:example:unknown")], 400, "unsupported_grant_type"),
        (&[("grant_type", "implicit")], 400, "unsupported_grant_type"),
        (&[("grant_type", "client_credentials"), ("scope", "openid")], 400, "invalid_scope"),
        (&[("grant_type", "client_credentials"), ("scope", "admin")], 400, "invalid_scope"),
        (
            &[("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", WEBAPP_CB)],
            400,
            "unauthorized_client",
        ),
        (
            &[("grant_type", "password"), ("username", "alice"), ("password", "alice-password")],
            400,
            "unauthorized_client",
        ),
    ];
    for (form, status, code) in cases {
        let (st, _, body) = token(&s, auth, form).await;
        assert_eq!((st, body["error"].as_str()), (*status, Some(*code)), "{form:?}");
    }
    // Wrong content type, repeated parameters.
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("service", Some("service-secret"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("service", Some("service-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
}

#[tokio::test]
async fn authorization_code_exchange_and_id_token() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let b = Browser::new(&s.url);
        let c = code(&b).await;
        let (st, body) = exchange(&s, &c).await;
        assert_eq!(st, 200, "{label}: {body}");
        assert_eq!(body["scope"], "email offline_access openid profile roles");
        let idt = verify_jwt(&s, body["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(
            jsonwebtoken::decode_header(body["id_token"].as_str().unwrap()).unwrap().alg,
            jsonwebtoken::Algorithm::RS256
        );
        for claim in ["sub", "auth_time", "sid", "at_hash", "iat", "exp"] {
            assert!(idt.get(claim).is_some(), "{label}: ID token lacks {claim}");
        }
        assert_eq!(idt["nonce"], "n-456");
        assert_eq!(idt["azp"], "webapp");
        assert_eq!(idt["amr"], serde_json::json!(["pwd"]));
        assert_eq!(idt["roles"], serde_json::json!(["admin"]), "custom scope claim in the ID token");
        assert!(
            idt.get("email").is_none(),
            "OIDC Core §5.4: standard claims come from userinfo when an access token is issued"
        );
        let at = verify_jwt(&s, body["access_token"].as_str().unwrap(), Some(&s.url)).await;
        assert_eq!(at["roles"], serde_json::json!(["admin"]), "custom scope claim in the access token");
        assert_eq!(at["sub"], idt["sub"]);
        // at_hash (OIDC Core §3.1.3.6) recomputed independently.
        use base64::Engine;
        let d =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body["access_token"].as_str().unwrap().as_bytes());
        assert_eq!(idt["at_hash"], base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16]));
        assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    }
}

#[tokio::test]
async fn code_refusals_and_replay_revokes_what_it_issued() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let b = Browser::new(&s.url);
        let auth = Some(("webapp", "webapp-secret"));
        // Wrong redirect_uri, wrong verifier, missing verifier: each spends the code.
        for (redirect, verifier) in
            [("http://127.0.0.1:3000/other", VERIFIER), (WEBAPP_CB, "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")]
        {
            let c = code(&b).await;
            let (st, _, body) = token(
                &s,
                auth,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &c),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ],
            )
            .await;
            assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}");
        }
        let c = code(&b).await;
        let (st, _, body) =
            token(&s, auth, &[("grant_type", "authorization_code"), ("code", &c), ("redirect_uri", WEBAPP_CB)]).await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}: verifier required");
        // A code issued to another client.
        let c = code(&b).await;
        let (st, _, body) = token(
            &s,
            Some(("postapp", "postapp-secret")),
            &[("grant_type", "authorization_code"), ("code", &c), ("redirect_uri", WEBAPP_CB)],
        )
        .await;
        assert_eq!(st, 401, "{label}: postapp registered client_secret_post: {body}");
        let (st, _, body) = token(
            &s,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "postapp"),
                ("client_secret", "postapp-secret"),
                ("code", &c),
                ("redirect_uri", WEBAPP_CB),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}: {body}");
        // Unknown code.
        let (st, _, body) =
            token(&s, auth, &[("grant_type", "authorization_code"), ("code", "nope"), ("redirect_uri", WEBAPP_CB)])
                .await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));

        // Replay: the second redemption fails and revokes the first's tokens.
        let c = code(&b).await;
        let (st, first) = exchange(&s, &c).await;
        assert_eq!(st, 200, "{label}");
        let at = first["access_token"].as_str().unwrap();
        let ui = s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap();
        assert_eq!(ui.status(), 200, "{label}");
        let (st, replay) = exchange(&s, &c).await;
        assert_eq!((st, replay["error"].as_str()), (400, Some("invalid_grant")), "{label}");
        let ui = s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap();
        assert_eq!(ui.status(), 401, "{label}: access token revoked by the replay");
        let (st, _, body) = token(
            &s,
            auth,
            &[("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())],
        )
        .await;
        assert_eq!(
            (st, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{label}: refresh token revoked by the replay"
        );
    }
}

#[tokio::test]
async fn refresh_rotates_narrows_and_detects_reuse() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let b = Browser::new(&s.url);
        let auth = Some(("webapp", "webapp-secret"));
        let (_, first) = exchange(&s, &code(&b).await).await;
        let rt1 = first["refresh_token"].as_str().unwrap().to_owned();

        let (st, _, second) = token(
            &s,
            auth,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt1), ("scope", "openid profile offline_access")],
        )
        .await;
        assert_eq!(st, 200, "{label}: {second}");
        assert_eq!(second["scope"], "offline_access openid profile", "narrower scope");
        let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(rt1, rt2, "rotated");
        let idt = verify_jwt(&s, second["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(idt["sub"], verify_jwt(&s, first["id_token"].as_str().unwrap(), Some("webapp")).await["sub"]);

        // The new token keeps the original grant's scope: the full scope is available again.
        let (st, _, third) = token(&s, auth, &[("grant_type", "refresh_token"), ("refresh_token", &rt2)]).await;
        assert_eq!(st, 200, "{label}");
        assert_eq!(third["scope"], "email offline_access openid profile roles");
        let rt3 = third["refresh_token"].as_str().unwrap().to_owned();

        let (st, _, body) =
            token(&s, auth, &[("grant_type", "refresh_token"), ("refresh_token", &rt3), ("scope", "openid admin")])
                .await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_scope")), "{label}: wider scope");

        // Reuse of rt1 (rotated) revokes the family: rt3 and its access token die too.
        let (st, _, body) = token(&s, auth, &[("grant_type", "refresh_token"), ("refresh_token", &rt1)]).await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}");
        let (st, _, _) = token(&s, auth, &[("grant_type", "refresh_token"), ("refresh_token", &rt3)]).await;
        assert_eq!(st, 400, "{label}: family revoked");
        let ui =
            s.http.get(s.url("/userinfo")).bearer_auth(third["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(ui.status(), 401, "{label}");

        // Another client cannot use a refresh token.
        let (_, fresh) = exchange(&s, &code(&b).await).await;
        let (st, _, body) = token(
            &s,
            Some(("pwapp", "pwapp-secret")),
            &[("grant_type", "refresh_token"), ("refresh_token", fresh["refresh_token"].as_str().unwrap())],
        )
        .await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}");
    }
}

#[tokio::test]
async fn public_client_code_flow_with_pkce() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let p = b
        .sign_in(
            &[
                ("client_id", "spa"),
                ("redirect_uri", "http://127.0.0.1:5173/callback"),
                ("response_type", "code"),
                ("scope", "openid offline_access"),
                ("code_challenge", gatehouse_testkit::browser::CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let (st, h, body) = token(
        &s,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", &p["code"]),
            ("redirect_uri", "http://127.0.0.1:5173/callback"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(body["refresh_token"].is_string());
    let (st, _, _) = token(
        &s,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn client_chosen_algorithms_and_secret_post() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let p = b
        .sign_in(
            &[
                ("client_id", "postapp"),
                ("redirect_uri", "http://127.0.0.1:4000/cb"),
                ("response_type", "code"),
                ("scope", "openid profile"),
                ("nonce", "nn"),
            ],
            "alice",
            "alice-password",
        )
        .await;
    let (st, _, body) = token(
        &s,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "postapp"),
            ("client_secret", "postapp-secret"),
            ("code", &p["code"]),
            ("redirect_uri", "http://127.0.0.1:4000/cb"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let idt = body["id_token"].as_str().unwrap();
    assert_eq!(jsonwebtoken::decode_header(idt).unwrap().alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(verify_jwt(&s, idt, Some("postapp")).await["nonce"], "nn");
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(jsonwebtoken::decode_header(at).unwrap().alg, jsonwebtoken::Algorithm::EdDSA);
    verify_jwt(&s, at, Some(&s.url)).await;
    assert!(body.get("refresh_token").is_none(), "no refresh grant, no refresh token");
}

#[tokio::test]
async fn password_grant() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let auth = Some(("pwapp", "pwapp-secret"));
        let (st, _, body) = token(
            &s,
            auth,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "openid roles offline_access"),
            ],
        )
        .await;
        assert_eq!(st, 200, "{label}: {body}");
        let idt = verify_jwt(&s, body["id_token"].as_str().unwrap(), Some("pwapp")).await;
        assert_eq!(idt["roles"], serde_json::json!(["admin"]));
        assert!(body["refresh_token"].is_string());
        for (user, pw) in [("alice", "wrong"), ("mallory", "x"), ("bob", "bob-password")] {
            let (st, _, body) =
                token(&s, auth, &[("grant_type", "password"), ("username", user), ("password", pw)]).await;
            assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}: {user}");
        }
    }
}

#[tokio::test]
async fn password_failures_are_throttled_per_account() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let auth = Some(("pwapp", "pwapp-secret"));
    for _ in 0..6 {
        token(&s, auth, &[("grant_type", "password"), ("username", "alice"), ("password", "wrong")]).await;
    }
    // Locked now: even the right password is refused until the back-off passes.
    let (st, _, body) =
        token(&s, auth, &[("grant_type", "password"), ("username", "alice"), ("password", "alice-password")]).await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(body["error_description"].as_str().unwrap().contains("too many"));
}

#[tokio::test]
async fn per_client_lifetimes_override_the_server_defaults() {
    use gatehouse_protocol::clock::ManualClock;
    let cfg = format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"short\"\nclient_secret = \"short-secret\"\nscope = \"openid offline_access\"\n\
         grants = [\"password\", \"refresh_token\", \"client_credentials\"]\naccess_token_ttl = 60\nid_token_ttl = 90\nrefresh_token_idle_ttl = 120\n"
    );
    for db in TestDb::each().await {
        let label = db.label;
        let clock = std::sync::Arc::new(ManualClock::new(1_800_000_000));
        let s = TestServer::start_with_clock(&cfg, db, clock.clone()).await.unwrap();
        let auth = Some(("short", "short-secret"));
        let (st, _, t) = token(
            &s,
            auth,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "openid offline_access"),
            ],
        )
        .await;
        assert_eq!(st, 200, "{label}: {t}");
        assert_eq!(t["expires_in"], 60);
        let claims = |jwt: &str| -> Value {
            use base64::Engine;
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap(),
            )
            .unwrap()
        };
        let at = claims(t["access_token"].as_str().unwrap());
        assert_eq!(at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(), 60, "{label}");
        let idt = claims(t["id_token"].as_str().unwrap());
        assert_eq!(idt["exp"].as_i64().unwrap() - idt["iat"].as_i64().unwrap(), 90, "{label}");
        // Idle for longer than the client's 120 s: the refresh token has expired.
        clock.advance(121);
        let (st, _, body) = token(
            &s,
            auth,
            &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
        )
        .await;
        assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "{label}");
        // Other clients keep the server's defaults.
        let (_, _, cc) = token(&s, Some(("service", "service-secret")), &[("grant_type", "client_credentials")]).await;
        assert_eq!(cc["expires_in"], 3600);
    }
}

/// OIDC Core §3.1.2.1 (issue 19 §4): scope names the server does not know are ignored and left
/// out of the granted `scope`; a known scope the client may not use is still `invalid_scope`;
/// `offline_access` from a client without refresh tokens is ignored, not an error.
#[tokio::test]
async fn unknown_scopes_are_ignored_and_known_ones_beyond_the_client_refused() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let pw = |scope: &'static str| {
            let s = &s;
            async move {
                token(
                    s,
                    Some(("pwapp", "pwapp-secret")),
                    &[
                        ("grant_type", "password"),
                        ("username", "alice"),
                        ("password", "alice-password"),
                        ("scope", scope),
                    ],
                )
                .await
            }
        };
        let (st, _, t) = pw("openid no-such-scope profile").await;
        assert_eq!(st, 200, "{label}: {t}");
        assert_eq!(t["scope"], "openid profile", "{label}: the unknown one is left out");
        let (st, _, e) = pw("openid email").await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_scope")), "{label}: email is known, not pwapp's");
        let (st, _, e) = pw("no-such-scope").await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_scope")), "{label}: nothing left to grant");

        let cc = |scope: &'static str| {
            let s = &s;
            async move {
                token(s, Some(("service", "service-secret")), &[("grant_type", "client_credentials"), ("scope", scope)])
                    .await
            }
        };
        let (st, _, t) = cc("roles no-such-scope").await;
        assert_eq!((st, t["scope"].as_str()), (200, Some("roles")), "{label}: {t}");

        // postapp has no refresh grant: offline_access (and an unknown scope) are ignored at
        // /authorize, and no refresh token comes out of the code.
        let b = Browser::new(&s.url);
        let cb = b
            .sign_in(
                &[
                    ("client_id", "postapp"),
                    ("redirect_uri", "http://127.0.0.1:4000/cb"),
                    ("response_type", "code"),
                    ("scope", "openid profile offline_access no-such-scope"),
                    ("state", "st"),
                ],
                "alice",
                "alice-password",
            )
            .await;
        assert!(!cb.contains_key("error"), "{label}: {cb:?}");
        let (st, _, t) = token(
            &s,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &cb["code"]),
                ("redirect_uri", "http://127.0.0.1:4000/cb"),
                ("client_id", "postapp"),
                ("client_secret", "postapp-secret"),
            ],
        )
        .await;
        assert_eq!(st, 200, "{label}: {t}");
        assert_eq!(t["scope"], "openid profile", "{label}");
        assert!(t.get("refresh_token").is_none(), "{label}");
    }
}
