//! Second factors: what a user has enrolled, whether a sign-in needs one, checking a code, and
//! enrolling and removing them. A user who has enrolled a factor is asked for it at every
//! sign-in; with `[factors] second_factor = "required"` (or a client's
//! `require_second_factor`) a user who has none enrols one before the sign-in completes.
//!
//! Each kind lives in its own file (`totp`, `recovery`); this file decides between them. Codes
//! are throttled per user and per source address like passwords; every enrolment, removal,
//! reset and recovery-code use is audited (`factor.*`, `recovery_codes.*`).

pub mod passkey;
pub mod recovery;
pub mod totp;

use crate::metrics::Metrics;
use crate::sealing::Sealer;
use crate::throttle::{Key, Throttle};
use gatehouse_protocol::clock::{Clock, UnixTime};
use gatehouse_protocol::rand::Rng;
use gatehouse_protocol::recovery_codes;
use gatehouse_protocol::user::User;
use gatehouse_store::{AuditEntry, Factor, FactorKind, Store, StoreError};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;

/// The deployment's rules, from `[factors]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FactorPolicy {
    /// Every user must have a second factor (and enrols one at sign-in when they have none).
    pub required: bool,
    /// The name authenticator apps show beside the account (`issuer` in the `otpauth://` URI).
    pub totp_label: String,
    /// Where passkeys are bound, when they are on.
    pub passkeys: Option<PasskeySite>,
}

/// The WebAuthn relying party passkeys are registered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySite {
    /// The relying party id: the issuer's host or a parent domain of it.
    pub rp_id: String,
    /// The issuer's origin (`https://login.example.com`): where ceremonies happen.
    pub origin: String,
    /// The name authenticators show.
    pub name: String,
}

/// What comes after a right password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Signed in with the password alone.
    Done,
    /// The user must give a second factor.
    SecondFactor,
    /// The user must enrol a second factor first (required, and they have none).
    Enrol,
    /// A second factor is required, the user has none, and none can be enrolled here (no
    /// sealing key): the sign-in cannot complete.
    Impossible,
}

/// A second factor that was right: the methods it adds (RFC 8176) and, for a recovery code,
/// how many remain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub amr: Vec<String>,
    pub recovery_codes_left: Option<i64>,
}

/// Why a code was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(i64),
    #[error("the code is not right")]
    Wrong,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A factor as pages and the admin API show it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FactorView {
    pub id: String,
    pub kind: &'static str,
    pub name: String,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// A user's second factors.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    pub factors: Vec<FactorView>,
    pub recovery_codes_left: i64,
}

impl Enrolled {
    pub fn any(&self) -> bool {
        !self.factors.is_empty()
    }
}

/// Why an enrolment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("second factors need [secrets] sealing_key in the configuration")]
    Unavailable,
    #[error("the enrolment expired or was not started here; start again")]
    BadState,
    #[error("the code is not right; check the device's clock and try the next code")]
    WrongCode,
    #[error("give the factor a name of 1 to 64 characters")]
    BadName,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Factors {
    store: Arc<dyn Store>,
    sealer: Arc<Sealer>,
    throttle: Arc<Throttle>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    /// The WebAuthn relying party, when passkeys are on.
    relying: Option<Arc<webauthn_rs::Webauthn>>,
    pub policy: FactorPolicy,
}

impl Factors {
    pub fn new(
        store: Arc<dyn Store>,
        sealer: Arc<Sealer>,
        throttle: Arc<Throttle>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        policy: FactorPolicy,
    ) -> Self {
        let relying = policy.passkeys.as_ref().and_then(passkey::relying_party).map(Arc::new);
        Self { store, sealer, throttle, metrics, clock, rng, relying, policy }
    }

    /// Whether TOTP can be enrolled here (it needs the sealing key).
    pub fn totp_available(&self) -> bool {
        self.sealer.enabled()
    }

    /// A user's factors and how many recovery codes they have left.
    pub async fn enrolled(&self, sub: &str) -> Result<Enrolled, StoreError> {
        enrolled(self.store.as_ref(), sub).await
    }

    /// The methods (RFC 8176) `sub` can sign in with here: `pwd`; `otp` with an authenticator
    /// app; `hwk`, `swk` and `user` with a passkey; and `mfa` once they have a second factor.
    pub async fn available_methods(&self, sub: &str) -> Result<Vec<String>, StoreError> {
        let mut m = vec!["pwd".to_owned()];
        let factors = self.store.list_factors(sub).await?;
        if factors.iter().any(|f| f.kind == FactorKind::Totp) {
            m.push("otp".to_owned());
        }
        if self.passkeys_available() && factors.iter().any(|f| f.kind == FactorKind::Passkey) {
            m.extend(["hwk", "swk", "user"].map(str::to_owned));
        }
        if !factors.is_empty() {
            m.push("mfa".to_owned());
        }
        Ok(m)
    }

    /// Whether a second factor is required of everyone signing in to a client with this flag.
    pub fn required_for(&self, client_requires: bool) -> bool {
        self.policy.required || client_requires
    }

