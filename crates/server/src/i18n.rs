//! Pages in the reader's language. Templates are written in English and pass every sentence
//! through the `t` filter (`{{ "Sign in" | t }}`), gettext-style: the English text is the key,
//! and a sentence without a translation shows in English. Operators' own templates can use
//! `t` the same way.
//!
//! The language comes from [`gatehouse_protocol::i18n::negotiate`]: the sign-in's `ui_locales`
//! when the page belongs to one, else the request's `Accept-Language`, which a middleware keeps
//! for the request in [`ACCEPT_LANGUAGE`] so that no handler has to pass it along.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use gatehouse_protocol::i18n::Lang;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

tokio::task_local! {
    /// The `Accept-Language` of the request being answered.
    pub static ACCEPT_LANGUAGE: Option<String>;
}

/// Keeps the request's `Accept-Language` for the pages it renders.
pub async fn remember_accept_language(req: Request, next: Next) -> Response {
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    ACCEPT_LANGUAGE.scope(accept, next.run(req)).await
}

/// The request's `Accept-Language`, inside [`remember_accept_language`].
pub fn accept_language() -> Option<String> {
    ACCEPT_LANGUAGE.try_with(Clone::clone).ok().flatten()
}

/// `text` in `lang`, or `text` itself when it has no translation. A sentence with a number in
/// it ("Try again in 30 seconds.") is looked up with the number as `{n}` and put back after.
pub fn translate(lang: Lang, text: &str) -> Cow<'_, str> {
    let table: &HashMap<&str, &str> = match lang {
        Lang::En => return Cow::Borrowed(text),
        Lang::De => &GERMAN_TABLE,
    };
    if let Some(found) = table.get(text) {
        return Cow::Borrowed(found);
    }
    let Some(start) = text.find(|c: char| c.is_ascii_digit()) else { return Cow::Borrowed(text) };
    let end = text[start..].find(|c: char| !c.is_ascii_digit()).map_or(text.len(), |e| start + e);
    let (before, n, after) = (&text[..start], &text[start..end], &text[end..]);
    match table.get(format!("{before}{{n}}{after}").as_str()) {
        Some(found) => Cow::Owned(found.replace("{n}", n)),
        None => Cow::Borrowed(text),
    }
}

static GERMAN_TABLE: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| GERMAN.iter().copied().collect());

