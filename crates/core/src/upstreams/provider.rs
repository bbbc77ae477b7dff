//! Talking to a provider: its metadata (OIDC Discovery, cached an hour), its JWK set (cached
//! five minutes, fetched again for an unknown `kid` at most once a minute), the token request
//! (client authentication by secret or `private_key_jwt`), userinfo and a GitHub-style email
//! list. Every request goes through the SSRF-safe fetcher; every failure is logged here and
//! becomes [`UpstreamError::Unavailable`].

use super::{Pending, UpstreamError, Upstreams};
use base64::Engine;
use gatehouse_protocol::jose::{JsonObject, SigningAlg};
use gatehouse_protocol::jwk::{self, Jwks, JwsError};
use gatehouse_protocol::upstream::{self, ClientAuth, Expected, Identity, Kind, Refusal, Upstream};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const METADATA_FRESH: Duration = Duration::from_secs(3600);
const JWKS_FRESH: Duration = Duration::from_secs(300);
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// What this server needs to know of a provider.
#[derive(Debug)]
pub(super) struct Metadata {
    /// OIDC: the issuer, which ID tokens and RFC 9207's `iss` must name.
    pub(super) issuer: Option<String>,
    pub(super) authorization_endpoint: url::Url,
    pub(super) token_endpoint: url::Url,
    pub(super) userinfo_endpoint: Option<url::Url>,
    pub(super) jwks_uri: Option<url::Url>,
    pub(super) id_token_algs: Vec<SigningAlg>,
    /// The provider sends `iss` with its authorization responses (RFC 9207).
    pub(super) iss_parameter: bool,
}

/// What a provider's fetched documents are cached under: its id and where they come from, so
/// that a provider replaced through the admin API never uses the old one's.
fn cache_key(p: &Upstream) -> String {
    let url = |u: &Option<url::Url>| u.as_ref().map_or("", url::Url::as_str).to_owned();
    [p.id.clone(), p.issuer.clone().unwrap_or_default(), url(&p.authorization_endpoint), url(&p.token_endpoint)]
        .join("\n")
}

fn unavailable(provider: &str, what: &str) -> UpstreamError {
    tracing::warn!(provider, problem = what, "an upstream provider answered badly");
    UpstreamError::Unavailable
}

