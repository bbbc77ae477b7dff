//! Third-party-initiated login (OIDC Core §4) over real HTTP: `/initiate_login/{client_id}`
//! sends the browser to the client's `initiate_login_uri` with `iss` (and the hints it was
//! given); clients without one, unknown clients, and registrations with a plain-http
//! `initiate_login_uri` are refused.

use crate::CONFIG;
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

#[tokio::test]
async fn gatehouse_starts_a_sign_in_at_the_client() {
    let cfg = CONFIG.replacen(
        "client_id = \"webapp\"\n",
        "client_id = \"webapp\"\ninitiate_login_uri = \"https://app.example.com/login\"\n",
        1,
    ) + "\n[registration]\nenabled = true\n";
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(&cfg, db).await.unwrap();
        let r = s
            .http
            .get(s.url("/initiate_login/webapp?login_hint=alice&target_link_uri=https%3A%2F%2Fapp.example.com%2Freports&other=x"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{label}");
        let to = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!((to.host_str(), to.path()), (Some("app.example.com"), "/login"));
        let q: Vec<(String, String)> = to.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            [
                ("iss".to_owned(), s.url.clone()),
                ("login_hint".to_owned(), "alice".to_owned()),
                ("target_link_uri".to_owned(), "https://app.example.com/reports".to_owned())
            ],
            "{label}: only what §4 names is passed on"
        );
        for path in ["/initiate_login/spa", "/initiate_login/nobody"] {
            assert_eq!(s.http.get(s.url(path)).send().await.unwrap().status(), 404, "{label}: {path}");
        }
        let register = |uri: &str| {
            s.http
                .post(s.url("/register"))
                .json(&json!({"redirect_uris": ["https://r.example.com/cb"], "initiate_login_uri": uri}))
                .send()
        };
        let r = register("https://r.example.com/start").await.unwrap();
        assert_eq!(r.status(), 201, "{label}");
        assert_eq!(r.json::<Value>().await.unwrap()["initiate_login_uri"], "https://r.example.com/start");
        let r = register("http://r.example.com/start").await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client_metadata", "{label}");
    }
}
