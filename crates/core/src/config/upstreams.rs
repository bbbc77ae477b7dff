//! `[[upstreams]]` and `[login]`: the identity providers users may sign in with, and whether
//! the password form is offered beside them. Validated into
//! [`gatehouse_protocol::upstream::Upstream`], presets (`github`, `google`) applied.

use gatehouse_protocol::claims::RESERVED_CLAIMS;
use gatehouse_protocol::client::FieldError;
use gatehouse_protocol::secret::Secret;
use gatehouse_protocol::upstream::{self, ClientAuth, Kind, Upstream};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// `[login]`: what the sign-in page offers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    /// Offer the username and password form. `false`: users sign in only through the
    /// `[[upstreams]]` (or a passkey); `/login` and the device page refuse passwords (the device
    /// page sends people to their account page to sign in first); the password grant is
    /// untouched (a client must hold it).
    #[serde(default)]
    #[schema(default = true)]
    pub password: Option<bool>,
}

/// One `[[upstreams]]` entry as an operator writes it (and the admin API's body; its
/// `client_secret` is never shown back).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// A short name, part of its URLs (`/login/upstream/<id>`): lowercase letters, digits and
    /// `-`, at most 32. Changing it later orphans its users' links.
    pub id: String,
    /// `oidc` (an OpenID Connect provider: `issuer` and discovery), `oauth2` (plain OAuth 2.0:
    /// `authorization_endpoint`, `token_endpoint`, `userinfo_endpoint` and the claim mapping),
    /// or a preset: `github`, `google`.
    #[serde(default)]
    #[schema(default = "oidc")]
    pub kind: Option<String>,
    /// The button's text on the sign-in page. Default: the preset's name, or the id.
    #[serde(default)]
    pub label: Option<String>,
    /// An image for the button, shown at 20 px: an image file (`.svg`, `.png`, `.jpg`, `.webp`,
    /// `.gif`; at most 64 KiB, read at start) or a `data:image/...` URL.
    #[serde(default)]
    pub icon: Option<String>,
    /// `oidc`: the provider's issuer; its `/.well-known/openid-configuration` names the
    /// endpoints, and its ID tokens must carry exactly this `iss`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// `oauth2` (or to override discovery): where users are sent to sign in.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// `oauth2` (or to override discovery): where the code is exchanged.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// Where the user's claims are read with the access token. `oauth2`: required (the
    /// identity comes from there); `oidc`: read after the ID token when given or discovered,
    /// its `sub` checked against the ID token's.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// GitHub-style list of the user's addresses (`[{"email", "primary", "verified"}]`), read
    /// when the userinfo has no verified email. The `github` preset sets it.
    #[serde(default)]
    pub emails_endpoint: Option<String>,
    /// This server's client id at the provider.
    pub client_id: String,
    /// The client secret (keep the file readable by Gatehouse only). Not needed with
    /// `private_key_jwt`.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Option<String>, write_only)]
    pub client_secret: Option<Secret>,
    /// How this server authenticates to the provider's token endpoint: `client_secret_basic`
    /// (default with a secret), `client_secret_post`, or `private_key_jwt` (RFC 7523, signed
    /// with this server's RS256 key; register `<issuer>/jwks` as the client's `jwks_uri` at the
    /// provider).
    #[serde(default)]
    pub client_auth: Option<String>,
    /// Scopes asked for. Default: `openid email profile` (`oidc`), `read:user user:email`
    /// (`github`), none (`oauth2`).
    #[serde(default)]
    pub scopes: Option<String>,
    /// Local claim ← the provider's claim, for claims kept on users created here. Default: the
    /// standard claims under their own names (`oidc`), `preferred_username ← login`,
    /// `name ← name`, `email ← email`, `picture ← avatar_url`, `profile ← html_url`
    /// (`github`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub claims: BTreeMap<String, String>,
    /// The provider's claim that identifies its user, never reassigned. Default: `sub`, and
    /// `id` for `github`.
    #[serde(default)]
    pub subject_claim: Option<String>,
    /// The first sign-in of someone unknown here creates their user (no password; claims by
    /// the mapping). `false`: only users linked already (or by email) may sign in.
    #[serde(default)]
    #[schema(default = true)]
    pub create_users: Option<bool>,
    /// The first sign-in links to an existing user whose `email` claim is the address the
    /// provider asserts as verified. Only for providers trusted to verify addresses.
    #[serde(default)]
    pub link_by_email: bool,
    /// Keep the provider's `amr` (RFC 8176 values only) beside `fed` in this server's sign-in,
    /// so an upstream `mfa` counts here. Only for providers trusted to report it truthfully.
    #[serde(default)]
    pub trust_amr: bool,
    /// The provider is on a private network: its URLs may resolve to private addresses (RFC
    /// 1918, 100.64/10, fc00::/7), still over `https` only. Loopback and link-local addresses
    /// (cloud metadata) stay refused. Default: public addresses only.
    #[serde(default)]
    pub private_network: bool,
    /// At each sign-in of a linked user, replace the claims `claims` maps with what the
    /// provider says now (one it no longer sends is removed); other claims are kept. Default:
    /// claims are copied once, when the user is created.
    #[serde(default)]
    pub sync_claims: bool,
}

