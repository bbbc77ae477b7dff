//! Interoperability: certified client libraries nobody here wrote drive real flows against a
//! running Gatehouse. Node: panva's openid-client; Python: authlib. Run once, on SQLite.
//!
//! They need `npm ci --prefix interop/node` and `pip install -r interop/python/requirements.txt`
//! (`./test` does both). Without them the test is recorded as skipped in `./test`'s summary
//! and, under `CI=true`, fails: interop is never skipped silently.

use gatehouse_testkit::{TestDb, TestServer};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

fn interop_dir(lang: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop").join(lang)
}

/// `true` when the suite can run; otherwise a skip (a failure under CI).
fn available(what: &str, ok: bool, how: &str) -> bool {
    if !ok {
        gatehouse_testkit::skip(what, &format!("not installed ({how})"));
    }
    ok
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
            .filter(|l| {
                l.starts_with("# pass")
                    || l.starts_with("# fail")
                    || l.starts_with("# skip")
                    || l.starts_with("Ran ")
                    || *l == "OK"
                    || l.contains(" generated, ")
            })
            .collect::<Vec<_>>()
            .join(" | ")
    );
}

/// A public client that must use DPoP (RFC 9449), for openid-client's DPoP test.
const DPOP_CLIENT: &str = r#"
[[clients]]
client_id = "dpop-spa"
scope = "openid offline_access"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1:5174/cb"]
dpop_bound_access_tokens = true
first_party = true
"#;

/// A client that requires a second factor, and a user for it (openid-client's TOTP test).
const SECOND_FACTOR: &str = r#"
[secrets]
sealing_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

[[clients]]
client_id = "mfa-app"
client_secret = "mfa-app-secret"
scope = "openid profile"
grants = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:5175/cb"]
require_second_factor = true
first_party = true

[[users]]
username = "tess"
password = "tess-password"
"#;

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
    let registration = "registration-initial-token-0123456789";
    let cfg = format!(
        "[tokens]\ndevice_poll_interval = 1\n[dpop]\nrequire_nonce = true\n[registration]\nenabled = true\ninitial_access_token = \"{registration}\"\nallowed_scopes = \"openid profile roles\"\n{}\n{DPOP_CLIENT}\n{SECOND_FACTOR}",
        crate::admin::config()
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "--test-timeout=60000", "openid-client.test.mjs"])
        .env("GATEHOUSE_URL", &s.url)
        .env("GATEHOUSE_REGISTRATION_TOKEN", registration);
    run(cmd, "openid-client").await;
}

/// A free port on loopback (bound, then released for the suite to bind).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A test CA and a `localhost` certificate it signed, with openssl: the MCP suite serves its
/// client metadata document over https with them, and Gatehouse trusts the CA (`[cimd] ca_file`).
pub(crate) fn test_pki(dir: &std::path::Path) -> bool {
    let sh =
        |args: &[&str]| Command::new("openssl").current_dir(dir).args(args).output().is_ok_and(|o| o.status.success());
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n").is_ok()
        && sh(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Gatehouse interop CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ])
        && sh(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
        ])
        && sh(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ])
}

/// The official MCP TypeScript SDK (`interop/node/mcp.test.mjs`): its OAuth client signs in
/// against Gatehouse for a small MCP server, once through dynamic registration and once with a
/// client ID metadata document served over https, and the server checks `aud`.
#[tokio::test]
async fn mcp_typescript_sdk() {
    let dir = interop_dir("node");
    if !available(
        "MCP TypeScript SDK (npm)",
        dir.join("node_modules/@modelcontextprotocol/sdk").is_dir(),
        "npm ci --prefix interop/node",
    ) {
        return;
    }
    let pki = tempfile::tempdir().unwrap();
    assert!(test_pki(pki.path()), "openssl could not make the test certificates");
    let (mcp_port, cimd_port) = (free_port(), free_port());
    let mcp = format!("http://127.0.0.1:{mcp_port}/mcp");
    let cimd_url = format!("https://localhost:{cimd_port}/oauth/client.json");
    let cfg = format!(
        r#"[registration]
enabled = true
allowed_scopes = "openid offline_access mcp:tools"

[cimd]
enabled = true
allow_loopback = true
allowed_scopes = "offline_access mcp:tools"
ca_file = "{ca}"

[[scopes]]
name = "mcp:tools"
description = "Use the MCP server's tools"

[[resources]]
identifier = "{mcp}"
name = "Interop MCP server"
scopes = ["mcp:tools"]
any_client = true
{config}"#,
        ca = pki.path().join("ca.pem").display(),
        config = crate::CONFIG,
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "--test-timeout=60000", "mcp.test.mjs"])
        .env("GATEHOUSE_URL", &s.url)
        .env("MCP_PORT", mcp_port.to_string())
        .env("MCP_CIMD_URL", &cimd_url)
        .env("MCP_CIMD_PORT", cimd_port.to_string())
        .env("MCP_TLS_KEY", pki.path().join("leaf.key"))
        .env("MCP_TLS_CERT", pki.path().join("leaf.pem"));
    run(cmd, "MCP TypeScript SDK").await;
}

