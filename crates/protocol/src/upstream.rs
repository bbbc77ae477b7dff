//! Upstream identity providers: users sign in here with an account they have elsewhere.
//!
//! Two kinds: an OpenID Connect provider (its endpoints from discovery, the identity from its
//! ID token, verified in full: OIDC Core §3.1.3.7) and a plain OAuth 2.0 provider (the identity
//! from its userinfo endpoint, GitHub-style). `github` and `google` are presets of those. The
//! rules here are pure: what a provider's configuration must say, what an ID token must hold,
//! and how the provider's claims become this server's (the claim mapping), including when an
//! email counts as verified — only when the provider says so.

use crate::clock::UnixTime;
use crate::jose::JsonObject;
use crate::secret::Secret;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Clock skew accepted on `exp` and `iat`, in seconds.
pub const LEEWAY: i64 = 120;

/// What a provider is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// OpenID Connect: discovery, an ID token.
    Oidc,
    /// OAuth 2.0 with a userinfo endpoint.
    OAuth2,
}

/// How this server authenticates to the provider's token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    SecretBasic,
    SecretPost,
    PrivateKeyJwt,
}

/// A validated `[[upstreams]]` entry, presets applied.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub id: String,
    pub kind: Kind,
    pub label: String,
    pub icon: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<url::Url>,
    pub token_endpoint: Option<url::Url>,
    pub userinfo_endpoint: Option<url::Url>,
    pub emails_endpoint: Option<url::Url>,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub client_auth: ClientAuth,
    pub scopes: String,
    /// Local claim ← the provider's claim.
    pub claims: BTreeMap<String, String>,
    pub subject_claim: String,
    pub create_users: bool,
    pub link_by_email: bool,
    pub trust_amr: bool,
    /// Its URLs may resolve to private addresses (an administrator's choice).
    pub private_network: bool,
    /// Replace the mapped claims of a linked user with the provider's at each sign-in.
    pub sync_claims: bool,
}

/// The OIDC standard claims copied under their own names by default.
pub const STANDARD: [&str; 14] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
];

/// RFC 8176's registered `amr` values: the only ones kept from a trusted provider.
const RFC8176: [&str; 18] = [
    "face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pop", "pwd", "rba", "retina", "sc", "sms",
    "swk", "tel",
];

/// Why an upstream sign-in was refused. The text is safe to show and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the ID token's {0} is wrong")]
    IdToken(&'static str),
    #[error("the provider's answer has no usable subject")]
    NoSubject,
    #[error("the userinfo's subject is not the ID token's")]
    UserinfoSubject,
    /// The token endpoint refused the code (`invalid_grant`: used before, expired, or not
    /// issued for this PKCE verifier).
    #[error("the provider refused the code")]
    Code,
}

/// What the ID token must be: OIDC Core §3.1.3.7 (items 2, 3, 4, 9, 10, 11) and §2's `nonce`.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: UnixTime,
}

