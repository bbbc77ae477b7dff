//! Configuration (DESIGN.md §2, STYLE.md rule 10): defaults → TOML or JSON file (chosen by
//! extension) → `GATEHOUSE_*` environment → command-line flags, then [`Config::validate`] into a
//! [`ValidConfig`]. Every problem is reported at once, naming the file, the entry and the key.
//! Nothing starts on a bad config.

use crate::issuer::Lifetimes;
use crate::throttle::ThrottlePolicy;
use figment::Figment;
use figment::providers::{Env, Format, Json, Serialized, Toml};
use gatehouse_protocol::claims::{ScopeDefinition, ScopeSpec, builtin_scopes, is_gatehouse_scope};
use gatehouse_protocol::client::{ClientSpec, FieldError, ValidClient};
use gatehouse_protocol::grant::{GrantSet, GrantType};
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::resource::{ResourceDefinition, ResourceSpec, check_client_resources};
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::user::{UserSpec, ValidUser};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "sqlite://gatehouse-data/gatehouse.db";
const DEFAULT_REGISTRATION_SCOPES: &str = "openid profile email address phone offline_access";
const DEFAULT_REGISTRATION_GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// The configuration as written: every key optional, defaults applied by `validate`.
///
/// The doc comments and `schema` attributes here are the configuration reference
/// (`gatehouse config-reference`, `docs/src/reference/config.md`): say what a key means, its
/// unit and its allowed values; `default` is the value `validate` applies when it is absent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version of this file; only 1 exists.
    #[serde(default)]
    #[schema(default = 1, minimum = 1, maximum = 1)]
    pub version: Option<u32>,
    /// The issuer identifier (OIDC Discovery §2): the URL in every token's `iss` and the base of
    /// every endpoint in discovery. `https://` in production; `http://` is accepted on loopback
    /// hosts only without a warning. Default: `http://` and the `listen` address.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The address and port to listen on, such as `0.0.0.0:8080` or `[::]:8080`.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_LISTEN))]
    pub listen: Option<String>,
    /// The store: `sqlite://PATH` (file and folder created if missing) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` with libpq's `sslmode` (and `sslrootcert`)
    /// parameters.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_DATABASE))]
    pub database: Option<String>,
    #[serde(default)]
    pub tokens: TokensConfig,
    /// How often (seconds) each node re-reads the signing keys, to pick up rotations.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_KEY_RELOAD_INTERVAL), minimum = 1, maximum = 3600)]
    pub key_reload_interval: Option<u64>,
    /// Rotate signing keys automatically once a key has signed for this many seconds (e.g.
    /// 7776000 for 90 days). Off when absent.
    #[serde(default)]
    #[schema(minimum = 3600)]
    pub key_rotation_interval: Option<i64>,
    /// How often (seconds) expired codes, tokens, sessions and retired keys are deleted.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_CLEANUP_INTERVAL), minimum = 1, maximum = 86_400)]
    pub cleanup_interval: Option<u64>,
    /// Reverse proxies (addresses or CIDRs such as `10.0.0.0/8` or `::1`) whose `Forwarded` /
    /// `X-Forwarded-For` name the client; from any other peer those headers are ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Seconds between re-reads of the scopes (changes made on other nodes).
    #[serde(default)]
    #[schema(default = json!(DEFAULT_CATALOG_RELOAD_INTERVAL), minimum = 1, maximum = 3600)]
    pub catalog_reload_interval: Option<u64>,
    /// Seconds a client or user read from the store is reused before it is read again (changes
    /// made on other nodes arrive within it; this node's own changes at once); 0 turns it off.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_CACHE_TTL), minimum = 0, maximum = 3600)]
    pub cache_ttl: Option<u64>,
    #[serde(default)]
    pub registration: RegistrationConfig,
    #[serde(default)]
    pub cimd: CimdConfig,
    #[serde(default)]
    pub dpop: DpopConfig,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default)]
    pub par: ParConfig,
    #[serde(default)]
    pub secrets: SecretsConfig,
    #[serde(default)]
    pub factors: FactorsConfig,
    #[serde(default)]
    pub throttle: ThrottleConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub database_pool: DatabasePoolConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub console: ConsoleConfig,
    #[serde(default)]
    pub theme: ThemeConfig,
    /// A folder of templates (login.html, consent.html, error.html, form_post.html, base.html,
    /// gatehouse.css) replacing the built-in ones of the same name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub templates: Option<PathBuf>,
    /// Clients applied at every start (created or updated; never deleted).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub clients: Vec<ClientSpec>,
    /// Users applied at every start (created or updated; never deleted).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub users: Vec<UserSpec>,
    /// Custom scopes applied at every start (created or updated; never deleted).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub scopes: Vec<ScopeSpec>,
    /// Resource servers (RFC 8707) applied at every start (created or updated; never deleted).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub resources: Vec<ResourceSpec>,
    /// Identity providers users may sign in with (OpenID Connect, OAuth 2.0, or the `github`
    /// and `google` presets), shown as buttons on the sign-in page.
    #[serde(default)]
    #[schema(value_type = Vec<UpstreamSpec>)]
    pub upstreams: Vec<UpstreamSpec>,
    /// What the sign-in page offers.
    #[serde(default)]
    pub login: LoginConfig,
    /// An LDAP directory that checks the passwords of people who have none here.
    #[serde(default)]
    pub ldap: LdapConfig,
    /// Authentication context classes (`acr`), lowest first; each is met by a sign-in that used
    /// any of its `amr` methods (RFC 8176). Absent: `pwd` (a password or anything stronger)
    /// and `mfa` (more than one factor).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub acr_levels: Vec<AcrLevelConfig>,
    /// Where the file part came from, for messages.
    #[serde(skip)]
    #[schema(ignore)]
    pub source: Option<PathBuf>,
}

/// The configuration's JSON Schema, for the reference (`gatehouse config-reference`): `Config`
/// first, then each table it refers to (`TokensConfig`, ...), by name.
pub fn schema() -> Vec<(String, serde_json::Value)> {
    use utoipa::{PartialSchema, ToSchema};
    let json = |s| serde_json::to_value(s).unwrap_or_default();
    let mut nested = Vec::new();
    Config::schemas(&mut nested);
    std::iter::once(("Config".to_owned(), json(Config::schema())))
        .chain(nested.into_iter().map(|(name, s)| (name, json(s))))
        .collect()
}