fn url_field(key: &'static str, raw: Option<&str>, errs: &mut Vec<FieldError>) -> Option<url::Url> {
    let raw = raw?;
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() && u.fragment().is_none() => Some(u),
        _ => {
            errs.push(FieldError::new(key, format!("{raw:?} is not an absolute http(s) URL without a fragment")));
            None
        }
    }
}

impl UpstreamSpec {
    /// Validates the entry and applies its preset. `http` URLs pass here; whether they may be
    /// fetched is the fetcher's policy (https only, outside tests).
    pub fn validate(&self) -> Result<Upstream, Vec<FieldError>> {
        let mut errs = Vec::new();
        if self.id.is_empty()
            || self.id.len() > 32
            || !self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            errs.push(FieldError::new("id", "must be 1 to 32 lowercase letters, digits or '-'"));
        }
        let preset = self.kind.as_deref().unwrap_or("oidc");
        let (kind, label, issuer, endpoints, scopes, subject): (
            Kind,
            &str,
            Option<&str>,
            [Option<&str>; 4],
            &str,
            &str,
        ) = match preset {
            "oidc" => (Kind::Oidc, self.id.as_str(), None, [None; 4], "openid email profile", "sub"),
            "oauth2" => (Kind::OAuth2, self.id.as_str(), None, [None; 4], "", "sub"),
            "google" => {
                (Kind::Oidc, "Google", Some("https://accounts.google.com"), [None; 4], "openid email profile", "sub")
            }
            "github" => (
                Kind::OAuth2,
                "GitHub",
                None,
                [
                    Some("https://github.com/login/oauth/authorize"),
                    Some("https://github.com/login/oauth/access_token"),
                    Some("https://api.github.com/user"),
                    Some("https://api.github.com/user/emails"),
                ],
                "read:user user:email",
                "id",
            ),
            other => {
                errs.push(FieldError::new("kind", format!("{other:?} is not oidc, oauth2, github or google")));
                (Kind::Oidc, self.id.as_str(), None, [None; 4], "", "sub")
            }
        };
        let issuer = self.issuer.clone().or_else(|| issuer.map(str::to_owned));
        if let Some(i) = &issuer
            && url_field("issuer", Some(i), &mut errs).is_some_and(|u| u.query().is_some())
        {
            errs.push(FieldError::new("issuer", "may not have a query"));
        }
        let [auth, token, userinfo, emails] = endpoints;
        let authorization_endpoint =
            url_field("authorization_endpoint", self.authorization_endpoint.as_deref().or(auth), &mut errs);
        let token_endpoint = url_field("token_endpoint", self.token_endpoint.as_deref().or(token), &mut errs);
        let userinfo_endpoint =
            url_field("userinfo_endpoint", self.userinfo_endpoint.as_deref().or(userinfo), &mut errs);
        let emails_endpoint = url_field("emails_endpoint", self.emails_endpoint.as_deref().or(emails), &mut errs);
        match kind {
            Kind::Oidc if issuer.is_none() => errs.push(FieldError::new("issuer", "an oidc provider needs its issuer")),
            Kind::OAuth2 => {
                for (key, v) in [
                    ("authorization_endpoint", &authorization_endpoint),
                    ("token_endpoint", &token_endpoint),
                    ("userinfo_endpoint", &userinfo_endpoint),
                ] {
                    if v.is_none() && !errs.iter().any(|e| e.key == key) {
                        errs.push(FieldError::new(key, "an oauth2 provider needs it"));
                    }
                }
            }
            Kind::Oidc => {}
        }
        if self.client_id.is_empty() {
            errs.push(FieldError::new("client_id", "must not be empty"));
        }
        let client_auth = match self.client_auth.as_deref() {
            None | Some("client_secret_basic") => ClientAuth::SecretBasic,
            Some("client_secret_post") => ClientAuth::SecretPost,
            Some("private_key_jwt") => ClientAuth::PrivateKeyJwt,
            Some(other) => {
                errs.push(FieldError::new(
                    "client_auth",
                    format!("{other:?} is not client_secret_basic, client_secret_post or private_key_jwt"),
                ));
                ClientAuth::SecretBasic
            }
        };
        if client_auth != ClientAuth::PrivateKeyJwt && self.client_secret.as_ref().is_none_or(|s| s.expose().is_empty())
        {
            errs.push(FieldError::new("client_secret", "needed unless client_auth is private_key_jwt"));
        }
        let scopes = self.scopes.clone().unwrap_or_else(|| scopes.to_owned());
        if kind == Kind::Oidc && !scopes.split(' ').any(|s| s == "openid") {
            errs.push(FieldError::new("scopes", "an oidc provider is asked for openid"));
        }
        let mut claims: BTreeMap<String, String> = match preset {
            "github" => [
                ("preferred_username", "login"),
                ("name", "name"),
                ("email", "email"),
                ("picture", "avatar_url"),
                ("profile", "html_url"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect(),
            _ => upstream::STANDARD.iter().map(|c| ((*c).to_owned(), (*c).to_owned())).collect(),
        };
        for (local, theirs) in &self.claims {
            if local == "email_verified" || RESERVED_CLAIMS.contains(&local.as_str()) {
                errs.push(FieldError::new("claims", format!("{local:?} cannot be mapped")));
            } else if theirs.is_empty() {
                claims.remove(local);
            } else {
                claims.insert(local.clone(), theirs.clone());
            }
        }
        let icon = self.icon.as_deref().and_then(|i| icon(i).map_err(|m| errs.push(FieldError::new("icon", m))).ok());
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Upstream {
            id: self.id.clone(),
            kind,
            label: self.label.clone().unwrap_or_else(|| label.to_owned()),
            icon,
            issuer,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            emails_endpoint,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            client_auth,
            scopes,
            claims,
            subject_claim: self.subject_claim.clone().unwrap_or_else(|| subject.to_owned()),
            create_users: self.create_users.unwrap_or(true),
            link_by_email: self.link_by_email,
            trust_amr: self.trust_amr,
            private_network: self.private_network,
            sync_claims: self.sync_claims,
        })
    }
}

