//! The administrative operations, written once for the admin API, the console, the CLI and
//! dynamic registration: validate exactly as the config file is validated, write, and append an
//! audit entry naming who did it. Nothing here knows about HTTP.

use crate::backchannel::Backchannel;
use crate::catalog::Catalog;
use crate::keys::Keys;
use crate::secrets;
use gatehouse_protocol::claims::{ScopeDefinition, ScopeSpec, builtin_scopes};
use gatehouse_protocol::client::{ClientSpec, FieldError, SecretInput, TokenEndpointAuthMethod};
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::jose::SigningAlg;
use gatehouse_protocol::secret::{Secret, SecretHash};
use gatehouse_protocol::user::{PasswordInput, User, UserSpec};
use gatehouse_protocol::{Client, ClientId};
use gatehouse_store::{AuditEntry, Store, StoreError};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Why an operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The input broke validation; every problem, each naming its field.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// Beyond what the caller was granted (a provisioning client touching an administrator).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AdminError {
    pub fn field(key: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(key, message)])
    }
}

pub type Result<T> = std::result::Result<T, AdminError>;

/// An extra rule a validated client must meet (dynamic registration's caps).
pub type Policy<'a> = &'a (dyn Fn(&Client) -> std::result::Result<(), Vec<FieldError>> + Sync);

/// The administration service: hands out [`Admin`] for a caller, and does what must follow
/// some operations on this node (new keys in force, logout tokens for ended sessions).
pub struct Administration {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<Keys>,
    catalog: Arc<Catalog>,
    backchannel: Arc<Backchannel>,
    sealer: Arc<crate::sealing::Sealer>,
}

impl Administration {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keys: Arc<Keys>,
        catalog: Arc<Catalog>,
        backchannel: Arc<Backchannel>,
        sealer: Arc<crate::sealing::Sealer>,
    ) -> Self {
        Self { store, clock, keys, catalog, backchannel, sealer }
    }

    /// Puts a scope change in force on this node at once (discovery, consent pages, claims).
    pub async fn reload_scopes(&self) -> std::result::Result<(), StoreError> {
        self.catalog.reload(self.store.as_ref()).await
    }

    /// The operations, as `actor` (what the audit log records).
    pub fn as_actor(&self, actor: impl Into<String>) -> Admin<'_> {
        Admin { store: self.store.as_ref(), sealer: &self.sealer, actor: actor.into(), now: self.clock.now() }
    }

    /// For reads the operations do not cover (lists, pages of the audit log).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Rotates `algs` and puts the new keys in force on this node at once (others follow by
    /// `NOTIFY` or at their next key reload).
    pub async fn rotate_keys(&self, admin: &Admin<'_>, algs: &[SigningAlg]) -> Result<()> {
        admin.rotate_keys(algs).await?;
        if let Err(e) = self.keys.reload(self.store.as_ref()).await {
            tracing::warn!(error = %e, "rotated, but could not reload the keys here; the reloader will");
        }
        Ok(())
    }

    /// OIDC Back-Channel Logout for sessions an operation ended.
    pub async fn sessions_ended(&self, sub: &str, sids: Vec<String>) {
        self.backchannel.sessions_ended(sub, sids).await;
    }
}

/// Who is acting, on which store, at what time.
pub struct Admin<'a> {
    pub store: &'a dyn Store,
    /// Seals the secrets of clients that need them usable (HS256 ID tokens, `client_secret_jwt`).
    pub sealer: &'a crate::sealing::Sealer,
    /// `client:<id>`, `cli:<user>`, `registration`, `bootstrap`: what the audit log records.
    pub actor: String,
    pub now: UnixTime,
}

/// A client as written, with the secret Gatehouse generated for it (shown once, never stored).
pub struct Written {
    pub client: Client,
    pub generated_secret: Option<Secret>,
}

/// What to change on a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    pub username: Option<String>,
    /// Replaces all of the user's claims.
    #[serde(default)]
    pub claims: Option<Map<String, Value>>,
    /// A disabled user cannot sign in, and their sessions end.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// An administrator may use the admin console.
    #[serde(default)]
    pub admin: Option<bool>,
}

