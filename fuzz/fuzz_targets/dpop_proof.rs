//! DPoP proofs (RFC 9449): any client may send any `DPoP` header to /token and /userinfo.
#![no_main]

use gatehouse_protocol::dpop::{Expected, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = std::str::from_utf8(data) else { return };
    let expected = Expected { method: "POST", url: "https://id.example/token", now: 1_800_000_000, access_token: Some("at") };
    let _ = verify(proof, &expected);
});
