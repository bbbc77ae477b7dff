//! [`SqlStore`] for sign-in state: interactions, sessions, consent, codes, refresh tokens and
//! the access-token revocation list. Single-use redemption is a conditional `UPDATE` of the code
//! or token presented, and the successor refresh token is stored with it atomically ([`redeem`]),
//! so the database, not luck, settles concurrent redemptions, and the loser's family revocation
//! always reaches the winner's token.

use crate::db::{Arg, Outcome, Row, Step, args};
use crate::records::{self, CodeRecord, RefreshRecord, RequestRecord};
use crate::{
    Backend, CodeLookup, CodeStore, ConsentStore, Interaction, InteractionStore, IssuedAccessToken, NewRefresh,
    PendingFactor, RefreshLookup, RefreshTokenStore, Result, RevocationStore, Session, SessionStore, SqlStore,
};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::authorization_code::CodeGrant;

/// A refresh token row's columns.
const REFRESH_COLUMNS: &str =
    "refresh_tokens (token_hash, family_id, document, expires_at, created_at, access_token_jti, access_token_exp)";

/// The insert of a refresh token: `$1`–`$7` ([`successor_args`]).
const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens (token_hash, family_id, document, expires_at, created_at, access_token_jti, access_token_exp) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Retires a code: `$5` now, `$8` the code's hash, `$9`/`$10` the access token issued for it.
const CONSUME_CODE: &str = "UPDATE authorization_codes SET consumed_at = $5, access_token_jti = $9, access_token_exp = $10 WHERE code_hash = $8 AND consumed_at IS NULL";

/// Retires a refresh token: `$5` now, `$8` the token's hash.
const ROTATE_REFRESH: &str =
    "UPDATE refresh_tokens SET rotated_at = $5 WHERE token_hash = $8 AND rotated_at IS NULL AND revoked_at IS NULL";

/// `$1`–`$7` of [`INSERT_REFRESH`] for `t` (`$5` is `now`); without a token, only `$5`.
fn successor_args(t: Option<&NewRefresh>, now: UnixTime) -> Result<Vec<Arg>> {
    Ok(match t {
        Some(t) => args![
            &t.token_hash,
            &t.grant.family_id,
            records::encode("refresh_tokens", &RefreshRecord::from(&t.grant))?,
            t.grant.expires_at,
            now,
            t.access_token.as_ref().map(|a| a.jti.clone()),
            t.access_token.as_ref().map(|a| a.expires_at)
        ],
        None => args![None::<&str>, None::<&str>, None::<&str>, None::<i64>, now, None::<&str>, None::<i64>],
    })
}

impl SqlStore {
    /// Single-use redemption: `retire` (a conditional `UPDATE` of the code or token presented,
    /// numbering its own arguments from `$8`, `$5` being now) and, if and only if it changed a
    /// row, the insert of `successor`, atomically. `true` when this call retired it.
    ///
    /// SQLite: both in one `BEGIN IMMEDIATE` transaction. PostgreSQL: one statement (a round
    /// trip instead of four), the successor inserted from the `UPDATE`'s `RETURNING`; SQLite
    /// has no writing CTEs.
    async fn redeem(
        &self,
        retire: &'static str,
        retire_args: Vec<Arg>,
        successor: Option<&NewRefresh>,
        now: UnixTime,
    ) -> Result<bool> {
        let mut all = successor_args(successor, now)?;
        if successor.is_none() {
            all.extend(retire_args);
            return Ok(self.db.execute(retire, all).await? == 1);
        }
        match self.backend {
            Backend::Postgres => {
                all.extend(retire_args);
                let sql = format!(
                    "WITH used AS ({retire} RETURNING 1 AS won) \
                     INSERT INTO {REFRESH_COLUMNS} SELECT $1, $2, $3, $4, $5, $6, $7 FROM used RETURNING 1 AS won"
                );
                Ok(!self.db.all(sql, all).await?.is_empty())
            }
            Backend::Sqlite => {
                // The retiring statement names only `$5` (now) of the successor's arguments.
                let mut retire_all = successor_args(None, now)?;
                retire_all.extend(retire_args);
                let steps = vec![Step::write(retire, retire_all).required(), Step::write(INSERT_REFRESH, all)];
                Ok(matches!(self.db.transaction(steps).await?, Outcome::Done(_)))
            }
        }
    }
}