impl Admin<'_> {
    pub async fn audit(&self, action: &str, target: &str, details: Value) -> Result<()> {
        let entry = AuditEntry {
            id: uuid::Uuid::now_v7().to_string(),
            at: self.now,
            actor: self.actor.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            details,
        };
        self.store.append_audit(&entry).await?;
        Ok(())
    }

    /// Every scope in force: the built-in ones and the operator's.
    pub async fn scopes(&self) -> Result<Vec<ScopeDefinition>> {
        let mut all = builtin_scopes();
        all.extend(self.store.list_scopes().await?.into_iter().filter(|s| !s.builtin));
        Ok(all)
    }

    // ---- clients ----

    /// Validates a spec as the config file does. The secret: a given `client_secret` is hashed
    /// with argon2id, a given `client_secret_hash` kept, and otherwise a client that is not
    /// public (`token_endpoint_auth_method` other than `none`, as in RFC 7591 §2) and does not
    /// authenticate with its keys (`private_key_jwt`) gets a generated one, or keeps `keep` (its current hash) when there is one.
    async fn validate_client(
        &self,
        spec: &ClientSpec,
        keep: Option<&SecretHash>,
        policy: Policy<'_>,
    ) -> Result<Written> {
        let scopes = self.scopes().await?;
        let defined = |s: &str| scopes.iter().any(|d| d.name.as_str() == s);
        // A public client, or one that authenticates with its keys, has no secret.
        let wants_public = [TokenEndpointAuthMethod::None, TokenEndpointAuthMethod::PrivateKeyJwt]
            .iter()
            .any(|m| spec.token_endpoint_auth_method.as_deref() == Some(m.as_str()));
        let given = spec.client_secret.is_some() || spec.client_secret_hash.is_some();
        let mut spec = spec.clone();
        let mut generated = None;
        if !given && !wants_public {
            match keep {
                Some(h) => spec.client_secret_hash = Some(h.to_stored()),
                None => {
                    let (secret, hash) = secrets::generate_client_secret();
                    spec.client_secret_hash = Some(hash.to_stored());
                    generated = Some(secret);
                }
            }
        }
        let valid = spec.validate(&defined).map_err(AdminError::Invalid)?;
        let resources = self.store.list_resources().await?;
        gatehouse_protocol::resource::check_client_resources(&valid.client, &resources).map_err(AdminError::Invalid)?;
        policy(&valid.client).map_err(AdminError::Invalid)?;
        // A generated secret travels as its SHA-256 until here; one that must stay usable is
        // sealed instead, as is a given one.
        let input = match (&generated, valid.client.needs_usable_secret()) {
            (Some(g), true) => Some(SecretInput::Plain(g.clone())),
            _ => valid.secret_input,
        };
        crate::sealing::check_usable(&valid.client, input.as_ref(), self.sealer.enabled())
            .map_err(|(k, m)| AdminError::field(k, m))?;
        let mut client = valid.client;
        client.secret = match input {
            None => None,
            Some(SecretInput::Hashed(h)) => Some(h),
            Some(SecretInput::Plain(p)) if client.needs_usable_secret() => {
                Some(self.sealer.seal(&p).map_err(|e| AdminError::field("client_secret", e.to_string()))?)
            }
            Some(SecretInput::Plain(p)) => Some(secrets::hash_argon2_async(p).await.map_err(AdminError::Internal)?),
        };
        Ok(Written { client, generated_secret: generated })
    }

    pub async fn create_client(&self, spec: &ClientSpec) -> Result<Written> {
        self.create_client_within(spec, &|_| Ok(())).await
    }

    /// [`Self::create_client`], refused when the validated client breaks `policy`.
    pub async fn create_client_within(&self, spec: &ClientSpec, policy: Policy<'_>) -> Result<Written> {
        let w = self.validate_client(spec, None, policy).await?;
        if !self.store.insert_client(&w.client, self.now).await? {
            return Err(AdminError::Conflict(format!("client {:?} already exists", w.client.id.as_str())));
        }
        self.audit("client.create", &client_target(&w.client.id), client_details(&w.client)).await?;
        Ok(w)
    }

    pub async fn get_client(&self, id: &str) -> Result<Client> {
        let id = ClientId::parse(id).map_err(|_| AdminError::NotFound("client"))?;
        self.store.get_client(&id).await?.ok_or(AdminError::NotFound("client"))
    }

    /// Replaces a client's settings. Without secret fields a confidential client keeps its secret.
    pub async fn update_client(&self, id: &str, spec: &ClientSpec) -> Result<Written> {
        self.update_client_within(id, spec, &|_| Ok(())).await
    }

    /// [`Self::update_client`], refused when the validated client breaks `policy`.
    pub async fn update_client_within(&self, id: &str, spec: &ClientSpec, policy: Policy<'_>) -> Result<Written> {
        let current = self.get_client(id).await?;
        if spec.client_id != current.id.as_str() {
            return Err(AdminError::field("client_id", "must be the client_id of the client being updated"));
        }
        let w = self.validate_client(spec, current.secret.as_ref(), policy).await?;
        self.not_locking_out(&current.id, Some(&w.client))?;
        self.store.upsert_client(&w.client, self.now).await?;
        let mut details = client_details(&w.client);
        if let Some(o) = details.as_object_mut() {
            o.insert("secret_changed".into(), Value::Bool(w.client.secret != current.secret));
            o.insert("changes".into(), changes(&client_details(&current), &client_details(&w.client)));
        }
        self.audit("client.update", &client_target(&w.client.id), details).await?;
        Ok(w)
    }

    /// An admin client may not delete itself or take `gatehouse:admin` from itself: the last
    /// way in could go with it. Another admin client, or the CLI, can.
    fn not_locking_out(&self, id: &ClientId, after: Option<&Client>) -> Result<()> {
        use gatehouse_protocol::claims::ADMIN_SCOPE;
        if self.actor != client_target(id) || after.is_some_and(|c| c.scopes.contains(ADMIN_SCOPE)) {
            return Ok(());
        }
        Err(AdminError::Conflict(format!(
            "this would take {ADMIN_SCOPE} from {:?}, the client making the request; do it with another admin client or the CLI",
            id.as_str()
        )))
    }

    /// An administrator signed in to the console may not delete, disable or demote themselves,
    /// for the same reason.
    fn not_locking_self_out(&self, sub: &str, after: Option<&User>) -> Result<()> {
        if self.actor != user_target(sub) || after.is_some_and(|u| u.admin && !u.disabled) {
            return Ok(());
        }
        Err(AdminError::Conflict(
            "this would lock out the administrator making the request; ask another administrator or use the CLI".into(),
        ))
    }

    /// RFC 7396 JSON merge patch over the client's spec (its config-file form).
    pub async fn patch_client(&self, id: &str, patch: &Value) -> Result<Written> {
        let current = self.get_client(id).await?;
        let Value::Object(_) = patch else {
            return Err(AdminError::field("body", "a JSON merge patch (RFC 7396) must be an object"));
        };
        let mut doc = serde_json::to_value(current.to_spec()).map_err(|e| AdminError::Internal(e.to_string()))?;
        merge_patch(&mut doc, patch);
        let spec: ClientSpec = serde_json::from_value(doc).map_err(|e| serde_field_error(&e))?;
        self.update_client(id, &spec).await
    }

    pub async fn delete_client(&self, id: &str) -> Result<()> {
        let id = ClientId::parse(id).map_err(|_| AdminError::NotFound("client"))?;
        self.not_locking_out(&id, None)?;
        if !self.store.delete_client(&id).await? {
            return Err(AdminError::NotFound("client"));
        }
        self.audit("client.delete", &client_target(&id), json!({})).await
    }

    /// A new generated secret; the old one stops working at once.
    pub async fn rotate_client_secret(&self, id: &str) -> Result<(Client, Secret)> {
        let mut client = self.get_client(id).await?;
        if client.is_public() {
            return Err(AdminError::Conflict(format!(
                "client {:?} is public (token_endpoint_auth_method none) and has no secret",
                client.id.as_str()
            )));
        }
        let (secret, hash) = secrets::generate_client_secret();
        client.secret = Some(if client.needs_usable_secret() {
            self.sealer.seal(&secret).map_err(|e| AdminError::Conflict(e.to_string()))?
        } else {
            hash
        });
        self.store.upsert_client(&client, self.now).await?;
        self.audit("client.rotate_secret", &client_target(&client.id), json!({})).await?;
        Ok((client, secret))
    }

    // ---- users ----

    pub async fn create_user(&self, spec: &UserSpec) -> Result<User> {
        let valid = spec.validate().map_err(AdminError::Invalid)?;
        let password_hash = match valid.password {
            PasswordInput::Hashed(h) => h,
            PasswordInput::Plain(p) => secrets::hash_argon2_async(p).await.map_err(AdminError::Internal)?,
        };
        let user = User {
            sub: valid.sub.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            username: valid.username,
            password_hash,
            claims: valid.claims,
            disabled: valid.disabled,
            admin: valid.admin,
        };
        self.store.insert_user(&user, self.now).await.map_err(|e| match e {
            StoreError::Conflict(_) => AdminError::Conflict("a user with that username or sub already exists".into()),
            e => e.into(),
        })?;
        self.audit("user.create", &user_target(&user.sub), user_details(&user)).await?;
        Ok(user)
    }

    pub async fn get_user(&self, sub: &str) -> Result<User> {
        self.store.get_user_by_sub(sub).await?.ok_or(AdminError::NotFound("user"))
    }

    pub async fn get_user_by_username(&self, username: &str) -> Result<User> {
        self.store.get_user_by_username(username).await?.ok_or(AdminError::NotFound("user"))
    }

    /// Changes a user's username, claims or disabled flag. Returns the user and the sessions
    /// ended (disabling a user ends their sessions).
    pub async fn update_user(&self, sub: &str, update: &UserUpdate) -> Result<(User, Vec<String>)> {
        let current = self.get_user(sub).await?;
        let spec = UserSpec {
            username: update.username.clone().unwrap_or_else(|| current.username.clone()),
            sub: Some(current.sub.clone()),
            password: None,
            password_hash: Some(current.password_hash.to_stored()),
            claims: update.claims.clone().unwrap_or_else(|| current.claims.clone()),
            disabled: update.disabled.unwrap_or(current.disabled),
            admin: update.admin.unwrap_or(current.admin),
        };
        let valid = spec.validate().map_err(AdminError::Invalid)?;
        let user = User {
            username: valid.username,
            claims: valid.claims,
            disabled: valid.disabled,
            admin: valid.admin,
            ..current.clone()
        };
        self.not_locking_self_out(sub, Some(&user))?;
        self.store.upsert_user(&user, self.now).await.map_err(|e| match e {
            StoreError::Conflict(_) => AdminError::Conflict("another user has that username".into()),
            e => e.into(),
        })?;
        let ended =
            if user.disabled && !current.disabled { self.store.delete_user_sessions(sub, None).await? } else { vec![] };
        let mut changed = Vec::new();
        for (key, differs) in [
            ("username", user.username != current.username),
            ("claims", user.claims != current.claims),
            ("disabled", user.disabled != current.disabled),
            ("admin", user.admin != current.admin),
        ] {
            if differs {
                changed.push(key);
            }
        }
        let action = match (update.disabled, current.disabled) {
            (Some(true), false) => "user.disable",
            (Some(false), true) => "user.enable",
            _ => "user.update",
        };
        let mut diff = changes(&user_details(&current), &user_details(&user));
        // Claim values are personal data: the log says which claims changed, not to what.
        if let Some(o) = diff.as_object_mut() {
            o.remove("claims");
            for name in crate::claim_sync::changed_claims(&current.claims, &user.claims) {
                let (b, a) = (current.claims.get(name), user.claims.get(name));
                let hidden = |v: Option<&Value>| v.map_or(Value::Null, |_| Value::from("(set)"));
                o.insert(format!("claims.{name}"), json!({ "before": hidden(b), "after": hidden(a) }));
            }
        }
        self.audit(
            action,
            &user_target(sub),
            json!({ "changed": changed, "changes": diff, "sessions_ended": ended.len() }),
        )
        .await?;
        Ok((user, ended))
    }

    pub async fn set_password(&self, sub: &str, password: Secret) -> Result<()> {
        let mut user = self.get_user(sub).await?;
        if password.expose().is_empty() {
            return Err(AdminError::field("password", "is empty"));
        }
        user.password_hash = secrets::hash_argon2_async(password).await.map_err(AdminError::Internal)?;
        self.store.upsert_user(&user, self.now).await?;
        self.audit("user.set_password", &user_target(sub), json!({})).await
    }

    /// Deletes a user with their sessions and consents; returns the sessions ended.
    pub async fn delete_user(&self, sub: &str) -> Result<Vec<String>> {
        self.get_user(sub).await?;
        self.not_locking_self_out(sub, None)?;
        let ended = self.store.delete_user_sessions(sub, None).await?;
        if !self.store.delete_user(sub).await? {
            return Err(AdminError::NotFound("user"));
        }
        self.audit("user.delete", &user_target(sub), json!({ "sessions_ended": ended.len() })).await?;
        Ok(ended)
    }

    // ---- sessions ----

    /// Ends one of a user's sessions (`sid`) or all of them; returns the sids ended.
    pub async fn end_sessions(&self, sub: &str, sid: Option<&str>) -> Result<Vec<String>> {
        self.get_user(sub).await?;
        let ended = self.store.delete_user_sessions(sub, sid).await?;
        if sid.is_some() && ended.is_empty() {
            return Err(AdminError::NotFound("session"));
        }
        let target = sid.map_or_else(|| user_target(sub), |s| format!("session:{s}"));
        self.audit("session.revoke", &target, json!({ "sub": sub, "sessions_ended": ended.len() })).await?;
        Ok(ended)
    }

    // ---- keys ----

    /// Rotates the signing keys of `algs` (DESIGN.md §4); every node picks the change up at once
    /// (PostgreSQL `NOTIFY`) or at its next key reload.
    pub async fn rotate_keys(&self, algs: &[SigningAlg]) -> Result<()> {
        crate::keys::rotate(self.store, algs, self.now).await.map_err(|e| match e {
            crate::keys::KeyError::Store(StoreError::Conflict(m)) => AdminError::Conflict(m.to_owned()),
            crate::keys::KeyError::Store(e) => AdminError::Store(e),
            e => AdminError::Internal(e.to_string()),
        })?;
        let algs: Vec<&str> = algs.iter().map(|a| a.as_str()).collect();
        self.audit("key.rotate", "keys", json!({ "algs": algs })).await
    }

    // ---- scopes ----

    pub async fn create_scope(&self, spec: &ScopeSpec) -> Result<ScopeDefinition> {
        let def = spec.validate().map_err(AdminError::Invalid)?;
        if self.scopes().await?.iter().any(|s| s.name == def.name) {
            return Err(AdminError::Conflict(format!("scope {:?} already exists", def.name.as_str())));
        }
        self.store.upsert_scope(&def, self.now).await?;
        self.audit("scope.create", &scope_target(def.name.as_str()), scope_details(&def)).await?;
        Ok(def)
    }

    pub async fn update_scope(&self, name: &str, spec: &ScopeSpec) -> Result<ScopeDefinition> {
        let current = self.custom_scope(name).await?;
        if spec.name != name {
            return Err(AdminError::field("name", "must be the name of the scope being updated"));
        }
        let def = spec.validate().map_err(AdminError::Invalid)?;
        self.store.upsert_scope(&def, self.now).await?;
        let mut details = scope_details(&def);
        if let Some(o) = details.as_object_mut() {
            o.insert("changes".into(), changes(&scope_details(&current), &scope_details(&def)));
        }
        self.audit("scope.update", &scope_target(name), details).await?;
        Ok(def)
    }

    /// Refused while a client may still ask for the scope: the clients would no longer validate.
    pub async fn delete_scope(&self, name: &str) -> Result<()> {
        self.custom_scope(name).await?;
        let users: Vec<String> = self
            .store
            .list_clients()
            .await?
            .into_iter()
            .filter(|c| c.scopes.contains(name))
            .map(|c| c.id.as_str().to_owned())
            .collect();
        if !users.is_empty() {
            return Err(AdminError::Conflict(format!(
                "scope {name:?} is allowed to clients {}; remove it from them first",
                users.join(", ")
            )));
        }
        let owners: Vec<String> = self
            .store
            .list_resources()
            .await?
            .into_iter()
            .filter(|r| r.scopes.contains(name))
            .map(|r| r.identifier.to_string())
            .collect();
        if !owners.is_empty() {
            return Err(AdminError::Conflict(format!(
                "scope {name:?} belongs to resources {}; remove it from them first",
                owners.join(", ")
            )));
        }
        self.store.delete_scope(name).await?;
        self.audit("scope.delete", &scope_target(name), json!({})).await
    }

    /// An operator-defined scope; built-in ones cannot be changed.
    async fn custom_scope(&self, name: &str) -> Result<ScopeDefinition> {
        match self.scopes().await?.into_iter().find(|s| s.name.as_str() == name) {
            Some(s) if s.builtin => {
                Err(AdminError::Conflict(format!("scope {name:?} is built in and cannot be changed")))
            }
            Some(s) => Ok(s),
            None => Err(AdminError::NotFound("scope")),
        }
    }
}

