use crate::CONFIG;
use gatehouse_protocol::ClientId;
use gatehouse_store::{ClientStore, SqlStore, UserStore};
use gatehouse_testkit::{TestDb, TestServer};

/// Keys, generated subs and stored secret hashes survive a restart; re-applying the same
/// config changes nothing.
#[tokio::test]
async fn restart_keeps_keys_subs_and_hashes() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let (_, jwks_before) = s.get_json("/jwks").await.unwrap();
        let store = SqlStore::connect(&s.db.url).await.unwrap();
        let alice = store.get_user_by_username("alice").await.unwrap().unwrap();
        let webapp = store.get_client(&ClientId::parse("webapp").unwrap()).await.unwrap().unwrap();
        store.close().await;
        let db = s.stop().await;

        let s = TestServer::start(CONFIG, db).await.unwrap();
        let (_, jwks_after) = s.get_json("/jwks").await.unwrap();
        assert_eq!(jwks_before, jwks_after, "{label}: keys kept across restart");
        let store = SqlStore::connect(&s.db.url).await.unwrap();
        let alice2 = store.get_user_by_username("alice").await.unwrap().unwrap();
        assert_eq!(alice.sub, alice2.sub, "{label}: a generated sub is stable");
        assert_eq!(alice.password_hash, alice2.password_hash, "{label}: an unchanged password is not re-hashed");
        let webapp2 = store.get_client(&webapp.id).await.unwrap().unwrap();
        assert_eq!(webapp.secret, webapp2.secret, "{label}: an unchanged secret is not re-hashed");
        store.close().await;
    }
}

/// A changed secret in the file replaces the stored hash at the next start.
#[tokio::test]
async fn changed_secret_is_applied_on_restart() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let db = s.stop().await;
    let changed = CONFIG.replace("webapp-secret", "rotated-secret");
    let s = TestServer::start(&changed, db).await.unwrap();
    let store = SqlStore::connect(&s.db.url).await.unwrap();
    let webapp = store.get_client(&ClientId::parse("webapp").unwrap()).await.unwrap().unwrap();
    let hash = webapp.secret.unwrap();
    use gatehouse_protocol::secret::Secret;
    assert!(hash.verify(&Secret::new("rotated-secret")));
    assert!(!hash.verify(&Secret::new("webapp-secret")));
    store.close().await;
}
