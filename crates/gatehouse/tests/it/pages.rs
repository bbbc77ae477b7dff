//! The pages people see, over HTTP: their language (`ui_locales`, then `Accept-Language`) and
//! the operator's theme. Their look, accessibility and behaviour without JavaScript are checked
//! in Chromium (`interop::admin_console_in_chromium`, `interop/browser/pages.test.mjs`).

use crate::{CONFIG, webapp_auth};
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};

async fn get_in(s: &TestServer, path: &str, accept_language: &str) -> Page {
    let r = s.http.get(s.url(path)).header("accept-language", accept_language).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    Page { status, headers, body: r.text().await.unwrap() }
}

fn authorize_query(extra: &[(&str, &str)]) -> String {
    let mut params = webapp_auth(&[]);
    params.extend_from_slice(extra);
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("/authorize?{q}")
}

#[tokio::test]
async fn pages_follow_accept_language_and_ui_locales_comes_first() {
    let s = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    let de = get_in(&s, &authorize_query(&[]), "fr;q=0.9, de-CH;q=0.8, en;q=0.5").await;
    assert!(de.body.contains("<html lang=\"de\">") && de.body.contains(">Anmelden</h1>"), "{}", de.body);
    assert!(de.body.contains("<label for=\"password\">Passwort</label>"));
    assert_eq!(de.header("content-language"), Some("de"));

    let en = get_in(&s, &authorize_query(&[("ui_locales", "en de")]), "de").await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains(">Sign in</h1>"), "ui_locales wins");
    let unknown = get_in(&s, &authorize_query(&[]), "ja, zh;q=0.8").await;
    assert_eq!(unknown.header("content-language"), Some("en"), "no supported language: English");

    // The sign-in keeps its ui_locales through the login form to the consent page, whatever
    // the browser says; the built-in scopes are described in German too.
    let b = Browser::new(&s.url);
    let page = b.authorize(&webapp_auth(&[("ui_locales", "de")])).await;
    assert!(page.body.contains(">Anmelden</h1>"));
    let wrong = b.login(&page, "alice", "nope").await;
    assert!(wrong.body.contains("Benutzername oder Passwort ist falsch."));
    let consent = b.login(&wrong, "alice", "alice-password").await;
    assert!(consent.body.contains("Zugriff erlauben?") && consent.body.contains("Ihre E-Mail-Adresse sehen"));
    assert!(consent.body.contains("See which roles you have"), "an operator's own scope text stays as written");

    // Error pages and the device and logout pages too.
    let err = get_in(&s, "/authorize?client_id=nobody&response_type=code", "de").await;
    assert!(err.body.contains("Etwas ist schiefgelaufen"), "{}", err.body);
    assert!(err.body.contains("ist hier nicht bekannt"));
    let device = get_in(&s, "/device", "de").await;
    assert!(device.body.contains("Gerät verbinden"));
    // The console is English whatever the browser asks.
    let console = get_in(&s, "/admin/assets/console.css", "de").await;
    assert_eq!(console.status, 200);
}

#[tokio::test]
async fn an_operator_theme_recolours_the_pages_and_shows_the_logo() {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("acme.svg");
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"32\"><rect width=\"120\" height=\"32\" fill=\"#0b6e4f\"/></svg>";
    std::fs::write(&logo, svg).unwrap();
    let theme = format!(
        "[theme]\nlogo = {logo:?}\nlogo_alt = \"Acme Corp\"\naccent = \"#0b6e4f\"\naccent_text = \"#ffffff\"\nbackground = \"#eef2f0\"\n{CONFIG}"
    );
    let s = TestServer::start(&theme, TestDb::sqlite()).await.unwrap();
    let login = get_in(&s, &authorize_query(&[]), "en").await;
    assert!(login.body.contains("<img class=\"logo\""), "{}", login.body);
    assert!(login.body.contains("alt=\"Acme Corp\""));
    let css = s.http.get(s.url("/assets/gatehouse.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.ends_with(":root { --accent: #0b6e4f; --accent-fg: #ffffff; --bg: #eef2f0; }\n"), "{css}");
    let r = s.http.get(s.url("/assets/logo")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"), "an SVG stays inert");
    assert_eq!(r.text().await.unwrap(), svg);

    // Without a theme: no logo, the stylesheet as shipped.
    let plain = TestServer::start(CONFIG, TestDb::sqlite()).await.unwrap();
    assert_eq!(plain.http.get(plain.url("/assets/logo")).send().await.unwrap().status(), 404);
    assert!(!get_in(&plain, &authorize_query(&[]), "en").await.body.contains("class=\"logo\""));
}