pub fn client_target(id: &ClientId) -> String {
    format!("client:{id}")
}

fn user_target(sub: &str) -> String {
    format!("user:{sub}")
}

fn scope_target(name: &str) -> String {
    format!("scope:{name}")
}

/// The client's document: it never holds the secret or its hash.
fn client_details(c: &Client) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("public".into(), Value::Bool(c.is_public()));
    }
    v
}

/// Who the user is; never the password hash, and not the claims (personal data).
fn user_details(u: &User) -> Value {
    json!({ "username": u.username, "disabled": u.disabled, "admin": u.admin, "claims": u.claims.keys().collect::<Vec<_>>() })
}

fn scope_details(d: &ScopeDefinition) -> Value {
    serde_json::to_value(d.to_spec()).unwrap_or(Value::Null)
}

/// What an update changed, for the audit log: `{field: {before, after}}` for each top-level
/// field of two documents that differs (an absent field is `null`).
pub fn changes(before: &Value, after: &Value) -> Value {
    let empty = serde_json::Map::new();
    let (b, a) = (before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty));
    let mut out = serde_json::Map::new();
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        let (old, new) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
        if old != new {
            out.insert(key.clone(), json!({ "before": old, "after": new }));
        }
    }
    Value::Object(out)
}

/// RFC 7396 §2.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// A serde error on a request body as a field error: the field when serde names one.
pub fn serde_field_error(e: &serde_json::Error) -> AdminError {
    let msg = e.to_string();
    // serde_json's messages: "unknown field `x`, expected ...", "invalid type: ... at line ...".
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    AdminError::field("body", msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_differing_field_with_before_and_after() {
        let before = json!({"client_name": "Reports", "scope": "openid", "first_party": true, "same": [1]});
        let after = json!({"client_name": "Monthly reports", "scope": "openid", "redirect_uris": ["https://a/cb"], "same": [1]});
        assert_eq!(
            changes(&before, &after),
            json!({
                "client_name": {"before": "Reports", "after": "Monthly reports"},
                "first_party": {"before": true, "after": null},
                "redirect_uris": {"before": null, "after": ["https://a/cb"]},
            })
        );
        assert_eq!(changes(&after, &after), json!({}));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // RFC 7396 Appendix A, a selection.
        for (target, patch, want) in [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!(["a"]), json!({"a": "b"}), json!({"a": "b"})),
        ] {
            let mut t = target.clone();
            merge_patch(&mut t, &patch);
            assert_eq!(t, want, "{target} + {patch}");
        }
    }
}

