//! The account page over real HTTP on both stores: signing in through Gatehouse's own code
//! flow (and only then), adding an authenticator app (its recovery codes shown once), making new
//! recovery codes, removing the factor, changing the password, ending another session; forms
//! without the CSRF token refused; factor changes after an old sign-in sent to sign in again.

use crate::second_factor::{code_at, post_form, sealing_config, shown_key};
use gatehouse_protocol::clock::ManualClock;
use gatehouse_testkit::browser::{Browser, Page};
use gatehouse_testkit::{TestDb, TestServer};
use std::sync::Arc;

const START: i64 = 1_900_000_005;

/// Follows redirects within the server, as a browser would.
pub async fn follow(b: &Browser, s: &TestServer, mut page: Page) -> Page {
    for _ in 0..10 {
        let Some(loc) = page.header("location").map(str::to_owned) else { return page };
        let Some(path) = loc.strip_prefix(&s.url) else { return page };
        page = b.get(path).await;
    }
    page
}

/// Opens `/account`, signing in on the way when asked to.
async fn open_account(b: &Browser, s: &TestServer, password: &str) -> Page {
    let page = follow(b, s, b.get("/account").await).await;
    if !page.is_login_page() {
        return page;
    }
    let signed = b.login(&page, "alice", password).await;
    follow(b, s, signed).await
}

