//! Pushed authorization requests (RFC 9126), each taken once.

use crate::db::args;
use crate::sql::SqlStore;
use crate::{Result, StoreError};
use async_trait::async_trait;
use gatehouse_protocol::ClientId;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::params::Params;

#[async_trait]
impl crate::PushedRequestStore for SqlStore {
    async fn push_request(
        &self,
        id_hash: &str,
        client: &ClientId,
        params: &Params,
        expires_at: UnixTime,
    ) -> Result<()> {
        let doc = serde_json::to_string(params)
            .map_err(|e| StoreError::Corrupt { table: "pushed_requests", detail: e.to_string() })?;
        self.db
            .execute(
                "INSERT INTO pushed_requests (id_hash, client_id, params, expires_at) VALUES ($1, $2, $3, $4)",
                args![id_hash, client.as_str(), doc, expires_at],
            )
            .await?;
        Ok(())
    }

    async fn take_pushed_request(&self, id_hash: &str, now: UnixTime) -> Result<Option<(ClientId, Params)>> {
        let row = self
            .db
            .optional(
                "DELETE FROM pushed_requests WHERE id_hash = $1 AND expires_at > $2 RETURNING client_id, params",
                args![id_hash, now],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let corrupt = |detail: &str| StoreError::Corrupt { table: "pushed_requests", detail: detail.into() };
        let client = ClientId::parse(&row.get::<String>("client_id")?).map_err(|_| corrupt("client_id"))?;
        let params = serde_json::from_str(&row.get::<String>("params")?).map_err(|_| corrupt("params"))?;
        Ok(Some((client, params)))
    }
}
