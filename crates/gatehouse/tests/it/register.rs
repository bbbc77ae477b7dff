//! Dynamic client registration (RFC 7591) and management (RFC 7592): off by default, gated by
//! an initial access token when one is set, validated and capped by policy.

use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

const INITIAL: &str = "initial-access-token-0123456789";

fn config() -> String {
    format!(
        "{}\n[registration]\nenabled = true\ninitial_access_token = \"{INITIAL}\"\nallowed_scopes = \"openid profile email roles\"\n",
        crate::admin::config()
    )
}

async fn register(s: &TestServer, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = s.http.post(s.url("/register")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn registration_is_off_by_default() {
    let s = TestServer::start(crate::CONFIG, TestDb::sqlite()).await.unwrap();
    let (st, _) = register(&s, None, json!({"redirect_uris": ["https://rp.example/cb"]})).await;
    assert_eq!(st, 404);
    let (_, disco) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert!(disco.get("registration_endpoint").is_none());
}

#[tokio::test]
async fn a_registered_client_is_usable_at_once_and_managed_with_its_token() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let (_, disco) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(disco["registration_endpoint"], s.url("/register"));

        // The initial access token is required.
        let body = json!({"client_name": "Robot", "grant_types": ["client_credentials"], "scope": "roles",
                          "first_party": true, "introspection_audiences": ["x"], "logo_uri": "https://rp.example/l.png"});
        assert_eq!(register(&s, None, body.clone()).await.0, 401);
        assert_eq!(register(&s, Some("wrong-token-wrong-token"), body.clone()).await.0, 401);
        let (st, c) = register(&s, Some(INITIAL), body).await;
        assert_eq!(st, 201, "{c}");
        let (id, secret) = (c["client_id"].as_str().unwrap(), c["client_secret"].as_str().unwrap());
        assert_eq!(c["client_secret_expires_at"], 0);
        assert_eq!(c["grant_types"], json!(["client_credentials"]));
        assert_eq!(c["first_party"], false, "operator-only metadata is ignored");
        assert!(c.get("introspection_audiences").is_none());
        let rat = c["registration_access_token"].as_str().unwrap().to_owned();
        assert_eq!(c["registration_client_uri"], s.url(&format!("/register/{id}")));

        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "roles")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "usable at once");

        // RFC 7592: read, update, delete with the registration access token only.
        let uri = format!("/register/{id}");
        let get = |t: String| {
            let s = &s;
            let uri = uri.clone();
            async move { s.http.get(s.url(&uri)).bearer_auth(t).send().await.unwrap() }
        };
        assert_eq!(get("nope".into()).await.status(), 401);
        assert_eq!(get(crate::admin::admin_token(&s).await).await.status(), 401, "an admin token is not this client's");
        let r = get(rat.clone()).await;
        assert_eq!(r.status(), 200);
        let read: Value = r.json().await.unwrap();
        assert_eq!(read["client_name"], "Robot");
        assert!(read.get("client_secret").is_none());
        // RFC 7592 §2.1: the read returns a registration access token (a new one: only hashes
        // are kept) and the client's URI; the token presented is replaced.
        assert_eq!(read["registration_client_uri"], s.url(&uri));
        let rat = read["registration_access_token"].as_str().expect("RFC 7592 §2.1").to_owned();
        assert_ne!(rat, c["registration_access_token"].as_str().unwrap());
        assert_eq!(get(c["registration_access_token"].as_str().unwrap().into()).await.status(), 401, "replaced");

        let put = |body: Value| {
            let (s, uri, rat) = (&s, uri.clone(), rat.clone());
            async move { s.http.put(s.url(&uri)).bearer_auth(rat).json(&body).send().await.unwrap() }
        };
        let r = put(json!({"client_id": "other", "grant_types": ["client_credentials"]})).await;
        assert_eq!(r.status(), 400);
        let r = put(
            json!({"client_id": id, "client_name": "Robot 2", "grant_types": ["client_credentials"], "scope": "roles"}),
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["client_name"], "Robot 2");
        let r = put(json!({"client_id": id, "grant_types": ["password"]})).await;
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client_metadata");

        let r = s.http.delete(s.url(&uri)).bearer_auth(&rat).send().await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(get(rat.clone()).await.status(), 401, "RFC 7592 §2.1: a deleted client answers 401");

        // Every step is in the audit log as `registration`.
        let t = crate::admin::admin_token(&s).await;
        let (_, _, log) = crate::admin::call(&s, &t, "GET", "/admin/v1/audit?actor=registration", None).await;
        let actions: Vec<&str> =
            log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["client.delete", "client.update", "client.create"]);
    }
}

