//! `acr` and `amr` over real HTTP on both stores: the levels in discovery, `acr` in ID tokens
//! (the first level asked for that the sign-in meets, else its highest; kept through a
//! refresh), `amr` as the user signed in, an essential `acr` no sign-in here can meet answered
//! `unmet_authentication_requirements`, and operator-defined levels.

use crate::{CONFIG, verify_jwt, webapp_auth, webapp_tokens};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

#[tokio::test]
async fn id_tokens_say_how_and_how_strongly_the_user_signed_in() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["acr_values_supported"], json!(["pwd", "mfa"]), "{label}");

        let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!((id["acr"].as_str(), &id["amr"]), (Some("pwd"), &json!(["pwd"])), "{label}: {id}");

        // Voluntary: the first level asked for that the sign-in meets.
        let t = webapp_tokens(&s, &Browser::new(&s.url), &[("acr_values", "mfa pwd")]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(id["acr"], "pwd", "{label}");
        // Kept through a refresh.
        let refreshed = crate::webapp_refresh(&s, t["refresh_token"].as_str().unwrap()).await;
        let id = verify_jwt(&s, refreshed["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(id["acr"], "pwd", "{label}");

        // Essential and beyond reach (alice has no second factor, and this deployment no sealing key to add one).
        let essential = json!({"id_token": {"acr": {"essential": true, "values": ["mfa"]}}}).to_string();
        let b = Browser::new(&s.url);
        let login = b.authorize(&webapp_auth(&[("claims", &essential)])).await;
        assert!(login.is_login_page(), "{label}: {}", login.body);
        let done = b.login(&login, "alice", "alice-password").await;
        let p = done.redirect_params();
        assert_eq!(p.get("error").map(String::as_str), Some("unmet_authentication_requirements"), "{label}: {p:?}");
        assert_eq!(p.get("state").map(String::as_str), Some("st-123"));
        // Essential and met.
        let met = json!({"id_token": {"acr": {"essential": true, "value": "pwd"}}}).to_string();
        let t = webapp_tokens(&s, &b, &[("claims", &met)]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(id["acr"], "pwd", "{label}");

        // The password grant says the same.
        let r = s
            .http
            .post(s.url("/token"))
            .basic_auth("pwapp", Some("pwapp-secret"))
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-password"),
                ("scope", "openid"),
            ])
            .send()
            .await
            .unwrap();
        let t: Value = r.json().await.unwrap();
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("pwapp")).await;
        assert_eq!((id["acr"].as_str(), &id["amr"]), (Some("pwd"), &json!(["pwd"])), "{label}");
    }
}

#[tokio::test]
async fn operators_name_their_own_levels() {
    let cfg = format!(
        "{CONFIG}\n[[acr_levels]]\nname = \"urn:example:acr:basic\"\namr = [\"pwd\"]\n\n[[acr_levels]]\nname = \"urn:example:acr:strong\"\namr = [\"hwk\", \"mfa\"]\n"
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(meta["acr_values_supported"], json!(["urn:example:acr:basic", "urn:example:acr:strong"]));
    let t = webapp_tokens(&s, &Browser::new(&s.url), &[]).await;
    let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
    assert_eq!(id["acr"], "urn:example:acr:basic");
    let bad = format!("{CONFIG}\n[[acr_levels]]\nname = \"a b\"\namr = []\n");
    let e = TestServer::start(&bad, TestDb::sqlite()).await.err().expect("refused").to_string();
    assert!(e.contains("acr_levels[0]"), "{e}");
}
