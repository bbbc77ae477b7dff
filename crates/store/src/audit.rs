//! [`SqlStore`] for the audit log: append-only, read newest first.

use crate::{AuditEntry, AuditQuery, AuditStore, Result, SqlStore};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, e: &AuditEntry) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (id, at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&e.id)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(e.details.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, details FROM audit_log
             WHERE ($1 = '' OR id < $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR SUBSTR(action, 1, LENGTH($3)) = $3)
               AND ($4 = '' OR target = $4)
             ORDER BY id DESC LIMIT $5",
        )
        .bind(q.before.as_deref().unwrap_or(""))
        .bind(q.actor.as_deref().unwrap_or(""))
        .bind(q.action.as_deref().unwrap_or(""))
        .bind(q.target.as_deref().unwrap_or(""))
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    details: {
                        let details: String = r.try_get("details")?;
                        crate::records::decode("audit_log", &details)?
                    },
                })
            })
            .collect()
    }
}
