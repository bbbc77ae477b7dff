//! The `cargo fuzz` targets in `fuzz/` (authorize and token request parsing, client
//! authentication headers, incoming JWS, the config loader, DPoP proofs, client ID metadata
//! documents) run for a bounded time each from
//! their seeds; any crash fails the test and leaves the input in `fuzz/artifacts/`.
//!
//! Needs `cargo install cargo-fuzz` (`./test` does it); without it the test is recorded as skipped
//! and, under `CI=true`, fails. The stable toolchain builds the sanitizer flags with
//! `RUSTC_BOOTSTRAP=1`, as cargo-fuzz's nightly flags require.

use std::path::PathBuf;
use std::process::Command;

const TARGETS: [&str; 8] = [
    "authorize_request",
    "token_request",
    "client_auth_header",
    "jws",
    "config",
    "dpop_proof",
    "client_metadata_document",
    "client_jwt",
];
/// Seconds per target: long enough to explore past the seeds, short enough for every CI run.
const SECONDS: &str = "15";

#[test]
fn fuzz_targets_run_clean_for_a_while() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let has = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !has {
        gatehouse_testkit::skip("the fuzz run", "cargo-fuzz is not installed (cargo install cargo-fuzz)");
        return;
    }
    let build =
        Command::new("cargo").current_dir(&root).env("RUSTC_BOOTSTRAP", "1").args(["fuzz", "build"]).output().unwrap();
    assert!(build.status.success(), "cargo fuzz build failed:\n{}", String::from_utf8_lossy(&build.stderr));
    let work = tempfile::tempdir().unwrap();
    for t in TARGETS {
        let corpus = work.path().join(t);
        std::fs::create_dir_all(&corpus).unwrap();
        let out = Command::new("cargo")
            .current_dir(&root)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", t])
            .arg(&corpus)
            .arg(root.join("fuzz/seeds").join(t))
            .args(["--", &format!("-max_total_time={SECONDS}"), "-rss_limit_mb=2048", "-timeout=10"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "fuzz target {t} found a failure:\n{log}");
        eprintln!("fuzz {t}: {}", log.lines().filter(|l| l.starts_with("Done ")).collect::<Vec<_>>().join(" "));
    }
}
