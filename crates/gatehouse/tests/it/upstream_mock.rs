//! Upstream providers Gatehouse did not write: a mock on 127.0.0.1 that is a GitHub-style OAuth
//! 2.0 provider (`/login/oauth/authorize`, `/login/oauth/access_token`, `/user`, `/user/emails`)
//! and an OpenID provider that can be made to misbehave (a wrong nonce, audience or issuer, a
//! bad signature, an error, a broken token endpoint), which a real provider never does on
//! request. Both stores.

use crate::webapp_auth;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How the mock answers next.
#[derive(Clone, Default)]
struct Behaviour {
    wrong_nonce: bool,
    wrong_audience: bool,
    wrong_iss_parameter: bool,
    bad_signature: bool,
    token_endpoint_broken: bool,
    /// `/user/emails` says the primary address is verified.
    email_verified: bool,
    amr: Option<Vec<&'static str>>,
    /// What `/user` says: its `name` (else "The Octocat") and whether it has an avatar.
    name: Option<&'static str>,
    no_avatar: bool,
    /// `/user/emails`'s primary address (else octocat@example.com).
    primary_email: Option<&'static str>,
}

struct Mock {
    base: String,
    key: EcdsaKeyPair,
    behaviour: Mutex<Behaviour>,
    /// code → (nonce, PKCE challenge)
    codes: Mutex<HashMap<String, (String, String)>>,
    /// How many token requests carried a client secret by HTTP Basic.
    basic_auths: Mutex<u32>,
}

type Shared = Arc<Mock>;

impl Mock {
    fn jwk(&self) -> Value {
        let point = self.key.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "kid": "mock-1", "alg": "ES256", "use": "sig",
               "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
    }

    fn id_token(&self, nonce: &str, b: &Behaviour) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let mut claims = json!({
            "iss": self.base, "sub": "weird-1", "aud": if b.wrong_audience { "someone-else" } else { "gh-client" },
            "exp": now + 300, "iat": now, "nonce": if b.wrong_nonce { "not-the-nonce" } else { nonce },
            "email": "weird@example.com", "email_verified": true, "name": "Weird One",
        });
        if let Some(amr) = &b.amr {
            claims["amr"] = json!(amr);
        }
        let header = B64.encode(json!({"alg": "ES256", "kid": "mock-1", "typ": "JWT"}).to_string());
        let payload = B64.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut sig = self.key.sign(&rng, signing_input.as_bytes()).unwrap().as_ref().to_vec();
        if b.bad_signature {
            sig[10] ^= 1;
        }
        format!("{signing_input}.{}", B64.encode(sig))
    }
}

