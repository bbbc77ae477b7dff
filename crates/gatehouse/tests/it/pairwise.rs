//! Pairwise subject identifiers (OIDC Core §8) over real HTTP on both stores: one stable `sub`
//! per sector — the same for two clients on one host, another for a client whose
//! `sector_identifier_uri` names another sector, never the user's own — in ID tokens, access
//! tokens, userinfo, introspection and `id_token_hint`; registration fetches and checks the
//! `sector_identifier_uri`.

use crate::CONFIG;
use crate::signer::JwksHost;
use gatehouse_testkit::browser::{Browser, CHALLENGE, VERIFIER};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

fn client(id: &str, port: u16, extra: &str) -> String {
    format!(
        "[[clients]]\nclient_id = \"{id}\"\nscope = \"openid email\"\ngrants = [\"authorization_code\"]\nredirect_uris = [\"http://127.0.0.1:{port}/cb\"]\nfirst_party = true\nsubject_type = \"pairwise\"\n{extra}\n"
    )
}

fn config(sector_uri: &str) -> String {
    format!(
        "{CONFIG}\n[fetch]\nallow_loopback = true\n[registration]\nenabled = true\n{}{}{}",
        client("pw-one", 8201, ""),
        client("pw-two", 8202, ""),
        client("pw-other", 8203, &format!("sector_identifier_uri = \"{sector_uri}\"")),
    )
}

/// Code + PKCE for a public client; the token response.
async fn sign_in(s: &TestServer, b: &Browser, id: &str, port: u16, extra: &[(&str, &str)]) -> Value {
    let cb = format!("http://127.0.0.1:{port}/cb");
    let mut params = vec![
        ("client_id", id),
        ("redirect_uri", cb.as_str()),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "s"),
    ];
    params.extend_from_slice(extra);
    let p = b.sign_in(&params, "alice", "alice-password").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", id),
        ("code", &p["code"]),
        ("redirect_uri", &cb),
        ("code_verifier", VERIFIER),
    ];
    s.http.post(s.url("/token")).form(&form).send().await.unwrap().json().await.unwrap()
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn each_sector_knows_the_user_by_its_own_stable_subject() {
    for db in TestDb::each().await {
        let label = db.label;
        let sector = JwksHost::serving("/sector.json", json!(["http://127.0.0.1:8203/cb"]), "application/json").await;
        let sector_uri = sector.url.replace("127.0.0.1", "localhost");
        let s = TestServer::start(&config(&sector_uri), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["subject_types_supported"], json!(["public", "pairwise"]), "{label}");

        let public = crate::webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let alice = claims(public["id_token"].as_str().unwrap())["sub"].as_str().unwrap().to_owned();

        let b = Browser::new(&s.url);
        let one = sign_in(&s, &b, "pw-one", 8201, &[]).await;
        let sub_one = claims(one["id_token"].as_str().unwrap())["sub"].as_str().unwrap().to_owned();
        assert_ne!(sub_one, alice, "{label}: a pairwise subject is not the user's own");
        assert_eq!(claims(one["access_token"].as_str().unwrap())["sub"], sub_one, "{label}: the access token too");
        let two = sign_in(&s, &b, "pw-two", 8202, &[]).await;
        assert_eq!(claims(two["id_token"].as_str().unwrap())["sub"], sub_one, "{label}: one sector, one subject");
        let other = sign_in(&s, &b, "pw-other", 8203, &[]).await;
        let sub_other = claims(other["id_token"].as_str().unwrap())["sub"].as_str().unwrap().to_owned();
        assert!(sub_other != sub_one && sub_other != alice, "{label}: another sector");
        // Stable: a second sign-in gives the same.
        let again = sign_in(&s, &Browser::new(&s.url), "pw-one", 8201, &[]).await;
        assert_eq!(claims(again["id_token"].as_str().unwrap())["sub"], sub_one, "{label}");

        // Userinfo and introspection find the user behind it and answer with it.
        let at = one["access_token"].as_str().unwrap();
        let info: Value = s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            (info["sub"].as_str(), info["email"].as_str()),
            (Some(sub_one.as_str()), Some("alice@example.com")),
            "{label}: {info}"
        );
        let i: Value = s
            .http
            .post(s.url("/introspect"))
            .form(&[("client_id", "pw-one"), ("token", at)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (i["active"].as_bool(), i["sub"].as_str(), i["username"].as_str()),
            (Some(true), Some(sub_one.as_str()), Some("alice")),
            "{label}: {i}"
        );

        // An id_token_hint names the user by the pairwise subject.
        let hint = one["id_token"].as_str().unwrap();
        let t = sign_in(&s, &b, "pw-one", 8201, &[("prompt", "none"), ("id_token_hint", hint)]).await;
        assert_eq!(claims(t["id_token"].as_str().unwrap())["sub"], sub_one, "{label}");
    }
}

#[tokio::test]
async fn registration_checks_the_sector_identifier_uri() {
    let listed = JwksHost::serving(
        "/sector.json",
        json!(["https://a.example.com/cb", "https://b.example.com/cb"]),
        "application/json",
    )
    .await;
    let s = TestServer::start(&config("https://example.com/unused.json"), TestDb::sqlite()).await.unwrap();
    let register = |body: Value| {
        let s = &s;
        async move {
            let r = s.http.post(s.url("/register")).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let two_hosts = json!(["https://a.example.com/cb", "https://b.example.com/cb"]);
    let (st, e) = register(json!({"redirect_uris": two_hosts, "subject_type": "pairwise"})).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "several hosts need a sector: {e}");
    let (st, reg) =
        register(json!({"redirect_uris": two_hosts, "subject_type": "pairwise", "sector_identifier_uri": listed.url}))
            .await;
    assert_eq!(st, 201, "{reg}");
    assert_eq!(reg["subject_type"], "pairwise");
    let (st, e) = register(json!({"redirect_uris": ["https://c.example.com/cb"], "subject_type": "pairwise", "sector_identifier_uri": listed.url})).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_redirect_uri")),
        "a redirect URI the document omits: {e}"
    );
    let (st, e) = register(json!({"redirect_uris": ["https://c.example.com/cb"], "subject_type": "pairwise", "sector_identifier_uri": "http://127.0.0.1:9/gone"})).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_client_metadata")), "unreachable: {e}");
}