/// A button's icon as a `data:` URL (the pages' `img-src` allows only those and their own).
fn icon(given: &str) -> Result<String, String> {
    use base64::Engine;
    if given.starts_with("data:image/") {
        return Ok(given.to_owned());
    }
    let path = std::path::Path::new(given);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let mime = match ext.as_str() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => return Err(format!("{given:?} is not a data:image URL or an .svg, .png, .jpg, .webp or .gif file")),
    };
    let bytes = std::fs::read(path).map_err(|e| format!("{given}: {e}"))?;
    if bytes.len() > 64 * 1024 {
        return Err(format!("{given} is larger than 64 KiB"));
    }
    Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// Validates every `[[upstreams]]` entry; problems are pushed to `errs` naming the entry.
pub(super) fn validate(file: &str, specs: &[UpstreamSpec], errs: &mut Vec<String>) -> Vec<Upstream> {
    let mut seen = HashSet::new();
    let mut valid = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let at = format!("{file}: upstreams[{i}] ({})", spec.id);
        if !seen.insert(spec.id.clone()) {
            errs.push(format!("{at}: id: another upstream has this id"));
        }
        match spec.validate() {
            Ok(u) => valid.push(u),
            Err(problems) => errs.extend(problems.into_iter().map(|p| format!("{at}: {}: {}", p.key, p.message))),
        }
    }
    valid
}
