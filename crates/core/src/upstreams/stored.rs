//! Providers added through the admin API or the CLI, beside the configuration file's: kept in
//! the store (`upstreams`) with their client secret sealed under `[secrets] sealing_key`, loaded
//! at start, after each change on this node, and every few seconds for the changes of other
//! nodes. A configuration file's provider cannot be changed or removed this way; its file is
//! where it lives.

use super::Upstreams;
use crate::config::UpstreamSpec;
use crate::sealing::Sealer;
use gatehouse_protocol::client::FieldError;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::secret::SecretHash;
use gatehouse_protocol::upstream::{ClientAuth, Kind, Upstream};
use gatehouse_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// A stored provider: its definition without the secret, and the secret sealed.
#[derive(Serialize, Deserialize)]
struct Stored {
    spec: UpstreamSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_secret: Option<String>,
}

/// Why a provider could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// Defined in the configuration file, which is where it changes.
    #[error("that provider is defined in the configuration file")]
    Configured,
    #[error("invalid provider")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A provider as the admin API shows it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpstreamView {
    pub id: String,
    /// `oidc` or `oauth2` (presets are one of those, filled in).
    pub kind: &'static str,
    pub label: String,
    pub issuer: Option<String>,
    pub client_id: String,
    /// `client_secret_basic`, `client_secret_post` or `private_key_jwt`.
    pub client_auth: &'static str,
    pub scopes: String,
    pub create_users: bool,
    pub link_by_email: bool,
    pub trust_amr: bool,
    /// Its URLs may resolve to private addresses.
    pub private_network: bool,
    /// Its claims are copied again at each sign-in.
    pub sync_claims: bool,
    /// `config` (the configuration file; read-only here) or `store` (the admin API, the CLI).
    pub source: &'static str,
}

impl Upstreams {
    /// Loads the stored providers again (a broken one is logged and left out).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let mut all = self.configured.clone();
        for (id, opened) in stored(self.store.as_ref(), &self.sealer).await? {
            match opened {
                _ if all.iter().any(|p| p.id == id) => {
                    tracing::warn!(provider = %id, "a stored provider has a configured provider's id; the configured one is used");
                }
                Ok(p) => all.push(p),
                Err(e) => tracing::warn!(provider = %id, error = %e, "a stored provider could not be used"),
            }
        }
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(all);
        }
        Ok(())
    }

    /// Every provider, as the admin API shows them.
    pub fn describe(&self) -> Vec<UpstreamView> {
        self.current().iter().map(|p| view(p, &self.configured)).collect()
    }

    /// Adds or replaces stored provider `spec.id`, as `actor` (see [`put`]): its view, and
    /// whether it was new.
    pub async fn put(&self, actor: &str, spec: UpstreamSpec) -> Result<(UpstreamView, bool), PutError> {
        let id = spec.id.clone();
        let created = put(self.store.as_ref(), &self.sealer, &self.configured, actor, spec, self.clock.now()).await?;
        self.reload().await?;
        let view = self.describe().into_iter().find(|v| v.id == id);
        view.map(|v| (v, created))
            .ok_or_else(|| PutError::Store(StoreError::Database("the stored provider did not load".into())))
    }

    /// Removes stored provider `id`, as `actor` (see [`delete`]).
    pub async fn delete(&self, actor: &str, id: &str) -> Result<bool, PutError> {
        let removed = delete(self.store.as_ref(), &self.configured, actor, id, self.clock.now()).await?;
        if removed {
            self.reload().await?;
        }
        Ok(removed)
    }
}

/// A provider as the admin API and the CLI show it; `configured`: the configuration's.
pub fn view(p: &Upstream, configured: &[Upstream]) -> UpstreamView {
    UpstreamView {
        id: p.id.clone(),
        kind: match p.kind {
            Kind::Oidc => "oidc",
            Kind::OAuth2 => "oauth2",
        },
        label: p.label.clone(),
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        client_auth: match p.client_auth {
            ClientAuth::SecretBasic => "client_secret_basic",
            ClientAuth::SecretPost => "client_secret_post",
            ClientAuth::PrivateKeyJwt => "private_key_jwt",
        },
        scopes: p.scopes.clone(),
        create_users: p.create_users,
        link_by_email: p.link_by_email,
        trust_amr: p.trust_amr,
        private_network: p.private_network,
        sync_claims: p.sync_claims,
        source: if configured.iter().any(|c| c.id == p.id) { "config" } else { "store" },
    }
}