const DEFAULT_KEY_RELOAD_INTERVAL: u64 = 60;
const DEFAULT_CLEANUP_INTERVAL: u64 = 300;
const DEFAULT_CATALOG_RELOAD_INTERVAL: u64 = 5;
const DEFAULT_CACHE_TTL: u64 = 5;

/// `[tokens]`: the token format and the server-wide lifetimes, in seconds (1 to 31622400, a
/// year). A client may override each lifetime.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    /// Algorithm for JWT access tokens: RS256, PS256, ES256 or EdDSA. RS256 has the widest
    /// resource-server support. A client may choose its own.
    #[serde(default)]
    #[schema(default = "RS256")]
    pub access_token_signed_response_alg: Option<String>,
    /// Authorization codes: single use, within this.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().code), minimum = 1, maximum = 31_622_400)]
    pub authorization_code_ttl: Option<i64>,
    /// Access tokens.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().access_token), minimum = 1, maximum = 31_622_400)]
    pub access_token_ttl: Option<i64>,
    /// ID tokens.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().id_token), minimum = 1, maximum = 31_622_400)]
    pub id_token_ttl: Option<i64>,
    /// A refresh token unused this long expires (each refresh issues a new one).
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().refresh_idle), minimum = 1, maximum = 31_622_400)]
    pub refresh_token_idle_ttl: Option<i64>,
    /// A refresh token family ends this long after the sign-in, however often refreshed.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().refresh_absolute), minimum = 1, maximum = 31_622_400)]
    pub refresh_token_absolute_ttl: Option<i64>,
    /// The sign-in session (the browser's SSO cookie).
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().session), minimum = 1, maximum = 31_622_400)]
    pub session_ttl: Option<i64>,
    /// Device codes (RFC 8628): the user has this long to enter the user code.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().device_code), minimum = 1, maximum = 31_622_400)]
    pub device_code_ttl: Option<i64>,
    /// The least interval, in seconds, between a device's polls of the token endpoint.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().device_poll_interval), minimum = 1, maximum = 31_622_400)]
    pub device_poll_interval: Option<i64>,
    /// Seconds during which a just-rotated refresh token presented again by the same client
    /// gets the same successor instead of revoking the family (two tabs, a lost response);
    /// 0 for never.
    #[serde(default)]
    #[schema(default = json!(Lifetimes::default().refresh_reuse_grace), minimum = 0, maximum = 300)]
    pub refresh_token_reuse_grace: Option<i64>,
}

/// `[limits]`: connection limits against slow and greedy clients.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Open connections at most; at it a new one closes the one idle longest.
    /// Lowered at start to what the process's open-file limit allows.
    #[serde(default)]
    #[schema(default = json!(Limits::default().max_connections), minimum = 1, maximum = 1_000_000)]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send its request head (slowloris).
    #[serde(default)]
    #[schema(default = json!(Limits::default().header_read_timeout.as_secs()), minimum = 1, maximum = 300)]
    pub header_read_timeout: Option<u64>,
    /// Largest request head (request line and headers) in bytes; larger gets 431.
    #[serde(default)]
    #[schema(default = json!(Limits::default().max_header_bytes), minimum = 8192, maximum = 1_048_576)]
    pub max_header_bytes: Option<usize>,
}

/// `[database_pool]`: the connections each node keeps to the database.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabasePoolConfig {
    /// Connections at most (per node). Default 16 on PostgreSQL, 8 on SQLite.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub max_connections: Option<u32>,
    /// Seconds a request keeps trying to get a working connection (refused connections and a
    /// database that is starting are retried with backoff) before it is answered 503.
    #[serde(default)]
    #[schema(default = json!(gatehouse_store::PoolOptions::default().acquire_timeout.as_secs()), minimum = 1, maximum = 300)]
    pub acquire_timeout: Option<u64>,
    /// Seconds a statement may run before PostgreSQL cancels it (503); 0 for no limit. Two seconds past it without any answer, the connection is presumed dead (packets
    /// dropped), closed, and the request answered 503. Not applicable to SQLite.
    #[serde(default)]
    #[schema(default = json!(gatehouse_store::PoolOptions::default().statement_timeout.map_or(0, |t| t.as_secs())), maximum = 3600)]
    pub statement_timeout: Option<u64>,
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `false` removes `/metrics` (404).
    #[serde(default)]
    #[schema(default = true)]
    pub enabled: Option<bool>,
    /// When set, `/metrics` wants `Authorization: Bearer <token>`. Open when
    /// absent.
    #[serde(default)]
    #[schema(min_length = 16)]
    pub token: Option<String>,
}

/// `[console]`: the admin console at `/admin`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// `false` removes `/admin` (the admin API stays).
    #[serde(default)]
    #[schema(default = true)]
    pub enabled: Option<bool>,
}

/// `[theme]`: the sign-in pages in an organisation's colours, with its logo. Colours are
/// `#rrggbb` or `#rgb` and are checked against WCAG AA contrast (4.5:1): `accent_text` on
/// `accent`, `text` on the white card.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeConfig {
    /// A PNG, SVG, JPEG or WebP file (at most 256 KiB), shown above each page's heading.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub logo: Option<PathBuf>,
    /// The logo's text alternative (its organisation's name). Required with `logo`.
    #[serde(default)]
    pub logo_alt: Option<String>,
    /// Buttons and links.
    #[serde(default)]
    #[schema(default = "#1f5fbf")]
    pub accent: Option<String>,
    /// Text on buttons.
    #[serde(default)]
    #[schema(default = "#ffffff")]
    pub accent_text: Option<String>,
    /// The page behind the card.
    #[serde(default)]
    #[schema(default = "#f4f5f7")]
    pub background: Option<String>,
    /// The text.
    #[serde(default)]
    #[schema(default = "#1b1f24")]
    pub text: Option<String>,
}

