//! The services the OAuth endpoints share, built once at start.

use crate::client_auth::SecretCache;
use crate::issuer::TokenIssuer;
use crate::throttle::Throttle;
use crate::web::{Pages, cookie, set_cookie};
use axum::http::{HeaderMap, HeaderValue};
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_store::Store;
use std::sync::Arc;
use subtle::ConstantTimeEq;

pub struct Core {
    pub store: Arc<dyn Store>,
    pub tokens: TokenIssuer,
    pub catalog: Arc<crate::catalog::Catalog>,
    pub pages: Pages,
    pub secrets: SecretCache,
    pub throttle: Throttle,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub clock: Arc<dyn Clock>,
    /// `Secure` on cookies: off only for an http issuer on loopback.
    pub secure_cookies: bool,
    /// Outbound HTTP (back-channel logout).
    pub backchannel: reqwest::Client,
}

impl Core {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The browser's CSRF token (double-submit cookie, shared by every form), and the cookie
    /// to set when it has none yet.
    pub fn csrf_token(&self, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
        match cookie(headers, CSRF_COOKIE).filter(|c| c.len() >= 32) {
            Some(c) => (c.to_owned(), None),
            None => {
                let c = self.tokens.random(32);
                let set = set_cookie(CSRF_COOKIE, &c, self.tokens.lifetimes.session, self.secure_cookies);
                (c, Some(set))
            }
        }
    }

    /// Whether a form's `csrf` field matches the browser's CSRF cookie (constant time).
    pub fn csrf_matches(headers: &HeaderMap, form_value: Option<&str>) -> bool {
        match (cookie(headers, CSRF_COOKIE), form_value) {
            (Some(c), Some(f)) => bool::from(c.as_bytes().ct_eq(f.as_bytes())),
            _ => false,
        }
    }

    /// The consent page's plain-words line for each scope.
    pub fn scope_lines(&self, scope: &ScopeSet) -> Vec<ScopeLine> {
        let catalog = self.catalog.get();
        scope
            .iter()
            .map(|s| ScopeLine {
                name: s.to_string(),
                description: catalog
                    .scopes
                    .iter()
                    .find(|d| d.name == *s)
                    .map_or_else(|| format!("Use {s}"), |d| d.description.clone()),
            })
            .collect()
    }
}

/// One scope on a consent page.
#[derive(serde::Serialize)]
pub struct ScopeLine {
    name: String,
    description: String,
}

/// The cookie holding the browser's CSRF token.
pub const CSRF_COOKIE: &str = "gh_csrf";
