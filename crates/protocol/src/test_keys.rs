//! Keys of "another party" for the unit tests: a client signing assertions and request objects,
//! a DPoP prover. Each makes its public JWK and signs compact JWS with any header.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

pub enum Key {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Key {
    pub fn ec() -> Self {
        Key::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
    }

    pub fn ed() -> Self {
        Key::Ed(Ed25519KeyPair::generate().unwrap())
    }

    pub fn jwk(&self) -> Value {
        match self {
            Key::Ec(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])})
            }
            Key::Ed(k) => json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(k.public_key().as_ref())}),
        }
    }

    /// The public JWK with a `kid`.
    pub fn jwk_with_kid(&self, kid: &str) -> Value {
        let mut jwk = self.jwk();
        jwk["kid"] = json!(kid);
        jwk
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Key::Ec(_) => "ES256",
            Key::Ed(_) => "EdDSA",
        }
    }

    pub fn sign_with(&self, header: Value, claims: Value) -> String {
        let mut out = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let sig = match self {
            Key::Ec(k) => k.sign(&SystemRandom::new(), out.as_bytes()).unwrap().as_ref().to_vec(),
            Key::Ed(k) => k.sign(out.as_bytes()).as_ref().to_vec(),
        };
        out.push('.');
        out.push_str(&B64.encode(sig));
        out
    }

    /// A JWT with `{alg, kid}` (and `typ` when given).
    pub fn jwt(&self, kid: &str, typ: Option<&str>, claims: Value) -> String {
        let mut header = json!({"alg": self.alg(), "kid": kid});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        self.sign_with(header, claims)
    }
}
