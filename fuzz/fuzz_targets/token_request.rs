//! The token request: form parsing, grant dispatch and client credentials in the body.
#![no_main]

use gatehouse_protocol::client_auth;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::token::TokenRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::parse(data) else { return };
    let _ = TokenRequest::parse(&params);
    let _ = client_auth::parse(None, &params);
});
