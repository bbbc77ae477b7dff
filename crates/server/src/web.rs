//! What browser-facing endpoints share: HTML pages (minijinja templates, embedded defaults that
//! an operator's template folder overrides file by file), security headers, cookies, and the
//! authorization response in its three modes.

use crate::error::ErrorPage;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use gatehouse_core::sign_in::SignIn;
use gatehouse_core::theme::Theme;
use gatehouse_protocol::authorize::ResponseMode;
use gatehouse_protocol::i18n::{Lang, negotiate};
use minijinja::{Environment, Value, context};
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) const DEFAULTS: [(&str, &str); 29] = [
    ("logout.html", include_str!("../templates/logout.html")),
    ("device.html", include_str!("../templates/device.html")),
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("consent.html", include_str!("../templates/consent.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("form_post.html", include_str!("../templates/form_post.html")),
    ("factor.html", include_str!("../templates/factor.html")),
    ("enrol_totp.html", include_str!("../templates/enrol_totp.html")),
    ("add_passkey.html", include_str!("../templates/add_passkey.html")),
    ("recovery_codes.html", include_str!("../templates/recovery_codes.html")),
    ("account/home.html", include_str!("../templates/account/home.html")),
    ("gatehouse.css", include_str!("../templates/gatehouse.css")),
    ("console/base.html", include_str!("../templates/console/base.html")),
    ("console/home.html", include_str!("../templates/console/home.html")),
    ("console/audit_table.html", include_str!("../templates/console/audit_table.html")),
    ("console/audit.html", include_str!("../templates/console/audit.html")),
    ("console/list_search.html", include_str!("../templates/console/list_search.html")),
    ("console/clients.html", include_str!("../templates/console/clients.html")),
    ("console/client.html", include_str!("../templates/console/client.html")),
    ("console/secret.html", include_str!("../templates/console/secret.html")),
    ("console/users.html", include_str!("../templates/console/users.html")),
    ("console/new_user.html", include_str!("../templates/console/new_user.html")),
    ("console/user.html", include_str!("../templates/console/user.html")),
    ("console/scopes.html", include_str!("../templates/console/scopes.html")),
    ("console/keys.html", include_str!("../templates/console/keys.html")),
    ("console/message.html", include_str!("../templates/console/message.html")),
    ("console/denied.html", include_str!("../templates/console/denied.html")),
    ("console/done.html", include_str!("../templates/console/done.html")),
];

pub struct Pages {
    env: Environment<'static>,
    base: String,
    css: String,
    theme: Theme,
    cookies: CookiePolicy,
    /// The sign-in page offers the password form (`[login] password`).
    pub(crate) password_login: bool,
}

/// How the browser's cookies are set: `Secure` (off only for an http issuer on loopback), and
/// how long the session and CSRF cookies live.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
    pub max_age: i64,
}

/// The cookie holding the SSO session's id.
pub const SESSION_COOKIE: &str = "gh_session";
/// The cookie holding the browser's CSRF token.
pub const CSRF_COOKIE: &str = "gh_csrf";

impl Pages {
    /// `dir`: an operator's template folder; a file there replaces the default of that name.
    pub fn new(dir: Option<PathBuf>, issuer: &str, theme: Theme, cookies: CookiePolicy) -> Self {
        let mut env = Environment::new();
        // Stricter than Jinja's: '/' is encoded too, so a value is always one path segment.
        env.add_filter("urlencode", |v: String| path_segment(&v));
        // `{{ "Sign in" | t }}`: the sentence in the page's language (crate::i18n).
        env.add_filter("t", |state: &minijinja::State, text: String| {
            let lang = state.lookup("lang").and_then(|l| l.as_str().and_then(Lang::of_tag)).unwrap_or_default();
            crate::i18n::translate(lang, &text).into_owned()
        });
        // The sign-in page's defaults until `with_login` says otherwise.
        env.add_global("password_login", true);
        let folder = dir.clone();
        env.set_loader(move |name| {
            if let Some(d) = &folder {
                let p = d.join(name);
                if p.is_file() {
                    return std::fs::read_to_string(&p).map(Some).map_err(|e| {
                        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("{}: {e}", p.display()))
                    });
                }
            }
            Ok(DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, s)| (*s).to_owned()))
        });
        let css = dir
            .map(|d| d.join("gatehouse.css"))
            .filter(|p| p.is_file())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_else(|| {
                DEFAULTS.iter().find(|(n, _)| *n == "gatehouse.css").map(|(_, s)| (*s).to_owned()).unwrap_or_default()
            });
        let css = css + &theme.css();
        Self { env, base: issuer.trim_end_matches('/').to_owned(), css, theme, cookies, password_login: true }
    }

    /// What the sign-in page offers: the upstream providers' buttons, and whether the password
    /// form is there (`[login] password`).
    pub fn with_login(mut self, upstreams: Arc<gatehouse_core::upstreams::Upstreams>, password: bool) -> Self {
        // A function, not a value: providers added through the admin API show at once.
        self.env.add_function("upstream_buttons", move || Value::from_serialize(upstreams.buttons()));
        self.env.add_global("password_login", password);
        self.password_login = password;
        self
    }

    /// GET `/assets/logo`: the theme's logo. An SVG may hold script; the policy keeps it inert
    /// even when opened directly.
    pub fn logo(&self) -> Response {
        match &self.theme.logo {
            Some((bytes, kind)) => (
                [
                    (header::CONTENT_TYPE, *kind),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; sandbox"),
                ],
                bytes.clone(),
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }

    pub fn css(&self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
            self.css.clone(),
        )
            .into_response()
    }

    /// Renders a page with the security headers pages carry (DESIGN.md §7), in the language of
    /// the sign-in (`ui_locales` in `ctx`) or of the browser (crate::i18n). The console is
    /// English only.
    pub fn render(&self, status: StatusCode, name: &str, ctx: Value) -> Response {
        let lang = if name.starts_with("console/") {
            Lang::En
        } else {
            let ui_locales = ctx.get_attr("ui_locales").ok().and_then(|v| v.as_str().map(str::to_owned));
            negotiate(ui_locales.as_deref(), crate::i18n::accept_language().as_deref())
        };
        let logo = self.theme.logo.is_some().then_some(self.theme.logo_alt.as_str());
        let ctx = context! { base => self.base, lang => lang.tag(), logo, ..ctx };
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => {
                let mut r = with_page_headers((status, Html(html)).into_response(), None);
                r.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
                r
            }
            Err(e) => {
                tracing::error!(template = name, error = %e, "template failed");
                with_page_headers(
                    (StatusCode::INTERNAL_SERVER_ERROR, "Gatehouse could not render this page.").into_response(),
                    None,
                )
            }
        }
    }

    pub fn error(&self, status: StatusCode, message: &str, code: Option<&str>) -> Response {
        self.render(status, "error.html", context! { message, code })
    }

    pub fn cookies(&self) -> CookiePolicy {
        self.cookies
    }

    /// A cookie's name under this policy: with an https issuer, `__Host-` prefixed, which a
    /// browser accepts only from this host over https with `Secure`, `Path=/` and no `Domain`,
    /// so neither a sibling subdomain nor a plain-http injection can plant it.
    fn cookie_name<'n>(&self, name: &'n str) -> std::borrow::Cow<'n, str> {
        if self.cookies.secure { format!("__Host-{name}").into() } else { name.into() }
    }

    /// A cookie for every path, as [`set_cookie`] makes it under this policy.
    pub fn cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        set_cookie(&self.cookie_name(name), value, max_age, self.cookies.secure)
    }

    /// 303 to a path of this server, never cached.
    pub fn see_other(&self, path: &str) -> Response {
        see_other_to(&format!("{}{path}", self.base))
    }

    /// A cookie only the paths under `path` see (the console's, the account page's).
    /// `SameSite=Lax`, not `Strict`: their sign-ins come back through a redirect that a browser
    /// may count as cross-site when the login page was opened from elsewhere; forms are guarded
    /// by the CSRF token.
    pub fn scoped_cookie(&self, path: &str, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.cookies.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
    }

    /// The value of the request's cookie `name` (as [`Self::cookie`] names it).
    pub fn read_cookie<'h>(&self, headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
        cookie(headers, &self.cookie_name(name))
    }

    /// The CSRF token this browser's forms carry (shared by every form), and the CSRF cookie to
    /// set when it has none yet. The token is bound to the cookie's value (an HMAC the server
    /// alone can make), so a planted cookie is useless without it.
    pub fn csrf_token(&self, headers: &HeaderMap, sign_in: &SignIn) -> (String, Option<HeaderValue>) {
        match self.read_cookie(headers, CSRF_COOKIE).filter(|c| c.len() >= 32) {
            Some(c) => (sign_in.csrf_form_token(c), None),
            None => {
                let c = sign_in.new_csrf_cookie();
                let set = self.cookie(CSRF_COOKIE, &c, self.cookies.max_age);
                (sign_in.csrf_form_token(&c), Some(set))
            }
        }
    }

    /// Whether a form's `csrf` field is the token for this browser's CSRF cookie.
    pub fn csrf_matches(&self, headers: &HeaderMap, sign_in: &SignIn, form_value: Option<&str>) -> bool {
        sign_in.csrf_matches(self.read_cookie(headers, CSRF_COOKIE), form_value)
    }
}

