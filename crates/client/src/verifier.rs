//! Verifying RFC 9068 JWT access tokens: the provider's discovery document and JWKS, fetched
//! once and cached; an unknown `kid` refetches the JWKS at most once per interval, by one task
//! however many ask at once.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Why a [`Verifier`] could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The discovery document or the JWKS could not be fetched.
    #[error("fetching {url}: {detail}")]
    Fetch {
        /// The URL asked.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The discovery document names another issuer than the one asked for (OIDC Discovery §4.3).
    #[error("the discovery document's issuer is {found:?}, not {expected:?}")]
    IssuerMismatch {
        /// The issuer asked for.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
    /// A document is not what its specification says.
    #[error("{0}")]
    Invalid(String),
}

/// Why a token was refused. Every variant is an RFC 6750 `invalid_token`; the text is safe to
/// send back as `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts with a JSON header.
    #[error("the token is not a JWT")]
    Malformed,
    /// RFC 9068 §2.1: an access token's `typ` is `at+jwt`; ID tokens and other JWTs are not
    /// access tokens.
    #[error("the token is not a JWT access token (typ must be at+jwt)")]
    NotAnAccessToken,
    /// The header's `alg` is not in the allow-list, or not the key's own.
    #[error("the token's algorithm is not accepted")]
    AlgorithmNotAllowed,
    /// No published key has the header's `kid` (even after refetching the JWKS).
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is another issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not name this API (or this client, for an ID token).
    #[error("the token is not meant for this API")]
    WrongAudience,
    /// Anything else: a missing claim, a wrong nonce, a malformed claim.
    #[error("the token is invalid: {0}")]
    Invalid(String),
    /// Introspection: the provider says the token is not active (revoked, expired, unknown).
    #[error("the token is not active")]
    Inactive,
    /// Introspection: the provider could not be asked (unreachable, or it refused the API's own
    /// credentials). Not the token's fault: answer 503.
    #[error("the authorization server could not be reached")]
    Unavailable,
}

/// A verified access token.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// `sub`: the user, or the client itself for client credentials.
    pub subject: String,
    /// `client_id`: the client the token was issued to.
    pub client_id: Option<String>,
    /// `scope`, split.
    pub scopes: BTreeSet<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// Every claim, as sent.
    pub claims: Map<String, Value>,
}

/// Verifies access tokens from one issuer for one audience (the API).
pub struct Verifier {
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    min_refresh_interval: Duration,
    jwks_uri: String,
    http: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    /// When the JWKS was last refetched for an unknown `kid`; held while refetching, so one
    /// task fetches and the others wait for its result.
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
    refreshes: AtomicU64,
}

/// The published keys, parsed once per fetch: by `kid`, the key's own `alg` (if it names one)
/// and the key ready to verify with.
struct Keys(HashMap<String, (Option<String>, DecodingKey)>);

impl Keys {
    fn parse(set: &JwkSet) -> Self {
        Self(
            set.keys
                .iter()
                .filter_map(|jwk| {
                    let kid = jwk.common.key_id.clone()?;
                    let key = DecodingKey::from_jwk(jwk).ok()?;
                    Some((kid, (jwk.common.key_algorithm.map(|a| a.to_string()), key)))
                })
                .collect(),
        )
    }
}

/// The algorithms accepted unless [`Verifier::with_algorithms`] says otherwise: the asymmetric
/// ones providers sign access tokens with. Never `none`, never HMAC.
pub const DEFAULT_ALGORITHMS: [Algorithm; 5] =
    [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256, Algorithm::ES384];

impl Verifier {
    /// Fetches `issuer`'s discovery document (`/.well-known/openid-configuration`, falling back
    /// to RFC 8414's `/.well-known/oauth-authorization-server`) and its JWKS. Tokens must carry
    /// `audience` in `aud`. Defaults: [`DEFAULT_ALGORITHMS`], 30 s leeway on `exp`/`nbf`, the
    /// JWKS refetched for an unknown `kid` at most every 30 s.
    pub async fn discover(issuer: &str, audience: &str) -> Result<Self, Error> {
        let (http, metadata) = discovery(issuer).await?;
        Self::from_metadata(http, &metadata, issuer, audience).await
    }

