//! Several nodes on one PostgreSQL (issue 9): three servers on ephemeral ports behind one
//! issuer, as behind a load balancer with nothing sticky, and flows that cross them. Every
//! cache's reload interval and TTL is 300 s here, so what one node changes reaches the others
//! through the database (and its `NOTIFY`), not through time.

use crate::admin::{admin_token, call};
use crate::{WEBAPP_CB, verify_jwt, webapp_auth};
use gatehouse_testkit::browser::{Browser, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WEBAPP: (&str, &str) = ("webapp", "webapp-secret");

/// Three nodes on a fresh PostgreSQL database; A's URL is everyone's issuer. `None` without
/// `GATEHOUSE_TEST_POSTGRES_URL` (outside CI).
async fn three_nodes() -> Option<[TestServer; 3]> {
    let db = TestDb::postgres().await?;
    let cfg = format!(
        "cache_ttl = 300\ncatalog_reload_interval = 300\nkey_reload_interval = 300\n{}",
        crate::admin::config()
    );
    let (b_db, c_db) = (db.shared(), db.shared());
    let a = TestServer::start(&cfg, db).await.unwrap();
    let b = TestServer::start_node(&cfg, b_db, &a.url).await.unwrap();
    let c = TestServer::start_node(&cfg, c_db, &a.url).await.unwrap();
    Some([a, b, c])
}

/// POSTs a form to `path` at `s` as the webapp client: (status, JSON body).
async fn post(s: &TestServer, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = s.http.post(s.url(path)).basic_auth(WEBAPP.0, Some(WEBAPP.1)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn exchange_form(code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code".into()),
        ("code", code.into()),
        ("redirect_uri", WEBAPP_CB.into()),
        ("code_verifier", VERIFIER.into()),
    ]
}

async fn active(s: &TestServer, token: &str) -> bool {
    post(s, "/introspect", &[("token", token)]).await.1["active"] == json!(true)
}

/// Sends `form` to `/token` at each of `nodes` in turn, `per_node` times each, all at once.
/// Returns every (status, body).
async fn race(nodes: &[&TestServer], per_node: usize, form: &[(&'static str, String)]) -> Vec<(u16, Value)> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(nodes.len() * per_node));
    let tasks: Vec<_> = nodes
        .iter()
        .flat_map(|s| std::iter::repeat_n((s.http.clone(), s.url("/token")), per_node))
        .map(|(http, url)| {
            let (form, start) = (form.to_vec(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let r = http.post(url).basic_auth(WEBAPP.0, Some(WEBAPP.1)).form(&form).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The one success among `outcomes`; every other is `invalid_grant`.
fn one_winner(outcomes: Vec<(u16, Value)>, what: &str) -> Value {
    let (won, lost): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(|(st, _)| *st == 200);
    assert_eq!(won.len(), 1, "{what}: exactly one success, got {won:?}");
    assert!(lost.iter().all(|(st, b)| *st == 400 && b["error"] == "invalid_grant"), "{what}: {lost:?}");
    won.into_iter().next().unwrap().1
}

/// Sign in at A (authorize), B (login) and C (consent), one browser; redeem the code at B,
/// refresh at C, revoke at A, introspect at B.
#[tokio::test]
async fn a_sign_in_crosses_three_nodes() {
    let Some([a, b, c]) = three_nodes().await else { return };
    let browser = Browser::new(&a.url);
    let page = browser.authorize(&webapp_auth(&[])).await;
    assert!(page.is_login_page(), "A asks for a login");
    let page = browser.at(&b.url).login(&page, "alice", "alice-password").await;
    assert!(page.is_consent_page(), "B knows A's interaction and asks for consent: {}", page.body);
    let page = browser.at(&c.url).consent(&page, "approve").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = page.redirect_params()["code"].clone();

    let form = exchange_form(&code);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (st, tokens) = post(&b, "/token", &form).await;
    assert_eq!(st, 200, "B redeems A's code: {tokens}");
    let claims = verify_jwt(&a, tokens["id_token"].as_str().unwrap(), Some("webapp")).await;
    assert_eq!(claims["iss"], a.url, "one issuer whichever node signs");
    assert_eq!(a.get_json("/jwks").await.unwrap(), c.get_json("/jwks").await.unwrap(), "one key set");

    let rt = tokens["refresh_token"].as_str().unwrap();
    let (st, refreshed) = post(&c, "/token", &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
    assert_eq!(st, 200, "C refreshes B's token: {refreshed}");
    let (at, rt) = (refreshed["access_token"].as_str().unwrap(), refreshed["refresh_token"].as_str().unwrap());
    let userinfo = a.http.get(a.url("/userinfo")).bearer_auth(at).send().await.unwrap();
    assert_eq!(userinfo.status(), 200, "A serves userinfo for C's token");
    assert!(active(&b, at).await && active(&b, rt).await);

    // B has just looked at both tokens; A revokes them; B knows at once.
    assert_eq!(post(&a, "/revoke", &[("token", at)]).await.0, 200);
    assert_eq!(post(&a, "/revoke", &[("token", rt)]).await.0, 200);
    assert!(!active(&b, at).await, "B sees A's revocation of the access token");
    assert!(!active(&b, rt).await, "B sees A's revocation of the refresh token");
    let (st, body) = post(&c, "/token", &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")), "C refuses the revoked token");
    let userinfo = c.http.get(c.url("/userinfo")).bearer_auth(at).send().await.unwrap();
    assert_eq!(userinfo.status(), 401, "C refuses the revoked access token");
}

/// One code redeemed at three nodes at once: one success, and the losers' replay revokes what
/// the winner got. One refresh token rotated at two nodes at once: rotated once, every use a
/// retry inside the grace window that gets the same successor; once the successor has been
/// used, the old token presented again revokes the family at every node.
#[tokio::test]
async fn races_across_nodes_have_one_winner_and_revoke_its_tokens() {
    let Some([a, b, c]) = three_nodes().await else { return };
    for round in 0..3 {
        let browser = Browser::new(&a.url);
        let code = browser.sign_in(&webapp_auth(&[]), "alice", "alice-password").await["code"].clone();
        let won = one_winner(race(&[&a, &b, &c], 2, &exchange_form(&code)).await, "code redemption");
        let (at, rt) = (won["access_token"].as_str().unwrap(), won["refresh_token"].as_str().unwrap());
        assert!(!active(&a, at).await, "round {round}: the replay revoked the winner's access token");
        let (st, _) = post(&c, "/token", &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        assert_eq!(st, 400, "round {round}: the replay revoked the winner's refresh token");

        let code = browser.sign_in(&webapp_auth(&[]), "alice", "alice-password").await["code"].clone();
        let form = exchange_form(&code);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (st, tokens) = post(&a, "/token", &form).await;
        assert_eq!(st, 200);
        let refresh: [(&str, String); 2] = [
            ("grant_type", "refresh_token".into()),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap().into()),
        ];
        let all = race(&[&b, &c], 3, &refresh).await;
        assert!(all.iter().all(|(st, _)| *st == 200), "round {round}: {all:?}");
        let successors: std::collections::BTreeSet<&str> =
            all.iter().map(|(_, v)| v["refresh_token"].as_str().unwrap()).collect();
        assert_eq!(successors.len(), 1, "round {round}: one successor for every retry");
        let successor = successors.first().unwrap();
        let (st, newest) = post(&a, "/token", &[("grant_type", "refresh_token"), ("refresh_token", successor)]).await;
        assert_eq!(st, 200, "round {round}: the family lives: {newest}");
        let (st, _) = post(&b, "/token", &refresh.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
        assert_eq!(st, 400, "round {round}: the old token after its successor was used is a replay");
        let at = all[0].1["access_token"].as_str().unwrap();
        assert!(!active(&b, at).await, "round {round}: the replay revoked the retries' access tokens");
        let rt = newest["refresh_token"].as_str().unwrap();
        let (st, _) = post(&c, "/token", &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
        assert_eq!(st, 400, "round {round}: and the newest refresh token");
    }
}

/// The status of a `client_credentials` request by client `id` at `s`.
fn cc_status(s: &TestServer, id: &str, secret: String) -> impl std::future::Future<Output = u16> + use<> {
    let req = s.http.post(s.url("/token")).basic_auth(id, Some(secret)).form(&[("grant_type", "client_credentials")]);
    async move { req.send().await.unwrap().status().as_u16() }
}

/// Polls `check` every 20 ms for up to 10 s (a bound for slow machines; the
/// times printed are what it took); returns how long it took to hold.
async fn within_moments<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}: not followed within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

/// A client changed through the admin API at A is used at C straight after; a key rotated at B
/// is in A's JWKS and signs at C. C and A had cached the old state (TTLs of 300 s).
#[tokio::test]
async fn admin_changes_and_key_rotations_reach_every_node() {
    let Some([a, b, c]) = three_nodes().await else { return };
    let t = admin_token(&a).await;
    let spec = json!({"client_id": "crossing", "scope": "roles", "grants": ["client_credentials"]});
    let (st, _, created) = call(&a, &t, "POST", "/admin/v1/clients", Some(spec)).await;
    assert_eq!(st, 201, "{created}");
    let old = created["client_secret"].as_str().unwrap().to_owned();
    let cc = |s: &TestServer, secret: String| cc_status(s, "crossing", secret);
    assert_eq!(cc(&c, old.clone()).await, 200, "C uses the client A created (and caches it)");

    let (st, _, rotated) = call(&a, &t, "POST", "/admin/v1/clients/crossing/rotate-secret", None).await;
    assert_eq!(st, 200);
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    let took = within_moments("C takes the new secret", || {
        let (f1, f2) = (cc(&c, new.clone()), cc(&c, old.clone()));
        async move { f1.await == 200 && f2.await == 401 }
    })
    .await;
    eprintln!("C followed A's client change after {took:?}");

    let (_, jwks) = a.get_json("/jwks").await.unwrap();
    let before: Vec<Value> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
    let (st, _, keys) = call(&b, &admin_token(&b).await, "POST", "/admin/v1/keys/rotate?alg=ES256", None).await;
    assert_eq!(st, 200, "{keys}");
    let items = keys["items"].as_array().unwrap();
    let kid = |state: &str| items.iter().find(|k| k["state"] == state && k["alg"] == "ES256").unwrap()["kid"].clone();
    let (current, next) = (kid("current"), kid("next"));
    assert!(before.contains(&current) && !before.contains(&next), "B rotated: the old next key now signs");
    let took = within_moments("A publishes B's new next key", || async {
        let (_, jwks) = a.get_json("/jwks").await.unwrap();
        jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == next)
    })
    .await;
    eprintln!("A's JWKS followed B's key rotation after {took:?}");
    // The admin client signs its tokens with ES256: C now signs with the key B made current.
    within_moments("C signs with the key B made current", || async {
        let token = admin_token(&c).await;
        jsonwebtoken::decode_header(&token).unwrap().kid.map(Value::from) == Some(current.clone())
    })
    .await;
}

/// A node whose database goes away answers 503 with `Retry-After` (readiness, and requests that
/// need the database), and recovers by itself when the database is back: requests, readiness,
/// and change notifications, including what changed while it was cut off.
#[tokio::test]
async fn a_node_whose_database_goes_away_answers_503_and_recovers_by_itself() {
    use gatehouse_testkit::proxy::TcpProxy;
    let Some(db) = TestDb::postgres().await else { return };
    let proxy = TcpProxy::start(db.server_addr().unwrap()).await.unwrap();
    let cfg = format!(
        "cache_ttl = 300\ncatalog_reload_interval = 300\nkey_reload_interval = 300\n{}\n[database_pool]\nacquire_timeout = 1\n",
        crate::admin::config()
    );
    let a = TestServer::start(&cfg, db.through(&proxy)).await.unwrap();
    let b = TestServer::start_node(&cfg, db.shared(), &a.url).await.unwrap();
    let ready = |s: &TestServer| {
        let req = s.http.get(s.url("/readyz")).send();
        async move { req.await.unwrap().status().as_u16() }
    };
    let t = admin_token(&b).await;
    let spec = json!({"client_id": "steady", "scope": "roles", "grants": ["client_credentials"]});
    let old =
        call(&b, &t, "POST", "/admin/v1/clients", Some(spec)).await.2["client_secret"].as_str().unwrap().to_owned();
    let cc = |s: &TestServer, secret: &str| cc_status(s, "steady", secret.to_owned());
    assert_eq!((ready(&a).await, cc(&a, &old).await), (200, 200), "A is up and has the client cached");

    proxy.cut();
    within_moments("A reports itself not ready", || async { ready(&a).await == 503 }).await;
    let r = a
        .http
        .post(a.url("/token"))
        .basic_auth(WEBAPP.0, Some(WEBAPP.1))
        .form(&exchange_form("a-code"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "a request that needs the database");
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(!body.to_string().contains("127.0.0.1"), "no detail leaks: {body}");
    // The admin API too, where a token A has not seen yet needs the database for its
    // revocation check.
    let (st, _, p) = call(&a, &t, "GET", "/admin/v1/users", None).await;
    assert_eq!(st, 503, "{p}");
    // Meanwhile B, which still reaches the database, changes the client A has cached.
    let (st, _, rotated) = call(&b, &t, "POST", "/admin/v1/clients/steady/rotate-secret", None).await;
    assert_eq!(st, 200);
    let new = rotated["client_secret"].as_str().unwrap().to_owned();

    proxy.restore();
    let took = within_moments("A is ready again", || async { ready(&a).await == 200 }).await;
    eprintln!("A was ready again {took:?} after the database came back");
    within_moments("A follows the change it missed while cut off", || async {
        cc(&a, &new).await == 200 && cc(&a, &old).await == 401
    })
    .await;
    let (_, _, again) = call(&b, &t, "POST", "/admin/v1/clients/steady/rotate-secret", None).await;
    let newest = again["client_secret"].as_str().unwrap().to_owned();
    within_moments("A hears of changes again", || async { cc(&a, &newest).await == 200 && cc(&a, &new).await == 401 })
        .await;
    b.stop().await;
    a.stop().await;
    drop(db);
}

/// After a database restart the pool's connections are dead. A connection idle for over a
/// second is tested before use and replaced, so the first requests after a quiet spell succeed
/// instead of failing once per dead connection.
#[tokio::test]
async fn connections_idle_across_a_database_restart_are_replaced_before_use() {
    use gatehouse_testkit::proxy::TcpProxy;
    let Some(db) = TestDb::postgres().await else { return };
    let proxy = TcpProxy::start(db.server_addr().unwrap()).await.unwrap();
    let a = TestServer::start(&crate::admin::config(), db.through(&proxy)).await.unwrap();
    let t = admin_token(&a).await;
    // Requests at once, so that the pool holds several connections.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url, t) = (a.http.clone(), a.url("/admin/v1/users"), t.clone());
        set.spawn(async move { http.get(url).bearer_auth(t).send().await.unwrap().status().as_u16() });
    }
    assert_eq!(set.join_all().await, [200; 8]);

    // The database "restarts": every open connection breaks, new ones are accepted again.
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.restore();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for i in 0..8 {
        let (st, _, body) = call(&a, &t, "GET", "/admin/v1/users", None).await;
        assert_eq!(st, 200, "request {i} after the restart met a dead connection: {body}");
    }
    a.stop().await;
}