/// Renders the [`ErrorPage`] a page handler failed with (`PageError`), in the page's language:
/// handlers return errors with `?` and never need the templates for it.
pub async fn render_error_pages(State(pages): State<Arc<Pages>>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let Some(page) = response.extensions().get::<ErrorPage>().cloned() else { return response };
    let mut rendered = pages.error(response.status(), &page.message, page.code);
    for (name, value) in response.headers() {
        if name == header::RETRY_AFTER || name == header::SET_COOKIE {
            rendered.headers_mut().append(name, value.clone());
        }
    }
    rendered
}

/// `s` percent-encoded as one URL path segment or query value (client ids and subjects may hold
/// any printable character).
pub fn path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// `X-Frame-Options: DENY`, a strict CSP, no referrer, no caching. `script_nonce` allows the one
/// inline script of the form_post page.
pub fn with_page_headers(mut r: Response, script_nonce: Option<&str>) -> Response {
    let csp = match script_nonce {
        Some(n) => format!(
            "default-src 'none'; script-src 'nonce-{n}'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
        ),
        // Forms post back here only; the form_post page above is the one that posts elsewhere.
        None => "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            .to_owned(),
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Lets the page run Gatehouse's own script (`/assets/webauthn.js`, for its passkey forms):
/// `script-src 'self'`, still nothing inline.
pub fn allow_own_script(r: &mut Response) {
    let Some(csp) = r.headers().get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()) else { return };
    if csp.contains("script-src") {
        return;
    }
    let csp = csp.replacen("default-src 'none';", "default-src 'none'; script-src 'self';", 1);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Lets the page's forms end in a redirect to `target` (the client's redirect URI). CSP's
/// `form-action` also governs where a form submission is redirected (CSP Level 3 §6.4.1), so
/// with `'self'` alone a browser refuses the 303 that hands the code to the client.
pub fn allow_form_redirect(r: &mut Response, target: &str) {
    let Ok(url) = url::Url::parse(target) else { return };
    let source = match url.scheme() {
        "http" | "https" => url.origin().ascii_serialization(),
        // A native app's private-use scheme (RFC 8252 §7.1): the scheme is the source.
        scheme => format!("{scheme}:"),
    };
    let Some(csp) = r.headers().get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()) else { return };
    let csp = csp.replace("form-action 'self'", &format!("form-action 'self' {source}"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// The token of an `Authorization: Bearer ...` header (RFC 6750 §2.1), trimmed; `None`
/// without such a header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    authorization_token(headers, "bearer")
}

/// The credentials of an `Authorization` header with `scheme` (`bearer`, `dpop`; the scheme
/// name is case-insensitive, RFC 7235 §2.1), trimmed.
pub fn authorization_token<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (given, token) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| token.trim())
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// 303 to an absolute URL (this server's, an application's, an upstream provider's), never
/// cached.
pub fn see_other_to(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Lax; Path=/`, `Secure` unless the issuer is plain
/// http on loopback (DESIGN.md §7). `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Sends the authorization response (RFC 6749 §4.1.2; OAuth 2.0 Multiple Response Types §2;
/// Form Post Response Mode) to an already validated redirect URI.
pub fn authorization_response(
    pages: &Pages,
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, &str)],
    nonce: &str,
) -> Response {
    match mode {
        ResponseMode::FormPost => {
            let list: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let mut r = pages.render(
                StatusCode::OK,
                "form_post.html",
                context! { action => redirect_uri, params => list, nonce },
            );
            r = with_page_headers(r, Some(nonce));
            r
        }
        ResponseMode::Query | ResponseMode::Fragment => {
            let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
            let sep = match mode {
                ResponseMode::Fragment => "#",
                _ if redirect_uri.contains('?') => "&",
                _ => "?",
            };
            let mut r = see_other_to(&format!("{redirect_uri}{sep}{encoded}"));
            r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            r
        }
    }
}

/// `r` with these `Set-Cookie` headers added.
pub fn with_cookies(mut r: Response, cookies: Vec<HeaderValue>) -> Response {
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// A query string's value for `key`, `None` when absent or empty.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// `text` (an `otpauth://` URI) as a QR code, an inline SVG drawn here: no script, no image
/// fetched from anywhere. Empty when the text is too long for a QR code.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_many() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; gh_session=abc; b=2"));
        assert_eq!(cookie(&h, "gh_session"), Some("abc"));
        assert_eq!(cookie(&h, "nope"), None);
    }

    #[test]
    fn set_cookie_flags() {
        let v = set_cookie("s", "v", 60, true);
        let s = v.to_str().unwrap();
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && s.contains("Secure"));
        assert!(!set_cookie("s", "v", 60, false).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn forms_may_end_at_the_redirect_uri_origin_only() {
        let csp = |target: &str| {
            let mut r = with_page_headers(StatusCode::OK.into_response(), None);
            allow_form_redirect(&mut r, target);
            r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned()
        };
        assert!(
            csp("https://app.example.com:8443/cb?x=1").ends_with("form-action 'self' https://app.example.com:8443")
        );
        assert!(csp("com.example.app:/oauth2redirect").ends_with("form-action 'self' com.example.app:"));
        assert!(csp("not a url").ends_with("form-action 'self'"));
    }

    #[test]
    fn templates_escape_html() {
        let p = Pages::new(None, "http://x", Theme::default(), CookiePolicy { secure: true, max_age: 60 });
        let r = p.error(StatusCode::BAD_REQUEST, "<script>alert(1)</script>", None);
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
    }
}
