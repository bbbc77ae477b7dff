//! The storage contract: one suite, run on every backend.

use gatehouse_protocol::ClientId;
use gatehouse_protocol::authorize::AuthorizeRequest;
use gatehouse_protocol::claims::{ClaimTargets, ScopeDefinition};
use gatehouse_protocol::client::ClientSpec;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::resource::ResourceSpec;
use gatehouse_protocol::scope::Scope;
use gatehouse_protocol::secret::{Secret, SecretHash};
use gatehouse_protocol::token::authorization_code::CodeGrant;
use gatehouse_protocol::user::User;
use gatehouse_store::{
    AuditStore, CleanupStore, ClientStore, CodeStore, DeviceStore, Interaction, InteractionStore, KeyState, KeyStore,
    RefreshTokenStore, ResourceStore, ScopeStore, SessionStore, SqlStore, Store, StoreError, StoredKey, UserStore,
};
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
        // Both values, so a round trip shows the column is kept.
        admin: name.starts_with('a'),
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
    assert_eq!(s.get_user_by_sub("sub-1").await.unwrap(), Some(renamed.clone()), "{label}");
    // Claims alone: the rest of the user (its password, its state) is untouched; the cached
    // user is the new one at once.
    let claims = serde_json::json!({"name": "Alice Two", "email": "a2@example.com"});
    let claims = claims.as_object().unwrap().clone();
    assert!(s.set_user_claims("sub-1", &claims, 4).await.unwrap(), "{label}");
    let got = s.get_user_by_sub("sub-1").await.unwrap().unwrap();
    assert_eq!(got, User { claims: claims.clone(), ..renamed.clone() }, "{label}");
    assert_eq!(s.get_user_by_username("alice2").await.unwrap().unwrap().claims, claims, "{label}");
    assert!(!s.set_user_claims("nobody", &claims, 5).await.unwrap(), "{label}: no such user");
    s.upsert_user(&renamed, 6).await.unwrap();
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
    assert!(s.delete_scope("roles").await.unwrap());
    assert!(!s.delete_scope("roles").await.unwrap());

    // Resources, and the resources codes, refresh tokens, interactions and device codes keep.
    let mcp = ResourceSpec {
        identifier: "https://mcp.example.com/mcp".into(),
        scopes: vec!["roles".into()],
        access_token_ttl: Some(300),
        ..Default::default()
    }
    .validate(&|_| true)
    .unwrap();
    s.upsert_resource(&mcp, 1).await.unwrap();
    s.upsert_resource(&mcp, 2).await.unwrap();
    assert_eq!(s.list_resources().await.unwrap(), vec![mcp.clone()], "{label}");
    let targets = vec![mcp.identifier.clone()];
    let code = CodeGrant { resources: targets.clone(), ..code_grant("g-res", 10_000_000_000) };
    s.insert_code("code-res", &code).await.unwrap();
    assert_eq!(s.find_code("code-res").await.unwrap().unwrap().grant.resources, targets, "{label}");
    let mut row = refresh_row("rt-res", "fam-res", 10_000_000_000);
    row.grant.resources = targets.clone();
    s.insert_refresh(&row, 1).await.unwrap();
    assert_eq!(s.find_refresh("rt-res", 2).await.unwrap().unwrap().grant.resources, targets, "{label}");
    let pending = Interaction {
        request: AuthorizeRequest { resources: targets.clone(), ..authorize_request() },
        csrf: "c".into(),
        expires_at: 10_000_000_000,
        login_sid: None,
        pending_factor: None,
    };
    s.insert_interaction("i-res", &pending, 1).await.unwrap();
    assert_eq!(s.get_interaction("i-res", 2).await.unwrap().unwrap().request.resources, targets, "{label}");
    s.insert_device("d-res", "RESOURCE", "tv", &scope("openid"), &targets, 5, 10_000_000_000, 1).await.unwrap();
    assert_eq!(s.find_pending_device("RESOURCE", 2).await.unwrap().unwrap().resources, targets, "{label}");
    assert!(s.delete_resource(mcp.identifier.as_str()).await.unwrap());
    assert!(!s.delete_resource(mcp.identifier.as_str()).await.unwrap());
    assert!(s.list_resources().await.unwrap().is_empty());

    // Admin additions: insert refuses a taken id; pages in key order with escaped search.
    assert!(s.insert_client(&client("a_1"), 1).await.unwrap());
    assert!(!s.insert_client(&client("a_1"), 1).await.unwrap(), "{label}: id taken");
    assert!(s.insert_client(&client("ab1"), 1).await.unwrap());
    let page = |search: Option<&str>, after: Option<&str>, limit| gatehouse_store::Page {
        search: search.map(str::to_owned),
        after: after.map(str::to_owned),
        limit,
    };
    let ids = |v: Vec<gatehouse_protocol::Client>| v.into_iter().map(|c| c.id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(s.list_clients_page(&page(None, None, 2)).await.unwrap()), ["a_1", "ab1"], "{label}");
    assert_eq!(ids(s.list_clients_page(&page(None, Some("a_1"), 2)).await.unwrap()), ["ab1", "another"]);
    assert_eq!(ids(s.list_clients_page(&page(Some("A_"), None, 10)).await.unwrap()), ["a_1"], "{label}: _ is literal");
    s.set_registration_token(&ClientId::parse("ab1").unwrap(), Some("h")).await.unwrap();
    assert_eq!(s.registration_token(&ClientId::parse("ab1").unwrap()).await.unwrap().as_deref(), Some("h"));
    assert_eq!(s.registration_token(&ClientId::parse("a_1").unwrap()).await.unwrap(), None);
    // Users: insert refuses a taken username or sub; delete takes sessions along.
    let err = s.insert_user(&user("sub-1", "zed"), 4).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{label}");
    s.insert_user(&user("sub-3", "carol"), 4).await.unwrap();
    let session = gatehouse_store::Session {
        sid: "sid-1".into(),
        sub: "sub-3".into(),
        auth_time: 4,
        amr: vec!["pwd".into()],
        expires_at: 100,
    };
    s.insert_session("h1", &session, 4).await.unwrap();
    assert_eq!(s.list_user_sessions("sub-3", 5).await.unwrap(), vec![(session.clone(), 4)], "{label}");
    assert_eq!(s.list_user_sessions("sub-3", 100).await.unwrap(), vec![], "{label}: expired ones are not listed");
    let users = s.list_users_page(&page(None, None, 10), Some(true)).await.unwrap();
    assert_eq!(users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["alice2"], "{label}");
    assert!(s.delete_user("sub-3").await.unwrap());
    assert_eq!(s.get_session("h1", 5).await.unwrap(), None, "{label}: sessions go with the user");
    assert!(!s.delete_user("sub-3").await.unwrap());
    // Audit: newest first, filtered, paged by id.
    for (i, action) in ["client.create", "user.create", "client.delete"].iter().enumerate() {
        let e = gatehouse_store::AuditEntry {
            id: format!("0000-{i}"),
            at: i as i64,
            actor: "cli:x".into(),
            action: (*action).into(),
            target: "t".into(),
            details: serde_json::json!({}),
        };
        s.append_audit(&e).await.unwrap();
    }
    let q = |action: Option<&str>, before: Option<&str>| gatehouse_store::AuditQuery {
        action: action.map(str::to_owned),
        before: before.map(str::to_owned),
        limit: 10,
        ..Default::default()
    };
    let actions = |v: Vec<gatehouse_store::AuditEntry>| v.into_iter().map(|e| e.action).collect::<Vec<_>>();
    assert_eq!(
        actions(s.list_audit(&q(Some("client."), None)).await.unwrap()),
        ["client.delete", "client.create"],
        "{label}"
    );
    assert_eq!(actions(s.list_audit(&q(None, Some("0000-2"))).await.unwrap()), ["user.create", "client.create"]);

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

    // Interactions: the request round-trips; a sign-in during one is remembered with it.
    let i = Interaction {
        request: authorize_request(),
        csrf: "c".into(),
        expires_at: 100,
        login_sid: None,
        pending_factor: None,
    };
    s.insert_interaction("i1", &i, 1).await.unwrap();
    assert_eq!(s.get_interaction("i1", 2).await.unwrap().as_ref(), Some(&i), "{label}");
    s.note_interaction_login("i1", "sid-1").await.unwrap();
    let noted = s.get_interaction("i1", 2).await.unwrap().unwrap();
    assert_eq!(noted.login_sid.as_deref(), Some("sid-1"), "{label}");
    assert_eq!(s.get_interaction("i1", 100).await.unwrap(), None, "{label}: expired");
    s.delete_interaction("i1").await.unwrap();
    assert_eq!(s.get_interaction("i1", 2).await.unwrap(), None, "{label}");

    factors_and_consents(s, label).await;
}