/// A JSON object from a 200 answer.
fn object(provider: &str, what: &str, fetched: &crate::fetch::Fetched) -> Result<JsonObject, UpstreamError> {
    if fetched.status != 200 {
        let detail = serde_json::from_slice::<Value>(&fetched.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        return Err(unavailable(provider, &format!("{what}: status {} {detail}", fetched.status)));
    }
    match serde_json::from_slice(&fetched.body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(unavailable(provider, &format!("{what}: not a JSON object"))),
    }
}

fn url_in(o: &JsonObject, key: &str) -> Option<url::Url> {
    o.get(key).and_then(Value::as_str).and_then(|u| url::Url::parse(u).ok())
}

impl Upstreams {
    /// The provider's metadata: from discovery (OIDC) with the configuration's endpoints
    /// overriding it, or the configuration alone (OAuth 2.0).
    pub(super) async fn metadata(&self, p: &Upstream) -> Result<Arc<Metadata>, UpstreamError> {
        let now = Instant::now();
        if let Some(m) = self.metadata.fresh(&cache_key(p), now) {
            return Ok(m);
        }
        let discovered = match (&p.kind, &p.issuer) {
            (Kind::Oidc, Some(issuer)) => {
                let url =
                    url::Url::parse(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')))
                        .map_err(|_| unavailable(&p.id, "issuer is not a URL"))?;
                let doc = object(&p.id, "discovery", &self.fetcher(p).get(&url, "application/json").await?)?;
                // OIDC Discovery §4.3: the document's issuer is exactly the configured one.
                if doc.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) {
                    return Err(unavailable(&p.id, "discovery: the document names another issuer"));
                }
                Some(doc)
            }
            _ => None,
        };
        let d = discovered.unwrap_or_default();
        let endpoint = |configured: &Option<url::Url>, key: &str| configured.clone().or_else(|| url_in(&d, key));
        let algs: Vec<SigningAlg> = match d.get("id_token_signing_alg_values_supported") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).filter_map(SigningAlg::parse).collect(),
            _ => vec![SigningAlg::RS256],
        };
        let metadata = Metadata {
            issuer: p.issuer.clone(),
            authorization_endpoint: endpoint(&p.authorization_endpoint, "authorization_endpoint")
                .ok_or_else(|| unavailable(&p.id, "no authorization_endpoint"))?,
            token_endpoint: endpoint(&p.token_endpoint, "token_endpoint")
                .ok_or_else(|| unavailable(&p.id, "no token_endpoint"))?,
            userinfo_endpoint: endpoint(&p.userinfo_endpoint, "userinfo_endpoint"),
            jwks_uri: url_in(&d, "jwks_uri"),
            id_token_algs: algs,
            iss_parameter: d.get("authorization_response_iss_parameter_supported") == Some(&Value::Bool(true)),
        };
        if p.kind == Kind::Oidc && metadata.jwks_uri.is_none() {
            return Err(unavailable(&p.id, "discovery: no jwks_uri"));
        }
        let metadata = Arc::new(metadata);
        self.metadata.insert(&cache_key(p), metadata.clone(), now, now + METADATA_FRESH);
        Ok(metadata)
    }

    /// Exchanges the code, then reads and verifies who the user is.
    pub(super) async fn identify(
        &self,
        p: &Upstream,
        m: &Metadata,
        code: &str,
        pending: &Pending,
    ) -> Result<Identity, UpstreamError> {
        let tokens = self.exchange(p, m, code, &pending.verifier).await?;
        let access_token = tokens.get("access_token").and_then(Value::as_str);
        let bearer = access_token.map(|t| format!("Bearer {t}"));
        let mut claims = match p.kind {
            Kind::Oidc => {
                let id_token = tokens
                    .get("id_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| unavailable(&p.id, "token response without id_token"))?;
                self.verify_id_token(p, m, id_token, &pending.nonce).await?
            }
            Kind::OAuth2 => JsonObject::new(),
        };
        if let (Some(userinfo), Some(bearer)) = (&m.userinfo_endpoint, &bearer) {
            let fetched = self.fetcher(p).get_authorized(userinfo, "application/json", Some(bearer)).await?;
            let info = object(&p.id, "userinfo", &fetched)?;
            if p.kind == Kind::Oidc {
                // OIDC Core §5.3.2: the userinfo's sub must be the ID token's.
                if info.get("sub") != claims.get("sub") {
                    return Err(Refusal::UserinfoSubject.into());
                }
                // The verified ID token's claims stay; userinfo adds what it lacks.
                for (k, v) in info {
                    claims.entry(k).or_insert(v);
                }
            } else {
                claims = info;
            }
        } else if p.kind == Kind::OAuth2 {
            return Err(unavailable(&p.id, "no access token for userinfo"));
        }
        let mut identity = p.identity(&claims, None)?;
        if identity.verified_email.is_none()
            && let (Some(emails), Some(bearer)) = (&p.emails_endpoint, &bearer)
        {
            let fetched = self.fetcher(p).get_authorized(emails, "application/json", Some(bearer)).await?;
            if fetched.status == 200
                && let Ok(list) = serde_json::from_slice::<Value>(&fetched.body)
            {
                identity = p.identity(&claims, Some(&list))?;
            }
        }
        Ok(identity)
    }

    /// The token request (RFC 6749 §4.1.3, RFC 7636 §4.5).
    async fn exchange(
        &self,
        p: &Upstream,
        m: &Metadata,
        code: &str,
        verifier: &str,
    ) -> Result<JsonObject, UpstreamError> {
        let redirect_uri = self.redirect_uri(&p.id);
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.into()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.into()),
        ];
        let secret = p.client_secret.as_ref().map(|s| s.expose()).unwrap_or("");
        let mut authorization = None;
        match p.client_auth {
            ClientAuth::SecretBasic => {
                // RFC 6749 §2.3.1: each part form-encoded first.
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", enc(&p.client_id), enc(secret));
                authorization = Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)));
            }
            ClientAuth::SecretPost => {
                form.push(("client_id", p.client_id.clone()));
                form.push(("client_secret", secret.to_owned()));
            }
            ClientAuth::PrivateKeyJwt => {
                let now = self.clock.now();
                let claims = json!({
                    "iss": p.client_id, "sub": p.client_id, "aud": m.token_endpoint.as_str(),
                    "jti": self.tokens.random(16), "iat": now, "exp": now + 60,
                });
                let assertion = self
                    .tokens
                    .sign_document(SigningAlg::RS256, "JWT", &claims)
                    .map_err(|e| unavailable(&p.id, &format!("client assertion: {e}")))?;
                form.push(("client_id", p.client_id.clone()));
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion", assertion));
            }
        }
        let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let fetched = self.fetcher(p).post_form_read(&m.token_endpoint, &borrowed, authorization.as_deref()).await?;
        if fetched.status == 400
            && serde_json::from_slice::<Value>(&fetched.body)
                .is_ok_and(|v| v.get("error").and_then(Value::as_str) == Some("invalid_grant"))
        {
            return Err(Refusal::Code.into());
        }
        let tokens = object(&p.id, "token request", &fetched)?;
        if tokens.get("access_token").and_then(Value::as_str).is_none() {
            return Err(unavailable(&p.id, "token response without access_token"));
        }
        Ok(tokens)
    }

    /// Verifies an ID token's signature and claims (OIDC Core §3.1.3.7).
    async fn verify_id_token(
        &self,
        p: &Upstream,
        m: &Metadata,
        id_token: &str,
        nonce: &str,
    ) -> Result<JsonObject, UpstreamError> {
        let parsed = jwk::parse(id_token).map_err(|_| Refusal::IdToken("form"))?;
        let mut jwks = self.key_set(p, m, false).await?;
        let mut verified = parsed.verify(&jwks, &m.id_token_algs);
        if verified == Err(JwsError::NoKey) {
            // A rotated key: fetch the set again, at most once a minute.
            let now = Instant::now();
            if self.refetched.fresh(&cache_key(p), now).is_none() {
                self.refetched.insert(&cache_key(p), (), now, now + REFETCH_INTERVAL);
                jwks = self.key_set(p, m, true).await?;
                verified = parsed.verify(&jwks, &m.id_token_algs);
            }
        }
        verified.map_err(|_| Refusal::IdToken("signature"))?;
        let issuer = m.issuer.as_deref().unwrap_or_default();
        let expected = Expected { issuer, client_id: &p.client_id, nonce, now: self.clock.now() };
        upstream::check_id_token(&parsed.claims, &expected)?;
        Ok(parsed.claims)
    }

    async fn key_set(&self, p: &Upstream, m: &Metadata, again: bool) -> Result<Arc<Jwks>, UpstreamError> {
        let now = Instant::now();
        if !again && let Some(set) = self.jwks.fresh(&cache_key(p), now) {
            return Ok(set);
        }
        let uri = m.jwks_uri.as_ref().ok_or_else(|| unavailable(&p.id, "no jwks_uri"))?;
        let doc = object(&p.id, "jwks", &self.fetcher(p).get(uri, "application/json").await?)?;
        let set = Arc::new(Jwks::parse(&Value::Object(doc)).map_err(|e| unavailable(&p.id, e))?);
        self.jwks.insert(&cache_key(p), set.clone(), now, now + JWKS_FRESH);
        Ok(set)
    }
}