#[tokio::test]
async fn people_look_after_their_own_sign_in() {
    for db in TestDb::each().await {
        let label = db.label;
        let clock = Arc::new(ManualClock::new(START));
        let s = TestServer::start_with_clock(&sealing_config(), db, clock.clone()).await.unwrap();
        let b = Browser::new(&s.url);

        // Not signed in: the sign-in page of Gatehouse's own flow.
        let first = b.get("/account").await;
        assert_eq!(first.status, 303, "{label}");
        let home = open_account(&b, &s, "alice-password").await;
        assert_eq!(home.status, 200, "{label}: {}", home.body);
        assert!(home.body.contains("Your account") && home.body.contains("This browser"), "{label}");
        // An SSO session alone (a cookie planted from a sign-in elsewhere) is not enough: the
        // page is bound to the session the account's own sign-in completed in.
        let other = Browser::new(&s.url);
        let webapp = crate::webapp_tokens(&s, &other, &[]).await;
        assert_eq!(other.get("/account").await.status, 303, "{label}");

        // Add an authenticator app.
        let enrol = b.get("/account/totp").await;
        assert_eq!(enrol.status, 200, "{label}: {}", enrol.body);
        let secret = shown_key(&enrol);
        let sealed = enrol.field("sealed").unwrap();
        let no_csrf = b
            .post("/account/totp", &[("sealed", &sealed), ("name", "Phone"), ("code", &code_at(&secret, START))])
            .await;
        assert_eq!(no_csrf.status, 403, "{label}");
        let wrong =
            post_form(&b, &enrol, "/account/totp", &[("sealed", &sealed), ("name", "Phone"), ("code", "000000")]).await;
        assert_eq!(wrong.status, 400, "{label}");
        let shown = post_form(
            &b,
            &enrol,
            "/account/totp",
            &[("sealed", &sealed), ("name", "Phone"), ("code", &code_at(&secret, START))],
        )
        .await;
        assert_eq!(shown.status, 200, "{label}: {}", shown.body);
        assert_eq!(shown.body.matches("<li><code>").count(), 10, "{label}");
        let twice = post_form(
            &b,
            &enrol,
            "/account/totp",
            &[("sealed", &sealed), ("name", "Phone"), ("code", &code_at(&secret, START))],
        )
        .await;
        assert_eq!(twice.status, 400, "{label}: the same secret is not enrolled twice");
        let home = follow(&b, &s, post_form(&b, &shown, "/account/done", &[]).await).await;
        assert!(home.body.contains("Phone") && home.body.contains("Recovery codes left: 10"), "{label}: {}", home.body);

        // New recovery codes replace the old ones.
        let fresh = post_form(&b, &home, "/account/recovery-codes", &[]).await;
        assert_eq!(fresh.body.matches("<li><code>").count(), 10, "{label}");

        // Ten minutes later, changing factors asks for a new sign-in (password and code).
        clock.advance(700);
        let home = b.get("/account").await;
        let factor_id = home.body.split("/account/factors/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        let stale = post_form(&b, &home, &format!("/account/factors/{factor_id}/remove"), &[]).await;
        assert_eq!(stale.status, 303, "{label}");
        assert!(stale.header("location").unwrap().contains("fresh=1"), "{label}");
        let login = follow(&b, &s, stale).await;
        assert!(login.is_login_page(), "{label}: {}", login.body);
        let factor = b.login(&login, "alice", "alice-password").await;
        assert!(factor.body.contains("name=\"code\""), "{label}: {}", factor.body);
        let back = post_form(&b, &factor, "/login/factor", &[("code", &code_at(&secret, START + 700))]).await;
        let home = follow(&b, &s, back).await;
        assert_eq!(home.status, 200, "{label}: {}", home.body);
        let removed = post_form(&b, &home, &format!("/account/factors/{factor_id}/remove"), &[]).await;
        let home = follow(&b, &s, removed).await;
        assert!(home.body.contains("The second factor was removed."), "{label}: {}", home.body);
        assert!(!home.body.contains("Recovery codes left"), "{label}: the codes went with the last factor");

        // The password: the current one must be right, the new one twice.
        let bad = post_form(
            &b,
            &home,
            "/account/password",
            &[("current_password", "nope"), ("new_password", "a-new-password"), ("repeat_password", "a-new-password")],
        )
        .await;
        assert!(bad.status == 400 && bad.body.contains("The current password is not right."), "{label}");
        let short = post_form(
            &b,
            &home,
            "/account/password",
            &[("current_password", "alice-password"), ("new_password", "short"), ("repeat_password", "short")],
        )
        .await;
        assert_eq!(short.status, 400, "{label}");
        let changed = post_form(
            &b,
            &home,
            "/account/password",
            &[
                ("current_password", "alice-password"),
                ("new_password", "a-new-password"),
                ("repeat_password", "a-new-password"),
            ],
        )
        .await;
        let home = follow(&b, &s, changed).await;
        assert!(home.body.contains("Your password was changed."), "{label}");
        let p = Browser::new(&s.url).sign_in(&crate::webapp_auth(&[]), "alice", "a-new-password").await;
        assert!(p.contains_key("code"), "{label}: the new password works");

        // Ending another browser's session signs that browser out.
        let sids: Vec<String> =
            home.body.split("/account/sessions/").skip(1).map(|r| r.split('/').next().unwrap().to_owned()).collect();
        assert!(sids.len() >= 2, "{label}: {}", home.body);
        let this = home.body.split("This browser").nth(1).unwrap();
        let this_sid = this.split("/account/sessions/").nth(1).unwrap().split('/').next().unwrap();
        let other_sid = sids.iter().find(|s| s.as_str() != this_sid).unwrap();
        let ended = post_form(&b, &home, &format!("/account/sessions/{other_sid}/end"), &[]).await;
        let home = follow(&b, &s, ended).await;
        assert!(home.body.contains("The session was ended."), "{label}");
        assert!(!home.body.contains(other_sid.as_str()), "{label}");

        // The applications alice allowed, and taking one back: its refresh token stops working.
        assert!(home.body.contains("Web App"), "{label}: {}", home.body);
        let before = crate::webapp_refresh(&s, webapp["refresh_token"].as_str().unwrap()).await;
        let webapp = before.clone();
        assert!(before["access_token"].is_string(), "{label}: it worked until now: {before}");
        let revoked = post_form(&b, &home, "/account/apps/webapp/revoke", &[]).await;
        let home = follow(&b, &s, revoked).await;
        assert!(home.body.contains("access was revoked."), "{label}");
        assert!(!home.body.contains("Web App"), "{label}");
        let refreshed = crate::webapp_refresh(&s, webapp["refresh_token"].as_str().unwrap()).await;
        assert_eq!(refreshed["error"], "invalid_grant", "{label}: {refreshed}");
        assert_eq!(post_form(&b, &home, "/account/apps/webapp/revoke", &[]).await.status, 404, "{label}");
        // The next sign-in to it asks for consent again.
        let again = Browser::new(&s.url);
        let login = again.authorize(&crate::webapp_auth(&[])).await;
        assert!(again.login(&login, "alice", "a-new-password").await.is_consent_page(), "{label}");
    }
}