/// The store's clients, users and operator-defined scopes in the config file's form, with
/// hashes instead of secrets: `gatehouse import` of it gives the same store.
#[derive(Debug, serde::Serialize)]
pub struct Export {
    pub version: u32,
    pub scopes: Vec<ScopeSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<gatehouse_protocol::resource::ResourceSpec>,
    pub clients: Vec<ClientSpec>,
    pub users: Vec<UserSpec>,
}

pub async fn export(store: &dyn Store) -> Result<Export> {
    let scopes = store.list_scopes().await?.iter().filter(|s| !s.builtin).map(ScopeDefinition::to_spec).collect();
    let resources = store.list_resources().await?.iter().map(|r| r.to_spec()).collect();
    let clients = store.list_clients().await?.iter().map(Client::to_spec).collect();
    let users = store
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserSpec {
            username: u.username,
            sub: Some(u.sub),
            password: None,
            password_hash: Some(u.password_hash.to_stored()),
            claims: u.claims,
            disabled: u.disabled,
            admin: u.admin,
        })
        .collect();
    Ok(Export { version: 1, scopes, resources, clients, users })
}

/// The client the bootstrap creates when no client may obtain `gatehouse:admin`.
pub const BOOTSTRAP_CLIENT_ID: &str = "gatehouse-admin";

