//! The storage contract: one suite, run on every backend.

use gatehouse_protocol::ClientId;
use gatehouse_protocol::claims::{ClaimTargets, ScopeDefinition};
use gatehouse_protocol::client::ClientSpec;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::scope::Scope;
use gatehouse_protocol::secret::{Secret, SecretHash};
use gatehouse_protocol::user::User;
use gatehouse_store::{ClientStore, KeyState, KeyStore, ScopeStore, SqlStore, Store, StoreError, StoredKey, UserStore};
use gatehouse_testkit::TestDb;

fn client(id: &str) -> gatehouse_protocol::Client {
    let spec = ClientSpec {
        client_id: id.into(),
        client_secret: Some(Secret::new("s")),
        scope: Some("openid profile".into()),
        grants: Some(vec!["authorization_code".into(), "refresh_token".into()]),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        ..Default::default()
    };
    let mut c = spec.validate(&|_| true).unwrap().client;
    c.secret = Some(SecretHash::sha256(&Secret::new("s")));
    c
}

fn user(sub: &str, name: &str) -> User {
    User {
        sub: sub.into(),
        username: name.into(),
        password_hash: SecretHash::sha256(&Secret::new("not-a-real-password-hash")),
        claims: serde_json::json!({"email": format!("{name}@example.com"), "roles": ["a"]})
            .as_object()
            .cloned()
            .unwrap(),
        disabled: false,
    }
}

async fn contract(s: &SqlStore, label: &str) {
    s.ping().await.unwrap();

    // Clients: upsert is insert-or-replace; the secret hash round-trips apart from the document.
    let c = client("webapp");
    s.upsert_client(&c, 1).await.unwrap();
    assert_eq!(s.get_client(&c.id).await.unwrap().as_ref(), Some(&c), "{label}");
    let mut changed = c.clone();
    changed.secret = None;
    changed.first_party = true;
    s.upsert_client(&changed, 2).await.unwrap();
    assert_eq!(s.get_client(&c.id).await.unwrap(), Some(changed), "{label}");
    s.upsert_client(&client("another"), 3).await.unwrap();
    let ids: Vec<String> = s.list_clients().await.unwrap().into_iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, ["another", "webapp"], "{label}");
    assert!(s.delete_client(&c.id).await.unwrap());
    assert!(!s.delete_client(&c.id).await.unwrap());
    assert_eq!(s.get_client(&ClientId::parse("webapp").unwrap()).await.unwrap(), None);

    // Users: by username and by sub; a username belongs to one sub.
    let alice = user("sub-1", "alice");
    s.upsert_user(&alice, 1).await.unwrap();
    assert_eq!(s.get_user_by_username("alice").await.unwrap().as_ref(), Some(&alice), "{label}");
    assert_eq!(s.get_user_by_sub("sub-1").await.unwrap().as_ref(), Some(&alice));
    assert_eq!(s.get_user_by_username("ALICE").await.unwrap(), None, "{label}: usernames are exact");
    let err = s.upsert_user(&user("sub-2", "alice"), 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{label}: {err:?}");
    assert_eq!(s.get_user_by_sub("sub-2").await.unwrap(), None, "{label}: the refused write left nothing");
    let mut renamed = alice.clone();
    renamed.username = "alice2".into();
    renamed.disabled = true;
    s.upsert_user(&renamed, 3).await.unwrap();
    assert_eq!(s.get_user_by_sub("sub-1").await.unwrap(), Some(renamed), "{label}");
    assert_eq!(s.list_users().await.unwrap().len(), 1);

    // Scopes.
    let roles = ScopeDefinition {
        name: Scope::parse("roles").unwrap(),
        claims: vec!["roles".into()],
        description: "Roles".into(),
        targets: ClaimTargets::ALL,
        builtin: false,
    };
    s.upsert_scope(&roles, 1).await.unwrap();
    s.upsert_scope(&roles, 2).await.unwrap();
    assert_eq!(s.list_scopes().await.unwrap(), vec![roles], "{label}");

    // Keys: one current key per algorithm, whoever inserts first wins.
    let key = |kid: &str, state| StoredKey {
        kid: kid.into(),
        alg: SigningAlg::ES256,
        state,
        private_pkcs8: vec![1, 2, 3],
        created_at: 10,
        activated_at: Some(10),
        retired_at: None,
    };
    assert!(s.insert_key(&key("k1", KeyState::Current)).await.unwrap());
    assert!(!s.insert_key(&key("k2", KeyState::Current)).await.unwrap(), "{label}: second current key refused");
    assert!(s.insert_key(&key("k3", KeyState::Next)).await.unwrap());
    let keys = s.list_keys().await.unwrap();
    assert_eq!(keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["k1", "k3"], "{label}");
    assert_eq!(keys[0].private_pkcs8, vec![1, 2, 3]);
}

#[tokio::test]
async fn store_contract_on_every_backend() {
    for db in TestDb::each().await {
        let s = SqlStore::connect(&db.url).await.unwrap();
        contract(&s, db.label).await;
        s.close().await;
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for db in TestDb::each().await {
        SqlStore::connect(&db.url).await.unwrap().close().await;
        let again = SqlStore::connect(&db.url).await.unwrap();
        again.ping().await.unwrap();
        again.close().await;
    }
}
