use super::*;
use crate::client::ClientSpec;
use crate::secret::Secret;

fn client(public: bool) -> Client {
    let mut c = ClientSpec {
        client_id: "app".into(),
        client_secret: (!public).then(|| Secret::new("s")),
        scope: Some("openid profile email offline_access".into()),
        grants: Some(vec!["authorization_code".into(), "refresh_token".into()]),
        redirect_uris: vec!["https://app.example.com/cb".into(), "https://app.example.com/cb2".into()],
        ..Default::default()
    }
    .validate(&|_| true)
    .unwrap()
    .client;
    // The server sets the hash after validation; a confidential client has one.
    c.secret = (!public).then(|| crate::secret::SecretHash::sha256(&Secret::new("s")));
    c
}

fn params(s: &str) -> Params {
    Params::parse(s.as_bytes()).unwrap()
}

/// Every scope name is known here except those starting with "unknown".
fn known(s: &str) -> bool {
    !s.starts_with("unknown")
}

fn run(c: &Client, q: &str) -> Result<AuthorizeRequest, OAuthError> {
    let target = resolve_target(c, &params(q)).unwrap();
    validate(c, target, &params(q), &known, &[])
}

#[test]
fn redirect_uri_rules_never_redirect() {
    let c = client(false);
    assert_eq!(
        resolve_target(&c, &params("redirect_uri=https://evil.example/cb")),
        Err(TargetError::UnregisteredRedirectUri)
    );
    assert_eq!(
        resolve_target(&c, &params("redirect_uri=https://app.example.com/cb/")),
        Err(TargetError::UnregisteredRedirectUri)
    );
    assert_eq!(resolve_target(&c, &params("scope=openid")), Err(TargetError::MissingRedirectUri));
    assert!(resolve_target(&c, &params("redirect_uri=https://app.example.com/cb2")).is_ok());
}

struct Case {
    name: &'static str,
    public: bool,
    query: &'static str,
    expect: Result<(), &'static str>,
}

#[test]
fn authorize_requests_table() {
    let base = "redirect_uri=https://app.example.com/cb&response_type=code&scope=openid";
    let s256 = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let cases = [
        Case { name: "minimal confidential", public: false, query: "", expect: Ok(()) },
        Case { name: "public without pkce", public: true, query: "", expect: Err("invalid_request") },
        Case { name: "public with s256", public: true, query: "&S256", expect: Ok(()) },
        Case {
            name: "plain pkce refused by default",
            public: true,
            query: "&code_challenge=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&code_challenge_method=plain",
            expect: Err("invalid_request"),
        },
        Case {
            name: "method defaults to plain",
            public: true,
            query: "&code_challenge=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            expect: Err("invalid_request"),
        },
        Case { name: "scope not allowed", public: false, query: "&scope=openid%20roles", expect: Err("invalid_scope") },
        Case {
            name: "unknown response type",
            public: false,
            query: "&response_type=banana",
            expect: Err("unsupported_response_type"),
        },
        Case { name: "bad prompt", public: false, query: "&prompt=none%20login", expect: Err("invalid_request") },
        Case { name: "unknown prompt", public: false, query: "&prompt=maybe", expect: Err("invalid_request") },
        Case { name: "negative max_age", public: false, query: "&max_age=-1", expect: Err("invalid_request") },
        Case { name: "request object", public: false, query: "&request=eyJ", expect: Err("request_not_supported") },
        Case {
            name: "request uri",
            public: false,
            query: "&request_uri=https://x",
            expect: Err("request_uri_not_supported"),
        },
        Case {
            name: "bad response mode",
            public: false,
            query: "&response_mode=web_message",
            expect: Err("invalid_request"),
        },
        Case { name: "form_post", public: false, query: "&response_mode=form_post", expect: Ok(()) },
        Case {
            name: "method without challenge",
            public: false,
            query: "&code_challenge_method=S256",
            expect: Err("invalid_request"),
        },
        Case {
            name: "malformed challenge",
            public: false,
            query: "&code_challenge=abc&code_challenge_method=S256",
            expect: Err("invalid_request"),
        },
    ];
    for c in cases {
        // Later keys override earlier ones, so the case's query is merged by hand.
        let mut q: Vec<(String, String)> = url::form_urlencoded::parse(base.as_bytes()).into_owned().collect();
        let extra = c.query.replace("&S256", &format!("&{s256}"));
        for (k, v) in url::form_urlencoded::parse(extra.as_bytes()).into_owned() {
            q.retain(|(kk, _)| *kk != k);
            q.push((k, v));
        }
        let qs = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
        let got = run(&client(c.public), &qs).map(|_| ()).map_err(|e| e.code());
        assert_eq!(got, c.expect, "{}", c.name);
    }
}

