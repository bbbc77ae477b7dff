//! The `gatehouse` binary: check-config messages, starting with nothing, env overrides,
//! graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

pub(crate) fn write(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

pub(crate) fn check_config(path: &Path) -> (i32, String, String) {
    let out = Command::new(BIN).arg("check-config").arg(path).env("RUST_LOG", "warn").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn quickstart_example_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart.toml");
    let (code, out, err) = check_config(&root);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok (8 clients, 1 user, 2 custom scopes)"), "{out}");
}

/// Each bad config names the file, the entry, the key, and what is allowed.
#[test]
fn bad_configs_are_refused_with_precise_messages() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "unknown grant",
            "[[clients]]\nclient_id = \"web\"\nclient_secret = \"s\"\ngrants = [\"implict\"]\nredirect_uris = [\"https://a.example/cb\"]\n",
            &[
                "clients[0] (client_id \"web\"): grants: unknown grant \"implict\"",
                "authorization_code, implicit, hybrid, client_credentials, refresh_token, password, urn:ietf:params:oauth:grant-type:device_code",
            ],
        ),
        (
            "duplicate client_id",
            "[[clients]]\nclient_id = \"web\"\n[[clients]]\nclient_id = \"web\"\n",
            &["clients[1] (client_id \"web\"): client_id: duplicate; clients[0] has the same client_id"],
        ),
        (
            "relative redirect uri",
            "[[clients]]\nclient_id = \"web\"\nredirect_uris = [\"/callback\"]\n",
            &["clients[0] (client_id \"web\"): redirect_uris: \"/callback\" is not an absolute URI"],
        ),
        (
            "redirect uri with fragment",
            "[[clients]]\nclient_id = \"web\"\nredirect_uris = [\"https://a.example/cb#x\"]\n",
            &["clients[0] (client_id \"web\"): redirect_uris: \"https://a.example/cb#x\" has a fragment"],
        ),
        (
            "public client_credentials",
            "[[clients]]\nclient_id = \"svc\"\ngrants = [\"client_credentials\"]\n",
            &["clients[0] (client_id \"svc\"): grants: client_credentials needs a confidential client"],
        ),
        (
            "public password",
            "[[clients]]\nclient_id = \"app\"\ngrants = [\"password\"]\n",
            &["clients[0] (client_id \"app\"): grants: password needs a confidential client"],
        ),
        (
            "undefined scope",
            "[[clients]]\nclient_id = \"web\"\nscope = \"openid billing\"\n",
            &["clients[0] (client_id \"web\"): scope: scope \"billing\" is not defined", "[[scopes]]"],
        ),
        (
            "user without password",
            "[[users]]\nusername = \"bob\"\n",
            &["users[0] (username \"bob\"): password: a user needs a password or a password_hash"],
        ),
        (
            "misspelt key",
            "[[clients]]\nclient_id = \"web\"\nredirect_uri = [\"https://a.example/cb\"]\n",
            &["clients[0].redirect_uri", "unknown field", "redirect_uris"],
        ),
        (
            "wrong type",
            "[[clients]]\nclient_id = \"web\"\ngrants = \"authorization_code\"\n",
            &["clients[0].grants", "invalid type"],
        ),
    ];
    for (name, body, expected) in cases {
        let file = write(dir.path(), &format!("{}.toml", name.replace(' ', "_")), body);
        let (code, _, err) = check_config(&file);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains(&file.display().to_string()), "{name}: names the file: {err}");
        for e in *expected {
            assert!(err.contains(e), "{name}: expected {e:?} in:\n{err}");
        }
    }
}

#[test]
fn json_config_is_read_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "g.json",
        r#"{"clients": [{"client_id": "svc", "client_secret": "s", "grants": ["implicit client_credentials"],
            "redirect_uris": ["https://a.example/cb"]}]}"#,
    );
    let (code, out, err) = check_config(&f);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 client,"));
    let bad = write(dir.path(), "bad.json", r#"{"clients": [{"client_id": "svc", "grants": ["implict"]}]}"#);
    let (code, _, err) = check_config(&bad);
    assert_eq!(code, 1);
    assert!(err.contains("bad.json: clients[0] (client_id \"svc\"): grants"), "{err}");
}