#[async_trait]
impl InteractionStore for SqlStore {
    async fn insert_interaction(&self, id_hash: &str, i: &Interaction, now: UnixTime) -> Result<()> {
        let request = records::encode("interactions", &RequestRecord::from(&i.request))?;
        self.db
            .execute(
                "INSERT INTO interactions (id_hash, request, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                args![id_hash, request, &i.csrf, now, i.expires_at],
            )
            .await?;
        Ok(())
    }

    async fn get_interaction(&self, id_hash: &str, now: UnixTime) -> Result<Option<Interaction>> {
        let row = self
            .db
            .optional(
                "SELECT request, csrf, expires_at, login_sid, pending_factor FROM interactions
                 WHERE id_hash = $1 AND expires_at > $2",
                args![id_hash, now],
            )
            .await?;
        row.map(|r| {
            let request: String = r.get("request")?;
            let pending: Option<String> = r.get("pending_factor")?;
            Ok(Interaction {
                request: records::decode::<RequestRecord>("interactions", &request)?.try_into()?,
                csrf: r.get("csrf")?,
                expires_at: r.get("expires_at")?,
                login_sid: r.get("login_sid")?,
                pending_factor: pending.map(|p| records::decode("interactions", &p)).transpose()?,
            })
        })
        .transpose()
    }

    async fn delete_interaction(&self, id_hash: &str) -> Result<()> {
        self.db.execute("DELETE FROM interactions WHERE id_hash = $1", args![id_hash]).await?;
        Ok(())
    }

    async fn note_interaction_login(&self, id_hash: &str, sid: &str) -> Result<()> {
        self.db.execute("UPDATE interactions SET login_sid = $1 WHERE id_hash = $2", args![sid, id_hash]).await?;
        Ok(())
    }

    async fn set_pending_factor(&self, id_hash: &str, pending: Option<&PendingFactor>) -> Result<()> {
        let value = pending.map(|p| records::encode("interactions", p)).transpose()?;
        self.db
            .execute("UPDATE interactions SET pending_factor = $1 WHERE id_hash = $2", args![value, id_hash])
            .await?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, id_hash: &str, s: &Session, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO sessions (id_hash, sid, sub, auth_time, amr, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![id_hash, &s.sid, &s.sub, s.auth_time, s.amr.join(" "), now, s.expires_at],
            )
            .await?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<Session>> {
        let row = self
            .db
            .optional(
                "SELECT sid, sub, auth_time, amr, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
                args![id_hash, now],
            )
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.db.execute("DELETE FROM sessions WHERE id_hash = $1", args![id_hash]).await?;
        Ok(())
    }

    async fn add_session_client(&self, sid: &str, client_id: &str, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO session_clients (sid, client_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                args![sid, client_id, now],
            )
            .await?;
        Ok(())
    }

    async fn take_session_clients(&self, sid: &str) -> Result<Vec<String>> {
        let rows = self.db.all("DELETE FROM session_clients WHERE sid = $1 RETURNING client_id", args![sid]).await?;
        rows.iter().map(|r| r.get("client_id")).collect()
    }

    async fn list_user_sessions(&self, sub: &str, now: UnixTime) -> Result<Vec<(Session, UnixTime)>> {
        let rows = self
            .db
            .all_heavy(
                "SELECT sid, sub, auth_time, amr, expires_at, created_at FROM sessions
                 WHERE sub = $1 AND expires_at > $2 ORDER BY created_at DESC, sid",
                args![sub, now],
            )
            .await?;
        rows.iter().map(|r| Ok((session_from_row(r)?, r.get("created_at")?))).collect()
    }

    async fn delete_user_sessions(&self, sub: &str, sid: Option<&str>) -> Result<Vec<String>> {
        let rows = self
            .db
            .all_heavy(
                "DELETE FROM sessions WHERE sub = $1 AND ($2 = '' OR sid = $2) RETURNING sid",
                args![sub, sid.unwrap_or("")],
            )
            .await?;
        rows.iter().map(|r| r.get("sid")).collect()
    }
}

fn session_from_row(r: &Row) -> Result<Session> {
    let amr: String = r.get("amr")?;
    Ok(Session {
        sid: r.get("sid")?,
        sub: r.get("sub")?,
        auth_time: r.get("auth_time")?,
        amr: amr.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        expires_at: r.get("expires_at")?,
    })
}

#[async_trait]
impl ConsentStore for SqlStore {
    async fn get_consent(&self, sub: &str, client_id: &str) -> Result<Option<ScopeSet>> {
        let row =
            self.db.optional("SELECT scope FROM consents WHERE sub = $1 AND client_id = $2", args![sub, client_id]);
        let scope: Option<String> = row.await?.map(|r| r.get("scope")).transpose()?;
        // A consent that no longer parses is no consent: the user is asked again.
        Ok(scope.and_then(|s| ScopeSet::parse(&s).ok()))
    }