/// Checks a (signature-verified) ID token's claims.
pub fn check_id_token(claims: &JsonObject, e: &Expected<'_>) -> Result<(), Refusal> {
    let string = |k: &str| claims.get(k).and_then(Value::as_str);
    if string("iss") != Some(e.issuer) {
        return Err(Refusal::IdToken("iss"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&e.client_id) {
        return Err(Refusal::IdToken("aud"));
    }
    // Several audiences: the token must have been issued to this client (azp).
    if (audiences.len() > 1 || claims.contains_key("azp")) && string("azp") != Some(e.client_id) {
        return Err(Refusal::IdToken("azp"));
    }
    let number = |k: &str| claims.get(k).and_then(Value::as_i64);
    match number("exp") {
        Some(exp) if exp + LEEWAY > e.now => {}
        _ => return Err(Refusal::IdToken("exp")),
    }
    match number("iat") {
        Some(iat) if iat <= e.now + LEEWAY => {}
        _ => return Err(Refusal::IdToken("iat")),
    }
    // The nonce is compared as given; it is random and single-use, so timing tells nothing.
    if string("nonce") != Some(e.nonce) {
        return Err(Refusal::IdToken("nonce"));
    }
    match string("sub") {
        Some(s) if crate::user::validate_sub(s).is_ok() => Ok(()),
        _ => Err(Refusal::IdToken("sub")),
    }
}

/// Someone the provider vouches for, in this server's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The provider's subject (its `subject_claim`), as a string.
    pub subject: String,
    /// Claims for a user created here, by the mapping.
    pub claims: Map<String, Value>,
    /// An email address the provider says it verified; `None` when it did not say so.
    pub verified_email: Option<String>,
    /// RFC 8176 methods the provider reported (kept only from a `trust_amr` provider).
    pub amr: Vec<String>,
}

/// Whether a claim says "verified": `true`, or the string `"true"` some providers send.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// The provider's subject: a string or a number (GitHub's `id`).
fn subject(claims: &JsonObject, key: &str) -> Option<String> {
    let s = match claims.get(key)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    crate::user::validate_sub(&s).is_ok().then_some(s)
}

impl Upstream {
    /// The identity in `claims` (an ID token's, with userinfo's added, or userinfo's alone).
    /// `emails`: a GitHub-style list of addresses, when one was read.
    pub fn identity(&self, claims: &JsonObject, emails: Option<&Value>) -> Result<Identity, Refusal> {
        let subject = subject(claims, &self.subject_claim).ok_or(Refusal::NoSubject)?;
        let mut mapped = Map::new();
        for (local, theirs) in &self.claims {
            if let Some(v) = claims.get(theirs).filter(|v| !v.is_null()) {
                mapped.insert(local.clone(), v.clone());
            }
        }
        let email = claims.get("email").and_then(Value::as_str).filter(|e| e.contains('@'));
        let mut verified_email = email.filter(|_| truthy(claims.get("email_verified"))).map(str::to_owned);
        if verified_email.is_none()
            && let Some(Value::Array(list)) = emails
        {
            // The primary address if verified, else none: never a merely listed one.
            verified_email = list
                .iter()
                .find(|e| truthy(e.get("primary")) && truthy(e.get("verified")))
                .and_then(|e| e.get("email"))
                .and_then(Value::as_str)
                .filter(|e| e.contains('@'))
                .map(str::to_owned);
        }
        if let Some(v) = &verified_email
            && self.claims.contains_key("email")
        {
            mapped.insert("email".to_owned(), Value::String(v.clone()));
        }
        let verified =
            verified_email.is_some() && mapped.get("email").and_then(Value::as_str) == verified_email.as_deref();
        if mapped.contains_key("email") {
            mapped.insert("email_verified".to_owned(), Value::Bool(verified));
        }
        let amr = match claims.get("amr") {
            Some(Value::Array(a)) if self.trust_amr => {
                a.iter().filter_map(Value::as_str).filter(|m| RFC8176.contains(m)).map(str::to_owned).collect()
            }
            _ => Vec::new(),
        };
        Ok(Identity { subject, claims: mapped, verified_email, amr })
    }

    /// The username for a user created from `identity`: its `preferred_username` (or the local
    /// part of its email), else `<id>-<subject>`. The caller falls back on the latter when the
    /// former is taken: a name taken here never links to its holder.
    pub fn username_candidates(&self, identity: &Identity) -> Vec<String> {
        let fallback = format!("{}-{}", self.id, identity.subject);
        let wanted = identity
            .claims
            .get("preferred_username")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| identity.verified_email.clone());
        let mut names: Vec<String> = wanted
            .filter(|n| !n.is_empty() && n.len() <= 255 && !n.chars().any(|c| c.is_control() || c.is_whitespace()))
            .into_iter()
            .collect();
        names.push(fallback);
        names
    }
}

/// The `amr` of a sign-in through a provider: `fed`, then what it reported when trusted.
pub fn amr(identity: &Identity) -> Vec<String> {
    let mut amr = vec!["fed".to_owned()];
    for m in &identity.amr {
        if !amr.contains(m) {
            amr.push(m.clone());
        }
    }
    amr
}

#[cfg(test)]
mod tests;