#[tokio::test]
async fn authlib_python() {
    let dir = interop_dir("python");
    let has =
        Command::new("python3").args(["-c", "import authlib, requests"]).output().is_ok_and(|o| o.status.success());
    if !available("authlib (PyPI)", has, "pip install -r interop/python/requirements.txt") {
        return;
    }
    let s = TestServer::start(&crate::admin::config(), TestDb::sqlite()).await.unwrap();
    let mut cmd = Command::new("python3");
    cmd.current_dir(&dir).args(["-m", "unittest", "-v", "test_authlib"]).env("GATEHOUSE_URL", &s.url);
    run(cmd, "authlib").await;
}

/// schemathesis generates requests from `/admin/openapi.json` (examples, boundary values,
/// random data, and stateful sequences following the links between operations) and checks every
/// answer: no 5xx, every status and content type documented, every body valid against its
/// schema, bad data rejected, unsupported methods refused. `positive_data_acceptance` is left
/// out: the document cannot say everything the validation knows (a user needs `password` or
/// `password_hash`; an interactive grant needs a redirect URI), so schema-valid input may
/// rightly be refused.
#[tokio::test]
async fn admin_api_matches_its_openapi_document() {
    let has = Command::new("schemathesis").arg("--version").output().is_ok_and(|o| o.status.success());
    if !available("schemathesis (PyPI)", has, "pip install -r interop/python/requirements.txt") {
        return;
    }
    let s = TestServer::start(&crate::admin::config(), TestDb::sqlite()).await.unwrap();
    // Something for the user and session operations to find.
    gatehouse_testkit::browser::Browser::new(&s.url).sign_in(&crate::webapp_auth(&[]), "alice", "alice-password").await;
    let token = crate::admin::admin_token(&s).await;
    // Its cache (replayed failures) goes in a fresh folder: every run starts clean.
    let work = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("schemathesis");
    cmd.current_dir(work.path())
        .args(["run", &s.url("/admin/openapi.json"), "--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", "50", "--workers", "2", "--seed", "1", "--request-timeout", "30"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1");
    run(cmd, "schemathesis").await;
}

/// The admin console and the sign-in pages in Debian's headless Chromium, driven by Playwright
/// (`interop/browser`): a real browser enforces what reqwest does not (CSP, cookie paths,
/// SameSite, form redirects), and checks labels, contrast, focus and layout. Set
/// `SCREENSHOTS_DIR=docs/src/screenshots` (from the repository root) to refresh the book's
/// pictures.
#[tokio::test]
async fn admin_console_in_chromium() {
    let dir = interop_dir("browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let ready = dir.join("node_modules/playwright-core").is_dir() && std::path::Path::new(&chromium).exists();
    if !available("Playwright with Chromium", ready, "npm ci --prefix interop/browser; apt-get install chromium") {
        return;
    }
    let cfg = format!("{}\n{SECOND_FACTOR}", crate::console::config());
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    // Passkeys need a domain name: the same deployment again, on localhost.
    let on_localhost = TestServer::start_on_localhost(&cfg, TestDb::sqlite()).await.unwrap();
    // Upstream providers on the sign-in page (not reached: only the page is looked at).
    let providers = "[[upstreams]]\nid = \"github\"\nkind = \"github\"\nclient_id = \"x\"\nclient_secret = \"y\"\n\n\
        [[upstreams]]\nid = \"corp\"\nlabel = \"Example Corp\"\nissuer = \"https://login.example.com\"\n\
        client_id = \"g\"\nclient_secret = \"s\"\n";
    let with_providers = TestServer::start(&format!("{cfg}\n{providers}"), TestDb::sqlite()).await.unwrap();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "--test-timeout=120000", "--test-concurrency=1"])
        .args(["console.test.mjs", "pages.test.mjs", "account.test.mjs", "passkeys.test.mjs"])
        .env("GATEHOUSE_URL", &s.url)
        .env("GATEHOUSE_PASSKEY_URL", &on_localhost.url)
        .env("GATEHOUSE_UPSTREAMS_URL", &with_providers.url)
        .env("CHROMIUM", &chromium);
    if let Ok(shots) = std::env::var("SCREENSHOTS_DIR") {
        cmd.env("SCREENSHOTS_DIR", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(shots));
    }
    run(cmd, "Playwright (Chromium)").await;
}

/// node-oidc-provider, running as a child process until dropped.
struct NodeProvider(std::process::Child);

impl Drop for NodeProvider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The action of the form on `page` whose hidden `prompt` is `prompt` (node-oidc-provider's dev
/// sign-in and consent pages).
fn form_action(page: &gatehouse_testkit::browser::Page) -> String {
    let start = page.body.find("action=\"").unwrap() + 8;
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end].replace("&amp;", "&")
}

/// Signing in through panva's node-oidc-provider as an upstream (`[[upstreams]]`): its
/// discovery, keys, dev sign-in and consent pages, RFC 9207 `iss`, tokens and userinfo, as a
/// provider nobody here wrote makes them. A user linked by verified email, one created at the
/// first sign-in, an unverified address refused.
#[tokio::test]
async fn node_oidc_provider_as_an_upstream() {
    use gatehouse_testkit::browser::Browser;
    let dir = interop_dir("node");
    if !available(
        "node-oidc-provider (npm)",
        dir.join("node_modules/oidc-provider").is_dir(),
        "npm ci --prefix interop/node",
    ) {
        return;
    }
    let port = free_port();
    let node = format!("http://127.0.0.1:{port}");
    let cfg = format!(
        "{}\n[fetch]\nallow_loopback = true\n\n[[users]]\nusername = \"carol\"\npassword = \"carol-password\"\n\
         [users.claims]\nemail = \"carol@example.com\"\nemail_verified = true\n\n\
         [[upstreams]]\nid = \"node\"\nlabel = \"Node\"\nissuer = \"{node}\"\nclient_id = \"gatehouse\"\n\
         client_secret = \"gatehouse-secret-at-node\"\nlink_by_email = true\n",
        crate::admin::config()
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let child = Command::new("node")
        .current_dir(&dir)
        .arg("upstream-provider.mjs")
        .env("PORT", port.to_string())
        .env("REDIRECT_URI", s.url("/login/upstream/node/callback"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = NodeProvider(child);
    let stdout = child.0.stdout.take().unwrap();
    // Its first line says it listens; the rest (notices) is read and dropped, so that it never
    // writes to a closed pipe.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
        lines.for_each(drop);
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), rx).await.unwrap().unwrap();
    assert_eq!(line.trim(), "ready");

    let admin = crate::admin::admin_token(&s).await;
    // Through node-oidc-provider's pages as `login`: the downstream callback's answer.
    let sign_in = async |b: &Browser, login: &str| {
        let page = b.authorize(&crate::webapp_auth(&[("prompt", "login")])).await;
        let out = b.get(&crate::upstreams::provider_link(&page, "node")).await;
        let mut next = out.header("location").unwrap().to_owned();
        let n = Browser::new(&node);
        for _ in 0..12 {
            if next.starts_with(&s.url) {
                break;
            }
            if next.starts_with('/') {
                next = format!("{node}{next}");
            }
            let page = n.get(&crate::upstreams::path_of(&next)).await;
            let page = if page.status == 200 && page.body.contains("name=\"prompt\" value=\"login\"") {
                n.post(
                    &crate::upstreams::path_of(&form_action(&page)),
                    &[("prompt", "login"), ("login", login), ("password", "any")],
                )
                .await
            } else if page.status == 200 && page.body.contains("name=\"prompt\" value=\"consent\"") {
                n.post(&crate::upstreams::path_of(&form_action(&page)), &[("prompt", "consent")]).await
            } else {
                page
            };
            next = page.header("location").unwrap_or_else(|| panic!("{}: {}", page.status, page.body)).to_owned();
        }
        assert!(next.contains("/login/upstream/node/callback?") && next.contains("iss="), "{next}");
        b.get(&crate::upstreams::path_of(&next)).await
    };

    // alice: linked by the address node-oidc-provider verified.
    let b = Browser::new(&s.url);
    let done = sign_in(&b, "alice").await;
    let id_token = crate::upstreams::webapp_id_token(&s, &b, &done).await;
    let (_, _, users) = crate::admin::call(&s, &admin, "GET", "/admin/v1/users?search=alice", None).await;
    assert_eq!(id_token["sub"], users["items"][0]["sub"], "{users}");
    assert_eq!(id_token["amr"], serde_json::json!(["fed"]));
    // nodie: created, with node-oidc-provider's claims.
    let done = sign_in(&b, "nodie").await;
    let tokens = crate::upstreams::webapp_tokens_after(&s, &b, &done).await;
    let me = crate::upstream_mock::userinfo(&s, &tokens).await;
    assert_eq!(me["preferred_username"], "nodie", "{me}");
    assert_eq!(me["email"], "nodie@example.com", "{me}");
    assert_eq!(me["name"], "No Die", "{me}");
    // mallory: node says carol's address, unverified: refused.
    let refused = sign_in(&b, "mallory").await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    drop(child);
}