    /// What a right password for `user` leads to; `client_requires`: the client asks for a
    /// second factor of everyone.
    pub async fn after_password(&self, user: &User, client_requires: bool) -> Result<Next, StoreError> {
        if !self.store.list_factors(&user.sub).await?.is_empty() {
            return Ok(Next::SecondFactor);
        }
        if !self.required_for(client_requires) {
            return Ok(Next::Done);
        }
        Ok(if self.totp_available() { Next::Enrol } else { Next::Impossible })
    }

    /// Whether `sub` must give a second factor when signing in without a browser (the password
    /// grant): they have one, or one is required of them.
    pub async fn needed_for(&self, sub: &str, client_requires: bool) -> Result<bool, StoreError> {
        Ok(self.required_for(client_requires) || !self.store.list_factors(sub).await?.is_empty())
    }

    /// Checks a code of `sub`'s: a TOTP code of any of their TOTP factors, or a recovery code.
    /// Throttled per user and per address; each code is accepted once.
    pub async fn check_code(&self, sub: &str, code: &str, peer: Option<IpAddr>) -> Result<Checked, CodeError> {
        let mut keys = vec![Key::Factor(sub)];
        keys.extend(peer.map(Key::Ip));
        if let Some(wait) = self.throttle.wait(&keys).await {
            self.metrics.second_factor("code", "throttled");
            return Err(CodeError::Throttled(wait));
        }
        let now = self.clock.now();
        let checked = if recovery_codes::looks_like(code) {
            self.recovery_code(sub, code, now).await?
        } else {
            let mut found = None;
            for f in self.store.list_factors(sub).await? {
                if totp::check(self.store.as_ref(), &self.sealer, &f, code, now).await?.is_some() {
                    found = Some(Checked { amr: vec!["otp".into()], recovery_codes_left: None });
                    break;
                }
            }
            found
        };
        let kind = if checked.as_ref().is_some_and(|c| c.recovery_codes_left.is_some()) { "recovery" } else { "totp" };
        match checked {
            Some(c) => {
                self.metrics.second_factor(kind, "success");
                self.throttle.success(&keys).await;
                Ok(c)
            }
            None => {
                self.metrics.second_factor(kind, "failure");
                self.throttle.failure(&keys).await;
                Err(CodeError::Wrong)
            }
        }
    }

    async fn recovery_code(&self, sub: &str, code: &str, now: UnixTime) -> Result<Option<Checked>, StoreError> {
        let Some(left) = recovery::redeem(self.store.as_ref(), sub, code, now).await? else { return Ok(None) };
        self.audit(&format!("user:{sub}"), "recovery_codes.use", sub, json!({ "left": left })).await?;
        tracing::info!(sub, left, "a recovery code was used");
        Ok(Some(Checked { amr: vec!["otp".into()], recovery_codes_left: Some(left) }))
    }

    /// The device page's half-done sign-in (the password was right) for its next form: `sub`
    /// sealed for this user code, good for ten minutes. `None` without a sealing key.
    pub fn seal_device_sign_in(&self, sub: &str, user_code: &str) -> Option<String> {
        let body = serde_json::to_vec(&json!({ "sub": sub, "at": self.clock.now() })).ok()?;
        self.sealer.seal_bytes(&device_purpose(user_code), &body)
    }

    /// The user of [`Self::seal_device_sign_in`]'s value, if it was sealed here for this user code
    /// within the last ten minutes.
    pub fn open_device_sign_in(&self, sealed: &str, user_code: &str) -> Option<String> {
        let body = self.sealer.open_bytes(&device_purpose(user_code), sealed)?;
        let v: Value = serde_json::from_slice(&body).ok()?;
        let at = v.get("at")?.as_i64()?;
        let fresh = (0..=600).contains(&(self.clock.now() - at));
        fresh.then(|| v.get("sub")?.as_str().map(str::to_owned)).flatten()
    }

    /// Starts enrolling a TOTP factor for `user`.
    pub fn start_totp(&self, user: &User) -> Result<totp::TotpEnrolment, EnrolError> {
        totp::start(&self.sealer, self.rng.as_ref(), &user.sub, &self.policy.totp_label, &user.username)
            .ok_or(EnrolError::Unavailable)
    }

    /// An enrolment in progress again (its form came back with a mistake): the same secret.
    pub fn resume_totp(&self, user: &User, sealed: &str) -> Option<totp::TotpEnrolment> {
        let secret = totp::open(&self.sealer, &user.sub, sealed)?;
        Some(totp::TotpEnrolment {
            sealed: sealed.to_owned(),
            uri: secret.uri(&self.policy.totp_label, &user.username),
            secret: secret.base32(),
        })
    }