/// Second factors (single use settled by the store), recovery codes, a sign-in waiting for its
/// factor, and consents taken back with the client's refresh tokens.
async fn factors_and_consents(s: &SqlStore, label: &str) {
    use gatehouse_store::{ConsentStore, Factor, FactorKind, FactorStore, PendingFactor};
    let f = Factor {
        id: "f1".into(),
        sub: "fu".into(),
        kind: FactorKind::Totp,
        name: "Phone".into(),
        secret: "sealed".into(),
        last_step: Some(10),
        created_at: 5,
        last_used_at: None,
    };
    s.insert_factor(&f).await.unwrap();
    assert_eq!(s.list_factors("fu").await.unwrap(), vec![f.clone()], "{label}");
    assert!(!s.use_totp_step("f1", 10, 6).await.unwrap(), "{label}: a step already used");
    assert!(!s.use_totp_step("f1", 9, 6).await.unwrap(), "{label}: an older step");
    assert!(s.use_totp_step("f1", 11, 6).await.unwrap(), "{label}");
    assert!(!s.use_totp_step("f1", 11, 7).await.unwrap(), "{label}: once");
    assert_eq!(s.list_factors("fu").await.unwrap()[0].last_used_at, Some(6), "{label}");
    s.replace_recovery_codes("fu", &["h1".into(), "h2".into()]).await.unwrap();
    assert_eq!(s.recovery_codes_left("fu").await.unwrap(), 2, "{label}");
    assert_eq!(s.use_recovery_code("fu", "h1", 8).await.unwrap(), Some(1), "{label}");
    assert_eq!(s.use_recovery_code("fu", "h1", 9).await.unwrap(), None, "{label}: once");
    assert_eq!(s.use_recovery_code("other", "h2", 9).await.unwrap(), None, "{label}: another user's");
    assert!(!s.delete_factor("other", "f1").await.unwrap(), "{label}: another user's");
    assert_eq!(s.get_factor("f1").await.unwrap().map(|f| f.sub), Some("fu".into()), "{label}");
    assert_eq!(s.get_factor("f2").await.unwrap(), None, "{label}");

    // A passkey ceremony is taken once, only where it was bound, and not after it expired;
    // tried in the wrong place it is spent all the same.
    s.put_ceremony("c1", "register:fu", "{\"s\":1}", 50).await.unwrap();
    s.put_ceremony("c2", "register:fu", "{}", 50).await.unwrap();
    s.put_ceremony("c3", "register:fu", "{}", 50).await.unwrap();
    assert_eq!(s.take_ceremony("c1", "register:fu", 49).await.unwrap().as_deref(), Some("{\"s\":1}"), "{label}");
    assert_eq!(s.take_ceremony("c1", "register:fu", 49).await.unwrap(), None, "{label}: once");
    assert_eq!(s.take_ceremony("c2", "register:other", 49).await.unwrap(), None, "{label}: bound elsewhere");
    assert_eq!(s.take_ceremony("c2", "register:fu", 49).await.unwrap(), None, "{label}: spent by the wrong place");
    assert_eq!(s.take_ceremony("c3", "register:fu", 50).await.unwrap(), None, "{label}: expired");
    assert_eq!(s.delete_factors("fu").await.unwrap(), 1, "{label}");
    assert_eq!((s.list_factors("fu").await.unwrap().len(), s.recovery_codes_left("fu").await.unwrap()), (0, 0));

    let i = Interaction {
        request: authorize_request(),
        csrf: "c".into(),
        expires_at: 100,
        login_sid: None,
        pending_factor: None,
    };
    s.insert_interaction("i2", &i, 1).await.unwrap();
    let pending = PendingFactor { sub: "fu".into(), amr: vec!["pwd".into()], enrol: true, step_up: false };
    s.set_pending_factor("i2", Some(&pending)).await.unwrap();
    assert_eq!(s.get_interaction("i2", 2).await.unwrap().unwrap().pending_factor, Some(pending), "{label}");
    s.set_pending_factor("i2", None).await.unwrap();
    assert_eq!(s.get_interaction("i2", 2).await.unwrap().unwrap().pending_factor, None, "{label}");

    // A client's refresh tokens for one user end with the consent; another user's stay.
    s.put_consent("cu", "c", &scope("openid"), 3).await.unwrap();
    let mut mine = refresh_row("rt-mine", "fam-mine", 10_000_000_000);
    mine.grant.sub = "cu".into();
    let mut theirs = refresh_row("rt-theirs", "fam-theirs", 10_000_000_000);
    theirs.grant.sub = "c_".into();
    s.insert_refresh(&mine, 1).await.unwrap();
    s.insert_refresh(&theirs, 1).await.unwrap();
    assert_eq!(s.list_consents("cu").await.unwrap(), vec![("c".to_owned(), scope("openid"), 3)], "{label}");
    assert!(s.delete_consent("cu", "c").await.unwrap() && !s.delete_consent("cu", "c").await.unwrap(), "{label}");
    // "c_" would match "cu" as an unescaped LIKE pattern.
    assert_eq!(s.revoke_user_client_families("c_", "c", 2).await.unwrap(), 1, "{label}");
    let kept = s.find_refresh("rt-mine", 3).await.unwrap().unwrap();
    assert!(kept.live && !kept.used, "{label}: a LIKE wildcard in a sub matches only itself");
    assert_eq!(s.revoke_user_client_families("cu", "c", 2).await.unwrap(), 1, "{label}");
    assert!(s.find_refresh("rt-mine", 3).await.unwrap().unwrap().used, "{label}");
    assert_eq!(s.revoke_user_client_families("cu", "c", 2).await.unwrap(), 0, "{label}: nothing left");
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

/// Cleanup deletes exactly what has expired, on every backend.
#[tokio::test]
async fn cleanup_removes_only_what_has_expired() {
    use gatehouse_store::{RevocationStore, Session};
    let now = 1_800_000_000;
    for db in TestDb::each().await {
        let label = db.label;
        let s = SqlStore::connect(&db.url).await.unwrap();
        for (name, exp) in [("old", now - 1), ("live", now + 100)] {
            let i = Interaction {
                request: authorize_request(),
                csrf: "c".into(),
                expires_at: exp,
                login_sid: None,
                pending_factor: None,
            };
            s.insert_interaction(name, &i, now - 10).await.unwrap();
            let sess = Session {
                sid: format!("sid-{name}"),
                sub: "u".into(),
                auth_time: now - 10,
                amr: vec![],
                expires_at: exp,
            };
            s.insert_session(name, &sess, now - 10).await.unwrap();
            s.insert_refresh(&refresh_row(name, &format!("fam-{name}"), exp), now - 10).await.unwrap();
            s.revoke_access_token(&format!("jti-{name}"), exp).await.unwrap();
            s.insert_device(name, &format!("CODE{name}"), "tv", &scope("openid"), &[], 5, exp, now - 10).await.unwrap();
        }
        // Codes are kept a day past expiry for replay detection.
        s.insert_code("code-ancient", &code_grant("g1", now - 90_000)).await.unwrap();
        s.insert_code("code-recent", &code_grant("g2", now - 10)).await.unwrap();
        // Keys: one retired long ago, one retired just now; the current key stays.
        let key = |kid: &str, state, retired_at| StoredKey {
            kid: kid.into(),
            alg: SigningAlg::PS256,
            state,
            private_pkcs8: vec![1],
            created_at: 0,
            activated_at: None,
            retired_at,
        };
        s.insert_key(&key("k-old", KeyState::Retired, Some(now - 7200))).await.unwrap();
        s.insert_key(&key("k-recent", KeyState::Retired, Some(now - 10))).await.unwrap();
        s.insert_key(&key("k-current", KeyState::Current, None)).await.unwrap();

        let report = s.delete_expired(now, now - 3600, 500).await.unwrap().unwrap();
        assert_eq!(
            (
                report.interactions,
                report.sessions,
                report.refresh_tokens,
                report.revoked_access_tokens,
                report.device_codes,
                report.codes,
                report.keys
            ),
            (1, 1, 1, 1, 1, 1, 1),
            "{label}: {report:?}"
        );
        assert!(s.get_interaction("live", now).await.unwrap().is_some(), "{label}");
        assert!(s.get_session("live", now).await.unwrap().is_some());
        assert!(s.find_refresh("live", now).await.unwrap().is_some());
        assert!(s.find_refresh("old", now).await.unwrap().is_none());
        assert!(s.is_access_token_revoked("jti-live").await.unwrap());
        assert!(!s.is_access_token_revoked("jti-old").await.unwrap());
        let at = gatehouse_store::IssuedAccessToken { jti: "jti-code".into(), expires_at: now + 60 };
        assert!(s.consume_code("code-recent", now, &at, None).await.unwrap());
        assert_eq!(s.find_code("code-ancient").await.unwrap(), None, "{label}");
        assert!(!s.consume_code("code-ancient", now, &at, None).await.unwrap());
        let kids: std::collections::BTreeSet<String> =
            s.list_keys().await.unwrap().into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, ["k-current".to_owned(), "k-recent".to_owned()].into(), "{label}");
        // A second pass finds nothing.
        assert_eq!(s.delete_expired(now, now - 3600, 500).await.unwrap().unwrap().total(), 0);
        s.close().await;
    }
}