    async fn put_consent(&self, sub: &str, client_id: &str, scope: &ScopeSet, now: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO consents (sub, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (sub, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
                args![sub, client_id, scope.to_string(), now],
            )
            .await?;
        Ok(())
    }

    async fn list_consents(&self, sub: &str) -> Result<Vec<(String, ScopeSet, UnixTime)>> {
        let rows = self
            .db
            .all("SELECT client_id, scope, granted_at FROM consents WHERE sub = $1 ORDER BY client_id", args![sub])
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let scope: String = r.get("scope")?;
            if let Ok(scope) = ScopeSet::parse(&scope) {
                out.push((r.get("client_id")?, scope, r.get("granted_at")?));
            }
        }
        Ok(out)
    }

    async fn delete_consent(&self, sub: &str, client_id: &str) -> Result<bool> {
        let n =
            self.db.execute("DELETE FROM consents WHERE sub = $1 AND client_id = $2", args![sub, client_id]).await?;
        Ok(n > 0)
    }
}

/// `value` as a JSON string inside a `LIKE` pattern: `%`, `_` and the escape itself escaped.
fn like_json(field: &str, value: &str) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    let escaped = json.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%\"{field}\":{escaped}%")
}

#[async_trait]
impl CodeStore for SqlStore {
    async fn insert_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO authorization_codes (code_hash, grant_id, document, expires_at) VALUES ($1, $2, $3, $4)",
                args![
                    code_hash,
                    &grant.grant_id,
                    records::encode("authorization_codes", &CodeRecord::from(grant))?,
                    grant.expires_at
                ],
            )
            .await?;
        Ok(())
    }

    async fn find_code(&self, code_hash: &str) -> Result<Option<CodeLookup>> {
        let row = self
            .db
            .optional("SELECT document, consumed_at FROM authorization_codes WHERE code_hash = $1", args![code_hash])
            .await?;
        row.map(|r| code_lookup(&r.get::<String>("document")?, r.get("consumed_at")?)).transpose()
    }

    async fn consume_code(
        &self,
        code_hash: &str,
        now: UnixTime,
        at: &IssuedAccessToken,
        refresh: Option<&NewRefresh>,
    ) -> Result<bool> {
        self.redeem(CONSUME_CODE, args![code_hash, &at.jti, at.expires_at], refresh, now).await
    }
}

#[async_trait]
impl RefreshTokenStore for SqlStore {
    async fn insert_refresh(&self, token: &NewRefresh, now: UnixTime) -> Result<()> {
        self.db.execute(INSERT_REFRESH, successor_args(Some(token), now)?).await?;
        Ok(())
    }

    async fn rotate_refresh(&self, token_hash: &str, now: UnixTime, successor: &NewRefresh) -> Result<bool> {
        self.redeem(ROTATE_REFRESH, args![token_hash], Some(successor), now).await
    }

