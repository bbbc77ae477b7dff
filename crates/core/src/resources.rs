//! Administering resource servers (RFC 8707), for the admin API, the console and the CLI: the
//! same validation as the config file's `[[resources]]`, an audit entry for each change. A
//! resource that clients list, or whose scopes a change would orphan, is refused rather than
//! left dangling.

use crate::admin::{Admin, AdminError, Result, changes};
use gatehouse_protocol::ClientId;
use gatehouse_protocol::resource::{ResourceDefinition, ResourceSpec};
use serde_json::{Value, json};

fn target(identifier: &str) -> String {
    format!("resource:{identifier}")
}

fn details(d: &ResourceDefinition) -> Value {
    serde_json::to_value(d.to_spec()).unwrap_or(Value::Null)
}

impl Admin<'_> {
    /// Every resource server, by identifier.
    pub async fn resources(&self) -> Result<Vec<ResourceDefinition>> {
        Ok(self.store.list_resources().await?)
    }

    pub async fn resource(&self, identifier: &str) -> Result<ResourceDefinition> {
        self.resources()
            .await?
            .into_iter()
            .find(|r| r.identifier.as_str() == identifier)
            .ok_or(AdminError::NotFound("resource"))
    }

    async fn validate_resource(&self, spec: &ResourceSpec) -> Result<ResourceDefinition> {
        let scopes = self.scopes().await?;
        spec.validate(&|s| scopes.iter().any(|d| d.name.as_str() == s)).map_err(AdminError::Invalid)
    }

    pub async fn create_resource(&self, spec: &ResourceSpec) -> Result<ResourceDefinition> {
        let def = self.validate_resource(spec).await?;
        if self.resources().await?.iter().any(|r| r.identifier == def.identifier) {
            return Err(AdminError::Conflict(format!("resource {:?} already exists", def.identifier.as_str())));
        }
        self.store.upsert_resource(&def, self.now).await?;
        self.audit("resource.create", &target(def.identifier.as_str()), details(&def)).await?;
        Ok(def)
    }

    pub async fn update_resource(&self, identifier: &str, spec: &ResourceSpec) -> Result<ResourceDefinition> {
        let current = self.resource(identifier).await?;
        if spec.identifier != identifier {
            return Err(AdminError::field("identifier", "must be the identifier of the resource being updated"));
        }
        let def = self.validate_resource(spec).await?;
        self.store.upsert_resource(&def, self.now).await?;
        let mut d = details(&def);
        if let Some(o) = d.as_object_mut() {
            o.insert("changes".into(), changes(&details(&current), &details(&def)));
        }
        self.audit("resource.update", &target(identifier), d).await?;
        Ok(def)
    }

    /// Refused while a client lists the resource: the client would no longer validate.
    pub async fn delete_resource(&self, identifier: &str) -> Result<()> {
        self.resource(identifier).await?;
        let users: Vec<ClientId> = self
            .store
            .list_clients()
            .await?
            .into_iter()
            .filter(|c| c.resources.iter().chain(&c.default_resources).any(|r| r.as_str() == identifier))
            .map(|c| c.id)
            .collect();
        if !users.is_empty() {
            let names: Vec<&str> = users.iter().map(ClientId::as_str).collect();
            return Err(AdminError::Conflict(format!(
                "resource {identifier:?} is listed by clients {}; remove it from them first",
                names.join(", ")
            )));
        }
        self.store.delete_resource(identifier).await?;
        self.audit("resource.delete", &target(identifier), json!({})).await
    }
}