/// German. Keys are the English sentences exactly as the templates and handlers write them.
pub const GERMAN: &[(&str, &str)] = &[
    // login.html, device.html
    ("Sign in", "Anmelden"),
    // Throttled (gatehouse_core::throttle::retry_in says when): `{n}` is the number.
    (
        "Too many failed attempts. Try again in {n} second.",
        "Zu viele Fehlversuche. Versuchen Sie es in {n} Sekunde erneut.",
    ),
    (
        "Too many failed attempts. Try again in {n} seconds.",
        "Zu viele Fehlversuche. Versuchen Sie es in {n} Sekunden erneut.",
    ),
    (
        "Too many failed attempts. Try again in {n} minutes.",
        "Zu viele Fehlversuche. Versuchen Sie es in {n} Minuten erneut.",
    ),
    (
        "Too many wrong codes. Try again in {n} second.",
        "Zu viele falsche Codes. Versuchen Sie es in {n} Sekunde erneut.",
    ),
    (
        "Too many wrong codes. Try again in {n} seconds.",
        "Zu viele falsche Codes. Versuchen Sie es in {n} Sekunden erneut.",
    ),
    (
        "Too many wrong codes. Try again in {n} minutes.",
        "Zu viele falsche Codes. Versuchen Sie es in {n} Minuten erneut.",
    ),
    ("to continue to", "weiter zu"),
    ("Username", "Benutzername"),
    ("Password", "Passwort"),
    ("The username or password is incorrect.", "Benutzername oder Passwort ist falsch."),
    // factor.html, enrol_totp.html, recovery_codes.html (second factors)
    ("Second factor", "Zweiter Faktor"),
    ("This needs a stronger sign-in.", "Dafür ist eine stärkere Anmeldung nötig."),
    (
        "Enter the code from your authenticator app, or one of your recovery codes.",
        "Geben Sie den Code aus Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.",
    ),
    ("Code from the app", "Code aus der App"),
    ("Verify", "Bestätigen"),
    ("Set up an authenticator app", "Authenticator-App einrichten"),
    (
        "Your account needs a second factor before you can continue.",
        "Ihr Konto braucht einen zweiten Faktor, bevor Sie fortfahren können.",
    ),
    (
        "Scan this code with an authenticator app, or type the key in by hand.",
        "Scannen Sie diesen Code mit einer Authenticator-App oder geben Sie den Schlüssel von Hand ein.",
    ),
    ("QR code of the key", "QR-Code des Schlüssels"),
    ("Key:", "Schlüssel:"),
    ("Name of this authenticator", "Name dieses Authenticators"),
    ("Confirm", "Bestätigen"),
    ("Recovery codes", "Wiederherstellungscodes"),
    (
        "Keep these codes somewhere safe. Each one signs you in once if you lose your authenticator. They are shown only now.",
        "Bewahren Sie diese Codes sicher auf. Jeder meldet Sie einmal an, falls Sie Ihren Authenticator verlieren. Sie werden nur jetzt angezeigt.",
    ),
    ("You signed in with a recovery code.", "Sie haben sich mit einem Wiederherstellungscode angemeldet."),
    ("You have 1 recovery code left.", "Sie haben noch 1 Wiederherstellungscode."),
    ("You have {n} recovery codes left.", "Sie haben noch {n} Wiederherstellungscodes."),
    (
        "You have no recovery codes left. Make new ones on your account page.",
        "Sie haben keine Wiederherstellungscodes mehr. Erstellen Sie neue auf Ihrer Kontoseite.",
    ),
    (
        "The code is not right. Try the next code from your app.",
        "Der Code stimmt nicht. Versuchen Sie den nächsten Code aus Ihrer App.",
    ),
    (
        "The code is not right. Check the time on your device and try the next code.",
        "Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Geräts und versuchen Sie den nächsten Code.",
    ),
    (
        "Give the authenticator a name of 1 to 64 characters.",
        "Geben Sie dem Authenticator einen Namen mit 1 bis 64 Zeichen.",
    ),
    (
        "This account signs in with a second factor. Sign in on your account page first, then enter the code again.",
        "Dieses Konto meldet sich mit einem zweiten Faktor an. Melden Sie sich zuerst auf Ihrer Kontoseite an und geben Sie dann den Code erneut ein.",
    ),
    (
        "This account needs a second factor, which cannot be set up here. Contact the administrator.",
        "Dieses Konto braucht einen zweiten Faktor, der hier nicht eingerichtet werden kann. Wenden Sie sich an die Administration.",
    ),
    (
        "A second factor cannot be set up here. Contact the administrator.",
        "Ein zweiter Faktor kann hier nicht eingerichtet werden. Wenden Sie sich an die Administration.",
    ),
    // account/home.html
    ("Your account", "Ihr Konto"),
    ("Second factors", "Zweite Faktoren"),
    ("Authenticator app", "Authenticator-App"),
    ("Passkey", "Passkey (Hauptschlüssel)"),
    ("added", "hinzugefügt"),
    ("Remove", "Entfernen"),
    ("Recovery codes left:", "Verbleibende Wiederherstellungscodes:"),
    ("Make new recovery codes", "Neue Wiederherstellungscodes erstellen"),
    ("Your account needs a second factor.", "Ihr Konto braucht einen zweiten Faktor."),
    (
        "A second factor keeps your account safe even if your password is stolen.",
        "Ein zweiter Faktor schützt Ihr Konto, selbst wenn Ihr Passwort gestohlen wird.",
    ),
    ("Add an authenticator app", "Authenticator-App hinzufügen"),
    ("Current password", "Aktuelles Passwort"),
    ("New password", "Neues Passwort"),
    ("New password again", "Neues Passwort wiederholen"),
    ("Change password", "Passwort ändern"),
    ("Where you are signed in", "Wo Sie angemeldet sind"),
    ("This browser", "Dieser Browser"),
    ("Another browser", "Ein anderer Browser"),
    ("signed in", "angemeldet"),
    ("Sign out", "Abmelden"),
    ("End", "Beenden"),
    ("Your password was changed.", "Ihr Passwort wurde geändert."),
    ("The authenticator app was added.", "Die Authenticator-App wurde hinzugefügt."),
    ("The second factor was removed.", "Der zweite Faktor wurde entfernt."),
    ("The session was ended.", "Die Sitzung wurde beendet."),
    ("The new password must have at least 8 characters.", "Das neue Passwort muss mindestens 8 Zeichen haben."),
    ("The new passwords are not the same.", "Die neuen Passwörter stimmen nicht überein."),
    ("The current password is not right.", "Das aktuelle Passwort stimmt nicht."),
    ("Too many failed attempts. Try again later.", "Zu viele Fehlversuche. Versuchen Sie es später erneut."),
    ("Add a second factor first.", "Fügen Sie zuerst einen zweiten Faktor hinzu."),
    (
        "Your account needs a second factor: add another before removing this one.",
        "Ihr Konto braucht einen zweiten Faktor: Fügen Sie einen weiteren hinzu, bevor Sie diesen entfernen.",
    ),
    ("There is no such second factor.", "Diesen zweiten Faktor gibt es nicht."),
    ("There is no such session.", "Diese Sitzung gibt es nicht."),
    ("Applications you allowed", "Anwendungen, denen Sie Zugriff gegeben haben"),
    ("since", "seit"),
    ("Revoke", "Widerrufen"),
    ("None yet.", "Noch keine."),
    ("The application's access was revoked.", "Der Zugriff der Anwendung wurde widerrufen."),
    ("There is no such application.", "Diese Anwendung gibt es nicht."),
    // passkeys: login.html, factor.html, add_passkey.html and their messages
    ("Sign in with a passkey", "Mit einem Passkey anmelden"),
    ("Use your passkey", "Ihren Passkey verwenden"),
    (
        "The passkey could not be used. Try again, or sign in with your password.",
        "Der Passkey konnte nicht verwendet werden. Versuchen Sie es erneut oder melden Sie sich mit Ihrem Passwort an.",
    ),
    (
        "The passkey could not be used. Try again, or enter a code.",
        "Der Passkey konnte nicht verwendet werden. Versuchen Sie es erneut oder geben Sie einen Code ein.",
    ),
    ("Add a passkey", "Passkey hinzufügen"),
    (
        "A passkey signs you in with your device's screen lock or a security key instead of a password, and counts as a second factor.",
        "Ein Passkey meldet Sie mit der Bildschirmsperre Ihres Geräts oder einem Sicherheitsschlüssel statt mit einem Passwort an und zählt als zweiter Faktor.",
    ),
    ("Adding a passkey needs JavaScript.", "Zum Hinzufügen eines Passkeys wird JavaScript benötigt."),
    ("Name of this passkey", "Name dieses Passkeys"),
    ("No passkey was created. Try again.", "Es wurde kein Passkey erstellt. Versuchen Sie es erneut."),
    ("Create passkey", "Passkey erstellen"),
    ("Back to your account", "Zurück zu Ihrem Konto"),
    ("The passkey was added.", "Der Passkey wurde hinzugefügt."),
    ("The passkey request expired. Try again.", "Die Passkey-Anfrage ist abgelaufen. Versuchen Sie es erneut."),
    (
        "The browser did not send a passkey. Try again.",
        "Der Browser hat keinen Passkey gesendet. Versuchen Sie es erneut.",
    ),
    ("That passkey was not accepted.", "Dieser Passkey wurde nicht akzeptiert."),
    ("The passkey was not accepted. Try again.", "Der Passkey wurde nicht akzeptiert. Versuchen Sie es erneut."),
    ("Give the passkey a name of 1 to 64 characters.", "Geben Sie dem Passkey einen Namen mit 1 bis 64 Zeichen."),
    ("This passkey is on your account already.", "Dieser Passkey gehört bereits zu Ihrem Konto."),
    ("Passkeys are not available here.", "Passkeys sind hier nicht verfügbar."),
    (
        "Use your passkey, or enter the code from your authenticator app or one of your recovery codes.",
        "Verwenden Sie Ihren Passkey oder geben Sie den Code Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.",
    ),
    // consent.html
    ("Allow", "Zulassen"),
    ("Deny", "Ablehnen"),
    ("Signed in as", "Angemeldet als"),
    ("asks to:", "möchte:"),
    ("with your account at:", "mit Ihrem Konto bei:"),
    ("Allow access?", "Zugriff erlauben?"),
    // device.html
    ("Connect a device", "Gerät verbinden"),
    ("Enter the code shown on your device.", "Geben Sie den Code ein, den Ihr Gerät anzeigt."),
    ("Code", "Gerätecode"),
    ("Continue", "Weiter"),
    ("to connect", "um zu verbinden:"),
    ("The device showing this code asks to:", "Das Gerät mit diesem Code möchte:"),
    ("Device connected", "Gerät verbunden"),
    ("Request denied", "Anfrage abgelehnt"),
    (
        "is now signed in. You can return to your device.",
        "ist jetzt angemeldet. Sie können zu Ihrem Gerät zurückkehren.",
    ),
    (
        "was not given access. You can close this page.",
        "hat keinen Zugriff erhalten. Sie können diese Seite schließen.",
    ),
    (
        "The form could not be verified. Please enter the code again.",
        "Das Formular konnte nicht geprüft werden. Bitte geben Sie den Code erneut ein.",
    ),
    (
        "That code is not valid or has expired. Check the code on your device.",
        "Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät.",
    ),
    (
        "That code has expired. Start again on your device.",
        "Dieser Code ist abgelaufen. Beginnen Sie auf Ihrem Gerät erneut.",
    ),
    // logout.html
    ("Sign out", "Abmelden"),
    ("Sign out?", "Abmelden?"),
    (
        "asks to sign you out of all applications that use this account",
        "möchte Sie von allen Anwendungen abmelden, die dieses Konto nutzen",
    ),
    ("Sign out of all applications that use this account", "Von allen Anwendungen abmelden, die dieses Konto nutzen"),
    ("Stay signed in", "Angemeldet bleiben"),
    ("Still signed in", "Weiterhin angemeldet"),
    ("Nothing changed. You can close this page.", "Nichts wurde geändert. Sie können diese Seite schließen."),
    ("Signed out", "Abgemeldet"),
    ("You are signed out. You can close this page.", "Sie sind abgemeldet. Sie können diese Seite schließen."),
    ("Choose Sign out or Stay signed in.", "Wählen Sie „Abmelden“ oder „Angemeldet bleiben“."),
    (
        "The form could not be verified. Nothing was changed.",
        "Das Formular konnte nicht geprüft werden. Nichts wurde geändert.",
    ),
    (
        "The application asking to sign you out is not known here.",
        "Die Anwendung, die Sie abmelden möchte, ist hier nicht bekannt.",
    ),
    // error.html, form_post.html and the handlers' messages
    ("Something went wrong", "Etwas ist schiefgelaufen"),
    ("Error:", "Fehler:"),
    ("Continuing…", "Weiter…"),
    ("Press the button to continue.", "Drücken Sie die Schaltfläche, um fortzufahren."),
    ("Choose Allow or Deny.", "Wählen Sie „Zulassen“ oder „Ablehnen“."),
    ("The request is malformed.", "Die Anfrage ist fehlerhaft."),
    ("The form is malformed.", "Das Formular ist fehlerhaft."),
    ("The request must be a form post.", "Die Anfrage muss ein Formular sein."),
    ("The form must be posted as a form.", "Das Formular muss als Formular gesendet werden."),
    (
        "Gatehouse is briefly unavailable. Please try again in a moment.",
        "Gatehouse ist kurz nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
    ),
    (
        "Gatehouse had a problem. Please try again.",
        "Bei Gatehouse ist ein Problem aufgetreten. Bitte versuchen Sie es erneut.",
    ),
    (
        "This sign-in page has expired or was opened elsewhere. Go back to the application and start again.",
        "Diese Anmeldeseite ist abgelaufen oder wurde anderswo geöffnet. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.",
    ),
    (
        "The form could not be verified. Go back to the application and start again.",
        "Das Formular konnte nicht geprüft werden. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.",
    ),
    ("The request has no client_id.", "Der Anfrage fehlt die client_id."),
    (
        "The application asking you to sign in is not known here.",
        "Die Anwendung, bei der Sie sich anmelden sollen, ist hier nicht bekannt.",
    ),
    (
        "The request has no redirect_uri and the application has several registered.",
        "Der Anfrage fehlt die redirect_uri, und die Anwendung hat mehrere registriert.",
    ),
    (
        "The address the application asked to return to is not one it registered, so you were not sent there.",
        "Die Adresse, zu der die Anwendung zurückkehren wollte, ist nicht registriert; Sie wurden deshalb nicht dorthin geschickt.",
    ),
    // built-in scopes on the consent pages
    ("Sign you in and know who you are", "Sie anmelden und wissen, wer Sie sind"),
    ("See your name and basic profile", "Ihren Namen und Ihr Basisprofil sehen"),
    ("See your email address", "Ihre E-Mail-Adresse sehen"),
    ("See your postal address", "Ihre Postanschrift sehen"),
    ("See your phone number", "Ihre Telefonnummer sehen"),
    ("Stay signed in while you are away (refresh tokens)", "Angemeldet bleiben, während Sie weg sind (Refresh-Tokens)"),
    // upstream providers and the directory (issue 25)
    (
        "Sign in on your account page first, then enter the code here again.",
        "Melden Sie sich zuerst auf Ihrer Kontoseite an und geben Sie den Code dann hier erneut ein.",
    ),
    (
        "Passwords cannot be checked right now: the directory is not answering. Try again in a few minutes.",
        "Passwörter können gerade nicht geprüft werden: Das Verzeichnis antwortet nicht. Versuchen Sie es in ein paar Minuten erneut.",
    ),
    ("or", "oder"),
    ("Sign in with", "Anmelden mit"),
    ("Linked accounts", "Verknüpfte Konten"),
    ("Link", "Verknüpfen"),
    (
        "Your account has no password: you sign in through a linked account or a passkey.",
        "Ihr Konto hat kein Passwort: Sie melden sich über ein verknüpftes Konto oder einen Passkey an.",
    ),
    (
        "The sign-in with the other provider was cancelled or refused. Try again, or sign in another way.",
        "Die Anmeldung beim anderen Anbieter wurde abgebrochen oder abgelehnt. Versuchen Sie es erneut oder melden Sie sich anders an.",
    ),
    (
        "The other provider could not be reached. Try again later, or sign in another way.",
        "Der andere Anbieter ist nicht erreichbar. Versuchen Sie es später erneut oder melden Sie sich anders an.",
    ),
    (
        "The other provider's answer could not be verified. Try again.",
        "Die Antwort des anderen Anbieters konnte nicht geprüft werden. Versuchen Sie es erneut.",
    ),
    (
        "There is no account here for that identity. Sign in another way.",
        "Für diese Identität gibt es hier kein Konto. Melden Sie sich anders an.",
    ),
    ("This account is disabled.", "Dieses Konto ist deaktiviert."),
    (
        "An account with that email address exists already. Sign in to it another way, then link this provider on your account page.",
        "Ein Konto mit dieser E-Mail-Adresse gibt es bereits. Melden Sie sich anders daran an und verknüpfen Sie dann diesen Anbieter auf Ihrer Kontoseite.",
    ),
    ("That identity is linked to another account.", "Diese Identität ist mit einem anderen Konto verknüpft."),
    (
        "The sign-in could not be completed. Try again.",
        "Die Anmeldung konnte nicht abgeschlossen werden. Versuchen Sie es erneut.",
    ),
    ("There is no such sign-in provider.", "Diesen Anmeldeanbieter gibt es nicht."),
    (
        "This sign-in was started in another browser. Go back to the application and start again.",
        "Diese Anmeldung wurde in einem anderen Browser begonnen. Gehen Sie zurück zur Anwendung und beginnen Sie erneut.",
    ),
    (
        "Passwords are not accepted here. Go back and choose how to sign in.",
        "Passwörter werden hier nicht angenommen. Gehen Sie zurück und wählen Sie, wie Sie sich anmelden.",
    ),
    ("The account was linked.", "Das Konto wurde verknüpft."),
    ("The linked account was removed.", "Das verknüpfte Konto wurde entfernt."),
    (
        "The account could not be linked. Try again.",
        "Das Konto konnte nicht verknüpft werden. Versuchen Sie es erneut.",
    ),
    ("There is no such linked account.", "Dieses verknüpfte Konto gibt es nicht."),
    (
        "This is the only way to sign in to your account: link another provider or add a passkey first.",
        "Dies ist die einzige Anmeldemöglichkeit für Ihr Konto: Verknüpfen Sie zuerst einen anderen Anbieter oder fügen Sie einen Passkey hinzu.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sentence a built-in page passes through `t` has a German translation: a new
    /// English sentence without one fails here, not in front of a German reader.
    #[test]
    fn every_sentence_of_the_built_in_pages_is_translated() {
        let filter = "| t";
        for (name, source) in
            crate::web::DEFAULTS.iter().filter(|(n, _)| n.ends_with(".html") && !n.starts_with("console/"))
        {
            let mut rest = *source;
            while let Some(i) = rest.find(filter) {
                let before = rest[..i].trim_end();
                if let Some(text) = before.strip_suffix('"').and_then(|b| b.rfind('"').map(|q| &b[q + 1..])) {
                    assert_ne!(translate(Lang::De, text), text, "{name}: {text:?} has no German");
                }
                rest = &rest[i + filter.len()..];
            }
        }
    }

    #[test]
    fn unknown_sentences_pass_through() {
        assert_eq!(translate(Lang::De, "Sign in"), "Anmelden");
        assert_eq!(translate(Lang::De, "Access to inventory"), "Access to inventory");
        assert_eq!(translate(Lang::En, "Sign in"), "Sign in");
    }

    /// The throttling messages carry a number; every form `retry_in` makes is translated.
    #[test]
    fn sentences_with_a_number_are_translated_around_it() {
        for secs in [1, 2, 45, 119, 120, 900] {
            let when = gatehouse_core::throttle::retry_in(secs);
            for sentence in [
                format!("Too many failed attempts. Try again {when}."),
                format!("Too many wrong codes. Try again {when}."),
            ] {
                let german = translate(Lang::De, &sentence);
                assert!(german.starts_with("Zu viele"), "{sentence:?} has no German: {german:?}");
                let n: String = when.chars().filter(char::is_ascii_digit).collect();
                assert!(german.contains(&format!(" {n} ")), "{german:?} lost the number of {sentence:?}");
            }
        }
        assert_eq!(translate(Lang::De, "Try 3 times"), "Try 3 times", "no key with {{n}}: unchanged");
        assert_eq!(
            translate(Lang::En, "Too many wrong codes. Try again in 5 seconds."),
            "Too many wrong codes. Try again in 5 seconds."
        );
    }

    #[test]
    fn the_built_in_scope_descriptions_are_translated() {
        for s in gatehouse_protocol::claims::standard_scopes() {
            assert_ne!(translate(Lang::De, &s.description), s.description, "{}", s.name.as_str());
        }
    }
}