fn scope(s: &str) -> gatehouse_protocol::scope::ScopeSet {
    gatehouse_protocol::scope::ScopeSet::parse(s).unwrap()
}

/// A code's grant, as `/authorize` stores one.
fn code_grant(grant_id: &str, expires_at: i64) -> gatehouse_protocol::token::authorization_code::CodeGrant {
    gatehouse_protocol::token::authorization_code::CodeGrant {
        grant_id: grant_id.into(),
        client_id: "c".into(),
        sub: "u".into(),
        redirect_uri: "https://app.example/cb".into(),
        scope: scope("openid"),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        auth_time: 0,
        sid: "s".into(),
        amr: vec!["pwd".into()],
        expires_at,
        resources: vec![],
        dpop_jkt: None,
        claims: None,
        acr: None,
    }
}

/// A pending authorization request, as `/authorize` keeps one.
fn authorize_request() -> gatehouse_protocol::authorize::AuthorizeRequest {
    use gatehouse_protocol::authorize::{AuthorizeRequest, Prompt, ResponseMode};
    AuthorizeRequest {
        client_id: gatehouse_protocol::ClientId::parse("c").unwrap(),
        redirect_uri: gatehouse_protocol::redirect_uri::RedirectUri::parse("https://app.example/cb").unwrap(),
        response_type: gatehouse_protocol::grant::ResponseType::parse("code").unwrap(),
        response_mode: ResponseMode::Query,
        jarm: true,
        scope: scope("openid"),
        state: Some("st".into()),
        nonce: None,
        prompt: Prompt::default(),
        max_age: None,
        login_hint: None,
        id_token_hint: None,
        acr_values: None,
        code_challenge: None,
        code_challenge_method: None,
        ui_locales: None,
        resources: vec![],
        dpop_jkt: None,
        claims: Some(
            gatehouse_protocol::claims_request::ClaimsRequest::parse(r#"{"userinfo":{"email":{"essential":true}}}"#)
                .unwrap(),
        ),
    }
}

fn refresh_row(hash: &str, family: &str, expires_at: i64) -> gatehouse_store::NewRefresh {
    gatehouse_store::NewRefresh {
        token_hash: hash.into(),
        grant: gatehouse_protocol::token::refresh_token::RefreshGrant {
            family_id: family.into(),
            client_id: "c".into(),
            sub: "u".into(),
            scope: scope("openid offline_access"),
            auth_time: 0,
            sid: "s".into(),
            amr: vec!["pwd".into()],
            expires_at,
            family_expires_at: expires_at,
            resources: vec![],
            dpop_jkt: None,
            claims: None,
            acr: Some("pwd".into()),
        },
        access_token: Some(gatehouse_store::IssuedAccessToken { jti: format!("jti-of-{hash}"), expires_at }),
    }
}

/// Many concurrent redemptions of one code, and many concurrent rotations of one refresh
/// token, a few rounds of each: exactly one attempt wins and stores its successor, and a loser
/// returns only once the winner's successor is stored, so revoking the family (what a losing
/// request does next) reaches it. Storing the successor in a second statement fails this.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_store_exactly_one_successor_before_any_loser_returns() {
    use gatehouse_store::{CodeStore, RefreshTokenStore, RevocationStore};
    const ATTEMPTS: usize = 8;
    for db in TestDb::each().await {
        let label = db.label;
        let s = SqlStore::connect(&db.url).await.unwrap();
        let now = 1_000;
        let at = gatehouse_store::IssuedAccessToken { jti: "at".into(), expires_at: now + 60 };
        for round in 0..5 {
            for kind in ["code", "refresh"] {
                let family = format!("{kind}-family-{round}");
                let old = format!("{kind}-{round}");
                let successor = |i: usize| format!("{kind}-{round}-successor-{i}");
                match kind {
                    "code" => s.insert_code(&old, &code_grant(&family, now + 60)).await.unwrap(),
                    _ => s.insert_refresh(&refresh_row(&old, &family, now + 60), now).await.unwrap(),
                }
                let start = std::sync::Arc::new(tokio::sync::Barrier::new(ATTEMPTS));
                let attempts: Vec<_> = (0..ATTEMPTS)
                    .map(|i| {
                        let (s, start, at) = (s.clone(), start.clone(), at.clone());
                        let (family, old, mine, all) = (
                            family.clone(),
                            old.clone(),
                            successor(i),
                            (0..ATTEMPTS).map(successor).collect::<Vec<_>>(),
                        );
                        tokio::spawn(async move {
                            start.wait().await;
                            let row = refresh_row(&mine, &family, now + 60);
                            let won = match kind {
                                "code" => s.consume_code(&old, now, &at, Some(&row)).await.unwrap(),
                                _ => s.rotate_refresh(&old, now, &row).await.unwrap(),
                            };
                            if won {
                                return (true, Vec::new());
                            }
                            // What the loser finds stored when it goes on to revoke the family:
                            // the winner's successor must be there (other losers' may be too,
                            // on their way out), its own must not.
                            let mut stored = Vec::new();
                            for hash in &all {
                                if s.find_refresh(hash, now).await.unwrap().is_some() {
                                    stored.push(hash.clone());
                                }
                            }
                            assert!(!stored.contains(&mine), "{label}: a loser kept its successor");
                            s.revoke_family(&family, now).await.unwrap();
                            (false, stored)
                        })
                    })
                    .collect();
                let mut winners = Vec::new();
                let mut seen_by_losers = Vec::new();
                for (i, attempt) in attempts.into_iter().enumerate() {
                    match attempt.await.unwrap() {
                        (true, _) => winners.push(successor(i)),
                        (false, stored) => seen_by_losers.push(stored),
                    }
                }
                assert_eq!(winners.len(), 1, "{label} {kind}: exactly one attempt wins");
                assert!(
                    seen_by_losers.iter().all(|stored| stored.contains(&winners[0])),
                    "{label} {kind}: a loser returned before the winner's successor was stored"
                );
                for i in 0..ATTEMPTS {
                    let stored = s.find_refresh(&successor(i), now).await.unwrap().is_some();
                    assert_eq!(stored, successor(i) == winners[0], "{label} {kind}: only the winner's successor stays");
                }
                assert_eq!(winners.len(), 1, "{label} {kind}: exactly one attempt wins");
                let won = s.find_refresh(&winners[0], now).await.unwrap().unwrap();
                assert!(won.used && !won.live, "{label} {kind}: the losers' revocation reached the winner's successor");
                assert!(s.is_access_token_revoked(&format!("jti-of-{}", winners[0])).await.unwrap(), "{label}");
            }
        }
        s.close().await;
    }
}

