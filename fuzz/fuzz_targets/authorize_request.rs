//! The authorization request: form/query parsing, redirect-URI resolution and validation.
#![no_main]

use gatehouse_protocol::authorize::{error_response_mode, resolve_target, validate};
use gatehouse_protocol::client::{Client, ClientSpec};
use gatehouse_protocol::params::Params;
use gatehouse_protocol::resource::{ResourceDefinition, ResourceSpec};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CLIENT: LazyLock<Option<Client>> = LazyLock::new(|| {
    let spec = ClientSpec {
        client_id: "webapp".into(),
        scope: Some("openid profile email offline_access".into()),
        grants: Some(vec!["authorization_code".into(), "hybrid".into(), "implicit".into()]),
        redirect_uris: vec!["https://app.example/cb".into(), "http://127.0.0.1:3000/cb".into()],
        ..Default::default()
    };
    spec.validate(&|_| true).ok().map(|v| v.client)
});

/// One resource server, so `resource` values take both paths (known and unknown).
static RESOURCES: LazyLock<Vec<ResourceDefinition>> = LazyLock::new(|| {
    let spec = ResourceSpec { identifier: "https://api.example".into(), any_client: true, ..Default::default() };
    spec.validate(&|_| true).into_iter().collect()
});

fuzz_target!(|data: &[u8]| {
    let Some(client) = CLIENT.as_ref() else { return };
    let Ok(params) = Params::parse(data) else { return };
    let _ = error_response_mode(&params);
    if let Ok(uri) = resolve_target(client, &params) {
        // Some scope names known, others not: both paths of the scope rule.
        let _ = validate(client, uri, &params, &|s| s != "unknown", &RESOURCES);
    }
});
