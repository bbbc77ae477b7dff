use super::*;
use crate::client::ClientSpec;
use crate::jwk;
use crate::test_keys::Key;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://id.example.com";

fn client(alg: Option<&str>) -> Client {
    ClientSpec {
        client_id: "app".into(),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        jwks: Some(json!({"keys": [Key::ec().jwk_with_kid("k")]})),
        request_object_signing_alg: alg.map(str::to_owned),
        ..Default::default()
    }
    .validate(&|_| true)
    .unwrap()
    .client
}

fn obj(v: Value) -> JsonObject {
    v.as_object().unwrap().clone()
}

#[test]
fn the_source_is_one_of_request_request_uri_or_neither() {
    let p = |q: &str| Params::parse(q.as_bytes()).unwrap();
    assert_eq!(source(&p("client_id=a")).unwrap(), Source::Plain);
    assert_eq!(source(&p("request=x.y.z")).unwrap(), Source::Value("x.y.z"));
    assert_eq!(source(&p("request_uri=urn:ietf:params:oauth:request_uri:abc")).unwrap(), Source::Pushed("abc"));
    assert_eq!(source(&p("request_uri=https://app/r.jwt")).unwrap(), Source::Uri("https://app/r.jwt"));
    assert_eq!(source(&p("request=x&request_uri=https://a")).unwrap_err().code(), "invalid_request");
    assert_eq!(source(&p("request_uri=urn:other")).unwrap_err().code(), "invalid_request_uri");
    assert_eq!(source(&p("request_uri=urn:ietf:params:oauth:request_uri:")).unwrap_err().code(), "invalid_request_uri");
}

#[test]
fn none_only_for_clients_registered_for_it() {
    let unsigned = format!("{}.{}.", "eyJhbGciOiJub25lIn0", "e30");
    let parsed = jwk::parse(&unsigned).unwrap();
    assert_eq!(protection(&parsed, &client(Some("none"))).unwrap(), Protection::Unsigned);
    assert_eq!(protection(&parsed, &client(None)).unwrap_err().code(), "invalid_request_object");
    assert_eq!(protection(&parsed, &client(Some("ES256"))).unwrap_err().code(), "invalid_request_object");
    let signed = Key::ec().jwt("k", Some(TYP), json!({}));
    let parsed = jwk::parse(&signed).unwrap();
    assert_eq!(protection(&parsed, &client(None)).unwrap(), Protection::Signed);
    assert!(protection(&parsed, &client(Some("none"))).is_err(), "a none client never signs");
    let wrong_typ = Key::ec().jwt("k", Some("dpop+jwt"), json!({}));
    assert!(protection(&jwk::parse(&wrong_typ).unwrap(), &client(None)).is_err());
}

#[test]
fn claims_are_the_clients_for_this_server_now() {
    let c = client(None);
    let good = json!({"iss": "app", "aud": ISS, "client_id": "app", "exp": NOW + 60, "nbf": NOW, "jti": "j",
                      "scope": "openid", "response_type": "code"});
    let ok = check_claims(&obj(good.clone()), &c, ISS, NOW).unwrap();
    assert_eq!(ok.params.get("scope"), Some("openid"));
    assert_eq!(ok.once, Some(("j".into(), NOW + 60)));
    let with = |k: &str, v: Value| {
        let mut o = good.clone();
        o[k] = v;
        check_claims(&obj(o), &c, ISS, NOW)
    };
    assert!(with("aud", json!([ISS, "x"])).is_ok());
    for (k, v) in [
        ("iss", json!("other")),
        ("client_id", json!("other")),
        ("aud", json!("https://other")),
        ("exp", json!(NOW - SKEW)),
        ("exp", json!(NOW + 2 * MAX_LIFETIME)),
        ("nbf", json!(NOW + 600)),
        ("request", json!("x")),
        ("request_uri", json!("https://x")),
    ] {
        assert_eq!(with(k, v.clone()).unwrap_err().code(), "invalid_request_object", "{k}: {v}");
    }
    // Without exp nothing is recorded; an unsigned object may carry nothing but parameters.
    assert_eq!(check_claims(&obj(json!({"scope": "openid"})), &c, ISS, NOW).unwrap().once, None);
}

#[test]
fn the_objects_parameters_replace_the_outer_ones() {
    let outer = Params::parse(b"client_id=app&scope=openid&response_type=code&request=x.y.z&state=out").unwrap();
    let inner =
        Params::from_claims(&obj(json!({"scope": "openid profile", "client_id": "app", "nonce": "n"}))).unwrap();
    let merged = merge(&outer, inner).unwrap();
    assert_eq!(merged.get("scope"), Some("openid profile"));
    assert_eq!((merged.get("state"), merged.get("nonce")), (Some("out"), Some("n")));
    assert!(!merged.contains("request"));
    let other = Params::from_claims(&obj(json!({"client_id": "other"}))).unwrap();
    assert_eq!(merge(&outer, other).unwrap_err().code(), "invalid_request_object");
}