impl ThemeConfig {
    fn validate(&self, file: &str, errs: &mut Vec<String>) -> crate::theme::Theme {
        let mut theme = crate::theme::Theme::default();
        // Each setting and the stylesheet's custom property it sets.
        let mut colour = |key: &'static str, css_var: &'static str, value: &Option<String>| {
            let v = value.as_deref()?;
            match parse_colour(v) {
                Some(rgb) => {
                    theme.colours.push((css_var, v.to_owned()));
                    Some(rgb)
                }
                None => {
                    errs.push(format!("{file}: theme.{key}: {v:?} is not a colour (#rrggbb or #rgb)"));
                    None
                }
            }
        };
        const DEFAULT_ACCENT: [u8; 3] = [0x1f, 0x5f, 0xbf];
        let accent = colour("accent", "--accent", &self.accent);
        let accent_text = colour("accent_text", "--accent-fg", &self.accent_text);
        let _ = colour("background", "--bg", &self.background);
        let text = colour("text", "--fg", &self.text);
        let white = [255, 255, 255];
        for (what, fg, bg) in [
            ("theme.accent_text on theme.accent", accent_text.unwrap_or(white), accent.unwrap_or(DEFAULT_ACCENT)),
            ("theme.text on the white card", text.unwrap_or([0x1b, 0x1f, 0x24]), white),
        ] {
            let ratio = contrast(fg, bg);
            if ratio < 4.5 {
                errs.push(format!("{file}: {what}: contrast {ratio:.2}:1; pages need at least 4.5:1 (WCAG AA)"));
            }
        }
        if let Some(path) = &self.logo {
            let kind = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("png") => Some("image/png"),
                Some("svg") => Some("image/svg+xml"),
                Some("jpg" | "jpeg") => Some("image/jpeg"),
                Some("webp") => Some("image/webp"),
                _ => None,
            };
            match (kind, std::fs::read(path)) {
                (None, _) => {
                    errs.push(format!("{file}: theme.logo: {} is not .png, .svg, .jpg or .webp", path.display()))
                }
                (_, Err(e)) => errs.push(format!("{file}: theme.logo: {}: {e}", path.display())),
                (Some(_), Ok(bytes)) if bytes.len() > 256 * 1024 => {
                    errs.push(format!("{file}: theme.logo: {} is over 256 KiB", path.display()))
                }
                (Some(kind), Ok(bytes)) => theme.logo = Some((bytes::Bytes::from(bytes), kind)),
            }
            match self.logo_alt.as_deref().map(str::trim) {
                Some(alt) if !alt.is_empty() => theme.logo_alt = alt.to_owned(),
                _ => errs.push(format!("{file}: theme.logo_alt: say what the logo shows (its organisation's name)")),
            }
        }
        theme
    }
}

/// `#rrggbb` or `#rgb` as red, green, blue.
fn parse_colour(v: &str) -> Option<[u8; 3]> {
    let hex = v.strip_prefix('#')?;
    let digits: Vec<u8> =
        hex.chars().map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok())).collect::<Option<_>>()?;
    match digits.as_slice() {
        [r, g, b] => Some([r * 17, g * 17, b * 17]),
        [r1, r2, g1, g2, b1, b2] => Some([r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2]),
        _ => None,
    }
}

/// WCAG 2.1 contrast ratio of two sRGB colours.
fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let luminance = |c: [u8; 3]| {
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.039_28 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `[throttle]`: brute-force back-off on sign-in and client authentication. After the free
/// failures, each further failure doubles the wait from `first_delay` up to `max_delay`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failures per account (user or client) before waits begin.
    #[serde(default)]
    #[schema(default = json!(ThrottlePolicy::default().free_failures), minimum = 1, maximum = 1000)]
    pub free_failures: Option<i64>,
    /// Failures per client address before waits begin.
    #[serde(default)]
    #[schema(default = json!(ThrottlePolicy::default().free_failures_per_ip), minimum = 1, maximum = 100_000)]
    pub free_failures_per_ip: Option<i64>,
    /// The first wait, in seconds.
    #[serde(default)]
    #[schema(default = json!(ThrottlePolicy::default().first_delay), minimum = 1, maximum = 3600)]
    pub first_delay: Option<i64>,
    /// The longest wait, in seconds.
    #[serde(default)]
    #[schema(default = json!(ThrottlePolicy::default().max_delay), minimum = 1, maximum = 86_400)]
    pub max_delay: Option<i64>,
    /// Seconds after which failures are forgotten.
    #[serde(default)]
    #[schema(default = json!(ThrottlePolicy::default().window), minimum = 60, maximum = 2_592_000)]
    pub window: Option<i64>,
}

/// `[registration]`: dynamic client registration (RFC 7591) and management (RFC 7592).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Off by default: anyone who can reach `/register` could create clients.
    #[serde(default)]
    pub enabled: bool,
    /// When set, `/register` requires it as a bearer token (RFC 7591 §3); open otherwise.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub initial_access_token: Option<Secret>,
    /// The scopes a registered client may be given (space separated). `gatehouse:admin` and
    /// `gatehouse:provision` can never be registered.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_REGISTRATION_SCOPES))]
    pub allowed_scopes: Option<String>,
    /// The grants a registered client may use. `password` is refused whatever this says.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_REGISTRATION_GRANTS))]
    pub allowed_grants: Option<Vec<String>>,
}

/// `[cimd]`: client ID metadata documents (draft-ietf-oauth-client-id-metadata-document). A
/// `client_id` that is an https URL is fetched as the client's metadata document, through the
/// SSRF-safe fetcher (public addresses only, no redirects, 5 KiB, 5 s), and cached as its
/// `Cache-Control` says, from one minute to a day.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CimdConfig {
    /// Off by default: on, any website can be a client of this server without registering.
    #[serde(default)]
    pub enabled: bool,
    /// The hosts whose documents are accepted (`app.example.com`, or `*.example.com` for its
    /// subdomains); any host when empty.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// The scopes such a client may be given (space separated); a document's `scope` is
    /// narrowed to these. `gatehouse:admin` and `gatehouse:provision` can never be.
    #[serde(default)]
    #[schema(default = json!(DEFAULT_REGISTRATION_SCOPES))]
    pub allowed_scopes: Option<String>,
    /// For tests only: accept documents on loopback addresses (and over plain `http` there).
    #[serde(default)]
    pub allow_loopback: bool,
    /// A PEM file of certificate authorities trusted for fetching documents besides the public
    /// ones (a private CA's; tests).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ca_file: Option<PathBuf>,
}

/// `[dpop]`: sender-constrained tokens (RFC 9449). A token request with a `DPoP` proof gets
/// tokens bound to its key; a client with `dpop_bound_access_tokens` must always send one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DpopConfig {
    /// Require a server nonce in every proof (RFC 9449 §8): a proof without a fresh one is
    /// answered `use_dpop_nonce` with the nonce in `DPoP-Nonce`. Proofs made ahead of time
    /// then stop working after five to ten minutes.
    #[serde(default)]
    pub require_nonce: bool,
}

