//! Resource indicators (RFC 8707): the APIs ("resource servers") an operator defines, which a
//! client may ask tokens for, and what a request's `resource` values make of a token's audience,
//! scope, lifetime and signing algorithm.
//!
//! A resource owns scopes. A token carries a resource-owned scope only when that resource is
//! among its audiences, so a scope means the same thing wherever the token goes; scopes no
//! resource owns (the OpenID ones, operator claims scopes) are Gatehouse's own and always kept.
//! Without `resource`, the client's default resources apply; without those, the audience is the
//! issuer, Gatehouse's own APIs (userinfo, the admin API), as before resources existed.

use crate::claims::{is_builtin_scope, is_gatehouse_scope};
use crate::client::{Client, FieldError};
use crate::error::OAuthError;
use crate::jose::SigningAlg;
use crate::scope::{Scope, ScopeSet};

/// The most `resource` values one request may carry.
pub const MAX_RESOURCES_PER_REQUEST: usize = 16;

pub use crate::resource_id::ResourceId;

/// The `resource` values of a request, parsed; a malformed one is `invalid_target` (RFC 8707 §2).
pub fn parse_requested(values: &[String]) -> Result<Vec<ResourceId>, OAuthError> {
    if values.len() > MAX_RESOURCES_PER_REQUEST {
        return Err(OAuthError::InvalidTarget("too many resource values"));
    }
    let mut out: Vec<ResourceId> = Vec::with_capacity(values.len());
    for v in values {
        let id = ResourceId::parse(v)
            .map_err(|_| OAuthError::InvalidTarget("resource must be an absolute URI without a fragment"))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A resource server as Gatehouse knows it. Its serde form is the stored document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceDefinition {
    pub identifier: ResourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The scopes that belong to this resource: a token carries them only for it.
    #[serde(default)]
    pub scopes: ScopeSet,
    /// Seconds its access tokens live; `None`: the client's or the server's lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    /// How its access tokens are signed; `None`: the client's or the server's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signing_alg: Option<SigningAlg>,
    /// Any client may ask for it (dynamically registered ones included), not only those that
    /// list it in their `resources`.
    #[serde(default)]
    pub any_client: bool,
}

impl ResourceDefinition {
    /// The spec that validates back into this definition (export, the admin API's view).
    pub fn to_spec(&self) -> ResourceSpec {
        ResourceSpec {
            identifier: self.identifier.to_string(),
            name: self.name.clone(),
            scopes: self.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            access_token_ttl: self.access_token_ttl,
            access_token_signing_alg: self.access_token_signing_alg.map(|a| a.as_str().to_owned()),
            any_client: self.any_client,
        }
    }

    /// A display name: the operator's, or the identifier.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.identifier.as_str())
    }
}

/// A resource as an operator writes it (config `[[resources]]`, the admin API, the CLI).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    pub identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_client: bool,
}

impl ResourceSpec {
    /// Validates one resource; `scope_defined` says whether a scope name exists.
    pub fn validate(&self, scope_defined: &dyn Fn(&str) -> bool) -> Result<ResourceDefinition, Vec<FieldError>> {
        let mut errs = Vec::new();
        let identifier =
            ResourceId::parse(&self.identifier).map_err(|m| errs.push(FieldError::new("identifier", m))).ok();
        if self.name.as_deref().is_some_and(|n| n.is_empty() || n.len() > 200 || n.chars().any(char::is_control)) {
            errs.push(FieldError::new("name", "must be 1 to 200 characters without control characters"));
        }
        let mut scopes = ScopeSet::default();
        for raw in &self.scopes {
            match Scope::parse(raw) {
                Ok(s) if is_builtin_scope(s.as_str()) => errs.push(FieldError::new(
                    "scopes",
                    format!("{raw:?} is Gatehouse's own scope and cannot belong to a resource"),
                )),
                Ok(s) if !scope_defined(s.as_str()) => errs.push(FieldError::new(
                    "scopes",
                    format!("scope {raw:?} is not defined; define it in [[scopes]] first"),
                )),
                Ok(s) => {
                    scopes.insert(s);
                }
                Err(e) => errs.push(FieldError::new("scopes", format!("{raw:?}: {e}"))),
            }
        }
        if let Some(t) = self.access_token_ttl
            && !crate::client::LIFETIME_RANGE.contains(&t)
        {
            errs.push(FieldError::new("access_token_ttl", "must be between 1 second and 366 days"));
        }
        let alg = match self.access_token_signing_alg.as_deref() {
            None => None,
            Some(raw) => match SigningAlg::parse(raw) {
                Some(a) => Some(a),
                None => {
                    errs.push(FieldError::new(
                        "access_token_signing_alg",
                        format!("unknown algorithm {raw:?}; supported: {}", SigningAlg::names()),
                    ));
                    None
                }
            },
        };
        match identifier {
            Some(identifier) if errs.is_empty() => Ok(ResourceDefinition {
                identifier,
                name: self.name.clone(),
                scopes,
                access_token_ttl: self.access_token_ttl,
                access_token_signing_alg: alg,
                any_client: self.any_client,
            }),
            _ => Err(errs),
        }
    }
}

