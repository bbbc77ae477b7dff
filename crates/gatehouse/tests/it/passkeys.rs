//! Passkeys over real HTTP on both stores, with an issuer on `localhost` (WebAuthn refuses IP
//! addresses) and a software authenticator written here from the WebAuthn data formats (P-256
//! keys and signatures from aws-lc-rs): adding two passkeys on the account page (the first
//! factor brings recovery codes; the second excludes the first), signing in with it alone from the login page, using it as the second
//! factor after a password, `amr`/`acr` in the ID token; a ceremony used twice, a tampered
//! signature, a credential claiming another user, a page without its CSRF token, a removed
//! passkey. The browser side (`/assets/webauthn.js` in Chromium with its virtual authenticator)
//! is interop/browser/passkeys.test.mjs.

use crate::account::follow;
use crate::second_factor::{post_form, redeem, sealing_config};
use crate::{WEBAPP_CB, verify_jwt, webapp_auth};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

/// A minimal CBOR value (RFC 8949), enough for attestation objects and COSE keys.
enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn cbor(v: &Cbor, out: &mut Vec<u8>) {
    match v {
        Cbor::Int(i) if *i >= 0 => head(0, *i as u64, out),
        Cbor::Int(i) => head(1, (-1 - *i) as u64, out),
        Cbor::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend(b);
        }
        Cbor::Text(t) => {
            head(3, t.len() as u64, out);
            out.extend(t.as_bytes());
        }
        Cbor::Map(entries) => {
            head(5, entries.len() as u64, out);
            for (k, v) in entries {
                cbor(k, out);
                cbor(v, out);
            }
        }
    }
}

/// A platform authenticator: one discoverable ES256 credential, user verification always done.
struct SoftKey {
    rp_id: String,
    origin: String,
    cred_id: Vec<u8>,
    key: EcdsaKeyPair,
    counter: u32,
    user_handle: Vec<u8>,
}