/// `[fetch]`: documents Gatehouse fetches from URLs clients choose — their `jwks_uri`,
/// `request_uri` and `sector_identifier_uri` — always through the SSRF-safe fetcher: https only,
/// public addresses only, no redirects, 64 KiB, 5 s.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// For tests only: allow loopback addresses (and plain `http` to them).
    #[serde(default)]
    pub allow_loopback: bool,
    /// A PEM file of certificate authorities trusted besides the public ones (a private CA's;
    /// tests).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ca_file: Option<PathBuf>,
}

/// `[par]`: pushed authorization requests (RFC 9126). `/par` always exists; clients may push
/// their requests there and send only the reference to `/authorize`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParConfig {
    /// Every client must push its authorization requests (RFC 9126 §5
    /// `require_pushed_authorization_requests`); one client alone can be made to with its own
    /// `require_pushed_authorization_requests`.
    #[serde(default)]
    pub required: bool,
}

/// `[secrets]`: the key that seals the client secrets Gatehouse must use as keys (HS256 ID
/// tokens, `client_secret_jwt`). Keep it out of the database's backups, as you would a TLS key.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// 32 random bytes, base64 (`openssl rand -base64 32`); best given as
    /// `GATEHOUSE_SECRETS__SEALING_KEY`. Without it, clients with `client_secret_jwt` or HS256
    /// ID tokens are refused. Changing it makes their stored secrets unusable.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub sealing_key: Option<Secret>,
}

/// `[factors]`: second factors at sign-in. A user who has enrolled one (an authenticator app) is
/// asked for it at every sign-in; TOTP secrets are sealed under `[secrets] sealing_key`, so
/// TOTP needs that key.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorsConfig {
    /// `optional`: users choose to enrol a second factor on their account page; `required`:
    /// every user must have one, and a user without one enrols one at their next sign-in. A
    /// client can require one of its own users with `require_second_factor`.
    #[serde(default)]
    #[schema(default = "optional")]
    pub second_factor: Option<String>,
    /// The name authenticator apps show for this deployment's accounts. Default: the issuer's
    /// host. Passkey prompts show it too.
    #[serde(default)]
    pub totp_label: Option<String>,
    /// Passkeys (WebAuthn): users add them on their account page and use them as a second
    /// factor or to sign in without a password. On by default when the issuer is on a domain
    /// name (browsers refuse WebAuthn for IP addresses); `false` turns them off.
    #[serde(default)]
    #[schema(default = true)]
    pub passkeys: Option<bool>,
    /// The WebAuthn relying party id passkeys are bound to: the issuer's host (the default) or
    /// a parent domain of it (`example.com` for `https://login.example.com`), which lets other
    /// sites of that domain use the same passkeys. It cannot be changed later without every
    /// user's passkeys stopping to work.
    #[serde(default)]
    pub passkey_rp_id: Option<String>,
}

/// One `[[acr_levels]]` entry.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcrLevelConfig {
    /// The `acr` value: what clients ask for in `acr_values` and find in ID tokens.
    pub name: String,
    /// The `amr` methods (RFC 8176: `pwd`, `otp`, `hwk`, `swk`, `fed`, `mfa`, ...) any one of
    /// which meets this level.
    pub amr: Vec<String>,
}

pub use crate::fetch::ClientFetchPolicy;

/// Client ID metadata document policy, validated.
#[derive(Debug, Clone, Default)]
pub struct CimdPolicy {
    pub enabled: bool,
    pub allowed_domains: Vec<String>,
    pub allowed_scopes: ScopeSet,
    pub allow_loopback: bool,
    /// The certificates of `ca_file`.
    pub extra_roots: Vec<reqwest::Certificate>,
}

/// Dynamic registration policy, validated.
#[derive(Debug, Clone, Default)]
pub struct RegistrationPolicy {
    pub enabled: bool,
    pub initial_access_token: Option<Secret>,
    pub allowed_scopes: ScopeSet,
    pub allowed_grants: GrantSet,
}

/// Values from command-line flags, the highest layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// A configuration that passed validation; the only kind the server accepts.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    pub issuer: String,
    pub listen: SocketAddr,
    pub database: String,
    pub access_token_alg: SigningAlg,
    pub lifetimes: crate::issuer::Lifetimes,
    pub key_reload_interval: u64,
    pub key_rotation_interval: Option<i64>,
    pub cleanup_interval: u64,
    pub catalog_reload_interval: u64,
    pub cache_ttl: u64,
    pub database_pool: gatehouse_store::PoolOptions,
    /// `None`: no `/metrics`; `Some(None)`: open; `Some(Some(token))`: behind a bearer token.
    pub metrics: Option<Option<String>>,
    /// Whether the admin console is served at `/admin`.
    pub console: bool,
    pub theme: crate::theme::Theme,
    pub registration: RegistrationPolicy,
    pub cimd: CimdPolicy,
    pub dpop_require_nonce: bool,
    pub fetch: ClientFetchPolicy,
    pub par_required: bool,
    pub acr: gatehouse_protocol::acr::AcrPolicy,
    pub factors: crate::factors::FactorPolicy,
    /// The identity providers users may sign in with.
    pub upstreams: Vec<gatehouse_protocol::upstream::Upstream>,
    /// The sign-in page offers the password form (`[login] password`).
    pub password_login: bool,
    /// The LDAP directory that checks passwords (`[ldap]`).
    pub directory: Option<crate::directory::DirectoryPolicy>,
    /// `[secrets] sealing_key`, decoded.
    pub sealing_key: Option<[u8; 32]>,
    pub throttle: crate::throttle::ThrottlePolicy,
    pub limits: Limits,
    /// Peers whose forwarding headers are believed (`trusted_proxies`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub templates: Option<PathBuf>,
    pub clients: Vec<ValidClient>,
    pub users: Vec<ValidUser>,
    pub scopes: Vec<ScopeDefinition>,
    pub resources: Vec<ResourceDefinition>,
    pub source: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// Connection-level limits against slow and greedy clients (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; at it a new one closes the one idle longest (or waits while
    /// all are busy).
    pub max_connections: usize,
    /// A client must send its whole request head within this (slowloris).
    pub header_read_timeout: std::time::Duration,
    /// Largest request head (request line and headers), in bytes: larger gets 431.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: std::time::Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
        }
    }
}

/// File descriptors kept back from connections: the database pool, `LISTEN`, SQLite's files,
/// the templates, the log.
pub const RESERVED_DESCRIPTORS: usize = 256;