/// Batches are bounded: a large backlog goes in several passes.
#[tokio::test]
async fn cleanup_works_in_bounded_batches() {
    use gatehouse_store::RevocationStore;
    let db = TestDb::sqlite();
    let s = SqlStore::connect(&db.url).await.unwrap();
    for i in 0..25 {
        s.revoke_access_token(&format!("j{i}"), 10).await.unwrap();
    }
    assert_eq!(s.delete_expired(100, 0, 10).await.unwrap().unwrap().revoked_access_tokens, 10);
    assert_eq!(s.delete_expired(100, 0, 10).await.unwrap().unwrap().revoked_access_tokens, 10);
    assert_eq!(s.delete_expired(100, 0, 10).await.unwrap().unwrap().revoked_access_tokens, 5);
    s.close().await;
}

/// On PostgreSQL a cleanup pass holds an advisory lock: while another node (here a connection
/// holding the lock) cleans up, this one deletes nothing and says so; then it does the work.
#[tokio::test]
async fn on_postgres_one_node_cleans_up_at_a_time() {
    use gatehouse_store::RevocationStore;
    use sqlx::Connection;
    let Some(db) = TestDb::postgres().await else { return };
    let s = SqlStore::connect(&db.url).await.unwrap();
    for i in 0..3 {
        s.revoke_access_token(&format!("expired-{i}"), 10).await.unwrap();
    }
    let mut other_node = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(gatehouse_store::cleanup::CLEANUP_LOCK)
        .fetch_one(&mut other_node)
        .await
        .unwrap();
    assert_eq!(s.delete_expired(100, 0, 10).await.unwrap(), None, "the lock is held elsewhere");
    let lifetimes = gatehouse_core::issuer::Lifetimes::default();
    assert_eq!(gatehouse_core::background::cleanup_once(&s, 100, lifetimes).await.unwrap(), 0);
    assert!(s.is_access_token_revoked("expired-0").await.unwrap(), "nothing was deleted");
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(gatehouse_store::cleanup::CLEANUP_LOCK)
        .fetch_one(&mut other_node)
        .await
        .unwrap();
    assert_eq!(
        gatehouse_core::background::cleanup_once(&s, 100, lifetimes).await.unwrap(),
        3,
        "the lock is free again"
    );
    other_node.close().await.unwrap();
    s.close().await;
}

