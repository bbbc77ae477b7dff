use super::*;
use josekit::jwe::JweDecrypter;
use josekit::jwk::alg::ec::EcCurve;
use serde_json::{Value, json};
use std::sync::LazyLock;

/// Generated once: RSA key generation is the slow part of these tests.
static RSA: LazyLock<Jwk> = LazyLock::new(|| Jwk::generate_rsa_key(2048).unwrap());
static EC: LazyLock<Jwk> = LazyLock::new(|| Jwk::generate_ec_key(EcCurve::P256).unwrap());

/// The public half of `private` with `extra` members, as a JWK set member.
fn public(private: &Jwk, extra: Value) -> Value {
    let mut v = Value::Object(private.to_public_key().unwrap().as_ref().clone());
    for (k, m) in extra.as_object().unwrap() {
        v[k] = m.clone();
    }
    v
}

fn set(keys: &[Value]) -> Jwks {
    Jwks::parse(&json!({ "keys": keys })).unwrap()
}

fn decrypter(alg: KeyAlg, private: &Jwk) -> Box<dyn JweDecrypter> {
    match alg {
        KeyAlg::RsaOaep => Box::new(jwe::RSA_OAEP.decrypter_from_jwk(private).unwrap()),
        KeyAlg::RsaOaep256 => Box::new(jwe::RSA_OAEP_256.decrypter_from_jwk(private).unwrap()),
        KeyAlg::EcdhEs => Box::new(jwe::ECDH_ES.decrypter_from_jwk(private).unwrap()),
        KeyAlg::EcdhEsA128Kw => Box::new(jwe::ECDH_ES_A128KW.decrypter_from_jwk(private).unwrap()),
        KeyAlg::EcdhEsA256Kw => Box::new(jwe::ECDH_ES_A256KW.decrypter_from_jwk(private).unwrap()),
    }
}

fn private_for(alg: KeyAlg) -> &'static Jwk {
    if alg.kty() == "RSA" { &RSA } else { &EC }
}

#[test]
fn every_algorithm_pair_round_trips_through_the_holder_of_the_key() {
    let jwks = set(&[public(&RSA, json!({"kid": "r"})), public(&EC, json!({"kid": "e"}))]);
    for alg in KeyAlg::ALL {
        for enc in ContentEnc::ALL {
            let token = encrypt(b"a.b.c", true, &jwks, Encryption { alg, enc }).unwrap();
            assert_eq!(token.split('.').count(), 5, "{alg} {enc}: compact JWE");
            let (payload, header) = jwe::deserialize_compact(&token, &*decrypter(alg, private_for(alg))).unwrap();
            assert_eq!(payload, b"a.b.c", "{alg} {enc}");
            assert_eq!(header.algorithm(), Some(alg.as_str()));
            assert_eq!(header.content_encryption(), Some(enc.as_str()));
            assert_eq!(header.content_type(), Some("JWT"), "a nested JWT says so");
            assert_eq!(header.key_id(), Some(if alg.kty() == "RSA" { "r" } else { "e" }), "the key's kid");
        }
    }
}

#[test]
fn a_plain_document_has_no_content_type() {
    let jwks = set(&[public(&EC, json!({}))]);
    let how = Encryption { alg: KeyAlg::EcdhEs, enc: ContentEnc::A256Gcm };
    let token = encrypt(br#"{"sub":"x"}"#, false, &jwks, how).unwrap();
    let (payload, header) = jwe::deserialize_compact(&token, &*decrypter(how.alg, &EC)).unwrap();
    assert_eq!(payload, br#"{"sub":"x"}"#);
    assert_eq!(header.content_type(), None);
    assert_eq!(header.key_id(), None, "no kid when the key has none");
}

#[test]
fn keys_for_signing_or_for_another_algorithm_are_passed_over() {
    let sig_only = public(&RSA, json!({"kid": "sig", "use": "sig"}));
    let other_alg = public(&RSA, json!({"kid": "other", "alg": "RSA-OAEP"}));
    let verify_only = public(&RSA, json!({"kid": "ops", "key_ops": ["verify"]}));
    let jwks = set(&[sig_only.clone(), other_alg.clone(), verify_only.clone()]);
    let how = Encryption { alg: KeyAlg::RsaOaep256, enc: ContentEnc::A128CbcHs256 };
    assert_eq!(encrypt(b"x", true, &jwks, how), Err(JweError::NoKey(KeyAlg::RsaOaep256)));
    assert!(!can_encrypt(&jwks, KeyAlg::RsaOaep256));
    assert!(can_encrypt(&jwks, KeyAlg::RsaOaep), "the key limited to RSA-OAEP serves it");

    let enc_key = public(&RSA, json!({"kid": "enc", "use": "enc"}));
    let jwks = set(&[sig_only, other_alg, verify_only, enc_key]);
    let token = encrypt(b"x", true, &jwks, how).unwrap();
    let (_, header) = jwe::deserialize_compact(&token, &*decrypter(how.alg, &RSA)).unwrap();
    assert_eq!(header.key_id(), Some("enc"));
}

#[test]
fn an_rsa_set_cannot_take_ecdh_nor_an_ec_set_rsa() {
    let rsa = set(&[public(&RSA, json!({}))]);
    let ec = set(&[public(&EC, json!({}))]);
    for alg in KeyAlg::ALL {
        assert_eq!(can_encrypt(&rsa, alg), alg.kty() == "RSA", "{alg}");
        assert_eq!(can_encrypt(&ec, alg), alg.kty() == "EC", "{alg}");
    }
    let ed = set(&[json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})]);
    assert!(KeyAlg::ALL.iter().all(|a| !can_encrypt(&ed, *a)), "Ed25519 keys only sign");
}

#[test]
fn names_parse_back() {
    for a in KeyAlg::ALL {
        assert_eq!(KeyAlg::parse(a.as_str()), Some(a));
    }
    for e in ContentEnc::ALL {
        assert_eq!(ContentEnc::parse(e.as_str()), Some(e));
    }
    assert_eq!(KeyAlg::parse("RSA1_5"), None, "RSA1_5 is not offered (RFC 8725 §3.2)");
    assert_eq!(KeyAlg::parse("dir"), None);
    assert_eq!(ContentEnc::parse("A128GCM"), None);
    assert_eq!(ContentEnc::default(), ContentEnc::A128CbcHs256);
}
