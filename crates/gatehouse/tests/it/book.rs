//! The book under `docs/` stays true to the code: the configuration reference is what
//! `gatehouse config-reference` prints, and every TOML snippet is a configuration that
//! `gatehouse check-config` accepts. (The book's links are checked by `./test book`.)

use crate::cli::{BIN, check_config};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_configuration_reference_is_what_the_code_says() {
    let out = Command::new(BIN).arg("config-reference").output().unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(repo().join("docs/src/reference/config.md")).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/src/reference/config.md differs from what the configuration types say; regenerate it:\n  \
         cargo run -- config-reference > docs/src/reference/config.md"
    );
    // Every table of the file has a section, and every key a row.
    for section in ["## Top-level keys", "## `[tokens]`", "## `[throttle]`", "## `[[clients]]`", "## `[[users]]`"] {
        assert!(generated.contains(section), "{section}");
    }
    for key in ["| `issuer` |", "| `refresh_token_reuse_grace` | integer | `10` | 0 to 300 |", "| `redirect_uris` |"] {
        assert!(generated.contains(key), "{key}");
    }
}

/// Markdown files under `dir`, recursively.
fn markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The ```toml blocks of a Markdown text, with the line each starts on.
fn toml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        match &mut current {
            None if line.trim_start().starts_with("```toml") => current = Some((n + 1, String::new())),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(current.take()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn every_toml_snippet_in_the_book_passes_check_config() {
    let mut files = vec![repo().join("README.md")];
    markdown(&repo().join("docs/src"), &mut files);
    let dir = tempfile::tempdir().unwrap();
    // Snippets name files where an installation keeps them; give them a sandbox's copies.
    let etc = dir.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    std::fs::write(etc.join("acme.svg"), r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>"#).unwrap();

    let (mut checked, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (line, body) in toml_blocks(&text) {
            checked += 1;
            let body = body.replace("/etc/gatehouse/", &format!("{}/", etc.display()));
            let path = dir.path().join(format!("snippet{checked}.toml"));
            std::fs::write(&path, body).unwrap();
            let (code, _, err) = check_config(&path);
            if code != 0 {
                let shown = file.strip_prefix(repo()).unwrap_or(file).display().to_string();
                failures.push(format!("{shown}:{line}:\n{err}"));
            }
        }
    }
    assert!(checked >= 10, "only {checked} TOML snippets found: is docs/src there?");
    assert!(failures.is_empty(), "TOML snippets that check-config refuses:\n{}", failures.join("\n"));
}
