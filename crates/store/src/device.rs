//! [`SqlStore`] for RFC 8628 device authorizations.

use crate::db::{Row, args};
use crate::{DeviceRecord, DeviceStore, Result, Session, SqlStore, StoreError};
use async_trait::async_trait;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::device::DeviceStatus;
use gatehouse_protocol::resource::ResourceId;
use gatehouse_protocol::scope::ScopeSet;

fn resource_list(resources: &[ResourceId]) -> String {
    resources.iter().map(ResourceId::as_str).collect::<Vec<_>>().join(" ")
}

const COLUMNS: &str = "user_code, client_id, scope, resources, status, sub, auth_time, sid, amr, poll_interval, expires_at, redeemed_at, slow_down";

fn record(r: &Row) -> Result<DeviceRecord> {
    let status: String = r.get("status")?;
    let redeemed: Option<i64> = r.get("redeemed_at")?;
    let status = match (status.as_str(), redeemed) {
        ("approved", Some(_)) => DeviceStatus::Redeemed,
        ("approved", None) => DeviceStatus::Approved,
        ("denied", _) => DeviceStatus::Denied,
        _ => DeviceStatus::Pending,
    };
    let sub: Option<String> = r.get("sub")?;
    let approval = match sub {
        Some(sub) => {
            let amr: Option<String> = r.get("amr")?;
            Some(Session {
                sid: r.get::<Option<String>>("sid")?.unwrap_or_default(),
                sub,
                auth_time: r.get::<Option<i64>>("auth_time")?.unwrap_or_default(),
                amr: amr.unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                expires_at: 0,
            })
        }
        None => None,
    };
    Ok(DeviceRecord {
        user_code: r.get("user_code")?,
        client_id: r.get("client_id")?,
        scope: {
            let scope: String = r.get("scope")?;
            ScopeSet::parse(&scope)
                .map_err(|_| StoreError::Corrupt { table: "device_codes", detail: "scope does not parse".into() })?
        },
        resources: {
            let raw: String = r.get("resources")?;
            raw.split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    ResourceId::parse(s).map_err(|_| StoreError::Corrupt {
                        table: "device_codes",
                        detail: "a resource does not parse".into(),
                    })
                })
                .collect::<Result<_>>()?
        },
        status,
        approval,
        interval: r.get("poll_interval")?,
        expires_at: r.get("expires_at")?,
        polled_too_fast: r.get::<i64>("slow_down")? != 0,
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
        resources: &[ResourceId],
        interval: i64,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<()> {
        // An expired authorization no longer holds its user code.
        self.db
            .execute("DELETE FROM device_codes WHERE user_code = $1 AND expires_at <= $2", args![user_code, now])
            .await?;
        self.db
            .execute(
                "INSERT INTO device_codes (device_code_hash, user_code, client_id, scope, resources, status, poll_interval, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
                args![device_code_hash, user_code, client_id, scope.to_string(), resource_list(resources), interval, now, expires_at],
            )
            .await?;
        Ok(())
    }

    async fn find_pending_device(&self, user_code: &str, now: UnixTime) -> Result<Option<DeviceRecord>> {
        let row = self
            .db
            .optional(
                format!(
                    "SELECT {COLUMNS} FROM device_codes WHERE user_code = $1 AND status = 'pending' AND expires_at > $2"
                ),
                args![user_code, now],
            )
            .await?;
        row.as_ref().map(record).transpose()
    }

    async fn decide_device(&self, user_code: &str, approval: Option<&Session>, now: UnixTime) -> Result<bool> {
        let n = self
            .db
            .execute(
                "UPDATE device_codes SET status = $1, sub = $2, auth_time = $3, sid = $4, amr = $5
                 WHERE user_code = $6 AND status = 'pending' AND expires_at > $7",
                args![
                    if approval.is_some() { "approved" } else { "denied" },
                    approval.map(|s| s.sub.clone()),
                    approval.map(|s| s.auth_time),
                    approval.map(|s| s.sid.clone()),
                    approval.map(|s| s.amr.join(" ")),
                    user_code,
                    now
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn poll_device(&self, device_code_hash: &str, now: UnixTime) -> Result<Option<DeviceRecord>> {
        // SET expressions see the row as it was before this UPDATE, on both databases.
        let row = self
            .db
            .optional(
                format!(
                    "UPDATE device_codes SET
                slow_down = CASE WHEN last_poll_at IS NOT NULL AND $1 - last_poll_at < poll_interval THEN 1 ELSE 0 END,
                poll_interval = CASE WHEN last_poll_at IS NOT NULL AND $1 - last_poll_at < poll_interval
                                     THEN poll_interval + {step} ELSE poll_interval END,
                last_poll_at = $1
             WHERE device_code_hash = $2 RETURNING {COLUMNS}",
                    step = gatehouse_protocol::device::SLOW_DOWN_STEP
                ),
                args![now, device_code_hash],
            )
            .await?;
        row.as_ref().map(record).transpose()
    }

    async fn redeem_device(&self, device_code_hash: &str, now: UnixTime) -> Result<bool> {
        let n = self
            .db
            .execute(
                "UPDATE device_codes SET redeemed_at = $1
                 WHERE device_code_hash = $2 AND status = 'approved' AND redeemed_at IS NULL",
                args![now, device_code_hash],
            )
            .await?;
        Ok(n == 1)
    }
}
