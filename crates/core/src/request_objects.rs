//! Where an authorization request's parameters come from (the rules are
//! `gatehouse_protocol::request_object`'s): the query itself, a request object by value
//! (`request`) or by reference (`request_uri`, fetched through the SSRF-safe fetcher), or a
//! request pushed to `/par` beforehand (RFC 9126), taken once. Request objects are verified with
//! the client's keys (`client_keys`), and one with a `jti` is accepted once across every node.
//! A client with `require_pushed_authorization_requests` (or every client, with `[par]
//! required`) must push.

use crate::catalog::Catalog;
use crate::client_keys::{ClientKeySets, KeyProblem};
use crate::issuer::{TokenIssuer, hash_token};
use gatehouse_protocol::authorize;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::jwk;
use gatehouse_protocol::params::Params;
use gatehouse_protocol::request_object::{self, Checked, PUSHED_PREFIX, PUSHED_TTL, Protection, Source};
use gatehouse_store::Store;
use std::sync::Arc;

/// Parameters that authenticate the client at `/par`, never part of the stored request.
const CLIENT_AUTH_PARAMS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

pub struct RequestObjects {
    store: Arc<dyn Store>,
    keys: Arc<ClientKeySets>,
    clock: Arc<dyn Clock>,
    tokens: Arc<TokenIssuer>,
    catalog: Arc<Catalog>,
    /// `[par] required`: every client must push.
    require_par: bool,
}

/// A pushed request's reference and how long it lasts (RFC 9126 §2.2).
pub struct Pushed {
    pub request_uri: String,
    pub expires_in: i64,
}

impl RequestObjects {
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<ClientKeySets>,
        clock: Arc<dyn Clock>,
        tokens: Arc<TokenIssuer>,
        catalog: Arc<Catalog>,
        require_par: bool,
    ) -> Self {
        Self { store, keys, clock, tokens, catalog, require_par }
    }

    /// Whether every client must push its requests (discovery's
    /// `require_pushed_authorization_requests`).
    pub fn par_required(&self) -> bool {
        self.require_par
    }

    /// At `/authorize`: the parameters to process for `client`.
    pub async fn resolve(&self, client: &Client, params: Params) -> Result<Params, OAuthError> {
        let source = request_object::source(&params)?;
        if !matches!(source, Source::Pushed(_)) && (self.require_par || client.require_pushed_authorization_requests) {
            return Err(OAuthError::InvalidRequest("this client must push its authorization requests to /par first"));
        }
        match source {
            Source::Plain => Ok(params),
            Source::Pushed(id) => {
                let taken = self.store.take_pushed_request(&hash_token(id), self.clock.now()).await?;
                match taken {
                    // RFC 9126 §4: only the pushed parameters count.
                    Some((owner, pushed)) if owner == client.id => Ok(pushed),
                    _ => Err(OAuthError::InvalidRequestUri(
                        "the request_uri is unknown, expired, used, or another client's",
                    )),
                }
            }
            Source::Value(jwt) => {
                let checked = self.object(client, jwt).await?;
                request_object::merge(&params, checked.params)
            }
            Source::Uri(uri) => {
                let jwt = self.fetch(uri).await?;
                let checked = self.object(client, &jwt).await?;
                request_object::merge(&params, checked.params)
            }
        }
    }

    /// At `/par` (RFC 9126 §2): the authenticated `client`'s request, validated as
    /// `/authorize` would validate it, kept under a fresh reference. `dpop_jkt` is the key of
    /// a DPoP proof sent with the push (RFC 9449 §10.1), which the request must not contradict.
    pub async fn push(
        &self,
        client: &Client,
        mut params: Params,
        dpop_jkt: Option<&str>,
    ) -> Result<Pushed, OAuthError> {
        if params.contains("request_uri") {
            return Err(OAuthError::InvalidRequest("request_uri may not be pushed"));
        }
        if params.get("client_id").is_some_and(|c| c != client.id.as_str()) {
            return Err(OAuthError::InvalidRequest("client_id is not the authenticated client"));
        }
        for p in CLIENT_AUTH_PARAMS {
            params.remove(p);
        }
        params = params.overridden_by(Params::single("client_id", client.id.as_str()));
        if let Some(jwt) = params.get("request").map(str::to_owned) {
            let checked = self.object(client, &jwt).await?;
            params = request_object::merge(&params, checked.params)?;
        }
        if let Some(jkt) = dpop_jkt {
            match params.get("dpop_jkt") {
                Some(given) if given != jkt => {
                    return Err(OAuthError::InvalidDpopProof("dpop_jkt is not the DPoP proof's key"));
                }
                _ => params = params.overridden_by(Params::single("dpop_jkt", jkt)),
            }
        }
        let redirect = authorize::resolve_target(client, &params)
            .map_err(|_| OAuthError::InvalidRequest("redirect_uri is missing or not registered for this client"))?;
        let catalog = self.catalog.get();
        authorize::validate(client, redirect, &params, &|s| catalog.knows(s), &catalog.resources)?;
        let id = self.tokens.random(32);
        self.store.push_request(&hash_token(&id), &client.id, &params, self.clock.now() + PUSHED_TTL).await?;
        Ok(Pushed { request_uri: format!("{PUSHED_PREFIX}{id}"), expires_in: PUSHED_TTL })
    }

    /// Checks a request object from `client`: how it must be protected, its signature, its
    /// claims, and that it was not used before.
    async fn object(&self, client: &Client, jwt: &str) -> Result<Checked, OAuthError> {
        let parsed =
            jwk::parse(jwt).map_err(|_| OAuthError::InvalidRequestObject("the request object is not a JWT"))?;
        if request_object::protection(&parsed, client)? == Protection::Signed {
            self.keys.verify(client, &parsed, &client.keys.request_object_algs()).await.map_err(|p| match p {
                KeyProblem::Unavailable => {
                    OAuthError::InvalidRequestObject("the client's jwks_uri could not be fetched")
                }
                p => OAuthError::InvalidRequestObject(p.describe()),
            })?;
        }
        let checked = request_object::check_claims(&parsed.claims, client, &self.tokens.issuer, self.clock.now())?;
        if let Some((jti, exp)) = &checked.once {
            let key = hash_token(&format!("request-object:{}:{jti}", client.id.as_str()));
            if !self.store.record_once(&key, exp + request_object::SKEW).await? {
                return Err(OAuthError::InvalidRequestObject("the request object was used before (its jti)"));
            }
        }
        Ok(checked)
    }

    /// A request object at a URL the client serves (RFC 9101 §5.2.3).
    async fn fetch(&self, uri: &str) -> Result<String, OAuthError> {
        let unreachable = OAuthError::InvalidRequestUri("the request_uri could not be fetched");
        let url = url::Url::parse(uri).map_err(|_| OAuthError::InvalidRequestUri("the request_uri is not a URL"))?;
        match self.keys.fetcher().get(&url, "application/oauth-authz-req+jwt, application/jwt").await {
            Ok(f) if f.status == 200 => {
                String::from_utf8(f.body.to_vec()).map(|s| s.trim().to_owned()).map_err(|_| unreachable)
            }
            Ok(f) => {
                tracing::info!(request_uri = uri, status = f.status, "request_uri not served");
                Err(unreachable)
            }
            Err(e) => {
                tracing::info!(request_uri = uri, error = %e, "request_uri could not be fetched");
                Err(unreachable)
            }
        }
    }
}