/// The stored providers, each opened (its secret unsealed, validated) or why not.
pub async fn stored(store: &dyn Store, sealer: &Sealer) -> Result<Vec<(String, Result<Upstream, String>)>, StoreError> {
    let open = |document: &str| -> Result<Upstream, String> {
        let stored: Stored = serde_json::from_str(document).map_err(|e| e.to_string())?;
        let mut spec = stored.spec;
        if let Some(sealed) = stored.sealed_secret {
            let hash = SecretHash::parse(&sealed).map_err(|e| e.to_string())?;
            let secret = sealer.open(&hash).ok_or("its client secret cannot be opened with this sealing key")?;
            spec.client_secret = Some(secret);
        }
        spec.validate().map_err(|errs| errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    };
    Ok(store.list_upstreams().await?.into_iter().map(|(id, doc)| (id, open(&doc))).collect())
}

/// Adds or replaces stored provider `spec.id`, as `actor` (audited `upstream.put`); `true`
/// when it is new. Its icon must be a `data:` URL (no file of the server's is read on a
/// caller's say-so); its secret is sealed, which needs the sealing key. A provider of the
/// configuration (`configured`) is refused.
pub async fn put(
    store: &dyn Store,
    sealer: &Sealer,
    configured: &[Upstream],
    actor: &str,
    spec: UpstreamSpec,
    now: UnixTime,
) -> Result<bool, PutError> {
    if configured.iter().any(|c| c.id == spec.id) {
        return Err(PutError::Configured);
    }
    if spec.icon.as_deref().is_some_and(|i| !i.starts_with("data:image/")) {
        return Err(PutError::Invalid(vec![FieldError::new("icon", "must be a data:image/... URL")]));
    }
    spec.validate().map_err(PutError::Invalid)?;
    let sealed_secret = match &spec.client_secret {
        None => None,
        Some(secret) => Some(
            sealer
                .seal(secret)
                .map_err(|_| {
                    PutError::Invalid(vec![FieldError::new(
                        "client_secret",
                        "keeping a provider's secret needs [secrets] sealing_key; or use private_key_jwt",
                    )])
                })?
                .to_stored(),
        ),
    };
    let existed = store.list_upstreams().await?.iter().any(|(id, _)| *id == spec.id);
    let id = spec.id.clone();
    let stored = Stored { spec: UpstreamSpec { client_secret: None, ..spec }, sealed_secret };
    let document = serde_json::to_string(&stored).map_err(|e| StoreError::Database(e.to_string()))?;
    store.put_upstream(&id, &document, now).await?;
    audit_upstream(store, actor, "upstream.put", &id, now).await?;
    Ok(!existed)
}

/// Removes stored provider `id`, as `actor` (audited `upstream.delete`). Its users' links
/// stay, should a provider of that id come back.
pub async fn delete(
    store: &dyn Store,
    configured: &[Upstream],
    actor: &str,
    id: &str,
    now: UnixTime,
) -> Result<bool, PutError> {
    if configured.iter().any(|c| c.id == id) {
        return Err(PutError::Configured);
    }
    let removed = store.delete_upstream(id).await?;
    if removed {
        audit_upstream(store, actor, "upstream.delete", id, now).await?;
    }
    Ok(removed)
}

async fn audit_upstream(
    store: &dyn Store,
    actor: &str,
    action: &str,
    id: &str,
    now: UnixTime,
) -> Result<(), StoreError> {
    let entry = gatehouse_store::AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at: now,
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: format!("upstream:{id}"),
        details: json!({}),
    };
    store.append_audit(&entry).await
}