/// The server's cleanup keeps taking batches until the backlog is gone.
#[tokio::test]
async fn server_cleanup_drains_a_backlog_larger_than_a_batch() {
    use gatehouse_store::RevocationStore;
    let db = TestDb::sqlite();
    let s = SqlStore::connect(&db.url).await.unwrap();
    let n = gatehouse_core::background::CLEANUP_BATCH * 2 + 7;
    for i in 0..n {
        s.revoke_access_token(&format!("j{i}"), 10).await.unwrap();
    }
    s.revoke_access_token("alive", 1_000).await.unwrap();
    let deleted =
        gatehouse_core::background::cleanup_once(&s, 100, gatehouse_core::issuer::Lifetimes::default()).await.unwrap();
    assert_eq!(deleted, n as u64);
    assert!(s.is_access_token_revoked("alive").await.unwrap());
    s.close().await;
}

/// Concurrent writers that read first (a key rotation reads, then writes) all succeed: on
/// SQLite a deferred transaction's upgrade to writing fails at once when another writer got
/// there first, so write transactions begin `IMMEDIATE` and wait their turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_key_rotations_all_succeed() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = SqlStore::connect(&db.url).await.unwrap();
        let key = |kid: String, state| StoredKey {
            kid,
            alg: SigningAlg::EdDSA,
            state,
            private_pkcs8: vec![1],
            created_at: 0,
            activated_at: Some(0),
            retired_at: None,
        };
        s.insert_key(&key("cur".into(), KeyState::Current)).await.unwrap();
        s.insert_key(&key("nxt".into(), KeyState::Next)).await.unwrap();
        let rotations: Vec<_> = (0..16)
            .map(|i| {
                let (s, k) = (s.clone(), key(format!("n{i}"), KeyState::Next));
                tokio::spawn(async move { s.rotate_keys(std::slice::from_ref(&k), 10, None).await })
            })
            .collect();
        for r in rotations {
            assert!(r.await.unwrap().unwrap(), "{label}: every rotation applies");
        }
        let keys = s.list_keys().await.unwrap();
        let count = |state| keys.iter().filter(|k| k.state == state).count();
        assert_eq!((count(KeyState::Current), count(KeyState::Next), count(KeyState::Retired)), (1, 1, 16), "{label}");
        s.close().await;
    }
}