impl Limits {
    /// The limits with `max_connections` lowered, if needed, to what `open_files` (the process's
    /// `RLIMIT_NOFILE`) leaves after [`RESERVED_DESCRIPTORS`]: beyond it accepting would fail
    /// with "too many open files" and nobody would be served. Returns why it was lowered.
    pub fn fitted_to(self, open_files: u64) -> (Self, Option<String>) {
        let room = usize::try_from(open_files).unwrap_or(usize::MAX).saturating_sub(RESERVED_DESCRIPTORS).max(1);
        if self.max_connections <= room {
            return (self, None);
        }
        let why = format!(
            "limits.max_connections lowered from {} to {room}: the process may open {open_files} files \
             (RLIMIT_NOFILE; raise it with LimitNOFILE= in the systemd unit or ulimit -n)",
            self.max_connections
        );
        (Self { max_connections: room, ..self }, Some(why))
    }
}

/// Every problem found, each on its own line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem{}):", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Environment keys that are not configuration (`GATEHOUSE_CONFIG` names the file; test and
/// logging variables belong to other layers).
fn is_config_env_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    !(key == "config" || key == "log" || key == "log_format" || key.starts_with("test_"))
}

impl Config {
    /// Loads the layers. `file` is read as JSON when it ends in `.json`, TOML otherwise.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut fig = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(vec![format!("{}: no such file", path.display())]));
            }
            fig = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
                fig.merge(Json::file_exact(path))
            } else {
                fig.merge(Toml::file_exact(path))
            };
        }
        Self::extract(fig, file, overrides)
    }

    /// Loads from TOML text (tests and embedding), with environment and overrides on top.
    pub fn from_toml_str(toml: &str, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::extract(Figment::new().merge(Toml::string(toml)), None, overrides)
    }

    fn extract(fig: Figment, file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let fig = fig
            .merge(Env::prefixed("GATEHOUSE_").split("__").filter(|k| is_config_env_key(k.as_str())))
            .merge(Serialized::defaults(overrides));
        let mut cfg: Config = fig
            .extract()
            .map_err(|e| ConfigError(e.into_iter().map(|e| describe_figment_error(&e, file)).collect()))?;
        cfg.source = file.map(Path::to_path_buf);
        Ok(cfg)
    }

    /// Applies defaults and checks every entry.
    pub fn validate(&self) -> Result<ValidConfig, ConfigError> {
        let file = self.source.as_ref().map_or_else(|| "config".to_owned(), |p| p.display().to_string());
        let mut errs = Vec::new();
        let mut warnings = Vec::new();

        if let Some(v) = self.version
            && v != 1
        {
            errs.push(format!("{file}: version: {v} is not a known config version (this Gatehouse reads 1)"));
        }

        let listen_raw = self.listen.clone().unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_raw.parse::<SocketAddr>().map_err(|_| {
            errs.push(format!("{file}: listen: {listen_raw:?} is not an address:port such as 127.0.0.1:8080"))
        });
        let issuer = self.issuer.clone().unwrap_or_else(|| format!("http://{listen_raw}"));
        if let Err(m) = check_issuer(&issuer) {
            errs.push(format!("{file}: issuer: {m}"));
        } else if issuer.starts_with("http://") && !is_loopback_issuer(&issuer) {
            warnings.push(format!(
                "issuer {issuer} is plain http on a non-loopback host; OpenID Connect requires https in production"
            ));
        }
        let database = self.database.clone().unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        if let Err(e) = gatehouse_store::Backend::from_url(&database) {
            errs.push(format!("{file}: database: {e}"));
        }
        let access_token_alg = match self.tokens.access_token_signed_response_alg.as_deref() {
            None => SigningAlg::RS256,
            Some(raw) => SigningAlg::parse(raw).unwrap_or_else(|| {
                errs.push(format!(
                    "{file}: tokens.access_token_signed_response_alg: unknown algorithm {raw:?}; supported: {}",
                    SigningAlg::names()
                ));
                SigningAlg::RS256
            }),
        };

        let mut lifetimes = crate::issuer::Lifetimes::default();
        let t = &self.tokens;
        for (key, value, slot) in [
            ("authorization_code_ttl", t.authorization_code_ttl, &mut lifetimes.code),
            ("access_token_ttl", t.access_token_ttl, &mut lifetimes.access_token),
            ("id_token_ttl", t.id_token_ttl, &mut lifetimes.id_token),
            ("refresh_token_idle_ttl", t.refresh_token_idle_ttl, &mut lifetimes.refresh_idle),
            ("refresh_token_absolute_ttl", t.refresh_token_absolute_ttl, &mut lifetimes.refresh_absolute),
            ("session_ttl", t.session_ttl, &mut lifetimes.session),
            ("device_code_ttl", t.device_code_ttl, &mut lifetimes.device_code),
            ("device_poll_interval", t.device_poll_interval, &mut lifetimes.device_poll_interval),
        ] {
            match value {
                None => {}
                Some(v) if (1..=366 * 86400).contains(&v) => *slot = v,
                Some(v) => {
                    errs.push(format!("{file}: tokens.{key}: {v} is not a number of seconds from 1 to 31622400"))
                }
            }
        }
        match t.refresh_token_reuse_grace {
            Some(v) if gatehouse_protocol::client::REUSE_GRACE_RANGE.contains(&v) => lifetimes.refresh_reuse_grace = v,
            Some(v) => errs.push(format!(
                "{file}: tokens.refresh_token_reuse_grace: {v} is not a number of seconds from 0 to 300"
            )),
            None => {}
        }
        let trusted_proxies: Vec<ipnet::IpNet> = self
            .trusted_proxies
            .iter()
            .filter_map(|p| {
                let parsed =
                    p.parse::<ipnet::IpNet>().or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
                parsed
                    .map_err(|_| {
                        errs.push(format!(
                            "{file}: trusted_proxies: {p:?} is not an address or CIDR such as 10.0.0.0/8 or ::1"
                        ))
                    })
                    .ok()
            })
            .collect();
        if let Some(r) = self.key_rotation_interval
            && r < 3600
        {
            errs.push(format!("{file}: key_rotation_interval: {r} seconds is too short; at least 3600 (an hour)"));
        }
        if let Some(dir) = &self.templates
            && !dir.is_dir()
        {
            errs.push(format!("{file}: templates: {} is not a folder", dir.display()));
        }

        let scopes = self.validate_scopes(&file, &mut errs);
        let defined: HashSet<String> = scopes.iter().map(|s| s.name.as_str().to_owned()).collect();
        let scope_defined = |s: &str| defined.contains(s);

        let registration = self.validate_registration(&file, &scope_defined, &mut errs);
        let resources = self.validate_resources(&file, &scope_defined, &mut errs);
        let cimd = self.validate_cimd(&file, &scope_defined, &mut errs);
        let acr = self.validate_acr(&file, &mut errs);
        let sealing_key = self.secrets.sealing_key.as_ref().and_then(|k| {
            use base64::Engine;
            let raw = k.expose().trim();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw));
            match bytes.ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                Some(key) => Some(key),
                None => {
                    errs.push(format!(
                        "{file}: secrets.sealing_key: must be 32 bytes in base64 (openssl rand -base64 32)"
                    ));
                    None
                }
            }
        });
        let factors = self.validate_factors(&file, &issuer, sealing_key.is_some(), &mut errs);
        let upstreams = upstreams::validate(&file, &self.upstreams, &mut errs);
        let password_login = self.login.password.unwrap_or(true);
        let directory = self.ldap.validate(&file, &mut errs);
        if !password_login && upstreams.is_empty() {
            errs.push(format!("{file}: login.password: false needs at least one [[upstreams]] to sign in with"));
        }
        // A second factor can be performed here when TOTP can be kept (the sealing key).
        let mut acr = acr;
        if sealing_key.is_some() {
            acr.available.extend(["otp", "mfa"].map(str::to_owned));
        }
        if factors.passkeys.is_some() {
            for m in ["hwk", "swk", "user", "mfa"] {
                if !acr.available.iter().any(|a| a == m) {
                    acr.available.push(m.to_owned());
                }
            }
        }
        // Signing in through a provider is a way to sign in here.
        if !upstreams.is_empty() && !acr.available.iter().any(|a| a == "fed") {
            acr.available.push("fed".to_owned());
        }
        let fetch = ClientFetchPolicy {
            allow_loopback: self.fetch.allow_loopback,
            extra_roots: read_roots(&format!("{file}: fetch.ca_file"), self.fetch.ca_file.as_deref(), &mut errs),
        };
        let mut limits = Limits::default();
        match self.limits.max_connections {
            Some(n) if !(1..=1_000_000).contains(&n) => {
                errs.push(format!("{file}: limits.max_connections: {n} is out of range (1 to 1000000)"))
            }
            Some(n) => limits.max_connections = n,
            None => {}
        }
        match self.limits.header_read_timeout {
            Some(t) if !(1..=300).contains(&t) => {
                errs.push(format!("{file}: limits.header_read_timeout: {t} is out of range (1 to 300 seconds)"))
            }
            Some(t) => limits.header_read_timeout = std::time::Duration::from_secs(t),
            None => {}
        }
        match self.limits.max_header_bytes {
            Some(b) if !(8192..=1_048_576).contains(&b) => {
                errs.push(format!("{file}: limits.max_header_bytes: {b} is out of range (8192 to 1048576)"))
            }
            Some(b) => limits.max_header_bytes = b,
            None => {}
        }
        let theme = self.theme.validate(&file, &mut errs);
        let database_pool = self.validate_pool(&file, &mut errs);
        let metrics = match (self.metrics.enabled.unwrap_or(true), &self.metrics.token) {
            (false, _) => None,
            (true, Some(t)) if t.len() < 16 => {
                errs.push(format!("{file}: metrics.token: at least 16 characters"));
                None
            }
            (true, token) => Some(token.clone()),
        };
        let mut throttle = crate::throttle::ThrottlePolicy::default();
        let t = &self.throttle;
        for (key, value, slot, range) in [
            ("free_failures", t.free_failures, &mut throttle.free_failures, 1..=1000),
            ("free_failures_per_ip", t.free_failures_per_ip, &mut throttle.free_failures_per_ip, 1..=100_000),
            ("first_delay", t.first_delay, &mut throttle.first_delay, 1..=3600),
            ("max_delay", t.max_delay, &mut throttle.max_delay, 1..=86_400),
            ("window", t.window, &mut throttle.window, 60..=30 * 86_400),
        ] {
            match value {
                None => {}
                Some(v) if range.contains(&v) => *slot = v,
                Some(v) => errs.push(format!(
                    "{file}: throttle.{key}: {v} is out of range ({} to {})",
                    range.start(),
                    range.end()
                )),
            }
        }

        let mut clients = Vec::new();
        let mut seen_clients: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, spec) in self.clients.iter().enumerate() {
            let at = format!("{file}: clients[{i}] (client_id {:?})", spec.client_id);
            if let Some(first) = seen_clients.insert(&spec.client_id, i) {
                errs.push(format!("{at}: client_id: duplicate; clients[{first}] has the same client_id"));
            }
            match spec.validate(&scope_defined) {
                Ok(v) => {
                    if let Err(fe) = check_client_resources(&v.client, &resources) {
                        errs.extend(fe.iter().map(|e| format!("{at}: {e} in [[resources]]")));
                    }
                    if let Err((key, m)) =
                        crate::sealing::check_usable(&v.client, v.secret_input.as_ref(), sealing_key.is_some())
                    {
                        errs.push(format!("{at}: {key}: {m}"));
                    }
                    clients.push(v)
                }
                Err(fe) => errs.extend(fe.iter().map(|e| format!("{at}: {e}"))),
            }
        }

        let mut users = Vec::new();
        let mut seen_names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut seen_subs: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, spec) in self.users.iter().enumerate() {
            let at = format!("{file}: users[{i}] (username {:?})", spec.username);
            if let Some(first) = seen_names.insert(&spec.username, i) {
                errs.push(format!("{at}: username: duplicate; users[{first}] has the same username"));
            }
            if let Some(sub) = &spec.sub
                && let Some(first) = seen_subs.insert(sub, i)
            {
                errs.push(format!("{at}: sub: duplicate; users[{first}] has the same sub"));
            }
            match spec.validate() {
                Ok(v) => users.push(v),
                Err(fe) => errs.extend(fe.iter().map(|e| format!("{at}: {e}"))),
            }
        }

        match listen {
            Ok(listen) if errs.is_empty() => Ok(ValidConfig {
                upstreams,
                password_login,
                directory,
                issuer,
                listen,
                database,
                access_token_alg,
                lifetimes,
                key_reload_interval: self.key_reload_interval.unwrap_or(DEFAULT_KEY_RELOAD_INTERVAL).clamp(1, 3600),
                cleanup_interval: self.cleanup_interval.unwrap_or(DEFAULT_CLEANUP_INTERVAL).clamp(1, 86_400),
                catalog_reload_interval: self
                    .catalog_reload_interval
                    .unwrap_or(DEFAULT_CATALOG_RELOAD_INTERVAL)
                    .clamp(1, 3600),
                cache_ttl: self.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL).min(3600),
                database_pool,
                metrics,
                console: self.console.enabled.unwrap_or(true),
                theme,
                registration,
                cimd,
                dpop_require_nonce: self.dpop.require_nonce,
                fetch,
                par_required: self.par.required,
                factors,
                acr,
                sealing_key,
                throttle,
                limits,
                trusted_proxies,
                key_rotation_interval: self.key_rotation_interval,
                templates: self.templates.clone(),
                clients,
                users,
                scopes,
                resources,
                source: self.source.clone(),
                warnings,
            }),
            _ => Err(ConfigError(errs)),
        }
    }

    /// Built-in scopes plus `[[scopes]]`.
    fn validate_pool(&self, file: &str, errs: &mut Vec<String>) -> gatehouse_store::PoolOptions {
        let p = &self.database_pool;
        let mut pool = gatehouse_store::PoolOptions::default();
        match p.max_connections {
            Some(n) if !(1..=1000).contains(&n) => {
                errs.push(format!("{file}: database_pool.max_connections: {n} is out of range (1 to 1000)"))
            }
            n => pool.max_connections = n,
        }
        match p.acquire_timeout {
            Some(t) if !(1..=300).contains(&t) => {
                errs.push(format!("{file}: database_pool.acquire_timeout: {t} is out of range (1 to 300 seconds)"))
            }
            Some(t) => pool.acquire_timeout = std::time::Duration::from_secs(t),
            None => {}
        }
        match p.statement_timeout {
            Some(t) if t > 3600 => {
                errs.push(format!("{file}: database_pool.statement_timeout: {t} is out of range (0 to 3600 seconds)"))
            }
            Some(0) => pool.statement_timeout = None,
            Some(t) => pool.statement_timeout = Some(std::time::Duration::from_secs(t)),
            None => {}
        }
        pool
    }

    fn validate_registration(
        &self,
        file: &str,
        scope_defined: &dyn Fn(&str) -> bool,
        errs: &mut Vec<String>,
    ) -> RegistrationPolicy {
        let r = &self.registration;
        let allowed_scopes = scope_list(
            &format!("{file}: registration.allowed_scopes"),
            r.allowed_scopes.as_deref().unwrap_or(DEFAULT_REGISTRATION_SCOPES),
            scope_defined,
            errs,
        );
        let mut allowed_grants = GrantSet::default();
        for g in r.allowed_grants.clone().unwrap_or_else(|| DEFAULT_REGISTRATION_GRANTS.map(str::to_owned).to_vec()) {
            if let Err(bad) = allowed_grants.extend_from_entry(&g) {
                errs.push(format!(
                    "{file}: registration.allowed_grants: unknown grant {bad:?}; valid grants: {}",
                    GrantType::valid_names()
                ));
            }
        }
        if allowed_grants.contains(GrantType::Password) {
            errs.push(format!(
                "{file}: registration.allowed_grants: password can never be self-registered (RFC 9700 §2.4)"
            ));
        }
        if r.initial_access_token.as_ref().is_some_and(|t| t.expose().len() < 16) {
            errs.push(format!(
                "{file}: registration.initial_access_token: too short; use at least 16 random characters"
            ));
        }
        RegistrationPolicy {
            enabled: r.enabled,
            initial_access_token: r.initial_access_token.clone(),
            allowed_scopes,
            allowed_grants,
        }
    }

    fn validate_acr(&self, file: &str, errs: &mut Vec<String>) -> gatehouse_protocol::acr::AcrPolicy {
        use gatehouse_protocol::acr::{AcrLevel, AcrPolicy};
        if self.acr_levels.is_empty() {
            return AcrPolicy::default();
        }
        let mut levels: Vec<AcrLevel> = Vec::new();
        for (i, l) in self.acr_levels.iter().enumerate() {
            let at = format!("{file}: acr_levels[{i}]");
            if l.name.is_empty() || l.name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                errs.push(format!("{at}: name: {:?} must be a non-empty value without spaces", l.name));
            } else if levels.iter().any(|o| o.name == l.name) {
                errs.push(format!("{at}: name: {:?} is listed twice", l.name));
            }
            if l.amr.is_empty() || l.amr.iter().any(|m| m.is_empty() || m.contains(' ')) {
                errs.push(format!("{at}: amr: list the methods (such as \"pwd\") that meet this level"));
            }
            levels.push(AcrLevel { name: l.name.clone(), amr: l.amr.clone() });
        }
        AcrPolicy { levels, ..AcrPolicy::default() }
    }

    fn validate_factors(
        &self,
        file: &str,
        issuer: &str,
        sealing: bool,
        errs: &mut Vec<String>,
    ) -> crate::factors::FactorPolicy {
        let required = match self.factors.second_factor.as_deref() {
            None | Some("optional") => false,
            Some("required") => true,
            Some(other) => {
                errs.push(format!("{file}: factors.second_factor: {other:?} is not \"optional\" or \"required\""));
                false
            }
        };
        if required && !sealing {
            errs.push(format!(
                "{file}: factors.second_factor: \"required\" needs [secrets] sealing_key (TOTP secrets are sealed with it)"
            ));
        }
        let totp_label = match self.factors.totp_label.as_deref().map(str::trim) {
            Some(l) if l.is_empty() || l.contains(':') || l.chars().count() > 64 => {
                errs.push(format!("{file}: factors.totp_label: 1 to 64 characters, no ':'"));
                String::new()
            }
            Some(l) => l.to_owned(),
            None => url::Url::parse(issuer)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "Gatehouse".to_owned()),
        };
        let passkeys = self.validate_passkeys(file, issuer, &totp_label, errs);
        crate::factors::FactorPolicy { required, totp_label, passkeys }
    }

    fn validate_passkeys(
        &self,
        file: &str,
        issuer: &str,
        name: &str,
        errs: &mut Vec<String>,
    ) -> Option<crate::factors::PasskeySite> {
        let f = &self.factors;
        if f.passkeys == Some(false) {
            return None;
        }
        let origin = url::Url::parse(issuer).ok()?;
        let Some(host) = origin.domain().map(str::to_owned) else {
            if f.passkeys == Some(true) || f.passkey_rp_id.is_some() {
                errs.push(format!(
                    "{file}: factors.passkeys: the issuer's host is an IP address, which browsers refuse for passkeys; use a domain name (localhost works for trying it out)"
                ));
            }
            return None;
        };
        let rp_id = f.passkey_rp_id.clone().unwrap_or(host).to_ascii_lowercase();
        let site =
            crate::factors::PasskeySite { rp_id, origin: origin.origin().ascii_serialization(), name: name.to_owned() };
        if crate::factors::passkey::relying_party(&site).is_none() {
            errs.push(format!(
                "{file}: factors.passkey_rp_id: {:?} must be the issuer's host or a domain it is under",
                site.rp_id
            ));
            return None;
        }
        Some(site)
    }

    fn validate_cimd(&self, file: &str, scope_defined: &dyn Fn(&str) -> bool, errs: &mut Vec<String>) -> CimdPolicy {
        let c = &self.cimd;
        let allowed_scopes = scope_list(
            &format!("{file}: cimd.allowed_scopes"),
            c.allowed_scopes.as_deref().unwrap_or(DEFAULT_REGISTRATION_SCOPES),
            scope_defined,
            errs,
        );
        for d in &c.allowed_domains {
            let host = d.strip_prefix("*.").unwrap_or(d);
            if host.is_empty() || url::Host::parse(host).is_err() || host.contains(['/', ':']) {
                errs.push(format!(
                    "{file}: cimd.allowed_domains: {d:?} is not a host name such as app.example.com or *.example.com"
                ));
            }
        }
        let extra_roots = read_roots(&format!("{file}: cimd.ca_file"), c.ca_file.as_deref(), errs);
        CimdPolicy {
            extra_roots,
            enabled: c.enabled,
            allowed_domains: c.allowed_domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            allowed_scopes,
            allow_loopback: c.allow_loopback,
        }
    }

    fn validate_resources(
        &self,
        file: &str,
        scope_defined: &dyn Fn(&str) -> bool,
        errs: &mut Vec<String>,
    ) -> Vec<ResourceDefinition> {
        let mut out: Vec<ResourceDefinition> = Vec::new();
        for (i, spec) in self.resources.iter().enumerate() {
            let at = format!("{file}: resources[{i}] (identifier {:?})", spec.identifier);
            match spec.validate(scope_defined) {
                Ok(d) if out.iter().any(|o| o.identifier == d.identifier) => {
                    errs.push(format!("{at}: identifier: duplicate"));
                }
                Ok(d) => out.push(d),
                Err(fe) => errs.extend(fe.iter().map(|e| format!("{at}: {e}"))),
            }
        }
        out
    }

    fn validate_scopes(&self, file: &str, errs: &mut Vec<String>) -> Vec<ScopeDefinition> {
        let mut out = builtin_scopes();
        for (i, spec) in self.scopes.iter().enumerate() {
            let at = format!("{file}: scopes[{i}] (name {:?})", spec.name);
            match spec.validate() {
                Ok(d) if out.iter().any(|s| s.name == d.name) => {
                    errs.push(format!("{at}: {}", FieldError::new("name", "duplicate scope name")));
                }
                Ok(d) => out.push(d),
                Err(fe) => errs.extend(fe.iter().map(|e| format!("{at}: {e}"))),
            }
        }
        out
    }
}

