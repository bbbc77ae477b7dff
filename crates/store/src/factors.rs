//! [`SqlStore`] for second factors and recovery codes. Single use is settled by the database:
//! a TOTP step is accepted by a conditional `UPDATE` (later than the last step accepted), a
//! recovery code by one that marks it used only if it was unused; a passkey ceremony's state is
//! taken by one `DELETE ... RETURNING`.

use crate::db::{Row, Step, args};
use crate::{Factor, FactorKind, FactorStore, Result, SqlStore, StoreError};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;

const COLUMNS: &str = "id, sub, kind, name, secret, last_step, created_at, last_used_at";

fn factor(r: &Row) -> Result<Factor> {
    let kind: String = r.get("kind")?;
    Ok(Factor {
        id: r.get("id")?,
        sub: r.get("sub")?,
        kind: FactorKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("user_factors: unknown kind {kind:?}")))?,
        name: r.get("name")?,
        secret: r.get("secret")?,
        last_step: r.get("last_step")?,
        created_at: r.get("created_at")?,
        last_used_at: r.get("last_used_at")?,
    })
}

#[async_trait]
impl FactorStore for SqlStore {
    async fn insert_factor(&self, f: &Factor) -> Result<()> {
        self.db
            .execute(
                format!("INSERT INTO user_factors ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                args![&f.id, &f.sub, f.kind.as_str(), &f.name, &f.secret, f.last_step, f.created_at, f.last_used_at],
            )
            .await?;
        Ok(())
    }

    async fn list_factors(&self, sub: &str) -> Result<Vec<Factor>> {
        let rows = self
            .db
            .all(format!("SELECT {COLUMNS} FROM user_factors WHERE sub = $1 ORDER BY created_at, id"), args![sub])
            .await?;
        rows.iter().map(factor).collect()
    }

    async fn delete_factor(&self, sub: &str, id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM user_factors WHERE sub = $1 AND id = $2", args![sub, id]).await? > 0)
    }

    async fn delete_factors(&self, sub: &str) -> Result<u64> {
        let done = self
            .db
            .transaction(vec![
                Step::write("DELETE FROM recovery_codes WHERE sub = $1", args![sub]),
                Step::write("DELETE FROM user_factors WHERE sub = $1", args![sub]),
            ])
            .await?;
        Ok(match done {
            crate::db::Outcome::Done(counts) => counts.last().copied().unwrap_or(0),
            _ => 0,
        })
    }

    async fn use_totp_step(&self, id: &str, step: i64, now: UnixTime) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE user_factors SET last_step = $1, last_used_at = $2
                 WHERE id = $3 AND kind = 'totp' AND (last_step IS NULL OR last_step < $1)",
                args![step, now, id],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn touch_factor(&self, id: &str, secret: &str, now: UnixTime) -> Result<()> {
        self.db
            .execute("UPDATE user_factors SET secret = $1, last_used_at = $2 WHERE id = $3", args![secret, now, id])
            .await?;
        Ok(())
    }

    async fn replace_recovery_codes(&self, sub: &str, hashes: &[String]) -> Result<()> {
        let mut steps = vec![Step::write("DELETE FROM recovery_codes WHERE sub = $1", args![sub])];
        for h in hashes {
            steps.push(Step::write("INSERT INTO recovery_codes (sub, code_hash) VALUES ($1, $2)", args![sub, h]));
        }
        self.db.transaction(steps).await?;
        Ok(())
    }

    async fn use_recovery_code(&self, sub: &str, hash: &str, now: UnixTime) -> Result<Option<i64>> {
        let used = self
            .db
            .execute(
                "UPDATE recovery_codes SET used_at = $1 WHERE sub = $2 AND code_hash = $3 AND used_at IS NULL",
                args![now, sub, hash],
            )
            .await?;
        if used != 1 {
            return Ok(None);
        }
        Ok(Some(self.recovery_codes_left(sub).await?))
    }

    async fn get_factor(&self, id: &str) -> Result<Option<Factor>> {
        let row = self.db.optional(format!("SELECT {COLUMNS} FROM user_factors WHERE id = $1"), args![id]).await?;
        row.as_ref().map(factor).transpose()
    }

    async fn put_ceremony(&self, id_hash: &str, bound_to: &str, state: &str, expires_at: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO ceremonies (id_hash, bound_to, state, expires_at) VALUES ($1, $2, $3, $4)",
                args![id_hash, bound_to, state, expires_at],
            )
            .await?;
        Ok(())
    }

    async fn take_ceremony(&self, id_hash: &str, bound_to: &str, now: UnixTime) -> Result<Option<String>> {
        // Deleted whatever it was bound to: an id tried in the wrong place is spent.
        let row = self
            .db
            .optional("DELETE FROM ceremonies WHERE id_hash = $1 RETURNING bound_to, state, expires_at", args![id_hash])
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (bound, expires_at): (String, i64) = (row.get("bound_to")?, row.get("expires_at")?);
        Ok((bound == bound_to && expires_at > now).then(|| row.get("state")).transpose()?)
    }

    async fn recovery_codes_left(&self, sub: &str) -> Result<i64> {
        let row = self
            .db
            .optional("SELECT COUNT(*) AS n FROM recovery_codes WHERE sub = $1 AND used_at IS NULL", args![sub])
            .await?;
        Ok(row.map(|r| r.get::<i64>("n")).transpose()?.unwrap_or(0))
    }
}
