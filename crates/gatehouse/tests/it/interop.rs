//! Interoperability: certified client libraries nobody here wrote drive real flows against a
//! running Gatehouse. Node: panva's openid-client; Python: authlib. Run once, on SQLite.
//!
//! They need `npm ci --prefix interop/node` and `pip install -r interop/python/requirements.txt`
//! (`.ci/run` does both). Without them the test says so on the terminal and, under `CI=true`,
//! fails: interop is never skipped silently in CI.

use crate::CONFIG;
use gatehouse_testkit::{TestDb, TestServer};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

fn interop_dir(lang: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop").join(lang)
}

/// `true` when the suite can run; otherwise a notice (or a failure under CI).
fn available(what: &str, ok: bool, how: &str) -> bool {
    if ok {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {what} is not installed: {how}");
    let _ = writeln!(std::io::stderr(), "\nNOTICE: {what} is not installed ({how}); that interop suite is SKIPPED.\n");
    false
}

/// Runs a command on a blocking thread (the server keeps serving on the test's runtime) and
/// fails the test with its output when it fails.
async fn run(mut cmd: Command, what: &str) {
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed:\n{text}");
    // Show the suite's own summary in the test log.
    let _ = writeln!(
        std::io::stderr(),
        "{what}: {}",
        text.lines()
            .filter(|l| l.starts_with("# pass") || l.starts_with("# fail") || l.starts_with("Ran ") || *l == "OK")
            .collect::<Vec<_>>()
            .join(" | ")
    );
}

#[tokio::test]
async fn openid_client_node() {
    let dir = interop_dir("node");
    if !available(
        "openid-client (npm)",
        dir.join("node_modules/openid-client").is_dir(),
        "npm ci --prefix interop/node",
    ) {
        return;
    }
    // A 1 s device polling interval keeps the library's own polling quick.
    let cfg = format!("[tokens]\ndevice_poll_interval = 1\n{CONFIG}");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "--test-timeout=60000", "openid-client.test.mjs"])
        .env("GATEHOUSE_URL", &s.url);
    run(cmd, "openid-client").await;
}

#[tokio::test]
async fn authlib_python() {
    let dir = interop_dir("python");
    let has =
        Command::new("python3").args(["-c", "import authlib, requests"]).output().is_ok_and(|o| o.status.success());
    if !available("authlib (PyPI)", has, "pip install -r interop/python/requirements.txt") {
        return;
    }
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let mut cmd = Command::new("python3");
    cmd.current_dir(&dir).args(["-m", "unittest", "-v", "test_authlib"]).env("GATEHOUSE_URL", &s.url);
    run(cmd, "authlib").await;
}
