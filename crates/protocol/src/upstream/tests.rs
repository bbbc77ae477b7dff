use super::*;
use serde_json::json;

fn provider(subject_claim: &str, claims: &[(&str, &str)], trust_amr: bool) -> Upstream {
    Upstream {
        id: "corp".into(),
        kind: Kind::Oidc,
        label: "Corp".into(),
        icon: None,
        issuer: Some("https://idp.example".into()),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        emails_endpoint: None,
        client_id: "gh".into(),
        client_secret: None,
        client_auth: ClientAuth::SecretBasic,
        scopes: "openid email".into(),
        claims: claims.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect(),
        subject_claim: subject_claim.into(),
        create_users: true,
        link_by_email: false,
        trust_amr,
        private_network: false,
        sync_claims: false,
    }
}

fn object(v: Value) -> JsonObject {
    match v {
        Value::Object(o) => o,
        _ => unreachable!(),
    }
}

fn expected(now: UnixTime) -> Expected<'static> {
    Expected { issuer: "https://idp.example", client_id: "gh", nonce: "n-0S6", now }
}

fn id_token() -> JsonObject {
    object(json!({"iss": "https://idp.example", "aud": "gh", "sub": "u1", "exp": 2000, "iat": 1000, "nonce": "n-0S6"}))
}

#[test]
fn a_good_id_token_passes() {
    assert_eq!(check_id_token(&id_token(), &expected(1500)), Ok(()));
    let mut several = id_token();
    several.insert("aud".into(), json!(["gh", "other"]));
    several.insert("azp".into(), json!("gh"));
    assert_eq!(check_id_token(&several, &expected(1500)), Ok(()));
}

#[test]
fn each_wrong_id_token_claim_is_named() {
    let cases: [(&str, Value, &str); 9] = [
        ("iss", json!("https://evil.example"), "iss"),
        ("aud", json!("other"), "aud"),
        ("aud", json!(["gh", "other"]), "azp"),
        ("azp", json!("other"), "azp"),
        ("exp", json!(1000), "exp"),
        ("iat", json!(9000), "iat"),
        ("nonce", json!("replayed"), "nonce"),
        ("sub", json!(""), "sub"),
        ("sub", json!(42), "sub"),
    ];
    for (claim, value, named) in cases {
        let mut c = id_token();
        c.insert(claim.into(), value.clone());
        assert_eq!(check_id_token(&c, &expected(1500)), Err(Refusal::IdToken(named)), "{claim}={value}");
    }
    for missing in ["iss", "aud", "exp", "iat", "nonce", "sub"] {
        let mut c = id_token();
        c.remove(missing);
        assert!(check_id_token(&c, &expected(1500)).is_err(), "without {missing}");
    }
    // The leeway: two minutes either way.
    assert_eq!(check_id_token(&id_token(), &expected(2000 + LEEWAY - 1)), Ok(()));
    assert_eq!(check_id_token(&id_token(), &expected(2000 + LEEWAY)), Err(Refusal::IdToken("exp")));
}

#[test]
fn an_email_counts_only_when_the_provider_says_it_verified_it() {
    let p = provider("sub", &[("email", "email"), ("name", "name")], false);
    let said = |verified: Value| object(json!({"sub": "u1", "email": "a@example.com", "email_verified": verified}));
    let id = p.identity(&said(json!(true)), None).unwrap();
    assert_eq!(id.verified_email.as_deref(), Some("a@example.com"));
    assert_eq!(id.claims["email_verified"], json!(true));
    // Some providers send the string.
    assert!(p.identity(&said(json!("true")), None).unwrap().verified_email.is_some());
    for unverified in [json!(false), json!("false"), json!(null), json!(1)] {
        let id = p.identity(&said(unverified.clone()), None).unwrap();
        assert_eq!(id.verified_email, None, "{unverified}");
        assert_eq!(id.claims["email"], json!("a@example.com"));
        assert_eq!(id.claims["email_verified"], json!(false), "{unverified}");
    }
}

#[test]
fn a_github_style_identity_maps_a_numeric_id_and_the_primary_verified_address() {
    let p = provider("id", &[("preferred_username", "login"), ("email", "email"), ("picture", "avatar_url")], false);
    let user = object(json!({"id": 583231, "login": "octocat", "email": null, "avatar_url": "https://a/x.png"}));
    let emails = json!([
        {"email": "old@example.com", "primary": false, "verified": true},
        {"email": "octo@example.com", "primary": true, "verified": true},
    ]);
    let id = p.identity(&user, Some(&emails)).unwrap();
    assert_eq!(id.subject, "583231");
    assert_eq!(id.claims["preferred_username"], json!("octocat"));
    assert_eq!(id.claims["email"], json!("octo@example.com"));
    assert_eq!(id.claims["email_verified"], json!(true));
    assert_eq!(id.verified_email.as_deref(), Some("octo@example.com"));
    // A primary address that is not verified is not used; nor is a verified one that is not
    // primary.
    let unverified = json!([{"email": "octo@example.com", "primary": true, "verified": false},
                            {"email": "old@example.com", "primary": false, "verified": true}]);
    let id = p.identity(&user, Some(&unverified)).unwrap();
    assert_eq!(id.verified_email, None);
    assert!(!id.claims.contains_key("email"));
    assert_eq!(p.username_candidates(&id), vec!["octocat".to_owned(), "corp-583231".to_owned()]);
}

#[test]
fn no_subject_no_identity() {
    let p = provider("id", &[], false);
    assert_eq!(p.identity(&object(json!({"login": "x"})), None), Err(Refusal::NoSubject));
    assert_eq!(p.identity(&object(json!({"id": {"n": 1}})), None), Err(Refusal::NoSubject));
    assert_eq!(p.identity(&object(json!({"id": "has space"})), None), Err(Refusal::NoSubject));
}

#[test]
fn amr_is_fed_and_only_a_trusted_providers_registered_methods() {
    let claims = object(json!({"sub": "u1", "amr": ["pwd", "mfa", "made-up", "otp"]}));
    let trusted = provider("sub", &[], true).identity(&claims, None).unwrap();
    assert_eq!(amr(&trusted), vec!["fed", "pwd", "mfa", "otp"]);
    let untrusted = provider("sub", &[], false).identity(&claims, None).unwrap();
    assert_eq!(amr(&untrusted), vec!["fed"]);
}

#[test]
fn a_username_with_spaces_is_not_used() {
    let p = provider("sub", &[("preferred_username", "preferred_username")], false);
    let id = p.identity(&object(json!({"sub": "u1", "preferred_username": "Ann Smith"})), None).unwrap();
    assert_eq!(p.username_candidates(&id), vec!["corp-u1".to_owned()]);
}
