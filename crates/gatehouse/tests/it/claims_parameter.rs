//! The `claims` request parameter (OIDC Core §5.5) over real HTTP on both stores: claims asked
//! for by name go where they were asked for — the ID token beside an access token, userinfo for
//! a scope that keeps them out of it — kept through a refresh, and never beyond the scopes the
//! user granted; a malformed parameter is `invalid_request`.

use crate::{CONFIG, verify_jwt, webapp_tokens};
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// `roles` releases its claim in ID and access tokens only, never at userinfo.
fn config() -> String {
    CONFIG.replacen(
        "claims = [\"roles\"]\ndescription = \"See which roles you have\"",
        "claims = [\"roles\"]\ndescription = \"See which roles you have\"\ninclude_in = [\"id_token\", \"access_token\"]",
        1,
    )
}

async fn userinfo(s: &TestServer, at: &str) -> Value {
    s.http.get(s.url("/userinfo")).bearer_auth(at).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn claims_asked_for_by_name_are_released_where_asked_within_the_granted_scopes() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&config(), db).await.unwrap();
        let (_, meta) = s.get_json("/.well-known/openid-configuration").await.unwrap();
        assert_eq!(meta["claims_parameter_supported"], true, "{label}");

        // Without the parameter: email only at userinfo, roles never there.
        let b = Browser::new(&s.url);
        let plain = webapp_tokens(&s, &b, &[("scope", "openid email roles offline_access")]).await;
        let id = verify_jwt(&s, plain["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert!(id.get("email").is_none(), "{label}: {id}");
        let info = userinfo(&s, plain["access_token"].as_str().unwrap()).await;
        assert!(info.get("roles").is_none(), "{label}: {info}");

        // With it: email in the ID token, roles at userinfo; name (profile, not granted) nowhere.
        let asked = json!({
            "id_token": {"email": {"essential": true}, "name": null},
            "userinfo": {"roles": null, "name": null}
        })
        .to_string();
        let b = Browser::new(&s.url);
        let t = webapp_tokens(&s, &b, &[("scope", "openid email roles offline_access"), ("claims", &asked)]).await;
        let id = verify_jwt(&s, t["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(id["email"], "alice@example.com", "{label}: {id}");
        assert!(id.get("name").is_none(), "{label}: profile was not granted: {id}");
        let info = userinfo(&s, t["access_token"].as_str().unwrap()).await;
        assert_eq!(info["roles"], json!(["admin"]), "{label}: {info}");
        assert!(info.get("name").is_none(), "{label}: {info}");

        // A refresh keeps honouring the request.
        let refreshed = crate::webapp_refresh(&s, t["refresh_token"].as_str().unwrap()).await;
        let id = verify_jwt(&s, refreshed["id_token"].as_str().unwrap(), Some("webapp")).await;
        assert_eq!(id["email"], "alice@example.com", "{label}: {refreshed}");
        let info = userinfo(&s, refreshed["access_token"].as_str().unwrap()).await;
        assert_eq!(info["roles"], json!(["admin"]), "{label}");

        // Malformed: an error back to the client.
        for bad in ["not json", r#"{"userinfo": {"email": true}}"#] {
            let page = Browser::new(&s.url).authorize(&crate::webapp_auth(&[("claims", bad)])).await;
            assert_eq!(
                page.redirect_params().get("error").map(String::as_str),
                Some("invalid_request"),
                "{label}: {bad}"
            );
        }
    }
}