#[test]
fn missing_config_file_is_an_error() {
    let (code, _, err) = check_config(Path::new("/nonexistent/gatehouse.toml"));
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/gatehouse.toml: no such file"), "{err}");
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `gatehouse serve`, killed when dropped, so a failing test leaves no server behind.
pub(crate) struct Served(Child);

impl std::ops::Deref for Served {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `gatehouse serve` and waits until it logs that it is ready.
fn spawn_serve(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
    spawn_serve_logged(cwd, args, env).0
}

/// [`spawn_serve`], also handing back the server's later log lines.
pub(crate) fn spawn_serve_logged(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Served, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).arg("serve").args(args).env("RUST_LOG", "info").env_remove("GATEHOUSE_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = Served(cmd.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap());
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (tx, rx) = std::sync::mpsc::channel();
    loop {
        let line = lines.next().unwrap_or_else(|| panic!("gatehouse exited before it was ready")).unwrap();
        if line.contains("Gatehouse is ready") {
            break;
        }
        // The start-up lines come first on the channel (the bootstrap credential is among them).
        let _ = tx.send(line);
        assert!(Instant::now() < deadline, "not ready in time");
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

pub(crate) fn sigterm_and_wait(mut child: Served) -> i32 {
    let ok = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success();
    assert!(ok);
    child.wait().unwrap().code().unwrap_or(-1)
}

async fn get_json(url: &str) -> serde_json::Value {
    gatehouse_testkit::http_client().get(url).send().await.unwrap().json().await.unwrap()
}

/// With no config at all: SQLite under ./gatehouse-data/, keys generated once and kept.
#[tokio::test]
async fn serve_with_nothing_creates_its_data_and_keeps_keys_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = spawn_serve(dir.path(), &["--listen", &listen], &[]);
    let base = format!("http://{listen}");
    let disco = get_json(&format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(disco["issuer"], base.as_str());
    let jwks = get_json(&format!("{base}/jwks")).await;
    assert!(dir.path().join("gatehouse-data/gatehouse.db").is_file());
    assert_eq!(sigterm_and_wait(child), 0, "SIGTERM is a clean shutdown");

    let child = spawn_serve(dir.path(), &["--listen", &listen], &[]);
    assert_eq!(get_json(&format!("{base}/jwks")).await, jwks);
    assert_eq!(sigterm_and_wait(child), 0);
}

/// Flags beat the environment, which beats the file.
#[tokio::test]
async fn environment_and_flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = format!("sqlite://{}", dir.path().join("x/g.db").display());
    let cfg = write(dir.path(), "g.toml", "issuer = \"https://from-file.example.com\"\nlisten = \"127.0.0.1:1\"\n");
    let listen = format!("127.0.0.1:{port}");
    let child = spawn_serve(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "--listen", &listen],
        &[("GATEHOUSE_ISSUER", "https://from-env.example.com"), ("GATEHOUSE_DATABASE", &db)],
    );
    let disco = get_json(&format!("http://{listen}/.well-known/openid-configuration")).await;
    assert_eq!(disco["issuer"], "https://from-env.example.com");
    assert!(dir.path().join("x/g.db").is_file(), "GATEHOUSE_DATABASE used");
    assert_eq!(sigterm_and_wait(child), 0);
}

#[test]
fn serve_refuses_to_start_on_a_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "g.toml", "[[clients]]\nclient_id = \"a\"\ngrants = [\"nope\"]\n");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port()), "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown grant \"nope\""));
    assert!(!dir.path().join("gatehouse-data").exists(), "nothing was started or created");
}

#[test]
fn unknown_environment_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve"])
        .env("GATEHOUSE_ISUER", "https://typo.example.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("environment (GATEHOUSE_*)") && err.contains("isuer"), "{err}");
}