async fn discovery(State(m): State<Shared>) -> Json<Value> {
    let b = &m.base;
    Json(json!({
        "issuer": b, "authorization_endpoint": format!("{b}/authorize"), "token_endpoint": format!("{b}/token"),
        "userinfo_endpoint": format!("{b}/userinfo"), "jwks_uri": format!("{b}/jwks"),
        "id_token_signing_alg_values_supported": ["ES256"], "response_types_supported": ["code"],
        "subject_types_supported": ["public"], "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(State(m): State<Shared>) -> Json<Value> {
    Json(json!({"keys": [m.jwk()]}))
}

/// Both providers' authorization endpoint: approves at once.
async fn authorize(State(m): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let code = format!("code-{}", m.codes.lock().unwrap().len());
    let nonce = q.get("nonce").cloned().unwrap_or_default();
    m.codes.lock().unwrap().insert(code.clone(), (nonce, q["code_challenge"].clone()));
    let b = m.behaviour.lock().unwrap().clone();
    let iss = if b.wrong_iss_parameter { "https://evil.example".to_owned() } else { m.base.clone() };
    let back = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("code", code.as_str()), ("state", &q["state"]), ("iss", &iss)])
        .finish();
    Redirect::to(&format!("{}?{back}", q["redirect_uri"])).into_response()
}

/// Both providers' token endpoint: the code once, with its PKCE verifier.
async fn token(State(m): State<Shared>, headers: HeaderMap, Form(f): Form<HashMap<String, String>>) -> Response {
    let b = m.behaviour.lock().unwrap().clone();
    if b.token_endpoint_broken {
        return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
    }
    if headers.get("authorization").is_some_and(|v| v.to_str().unwrap().starts_with("Basic ")) {
        *m.basic_auths.lock().unwrap() += 1;
    }
    let Some((nonce, challenge)) = m.codes.lock().unwrap().remove(&f["code"]) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    if gatehouse_protocol::pkce::s256_challenge(&f["code_verifier"]) != challenge {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    }
    Json(json!({"access_token": "at-1", "token_type": "bearer", "scope": "read:user,user:email",
                "id_token": m.id_token(&nonce, &b)}))
    .into_response()
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers.get("authorization").is_some_and(|v| v == "Bearer at-1")
}

async fn github_user(State(m): State<Shared>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let b = m.behaviour.lock().unwrap().clone();
    let mut user = json!({"id": 583231, "login": "octocat", "name": b.name.unwrap_or("The Octocat"), "email": null,
                "avatar_url": "https://avatars.example/u/583231", "html_url": "https://github.example/octocat"});
    if b.no_avatar {
        user["avatar_url"] = Value::Null;
    }
    Json(user).into_response()
}

async fn github_emails(State(m): State<Shared>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let b = m.behaviour.lock().unwrap().clone();
    let primary = b.primary_email.unwrap_or("octocat@example.com");
    Json(json!([{"email": "octo-old@example.com", "primary": false, "verified": true},
                {"email": primary, "primary": true, "verified": b.email_verified}]))
    .into_response()
}

async fn mock_userinfo(headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({"sub": "weird-1", "preferred_username": "weird"})).into_response()
}

async fn start_mock() -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mock = Arc::new(Mock {
        base,
        key: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        behaviour: Mutex::new(Behaviour { email_verified: true, ..Behaviour::default() }),
        codes: Mutex::new(HashMap::new()),
        basic_auths: Mutex::new(0),
    });
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/login/oauth/authorize", get(authorize))
        .route("/token", post(token))
        .route("/login/oauth/access_token", post(token))
        .route("/user", get(github_user))
        .route("/user/emails", get(github_emails))
        .route("/userinfo", get(mock_userinfo))
        .with_state(mock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    mock
}

fn config(mock: &str) -> String {
    format!(
        r#"{base}
[fetch]
allow_loopback = true

[[upstreams]]
id = "github"
kind = "github"
client_id = "gh-client"
client_secret = "gh-secret"
authorization_endpoint = "{mock}/login/oauth/authorize"
token_endpoint = "{mock}/login/oauth/access_token"
userinfo_endpoint = "{mock}/user"
emails_endpoint = "{mock}/user/emails"

[[upstreams]]
id = "weird"
issuer = "{mock}"
client_id = "gh-client"
client_secret = "gh-secret"
client_auth = "client_secret_post"
trust_amr = true
"#,
        base = crate::CONFIG
    )
}

/// From a fresh sign-in page at `s` through the mock provider `id`: the callback's answer.
async fn through_mock(s: &TestServer, b: &Browser, id: &str) -> Page {
    let login = b.authorize(&webapp_auth(&[("prompt", "login")])).await;
    let out = b.get(&crate::upstreams::provider_link(&login, id)).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let to = out.header("location").unwrap();
    // The application's prompt=login goes on to an OpenID provider (not to plain OAuth 2.0).
    assert_eq!(to.contains("prompt=login"), id == "weird", "{to}");
    let at_mock = s.http.get(to).send().await.unwrap();
    let callback = at_mock.headers()["location"].to_str().unwrap().to_owned();
    b.get(&crate::upstreams::path_of(&callback)).await
}

/// A fault to make the mock commit: what it is, how, and the status and words of the page.
type Fault = (&'static str, fn(&mut Behaviour), u16, &'static str);

fn set(mock: &Mock, f: impl FnOnce(&mut Behaviour)) {
    let mut b = Behaviour { email_verified: true, ..Behaviour::default() };
    f(&mut b);
    *mock.behaviour.lock().unwrap() = b;
}

