use super::*;
use crate::jwk::Jwks;
use crate::test_keys::Key;
use serde_json::json;

fn keys(jwks: Option<serde_json::Value>, jwks_uri: Option<&str>) -> ClientKeys {
    ClientKeys {
        jwks: jwks.map(|v| Jwks::parse(&v).unwrap()),
        jwks_uri: jwks_uri.map(str::to_owned),
        ..ClientKeys::default()
    }
}

fn validate(encrypted: [(Option<&str>, Option<&str>); 4], keys: &ClientKeys) -> (ResponseFormats, Vec<String>) {
    let mut errs = Vec::new();
    let f = ResponseFormats::validate(&Raw { encrypted, ..Raw::default() }, keys, &mut errs);
    (f, errs.into_iter().map(|(k, m)| format!("{k}: {m}")).collect())
}

const NONE: (Option<&str>, Option<&str>) = (None, None);

#[test]
fn an_alg_alone_takes_a128cbc_hs256() {
    let ec = keys(Some(json!({"keys": [Key::ec().jwk()]})), None);
    let (f, errs) = validate([(Some("ECDH-ES"), None), NONE, NONE, NONE], &ec);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        f.encryption(Encrypted::IdToken),
        Some(Encryption { alg: KeyAlg::EcdhEs, enc: ContentEnc::A128CbcHs256 })
    );
    assert_eq!(f.id_token_encrypted_response_enc, Some(ContentEnc::A128CbcHs256), "the default is registered");
    assert_eq!(f.encryption(Encrypted::Userinfo), None);
}

#[test]
fn each_response_has_its_own_pair() {
    let uri = keys(None, Some("https://rp.example/jwks"));
    let (f, errs) = validate(
        [
            (Some("RSA-OAEP"), Some("A256GCM")),
            (Some("RSA-OAEP-256"), None),
            (Some("ECDH-ES+A128KW"), Some("A128CBC-HS256")),
            (Some("ECDH-ES+A256KW"), Some("A256GCM")),
        ],
        &uri,
    );
    assert!(errs.is_empty(), "{errs:?}");
    let got: Vec<_> = Encrypted::ALL.into_iter().map(|w| f.encryption(w).unwrap()).collect();
    assert_eq!(got[0], Encryption { alg: KeyAlg::RsaOaep, enc: ContentEnc::A256Gcm });
    assert_eq!(got[1], Encryption { alg: KeyAlg::RsaOaep256, enc: ContentEnc::A128CbcHs256 });
    assert_eq!(got[2], Encryption { alg: KeyAlg::EcdhEsA128Kw, enc: ContentEnc::A128CbcHs256 });
    assert_eq!(got[3], Encryption { alg: KeyAlg::EcdhEsA256Kw, enc: ContentEnc::A256Gcm });
    // Stored and read back unchanged.
    let back: ResponseFormats = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
    assert_eq!(back, f);
}

#[test]
fn bad_pairs_are_refused_with_the_field_named() {
    let ec = keys(Some(json!({"keys": [Key::ec().jwk()]})), None);
    let (_, errs) = validate([(None, Some("A256GCM")), NONE, NONE, NONE], &ec);
    assert_eq!(
        errs,
        ["id_token_encrypted_response_enc: id_token_encrypted_response_enc needs id_token_encrypted_response_alg"]
    );
    let (_, errs) = validate([NONE, (Some("RSA1_5"), None), NONE, NONE], &ec);
    assert!(errs[0].starts_with("userinfo_encrypted_response_alg: unknown algorithm \"RSA1_5\""), "{errs:?}");
    let (_, errs) = validate([NONE, NONE, (Some("ECDH-ES"), Some("A128GCM")), NONE], &ec);
    assert!(errs[0].starts_with("introspection_encrypted_response_enc: unknown algorithm"), "{errs:?}");
    // An EC set cannot take RSA-OAEP.
    let (f, errs) = validate([NONE, NONE, NONE, (Some("RSA-OAEP"), None)], &ec);
    assert!(
        errs[0].starts_with("authorization_encrypted_response_alg: the client's jwks holds no RSA key"),
        "{errs:?}"
    );
    assert_eq!(f.encryption(Encrypted::Authorization), None);
    // No keys at all.
    let (_, errs) = validate([(Some("ECDH-ES"), None), NONE, NONE, NONE], &ClientKeys::default());
    assert!(errs[0].contains("needs the client's jwks or jwks_uri"), "{errs:?}");
    // A key marked for signing does not count.
    let mut sig = Key::ec().jwk();
    sig["use"] = json!("sig");
    let (_, errs) = validate([(Some("ECDH-ES"), None), NONE, NONE, NONE], &keys(Some(json!({"keys": [sig]})), None));
    assert_eq!(errs.len(), 1, "{errs:?}");
}
