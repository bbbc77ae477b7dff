//! Request objects (RFC 9101, OIDC Core §6) and pushed authorization requests (RFC 9126) over
//! real HTTP on both stores: a signed request by value and by reference, its parameters winning
//! over the query's; an unsigned one only from a client registered for it; a request pushed to
//! /par and used once; a client that must push; and the refusals — a bad signature, a replayed
//! or expired object, a used or foreign request_uri, a push that would not pass /authorize.

use crate::private_key_jwt::toml_jwks;
use crate::signer::{ClientKey, JwksHost, fresh_id, now};
use crate::{CONFIG, verify_jwt};
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

const CB: &str = "http://127.0.0.1:8100/cb";

fn config(key: &ClientKey) -> String {
    format!(
        r#"{CONFIG}
[fetch]
allow_loopback = true

[[clients]]
client_id = "jar"
client_secret = "jar-secret"
jwks = {jwks}
scope = "openid profile"
grants = ["authorization_code"]
redirect_uris = ["{CB}"]
first_party = true

[[clients]]
client_id = "unsigned"
client_secret = "unsigned-secret"
request_object_signing_alg = "none"
scope = "openid"
grants = ["authorization_code"]
redirect_uris = ["{CB}"]
first_party = true

[[clients]]
client_id = "pushy"
scope = "openid"
grants = ["authorization_code"]
redirect_uris = ["{CB}"]
require_pushed_authorization_requests = true
first_party = true
"#,
        jwks = toml_jwks(&ClientKey::set(&[key]))
    )
}

/// The claims of a request object from `jar` to `s`.
fn request_claims(s: &TestServer, state: &str) -> Value {
    json!({
        "iss": "jar", "aud": s.url, "client_id": "jar", "jti": fresh_id(), "exp": now() + 300,
        "response_type": "code", "redirect_uri": CB, "scope": "openid profile", "state": state,
        "nonce": "object-nonce", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
    })
}

/// Signs alice in from `page` and redeems the code for `client`, returning the ID token's claims.
async fn finish(
    s: &TestServer,
    b: &Browser,
    page: gatehouse_testkit::browser::Page,
    client: (&str, &str),
    state: &str,
) -> Value {
    assert!(page.is_login_page(), "{}: {:?} {}", page.status, page.header("location"), page.body);
    let done = b.login(&page, "alice", "alice-password").await;
    let p = done.redirect_params();
    assert_eq!(p.get("state").map(String::as_str), Some(state), "{:?}", done.headers);
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    verify_jwt(s, t["id_token"].as_str().unwrap(), Some(client.0)).await
}

fn refused(page: &gatehouse_testkit::browser::Page, code: &str, label: &str) {
    assert_eq!(page.status, 400, "{label}: {}", page.body);
    assert!(page.body.contains(code), "{label}: {code} not in {}", page.body);
    assert!(page.header("location").is_none(), "{label}: never redirected");
}

