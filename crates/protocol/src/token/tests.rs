use super::*;
use crate::client::ClientSpec;
use crate::pkce::Method;
use crate::secret::SecretHash;

fn client(grants: &[&str], public: bool) -> Client {
    let mut c = ClientSpec {
        client_id: "app".into(),
        client_secret: (!public).then(|| Secret::new("s")),
        scope: Some("openid profile offline_access roles".into()),
        grants: Some(grants.iter().map(|g| (*g).to_owned()).collect()),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        ..Default::default()
    }
    .validate(&|_| true)
    .unwrap()
    .client;
    c.secret = (!public).then(|| SecretHash::sha256(&Secret::new("s")));
    c
}

/// Every scope name is known here except those starting with "unknown".
fn known(s: &str) -> bool {
    !s.starts_with("unknown")
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

#[test]
fn parse_dispatches_by_grant_type() {
    let p = |s: &str| TokenRequest::parse(&Params::parse(s.as_bytes()).unwrap());
    assert!(matches!(
        p("grant_type=client_credentials&scope=roles"),
        Ok(TokenRequest::ClientCredentials { scope: Some(_) })
    ));
    assert!(matches!(p("grant_type=authorization_code&code=x"), Ok(TokenRequest::AuthorizationCode { .. })));
    assert_eq!(p("grant_type=authorization_code").unwrap_err().code(), "invalid_request");
    assert_eq!(p("grant_type=password&username=a").unwrap_err().code(), "invalid_request");
    assert_eq!(p("grant_type=refresh_token").unwrap_err().code(), "invalid_request");
    assert_eq!(p("").unwrap_err().code(), "invalid_request");
    assert_eq!(p("grant_type=implicit").unwrap_err().code(), "unsupported_grant_type");
    assert_eq!(p("grant_type=urn:x:custom").unwrap_err().code(), "unsupported_grant_type");
    assert_eq!(p("grant_type=client_credentials&scope=a%22b").unwrap_err().code(), "invalid_scope");
}

#[test]
fn client_credentials_rules() {
    let c = client(&["client_credentials"], false);
    assert_eq!(client_credentials::validate(&c, None, &known).unwrap(), scopes("roles"), "identity scopes left out");
    assert_eq!(client_credentials::validate(&c, Some(&scopes("roles")), &known).unwrap(), scopes("roles"));
    assert_eq!(client_credentials::validate(&c, Some(&scopes("openid")), &known).unwrap_err().code(), "invalid_scope");
    assert_eq!(client_credentials::validate(&c, Some(&scopes("admin")), &known).unwrap_err().code(), "invalid_scope");
    let no_grant = client(&["authorization_code"], false);
    assert_eq!(check_grant_allowed(&no_grant, GrantType::ClientCredentials).unwrap_err().code(), "unauthorized_client");
}

/// OIDC Core §3.1.2.1: unknown scope names are ignored; a known scope the client may not use
/// is refused; offline_access is ignored for a client without refresh tokens.
#[test]
fn unknown_scopes_are_ignored_and_known_ones_beyond_the_client_refused() {
    let c = client(&["password", "refresh_token"], false);
    let get = |c: &Client, r: &str| c.grantable_scope(Some(&scopes(r)), &c.scopes, &known);
    assert_eq!(get(&c, "openid unknown-a profile unknown-b").unwrap(), scopes("openid profile"));
    assert_eq!(get(&c, "openid email").unwrap_err().code(), "invalid_scope", "email is known, not the client's");
    assert_eq!(get(&c, "unknown-a").unwrap_err().code(), "invalid_scope", "nothing left to grant");
    assert_eq!(get(&c, "openid offline_access").unwrap(), scopes("openid offline_access"));
    let no_refresh = client(&["password"], false);
    assert_eq!(get(&no_refresh, "openid offline_access").unwrap(), scopes("openid"), "offline_access ignored");
    assert_eq!(no_refresh.grantable_scope(None, &no_refresh.scopes, &known).unwrap(), scopes("openid profile roles"));
    assert_eq!(c.grantable_scope(None, &c.scopes, &known).unwrap(), c.scopes, "absent: all allowed");
}

#[test]
fn password_rules() {
    let c = client(&["password"], false);
    assert_eq!(password::validate(&c, Some(&scopes("openid profile")), &known).unwrap(), scopes("openid profile"));
    assert_eq!(password::validate(&c, Some(&scopes("openid email")), &known).unwrap_err().code(), "invalid_scope");
    assert_eq!(
        check_grant_allowed(&client(&["authorization_code"], false), GrantType::Password).unwrap_err().code(),
        "unauthorized_client"
    );
}

fn code(challenge: Option<&str>) -> authorization_code::CodeGrant {
    authorization_code::CodeGrant {
        grant_id: "g".into(),
        client_id: "app".into(),
        sub: "alice".into(),
        redirect_uri: "https://app.example.com/cb".into(),
        scope: scopes("openid"),
        nonce: None,
        code_challenge: challenge.map(str::to_owned),
        code_challenge_method: challenge.map(|_| Method::S256),
        auth_time: 0,
        sid: "sid".into(),
        amr: vec!["pwd".into()],
        expires_at: 100,
        resources: vec![],
        dpop_jkt: None,
        claims: None,
        acr: None,
    }
}

#[test]
fn authorization_code_rules() {
    use authorization_code::validate;
    let c = client(&["authorization_code"], false);
    let cb = Some("https://app.example.com/cb");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert!(validate(&c, &code(None), cb, None, 50).is_ok());
    assert_eq!(validate(&c, &code(None), cb, None, 100).unwrap_err().code(), "invalid_grant", "expired");
    assert_eq!(validate(&c, &code(None), None, None, 50).unwrap_err().code(), "invalid_grant", "redirect_uri required");
    assert_eq!(
        validate(&c, &code(None), Some("https://app.example.com/cb/"), None, 50).unwrap_err().code(),
        "invalid_grant"
    );
    assert!(validate(&c, &code(Some(challenge)), cb, Some(verifier), 50).is_ok());
    assert_eq!(validate(&c, &code(Some(challenge)), cb, None, 50).unwrap_err().code(), "invalid_grant");
    let wrong = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(validate(&c, &code(Some(challenge)), cb, Some(wrong), 50).unwrap_err().code(), "invalid_grant");
    assert_eq!(validate(&c, &code(None), cb, Some(verifier), 50).unwrap_err().code(), "invalid_grant", "downgrade");
    let hybrid = client(&["hybrid"], false);
    assert!(validate(&hybrid, &code(None), cb, None, 50).is_ok(), "hybrid clients redeem their codes");
    let mut other = code(None);
    other.client_id = "other".into();
    assert_eq!(validate(&c, &other, cb, None, 50).unwrap_err().code(), "invalid_grant");
}

#[test]
fn refresh_rules() {
    use refresh_token::{RefreshGrant, validate};
    let c = client(&["authorization_code", "refresh_token"], false);
    let g = RefreshGrant {
        family_id: "f".into(),
        client_id: "app".into(),
        sub: "alice".into(),
        scope: scopes("openid profile offline_access"),
        auth_time: 0,
        sid: "s".into(),
        amr: vec![],
        expires_at: 100,
        family_expires_at: 200,
        resources: vec![],
        dpop_jkt: None,
        claims: None,
        acr: None,
    };
    assert_eq!(validate(&c, &g, None, 10).unwrap(), g.scope);
    assert_eq!(validate(&c, &g, Some(&scopes("openid")), 10).unwrap(), scopes("openid"));
    assert_eq!(validate(&c, &g, Some(&scopes("openid roles")), 10).unwrap_err().code(), "invalid_scope");
    assert_eq!(validate(&c, &g, None, 100).unwrap_err().code(), "invalid_grant");
    let no_grant = client(&["authorization_code"], false);
    assert_eq!(check_grant_allowed(&no_grant, GrantType::RefreshToken).unwrap_err().code(), "unauthorized_client");
}
