use super::*;
use crate::test_keys::Key;
use serde_json::json;

const URL: &str = "https://id.example.com/token";
const NOW: i64 = 1_800_000_000;

trait Prove {
    fn proof(&self, claims: Value) -> String;
}

impl Prove for Key {
    fn proof(&self, claims: Value) -> String {
        self.sign_with(json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk()}), claims)
    }
}

fn claims() -> Value {
    json!({"jti": "j-1", "htm": "POST", "htu": URL, "iat": NOW})
}

fn expected() -> Expected<'static> {
    Expected { method: "POST", url: URL, now: NOW, access_token: None }
}

#[test]
fn a_good_proof_yields_its_key_thumbprint() {
    for key in [Key::ec(), Key::ed()] {
        let p = verify(&key.proof(claims()), &expected()).unwrap();
        assert_eq!(p.jkt, thumbprint(&key.jwk()));
        assert_eq!((p.jti.as_str(), p.iat, p.nonce), ("j-1", NOW, None));
    }
    // Query and fragment are not compared; the rest is, normalised.
    let mut c = claims();
    c["htu"] = json!("https://ID.example.com:443/token?x=1");
    assert!(verify(&Key::ec().proof(c), &expected()).is_ok());
}

#[test]
fn proofs_that_do_not_fit_the_request_are_refused() {
    let key = Key::ec();
    let refused = |c: Value, why: &str| {
        let e = verify(&key.proof(c), &expected()).unwrap_err();
        assert_eq!(e.code(), "invalid_dpop_proof", "{why}");
    };
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        c
    };
    refused(with("htm", json!("GET")), "another method");
    refused(with("htu", json!("https://id.example.com/userinfo")), "another URL");
    refused(with("iat", json!(NOW - MAX_AGE - 1)), "too old");
    refused(with("iat", json!(NOW + MAX_SKEW + 1)), "from the future");
    refused(with("jti", json!("")), "no jti");
    let mut no_iat = claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    refused(no_iat, "no iat");
}

#[test]
fn the_access_token_must_be_the_one_hashed_in_ath() {
    let key = Key::ed();
    let at = Expected { access_token: Some("the-token"), ..expected() };
    let mut c = claims();
    c["ath"] = json!(ath("the-token"));
    assert!(verify(&key.proof(c.clone()), &at).is_ok());
    c["ath"] = json!(ath("another-token"));
    assert_eq!(verify(&key.proof(c), &at).unwrap_err().code(), "invalid_dpop_proof");
    assert!(verify(&key.proof(claims()), &at).is_err(), "ath is required at a resource");
}

#[test]
fn forged_or_malformed_proofs_are_refused() {
    let key = Key::ec();
    let other = Key::ec();
    let cases = [
        ("another key's jwk", key.sign_with(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": other.jwk()}), claims())),
        ("typ JWT", key.sign_with(json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk()}), claims())),
        ("alg none", key.sign_with(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk()}), claims())),
        ("HS256", key.sign_with(json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk()}), claims())),
        ("alg of another kind", key.sign_with(json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk()}), claims())),
        ("no jwk", key.sign_with(json!({"typ": "dpop+jwt", "alg": "ES256"}), claims())),
        ("a private jwk", {
            let mut jwk = key.jwk();
            jwk["d"] = json!("AAAA");
            key.sign_with(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}), claims())
        }),
        ("two parts", "a.b".to_owned()),
        ("not base64", "!!.!!.!!".to_owned()),
        ("too long", "a".repeat(MAX_PROOF_BYTES + 1)),
    ];
    for (why, proof) in cases {
        assert_eq!(verify(&proof, &expected()).unwrap_err().code(), "invalid_dpop_proof", "{why}");
    }
}
