//! A minimal browser: a cookie jar, no automatic redirects, and form submission from the
//! hidden fields of Gatehouse's pages, as a person's browser would submit them.

use std::collections::HashMap;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

/// A response, read.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of a hidden form field.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body.get(start..)?.find('"')?;
        self.body.get(start..start + end).map(|s| s.replace("&#x2f;", "/").replace("&amp;", "&"))
    }

    /// The parameters of the redirect (query or fragment of `Location`).
    pub fn redirect_params(&self) -> HashMap<String, String> {
        let Some(loc) = self.header("location") else { return HashMap::new() };
        let Ok(u) = url::Url::parse(loc) else { return HashMap::new() };
        let mut out: HashMap<String, String> = u.query_pairs().into_owned().collect();
        if let Some(f) = u.fragment() {
            out.extend(url::form_urlencoded::parse(f.as_bytes()).into_owned());
        }
        out
    }

    pub fn is_login_page(&self) -> bool {
        self.body.contains("name=\"password\"")
    }

    pub fn is_consent_page(&self) -> bool {
        self.body.contains("name=\"decision\"")
    }
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        Self { http, base: base.to_owned(), jar }
    }

    /// The same browser (its cookies included) sending its next requests to `base`: another
    /// node behind one load balancer.
    pub fn at(&self, base: &str) -> Self {
        Self { http: self.http.clone(), base: base.to_owned(), jar: self.jar.clone() }
    }

    /// Plants a cookie (`name=value`) as another site or an attacker could.
    pub fn set_cookie(&self, cookie: &str) {
        if let Ok(url) = url::Url::parse(&self.base) {
            self.jar.add_cookie_str(cookie, &url);
        }
    }

    /// The values of the cookies the server set (session, CSRF), to look for where they must
    /// not be.
    pub fn cookie_values(&self) -> Vec<String> {
        use reqwest::cookie::CookieStore;
        let Ok(url) = url::Url::parse(&self.base) else { return Vec::new() };
        let Some(header) = self.jar.cookies(&url) else { return Vec::new() };
        header.to_str().unwrap_or("").split("; ").filter_map(|c| c.split_once('=').map(|(_, v)| v.to_owned())).collect()
    }

    async fn read(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn get(&self, path_and_query: &str) -> Page {
        let r = self.http.get(format!("{}{path_and_query}", self.base)).send().await;
        Self::read(r.unwrap_or_else(|e| panic!("{e}"))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        Self::read(r.unwrap_or_else(|e| panic!("{e}"))).await
    }

    /// `/authorize` with the given query parameters.
    pub async fn authorize(&self, params: &[(&str, &str)]) -> Page {
        let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        self.get(&format!("/authorize?{q}")).await
    }

    /// Submits the login form on `page`.
    pub async fn login(&self, page: &Page, username: &str, password: &str) -> Page {
        let (i, c) = (page.field("interaction").unwrap_or_default(), page.field("csrf").unwrap_or_default());
        self.post("/login", &[("interaction", &i), ("csrf", &c), ("username", username), ("password", password)]).await
    }

    /// Submits the consent form on `page` with `approve` or `deny`.
    pub async fn consent(&self, page: &Page, decision: &str) -> Page {
        let (i, c) = (page.field("interaction").unwrap_or_default(), page.field("csrf").unwrap_or_default());
        self.post("/consent", &[("interaction", &i), ("csrf", &c), ("decision", decision)]).await
    }

    /// Runs authorize → login (if asked) → consent (if asked, approving) and returns the final
    /// redirect's parameters.
    pub async fn sign_in(&self, params: &[(&str, &str)], username: &str, password: &str) -> HashMap<String, String> {
        let mut page = self.authorize(params).await;
        if page.is_login_page() {
            page = self.login(&page, username, password).await;
        }
        if page.is_consent_page() {
            page = self.consent(&page, "approve").await;
        }
        assert_eq!(page.status, 303, "expected a redirect back to the client, got {}: {}", page.status, page.body);
        page.redirect_params()
    }
}