#[tokio::test]
async fn signed_request_objects_by_value_and_by_reference() {
    for db in TestDb::each().await {
        let label = db.label;
        let key = ClientKey::new("jar-1");
        let s = TestServer::start(&config(&key), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(
            (meta["request_parameter_supported"].as_bool(), meta["request_uri_parameter_supported"].as_bool()),
            (Some(true), Some(true))
        );
        assert!(meta["request_object_signing_alg_values_supported"].as_array().unwrap().contains(&json!("ES256")));

        // By value: the object's parameters win over the query's (scope, state, nonce).
        let b = Browser::new(&s.url);
        let jwt = key.sign(Some("oauth-authz-req+jwt"), &request_claims(&s, "from-object"));
        let page = b
            .authorize(&[
                ("client_id", "jar"),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "outer"),
                ("request", &jwt),
            ])
            .await;
        let id = finish(&s, &b, page, ("jar", "jar-secret"), "from-object").await;
        assert_eq!(id["nonce"], "object-nonce", "{label}");

        // Used once (its jti).
        let again = Browser::new(&s.url).authorize(&[("client_id", "jar"), ("request", &jwt)]).await;
        refused(&again, "invalid_request_object", label);

        // By reference, fetched from the client.
        let jwt = key.sign(None, &request_claims(&s, "by-reference"));
        let host = JwksHost::serving("/request.jwt", Value::String(jwt), "application/oauth-authz-req+jwt").await;
        let b = Browser::new(&s.url);
        let page = b.authorize(&[("client_id", "jar"), ("request_uri", &host.url)]).await;
        finish(&s, &b, page, ("jar", "jar-secret"), "by-reference").await;

        // Refusals, each an error page.
        let mut expired = request_claims(&s, "x");
        expired["exp"] = json!(now() - 600);
        let mut elsewhere = request_claims(&s, "x");
        elsewhere["aud"] = json!("https://other.example.com");
        let mut other_client = request_claims(&s, "x");
        other_client["client_id"] = json!("webapp");
        let unsigned = format!("eyJhbGciOiJub25lIn0.{}.", b64(&request_claims(&s, "x")));
        for (why, jwt) in [
            ("another key", ClientKey::new("jar-1").sign(None, &request_claims(&s, "x"))),
            ("expired", key.sign(None, &expired)),
            ("for another server", key.sign(None, &elsewhere)),
            ("naming another client", key.sign(None, &other_client)),
            ("unsigned from a client that signs", unsigned),
            ("not a JWT", "abc".to_owned()),
        ] {
            let page = Browser::new(&s.url).authorize(&[("client_id", "jar"), ("request", &jwt)]).await;
            refused(&page, "invalid_request_object", &format!("{label}: {why}"));
        }
        let page =
            Browser::new(&s.url).authorize(&[("client_id", "jar"), ("request_uri", "http://127.0.0.1:9/gone")]).await;
        refused(&page, "invalid_request_uri", label);
        let page = Browser::new(&s.url)
            .authorize(&[("client_id", "jar"), ("request", "a.b.c"), ("request_uri", &host.url)])
            .await;
        refused(&page, "invalid_request", label);

        // Unsigned, from the client registered for it.
        let mut claims = request_claims(&s, "unsigned");
        claims["client_id"] = json!("unsigned");
        claims["iss"] = json!("unsigned");
        claims["scope"] = json!("openid");
        let jwt = format!("eyJhbGciOiJub25lIn0.{}.", b64(&claims));
        let b = Browser::new(&s.url);
        let page = b.authorize(&[("client_id", "unsigned"), ("request", &jwt)]).await;
        finish(&s, &b, page, ("unsigned", "unsigned-secret"), "unsigned").await;
    }
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn push(s: &TestServer, client: (&str, Option<&str>), form: &[(&str, &str)]) -> (u16, Value) {
    let mut req = s.http.post(s.url("/par"));
    let mut form = form.to_vec();
    match client.1 {
        Some(secret) => req = req.basic_auth(client.0, Some(secret)),
        None => form.push(("client_id", client.0)),
    }
    let r = req.form(&form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn plain_request(state: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("redirect_uri", CB.into()),
        ("scope", "openid".into()),
        ("state", state.into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

#[tokio::test]
async fn pushed_requests_are_used_once_and_can_be_required() {
    for db in TestDb::each().await {
        let label = db.label;
        let key = ClientKey::new("jar-1");
        let s = TestServer::start(&config(&key), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["pushed_authorization_request_endpoint"], s.url("/par"), "{label}");
        assert_eq!(meta["require_pushed_authorization_requests"], false);

        let form = plain_request("pushed");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (st, pushed) = push(&s, ("jar", Some("jar-secret")), &form).await;
        assert_eq!(st, 201, "{label}: {pushed}");
        let uri = pushed["request_uri"].as_str().unwrap();
        assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{uri}");
        assert_eq!(pushed["expires_in"], 90);

        let b = Browser::new(&s.url);
        let page = b.authorize(&[("client_id", "jar"), ("request_uri", uri)]).await;
        finish(&s, &b, page, ("jar", "jar-secret"), "pushed").await;
        let page = Browser::new(&s.url).authorize(&[("client_id", "jar"), ("request_uri", uri)]).await;
        refused(&page, "invalid_request_uri", &format!("{label}: used once"));

        // Another client cannot use it; a signed request object may be pushed too.
        let jwt = key.sign(None, &request_claims(&s, "pushed-object"));
        let (st, pushed) = push(&s, ("jar", Some("jar-secret")), &[("request", &jwt)]).await;
        assert_eq!(st, 201, "{label}: {pushed}");
        let uri = pushed["request_uri"].as_str().unwrap();
        let page = Browser::new(&s.url).authorize(&[("client_id", "unsigned"), ("request_uri", uri)]).await;
        refused(&page, "invalid_request_uri", &format!("{label}: another client's"));

        // Pushes that would not pass /authorize, or are not the client's to make.
        let mut bad_redirect = form.clone();
        bad_redirect[1] = ("redirect_uri", "https://evil.example.com/cb");
        let (st, e) = push(&s, ("jar", Some("jar-secret")), &bad_redirect).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request")), "{label}: {e}");
        let mut no_challenge = form.clone();
        no_challenge.retain(|(k, _)| !k.starts_with("code_challenge"));
        assert_eq!(
            push(&s, ("pushy", None), &no_challenge).await.1["error"],
            "invalid_request",
            "{label}: PKCE for a public client"
        );
        let (st, e) = push(&s, ("jar", Some("wrong")), &form).await;
        assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")), "{label}");
        let mut with_uri = form.clone();
        with_uri.push(("request_uri", "urn:ietf:params:oauth:request_uri:x"));
        assert_eq!(push(&s, ("jar", Some("jar-secret")), &with_uri).await.1["error"], "invalid_request");
        let mut forged = request_claims(&s, "x");
        forged["jti"] = json!(fresh_id());
        let (st, e) =
            push(&s, ("jar", Some("jar-secret")), &[("request", &ClientKey::new("x").sign(None, &forged))]).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request_object")), "{label}: {e}");

        // A client that must push: a plain request is refused, a pushed one works.
        let mut query = form.clone();
        query.push(("client_id", "pushy"));
        refused(&Browser::new(&s.url).authorize(&query).await, "invalid_request", &format!("{label}: must push"));
        let (st, pushed) = push(&s, ("pushy", None), &form).await;
        assert_eq!(st, 201, "{label}: {pushed}");
        let b = Browser::new(&s.url);
        let page =
            b.authorize(&[("client_id", "pushy"), ("request_uri", pushed["request_uri"].as_str().unwrap())]).await;
        assert!(page.is_login_page(), "{label}: {}", page.body);
        let done = b.login(&page, "alice", "alice-password").await;
        assert!(done.redirect_params().contains_key("code"), "{label}");
    }
}
