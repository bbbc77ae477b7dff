//! The config loader: TOML parsing, layering and validation of every entry.
#![no_main]

use gatehouse_core::config::{Config, Overrides};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(toml) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = Config::from_toml_str(toml, &Overrides::default()) {
        let _ = cfg.validate();
    }
});
