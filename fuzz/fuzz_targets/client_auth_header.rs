//! Client authentication from the `Authorization` header (RFC 6749 §2.3.1: Basic with
//! form-encoded id and secret).
#![no_main]

use gatehouse_protocol::client_auth;
use gatehouse_protocol::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let Ok(empty) = Params::parse(b"") else { return };
    let _ = client_auth::parse(Some(header), &empty);
    let Ok(with_id) = Params::parse(b"client_id=webapp") else { return };
    let _ = client_auth::parse(Some(header), &with_id);
});
