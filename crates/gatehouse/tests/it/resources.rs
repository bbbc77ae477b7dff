//! Resource indicators (RFC 8707) and protected-resource metadata (RFC 9728) over real HTTP on
//! both stores: `resource` at /authorize and at /token for every grant, the audience, scope,
//! lifetime and algorithm it makes, narrowing on redemption and refresh, `invalid_target`,
//! default audiences, introspection by the audience's resource server, Gatehouse's own APIs
//! refusing tokens for other resources, and the admin API's and CLI's resources.

use crate::{CONFIG, verify_jwt};
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

const MCP: &str = "https://mcp.example.com/mcp";
const ORDERS: &str = "https://orders.example.com";
const OPEN: &str = "https://open.example.com";
const AGENT_CB: &str = "http://127.0.0.1:8123/cb";

fn config() -> String {
    format!(
        r#"{CONFIG}
[[scopes]]
name = "mcp:tools"
description = "Use the MCP server's tools"

[[scopes]]
name = "orders:read"

[[resources]]
identifier = "{MCP}"
name = "Example MCP server"
scopes = ["mcp:tools"]
access_token_ttl = 300
access_token_signing_alg = "ES256"

[[resources]]
identifier = "{ORDERS}"
scopes = ["orders:read"]

[[resources]]
identifier = "{OPEN}"
any_client = true

[[clients]]
client_id = "agent"
client_secret = "agent-secret"
scope = "openid offline_access mcp:tools orders:read"
grants = ["authorization_code", "refresh_token", "password"]
redirect_uris = ["{AGENT_CB}"]
resources = ["{MCP}", "{ORDERS}"]

[[clients]]
client_id = "robot"
client_secret = "robot-secret"
scope = "orders:read gatehouse:provision"
grants = ["client_credentials"]
resources = ["{ORDERS}"]
default_resources = ["{ORDERS}"]

[[clients]]
client_id = "cli"
client_name = "Agent CLI"
scope = "openid mcp:tools"
grants = ["device_code"]
resources = ["{MCP}"]

[[clients]]
client_id = "orders-api"
client_secret = "orders-api-secret"
grants = ["client_credentials"]
introspection_audiences = ["{ORDERS}"]
"#
    )
}

