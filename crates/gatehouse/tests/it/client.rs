//! `gatehouse-client`'s `Verifier` against a real Gatehouse (issue 20, first part): good
//! tokens, and every refusal an API must make.

use crate::CONFIG;
use gatehouse_client::{Verifier, VerifyError};
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

async fn service_token(s: &TestServer) -> String {
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("service", Some("service-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "roles")])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// CONFIG plus `api`, a client that may introspect the issuer's tokens.
fn introspecting_api() -> String {
    format!(
        "{CONFIG}\n[[clients]]\nclient_id = \"api\"\nclient_secret = \"api-secret\"\ngrants = [\"client_credentials\"]\nintrospection_audiences = [\"${{ISSUER}}\"]\n"
    )
}

/// Revokes the service's `token` (RFC 7009).
async fn revoke(s: &TestServer, token: &str) {
    let r = s.http.post(s.url("/revoke")).basic_auth("service", Some("service-secret")).form(&[("token", token)]);
    assert_eq!(r.send().await.unwrap().status(), 200);
}

/// A JWT with `header` and `claims` and a garbage signature.
fn forged(header: Value, claims: Value) -> String {
    use base64::Engine;
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.c2ln", b(&header), b(&claims))
}

#[tokio::test]
async fn a_good_token_is_verified_with_its_subject_client_and_scopes() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let v = Verifier::discover(&s.url, &s.url).await.unwrap();
    let t = v.verify(&service_token(&s).await).await.unwrap();
    assert_eq!(t.subject, "service");
    assert_eq!(t.client_id.as_deref(), Some("service"));
    assert_eq!(t.scopes.iter().map(String::as_str).collect::<Vec<_>>(), ["roles"]);
    assert_eq!(t.claims["iss"], s.url.as_str());
    assert_eq!(v.key_refreshes(), 0, "no fetch per request");
}

#[tokio::test]
async fn wrong_audience_issuer_type_expiry_and_forgeries_are_refused() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let token = service_token(&s).await;
    let other_api = Verifier::discover(&s.url, "https://api.example").await.unwrap();
    assert_eq!(other_api.verify(&token).await.unwrap_err(), VerifyError::WrongAudience);

    // A second node on the same store signs with the same keys but another issuer name.
    let other = TestServer::start_node(CONFIG, s.db.shared(), "http://issuer.example").await.unwrap();
    let v = Verifier::discover(&s.url, &s.url).await.unwrap();
    let foreign = service_token(&other).await;
    assert_eq!(v.verify(&foreign).await.unwrap_err(), VerifyError::WrongIssuer);

    // An ID token is no access token (RFC 9068 §2.1).
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&[("grant_type", "password"), ("username", "alice"), ("password", "alice-password"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    let id_token = r.json::<Value>().await.unwrap()["id_token"].as_str().unwrap().to_owned();
    assert_eq!(v.verify(&id_token).await.unwrap_err(), VerifyError::NotAnAccessToken);

    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let claims = serde_json::json!({"iss": s.url, "aud": s.url, "sub": "x", "exp": 4_000_000_000_i64});
    // `alg: none`.
    let none = forged(serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": kid}), claims.clone());
    assert_eq!(v.verify(&none).await.unwrap_err(), VerifyError::Malformed);
    // Algorithm confusion: HS256 "signed" with the RS256 key's public material.
    let hs = forged(serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}), claims.clone());
    assert_eq!(v.verify(&hs).await.unwrap_err(), VerifyError::AlgorithmNotAllowed);
    // An allowed algorithm that is not the key's.
    let es = forged(serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": kid}), claims.clone());
    assert_eq!(v.verify(&es).await.unwrap_err(), VerifyError::AlgorithmNotAllowed);
    // The right algorithm and key, a wrong signature.
    let rs = forged(serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}), claims);
    assert_eq!(v.verify(&rs).await.unwrap_err(), VerifyError::BadSignature);
    assert_eq!(v.verify("not a jwt").await.unwrap_err(), VerifyError::Malformed);
    other.stop().await;

    // Expired: issued by a server whose clock is two hours behind (beyond the leeway).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let clock = Arc::new(ManualClock::new(now - 7200));
    let past = TestServer::start_with_clock(CONFIG, TestDb::sqlite(), clock).await.unwrap();
    let v = Verifier::discover(&past.url, &past.url).await.unwrap();
    assert_eq!(v.verify(&service_token(&past).await).await.unwrap_err(), VerifyError::Expired);
}

/// After two key rotations the token's key was never in the cached JWKS: one refetch finds it.
/// An unknown key id after that does not refetch again within the interval, however many
/// requests carry it.
#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once_per_interval() {
    let cfg = format!("key_reload_interval = 1\n{}", crate::admin::config());
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let v = Arc::new(
        Verifier::discover(&s.url, &s.url).await.unwrap().with_min_refresh_interval(Duration::from_secs(3600)),
    );
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    let cached = kids(s.http.get(s.url("/jwks")).send().await.unwrap().json().await.unwrap());
    let admin = crate::admin::admin_token(&s).await;
    for _ in 0..2 {
        let r = s.http.post(s.url("/admin/v1/keys/rotate?alg=RS256")).bearer_auth(&admin).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    // A token signed with a key the verifier has never seen (the server uses it at once: the
    // rotation was made through its own admin API).
    let token = service_token(&s).await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(!cached.contains(&kid), "the test needs a key that was not published before");
    assert!(v.verify(&token).await.is_ok(), "the rotated key is found");
    assert_eq!(v.key_refreshes(), 1, "one refetch");

    // Fifty requests at once with a key id nobody has: no further refetch.
    let claims = serde_json::json!({"iss": s.url, "aud": s.url, "sub": "x", "exp": 4_000_000_000_i64});
    let bogus = forged(serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": "nobody-has-this"}), claims);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (v, bogus) = (v.clone(), bogus.clone());
        set.spawn(async move { v.verify(&bogus).await });
    }
    for r in set.join_all().await {
        assert_eq!(r.unwrap_err(), VerifyError::UnknownKey);
    }
    assert_eq!(v.key_refreshes(), 1, "no thundering herd, no fetch per request");
}

/// An axum API behind `RequireScope` (RFC 6750 §3): no token → 401 with a bare challenge; an
/// invalid token → 401 `invalid_token`; a valid token without the scope → 403
/// `insufficient_scope`; with it → the handler, which sees the verified token.
#[tokio::test]
async fn require_scope_guards_an_axum_api_as_rfc_6750_says() {
    use axum::routing::get;
    use gatehouse_client::axum::{Authenticated, RequireScope};
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let v = Arc::new(Verifier::discover(&s.url, &s.url).await.unwrap());
    let api = axum::Router::new()
        .route(
            "/reports",
            get(|Authenticated(t): Authenticated| async move { format!("{} {:?}", t.subject, t.client_id) }),
        )
        .layer(RequireScope::new(v.clone(), "roles"))
        .merge(axum::Router::new().route("/admin", get(|| async { "no" })).layer(RequireScope::new(v, "api:write")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, api).await });
    let http = reqwest::Client::new();
    let call = |path: &str, token: Option<&str>| {
        let mut req = http.get(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let r = req.send().await.unwrap();
            let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), challenge, r.text().await.unwrap())
        }
    };
    let (st, ch, _) = call("/reports", None).await;
    assert_eq!((st, ch.as_deref()), (401, Some("Bearer scope=\"roles\"")));
    let (st, ch, _) = call("/reports", Some("not-a-token")).await;
    assert_eq!(st, 401);
    assert!(ch.unwrap().contains("error=\"invalid_token\""));
    let token = service_token(&s).await;
    let (st, ch, _) = call("/admin", Some(&token)).await;
    assert_eq!(st, 403);
    let ch = ch.unwrap();
    assert!(ch.contains("error=\"insufficient_scope\"") && ch.contains("scope=\"api:write\""), "{ch}");
    let (st, _, body) = call("/reports", Some(&token)).await;
    assert_eq!((st, body.as_str()), (200, "service Some(\"service\")"));
    server.abort();
}

