use super::*;
use aws_lc_rs::encoding::AsDer;

/// Test keys are generated here; production keys come from the server's key manager.
fn key(alg: SigningAlg) -> SigningKey {
    let der: Vec<u8> = match alg {
        SigningAlg::RS256 | SigningAlg::PS256 => {
            RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap().as_der().unwrap().as_ref().to_vec()
        }
        SigningAlg::ES256 => EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .unwrap()
            .to_pkcs8v1()
            .unwrap()
            .as_ref()
            .to_vec(),
        SigningAlg::EdDSA => Ed25519KeyPair::generate().unwrap().to_pkcs8v1().unwrap().as_ref().to_vec(),
    };
    SigningKey::from_pkcs8(alg, &der).unwrap()
}

#[test]
fn every_alg_signs_what_an_independent_library_verifies() {
    for alg in SigningAlg::ALL {
        let k = key(alg);
        let token = k.sign("JWT", &json!({"sub": "alice", "exp": 4_000_000_000u64})).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(Value::Object(k.public_jwk().clone())).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let jalg = match alg {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::PS256 => jsonwebtoken::Algorithm::PS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        };
        let mut v = jsonwebtoken::Validation::new(jalg);
        v.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(&token, &dk, &v).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims["sub"], "alice");
        assert_eq!(data.header.kid.as_deref(), Some(k.kid()));

        let (header, payload) = verify(&token, [&k]).unwrap();
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(payload["sub"], "alice");
    }
}

#[test]
fn tampered_or_foreign_tokens_fail() {
    let k = key(SigningAlg::ES256);
    let other = key(SigningAlg::ES256);
    let token = k.sign("JWT", &json!({"sub": "alice"})).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_payload = B64.encode(br#"{"sub":"mallory"}"#);
    parts[1] = &forged_payload;
    assert_eq!(verify(&parts.join("."), [&k]).unwrap_err(), JoseError::BadSignature);
    assert_eq!(verify(&token, [&other]).unwrap_err(), JoseError::UnknownKey);
    assert_eq!(verify("a.b", [&k]).unwrap_err(), JoseError::Malformed);
    assert_eq!(verify("a.b.c.d", [&k]).unwrap_err(), JoseError::Malformed);
    assert_eq!(verify("!!.??.**", [&k]).unwrap_err(), JoseError::Malformed);
}

#[test]
fn alg_none_and_alg_confusion_are_refused() {
    let k = key(SigningAlg::RS256);
    let header = B64.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, k.kid()));
    let body = B64.encode(br#"{"sub":"x"}"#);
    assert_eq!(verify(&format!("{header}.{body}."), [&k]).unwrap_err(), JoseError::UnknownKey);
    let header = B64.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.kid()));
    assert_eq!(verify(&format!("{header}.{body}.AAAA"), [&k]).unwrap_err(), JoseError::UnknownKey);
}

#[test]
fn thumbprint_matches_rfc_7638_example() {
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    assert_eq!(thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn half_hash_matches_oidc_core_example() {
    // OIDC Core §A.3: access_token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" -> at_hash
    // "77QmUPtjPfzWtF2AnpK9RQ" with RS256.
    assert_eq!(SigningAlg::RS256.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
}

#[test]
fn wrong_key_type_is_refused() {
    let ed = Ed25519KeyPair::generate().unwrap().to_pkcs8v1().unwrap();
    assert!(SigningKey::from_pkcs8(SigningAlg::RS256, ed.as_ref()).is_err());
    assert!(SigningKey::from_pkcs8(SigningAlg::ES256, b"junk").is_err());
}