/// OIDC Discovery §3 / RFC 8414 §2: an http(s) URL with no query or fragment.
fn check_issuer(issuer: &str) -> Result<(), String> {
    let u = url::Url::parse(issuer).map_err(|_| format!("{issuer:?} is not an absolute URL"))?;
    if u.scheme() != "https" && u.scheme() != "http" {
        return Err(format!("{issuer:?} must be an https URL (http is accepted for development)"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(format!("{issuer:?} may not have a query or fragment (RFC 8414 §2)"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("{issuer:?} has no host"));
    }
    Ok(())
}

/// Whether the issuer is plain http on a loopback host, where `Secure` cookies cannot work.
pub fn is_loopback_issuer(issuer: &str) -> bool {
    url::Url::parse(issuer).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            }
    })
}

/// Renders a figment error as `file: key.path: problem`.
fn describe_figment_error(e: &figment::Error, file: Option<&Path>) -> String {
    let key = if e.path.is_empty() { String::new() } else { format!("{}: ", render_path(&e.path)) };
    let origin = match &e.metadata {
        Some(m) if m.name.contains("environment") => "environment (GATEHOUSE_*)".to_owned(),
        Some(m) if m.name.contains("Serialized") => "command line".to_owned(),
        _ => file.map_or_else(|| "config".to_owned(), |p| p.display().to_string()),
    };
    let mut kind = e.kind.to_string();
    if let figment::error::Kind::UnknownField(_, expected) = &e.kind {
        kind = format!("{kind} (allowed here: {})", expected.join(", "));
    }
    format!("{origin}: {key}{kind}")
}

