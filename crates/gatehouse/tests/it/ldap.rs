//! Passwords checked by an LDAP directory (`[ldap]`): a real OpenLDAP (Debian's `slapd`)
//! started by the test on two free ports, `ldap://` with StartTLS and `ldaps://`, under a test
//! CA. Both ways of finding the user (bind as the user; search as a read-only account, then
//! bind), users created at their first sign-in, claims kept current (`sync_claims`), a
//! certificate of another CA refused, good and bad passwords, a missing user, an empty
//! password (an anonymous bind to LDAP), filter injection, a local password that stays local,
//! and the directory down.

use crate::webapp_auth;
use gatehouse_testkit::browser::Browser;
use gatehouse_testkit::{TestDb, TestServer};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const SLAPD: &str = "/usr/sbin/slapd";

const LDIF: &str = "\
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: cn=reader,dc=example,dc=com
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-pw

dn: uid=dana,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: dana
cn: Dana Directory
givenName: Dana
sn: Directory
mail: dana@example.com
userPassword: dana-ldap-pw

dn: uid=erin,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: erin
cn: Erin Search
sn: Search
mail: erin@example.com
userPassword: erin-ldap-pw

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice in the directory
sn: Directory
userPassword: alice-ldap-pw
";

/// A running slapd, stopped when dropped.
struct Slapd {
    child: Child,
    /// `ldap://` (StartTLS offered).
    port: u16,
    /// `ldaps://` (TLS from the start).
    tls_port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts slapd with the entries above and StartTLS (a `localhost` certificate of a test CA,
/// `ca.pem` in its folder); `None` when slapd is not installed.
async fn start_slapd() -> Option<Slapd> {
    if !Path::new(SLAPD).exists() {
        gatehouse_testkit::skip("the LDAP tests", "slapd is not installed (apt-get install slapd)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(crate::interop::test_pki(d), "openssl could not make the test CA");
    std::fs::create_dir(d.join("db")).unwrap();
    let conf = format!(
        "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/nis.schema\ninclude /etc/ldap/schema/inetorgperson.schema\n\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {p}/slapd.pid\n\
         TLSCACertificateFile {p}/ca.pem\nTLSCertificateFile {p}/leaf.pem\nTLSCertificateKeyFile {p}/leaf.key\n\
         database mdb\nmaxsize 10485760\nsuffix \"dc=example,dc=com\"\n\
         rootdn \"cn=admin,dc=example,dc=com\"\nrootpw admin-pw\ndirectory {p}/db\n\
         access to attrs=userPassword by self read by anonymous auth by * none\n\
         access to * by * read\n",
        p = d.display()
    );
    std::fs::write(d.join("slapd.conf"), conf).unwrap();
    std::fs::write(d.join("data.ldif"), LDIF).unwrap();
    sh(Command::new("/usr/sbin/slapadd").arg("-f").arg(d.join("slapd.conf")).arg("-l").arg(d.join("data.ldif")));
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (port, tls_port) = (free(), free());
    let child = Command::new(SLAPD)
        .arg("-f")
        .arg(d.join("slapd.conf"))
        .args(["-h", &format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"), "-d", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let slapd = Slapd { child, port, tls_port, dir };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
            && tokio::net::TcpStream::connect(("127.0.0.1", tls_port)).await.is_ok()
        {
            return Some(slapd);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("slapd did not start listening on {port}");
}

/// The shared config with `[ldap]` for `slapd`, `how` finding the user.
fn config(slapd: &Slapd, how: &str) -> String {
    format!(
        "{}\n[ldap]\nurl = \"ldap://localhost:{}\"\nstarttls = true\nca_file = \"{}\"\ntimeout = 3\n{how}\n",
        crate::CONFIG,
        slapd.port,
        slapd.dir.path().join("ca.pem").display()
    )
}

const BIND_AS_USER: &str = "user_dn = \"uid={username},ou=people,dc=example,dc=com\"";
const SEARCH_THEN_BIND: &str = "base_dn = \"ou=people,dc=example,dc=com\"\nuser_filter = \"(&(objectClass=inetOrgPerson)(uid={username}))\"\n\
     bind_dn = \"cn=reader,dc=example,dc=com\"\nbind_password = \"reader-pw\"\nemails_verified = true";

/// Signs in at `s`'s login page with a password: the page's answer.
async fn password_sign_in(s: &TestServer, username: &str, password: &str) -> gatehouse_testkit::browser::Page {
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    b.login(&login, username, password).await
}

#[tokio::test]
async fn passwords_are_checked_by_an_ldap_directory() {
    let Some(slapd) = start_slapd().await else { return };
    for db in TestDb::each().await {
        let label = db.label;
        for (how, mode) in [(BIND_AS_USER, "bind"), (SEARCH_THEN_BIND, "search")] {
            let s = TestServer::start(&config(&slapd, how), db.shared()).await.unwrap();
            // The directory's password signs a directory user in; their user is created, without
            // a password (dana by binding as her, erin found by the search).
            let (who, pw, name, email) = match mode {
                "bind" => ("dana", "dana-ldap-pw", "Dana Directory", "dana@example.com"),
                _ => ("erin", "erin-ldap-pw", "Erin Search", "erin@example.com"),
            };
            let b = Browser::new(&s.url);
            let signed = b.sign_in(&webapp_auth(&[]), who, pw).await;
            assert!(signed.contains_key("code"), "{label}/{mode}: {signed:?}");
            let tokens =
                crate::second_factor::redeem(&s, ("webapp", "webapp-secret"), crate::WEBAPP_CB, &signed["code"]).await;
            let me = crate::upstream_mock::userinfo(&s, &tokens).await;
            assert_eq!(me["name"], name, "{label}/{mode}: {me}");
            assert_eq!(me["email"], email, "{label}/{mode}");
            assert_eq!(me["email_verified"], mode == "search", "{label}/{mode}: emails_verified");
            if mode == "bind" {
                assert_eq!(me["given_name"], "Dana", "{label}/{mode}");
            }
            let sub = me["sub"].as_str().unwrap().to_owned();
            // Again: the same user (linked by entryUUID), not a second one.
            let again = Browser::new(&s.url).sign_in(&webapp_auth(&[]), who, pw).await;
            let tokens =
                crate::second_factor::redeem(&s, ("webapp", "webapp-secret"), crate::WEBAPP_CB, &again["code"]).await;
            let id = crate::verify_jwt(&s, tokens["id_token"].as_str().unwrap(), Some("webapp")).await;
            assert_eq!(id["sub"], sub.as_str(), "{label}/{mode}");
            assert_eq!(id["amr"], serde_json::json!(["pwd"]), "{label}/{mode}");
            // No password of their own: the directory's is the only one.
            let r = s
                .http
                .post(s.url("/token"))
                .basic_auth("pwapp", Some("pwapp-secret"))
                .form(&[("grant_type", "password"), ("username", who), ("password", "none")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{label}/{mode}");

            // Refusals, all alike: a wrong password, a missing user, an empty password (which
            // LDAP would take as an anonymous bind), and names that try to widen the filter.
            for (user, pw) in [
                ("dana", "wrong"),
                ("nobody", "dana-ldap-pw"),
                ("dana", ""),
                ("*", "dana-ldap-pw"),
                ("dana)(uid=*", "dana-ldap-pw"),
                ("uid=dana,ou=people,dc=example,dc=com", "dana-ldap-pw"),
            ] {
                let page = password_sign_in(&s, user, pw).await;
                assert_eq!(page.status, 401, "{label}/{mode}: {user:?} {pw:?}: {}", page.body);
                assert!(page.body.contains("incorrect"), "{label}/{mode}");
            }
            // alice has a password here: it is hers that counts, never the directory's.
            assert_eq!(password_sign_in(&s, "alice", "alice-ldap-pw").await.status, 401, "{label}/{mode}");
            let local = password_sign_in(&s, "alice", "alice-password").await;
            assert!(local.is_consent_page(), "{label}/{mode}: {}", local.body);
            s.stop().await;
        }
    }

    // The directory down: a clear page (503), not a wrong password and not a server error; the
    // password grant says temporarily_unavailable.
    let cfg = config(&slapd, BIND_AS_USER).replace(&format!("localhost:{}", slapd.port), "localhost:1");
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let page = password_sign_in(&s, "dana", "dana-ldap-pw").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("directory is not answering") && page.is_login_page());
    let r = s
        .http
        .post(s.url("/token"))
        .basic_auth("pwapp", Some("pwapp-secret"))
        .form(&[("grant_type", "password"), ("username", "dana"), ("password", "dana-ldap-pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    drop(slapd);
}

/// Signs `who` in at `s` with the directory's password: their userinfo.
async fn userinfo_after_sign_in(s: &TestServer, who: &str, pw: &str) -> serde_json::Value {
    let signed = Browser::new(&s.url).sign_in(&webapp_auth(&[]), who, pw).await;
    let tokens = crate::second_factor::redeem(s, ("webapp", "webapp-secret"), crate::WEBAPP_CB, &signed["code"]).await;
    crate::upstream_mock::userinfo(s, &tokens).await
}

#[tokio::test]
async fn with_sync_claims_a_directory_users_claims_follow_the_directory() {
    use ldap3::{LdapConnAsync, Mod};
    use std::collections::HashSet;
    let Some(slapd) = start_slapd().await else { return };
    let s = TestServer::start(&config(&slapd, &format!("{BIND_AS_USER}\nsync_claims = true")), TestDb::sqlite())
        .await
        .unwrap();
    let me = userinfo_after_sign_in(&s, "dana", "dana-ldap-pw").await;
    assert_eq!((&me["name"], &me["given_name"]), (&serde_json::json!("Dana Directory"), &serde_json::json!("Dana")));

    // The directory's administrator renames her and removes her given name.
    let (conn, mut ldap) = LdapConnAsync::new(&format!("ldap://127.0.0.1:{}", slapd.port)).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind("cn=admin,dc=example,dc=com", "admin-pw").await.unwrap().success().unwrap();
    let changes = vec![Mod::Replace("cn", HashSet::from(["Dana Renamed"])), Mod::Delete("givenName", HashSet::new())];
    ldap.modify("uid=dana,ou=people,dc=example,dc=com", changes).await.unwrap().success().unwrap();
    let _ = ldap.unbind().await;

    let again = userinfo_after_sign_in(&s, "dana", "dana-ldap-pw").await;
    assert_eq!(again["sub"], me["sub"], "the same user");
    assert_eq!(again["name"], "Dana Renamed", "{again}");
    assert!(again.get("given_name").is_none(), "an attribute gone is a claim gone: {again}");
    assert_eq!(again["email"], "dana@example.com");
    drop(slapd);
}

#[tokio::test]
async fn an_ldaps_directory_checks_passwords_over_tls_from_the_start() {
    let Some(slapd) = start_slapd().await else { return };
    let cfg = format!(
        "{}\n[ldap]\nurl = \"ldaps://localhost:{}\"\nca_file = \"{}\"\ntimeout = 3\n{BIND_AS_USER}\n",
        crate::CONFIG,
        slapd.tls_port,
        slapd.dir.path().join("ca.pem").display()
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let me = userinfo_after_sign_in(&s, "dana", "dana-ldap-pw").await;
    assert_eq!(me["name"], "Dana Directory", "{me}");
    assert_eq!(password_sign_in(&s, "dana", "wrong").await.status, 401);
    s.stop().await;
    // A certificate the configured CA did not sign: the directory is unusable, not trusted.
    let other = tempfile::tempdir().unwrap();
    assert!(crate::interop::test_pki(other.path()), "openssl could not make a second CA");
    let cfg = cfg.replace(
        &slapd.dir.path().join("ca.pem").display().to_string(),
        &other.path().join("ca.pem").display().to_string(),
    );
    let s = TestServer::start(&cfg, TestDb::sqlite()).await.unwrap();
    let page = password_sign_in(&s, "dana", "dana-ldap-pw").await;
    assert_eq!(page.status, 503, "{}", page.body);
    drop(slapd);
}

#[tokio::test]
async fn a_directory_without_starttls_on_another_host_is_refused_at_start() {
    let cfg =
        format!("{}\n[ldap]\nurl = \"ldap://ldap.example.com\"\nuser_dn = \"uid={{username}},dc=x\"\n", crate::CONFIG);
    let err = TestServer::start(&cfg, TestDb::sqlite()).await.err().unwrap().to_string();
    assert!(err.contains("ldap.url") && err.contains("unencrypted"), "{err}");
}