/// SIGTERM while a request is inside its handler: the request completes, then the process
/// exits cleanly.
#[test]
fn sigterm_lets_in_flight_requests_finish() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "g.toml",
        "[[clients]]\nclient_id = \"svc\"\nclient_secret = \"s\"\ngrants = [\"client_credentials\"]\n",
    );
    let listen = format!("127.0.0.1:{}", free_port());
    let (child, log) = spawn_serve_logged(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", &listen], &[]);

    let body = "grant_type=client_credentials";
    let mut conn = std::net::TcpStream::connect(&listen).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        conn,
        "POST /token HTTP/1.1\r\nHost: {listen}\r\nAuthorization: Basic c3ZjOnM=\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    )
    .unwrap();
    // "100 Continue" means the handler is reading the body: the request is in flight.
    let mut buf = [0u8; 64];
    let n = conn.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("100 Continue"));

    assert!(Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = log.recv_timeout(Duration::from_secs(30)).expect("the server logs the shutdown");
        if line.contains("SIGTERM received") {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    conn.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"));
    let mut child = child;
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Runs `gatehouse ARGS` on the database `db`, with `stdin`: (exit code, stdout, stderr).
pub(crate) fn gatehouse(db: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    run(BIN, db, args, stdin)
}

/// The benchmark's code seeder, a binary of its own.
const BENCH_SEED: &str = env!("CARGO_BIN_EXE_gatehouse-bench-seed");

fn run(bin: &str, db: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(args)
        .arg("--database")
        .arg(db)
        .env("RUST_LOG", "warn")
        .env("USER", "tester")
        .env_remove("GATEHOUSE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The CLI mirrors the API on the local store: exit codes scripts can rely on, --json, and
/// export → import giving the same store.
#[tokio::test]
async fn cli_manages_the_store_and_export_import_round_trips() {
    for db in gatehouse_testkit::TestDb::each().await {
        let url = db.url.clone();
        let run = |args: &[&str], stdin: &str| gatehouse(&url, args, stdin);

        let (code, out, err) = run(&["scope", "add", "roles", "--claim", "roles", "--include-in", "access_token"], "");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("added scope roles"));
        let (code, out, err) = run(
            &[
                "client",
                "add",
                "web",
                "--scope",
                "openid roles",
                "--grant",
                "authorization_code",
                "--redirect-uri",
                "https://app.example/cb",
                "--json",
            ],
            "",
        );
        assert_eq!(code, 0, "{err}");
        let c: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(c["client_secret"].as_str().unwrap().len(), 43);
        assert_eq!(run(&["client", "add", "spa", "--public", "--redirect-uri", "http://127.0.0.1:5173/cb"], "").0, 0);
        let (code, _, err) = run(
            &[
                "user",
                "add",
                "carol",
                "--claim",
                "email=carol@example.com",
                "--claim",
                "roles=[\"ops\"]",
                "--password-stdin",
            ],
            "carol-pw\n",
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(run(&["user", "add", "dave", "--password-stdin"], "dave-pw\n").0, 0);
        assert_eq!(run(&["user", "disable", "dave"], "").0, 0);
        assert_eq!(run(&["client", "update", "web", "--name", "The Web App"], "").0, 0);

        // Exit codes.
        assert_eq!(run(&["client", "show", "nope"], "").0, 3, "not found");
        assert_eq!(run(&["client", "add", "web"], "").0, 4, "conflict");
        assert_eq!(run(&["scope", "remove", "roles"], "").0, 4, "in use");
        let (code, _, err) = run(&["client", "add", "bad", "--grant", "implict"], "");
        assert_eq!(code, 2, "invalid");
        assert!(err.contains("grants: unknown grant \"implict\""), "{err}");
        assert_eq!(run(&["client", "rotate-secret", "spa"], "").0, 4, "a public client has no secret");
        assert_eq!(run(&["user", "set-password", "nobody", "--password-stdin"], "x\n").0, 3);

        // Tables and JSON.
        let (_, out, _) = run(&["client", "list"], "");
        assert!(out.starts_with("CLIENT_ID"), "{out}");
        assert!(out.contains("spa") && out.contains("public"), "{out}");
        let (_, out, _) = run(&["user", "list", "--json"], "");
        let users: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(users[1]["disabled"], true);
        assert!(!out.contains("argon2"));

        // Export, import into an empty store, export again: the same.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.toml");
        let (code, _, err) = run(&["export", "-o", file.to_str().unwrap()], "");
        assert_eq!(code, 0, "{err}");
        let exported = std::fs::read_to_string(&file).unwrap();
        assert!(exported.contains("client_secret_hash = \"sha256:") && exported.contains("$argon2id$"));
        assert!(!exported.contains("carol-pw") && !exported.contains(c["client_secret"].as_str().unwrap()));
        let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
        let (code, out, err) = gatehouse(&fresh, &["import", file.to_str().unwrap()], "");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("imported 2 clients, 2 users, 1 scope"), "{out}");
        let (_, again, _) = gatehouse(&fresh, &["export"], "");
        assert_eq!(again, exported, "export → import gives the same store");
        let (_, json_again, _) = gatehouse(&fresh, &["client", "show", "web", "--json"], "");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json_again).unwrap()["client_name"], "The Web App");

        // The CLI's changes are audited as cli:<login>.
        let store = gatehouse_store::SqlStore::connect(&url).await.unwrap();
        let log = gatehouse_store::AuditStore::list_audit(
            &store,
            &gatehouse_store::AuditQuery { limit: 100, ..Default::default() },
        )
        .await
        .unwrap();
        assert!(log.iter().all(|e| e.actor == "cli:tester"));
        assert!(log.iter().any(|e| e.action == "user.disable"));

        // A user's second factors: listed without their secrets, and reset (audited).
        let (_, carol, _) = run(&["user", "show", "carol", "--json"], "");
        let sub = serde_json::from_str::<serde_json::Value>(&carol).unwrap()["sub"].as_str().unwrap().to_owned();
        let factor = gatehouse_store::Factor {
            id: "f-carol".into(),
            sub: sub.clone(),
            kind: gatehouse_store::FactorKind::Totp,
            name: "Carol's phone".into(),
            secret: "sealed-secret".into(),
            last_step: None,
            created_at: 1_900_000_000,
            last_used_at: None,
        };
        gatehouse_store::FactorStore::insert_factor(&store, &factor).await.unwrap();
        let (code, out, err) = run(&["user", "factors", "carol"], "");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("f-carol") && out.contains("Carol's phone") && out.contains("totp"), "{out}");
        assert!(out.contains("recovery codes left: 0") && !out.contains("sealed-secret"), "{out}");
        let (_, json, _) = run(&["user", "factors", "carol", "--json"], "");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap()["factors"][0]["id"], "f-carol");
        assert_eq!(run(&["user", "factors", "nobody"], "").0, 3, "not found");
        let (code, out, _) = run(&["user", "reset-factors", "carol"], "");
        assert_eq!(code, 0);
        assert!(out.contains("removed 1 second factor"), "{out}");
        assert!(gatehouse_store::FactorStore::list_factors(&store, &sub).await.unwrap().is_empty());
        let log = gatehouse_store::AuditStore::list_audit(
            &store,
            &gatehouse_store::AuditQuery { limit: 5, action: Some("factor.reset".into()), ..Default::default() },
        )
        .await
        .unwrap();
        assert_eq!(log.first().map(|e| e.actor.as_str()), Some("cli:tester"));
        store.close().await;
    }
}