/// On SQLite, lookups and redemptions run on the calling thread and never wait for a lock
/// there: while another connection holds the write lock (a CLI command, a login writing its
/// session), a redemption waits for it on a blocking thread instead, then succeeds, and lookups
/// go on. Without that the rotation fails at once with "database is locked".
#[tokio::test]
async fn sqlite_redemptions_wait_for_another_writer_off_the_async_workers() {
    use gatehouse_store::{CodeStore, RefreshTokenStore};
    let db = TestDb::sqlite();
    let s = SqlStore::connect(&db.url).await.unwrap();
    let now = 1_000;
    s.insert_refresh(&refresh_row("old", "family", now + 60), now).await.unwrap();
    s.insert_code("code", &code_grant("grant", now + 60)).await.unwrap();

    let other = rusqlite::Connection::open(db.url.trim_start_matches("sqlite://")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let rotation = tokio::spawn({
        let s = s.clone();
        async move { s.rotate_refresh("old", now, &refresh_row("new", "family", now + 60)).await }
    });
    let at = gatehouse_store::IssuedAccessToken { jti: "at".into(), expires_at: now + 60 };
    let exchange = tokio::spawn({
        let s = s.clone();
        async move { s.consume_code("code", now, &at, Some(&refresh_row("first", "grant", now + 60))).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!rotation.is_finished() && !exchange.is_finished(), "a redemption did not wait for the writer");
    // Reading needs no lock in WAL mode.
    assert!(s.find_refresh("old", now).await.unwrap().unwrap().live);
    assert!(!s.find_code("code").await.unwrap().unwrap().consumed);

    other.execute_batch("COMMIT").unwrap();
    assert!(rotation.await.unwrap().unwrap(), "the rotation failed instead of waiting");
    assert!(exchange.await.unwrap().unwrap(), "the code exchange failed instead of waiting");
    assert!(s.find_refresh("old", now).await.unwrap().unwrap().used);
    assert!(s.find_refresh("new", now).await.unwrap().unwrap().live);
    assert!(s.find_refresh("first", now).await.unwrap().unwrap().live);
    assert!(s.find_code("code").await.unwrap().unwrap().consumed);
    // And once the lock is free, on the calling thread again: a replay retires nothing.
    assert!(!s.rotate_refresh("old", now, &refresh_row("newer", "family", now + 60)).await.unwrap());
    assert!(s.find_refresh("newer", now).await.unwrap().is_none());
    s.close().await;
}

/// Two nodes rotating on a schedule: the one that saw a stale current key changes nothing.
#[tokio::test]
async fn conditional_rotation_settles_races() {
    for db in TestDb::each().await {
        let s = SqlStore::connect(&db.url).await.unwrap();
        let key = |kid: &str, state| StoredKey {
            kid: kid.into(),
            alg: SigningAlg::ES256,
            state,
            private_pkcs8: vec![1],
            created_at: 0,
            activated_at: Some(0),
            retired_at: None,
        };
        s.insert_key(&key("cur", KeyState::Current)).await.unwrap();
        s.insert_key(&key("nxt", KeyState::Next)).await.unwrap();
        assert!(s.rotate_keys(&[key("n2", KeyState::Next)], 10, Some("cur")).await.unwrap());
        // The second node still thinks "cur" is current.
        assert!(!s.rotate_keys(&[key("n3", KeyState::Next)], 10, Some("cur")).await.unwrap(), "{}", db.label);
        let states: Vec<(String, &str)> =
            s.list_keys().await.unwrap().into_iter().map(|k| (k.kid, k.state.as_str())).collect();
        let mut states = states;
        states.sort();
        assert_eq!(
            states,
            [("cur".to_owned(), "retired"), ("n2".to_owned(), "next"), ("nxt".to_owned(), "current")],
            "{}",
            db.label
        );
        s.close().await;
    }
}

/// PostgreSQL over TLS, as managed services demand: `sslmode=require` in the database URL gives
/// a server whose every connection is encrypted (libpq's `sslmode` values; the default, `prefer`,
/// encrypts when the server offers it).
#[tokio::test]
async fn postgres_connections_use_tls_when_the_url_requires_it() {
    use sqlx::Row;
    let Some(db) = TestDb::postgres().await else { return };
    let mut tls = db.shared();
    tls.url = format!("{}?sslmode=require", db.url);
    let s = gatehouse_testkit::TestServer::start("", tls).await.unwrap();
    assert_eq!(s.http.get(s.url("/readyz")).send().await.unwrap().status(), 200);
    let (st, discovery) = s.get_json("/.well-known/openid-configuration").await.unwrap();
    assert_eq!((st.as_u16(), discovery["issuer"].as_str()), (200, Some(s.url.as_str())));

    // Gatehouse's connections to its database, seen from the server side.
    let watcher = sqlx::PgPool::connect(&format!("{}?sslmode=disable", db.url)).await.unwrap();
    let rows = sqlx::query(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
    )
    .fetch_all(&watcher)
    .await
    .unwrap();
    let encrypted: Vec<bool> = rows.iter().map(|r| r.get("ssl")).collect();
    assert!(!encrypted.is_empty() && encrypted.iter().all(|e| *e), "connections' TLS: {encrypted:?}");
    watcher.close().await;
    s.stop().await;
}

/// Server secrets: the first candidate stored wins, every later caller (another node) gets it.
/// Reissued access tokens: recorded only while the refresh token is live, and revoked with its
/// family.
#[tokio::test]
async fn server_secrets_and_reissued_access_tokens() {
    use gatehouse_store::{IssuedAccessToken, KeyStore, RefreshTokenStore, RevocationStore};
    for db in TestDb::each().await {
        let label = db.label;
        let s = SqlStore::connect(&db.url).await.unwrap();
        assert_eq!(s.server_secret("k", "first", 1).await.unwrap(), "first", "{label}");
        assert_eq!(s.server_secret("k", "second", 2).await.unwrap(), "first", "{label}: the stored one wins");
        assert_eq!(s.server_secret("j", "other", 2).await.unwrap(), "other", "{label}: one per name");

        let now = 1_000;
        s.insert_refresh(&refresh_row("live", "fam", now + 60), now).await.unwrap();
        let at = |jti: &str| IssuedAccessToken { jti: jti.into(), expires_at: now + 600 };
        assert!(s.reissue_access_token("live", &at("again-1"), now).await.unwrap(), "{label}");
        assert!(!s.reissue_access_token("missing", &at("again-2"), now).await.unwrap(), "{label}");
        assert!(!s.reissue_access_token("live", &at("again-3"), now + 61).await.unwrap(), "{label}: expired");
        assert!(s.rotate_refresh("live", now, &refresh_row("next", "fam", now + 60)).await.unwrap());
        assert!(!s.reissue_access_token("live", &at("again-4"), now).await.unwrap(), "{label}: rotated");
        let found = s.find_refresh("live", now).await.unwrap().unwrap();
        assert_eq!((found.used, found.rotated_at), (true, Some(now)), "{label}");

        assert!(!s.is_access_token_revoked("again-1").await.unwrap());
        s.revoke_family("fam", now + 1).await.unwrap();
        assert!(s.is_access_token_revoked("again-1").await.unwrap(), "{label}: revoked with its family");
        for jti in ["again-2", "again-3", "again-4"] {
            assert!(!s.is_access_token_revoked(jti).await.unwrap(), "{label}: {jti} was never recorded");
        }
        let found = s.find_refresh("live", now).await.unwrap().unwrap();
        assert_eq!(found.rotated_at, None, "{label}: a revoked token is no retry candidate");
        assert!(!s.reissue_access_token("next", &at("again-5"), now + 2).await.unwrap(), "{label}: revoked");
        s.close().await;
    }
}

/// Rotating several algorithms is one transaction: when one cannot rotate (here it has no next
/// key, as a crash half-way would leave a later one unrotated), none is rotated.
#[tokio::test]
async fn rotating_several_algorithms_is_all_or_nothing() {
    for db in TestDb::each().await {
        let s = SqlStore::connect(&db.url).await.unwrap();
        let key = |kid: &str, alg, state| StoredKey {
            kid: kid.into(),
            alg,
            state,
            private_pkcs8: vec![1],
            created_at: 0,
            activated_at: Some(0),
            retired_at: None,
        };
        s.insert_key(&key("es-cur", SigningAlg::ES256, KeyState::Current)).await.unwrap();
        s.insert_key(&key("es-nxt", SigningAlg::ES256, KeyState::Next)).await.unwrap();
        s.insert_key(&key("ed-cur", SigningAlg::EdDSA, KeyState::Current)).await.unwrap();
        let before = s.list_keys().await.unwrap();
        let nexts =
            [key("es-new", SigningAlg::ES256, KeyState::Next), key("ed-new", SigningAlg::EdDSA, KeyState::Next)];
        let e = s.rotate_keys(&nexts, 10, None).await.unwrap_err();
        assert!(matches!(e, gatehouse_store::StoreError::Conflict(_)), "{}: {e}", db.label);
        assert_eq!(s.list_keys().await.unwrap(), before, "{}: ES256 was not rotated alone", db.label);
        s.insert_key(&key("ed-nxt", SigningAlg::EdDSA, KeyState::Next)).await.unwrap();
        assert!(s.rotate_keys(&nexts, 10, None).await.unwrap(), "{}", db.label);
        let current: Vec<String> =
            s.list_keys().await.unwrap().into_iter().filter(|k| k.state == KeyState::Current).map(|k| k.kid).collect();
        assert_eq!(current.len(), 2, "{}", db.label);
        assert!(current.contains(&"es-nxt".to_owned()) && current.contains(&"ed-nxt".to_owned()), "{}", db.label);
        s.close().await;
    }
}

/// The console overview's numbers: hourly activity adds up across writers (nodes), a window
/// leaves older hours out, cleanup forgets expired hours; totals count live sessions only.
#[tokio::test]
async fn activity_adds_up_per_hour_and_totals_count_what_is_live() {
    use gatehouse_store::{ActivityStore, Session, Totals};
    let now: i64 = 1_800_000_000;
    let hour = now / 3600;
    for db in TestDb::each().await {
        let label = db.label;
        let s = SqlStore::connect(&db.url).await.unwrap();
        // Two nodes' flushes of the same hour add up; an old hour is outside a day's window.
        s.add_activity(hour, "token", 3, now + 100).await.unwrap();
        s.add_activity(hour, "token", 4, now + 100).await.unwrap();
        s.add_activity(hour - 1, "sign_in_failure", 2, now + 100).await.unwrap();
        s.add_activity(hour - 30, "token", 50, now - 1).await.unwrap();
        let day = s.activity_since(hour - 23).await.unwrap();
        assert_eq!(day, vec![("sign_in_failure".to_owned(), 2), ("token".to_owned(), 7)], "{label}");
        assert_eq!(s.activity_since(hour).await.unwrap(), vec![("token".to_owned(), 7)], "{label}");
        let report = s.delete_expired(now, now, 1000).await.unwrap().unwrap();
        assert_eq!(report.activity, 1, "{label}: the expired hour is deleted");
        assert_eq!(s.activity_since(0).await.unwrap().len(), 2, "{label}");

        assert_eq!(s.totals(now).await.unwrap(), Totals::default(), "{label}");
        s.insert_client(&client("a"), now).await.unwrap();
        s.insert_user(&user("u1", "alice"), now).await.unwrap();
        for (name, exp) in [("old", now - 1), ("live", now + 100)] {
            let sess =
                Session { sid: format!("sid-{name}"), sub: "u1".into(), auth_time: now, amr: vec![], expires_at: exp };
            s.insert_session(name, &sess, now - 10).await.unwrap();
        }
        let t = s.totals(now).await.unwrap();
        assert_eq!(t, Totals { clients: 1, users: 1, active_sessions: 1 }, "{label}");
    }
}
