use crate::CONFIG;
use gatehouse_protocol::jose::{SigningAlg, SigningKey};
use gatehouse_store::{KeyState, KeyStore, SqlStore};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::json;

fn jwt_alg(alg: SigningAlg) -> jsonwebtoken::Algorithm {
    match alg {
        SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
        SigningAlg::PS256 => jsonwebtoken::Algorithm::PS256,
        SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
        SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
    }
}

/// The published keys parse in an independent JOSE library and verify tokens signed with the
/// server's stored private keys.
#[tokio::test]
async fn published_keys_verify_tokens_signed_by_the_server_keys() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let r = s.http.get(s.url("/jwks")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/jwk-set+json");
        let set: jsonwebtoken::jwk::JwkSet = r.json().await.unwrap();
        assert!(set.keys.len() >= 4, "{label}: RS256, PS256, ES256, EdDSA");

        let store = SqlStore::connect(&s.db.url).await.unwrap();
        let stored = store.list_keys().await.unwrap();
        for alg in [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::PS256, SigningAlg::EdDSA] {
            let k = stored.iter().find(|k| k.alg == alg && k.state == KeyState::Current).unwrap();
            let signer = SigningKey::from_pkcs8(alg, &k.private_pkcs8).unwrap();
            let token = signer.sign("JWT", &json!({"sub": "alice", "exp": 4_000_000_000u64})).unwrap();

            let header = jsonwebtoken::decode_header(&token).unwrap();
            let jwk =
                set.find(header.kid.as_deref().unwrap()).unwrap_or_else(|| panic!("{label}: {alg} kid published"));
            assert_eq!(jwk.common.key_algorithm.map(|a| format!("{a:?}")), Some(alg.as_str().to_owned()));
            assert_eq!(jwk.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Signature));
            let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
            let mut v = jsonwebtoken::Validation::new(jwt_alg(alg));
            v.validate_aud = false;
            let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &v).unwrap();
            assert_eq!(data.claims["sub"], "alice", "{label} {alg}");
        }
        store.close().await;
    }
}

#[tokio::test]
async fn published_keys_hold_no_private_material() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let (_, set) = s.get_json("/jwks").await.unwrap();
    for k in set["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "private member {private} published");
        }
        assert!(k["kid"].is_string());
    }
}
