use super::*;
use crate::test_keys::Key;
use serde_json::json;

fn set(keys: &[Value]) -> Jwks {
    Jwks::parse(&json!({ "keys": keys })).unwrap()
}

#[test]
fn a_set_holds_public_keys_of_known_kinds_only() {
    let ec = Key::ec().jwk_with_kid("a");
    assert!(Jwks::parse(&json!({"keys": [ec.clone(), Key::ed().jwk()]})).is_ok());
    assert!(Jwks::parse(&json!([ec.clone()])).is_err(), "not an object");
    let mut private = ec.clone();
    private["d"] = json!("AAAA");
    assert!(Jwks::parse(&json!({"keys": [private]})).is_err(), "a private key is refused");
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert!(Jwks::parse(&json!({"keys": [oct]})).is_err());
    let mut short = ec.clone();
    short["x"] = json!("AAAA");
    assert!(Jwks::parse(&json!({"keys": [short]})).is_err(), "a point of the wrong size");
    let small_rsa = json!({"kty": "RSA", "n": B64.encode([7u8; 128]), "e": "AQAB"});
    assert!(Jwks::parse(&json!({"keys": [small_rsa]})).is_err(), "RSA under 2048 bits");
    let many: Vec<Value> = (0..21).map(|i| Key::ed().jwk_with_kid(&i.to_string())).collect();
    assert!(Jwks::parse(&json!({ "keys": many })).is_err());
    // Its JSON form is the set as given.
    let s = set(std::slice::from_ref(&ec));
    assert_eq!(serde_json::from_value::<Jwks>(serde_json::to_value(&s).unwrap()).unwrap(), s);
}

#[test]
fn verifies_by_kid_and_alg() {
    let (a, b) = (Key::ec(), Key::ed());
    let jwks = set(&[a.jwk_with_kid("a"), b.jwk_with_kid("b")]);
    let all = SigningAlg::ALL;
    let token = a.jwt("a", None, json!({"x": 1}));
    let parsed = parse(&token).unwrap();
    assert_eq!(parsed.verify(&jwks, &all), Ok(SigningAlg::ES256));
    assert_eq!(parsed.claims["x"], 1);
    assert_eq!(parsed.verify(&jwks, &[SigningAlg::RS256]), Err(JwsError::Algorithm), "alg not allowed");
    // An unknown kid is "no key" (the caller may refetch); the right kid with another key's
    // signature is a bad signature.
    assert_eq!(parse(&a.jwt("c", None, json!({}))).unwrap().verify(&jwks, &all), Err(JwsError::NoKey));
    let forged = Key::ec().jwt("a", None, json!({}));
    assert_eq!(parse(&forged).unwrap().verify(&jwks, &all), Err(JwsError::BadSignature));
    // Without a kid, any key of the kind may have signed.
    let no_kid = b.sign_with(json!({"alg": "EdDSA"}), json!({}));
    assert_eq!(parse(&no_kid).unwrap().verify(&jwks, &all), Ok(SigningAlg::EdDSA));
}

#[test]
fn none_and_hmac_and_encryption_keys_never_verify() {
    let a = Key::ec();
    let mut enc = a.jwk_with_kid("a");
    enc["use"] = json!("enc");
    let jwks = set(&[enc]);
    assert_eq!(parse(&a.jwt("a", None, json!({}))).unwrap().verify(&jwks, &SigningAlg::ALL), Err(JwsError::NoKey));
    let unsigned = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode("{}"));
    assert_eq!(parse(&unsigned).unwrap().verify(&jwks, &SigningAlg::ALL), Err(JwsError::Algorithm));
    let hs = format!("{}.{}.c2ln", B64.encode(r#"{"alg":"HS256"}"#), B64.encode("{}"));
    assert_eq!(parse(&hs).unwrap().verify(&jwks, &SigningAlg::ALL), Err(JwsError::Algorithm));
    assert!(parse("a.b").is_err());
    assert!(parse("e30.W10.").is_err(), "a payload that is not an object");
}
