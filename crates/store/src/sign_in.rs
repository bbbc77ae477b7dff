//! [`SqlStore`] for sign-in state: interactions, sessions, consent, codes, refresh tokens and
//! the access-token revocation list. Single-use redemption is a conditional `UPDATE` that
//! stores the successor refresh token in the same statement (PostgreSQL), the same transaction
//! (SQLite on the calling thread, `direct.rs`) or right before it (SQLite through sqlx,
//! see [`redeem!`]), so the database, not luck, settles concurrent redemptions, and the loser's
//! family revocation always reaches the winner's token. On SQLite, code and refresh token
//! lookups and redemptions try `direct.rs` first, with the same SQL.

use crate::direct::Params as DirectParams;
use crate::records::{self, CodeRecord, RefreshRecord, RequestRecord};
use crate::{
    Backend, CodeLookup, CodeStore, ConsentStore, Interaction, InteractionStore, IssuedAccessToken, NewRefresh,
    RefreshLookup, RefreshTokenStore, Result, RevocationStore, Session, SessionStore, SqlStore, StoreError,
};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::authorization_code::CodeGrant;
use sqlx::Row;

/// The columns of a refresh token row and their parameters, `$1`–`$7`, bound by
/// [`refresh_insert`]; statements that retire a code or token ([`redeem!`]) number their own
/// parameters from `$8`.
macro_rules! refresh_columns {
    () => {
        "refresh_tokens (token_hash, family_id, document, expires_at, created_at, access_token_jti, access_token_exp)"
    };
}

macro_rules! insert_refresh {
    () => {
        concat!("INSERT INTO ", refresh_columns!(), " VALUES ($1, $2, $3, $4, $5, $6, $7)")
    };
}

/// The insert of a refresh token ([`refresh_columns`]).
pub(crate) const INSERT_REFRESH: &str = insert_refresh!();

/// A redemption in one round trip: store the successor refresh token (`$1`–`$7`, `$5` being now)
/// if and only if `$retire`, a conditional `UPDATE` of the code or token presented (`$8`…),
/// changes a row; a row comes back when it did.
///
/// PostgreSQL: one statement, the successor inserted from the `UPDATE`'s `RETURNING`.
///
/// SQLite has no writing CTEs, so three statements sent together (one hand-off to sqlx's worker
/// thread), each atomic, without a transaction: store the successor, retire, and take the
/// successor back out if the `UPDATE` changed nothing (`changes()` is the last completed
/// statement's count, on this connection). Because the successor is stored before the retiring
/// statement runs, a loser (which can only notice it lost after that statement) always finds the
/// winner's successor when it revokes the family. A crash between them leaves a successor nobody
/// holds. The statements must be read to the end (`fetch_all`): sqlx stops running them when the
/// reader goes away.
macro_rules! redeem {
    (Postgres, $retire:expr) => {
        concat!(
            "WITH used AS (",
            $retire,
            " RETURNING 1 AS won) INSERT INTO ",
            refresh_columns!(),
            " SELECT $1, $2, $3, $4, $5, $6, $7 FROM used RETURNING 1 AS won"
        )
    };
    (Sqlite, $retire:expr) => {
        concat!(
            insert_refresh!(),
            "; ",
            $retire,
            " RETURNING 1 AS won; DELETE FROM refresh_tokens WHERE token_hash = $1 AND changes() = 0"
        )
    };
}

/// The stored document of a refresh token's grant.
fn refresh_document(t: &NewRefresh) -> Result<String> {
    records::encode("refresh_tokens", &RefreshRecord::from(&t.grant))
}

/// `sql` (an insert of [`refresh_columns`]) with `$1`–`$7` bound for `t` and its `document`.
fn refresh_insert<'q>(
    sql: &'q str,
    t: &'q NewRefresh,
    document: &'q str,
    now: UnixTime,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&t.token_hash)
        .bind(&t.grant.family_id)
        .bind(document)
        .bind(t.grant.expires_at)
        .bind(now)
        .bind(t.access_token.as_ref().map(|a| a.jti.clone()))
        .bind(t.access_token.as_ref().map(|a| a.expires_at))
}