async fn post(s: &TestServer, path: &str, who: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let r = s.http.post(s.url(path)).basic_auth(who.0, Some(who.1)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const AGENT: (&str, &str) = ("agent", "agent-secret");
const ROBOT: (&str, &str) = ("robot", "robot-secret");

/// Alice signs in through the agent asking for `resources`; the code.
async fn code(s: &TestServer, resources: &[&str]) -> String {
    let b = Browser::new(&s.url);
    let mut params = vec![
        ("client_id", "agent"),
        ("redirect_uri", AGENT_CB),
        ("response_type", "code"),
        ("scope", "openid offline_access mcp:tools orders:read"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    params.extend(resources.iter().map(|r| ("resource", *r)));
    b.sign_in(&params, "alice", "alice-password").await["code"].clone()
}

async fn redeem(s: &TestServer, code: &str, resources: &[&str]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", AGENT_CB),
        ("code_verifier", VERIFIER),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    post(s, "/token", AGENT, &form).await
}

async fn refresh(s: &TestServer, rt: &str, resources: &[&str]) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    post(s, "/token", AGENT, &form).await
}

fn header(token: &str) -> Value {
    use base64::Engine;
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

#[tokio::test]
async fn resource_parameters_make_the_audience_on_every_grant() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let iss = s.url.clone();

        // Both resources at /authorize; the code redeemed for all of them.
        let c = code(&s, &[MCP, ORDERS]).await;
        let (st, t) = redeem(&s, &c, &[]).await;
        assert_eq!(st, 200, "{label}: {t}");
        let at = t["access_token"].as_str().unwrap();
        let claims = verify_jwt(&s, at, Some(MCP)).await;
        assert_eq!(claims["aud"], json!([MCP, ORDERS, iss]), "{label}: openid makes userinfo an audience too");
        assert_eq!(claims["scope"], "mcp:tools offline_access openid orders:read");
        assert_eq!(header(at)["alg"], "ES256", "the MCP resource's algorithm");
        assert_eq!(t["expires_in"], 300, "the MCP resource's lifetime");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
        let rt = t["refresh_token"].as_str().unwrap().to_owned();

        // A refresh narrows to one granted resource, and its scopes.
        let (st, n) = refresh(&s, &rt, &[ORDERS]).await;
        assert_eq!(st, 200, "{label}: {n}");
        let claims = verify_jwt(&s, n["access_token"].as_str().unwrap(), Some(ORDERS)).await;
        assert_eq!(claims["aud"], json!([ORDERS, iss]));
        assert_eq!(n["scope"], "offline_access openid orders:read", "{label}: mcp:tools is the MCP server's");
        assert_eq!(n["expires_in"], 3600);
        let rt = n["refresh_token"].as_str().unwrap().to_owned();
        // ... and never widens: a resource never granted is invalid_target, and changes nothing.
        let (st, e) = refresh(&s, &rt, &[OPEN]).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_target")), "{label}: {e}");
        // The grant keeps both resources: the next refresh may ask for the other.
        let (st, n) = refresh(&s, &rt, &[MCP]).await;
        assert_eq!(st, 200, "{label}: the failed refresh spent nothing: {n}");
        assert_eq!(verify_jwt(&s, n["access_token"].as_str().unwrap(), Some(MCP)).await["aud"], json!([MCP, iss]));

        // A code redeemed for one of its resources.
        let c = code(&s, &[MCP, ORDERS]).await;
        let (st, e) = redeem(&s, &c, &[OPEN]).await;
        assert_eq!((st, e["error"].as_str()), (400, Some("invalid_target")), "{label}");
        let (st, t) = redeem(&s, &c, &[MCP]).await;
        assert_eq!(st, 200, "{label}: the refused redemption did not spend the code: {t}");
        assert_eq!(t["scope"], "mcp:tools offline_access openid");

        // Without resource: the issuer, and no resource's scopes.
        let c = code(&s, &[]).await;
        let (_, t) = redeem(&s, &c, &[]).await;
        let claims = verify_jwt(&s, t["access_token"].as_str().unwrap(), Some(&iss)).await;
        assert_eq!(claims["aud"], json!(iss), "{label}: one audience is a string");
        assert_eq!(t["scope"], "offline_access openid");

        // The password grant takes resource too.
        let (st, t) = post(
            &s,
            "/token",
            AGENT,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "orders:read"),
                ("resource", ORDERS),
            ],
        )
        .await;
        assert_eq!(st, 200, "{label}: {t}");
        assert_eq!(verify_jwt(&s, t["access_token"].as_str().unwrap(), Some(ORDERS)).await["aud"], json!(ORDERS));

        // client_credentials: the client's default resource without resource; only its own.
        let (st, t) = post(&s, "/token", ROBOT, &[("grant_type", "client_credentials")]).await;
        assert_eq!(st, 200, "{label}: {t}");
        let robot_at = t["access_token"].as_str().unwrap().to_owned();
        assert_eq!(verify_jwt(&s, &robot_at, Some(ORDERS)).await["aud"], json!(ORDERS));
        assert_eq!(t["scope"], "orders:read", "{label}: gatehouse:provision is for Gatehouse's own API only");
        for (bad, why) in [(MCP, "not the robot's"), ("https://nowhere.example.com", "unknown"), ("orders", "relative")]
        {
            let (st, e) = post(&s, "/token", ROBOT, &[("grant_type", "client_credentials"), ("resource", bad)]).await;
            assert_eq!((st, e["error"].as_str()), (400, Some("invalid_target")), "{label}: {why}: {e}");
        }
        let (st, t) = post(&s, "/token", ROBOT, &[("grant_type", "client_credentials"), ("resource", OPEN)]).await;
        assert_eq!(st, 200, "{label}: a resource open to any client: {t}");
        assert_eq!(verify_jwt(&s, t["access_token"].as_str().unwrap(), Some(OPEN)).await["aud"], json!(OPEN));

        // Introspection: the token's client, or the audience's resource server; nobody else.
        let rs = ("orders-api", "orders-api-secret");
        let (_, i) = post(&s, "/introspect", rs, &[("token", &robot_at)]).await;
        assert_eq!((i["active"].as_bool(), i["aud"].clone()), (Some(true), json!([ORDERS])), "{label}");
        let (_, i) = post(&s, "/introspect", rs, &[("token", t["access_token"].as_str().unwrap())]).await;
        assert_eq!(i, json!({"active": false}), "{label}: not its audience");

        // Gatehouse's own APIs refuse a token for another resource, and say where to look.
        let r = s.http.get(s.url("/userinfo")).bearer_auth(&robot_at).send().await.unwrap();
        assert_eq!(r.status(), 401, "{label}");
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(
            challenge.contains(&format!("resource_metadata=\"{iss}/.well-known/oauth-protected-resource\"")),
            "{challenge}"
        );
        let r = s.http.get(s.url("/admin/v1/clients")).bearer_auth(&robot_at).send().await.unwrap();
        assert_eq!(r.status(), 401, "{label}: not a token for the admin API");
        assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("resource_metadata="));
    }
}