#[tokio::test]
async fn a_github_style_provider_and_a_misbehaving_openid_provider() {
    for db in TestDb::each().await {
        let label = db.label;
        let mock = start_mock().await;
        let s = TestServer::start(&config(&mock.base), db).await.unwrap();
        let admin_cfg = s.url("/metrics");
        let b = Browser::new(&s.url);

        // GitHub-style: the user from /user, the address from /user/emails (primary and
        // verified), the client secret by HTTP Basic; the user is created as octocat.
        let done = through_mock(&s, &b, "github").await;
        let tokens = crate::upstreams::webapp_tokens_after(&s, &b, &done).await;
        let id_token = crate::verify_jwt(&s, tokens["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(id_token["amr"], json!(["fed"]), "{label}");
        let me = userinfo(&s, &tokens).await;
        assert_eq!(me["email"], "octocat@example.com", "{label}: {me}");
        assert_eq!(me["email_verified"], true, "{label}");
        assert_eq!(me["name"], "The Octocat", "{label}");
        assert_eq!(me["preferred_username"], "octocat", "{label}");
        assert_eq!(*mock.basic_auths.lock().unwrap(), 1, "{label}");

        // A misbehaving OpenID provider: each fault refused with a page, never a 500.
        let cases: [Fault; 5] = [
            ("wrong nonce", |b| b.wrong_nonce = true, 400, "could not be verified"),
            ("wrong audience", |b| b.wrong_audience = true, 400, "could not be verified"),
            ("bad signature", |b| b.bad_signature = true, 400, "could not be verified"),
            ("a foreign iss (RFC 9207)", |b| b.wrong_iss_parameter = true, 400, "could not be verified"),
            ("token endpoint down", |b| b.token_endpoint_broken = true, 502, "could not be reached"),
        ];
        for (what, f, status, says) in cases {
            set(&mock, f);
            let page = through_mock(&s, &b, "weird").await;
            assert_eq!(page.status, status, "{label}: {what}: {}", page.body);
            assert!(page.body.contains(says) && page.is_login_page(), "{label}: {what}");
        }
        // The user cancelled at the provider.
        let login = b.authorize(&webapp_auth(&[("prompt", "login")])).await;
        let out = b.get(&crate::upstreams::provider_link(&login, "weird")).await;
        let state: String = url::Url::parse(out.header("location").unwrap())
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into();
        let cancelled = b.get(&format!("/login/upstream/weird/callback?error=access_denied&state={state}")).await;
        assert_eq!(cancelled.status, 403, "{label}: {}", cancelled.body);
        assert!(cancelled.body.contains("cancelled or refused"), "{label}");
        // A state for another provider finds nothing here.
        let login = b.authorize(&webapp_auth(&[("prompt", "login")])).await;
        let out = b.get(&crate::upstreams::provider_link(&login, "github")).await;
        let other = url::Url::parse(out.header("location").unwrap()).unwrap();
        let q = other.query().unwrap();
        let mixed = b.get(&format!("/login/upstream/weird/callback?code=x&{q}")).await;
        assert_eq!(mixed.status, 400, "{label}: {}", mixed.body);

        // Behaving, and trusted for its amr: the upstream's mfa counts here.
        set(&mock, |b| b.amr = Some(vec!["pwd", "otp", "mfa", "made-up"]));
        let done = through_mock(&s, &b, "weird").await;
        let id_token = crate::upstreams::webapp_id_token(&s, &b, &done).await;
        assert_eq!(id_token["amr"], json!(["fed", "pwd", "otp", "mfa"]), "{label}");
        assert_eq!(id_token["acr"], "mfa", "{label}");

        let metrics = s.http.get(&admin_cfg).send().await.unwrap().text().await.unwrap();
        for outcome in ["success", "refused", "failed"] {
            let line = format!("gatehouse_upstream_sign_ins_total{{provider=\"weird\",outcome=\"{outcome}\"}}");
            assert!(metrics.contains(&line), "{label}: {line}");
        }
    }
}

#[tokio::test]
async fn an_unverified_github_address_is_not_trusted() {
    let mock = start_mock().await;
    set(&mock, |b| b.email_verified = false);
    let s = TestServer::start(&config(&mock.base), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let done = through_mock(&s, &b, "github").await;
    let tokens = crate::upstreams::webapp_tokens_after(&s, &b, &done).await;
    // The primary address is not verified (and a verified one is not primary): the user has none.
    let me = userinfo(&s, &tokens).await;
    assert!(me.get("email").is_none() && me["preferred_username"] == "octocat", "{me}");
}

#[tokio::test]
async fn a_sync_claims_provider_keeps_a_users_claims_current() {
    use crate::admin::{admin_token, call};
    for db in TestDb::each().await {
        let label = db.label;
        let mock = start_mock().await;
        let ops = "[[clients]]\nclient_id = \"ops\"\nclient_secret = \"ops-secret\"\nscope = \"gatehouse:admin\"\n\
                   grants = [\"client_credentials\"]\n";
        let cfg = config(&mock.base).replace("kind = \"github\"\n", "kind = \"github\"\nsync_claims = true\n");
        let s = TestServer::start(&format!("{cfg}\n{ops}"), db).await.unwrap();
        let admin = admin_token(&s).await;
        let b = Browser::new(&s.url);
        let sign_in = || async {
            let done = through_mock(&s, &b, "github").await;
            let tokens = crate::upstreams::webapp_tokens_after(&s, &b, &done).await;
            userinfo(&s, &tokens).await
        };
        let me = sign_in().await;
        assert_eq!((&me["name"], &me["picture"]), (&json!("The Octocat"), &json!("https://avatars.example/u/583231")));
        let sub = me["sub"].as_str().unwrap().to_owned();
        // An administrator adds a claim the provider does not map: it stays.
        let (_, _, user) = call(&s, &admin, "GET", &format!("/admin/v1/users/{sub}"), None).await;
        let mut claims = user["claims"].clone();
        claims["department"] = json!("R&D");
        let patch = json!({"claims": claims});
        assert_eq!(call(&s, &admin, "PATCH", &format!("/admin/v1/users/{sub}"), Some(patch)).await.0, 200, "{label}");

        // The provider's name changes and its avatar goes: the next sign-in says so.
        set(&mock, |b| {
            b.name = Some("Mona Lisa Octocat");
            b.no_avatar = true;
        });
        let me = sign_in().await;
        assert_eq!(me["sub"], sub.as_str(), "{label}: the same user");
        assert_eq!(me["name"], "Mona Lisa Octocat", "{label}: {me}");
        assert!(me.get("picture").is_none(), "{label}: a claim no longer sent is removed: {me}");
        assert_eq!(me["email"], "octocat@example.com", "{label}");
        let (_, _, user) = call(&s, &admin, "GET", &format!("/admin/v1/users/{sub}"), None).await;
        assert_eq!(user["claims"]["department"], "R&D", "{label}: unmapped claims are kept: {user}");

        // The audit log names what changed (not the values), once: nothing changes, nothing logged.
        let _ = sign_in().await;
        let (_, _, audit) = call(&s, &admin, "GET", "/admin/v1/audit?action=user.update", None).await;
        let synced: Vec<&Value> =
            audit["items"].as_array().unwrap().iter().filter(|e| e["actor"] == "upstream:github").collect();
        assert_eq!(synced.len(), 1, "{label}: {audit}");
        assert_eq!(synced[0]["details"]["claims"], json!(["name", "picture"]), "{label}");
        assert!(!audit.to_string().contains("Mona Lisa"), "{label}: no values in the log");

        // A new address another user here holds is not taken over; a free one is.
        set(&mock, |b| b.primary_email = Some("alice@example.com"));
        assert_eq!(sign_in().await["email"], "octocat@example.com", "{label}");
        set(&mock, |b| b.primary_email = Some("octo-new@example.com"));
        let me = sign_in().await;
        assert_eq!((&me["email"], &me["email_verified"]), (&json!("octo-new@example.com"), &json!(true)), "{label}");
    }
}

/// `/userinfo` at `s` with the access token of a token response.
pub(crate) async fn userinfo(s: &TestServer, tokens: &Value) -> Value {
    let r = s.http.get(s.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    r.json().await.unwrap()
}