    async fn revoke_user_client_families(&self, sub: &str, client_id: &str, now: UnixTime) -> Result<u64> {
        // No column names the user or client: the live tokens' documents are matched in the
        // database, then decoded and checked exactly. Rare (a person revoking an application).
        let rows = self
            .db
            .all_heavy(
                "SELECT DISTINCT family_id, document FROM refresh_tokens
                 WHERE revoked_at IS NULL AND expires_at > $1
                   AND document LIKE $2 ESCAPE '\\' AND document LIKE $3 ESCAPE '\\'",
                args![now, like_json("client_id", client_id), like_json("sub", sub)],
            )
            .await?;
        let mut families = std::collections::BTreeSet::new();
        for r in rows {
            let document: String = r.get("document")?;
            let grant: gatehouse_protocol::token::refresh_token::RefreshGrant =
                records::decode::<RefreshRecord>("refresh_tokens", &document)?.into();
            if grant.sub == sub && grant.client_id == client_id {
                families.insert(grant.family_id);
            }
        }
        let mut revoked = 0;
        for f in &families {
            if self.revoke_family(f, now).await? > 0 {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn revoke_family(&self, family_id: &str, now: UnixTime) -> Result<u64> {
        let mut steps = vec![Step::write(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
            args![now, family_id],
        )];
        for (jti, exp, table) in [
            ("access_token_jti", "access_token_exp", "refresh_tokens WHERE family_id"),
            ("access_token_jti", "access_token_exp", "authorization_codes WHERE grant_id"),
            ("jti", "expires_at", "reissued_access_tokens WHERE family_id"),
        ] {
            steps.push(Step::write(
                format!(
                    "INSERT INTO revoked_access_tokens (jti, expires_at)
                     SELECT {jti}, {exp} FROM {table} = $1 AND {jti} IS NOT NULL AND {exp} > $2
                     ON CONFLICT DO NOTHING"
                ),
                args![family_id, now],
            ));
        }
        // A code of this grant not yet redeemed can no longer be.
        steps.push(Step::write(
            "UPDATE authorization_codes SET consumed_at = $1 WHERE grant_id = $2 AND consumed_at IS NULL",
            args![now, family_id],
        ));
        let revoked = match self.db.transaction(steps).await? {
            Outcome::Done(counts) => counts.first().copied().unwrap_or(0),
            Outcome::StoppedAt(_) => 0,
        };
        // Which access tokens were revoked is known only to the database.
        self.revoked.clear();
        self.announce(crate::changes::Change::Revoked(None)).await;
        Ok(revoked)
    }

    async fn reissue_access_token(&self, token_hash: &str, at: &IssuedAccessToken, now: UnixTime) -> Result<bool> {
        // The `UPDATE` changes nothing but takes the token's row lock: a concurrent family
        // revocation (whose first statement updates the same row) either commits first, and
        // then this finds the token revoked and records nothing, or waits for this to commit
        // and then copies the access token onto the revocation list.
        const TOUCH: &str = "UPDATE refresh_tokens SET expires_at = expires_at
             WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
        let all = args![token_hash, now, &at.jti, at.expires_at];
        Ok(match self.backend {
            Backend::Postgres => {
                let sql = format!(
                    "WITH live AS ({TOUCH} RETURNING family_id) \
                     INSERT INTO reissued_access_tokens (jti, family_id, expires_at) \
                     SELECT $3, family_id, $4 FROM live RETURNING 1 AS won"
                );
                !self.db.all(sql, all).await?.is_empty()
            }
            Backend::Sqlite => {
                // SQLite binds only the parameters a statement names.
                const RECORD: &str = "INSERT INTO reissued_access_tokens (jti, family_id, expires_at)
                     SELECT $3, family_id, $4 FROM refresh_tokens WHERE token_hash = $1";
                let steps = vec![Step::write(TOUCH, all.clone()).required(), Step::write(RECORD, all)];
                matches!(self.db.transaction(steps).await?, Outcome::Done(_))
            }
        })
    }

    async fn find_refresh(&self, token_hash: &str, now: UnixTime) -> Result<Option<RefreshLookup>> {
        let row = self
            .db
            .optional(
                "SELECT document, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                args![token_hash],
            )
            .await?;
        row.map(|r| {
            refresh_lookup(r.get("document")?, r.get("expires_at")?, r.get("rotated_at")?, r.get("revoked_at")?, now)
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
        rotated_at: rotated_at.filter(|_| revoked_at.is_none()),
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
        let row = self.db.optional("SELECT 1 AS x FROM revoked_access_tokens WHERE jti = $1", args![jti]).await?;
        self.revoked.put(jti, row.is_some(), generation);
        Ok(row.is_some())
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![jti, expires_at],
            )
            .await?;
        self.revoked.remove(jti);
        self.announce(crate::changes::Change::Revoked(Some(jti.to_owned()))).await;
        Ok(())
    }
}

#[async_trait]
impl crate::ReplayStore for SqlStore {
    async fn record_once(&self, jti_key: &str, expires_at: UnixTime) -> Result<bool> {
        let n = self
            .db
            .execute(
                "INSERT INTO seen_jtis (jti_key, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![jti_key, expires_at],
            )
            .await?;
        Ok(n == 1)
    }
}