impl SoftKey {
    fn new(server: &TestServer) -> Self {
        let u = url::Url::parse(&server.url).unwrap();
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut cred_id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut cred_id).unwrap();
        Self {
            rp_id: u.host_str().unwrap().to_owned(),
            origin: u.origin().ascii_serialization(),
            cred_id,
            key,
            counter: 0,
            user_handle: Vec::new(),
        }
    }

    fn id(&self) -> String {
        B64.encode(&self.cred_id)
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    fn auth_data(&self, flags: u8) -> Vec<u8> {
        let mut a = digest(&SHA256, self.rp_id.as_bytes()).as_ref().to_vec();
        a.push(flags);
        a.extend(self.counter.to_be_bytes());
        a
    }

    /// `navigator.credentials.create()`: the answer to registration options, as JSON.
    fn create(&mut self, options: &Value) -> String {
        let pk = &options["publicKey"];
        assert_eq!(pk["rp"]["id"], self.rp_id.as_str());
        assert_eq!(pk["authenticatorSelection"]["residentKey"], "required", "discoverable");
        assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
        self.user_handle = B64.decode(pk["user"]["id"].as_str().unwrap()).unwrap();
        let point = self.key.public_key().as_ref();
        let (x, y) = (point[1..33].to_vec(), point[33..65].to_vec());
        let cose = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(-7)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(x)),
            (Cbor::Int(-3), Cbor::Bytes(y)),
        ]);
        // UP | UV | AT
        let mut auth = self.auth_data(0x45);
        auth.extend([0u8; 16]);
        auth.extend((self.cred_id.len() as u16).to_be_bytes());
        auth.extend(&self.cred_id);
        cbor(&cose, &mut auth);
        let mut att = Vec::new();
        cbor(
            &Cbor::Map(vec![
                (Cbor::Text("fmt"), Cbor::Text("none")),
                (Cbor::Text("attStmt"), Cbor::Map(vec![])),
                (Cbor::Text("authData"), Cbor::Bytes(auth)),
            ]),
            &mut att,
        );
        json!({
            "id": self.id(), "rawId": self.id(), "type": "public-key",
            "response": {
                "attestationObject": B64.encode(att),
                "clientDataJSON": B64.encode(self.client_data("webauthn.create", options)),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// `navigator.credentials.get()`: an assertion for request options, as JSON.
    fn get(&mut self, options: &Value) -> String {
        self.counter += 1;
        let auth = self.auth_data(0x05);
        let client_data = self.client_data("webauthn.get", options);
        let mut signed = auth.clone();
        signed.extend(digest(&SHA256, &client_data).as_ref());
        let sig = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": self.id(), "rawId": self.id(), "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(sig.as_ref()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
        .to_string()
    }
}

/// The ceremony options a page carries (`data-options`, HTML-escaped JSON).
fn options(page: &Page) -> Value {
    let marker = "data-options=\"";
    let start = page.body.find(marker).unwrap_or_else(|| panic!("no passkey form: {}", page.body)) + marker.len();
    let raw = &page.body[start..start + page.body[start..].find('"').unwrap()];
    let json = raw
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

/// The ID token's claims after `page` (a redirect to the webapp, or its consent page).
async fn id_token_after(s: &TestServer, b: &Browser, page: Page) -> Value {
    let page = if page.is_consent_page() { b.consent(&page, "approve").await } else { page };
    let code = page.redirect_params().get("code").cloned().unwrap_or_else(|| panic!("no code: {}", page.body));
    let tokens = redeem(s, ("webapp", "webapp-secret"), WEBAPP_CB, &code).await;
    verify_jwt(s, tokens["id_token"].as_str().unwrap(), Some("webapp")).await
}

async fn passkey_sign_in(b: &Browser, login: &Page, credential: &str) -> Page {
    let ceremony = login.field("ceremony").unwrap();
    post_form(b, login, "/login/passkey", &[("ceremony", &ceremony), ("credential", credential)]).await
}

#[tokio::test]
async fn passkeys_are_added_and_sign_in_alone_or_as_the_second_factor() {
    for db in TestDb::each().await {
        let label = db.label;
        let s = TestServer::start_on_localhost(&sealing_config(), db).await.unwrap();
        let mut key = SoftKey::new(&s);

        // Add a passkey on the account page.
        let b = Browser::new(&s.url);
        let page = follow(&b, &s, b.get("/account").await).await;
        let home = follow(&b, &s, b.login(&page, "alice", "alice-password").await).await;
        assert!(home.body.contains("/account/passkey"), "{label}: {}", home.body);
        let add = b.get("/account/passkey").await;
        assert_eq!(add.status, 200, "{label}: {}", add.body);
        let csp = add.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{label}: {csp}");
        let created = key.create(&options(&add));
        let ceremony = add.field("ceremony").unwrap();
        let csrf = add.field("csrf").unwrap();
        let fields = [("csrf", csrf.as_str()), ("ceremony", &ceremony), ("credential", &created), ("name", "Laptop")];
        assert_eq!(b.post("/account/passkey", &fields[1..]).await.status, 403, "{label}: no CSRF token");
        let shown = b.post("/account/passkey", &fields).await;
        assert_eq!(shown.status, 200, "{label}: {}", shown.body);
        assert_eq!(shown.body.matches("<li><code>").count(), 10, "{label}: the first factor brings recovery codes");
        // The same answer again: its ceremony is spent, and nothing more is added.
        let again = b.post("/account/passkey", &fields).await;
        assert_eq!(again.status, 400, "{label}");
        assert!(again.body.contains("expired"), "{label}: {}", again.body);
        let home = b.get("/account").await;
        assert!(home.body.contains("Laptop") && home.body.contains(&key.id()), "{label}: {}", home.body);
        // A second one (say, a phone): no new recovery codes; both are listed.
        let mut phone = SoftKey::new(&s);
        let add = b.get("/account/passkey").await;
        let opts = options(&add);
        let excluded = opts["publicKey"]["excludeCredentials"].as_array().map_or(0, Vec::len);
        assert_eq!(excluded, 1, "{label}: the first is excluded from the second's registration");
        let created = phone.create(&opts);
        let (csrf, ceremony) = (add.field("csrf").unwrap(), add.field("ceremony").unwrap());
        let fields = [("csrf", csrf.as_str()), ("ceremony", &ceremony), ("credential", &created), ("name", "Phone")];
        let added = b.post("/account/passkey", &fields).await;
        assert_eq!(added.header("location"), Some(s.url("/account?done=passkey-added").as_str()), "{label}");
        let home = b.get("/account?done=passkey-added").await;
        assert!(home.body.contains("The passkey was added.") && home.body.contains(&phone.id()), "{label}");

        // Sign in with the passkey alone, from the login page's passkey form.
        let b2 = Browser::new(&s.url);
        let login = b2.authorize(&webapp_auth(&[])).await;
        assert!(login.body.contains("autocomplete=\"username webauthn\""), "{label}");
        let opts = options(&login);
        assert!(opts["publicKey"]["allowCredentials"].as_array().is_none_or(Vec::is_empty), "{label}: discoverable");
        let assertion = key.get(&opts);
        let signed = passkey_sign_in(&b2, &login, &assertion).await;
        let claims = id_token_after(&s, &b2, signed).await;
        assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]), "{label}");
        assert_eq!(claims["acr"], "mfa", "{label}");

        // An assertion used a second time: its ceremony is gone.
        let b3 = Browser::new(&s.url);
        let login = b3.authorize(&webapp_auth(&[])).await;
        let replay = post_form(
            &b3,
            &login,
            "/login/passkey",
            &[("ceremony", &login.field("ceremony").unwrap()), ("credential", &assertion)],
        )
        .await;
        assert_eq!(replay.status, 401, "{label}: another ceremony's challenge: {}", replay.body);
        let reused = passkey_sign_in(&b3, &login, &key.get(&options(&login))).await;
        assert_eq!(reused.status, 400, "{label}: the ceremony was spent by the replay");
        assert!(reused.body.contains("expired") && reused.is_login_page(), "{label}");
        // A tampered signature, and a credential that says it is someone else's.
        let login = b3.authorize(&webapp_auth(&[])).await;
        let mut tampered: Value = serde_json::from_str(&key.get(&options(&login))).unwrap();
        tampered["response"]["signature"] = json!(B64.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
        let refused = passkey_sign_in(&b3, &login, &tampered.to_string()).await;
        assert_eq!(refused.status, 401, "{label}");
        assert!(refused.body.contains("not accepted"), "{label}");
        let login = b3.authorize(&webapp_auth(&[])).await;
        let handle = std::mem::replace(&mut key.user_handle, b"someone-else-0000".to_vec());
        let impostor = passkey_sign_in(&b3, &login, &key.get(&options(&login))).await;
        key.user_handle = handle;
        assert_eq!(impostor.status, 401, "{label}");
        let login = b3.authorize(&webapp_auth(&[])).await;
        let no_csrf = b3
            .post(
                "/login/passkey",
                &[
                    ("interaction", &login.field("interaction").unwrap()),
                    ("csrf", "forged"),
                    ("ceremony", &login.field("ceremony").unwrap()),
                ],
            )
            .await;
        assert_eq!(no_csrf.status, 403, "{label}");

        // As the second factor after a password: the factor page offers this passkey.
        let b4 = Browser::new(&s.url);
        let login = b4.authorize(&webapp_auth(&[])).await;
        let factor = b4.login(&login, "alice", "alice-password").await;
        assert!(factor.body.contains("/login/factor/passkey"), "{label}: {}", factor.body);
        // A wrong signature there: refused, and the page asks again with a new ceremony.
        let mut wrong: Value = serde_json::from_str(&key.get(&options(&factor))).unwrap();
        wrong["response"]["signature"] = json!(B64.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
        let ceremony = factor.field("ceremony").unwrap();
        let fields = [("ceremony", ceremony.as_str()), ("credential", &wrong.to_string())];
        let factor = post_form(&b4, &factor, "/login/factor/passkey", &fields).await;
        assert_eq!(factor.status, 401, "{label}");
        assert!(factor.body.contains("not accepted") && factor.field("ceremony") != Some(ceremony), "{label}");
        let opts = options(&factor);
        // Both of alice's passkeys are allowed, in no particular order.
        let allowed = opts["publicKey"]["allowCredentials"].as_array().cloned().unwrap_or_default();
        assert!(allowed.len() == 2 && allowed.iter().any(|c| c["id"] == key.id().as_str()), "{label}: {allowed:?}");
        let ceremony = factor.field("ceremony").unwrap();
        let done = post_form(
            &b4,
            &factor,
            "/login/factor/passkey",
            &[("ceremony", &ceremony), ("credential", &key.get(&opts))],
        )
        .await;
        let claims = id_token_after(&s, &b4, done).await;
        assert_eq!(claims["amr"], json!(["pwd", "hwk", "user", "mfa"]), "{label}");

        // Removed on the account page, it no longer signs in.
        let home = b.get("/account").await;
        let remove = format!("/account/factors/{}/remove", key.id());
        let removed = b.post(&remove, &[("csrf", &home.field("csrf").unwrap())]).await;
        assert_eq!(removed.status, 303, "{label}: {}", removed.body);
        let remove = format!("/account/factors/{}/remove", phone.id());
        assert_eq!(b.post(&remove, &[("csrf", &home.field("csrf").unwrap())]).await.status, 303, "{label}");
        let b5 = Browser::new(&s.url);
        let login = b5.authorize(&webapp_auth(&[])).await;
        let gone = passkey_sign_in(&b5, &login, &key.get(&options(&login))).await;
        assert_eq!(gone.status, 401, "{label}");
        // And the password alone signs in again (no factor left).
        let login = b5.authorize(&webapp_auth(&[])).await;
        let claims = id_token_after(&s, &b5, b5.login(&login, "alice", "alice-password").await).await;
        assert_eq!(claims["amr"], json!(["pwd"]), "{label}");
    }
}

#[tokio::test]
async fn an_issuer_on_an_ip_address_offers_no_passkeys() {
    let s = TestServer::start(&sealing_config(), TestDb::sqlite()).await.unwrap();
    let b = Browser::new(&s.url);
    let login = b.authorize(&webapp_auth(&[])).await;
    assert!(login.is_login_page() && !login.body.contains("data-passkey"), "{}", login.body);
    let csp = login.header("content-security-policy").unwrap();
    assert!(!csp.contains("script-src"), "no script on a page without passkeys: {csp}");
    // And turning them on there is a configuration error that says why.
    let cfg = format!("{}\n[factors]\npasskeys = true\n", sealing_config());
    let err = TestServer::start(&cfg, TestDb::sqlite()).await.err().expect("refused").to_string();
    assert!(err.contains("IP address"), "{err}");
}
