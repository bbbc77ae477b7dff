//! [`SqlStore`] for upstream identities: which user of an upstream provider is which user
//! here. A provider's subject links to one user at most (the primary key settles a race between
//! two first sign-ins); a user created at their first sign-in is written with their link in one
//! transaction, so there is never a user without the link that made them.

use crate::db::{Row, Step, args};
use crate::sql::{USER_COLUMNS, insert_user, like_pattern, user_from_row};
use crate::{Result, SqlStore, StoreError, UpstreamLink, UpstreamStore};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::user::User;

const COLUMNS: &str = "provider, subject, sub, email, created_at, last_used_at";

fn link(r: &Row) -> Result<UpstreamLink> {
    Ok(UpstreamLink {
        provider: r.get("provider")?,
        subject: r.get("subject")?,
        sub: r.get("sub")?,
        email: r.get("email")?,
        created_at: r.get("created_at")?,
        last_used_at: r.get("last_used_at")?,
    })
}

fn insert_link(l: &UpstreamLink) -> Step {
    Step::write(
        format!("INSERT INTO upstream_links ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        args![&l.provider, &l.subject, &l.sub, l.email.as_deref(), l.created_at, l.last_used_at],
    )
}

fn conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict("that upstream identity is linked already"),
        other => other,
    }
}

#[async_trait]
impl UpstreamStore for SqlStore {
    async fn insert_link(&self, l: &UpstreamLink) -> Result<()> {
        self.db.transaction(vec![insert_link(l)]).await.map_err(conflict)?;
        Ok(())
    }

    async fn insert_user_with_link(&self, user: &User, l: &UpstreamLink, now: UnixTime) -> Result<()> {
        let insert_user = insert_user("", user, now)?;
        self.db.transaction(vec![insert_user, insert_link(l)]).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("that username, sub or upstream identity is taken"),
            other => other,
        })?;
        Ok(())
    }

    async fn find_link(&self, provider: &str, subject: &str) -> Result<Option<UpstreamLink>> {
        let row = self
            .db
            .optional(
                format!("SELECT {COLUMNS} FROM upstream_links WHERE provider = $1 AND subject = $2"),
                args![provider, subject],
            )
            .await?;
        row.as_ref().map(link).transpose()
    }

    async fn list_links(&self, sub: &str) -> Result<Vec<UpstreamLink>> {
        let rows = self
            .db
            .all(
                format!("SELECT {COLUMNS} FROM upstream_links WHERE sub = $1 ORDER BY created_at, provider, subject"),
                args![sub],
            )
            .await?;
        rows.iter().map(link).collect()
    }

    async fn delete_link(&self, sub: &str, provider: &str, subject: &str) -> Result<bool> {
        let n = self
            .db
            .execute(
                "DELETE FROM upstream_links WHERE sub = $1 AND provider = $2 AND subject = $3",
                args![sub, provider, subject],
            )
            .await?;
        Ok(n > 0)
    }

    async fn touch_link(&self, provider: &str, subject: &str, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "UPDATE upstream_links SET last_used_at = $3 WHERE provider = $1 AND subject = $2",
                args![provider, subject, now],
            )
            .await?;
        Ok(())
    }

    async fn put_upstream(&self, id: &str, document: &str, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO upstreams (id, document, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
                args![id, document, now],
            )
            .await?;
        Ok(())
    }

    async fn list_upstreams(&self) -> Result<Vec<(String, String)>> {
        let rows = self.db.all("SELECT id, document FROM upstreams ORDER BY id", args![]).await?;
        rows.iter().map(|r| Ok((r.get("id")?, r.get("document")?))).collect()
    }

    async fn delete_upstream(&self, id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM upstreams WHERE id = $1", args![id]).await? > 0)
    }

    async fn users_with_email(&self, email: &str) -> Result<Vec<User>> {
        // The claims are JSON text in both databases: find candidates by text, then keep those
        // whose `email` claim is the address (any case), not one that merely contains it.
        let rows = self
            .db
            .all_heavy(
                format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(claims) LIKE $1 ESCAPE '\\' ORDER BY username"),
                args![like_pattern(Some(email))],
            )
            .await?;
        let users: Vec<User> = rows.iter().map(user_from_row).collect::<Result<_>>()?;
        let wanted = email.to_lowercase();
        Ok(users
            .into_iter()
            .filter(|u| u.claims.get("email").and_then(|e| e.as_str()).is_some_and(|e| e.to_lowercase() == wanted))
            .collect())
    }
}