#[async_trait]
impl InteractionStore for SqlStore {
    async fn insert_interaction(&self, id_hash: &str, i: &Interaction, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO interactions (id_hash, request, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(records::encode("interactions", &RequestRecord::from(&i.request))?)
        .bind(&i.csrf)
        .bind(now)
        .bind(i.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_interaction(&self, id_hash: &str, now: UnixTime) -> Result<Option<Interaction>> {
        let row =
            sqlx::query("SELECT request, csrf, expires_at FROM interactions WHERE id_hash = $1 AND expires_at > $2")
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            let request: String = r.try_get("request")?;
            Ok(Interaction {
                request: records::decode::<RequestRecord>("interactions", &request)?.try_into()?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn delete_interaction(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM interactions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, id_hash: &str, s: &Session, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, sid, sub, auth_time, amr, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id_hash)
        .bind(&s.sid)
        .bind(&s.sub)
        .bind(s.auth_time)
        .bind(s.amr.join(" "))
        .bind(now)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT sid, sub, auth_time, amr, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn add_session_client(&self, sid: &str, client_id: &str, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO session_clients (sid, client_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(sid)
        .bind(client_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_session_clients(&self, sid: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("DELETE FROM session_clients WHERE sid = $1 RETURNING client_id")
            .bind(sid)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("client_id")?)).collect()
    }

    async fn list_user_sessions(&self, sub: &str, now: UnixTime) -> Result<Vec<(Session, UnixTime)>> {
        let rows = sqlx::query(
            "SELECT sid, sub, auth_time, amr, expires_at, created_at FROM sessions
             WHERE sub = $1 AND expires_at > $2 ORDER BY created_at DESC, sid",
        )
        .bind(sub)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((session_from_row(r)?, r.try_get("created_at")?))).collect()
    }

    async fn delete_user_sessions(&self, sub: &str, sid: Option<&str>) -> Result<Vec<String>> {
        let rows = sqlx::query("DELETE FROM sessions WHERE sub = $1 AND ($2 = '' OR sid = $2) RETURNING sid")
            .bind(sub)
            .bind(sid.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("sid")?)).collect()
    }
}

fn session_from_row(r: &sqlx::any::AnyRow) -> Result<Session> {
    let amr: String = r.try_get("amr")?;
    Ok(Session {
        sid: r.try_get("sid")?,
        sub: r.try_get("sub")?,
        auth_time: r.try_get("auth_time")?,
        amr: amr.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        expires_at: r.try_get("expires_at")?,
    })
}

#[async_trait]
impl ConsentStore for SqlStore {
    async fn get_consent(&self, sub: &str, client_id: &str) -> Result<Option<ScopeSet>> {
        let row = sqlx::query("SELECT scope FROM consents WHERE sub = $1 AND client_id = $2")
            .bind(sub)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        let scope: Option<String> = row.map(|r| r.try_get("scope")).transpose()?;
        // A consent that no longer parses is no consent: the user is asked again.
        Ok(scope.and_then(|s| ScopeSet::parse(&s).ok()))
    }

    async fn put_consent(&self, sub: &str, client_id: &str, scope: &ScopeSet, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO consents (sub, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sub, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(sub)
        .bind(client_id)
        .bind(scope.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl CodeStore for SqlStore {
    async fn insert_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, grant_id, document, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(code_hash)
        .bind(&grant.grant_id)
        .bind(records::encode("authorization_codes", &CodeRecord::from(grant))?)
        .bind(grant.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_code(&self, code_hash: &str) -> Result<Option<CodeLookup>> {
        const SQL: &str = "SELECT document, consumed_at FROM authorization_codes WHERE code_hash = $1";
        if let Some(found) = self.direct.as_ref().and_then(|d| {
            d.find(SQL, &[("$1", &code_hash)], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))).ok()
        }) {
            return found?.map(|(document, consumed)| code_lookup(&document, consumed)).transpose();
        }
        let row = sqlx::query(SQL).bind(code_hash).fetch_optional(&self.pool).await?;
        row.map(|r| code_lookup(&r.try_get::<String, _>("document")?, r.try_get("consumed_at")?)).transpose()
    }

    async fn consume_code(
        &self,
        code_hash: &str,
        now: UnixTime,
        at: &IssuedAccessToken,
        refresh: Option<&NewRefresh>,
    ) -> Result<bool> {
        macro_rules! consume {
            ($now:literal, $code:literal, $jti:literal, $exp:literal) => {
                concat!(
                    "UPDATE authorization_codes SET consumed_at = ",
                    $now,
                    ", access_token_jti = ",
                    $jti,
                    ", access_token_exp = ",
                    $exp,
                    " WHERE code_hash = ",
                    $code,
                    " AND consumed_at IS NULL"
                )
            };
        }
        let document = refresh.map(refresh_document).transpose()?;
        let successor = refresh.zip(document.as_deref());
        if let Some(direct) = &self.direct {
            let params: &DirectParams<'_> =
                &[("$5", &now), ("$8", &code_hash), ("$9", &at.jti), ("$10", &at.expires_at)];
            let successor = successor.map(|(t, d)| (INSERT_REFRESH, t, d));
            if let Ok(redeemed) = direct.redeem(consume!("$5", "$8", "$9", "$10"), params, successor, now) {
                return redeemed;
            }
        }
        let Some((t, document)) = successor else {
            let q = sqlx::query(consume!("$1", "$2", "$3", "$4")).bind(now).bind(code_hash).bind(&at.jti);
            return Ok(q.bind(at.expires_at).execute(&self.pool).await?.rows_affected() == 1);
        };
        let sql = match self.backend {
            Backend::Postgres => redeem!(Postgres, consume!("$5", "$8", "$9", "$10")),
            Backend::Sqlite => redeem!(Sqlite, consume!("$5", "$8", "$9", "$10")),
        };
        let q = refresh_insert(sql, t, document, now).bind(code_hash).bind(&at.jti).bind(at.expires_at);
        Ok(!q.fetch_all(&self.pool).await?.is_empty())
    }
}

#[async_trait]
impl RefreshTokenStore for SqlStore {
    async fn insert_refresh(&self, token: &NewRefresh, now: UnixTime) -> Result<()> {
        let document = refresh_document(token)?;
        refresh_insert(INSERT_REFRESH, token, &document, now).execute(&self.pool).await?;
        Ok(())
    }

    async fn rotate_refresh(&self, token_hash: &str, now: UnixTime, successor: &NewRefresh) -> Result<bool> {
        macro_rules! retire {
            () => {
                "UPDATE refresh_tokens SET rotated_at = $5 WHERE token_hash = $8 AND rotated_at IS NULL AND revoked_at IS NULL"
            };
        }
        let document = refresh_document(successor)?;
        if let Some(direct) = &self.direct {
            let params: &DirectParams<'_> = &[("$5", &now), ("$8", &token_hash)];
            if let Ok(redeemed) = direct.redeem(retire!(), params, Some((INSERT_REFRESH, successor, &document)), now) {
                return redeemed;
            }
        }
        let sql = match self.backend {
            Backend::Postgres => redeem!(Postgres, retire!()),
            Backend::Sqlite => redeem!(Sqlite, retire!()),
        };
        let q = refresh_insert(sql, successor, &document, now).bind(token_hash);
        Ok(!q.fetch_all(&self.pool).await?.is_empty())
    }

    async fn revoke_family(&self, family_id: &str, now: UnixTime) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let revoked =
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(family_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        for table in ["refresh_tokens WHERE family_id", "authorization_codes WHERE grant_id"] {
            sqlx::query(&format!(
                "INSERT INTO revoked_access_tokens (jti, expires_at)
                 SELECT access_token_jti, access_token_exp FROM {table} = $1
                 AND access_token_jti IS NOT NULL AND access_token_exp > $2
                 ON CONFLICT DO NOTHING"
            ))
            .bind(family_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // A code of this grant not yet redeemed can no longer be.
        sqlx::query("UPDATE authorization_codes SET consumed_at = $1 WHERE grant_id = $2 AND consumed_at IS NULL")
            .bind(now)
            .bind(family_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        // Which access tokens were revoked is known only to the database.
        self.revoked.clear();
        self.announce(crate::changes::Change::Revoked(None)).await;
        Ok(revoked)
    }

    async fn find_refresh(&self, token_hash: &str, now: UnixTime) -> Result<Option<RefreshLookup>> {
        const SQL: &str =
            "SELECT document, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1";
        if let Some(found) = self.direct.as_ref().and_then(|d| {
            d.find(SQL, &[("$1", &token_hash)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).ok()
        }) {
            return found?
                .map(|(document, expires, rotated, revoked)| refresh_lookup(document, expires, rotated, revoked, now))
                .transpose();
        }
        let row = sqlx::query(SQL).bind(token_hash).fetch_optional(&self.pool).await?;
        row.map(|r| {
            refresh_lookup(
                r.try_get("document")?,
                r.try_get("expires_at")?,
                r.try_get("rotated_at")?,
                r.try_get("revoked_at")?,
                now,
            )
        })
        .transpose()
    }
}

/// A refresh token row's lookup as of `now`.
fn refresh_lookup(
    document: String,
    expires_at: UnixTime,
    rotated_at: Option<UnixTime>,
    revoked_at: Option<UnixTime>,
    now: UnixTime,
) -> Result<RefreshLookup> {
    Ok(RefreshLookup {
        grant: records::decode::<RefreshRecord>("refresh_tokens", &document)?.into(),
        live: rotated_at.is_none() && revoked_at.is_none() && expires_at > now,
        used: rotated_at.is_some() || revoked_at.is_some(),
    })
}

/// A code row's lookup.
fn code_lookup(document: &str, consumed_at: Option<UnixTime>) -> Result<CodeLookup> {
    let grant = records::decode::<CodeRecord>("authorization_codes", document)?.try_into()?;
    Ok(CodeLookup { grant, consumed: consumed_at.is_some() })
}

#[async_trait]
impl RevocationStore for SqlStore {
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool> {
        if let Some(revoked) = self.revoked.get(jti) {
            return Ok(revoked);
        }
        let generation = self.revoked.generation();
        let row = sqlx::query("SELECT 1 AS x FROM revoked_access_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?;
        self.revoked.put(jti, row.is_some(), generation);
        Ok(row.is_some())
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> Result<()> {
        sqlx::query("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(jti)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        self.revoked.remove(jti);
        self.announce(crate::changes::Change::Revoked(Some(jti.to_owned()))).await;
        Ok(())
    }
}
