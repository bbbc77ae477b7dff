//! TOTP factors (RFC 6238): a secret generated here, sealed under the configuration's key and
//! bound to its user, shown once as an `otpauth://` URI (a QR code on the page); enrolment is
//! confirmed by a code from the app, and each code is accepted once (the store keeps the last
//! step accepted, on every node).

use crate::sealing::Sealer;
use gatehouse_protocol::rand::Rng;
use gatehouse_protocol::totp::TotpSecret;
use gatehouse_store::{Factor, FactorKind, Store, StoreError};

/// The associated data of a user's sealed TOTP secret: it opens for that user only.
fn purpose(sub: &str) -> Vec<u8> {
    format!("gatehouse totp v1\0{sub}").into_bytes()
}

/// A secret being enrolled: the sealed value the confirming form carries back, and what the
/// user's app needs.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// The secret sealed for this user: safe in a form field, useless to anyone else.
    pub sealed: String,
    /// The `otpauth://` URI (a QR code).
    pub uri: String,
    /// The secret in base32, to type in by hand.
    pub secret: String,
}

/// A new secret for `sub`, or `None` when the deployment has no sealing key.
pub fn start(sealer: &Sealer, rng: &dyn Rng, sub: &str, issuer_label: &str, account: &str) -> Option<TotpEnrolment> {
    let secret = TotpSecret::generate(rng);
    let sealed = sealer.seal_bytes(&purpose(sub), secret.bytes())?;
    Some(TotpEnrolment { sealed, uri: secret.uri(issuer_label, account), secret: secret.base32() })
}

/// The secret of a sealed value, if it was sealed here for `sub`.
pub fn open(sealer: &Sealer, sub: &str, sealed: &str) -> Option<TotpSecret> {
    sealer.open_bytes(&purpose(sub), sealed).map(TotpSecret::new)
}

/// The step whose code `code` is for TOTP factor `f` at `now`, recorded as used; `None` when
/// the code is wrong, or was used already (here or on another node).
pub async fn check(
    store: &dyn Store,
    sealer: &Sealer,
    f: &Factor,
    code: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if f.kind != FactorKind::Totp {
        return Ok(None);
    }
    let Some(secret) = open(sealer, &f.sub, &f.secret) else {
        tracing::error!(factor = %f.id, "a TOTP secret does not open under the sealing key (was the key changed?)");
        return Ok(None);
    };
    let Some(step) = secret.verify(code, now, f.last_step) else { return Ok(None) };
    Ok(store.use_totp_step(&f.id, step, now).await?.then_some(step))
}
