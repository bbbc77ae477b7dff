//! [`SqlStore`] for the console's overview: hourly activity counts that every node adds to with
//! one upsert per kind, and the totals of clients, users and active sessions.

use crate::db::args;
use crate::{ActivityStore, Result, SqlStore, Totals};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;

#[async_trait]
impl ActivityStore for SqlStore {
    async fn add_activity(&self, hour: i64, kind: &str, count: i64, expires_at: UnixTime) -> Result<()> {
        let bucket = format!("{hour}:{kind}");
        self.db
            .execute(
                "INSERT INTO activity (bucket, hour, kind, count, expires_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (bucket) DO UPDATE SET count = activity.count + excluded.count",
                args![bucket, hour, kind, count, expires_at],
            )
            .await?;
        Ok(())
    }

    async fn activity_since(&self, since_hour: i64) -> Result<Vec<(String, i64)>> {
        let rows = self
            .db
            .all(
                "SELECT kind, CAST(SUM(count) AS BIGINT) AS total FROM activity WHERE hour >= $1 GROUP BY kind ORDER BY kind",
                args![since_hour],
            )
            .await?;
        rows.into_iter().map(|r| Ok((r.get("kind")?, r.get("total")?))).collect()
    }

    async fn totals(&self, now: UnixTime) -> Result<Totals> {
        let row = self
            .db
            .one(
                "SELECT (SELECT COUNT(*) FROM clients) AS clients, (SELECT COUNT(*) FROM users) AS users,
                        (SELECT COUNT(*) FROM sessions WHERE expires_at > $1) AS active_sessions",
                args![now],
            )
            .await?;
        Ok(Totals {
            clients: row.get("clients")?,
            users: row.get("users")?,
            active_sessions: row.get("active_sessions")?,
        })
    }
}