#[tokio::test]
async fn authorization_requests_are_checked_before_anyone_signs_in() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let base = [
        ("client_id", "agent"),
        ("redirect_uri", AGENT_CB),
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "s1"),
    ];
    for (extra, error) in [
        (vec![("scope", "openid"), ("resource", OPEN), ("resource", "https://nowhere.example.com")], "invalid_target"),
        (vec![("scope", "openid"), ("resource", "https://mcp.example.com/mcp#frag")], "invalid_target"),
        (vec![("scope", "mcp:tools")], "invalid_scope"),
    ] {
        let mut p: Vec<(&str, &str)> = base.to_vec();
        p.extend(extra);
        let page = b.authorize(&p).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let q = page.redirect_params();
        assert_eq!(q.get("error").map(String::as_str), Some(error), "{q:?}");
        assert_eq!(q.get("state").map(String::as_str), Some("s1"));
    }
    // A good request: the consent page names the resource as well as the scopes.
    let mut p: Vec<(&str, &str)> = base.to_vec();
    p.extend([("scope", "openid mcp:tools"), ("resource", MCP)]);
    let login = b.authorize(&p).await;
    let consent = b.login(&login, "alice", "alice-password").await;
    assert!(consent.is_consent_page(), "{}", consent.body);
    assert!(
        consent.body.contains("Example MCP server") && consent.body.contains("mcp.example.com"),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("Use the MCP server&#x27;s tools"), "the scope in plain words: {}", consent.body);
}

#[tokio::test]
async fn gatehouse_publishes_its_own_protected_resource_metadata() {
    let s = TestServer::start(&config(), TestDb::sqlite()).await.unwrap();
    let (st, doc) = s.get_json("/.well-known/oauth-protected-resource").await.unwrap();
    assert_eq!(st, 200);
    assert_eq!(doc["resource"], json!(s.url));
    assert_eq!(doc["authorization_servers"], json!([s.url]));
    let scopes: Vec<&str> = doc["scopes_supported"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(scopes.contains(&"openid") && scopes.contains(&"roles"), "{scopes:?}");
    assert!(!scopes.contains(&"mcp:tools"), "another resource's scope: {scopes:?}");
    // A request without a token gets the pointer too.
    let r = s.http.get(s.url("/userinfo")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("resource_metadata="));
}

#[tokio::test]
async fn resources_are_administered_through_the_api() {
    for db in TestDb::each().await {
        let label = db.label;
        let cfg = format!("{}\n{}", config(), crate::admin::config().trim_start_matches(CONFIG));
        let s = TestServer::start(&cfg, db).await.unwrap();
        let token = crate::admin::admin_token(&s).await;
        let call = |m: &'static str, p: String, b: Option<Value>| {
            let (s, token) = (&s, token.clone());
            async move { crate::admin::call(s, &token, m, &p, b).await }
        };
        let enc = |id: &str| url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>();
        let new = "https://billing.example.com";

        let (st, _, list) = call("GET", "/admin/v1/resources".into(), None).await;
        assert_eq!((st, list["items"].as_array().map(Vec::len)), (200, Some(3)), "{label}: {list}");
        let (st, _, p) =
            call("POST", "/admin/v1/resources".into(), Some(json!({"identifier": "billing", "scopes": ["nope"]})))
                .await;
        assert_eq!(st, 400, "{label}");
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, ["identifier", "scopes"], "{p}");
        let body = json!({"identifier": new, "name": "Billing", "access_token_ttl": 120});
        let (st, _, v) = call("POST", "/admin/v1/resources".into(), Some(body.clone())).await;
        assert_eq!((st, v["name"].as_str()), (201, Some("Billing")), "{label}: {v}");
        assert_eq!(call("POST", "/admin/v1/resources".into(), Some(body)).await.0, 409, "{label}: exists");
        let (st, _, v) = call("GET", format!("/admin/v1/resources/{}", enc(new)), None).await;
        assert_eq!((st, v["access_token_ttl"].as_i64()), (200, Some(120)), "{label}: {v}");

        // In force at once: a client may now list it and get tokens for it.
        let robot = json!({"client_id": "billing-bot", "client_secret": "billing-bot-secret",
            "grants": ["client_credentials"], "resources": [new]});
        assert_eq!(call("POST", "/admin/v1/clients".into(), Some(robot)).await.0, 201, "{label}");
        let (st, t) = post(
            &s,
            "/token",
            ("billing-bot", "billing-bot-secret"),
            &[("grant_type", "client_credentials"), ("resource", new)],
        )
        .await;
        assert_eq!((st, t["expires_in"].as_i64()), (200, Some(120)), "{label}: {t}");
        let unknown = json!({"client_id": "x", "grants": ["client_credentials"], "client_secret": "s",
            "resources": ["https://nowhere.example.com"]});
        let (st, _, p) = call("POST", "/admin/v1/clients".into(), Some(unknown)).await;
        assert_eq!((st, p["errors"][0]["field"].as_str()), (400, Some("resources")), "{label}: {p}");

        // Updated; refused while listed; deleted once it is not.
        let (st, _, v) = call(
            "PUT",
            format!("/admin/v1/resources/{}", enc(new)),
            Some(json!({"identifier": new, "access_token_ttl": 60})),
        )
        .await;
        assert_eq!((st, v["access_token_ttl"].as_i64()), (200, Some(60)), "{label}");
        let (st, _, p) = call("DELETE", format!("/admin/v1/resources/{}", enc(new)), None).await;
        assert_eq!(st, 409, "{label}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("billing-bot"));
        assert_eq!(call("DELETE", "/admin/v1/clients/billing-bot".into(), None).await.0, 204);
        assert_eq!(call("DELETE", format!("/admin/v1/resources/{}", enc(new)), None).await.0, 204, "{label}");
        assert_eq!(call("GET", format!("/admin/v1/resources/{}", enc(new)), None).await.0, 404);
        // A scope a resource owns cannot go either.
        let (st, _, p) = call("DELETE", "/admin/v1/scopes/orders:read".into(), None).await;
        assert_eq!(st, 409, "{label}: {p}");

        let (_, _, audit) = call("GET", "/admin/v1/audit?limit=50".into(), None).await;
        let actions: Vec<&str> =
            audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        for a in ["resource.create", "resource.update", "resource.delete"] {
            assert!(actions.contains(&a), "{label}: {a} in {actions:?}");
        }
    }
}

