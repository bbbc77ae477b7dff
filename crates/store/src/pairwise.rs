//! Pairwise subjects (OIDC Core §8.1) and the users they stand for.

use crate::Result;
use crate::db::args;
use crate::sql::SqlStore;
use async_trait::async_trait;

#[async_trait]
impl crate::PairwiseStore for SqlStore {
    async fn remember_pairwise(&self, pairwise_sub: &str, sub: &str) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO pairwise_subjects (pairwise_sub, sub) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![pairwise_sub, sub],
            )
            .await?;
        Ok(())
    }

    async fn pairwise_owner(&self, pairwise_sub: &str) -> Result<Option<String>> {
        let row =
            self.db.optional("SELECT sub FROM pairwise_subjects WHERE pairwise_sub = $1", args![pairwise_sub]).await?;
        row.map(|r| r.get::<String>("sub")).transpose()
    }
}