/// First start with no admin client: one is created and its secret handed over once. With
/// stderr not a terminal (here a pipe, as under systemd or in a container, where it would end
/// up in logs) the secret goes into a 0600 file beside the database and the log names the file;
/// the secret obtains `gatehouse:admin` and opens the admin API. The second start hands over
/// nothing. (On a terminal it is printed there instead.)
#[tokio::test]
async fn first_start_hands_over_a_bootstrap_admin_credential_once_never_in_the_log() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let (child, log) = spawn_serve_logged(dir.path(), &["--listen", &listen], &[]);
    let file = dir.path().join("gatehouse-data/bootstrap-admin-secret.txt");
    let mut named = false;
    while let Ok(line) = log.recv_timeout(Duration::from_secs(2)) {
        assert!(!line.contains("client_secret"), "the secret is not in the log: {line}");
        named |= line.contains("bootstrap-admin-secret.txt");
    }
    assert!(named, "the log names the file");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let secret = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("client_secret:").map(|s| s.trim().to_owned()))
        .expect("the bootstrap secret is in the file");
    std::fs::remove_file(&file).unwrap();
    let http = gatehouse_testkit::http_client();
    let t: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("gatehouse-admin", Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "gatehouse:admin")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .get(format!("{base}/admin/v1/clients"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sigterm_and_wait(child), 0);

    let (child, log) = spawn_serve_logged(dir.path(), &["--listen", &listen], &[]);
    while let Ok(line) = log.recv_timeout(Duration::from_secs(1)) {
        assert!(!line.contains("bootstrap-admin-secret"), "handed over once only: {line}");
    }
    assert!(!file.exists(), "handed over once only");
    assert_eq!(sigterm_and_wait(child), 0);
}