#[tokio::test]
async fn the_device_grant_keeps_its_resources() {
    use gatehouse_protocol::clock::ManualClock;
    let clock = std::sync::Arc::new(ManualClock::new(1_800_000_000));
    let s = TestServer::start_with_clock(&config(), TestDb::sqlite(), clock.clone()).await.unwrap();
    let start = |form: Vec<(&'static str, &'static str)>| {
        let s = &s;
        async move {
            let r = s.http.post(s.url("/device_authorization")).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, e) = start(vec![("client_id", "cli"), ("scope", "openid"), ("resource", ORDERS)]).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_target")), "{e}");
    let (st, d) = start(vec![("client_id", "cli"), ("scope", "openid mcp:tools"), ("resource", MCP)]).await;
    assert_eq!(st, 200, "{d}");

    let b = Browser::new(&s.url);
    let page = b.get(&format!("/device?user_code={}", d["user_code"].as_str().unwrap())).await;
    let (csrf, code) = (page.field("csrf").unwrap(), d["user_code"].as_str().unwrap().to_owned());
    let login = b.post("/device", &[("csrf", &csrf), ("user_code", &code)]).await;
    let consent = b
        .post(
            "/device/login",
            &[("csrf", &csrf), ("user_code", &code), ("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(
        consent.body.contains("Example MCP server") && consent.body.contains("mcp.example.com"),
        "{}",
        consent.body
    );
    let done = b.post("/device/consent", &[("csrf", &csrf), ("user_code", &code), ("decision", "approve")]).await;
    assert_eq!(done.status, 200, "{}", done.body);

    let poll = |resource: Option<&'static str>| {
        let (s, dc) = (&s, d["device_code"].as_str().unwrap().to_owned());
        async move {
            let mut form = vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code".to_owned()),
                ("client_id", "cli".to_owned()),
                ("device_code", dc),
            ];
            form.extend(resource.map(|r| ("resource", r.to_owned())));
            let r = s.http.post(s.url("/token")).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    clock.advance(30);
    let (st, e) = poll(Some(ORDERS)).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_target")), "{e}");
    clock.advance(30);
    let (st, t) = poll(None).await;
    assert_eq!(st, 200, "the refused poll did not spend the code: {t}");
    assert_eq!(t["scope"], "mcp:tools openid");
    assert_eq!(verify_jwt(&s, t["access_token"].as_str().unwrap(), Some(MCP)).await["aud"], json!([MCP, s.url]));
}