/// Introspection mode (RFC 7662): a revoked token stops working at once without a cache, and
/// within the cache's time with one; tokens for another audience are refused.
#[tokio::test]
async fn the_introspector_sees_a_revocation() {
    use gatehouse_client::Introspector;
    let s = TestServer::start(&introspecting_api(), TestDb::sqlite()).await.unwrap();
    let fresh =
        Introspector::discover(&s.url, &s.url, "api", "api-secret").await.unwrap().with_cache_ttl(Duration::ZERO);
    let cached = Introspector::discover(&s.url, &s.url, "api", "api-secret").await.unwrap();
    let token = service_token(&s).await;
    let t = fresh.verify(&token).await.unwrap();
    assert_eq!((t.subject.as_str(), t.scopes.contains("roles")), ("service", true));
    assert!(cached.verify(&token).await.is_ok());

    revoke(&s, &token).await;
    assert_eq!(fresh.verify(&token).await.unwrap_err(), VerifyError::Inactive, "at once without a cache");
    assert!(cached.verify(&token).await.is_ok(), "the cached answer stands for its few seconds");

    let elsewhere = Introspector::discover(&s.url, "https://api.example", "api", "api-secret").await.unwrap();
    assert_eq!(elsewhere.verify(&service_token(&s).await).await.unwrap_err(), VerifyError::WrongAudience);
    let wrong_secret = Introspector::discover(&s.url, &s.url, "api", "nope").await.unwrap();
    assert_eq!(wrong_secret.verify(&service_token(&s).await).await.unwrap_err(), VerifyError::Unavailable);
}

/// `RequireScope` over an `Introspector`: a token revoked a moment ago is refused at once.
#[tokio::test]
async fn require_scope_over_introspection_refuses_a_revoked_token_at_once() {
    use axum::routing::get;
    use gatehouse_client::Introspector;
    use gatehouse_client::axum::RequireScope;
    let s = TestServer::start(&introspecting_api(), TestDb::sqlite()).await.unwrap();
    let i = Arc::new(
        Introspector::discover(&s.url, &s.url, "api", "api-secret").await.unwrap().with_cache_ttl(Duration::ZERO),
    );
    let api = axum::Router::new().route("/reports", get(|| async { "ok" })).layer(RequireScope::new(i, "roles"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, api).await });
    let token = service_token(&s).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).bearer_auth(&token).send().await.unwrap().status(), 200);
    revoke(&s, &token).await;
    let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    server.abort();
}
