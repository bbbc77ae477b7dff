//! Incoming JWS/JWT (ID token hints, access tokens at userinfo and introspection): parsing and
//! verification against our own keys.
#![no_main]

use gatehouse_protocol::jose::{self, SigningAlg, SigningKey};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static KEYS: LazyLock<Vec<SigningKey>> = LazyLock::new(|| {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut keys = Vec::new();
    if let Ok(doc) =
        aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        && let Ok(k) = SigningKey::from_pkcs8(SigningAlg::ES256, doc.as_ref())
    {
        keys.push(k);
    }
    if let Ok(doc) = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng)
        && let Ok(k) = SigningKey::from_pkcs8(SigningAlg::EdDSA, doc.as_ref())
    {
        keys.push(k);
    }
    keys
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let _ = jose::verify(token, KEYS.iter());
});
