use super::*;

fn known(s: &str) -> bool {
    matches!(s, "openid" | "profile" | "email" | "offline_access" | "roles")
}

fn spec(id: &str) -> ClientSpec {
    ClientSpec { client_id: id.into(), ..Default::default() }
}

fn confidential(id: &str) -> ClientSpec {
    ClientSpec { client_secret: Some(Secret::new("s")), ..spec(id) }
}

struct Case {
    name: &'static str,
    spec: ClientSpec,
    /// `Ok(grants)` or `Err(key of the first error)`.
    expect: Result<&'static [GrantType], &'static str>,
}

#[test]
fn client_specs_table() {
    use GrantType::*;
    let uri = || vec!["https://app.example.com/cb".to_owned()];
    let cases = [
        Case {
            name: "confidential defaults",
            spec: confidential("a"),
            expect: Ok(&[AuthorizationCode, ClientCredentials]),
        },
        Case { name: "public defaults", spec: spec("a"), expect: Ok(&[AuthorizationCode]) },
        Case {
            name: "combined identityserver names",
            spec: ClientSpec {
                grants: Some(vec!["hybrid client_credentials".into()]),
                redirect_uris: uri(),
                ..confidential("a")
            },
            expect: Ok(&[Hybrid, ClientCredentials]),
        },
        Case {
            name: "device urn and alias",
            spec: ClientSpec {
                grants: Some(vec!["urn:ietf:params:oauth:grant-type:device_code".into(), "device_code".into()]),
                ..spec("tv")
            },
            expect: Ok(&[DeviceCode]),
        },
        Case {
            name: "rfc 7591 names map onto grants",
            spec: ClientSpec {
                grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
                response_types: Some(vec!["code id_token".into()]),
                redirect_uris: uri(),
                ..confidential("a")
            },
            expect: Ok(&[AuthorizationCode, Hybrid, RefreshToken]),
        },
        Case {
            name: "unknown grant",
            spec: ClientSpec { grants: Some(vec!["implict".into()]), ..confidential("a") },
            expect: Err("grants"),
        },
        Case {
            name: "public client_credentials",
            spec: ClientSpec { grants: Some(vec!["client_credentials".into()]), ..spec("a") },
            expect: Err("grants"),
        },
        Case {
            name: "public password",
            spec: ClientSpec { grants: Some(vec!["password".into()]), ..spec("a") },
            expect: Err("grants"),
        },
        Case {
            name: "relative redirect uri",
            spec: ClientSpec { redirect_uris: vec!["/cb".into()], ..spec("a") },
            expect: Err("redirect_uris"),
        },
        Case {
            name: "redirect uri with fragment",
            spec: ClientSpec { redirect_uris: vec!["https://a.example/cb#frag".into()], ..spec("a") },
            expect: Err("redirect_uris"),
        },
        Case {
            name: "explicit code grant without redirect uri",
            spec: ClientSpec { grants: Some(vec!["authorization_code".into()]), ..spec("a") },
            expect: Err("redirect_uris"),
        },
        Case {
            name: "undefined scope",
            spec: ClientSpec { scope: Some("openid billing".into()), ..spec("a") },
            expect: Err("scope"),
        },
        Case { name: "empty client id", spec: spec(""), expect: Err("client_id") },
        Case { name: "client id with space", spec: spec("a b"), expect: Err("client_id") },
        Case {
            name: "auth method none with a secret",
            spec: ClientSpec { token_endpoint_auth_method: Some("none".into()), ..confidential("a") },
            expect: Err("token_endpoint_auth_method"),
        },
        Case {
            name: "auth method basic without a secret",
            spec: ClientSpec { token_endpoint_auth_method: Some("client_secret_basic".into()), ..spec("a") },
            expect: Err("token_endpoint_auth_method"),
        },
        Case {
            name: "private_key_jwt beside a secret",
            spec: ClientSpec { token_endpoint_auth_method: Some("private_key_jwt".into()), ..confidential("a") },
            expect: Err("token_endpoint_auth_method"),
        },
        Case {
            name: "unknown signing alg",
            spec: ClientSpec { id_token_signed_response_alg: Some("HS512".into()), ..confidential("a") },
            expect: Err("id_token_signed_response_alg"),
        },
        Case {
            name: "HS256 ID tokens need a client secret",
            spec: ClientSpec { id_token_signed_response_alg: Some("HS256".into()), ..spec("spa") },
            expect: Err("id_token_signed_response_alg"),
        },
        Case {
            name: "zero lifetime",
            spec: ClientSpec { access_token_ttl: Some(0), ..confidential("a") },
            expect: Err("access_token_ttl"),
        },
        Case {
            name: "bad stored secret hash",
            spec: ClientSpec { client_secret_hash: Some("md5:abc".into()), ..spec("a") },
            expect: Err("client_secret_hash"),
        },
    ];
    for c in cases {
        match (c.spec.validate(&known), c.expect) {
            (Ok(v), Ok(grants)) => {
                let got: Vec<GrantType> = v.client.grants.iter().collect();
                assert_eq!(got, grants, "{}", c.name);
            }
            (Err(errs), Err(key)) => {
                assert_eq!(errs.first().map(|e| e.key), Some(key), "{}: {errs:?}", c.name)
            }
            (got, want) => panic!("{}: got {got:?}, want {want:?}", c.name),
        }
    }
}

