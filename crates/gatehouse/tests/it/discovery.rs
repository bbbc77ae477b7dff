use crate::CONFIG;
use gatehouse_testkit::{TestDb, TestServer};

#[tokio::test]
async fn openid_configuration_has_the_required_fields_and_our_issuer() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let r = s.http.get(s.url("/.well-known/openid-configuration")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{label}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "browser apps may fetch discovery");
        let m: serde_json::Value = r.json().await.unwrap();
        // OIDC Discovery §4.3: the issuer in the document equals the URL it was fetched from.
        assert_eq!(m["issuer"], s.url.as_str(), "{label}");
        assert_eq!(m["jwks_uri"], s.url("/jwks"));
        // OIDC Discovery 1.0 §3 REQUIRED members that do not depend on later endpoints.
        for field in ["response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"] {
            assert!(m[field].is_array(), "{label}: {field} missing");
        }
        let algs = m["id_token_signing_alg_values_supported"].as_array().unwrap();
        assert!(algs.contains(&"RS256".into()), "OIDC Core §15.1 requires RS256");
        let scopes = m["scopes_supported"].as_array().unwrap();
        for s in ["openid", "profile", "email", "address", "phone", "offline_access", "roles"] {
            assert!(scopes.contains(&s.into()), "{label}: scope {s}");
        }
        assert!(m["claims_supported"].as_array().unwrap().contains(&"roles".into()));
        // Only what exists is advertised: every endpoint URL listed must answer.
        for (k, v) in m.as_object().unwrap() {
            if k.ends_with("_endpoint") || k == "jwks_uri" {
                let url = v.as_str().unwrap();
                let status = s.http.get(url).send().await.unwrap().status();
                assert_ne!(status, 404, "{label}: {k} = {url} is advertised but missing");
            }
        }
    }
}

#[tokio::test]
async fn rfc_8414_metadata_is_the_same_document() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let (_, oidc) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    let (status, oauth) = s.get_json("/.well-known/oauth-authorization-server").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(oidc, oauth);
}

#[tokio::test]
async fn wrong_method_and_unknown_paths() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let r = s.http.post(s.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let (status, body) = s.get_json("/.well-known/nope").await.unwrap();
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
}