#[test]
fn unauthorized_client_for_a_grant_it_lacks() {
    let mut c = client(false);
    c.grants = [crate::grant::GrantType::ClientCredentials].into_iter().collect();
    let e = run(&c, "redirect_uri=https://app.example.com/cb&response_type=code&scope=openid").unwrap_err();
    assert_eq!(e.code(), "unauthorized_client");
}

fn req(q: &str) -> AuthorizeRequest {
    run(
        &client(false),
        &format!("redirect_uri=https://app.example.com/cb&response_type=code&scope=openid%20profile{q}"),
    )
    .unwrap()
}

#[test]
fn decisions() {
    let c = client(false);
    let s = SessionView { sub: "alice".into(), auth_time: 1000, amr: vec!["pwd".into()] };
    let all = ScopeSet::parse("openid profile").unwrap();
    let some = ScopeSet::parse("openid").unwrap();
    let ctx = |session, consented| DecideContext { session, consented, now: 1100, ..Default::default() };

    assert_eq!(decide(&req(""), &c, &ctx(None, None)).ok(), Some(Decision::Login));
    assert_eq!(decide(&req("&prompt=none"), &c, &ctx(None, None)).unwrap_err().code(), "login_required");
    assert_eq!(decide(&req(""), &c, &ctx(Some(&s), None)).ok(), Some(Decision::Consent));
    assert_eq!(decide(&req(""), &c, &ctx(Some(&s), Some(&some))).ok(), Some(Decision::Consent), "partial consent");
    assert_eq!(decide(&req(""), &c, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Issue));
    assert_eq!(decide(&req("&prompt=none"), &c, &ctx(Some(&s), None)).unwrap_err().code(), "consent_required");
    assert_eq!(decide(&req("&prompt=consent"), &c, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Consent));
    assert_eq!(decide(&req("&prompt=login"), &c, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Login));
    let fresh = DecideContext { fresh_login: true, ..ctx(Some(&s), Some(&all)) };
    assert_eq!(decide(&req("&prompt=login"), &c, &fresh).ok(), Some(Decision::Issue));
    assert_eq!(decide(&req("&max_age=50"), &c, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Login), "too old");
    assert_eq!(decide(&req("&max_age=200"), &c, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Issue));
    let just_now = SessionView { sub: "alice".into(), auth_time: 1100, amr: vec!["pwd".into()] };
    let this_second = ctx(Some(&just_now), Some(&all));
    assert_eq!(decide(&req("&max_age=0"), &c, &this_second).ok(), Some(Decision::Login), "max_age=0 is prompt=login");
    let fresh_now = DecideContext { fresh_login: true, ..ctx(Some(&just_now), Some(&all)) };
    assert_eq!(decide(&req("&max_age=0"), &c, &fresh_now).ok(), Some(Decision::Issue), "...once signed in afresh");
    let other = DecideContext { hint_sub: Some("bob"), ..ctx(Some(&s), Some(&all)) };
    assert_eq!(decide(&req("&prompt=none"), &c, &other).unwrap_err().code(), "login_required");
    let mut strict = c.clone();
    strict.lifetimes.session_ttl = Some(50);
    assert_eq!(decide(&req(""), &strict, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Login), "client session_ttl");
    assert_eq!(decide(&req("&max_age=20"), &strict, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Login));
    strict.lifetimes.session_ttl = Some(500);
    assert_eq!(decide(&req(""), &strict, &ctx(Some(&s), Some(&all))).ok(), Some(Decision::Issue));
    let mut first_party = c.clone();
    first_party.first_party = true;
    assert_eq!(decide(&req(""), &first_party, &ctx(Some(&s), None)).ok(), Some(Decision::Issue));
}

