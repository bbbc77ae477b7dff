//! [`SqlStore`] for the audit log: append-only, read newest first.

use crate::db::args;
use crate::{AuditEntry, AuditQuery, AuditStore, Result, SqlStore};
use async_trait::async_trait;

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, e: &AuditEntry) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO audit_log (id, at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5, $6)",
                args![&e.id, e.at, &e.actor, &e.action, &e.target, e.details.to_string()],
            )
            .await?;
        Ok(())
    }

    async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let rows = self
            .db
            .all_heavy(
                "SELECT id, at, actor, action, target, details FROM audit_log
             WHERE ($1 = '' OR id < $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR SUBSTR(action, 1, LENGTH($3)) = $3)
               AND ($4 = '' OR target = $4)
             ORDER BY id DESC LIMIT $5",
                args![
                    q.before.as_deref().unwrap_or(""),
                    q.actor.as_deref().unwrap_or(""),
                    q.action.as_deref().unwrap_or(""),
                    q.target.as_deref().unwrap_or(""),
                    q.limit
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.get("id")?,
                    at: r.get("at")?,
                    actor: r.get("actor")?,
                    action: r.get("action")?,
                    target: r.get("target")?,
                    details: {
                        let details: String = r.get("details")?;
                        crate::records::decode("audit_log", &details)?
                    },
                })
            })
            .collect()
    }
}
