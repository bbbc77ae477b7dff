//! [`SqlStore`] for RFC 8628 device authorizations.

use crate::{DeviceRecord, DeviceStore, Result, Session, SqlStore, StoreError};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::device::DeviceStatus;
use gatehouse_protocol::scope::ScopeSet;
use sqlx::Row;
use sqlx::any::AnyRow;

const COLUMNS: &str =
    "user_code, client_id, scope, status, sub, auth_time, sid, amr, poll_interval, expires_at, redeemed_at, slow_down";

fn record(r: &AnyRow) -> Result<DeviceRecord> {
    let status: String = r.try_get("status")?;
    let redeemed: Option<i64> = r.try_get("redeemed_at")?;
    let status = match (status.as_str(), redeemed) {
        ("approved", Some(_)) => DeviceStatus::Redeemed,
        ("approved", None) => DeviceStatus::Approved,
        ("denied", _) => DeviceStatus::Denied,
        _ => DeviceStatus::Pending,
    };
    let sub: Option<String> = r.try_get("sub")?;
    let approval = match sub {
        Some(sub) => {
            let amr: Option<String> = r.try_get("amr")?;
            Some(Session {
                sid: r.try_get::<Option<String>, _>("sid")?.unwrap_or_default(),
                sub,
                auth_time: r.try_get::<Option<i64>, _>("auth_time")?.unwrap_or_default(),
                amr: amr.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                expires_at: 0,
            })
        }
        None => None,
    };
    Ok(DeviceRecord {
        user_code: r.try_get("user_code")?,
        client_id: r.try_get("client_id")?,
        scope: {
            let scope: String = r.try_get("scope")?;
            ScopeSet::parse(&scope)
                .map_err(|_| StoreError::Corrupt { table: "device_codes", detail: "scope does not parse".into() })?
        },
        status,
        approval,
        interval: r.try_get("poll_interval")?,
        expires_at: r.try_get("expires_at")?,
        polled_too_fast: r.try_get::<i64, _>("slow_down")? != 0,
    })
}

#[async_trait]
impl DeviceStore for SqlStore {
    async fn insert_device(
        &self,
        device_code_hash: &str,
        user_code: &str,
        client_id: &str,
        scope: &ScopeSet,
        interval: i64,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<()> {
        // An expired authorization no longer holds its user code.
        sqlx::query("DELETE FROM device_codes WHERE user_code = $1 AND expires_at <= $2")
            .bind(user_code)
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO device_codes (device_code_hash, user_code, client_id, scope, status, poll_interval, created_at, expires_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)",
        )
        .bind(device_code_hash)
        .bind(user_code)
        .bind(client_id)
        .bind(scope.to_string())
        .bind(interval)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_pending_device(&self, user_code: &str, now: UnixTime) -> Result<Option<DeviceRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM device_codes WHERE user_code = $1 AND status = 'pending' AND expires_at > $2"
        ))
        .bind(user_code)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record).transpose()
    }

    async fn decide_device(&self, user_code: &str, approval: Option<&Session>, now: UnixTime) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE device_codes SET status = $1, sub = $2, auth_time = $3, sid = $4, amr = $5
             WHERE user_code = $6 AND status = 'pending' AND expires_at > $7",
        )
        .bind(if approval.is_some() { "approved" } else { "denied" })
        .bind(approval.map(|s| s.sub.clone()))
        .bind(approval.map(|s| s.auth_time))
        .bind(approval.map(|s| s.sid.clone()))
        .bind(approval.map(|s| s.amr.join(" ")))
        .bind(user_code)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn poll_device(&self, device_code_hash: &str, now: UnixTime) -> Result<Option<DeviceRecord>> {
        // SET expressions see the row as it was before this UPDATE, on both databases.
        let row = sqlx::query(&format!(
            "UPDATE device_codes SET
                slow_down = CASE WHEN last_poll_at IS NOT NULL AND $1 - last_poll_at < poll_interval THEN 1 ELSE 0 END,
                poll_interval = CASE WHEN last_poll_at IS NOT NULL AND $1 - last_poll_at < poll_interval
                                     THEN poll_interval + {step} ELSE poll_interval END,
                last_poll_at = $1
             WHERE device_code_hash = $2 RETURNING {COLUMNS}",
            step = gatehouse_protocol::device::SLOW_DOWN_STEP
        ))
        .bind(now)
        .bind(device_code_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record).transpose()
    }

    async fn redeem_device(&self, device_code_hash: &str, now: UnixTime) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE device_codes SET redeemed_at = $1
             WHERE device_code_hash = $2 AND status = 'approved' AND redeemed_at IS NULL",
        )
        .bind(now)
        .bind(device_code_hash)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