/// The scopes a client nobody registered by hand may be given: defined, and never Gatehouse's
/// own management scopes. `at` prefixes the messages.
fn scope_list(at: &str, raw: &str, scope_defined: &dyn Fn(&str) -> bool, errs: &mut Vec<String>) -> ScopeSet {
    match ScopeSet::parse(raw) {
        Ok(set) => {
            for s in set.iter() {
                if is_gatehouse_scope(s.as_str()) {
                    errs.push(format!("{at}: {} can never be self-registered", s.as_str()));
                } else if !scope_defined(s.as_str()) {
                    errs.push(format!("{at}: scope {:?} is not defined", s.as_str()));
                }
            }
            set
        }
        Err(e) => {
            errs.push(format!("{at}: {e}"));
            ScopeSet::default()
        }
    }
}

/// `clients.0.grants` → `clients[0].grants`.
fn render_path(path: &[String]) -> String {
    let mut out = String::new();
    for p in path {
        if p.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{p}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(p);
        }
    }
    out
}

/// The certificates of a PEM file named by `at` (`ca_file`), if one is named.
fn read_roots(at: &str, path: Option<&std::path::Path>, errs: &mut Vec<String>) -> Vec<reqwest::Certificate> {
    let Some(path) = path else { return Vec::new() };
    match std::fs::read(path).map(|pem| reqwest::Certificate::from_pem_bundle(&pem)) {
        Ok(Ok(certs)) if !certs.is_empty() => certs,
        Ok(_) => {
            errs.push(format!("{at}: {} holds no PEM certificate", path.display()));
            Vec::new()
        }
        Err(e) => {
            errs.push(format!("{at}: {}: {e}", path.display()));
            Vec::new()
        }
    }
}

mod ldap;
mod upstreams;
pub use ldap::LdapConfig;
pub use upstreams::{LoginConfig, UpstreamSpec};

#[cfg(test)]
mod tests;