/// A client's `resources` and `default_resources` must name defined resources.
pub fn check_client_resources(client: &Client, defined: &[ResourceDefinition]) -> Result<(), Vec<FieldError>> {
    let missing = |key: &'static str, list: &[ResourceId]| {
        let unknown: Vec<FieldError> = list
            .iter()
            .filter(|r| !defined.iter().any(|d| d.identifier == **r))
            .map(|r| FieldError::new(key, format!("resource {:?} is not defined; define it first", r.as_str())))
            .collect();
        unknown
    };
    let mut errs = missing("resources", &client.resources);
    errs.extend(missing("default_resources", &client.default_resources));
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// The resources a request targets (RFC 8707 §2): the requested ones, each defined and allowed
/// to `client`; without any, the client's default resources that are still defined.
pub fn resolve(
    requested: &[ResourceId],
    client: &Client,
    known: &[ResourceDefinition],
) -> Result<Vec<ResourceId>, OAuthError> {
    if requested.is_empty() {
        return Ok(client
            .default_resources
            .iter()
            .filter(|r| known.iter().any(|d| d.identifier == **r))
            .cloned()
            .collect());
    }
    for r in requested {
        let Some(def) = known.iter().find(|d| d.identifier == *r) else {
            return Err(OAuthError::InvalidTarget("the requested resource is unknown"));
        };
        if !def.any_client && !client.resources.contains(r) {
            return Err(OAuthError::InvalidTarget("the client may not ask for the requested resource"));
        }
    }
    Ok(requested.to_vec())
}

/// The resources a token from an existing grant targets (a code's redemption, a refresh): the
/// requested ones, each among those `granted` (RFC 8707 §2.2); without any, all of them.
pub fn narrow(requested: &[ResourceId], granted: &[ResourceId]) -> Result<Vec<ResourceId>, OAuthError> {
    if requested.iter().any(|r| !granted.contains(r)) {
        return Err(OAuthError::InvalidTarget("the requested resource was not granted"));
    }
    Ok(if requested.is_empty() { granted.to_vec() } else { requested.to_vec() })
}

/// `scope` without the scopes that belong only to resources outside `audience`, and, for a
/// token aimed at resources, without Gatehouse's management scopes (they open the admin API,
/// whose tokens name the issuer alone).
pub fn scope_for(scope: &ScopeSet, audience: &[ResourceId], known: &[ResourceDefinition]) -> ScopeSet {
    scope
        .iter()
        .filter(|s| audience.is_empty() || !is_gatehouse_scope(s.as_str()))
        .filter(|s| {
            let mut owners = known.iter().filter(|d| d.scopes.contains(s.as_str())).peekable();
            owners.peek().is_none() || owners.any(|d| audience.contains(&d.identifier))
        })
        .cloned()
        .collect()
}

/// What a token's audience decides about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// The `aud` claim: the resources, plus the issuer when the token is for userinfo too
    /// (`openid` granted); the issuer alone without resources.
    pub aud: Vec<String>,
    /// The shortest lifetime one of the resources sets.
    pub ttl: Option<i64>,
    /// The algorithm the resources ask for.
    pub alg: Option<SigningAlg>,
}

impl Audience {
    /// Gatehouse's own APIs.
    pub fn issuer(issuer: &str) -> Self {
        Self { aud: vec![issuer.to_owned()], ttl: None, alg: None }
    }

    /// The audience of a token for `resources` with `scope`. Resources that want their tokens
    /// signed with different algorithms cannot share one token: `invalid_target`.
    pub fn of(
        resources: &[ResourceId],
        scope: &ScopeSet,
        issuer: &str,
        known: &[ResourceDefinition],
    ) -> Result<Self, OAuthError> {
        if resources.is_empty() {
            return Ok(Self::issuer(issuer));
        }
        let defs: Vec<&ResourceDefinition> =
            resources.iter().filter_map(|r| known.iter().find(|d| d.identifier == *r)).collect();
        let mut algs = defs.iter().filter_map(|d| d.access_token_signing_alg);
        let alg = algs.next();
        if algs.any(|a| Some(a) != alg) {
            return Err(OAuthError::InvalidTarget(
                "the requested resources need differently signed tokens; ask for one at a time",
            ));
        }
        let mut aud: Vec<String> = resources.iter().map(|r| r.as_str().to_owned()).collect();
        if scope.contains("openid") && !aud.iter().any(|a| a == issuer) {
            aud.push(issuer.to_owned());
        }
        Ok(Self { aud, ttl: defs.iter().filter_map(|d| d.access_token_ttl).min(), alg })
    }
}

#[cfg(test)]
mod tests;