#[tokio::test]
async fn registration_is_validated_and_capped_by_policy() {
    for db in TestDb::each().await {
        let s = TestServer::start(&config(), db).await.unwrap();
        let cases = [
            (json!({"redirect_uris": ["https://rp.example/cb#frag"]}), "invalid_redirect_uri"),
            (json!({"redirect_uris": ["/relative"]}), "invalid_redirect_uri"),
            (json!({"grant_types": ["authorization_code"]}), "invalid_redirect_uri"),
            (
                json!({"redirect_uris": ["https://rp.example/cb"], "scope": "openid gatehouse:admin"}),
                "invalid_client_metadata",
            ),
            (json!({"redirect_uris": ["https://rp.example/cb"], "scope": "phone"}), "invalid_client_metadata"),
            (json!({"grant_types": ["password"]}), "invalid_client_metadata"),
            (
                json!({"redirect_uris": ["https://rp.example/cb"], "response_types": ["code id_token"]}),
                "invalid_client_metadata",
            ),
            (
                json!({"redirect_uris": ["https://rp.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
                "invalid_client_metadata",
            ),
            (json!({"redirect_uris": "https://rp.example/cb"}), "invalid_client_metadata"),
        ];
        for (body, code) in cases {
            let (st, e) = register(&s, Some(INITIAL), body.clone()).await;
            assert_eq!((st, e["error"].as_str()), (400, Some(code)), "{body}: {e}");
        }
        let r = s.http.post(s.url("/register")).bearer_auth(INITIAL).body("redirect_uris=x").send().await.unwrap();
        assert_eq!(r.status(), 400);

        // A public client: no secret; PKCE enforced as for any public client.
        let (st, c) = register(
            &s,
            Some(INITIAL),
            json!({"redirect_uris": ["http://127.0.0.1:8765/cb"], "token_endpoint_auth_method": "none", "scope": "openid"}),
        )
        .await;
        assert_eq!(st, 201, "{c}");
        assert!(c.get("client_secret").is_none());
        assert_eq!(c["response_types"], json!(["code"]));
        let t = crate::admin::admin_token(&s).await;
        let (_, _, v) =
            crate::admin::call(&s, &t, "GET", &format!("/admin/v1/clients/{}", c["client_id"].as_str().unwrap()), None)
                .await;
        assert_eq!(v["public"], true);
    }
}

/// OIDC Dynamic Client Registration §2 `application_type`, the field a refusal names, and
/// `offline_access` only for clients that may use refresh tokens (issue 19 §4, §5).
#[tokio::test]
async fn application_types_refusals_that_name_their_field_and_no_offline_access_without_refresh() {
    let cfg = format!(
        "{}\n[registration]\nenabled = true\nallowed_grants = [\"authorization_code\", \"implicit\", \"refresh_token\"]\n",
        crate::admin::config()
    );
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&cfg, db).await.unwrap();
        let refused = [
            json!({"redirect_uris": ["http://rp.example/cb"], "grant_types": ["implicit"], "response_types": ["id_token"]}),
            json!({"redirect_uris": ["https://localhost/cb"], "grant_types": ["implicit"], "response_types": ["id_token"]}),
            json!({"application_type": "native", "redirect_uris": ["https://rp.example/cb"]}),
            json!({"application_type": "native", "redirect_uris": ["http://rp.example/cb"]}),
        ];
        for body in refused {
            let (st, e) = register(&s, None, body.clone()).await;
            assert_eq!((st, e["error"].as_str()), (400, Some("invalid_redirect_uri")), "{label}: {body}: {e}");
        }
        let (st, e) = register(&s, None, json!({"application_type": "desktop", "redirect_uris": ["x:/cb"]})).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "{label}: {e}");

        let native = json!({"application_type": "native", "token_endpoint_auth_method": "none",
                            "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1/cb"]});
        let (st, c) = register(&s, None, native).await;
        assert_eq!(st, 201, "{label}: {c}");
        assert_eq!(c["application_type"], "native");
        let r = s
            .http
            .get(s.url(&format!("/register/{}", c["client_id"].as_str().unwrap())))
            .bearer_auth(c["registration_access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["application_type"], "native", "{label}: kept");
        assert!(
            !c["scope"].as_str().unwrap().split(' ').any(|s| s == "offline_access"),
            "{label}: no refresh grant, no offline_access: {c}"
        );
        let (st, c) = register(
            &s,
            None,
            json!({"redirect_uris": ["https://rp.example/cb"], "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await;
        assert_eq!(st, 201, "{label}: {c}");
        assert!(c["scope"].as_str().unwrap().split(' ').any(|s| s == "offline_access"), "{label}: {c}");
    }
    // oidc-agent registers with response_types ["token"] alone: the refusal names that field and
    // what the deployment allows.
    let s =
        TestServer::start(&format!("{}\n[registration]\nenabled = true\n", crate::admin::config()), TestDb::sqlite())
            .await
            .unwrap();
    let (st, e) =
        register(&s, None, json!({"redirect_uris": ["https://rp.example/cb"], "response_types": ["token"]})).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "{e}");
    let d = e["error_description"].as_str().unwrap();
    assert!(d.starts_with("response_types"), "{d}");
    assert!(d.contains("allowed grant_types") && d.contains("allowed response_types: code"), "{d}");
}

/// RFC 9449 §5.2: a client registered with `dpop_bound_access_tokens` must prove at /token.
#[tokio::test]
async fn a_client_may_register_as_always_using_dpop() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let (st, c) = register(
        &s,
        Some(INITIAL),
        json!({"grant_types": ["client_credentials"], "scope": "roles", "dpop_bound_access_tokens": true}),
    )
    .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["dpop_bound_access_tokens"], true);
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth(c["client_id"].as_str().unwrap(), c["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_dpop_proof");
}