    /// Finishes a TOTP enrolment: the sealed secret from [`Self::start_totp`] and a code from
    /// the app. The first factor of a user also brings recovery codes, returned for showing once.
    pub async fn confirm_totp(
        &self,
        actor: &str,
        sub: &str,
        sealed: &str,
        code: &str,
        name: &str,
    ) -> Result<(FactorView, Option<Vec<String>>), EnrolError> {
        let name = factor_name(name).ok_or(EnrolError::BadName)?;
        if !self.totp_available() {
            return Err(EnrolError::Unavailable);
        }
        let secret = totp::open(&self.sealer, sub, sealed).ok_or(EnrolError::BadState)?;
        let now = self.clock.now();
        let Some(step) = secret.verify(code, now, None) else {
            self.metrics.second_factor("totp", "failure");
            return Err(EnrolError::WrongCode);
        };
        let existing = self.store.list_factors(sub).await?;
        // The same form sent twice (a double click, a replay) enrols nothing more.
        if existing.iter().any(|f| f.secret == sealed) {
            return Err(EnrolError::BadState);
        }
        self.metrics.second_factor("totp", "success");
        let factor = Factor {
            id: gatehouse_protocol::rand::token(self.rng.as_ref(), 12),
            sub: sub.to_owned(),
            kind: FactorKind::Totp,
            name: name.to_owned(),
            secret: sealed.to_owned(),
            // The confirming code is used: it cannot sign in a second time.
            last_step: Some(step),
            created_at: now,
            last_used_at: Some(now),
        };
        Ok(self.add(actor, factor, existing.is_empty()).await?)
    }

    /// Keeps a new factor, audited; the `first` factor of a user also brings recovery codes
    /// (unless they have some), returned for showing once.
    async fn add(
        &self,
        actor: &str,
        factor: Factor,
        first: bool,
    ) -> Result<(FactorView, Option<Vec<String>>), StoreError> {
        let sub = factor.sub.clone();
        self.store.insert_factor(&factor).await?;
        let details = json!({ "id": factor.id, "kind": factor.kind.as_str(), "name": factor.name });
        self.audit(actor, "factor.add", &sub, details).await?;
        let codes = match first && self.store.recovery_codes_left(&sub).await? == 0 {
            true => Some(self.new_recovery_codes(actor, &sub).await?),
            false => None,
        };
        Ok((view(factor), codes))
    }

    /// New recovery codes for `sub`, replacing the old ones; for showing once.
    pub async fn new_recovery_codes(&self, actor: &str, sub: &str) -> Result<Vec<String>, StoreError> {
        let codes = recovery::issue(self.store.as_ref(), self.rng.as_ref(), sub).await?;
        self.audit(actor, "recovery_codes.issue", sub, json!({ "count": codes.len() })).await?;
        Ok(codes)
    }

    /// Removes one of `sub`'s factors; removing the last one also removes the recovery codes.
    pub async fn remove(&self, actor: &str, sub: &str, id: &str) -> Result<bool, StoreError> {
        if !self.store.delete_factor(sub, id).await? {
            return Ok(false);
        }
        if self.store.list_factors(sub).await?.is_empty() {
            self.store.replace_recovery_codes(sub, &[]).await?;
        }
        self.audit(actor, "factor.remove", sub, json!({ "id": id })).await?;
        Ok(true)
    }

    /// Removes all of `sub`'s factors and recovery codes (an administrator's reset).
    pub async fn reset(&self, actor: &str, sub: &str) -> Result<u64, StoreError> {
        reset(self.store.as_ref(), actor, sub, self.clock.now()).await
    }

    async fn audit(&self, actor: &str, action: &str, sub: &str, details: Value) -> Result<(), StoreError> {
        audit(self.store.as_ref(), actor, action, sub, details, self.clock.now()).await
    }
}

/// A user's factors and how many recovery codes they have left (the service's, and the CLI's
/// straight on the store).
pub async fn enrolled(store: &dyn Store, sub: &str) -> Result<Enrolled, StoreError> {
    let factors = store.list_factors(sub).await?.into_iter().map(view).collect();
    Ok(Enrolled { factors, recovery_codes_left: store.recovery_codes_left(sub).await? })
}

/// Removes all of `sub`'s factors and recovery codes, audited as `actor`'s `factor.reset`.
pub async fn reset(store: &dyn Store, actor: &str, sub: &str, now: UnixTime) -> Result<u64, StoreError> {
    let n = store.delete_factors(sub).await?;
    audit(store, actor, "factor.reset", sub, json!({ "removed": n }), now).await?;
    Ok(n)
}

pub(crate) async fn audit(
    store: &dyn Store,
    actor: &str,
    action: &str,
    sub: &str,
    details: Value,
    now: UnixTime,
) -> Result<(), StoreError> {
    store
        .append_audit(&AuditEntry {
            id: uuid::Uuid::now_v7().to_string(),
            at: now,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: format!("user:{sub}"),
            details,
        })
        .await
}

/// A factor's name as the user typed it, trimmed, if it is one: 1 to 64 characters, no
/// control characters.
fn factor_name(typed: &str) -> Option<&str> {
    let name = typed.trim();
    let ok = !name.is_empty() && name.chars().count() <= 64 && !name.chars().any(char::is_control);
    ok.then_some(name)
}

/// Binds a device sign-in's sealed state to its user code.
fn device_purpose(user_code: &str) -> Vec<u8> {
    format!("gatehouse device sign-in v1\0{user_code}").into_bytes()
}

fn view(f: Factor) -> FactorView {
    FactorView { id: f.id, kind: f.kind.as_str(), name: f.name, created_at: f.created_at, last_used_at: f.last_used_at }
}