    /// A verifier from a discovery document already fetched.
    pub(crate) async fn from_metadata(
        http: reqwest::Client,
        metadata: &Map<String, Value>,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, Error> {
        let jwks_uri = metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Invalid("the discovery document has no jwks_uri".into()))?
            .to_owned();
        let keys = Keys::parse(&fetch_jwks(&http, &jwks_uri).await?);
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: Duration::from_secs(30),
            min_refresh_interval: Duration::from_secs(30),
            jwks_uri,
            http,
            keys: RwLock::new(Arc::new(keys)),
            last_refresh: tokio::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
        })
    }

    /// Accept only these algorithms (an allow-list; HMAC ones are never accepted, since the key
    /// would have to be shared with every API).
    pub fn with_algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.iter().copied().filter(|a| !is_hmac(*a)).collect();
        self
    }

    /// Clock skew tolerated on `exp` and `nbf`.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The least time between two refetches of the JWKS caused by unknown key ids.
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }

    /// How many times the JWKS has been refetched because of an unknown key id.
    pub fn key_refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Verifies `token`: a JWT with `typ: at+jwt` (RFC 9068 §2.1), an allowed algorithm that
    /// is also its key's, a valid signature by one of the issuer's keys, this issuer, this API
    /// in `aud`, and `exp` (required) and `nbf` within the leeway.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, VerifyError> {
        let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
        let typ = header.typ.as_deref().unwrap_or("");
        if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
            return Err(VerifyError::NotAnAccessToken);
        }
        Ok(access_token(self.checked_claims(token, header).await?))
    }

    /// An OpenID Connect ID token (Core §3.1.3.7) for this verifier's audience (the client):
    /// signature by an allowed algorithm, `iss`, `aud` (and `azp` when there are several),
    /// `exp`, `iat`, and `nonce` when one was sent. An access token is not an ID token.
    pub(crate) async fn verify_id_token(
        &self,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<Map<String, Value>, VerifyError> {
        let header = decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
            return Err(VerifyError::Invalid("an access token is not an ID token".into()));
        }
        let claims = self.checked_claims(token, header).await?;
        if !claims.contains_key("iat") {
            return Err(VerifyError::Invalid("the iat claim is missing".into()));
        }
        if let Some(Value::Array(aud)) = claims.get("aud")
            && aud.len() > 1
            && claims.get("azp").and_then(Value::as_str) != Some(self.audience.as_str())
        {
            return Err(VerifyError::WrongAudience);
        }
        if let Some(nonce) = nonce
            && claims.get("nonce").and_then(Value::as_str) != Some(nonce)
        {
            return Err(VerifyError::Invalid("the nonce does not match".into()));
        }
        Ok(claims)
    }

    /// The claims of a JWT signed by one of the issuer's keys with an allowed algorithm (the
    /// key's own, if it names one), for this issuer and audience, within `exp`/`nbf`.
    async fn checked_claims(
        &self,
        token: &str,
        header: jsonwebtoken::Header,
    ) -> Result<Map<String, Value>, VerifyError> {
        if !self.algorithms.contains(&header.alg) {
            return Err(VerifyError::AlgorithmNotAllowed);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let mut keys = self.current_keys();
        if !keys.0.contains_key(&kid) {
            self.refresh_for(&kid).await;
            keys = self.current_keys();
        }
        let (key_alg, key) = keys.0.get(&kid).ok_or(VerifyError::UnknownKey)?;
        // Algorithm confusion: a key that names its algorithm verifies only that one.
        if key_alg.as_ref().is_some_and(|a| *a != format!("{:?}", header.alg)) {
            return Err(VerifyError::AlgorithmNotAllowed);
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(decode::<Map<String, Value>>(token, key, &validation).map_err(refusal)?.claims)
    }

    fn current_keys(&self) -> Arc<Keys> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Refetches the JWKS for an unknown `kid`, unless another task just did or the last
    /// refetch was less than the minimum interval ago.
    async fn refresh_for(&self, kid: &str) {
        let mut last = self.last_refresh.lock().await;
        if self.current_keys().0.contains_key(kid) {
            return;
        }
        if last.is_some_and(|t| t.elapsed() < self.min_refresh_interval) {
            return;
        }
        *last = Some(Instant::now());
        if let Ok(keys) = fetch_jwks(&self.http, &self.jwks_uri).await {
            self.refreshes.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut k) = self.keys.write() {
                *k = Arc::new(Keys::parse(&keys));
            }
        }
    }
}

/// The typed view of a token's claims (from the JWT, or an introspection answer).
pub(crate) fn access_token(claims: Map<String, Value>) -> AccessToken {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    AccessToken {
        subject: text("sub").unwrap_or_default(),
        client_id: text("client_id"),
        scopes: text("scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        expires_at: claims.get("exp").and_then(Value::as_i64).unwrap_or_default(),
        claims,
    }
}

/// An HTTP client for the provider, and its discovery document (OIDC Discovery, else RFC
/// 8414), whose `issuer` must be `issuer` (OIDC Discovery §4.3).
pub(crate) async fn discovery(issuer: &str) -> Result<(reqwest::Client, Map<String, Value>), Error> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let base = issuer.trim_end_matches('/');
    let mut metadata = None;
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        if let Ok(Value::Object(doc)) = fetch_json(&http, &format!("{base}{path}")).await {
            metadata = Some(doc);
            break;
        }
    }
    let url = format!("{base}/.well-known/openid-configuration");
    let metadata = metadata.ok_or(Error::Fetch { url, detail: "no discovery document".into() })?;
    let found = metadata.get("issuer").and_then(Value::as_str).unwrap_or_default();
    if found != issuer {
        return Err(Error::IssuerMismatch { expected: issuer.to_owned(), found: found.to_owned() });
    }
    Ok((http, metadata))
}

fn is_hmac(a: Algorithm) -> bool {
    matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

fn refusal(e: jsonwebtoken::errors::Error) -> VerifyError {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => VerifyError::Expired,
        K::ImmatureSignature => VerifyError::NotYetValid,
        K::InvalidIssuer => VerifyError::WrongIssuer,
        K::InvalidAudience => VerifyError::WrongAudience,
        K::InvalidSignature => VerifyError::BadSignature,
        K::InvalidAlgorithm => VerifyError::AlgorithmNotAllowed,
        K::MissingRequiredClaim(c) => VerifyError::Invalid(format!("the {c} claim is missing")),
        _ => VerifyError::Invalid(e.to_string()),
    }
}

async fn fetch_json(http: &reqwest::Client, url: &str) -> Result<Value, Error> {
    let fail = |detail: String| Error::Fetch { url: url.to_owned(), detail };
    let r = http.get(url).send().await.map_err(|e| fail(e.to_string()))?;
    if !r.status().is_success() {
        return Err(fail(format!("status {}", r.status())));
    }
    r.json().await.map_err(|e| fail(e.to_string()))
}

async fn fetch_jwks(http: &reqwest::Client, url: &str) -> Result<JwkSet, Error> {
    let doc = fetch_json(http, url).await?;
    serde_json::from_value(doc).map_err(|e| Error::Invalid(format!("{url} is not a JWK set: {e}")))
}
