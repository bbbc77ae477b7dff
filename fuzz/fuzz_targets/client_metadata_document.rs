//! Client ID metadata documents: whatever a website serves at a URL used as `client_id`.
#![no_main]

use gatehouse_protocol::cimd::client_from_document;
use gatehouse_protocol::scope::ScopeSet;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static ALLOWED: LazyLock<ScopeSet> = LazyLock::new(|| ScopeSet::parse("openid offline_access mcp:tools").unwrap_or_default());

fuzz_target!(|data: &[u8]| {
    let _ = client_from_document("https://agent.example/client.json", data, &ALLOWED, &|s| s != "unknown");
});