/// On a store where no client may obtain `gatehouse:admin`, creates the `gatehouse-admin`
/// client (client_credentials, `gatehouse:admin`, a generated secret) and returns its secret,
/// to be shown once. `None` when an admin client exists, or another node created it first.
pub async fn bootstrap(store: &dyn Store, now: UnixTime) -> Result<Option<(String, Secret)>> {
    use gatehouse_protocol::claims::ADMIN_SCOPE;
    // The console's client administers nothing by itself: only an administrator signed in.
    if store.list_clients().await?.iter().any(|c| c.scopes.contains(ADMIN_SCOPE) && c.id.as_str() != CONSOLE_CLIENT_ID)
    {
        return Ok(None);
    }
    let spec = ClientSpec {
        client_id: BOOTSTRAP_CLIENT_ID.to_owned(),
        client_name: Some("Gatehouse administration (bootstrap)".to_owned()),
        scope: Some(ADMIN_SCOPE.to_owned()),
        grants: Some(vec!["client_credentials".to_owned()]),
        access_token_signed_response_alg: Some("ES256".to_owned()),
        ..Default::default()
    };
    let none = crate::sealing::Sealer::default();
    let admin = Admin { store, sealer: &none, actor: "bootstrap".to_owned(), now };
    match admin.create_client(&spec).await {
        Ok(w) => Ok(w.generated_secret.map(|s| (BOOTSTRAP_CLIENT_ID.to_owned(), s))),
        Err(AdminError::Conflict(_)) => {
            let taken = store
                .get_client(&ClientId::parse(BOOTSTRAP_CLIENT_ID).map_err(|m| AdminError::Internal(m.to_owned()))?)
                .await?;
            match taken {
                // Another node won the race; it printed the secret.
                Some(c) if c.scopes.contains(ADMIN_SCOPE) => Ok(None),
                _ => Err(AdminError::Conflict(format!(
                    "no client may obtain {ADMIN_SCOPE}, and the id {BOOTSTRAP_CLIENT_ID:?} is taken by another client: \
                     give a client the {ADMIN_SCOPE} scope in the config file"
                ))),
            }
        }
        Err(e) => Err(e),
    }
}

