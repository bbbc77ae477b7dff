//! JWTs a client sends: `private_key_jwt` assertions at every endpoint that authenticates
//! clients, request objects at /authorize and /par. Anyone can send them, before any key is
//! known: splitting, the claims, the parameters they become, and a verification that must fail.
#![no_main]

use gatehouse_protocol::client::ClientSpec;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::{client_assertion, jwk, request_object};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CLIENT: LazyLock<Option<gatehouse_protocol::Client>> = LazyLock::new(|| {
    let key = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]});
    let spec = ClientSpec {
        client_id: "app".into(),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        jwks: Some(key),
        ..Default::default()
    };
    spec.validate(&|_| true).ok().map(|v| v.client)
});

fuzz_target!(|data: &[u8]| {
    let Ok(jwt) = std::str::from_utf8(data) else { return };
    let Some(client) = CLIENT.as_ref() else { return };
    let Ok(parsed) = jwk::parse(jwt) else { return };
    let now = 1_800_000_000;
    let _ = client_assertion::claimed_client(&parsed.claims);
    let _ = client_assertion::check_claims(&parsed.claims, &["https://id.example"], now);
    let _ = request_object::protection(&parsed, client);
    if let Some(jwks) = &client.keys.jwks {
        // Nobody but the holder of the private key can make this pass.
        assert!(parsed.verify(jwks, &SigningAlg::ALL).is_err());
    }
    if let Ok(checked) = request_object::check_claims(&parsed.claims, client, "https://id.example", now) {
        let outer = Params::single("client_id", "app");
        let _ = request_object::merge(&outer, checked.params);
    }
});