/// The benchmark's code seeding writes codes `/token` redeems like ones from `/authorize`
/// (ID, access and refresh tokens; single use), and refuses what `/authorize` would refuse.
#[tokio::test]
async fn bench_seed_codes_writes_codes_the_token_endpoint_redeems() {
    for db in gatehouse_testkit::TestDb::each().await {
        let url = db.url.clone();
        let s = gatehouse_testkit::TestServer::start(crate::CONFIG, db).await.unwrap();
        let seed = |redirect: &str| {
            let args = [
                "--client",
                "webapp",
                "--username",
                "alice",
                "--scope",
                "openid offline_access",
                "--redirect-uri",
                redirect,
                "--count",
                "3",
            ];
            run(BENCH_SEED, &url, &args, "")
        };
        let (code, out, err) = seed("http://127.0.0.1:3000/callback");
        assert_eq!(code, 0, "{err}");
        let codes: Vec<&str> = out.lines().collect();
        assert_eq!(codes.len(), 3);
        let redeem = |c: String| {
            let form = [
                ("grant_type", "authorization_code".to_owned()),
                ("code", c),
                ("redirect_uri", "http://127.0.0.1:3000/callback".to_owned()),
            ];
            s.http.post(s.url("/token")).basic_auth("webapp", Some("webapp-secret")).form(&form).send()
        };
        let r = redeem(codes[0].to_owned()).await.unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        for field in ["access_token", "id_token", "refresh_token"] {
            assert!(body[field].is_string(), "{field} in {body}");
        }
        assert_eq!(redeem(codes[0].to_owned()).await.unwrap().status(), 400, "single use");
        assert_eq!(redeem(codes[1].to_owned()).await.unwrap().status(), 200);

        let (code, out, err) = seed("http://evil.example/cb");
        assert_ne!(code, 0);
        assert!(out.is_empty() && err.contains("not a redirect URI"), "{err}");
    }
}

/// The production binary carries no benchmark helper: the seeder is `gatehouse-bench-seed`.
#[test]
fn the_production_binary_has_no_benchmark_command() {
    let out = Command::new(BIN).args(["bench-seed-codes", "--help"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}

/// `--version` names the git revision it was built from.
#[test]
fn version_names_the_build_revision() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rev = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let expected = format!("gatehouse {} ({})", env!("CARGO_PKG_VERSION"), rev.as_deref().unwrap_or("unknown"));
    // Built from this checkout: the revision matches unless a commit happened since the build.
    assert!(text.starts_with(&format!("gatehouse {} (", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.trim_end().ends_with(')'), "{text}");
    if text.trim() != expected {
        eprintln!("note: built from another revision than HEAD: {text}");
    }
}

/// Completion scripts for the shells people use, each valid for its shell where it is installed.
#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(BIN).args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["serve", "check-config", "rotate", "database"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let bash = Command::new(BIN).args(["completions", "bash"]).output().unwrap().stdout;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gatehouse.bash");
    std::fs::write(&file, bash).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).status().unwrap();
    assert!(check.success(), "the bash completion parses");
    let out = Command::new(BIN).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

/// packaging/gatehouse.service passes `systemd-analyze verify` (pointing at the built binary),
/// with no warning.
#[test]
fn the_systemd_unit_verifies() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        gatehouse_testkit::skip("the systemd unit check", "systemd-analyze is not installed (apt-get install systemd)");
        return;
    };
    assert!(probe.status.success());
    let unit = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/gatehouse.service"))
        .unwrap()
        .replace("/usr/local/bin/gatehouse", BIN);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gatehouse.service");
    std::fs::write(&file, unit).unwrap();
    let out = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify: {stderr}");
}

/// `gatehouse upstream put|list|remove` on the store, beside the configuration's providers.
#[test]
fn upstream_providers_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let cfg = write(
        dir.path(),
        "g.toml",
        &format!(
            "database = \"{db}\"\n[secrets]\nsealing_key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n\n\
             [[upstreams]]\nid = \"corp\"\nissuer = \"https://login.example.com\"\nclient_id = \"g\"\nclient_secret = \"s\"\n"
        ),
    );
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("--config").arg(&cfg).args(args).env("RUST_LOG", "warn").output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let gh = write(
        dir.path(),
        "gh.toml",
        "id = \"github\"\nkind = \"github\"\nclient_id = \"Iv1.x\"\nclient_secret = \"gh-secret\"\n",
    );
    let (code, out, err) = run(&["upstream", "put", gh.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added provider github"), "{out}");
    let (code, out, _) = run(&["upstream", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("corp") && out.contains("config") && out.contains("github") && out.contains("store"), "{out}");
    assert!(!out.contains("gh-secret"), "{out}");
    let (code, out, _) = run(&["upstream", "list", "--json"]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[1]["label"], "GitHub", "{list}");
    let (code, _, err) = run(&["upstream", "remove", "corp"]);
    assert_eq!(code, 4, "a configured provider is changed in its file: {err}");
    let bad = write(dir.path(), "bad.toml", "id = \"Bad\"\nclient_id = \"x\"\n");
    let (code, _, err) = run(&["upstream", "put", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("id:") && err.contains("issuer"), "{err}");
    assert_eq!(run(&["upstream", "remove", "github"]).0, 0);
    assert_eq!(run(&["upstream", "remove", "github"]).0, 3);
}
