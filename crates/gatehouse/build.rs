//! Puts the git revision into `gatehouse --version`: `BUILD_GIT_REVISION` when set (the
//! container build, which has no `.git`), else the checkout's, else `unknown`.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=BUILD_GIT_REVISION");
    let given = std::env::var("BUILD_GIT_REVISION").ok().filter(|s| !s.is_empty() && s != "unknown");
    let rev = given.unwrap_or_else(git_revision);
    // Not GATEHOUSE_*: cargo also sets this when it runs the binary, and unknown GATEHOUSE_
    // variables are configuration errors.
    println!("cargo:rustc-env=BUILD_GIT_REVISION={rev}");
    // Rebuild when the checked-out commit changes (only paths that exist: a missing one would
    // rerun this script on every build).
    for p in ["../../.git/HEAD", "../../.git/refs/heads", "../../.git/packed-refs"] {
        if Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

fn git_revision() -> String {
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