#[test]
fn acr_requests() {
    let c = client(false);
    let policy = crate::acr::AcrPolicy::default();
    let s = SessionView { sub: "alice".into(), auth_time: 1000, amr: vec!["pwd".into()] };
    let all = ScopeSet::parse("openid profile").unwrap();
    let ctx =
        DecideContext { session: Some(&s), consented: Some(&all), now: 1100, acr: Some(&policy), ..Default::default() };
    let essential = |v: &str| {
        format!("&claims={}", urlencode(&format!(r#"{{"id_token":{{"acr":{{"essential":true,"values":["{v}"]}}}}}}"#)))
    };
    assert_eq!(decide(&req("&acr_values=pwd"), &c, &ctx).ok(), Some(Decision::Issue));
    assert_eq!(decide(&req("&acr_values=mfa"), &c, &ctx).ok(), Some(Decision::Issue), "voluntary and beyond reach");
    assert_eq!(decide(&req(&essential("pwd")), &c, &ctx).ok(), Some(Decision::Issue));
    assert_eq!(decide(&req(&essential("mfa")), &c, &ctx).unwrap_err().code(), "unmet_authentication_requirements");
    // A user who can perform a second factor steps up to a level the session does not meet.
    let able = crate::acr::AcrPolicy { available: vec!["pwd".into(), "otp".into(), "mfa".into()], ..policy.clone() };
    let able_ctx = DecideContext { acr: Some(&able), ..ctx.clone() };
    assert_eq!(decide(&req("&acr_values=mfa"), &c, &able_ctx).ok(), Some(Decision::StepUp));
    assert_eq!(decide(&req(&essential("mfa")), &c, &able_ctx).ok(), Some(Decision::StepUp));
    assert_eq!(decide(&req("&acr_values=mfa&prompt=none"), &c, &able_ctx).unwrap_err().code(), "login_required");
    assert_eq!(decide(&req("&acr_values=pwd"), &c, &able_ctx).ok(), Some(Decision::Issue));
    // Just signed in and still short of it (the factor was not performed): voluntary goes on.
    let fresh = DecideContext { fresh_login: true, ..able_ctx.clone() };
    assert_eq!(decide(&req("&acr_values=mfa"), &c, &fresh).ok(), Some(Decision::Issue));
    assert_eq!(decide(&req(&essential("mfa")), &c, &fresh).unwrap_err().code(), "unmet_authentication_requirements");
    // A required second factor: a session without `mfa` steps up; with it, it goes on.
    let required = DecideContext { second_factor_required: true, ..ctx.clone() };
    assert_eq!(decide(&req(""), &c, &required).ok(), Some(Decision::StepUp));
    assert_eq!(decide(&req("&prompt=none"), &c, &required).unwrap_err().code(), "login_required");
    let mfa = SessionView { amr: vec!["pwd".into(), "otp".into(), "mfa".into()], ..s.clone() };
    assert_eq!(
        decide(&req(""), &c, &DecideContext { session: Some(&mfa), ..required.clone() }).ok(),
        Some(Decision::Issue)
    );
    let fresh_required = DecideContext { fresh_login: true, ..required.clone() };
    assert_eq!(decide(&req(""), &c, &fresh_required).unwrap_err().code(), "access_denied");
    // A session without a method the level needs signs in again, when a sign-in can meet it.
    let bare = SessionView { amr: Vec::new(), ..s.clone() };
    let bare_ctx = DecideContext { session: Some(&bare), ..ctx.clone() };
    assert_eq!(decide(&req(&essential("pwd")), &c, &bare_ctx).ok(), Some(Decision::StepUp));
    assert_eq!(
        decide(&req(&format!("{}&prompt=none", essential("pwd"))), &c, &bare_ctx).unwrap_err().code(),
        "login_required"
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn implicit_client() -> Client {
    let mut c = ClientSpec {
        client_id: "imp".into(),
        scope: Some("openid profile offline_access".into()),
        grants: Some(vec!["implicit".into(), "hybrid".into(), "refresh_token".into()]),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        client_secret: Some(Secret::new("s")),
        ..Default::default()
    }
    .validate(&|_| true)
    .unwrap()
    .client;
    c.secret = Some(crate::secret::SecretHash::sha256(&Secret::new("s")));
    c
}

#[test]
fn implicit_and_hybrid_rules() {
    let c = implicit_client();
    let run = |q: &str| run(&c, &format!("redirect_uri=https://app.example.com/cb&scope=openid%20offline_access{q}"));
    let ok = run("&response_type=id_token%20token&nonce=n").unwrap();
    assert_eq!(ok.response_mode, ResponseMode::Fragment, "tokens default to the fragment");
    assert!(!ok.scope.contains("offline_access"), "no refresh tokens from the authorization endpoint");
    assert_eq!(run("&response_type=id_token").unwrap_err().code(), "invalid_request", "nonce required");
    assert_eq!(
        run("&response_type=code%20id_token&nonce=n&response_mode=query").unwrap_err().code(),
        "invalid_request"
    );
    assert!(run("&response_type=code%20id_token&nonce=n&response_mode=form_post").is_ok());
    assert!(run("&response_type=code%20token").is_ok(), "no ID token from the endpoint: nonce optional");
    let hybrid = run("&response_type=code%20id_token&nonce=n").unwrap();
    assert!(hybrid.scope.contains("offline_access"), "a code is returned: offline_access stands");
    assert_eq!(run("&response_type=code").unwrap_err().code(), "unauthorized_client", "no authorization_code grant");
    let c2 = client(false);
    let e =
        validate(&c2, c2.redirect_uris[0].clone(), &params("response_type=id_token&scope=openid&nonce=n"), &known, &[])
            .unwrap_err();
    assert_eq!(e.code(), "unauthorized_client", "implicit for a client without it");
}

#[test]
fn error_response_mode_follows_the_response_type() {
    let mode = |q: &str| error_response_mode(&params(q));
    assert_eq!(mode("response_type=code"), (ResponseMode::Query, false));
    assert_eq!(mode("response_type=id_token"), (ResponseMode::Fragment, false));
    assert_eq!(mode("response_type=id_token&response_mode=query"), (ResponseMode::Fragment, false));
    assert_eq!(mode("response_type=code&response_mode=form_post"), (ResponseMode::FormPost, false));
    // JARM (its errors are JWTs too).
    assert_eq!(mode("response_type=code&response_mode=jwt"), (ResponseMode::Query, true));
    assert_eq!(mode("response_type=code%20id_token&response_mode=jwt"), (ResponseMode::Fragment, true));
    assert_eq!(mode("response_type=code&response_mode=form_post.jwt"), (ResponseMode::FormPost, true));
}

#[test]
fn jarm_response_modes() {
    let r = |m: &str| req(&format!("&response_mode={m}"));
    assert_eq!((r("jwt").response_mode, r("jwt").jarm), (ResponseMode::Query, true));
    assert_eq!((r("fragment.jwt").response_mode, r("fragment.jwt").jarm), (ResponseMode::Fragment, true));
    assert!(!r("query").jarm);
    assert_eq!(ResponseMode::parse_with_jarm("web_message.jwt"), None);
    assert_eq!(ResponseMode::parse_with_jarm("jwt.jwt"), None);
}

#[test]
fn resources_are_checked_and_scopes_follow_them() {
    let mut c = client(true);
    c.scopes = ScopeSet::parse("openid mcp:tools orders:read").unwrap();
    c.resources = vec![ResourceId::parse("https://mcp.example.com").unwrap()];
    let defs = |id: &str, scope: &str| {
        crate::resource::ResourceSpec { identifier: id.into(), scopes: vec![scope.into()], ..Default::default() }
            .validate(&|_| true)
            .unwrap()
    };
    let known_resources =
        [defs("https://mcp.example.com", "mcp:tools"), defs("https://orders.example.com", "orders:read")];
    let pkce = "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let go = |q: &str| {
        let q = format!("{pkce}&{q}");
        let target = resolve_target(&c, &params(&q)).unwrap();
        validate(&c, target, &params(&q), &known, &known_resources)
    };
    let ok = go("scope=openid+mcp:tools+orders:read&resource=https%3A%2F%2Fmcp.example.com").unwrap();
    assert_eq!(ok.resources, [ResourceId::parse("https://mcp.example.com").unwrap()]);
    assert_eq!(ok.scope.to_string(), "mcp:tools openid", "orders:read belongs to a resource not asked for");
    let code = |q: &str| go(q).unwrap_err().code();
    assert_eq!(code("scope=openid&resource=https%3A%2F%2Forders.example.com"), "invalid_target", "not the client's");
    assert_eq!(code("scope=openid&resource=https%3A%2F%2Fnope.example.com"), "invalid_target", "unknown");
    assert_eq!(code("scope=openid&resource=relative"), "invalid_target", "not an absolute URI");
    assert_eq!(code("scope=mcp:tools"), "invalid_scope", "a resource's scope without the resource");
    assert_eq!(go("scope=openid").unwrap().resources, [], "no resource: the issuer");
}