#[test]
fn unknown_grant_error_lists_valid_names() {
    let s = ClientSpec { grants: Some(vec!["implict".into()]), ..confidential("a") };
    let errs = s.validate(&known).unwrap_err();
    assert!(errs[0].message.contains("\"implict\""));
    assert!(errs[0].message.contains("implicit, hybrid"));
}

#[test]
fn defaults_for_auth_method_and_algs() {
    let c = confidential("a").validate(&known).unwrap().client;
    assert_eq!(c.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
    assert_eq!(c.id_token_signed_response_alg, crate::jose::IdTokenAlg::Key(SigningAlg::RS256));
    assert_eq!(c.access_token_signed_response_alg, None);
    let p = spec("spa").validate(&known).unwrap();
    assert_eq!(p.client.token_endpoint_auth_method, TokenEndpointAuthMethod::None);
    assert!(p.secret_input.is_none());
}

#[test]
fn every_problem_is_reported() {
    let s = ClientSpec {
        grants: Some(vec!["bogus".into(), "password".into()]),
        redirect_uris: vec!["nope".into()],
        scope: Some("nope".into()),
        ..spec("a")
    };
    let keys: Vec<&str> = s.validate(&known).unwrap_err().iter().map(|e| e.key).collect();
    assert_eq!(keys, ["scope", "grants", "grants", "redirect_uris"]);
}

#[test]
fn stored_form_round_trips_and_omits_the_secret() {
    let s = ClientSpec {
        grants: Some(vec!["authorization_code".into(), "refresh_token".into()]),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        scope: Some("openid profile".into()),
        ..confidential("webapp")
    };
    let mut c = s.validate(&known).unwrap().client;
    c.secret = Some(SecretHash::sha256(&Secret::new("x")));
    let doc = serde_json::to_value(&c).unwrap();
    assert_eq!(doc["client_id"], "webapp");
    assert_eq!(doc["scope"], "openid profile");
    assert_eq!(doc["grants"], serde_json::json!(["authorization_code", "refresh_token"]));
    assert!(!doc.to_string().contains("sha256"));
    let mut back: Client = serde_json::from_value(doc).unwrap();
    back.secret = c.secret.clone();
    assert_eq!(back, c);
}

#[test]
fn to_spec_validates_back_into_the_same_client() {
    let s = ClientSpec {
        grants: Some(vec!["hybrid".into(), "refresh_token".into(), "device_code".into()]),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        post_logout_redirect_uris: vec!["https://app.example.com/".into()],
        scope: Some("openid roles".into()),
        access_token_signed_response_alg: Some("ES256".into()),
        access_token_ttl: Some(600),
        backchannel_logout_uri: Some("https://app.example.com/bc".into()),
        first_party: true,
        ..confidential("webapp")
    };
    let mut c = s.validate(&known).unwrap().client;
    c.secret = Some(SecretHash::sha256(&Secret::new("x")));
    let v = c.to_spec().validate(&known).unwrap();
    let Some(SecretInput::Hashed(h)) = v.secret_input else { panic!("the hash survives") };
    let mut back = v.client;
    back.secret = Some(h);
    assert_eq!(back, c);

    let public = spec("spa").validate(&known).unwrap().client;
    assert_eq!(public.to_spec().validate(&known).unwrap().client, public);
}
