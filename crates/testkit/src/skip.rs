//! What a test does when something it needs is not on this machine: never a silent pass.
//! Under `CI=true` it fails. Otherwise the skip is recorded for the summary of `./test` (the
//! file named by `GATEHOUSE_TEST_SKIPS`), or, when no runner is listening, said on the terminal
//! past the harness's capture.

use std::io::Write;

/// The environment variable naming the file `./test` collects skips from.
pub const SKIPS_ENV: &str = "GATEHOUSE_TEST_SKIPS";

/// `what` (a suite, or part of one) cannot run here, because of `reason` (and how to fix it).
/// Panics under `CI=true`: CI covers everything.
pub fn skip(what: &str, reason: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {what} cannot run: {reason}");
    let line = format!("{what}\t{reason}\n");
    if let Some(path) = std::env::var_os(SKIPS_ENV) {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        // One short append per line: whole lines even from tests running in parallel.
        if file.and_then(|mut f| f.write_all(line.as_bytes())).is_ok() {
            return;
        }
    }
    let _ = writeln!(std::io::stderr(), "\nNOTICE: {what} is SKIPPED: {reason}\n");
}