/// The admin console's own client: public, code + PKCE, redirected back to `/admin/callback`.
pub const CONSOLE_CLIENT_ID: &str = "gatehouse-console";

/// The console client as it must be for `issuer`.
pub fn console_client_spec(issuer: &str) -> ClientSpec {
    use gatehouse_protocol::claims::ADMIN_SCOPE;
    ClientSpec {
        client_id: CONSOLE_CLIENT_ID.to_owned(),
        client_name: Some("Gatehouse admin console".to_owned()),
        scope: Some(format!("openid {ADMIN_SCOPE}")),
        grants: Some(vec!["authorization_code".to_owned()]),
        redirect_uris: vec![format!("{}/admin/callback", issuer.trim_end_matches('/'))],
        token_endpoint_auth_method: Some("none".to_owned()),
        access_token_signed_response_alg: Some("ES256".to_owned()),
        first_party: true,
        require_pkce: true,
        ..Default::default()
    }
}

/// The account page's own client: public, code + PKCE, redirected back to `/account/callback`.
pub const ACCOUNT_CLIENT_ID: &str = "gatehouse-account";

/// The account page's client as it must be for `issuer`.
pub fn account_client_spec(issuer: &str) -> ClientSpec {
    ClientSpec {
        client_id: ACCOUNT_CLIENT_ID.to_owned(),
        client_name: Some("Your account".to_owned()),
        scope: Some("openid".to_owned()),
        grants: Some(vec!["authorization_code".to_owned()]),
        redirect_uris: vec![format!("{}/account/callback", issuer.trim_end_matches('/'))],
        token_endpoint_auth_method: Some("none".to_owned()),
        first_party: true,
        require_pkce: true,
        ..Default::default()
    }
}

/// Creates the console client, or puts it back as it must be (the issuer may have changed, or
/// someone edited it). Several nodes starting at once converge on the same row.
pub async fn ensure_console_client(store: &dyn Store, issuer: &str, now: UnixTime) -> Result<()> {
    ensure_builtin_client(store, console_client_spec(issuer), now).await
}

/// Creates a client Gatehouse itself uses (the console's, the account page's), or puts it
/// back as `spec` says.
pub async fn ensure_builtin_client(store: &dyn Store, spec: ClientSpec, now: UnixTime) -> Result<()> {
    let none = crate::sealing::Sealer::default();
    let admin = Admin { store, sealer: &none, actor: "bootstrap".to_owned(), now };
    let wanted = spec.validate(&|_| true).map_err(AdminError::Invalid)?.client;
    let id = spec.client_id.clone();
    match admin.get_client(&id).await {
        Ok(c) if c == wanted => Ok(()),
        Ok(_) => admin.update_client(&id, &spec).await.map(|_| ()),
        Err(AdminError::NotFound(_)) => match admin.create_client(&spec).await {
            Ok(_) | Err(AdminError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    }
}
