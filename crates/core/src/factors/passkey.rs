//! Passkeys (WebAuthn Level 3, through `webauthn-rs`): registered on the account page, used as a
//! second factor after a password, or alone to sign in (a discoverable credential the browser
//! offers in the username field's autofill, or behind a button).
//!
//! Each ceremony's state (its challenge) stays on the server (`ceremonies`), bound to
//! what it is for — a user's registration, an interaction's sign-in — and is taken once; the page
//! carries only a random id. A passkey is a factor of kind `passkey` whose id is its credential
//! id (base64url), so a discoverable sign-in finds its user; its `secret` is the credential (a
//! public key and counter, nothing secret). Users are known to authenticators by a handle derived
//! from their subject that reveals nothing of it.
//!
//! `amr` (RFC 8176): `hwk` for a device-bound key, `swk` for one that may be synced (the
//! authenticator's backup-eligible flag), `user` when it verified the user (always: passkeys
//! here require user verification), and so `mfa`.

use super::{FactorView, Factors, PasskeySite};
use crate::issuer::hash_token;
use crate::throttle::Key;
use gatehouse_protocol::user::User;
use gatehouse_store::{Factor, FactorKind, StoreError};
use serde_json::{Value, json};
use std::net::IpAddr;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long a page may wait for the browser's answer.
const CEREMONY_SECONDS: i64 = 600;

/// The relying party of `site`, or `None` when its id is not the origin's host or a domain above
/// it.
pub fn relying_party(site: &PasskeySite) -> Option<Webauthn> {
    let origin = Url::parse(&site.origin).ok()?;
    let builder = WebauthnBuilder::new(&site.rp_id, &origin).ok()?.rp_name(&site.name);
    builder.build().ok()
}

/// The handle authenticators keep for `sub`: stable, and telling nothing of it.
pub fn user_handle(sub: &str) -> Uuid {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("gatehouse passkey user\0{sub}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(d.as_ref().get(..16).unwrap_or(&[0; 16]));
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// What a ceremony is for; its state is found only there.
#[derive(Debug, Clone, Copy)]
pub enum Purpose<'a> {
    /// Adding a passkey to `sub`'s account.
    Register { sub: &'a str },
    /// Signing in on the login page of an interaction, without a password.
    SignIn { interaction: &'a str },
    /// `sub`'s second factor in an interaction.
    SecondFactor { interaction: &'a str, sub: &'a str },
}

impl Purpose<'_> {
    /// What the store keeps beside the state (no NUL: PostgreSQL text cannot hold one).
    fn bound_to(self) -> String {
        match self {
            Self::Register { sub } => format!("register {sub}"),
            Self::SignIn { interaction } => format!("sign-in {}", hash_token(interaction)),
            Self::SecondFactor { interaction, sub } => format!("factor {} {sub}", hash_token(interaction)),
        }
    }
}

/// A ceremony for the page: the id its form sends back, and the options for
/// `navigator.credentials` (JSON, binary values in base64url).
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub id: String,
    pub options: String,
}

/// Why a passkey was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("passkeys are not available here")]
    Unavailable,
    #[error("the passkey request expired or was used already; try again")]
    Expired,
    #[error("the browser did not send a passkey")]
    Missing,
    #[error("the passkey was not accepted")]
    Refused,
    #[error("this passkey is registered already")]
    Duplicate,
    #[error("give the passkey a name of 1 to 64 characters")]
    BadName,
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A passkey sign-in: whose, and the methods it performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySignIn {
    pub sub: String,
    pub amr: Vec<String>,
}

impl Factors {
    /// Whether passkeys are on here.
    pub fn passkeys_available(&self) -> bool {
        self.relying.is_some()
    }

    fn relying(&self) -> Result<&Webauthn, PasskeyError> {
        self.relying.as_deref().ok_or(PasskeyError::Unavailable)
    }

    /// `sub`'s passkeys, decoded.
    async fn passkeys(&self, sub: &str) -> Result<Vec<(Factor, Passkey)>, StoreError> {
        Ok(self.store.list_factors(sub).await?.into_iter().filter_map(decode).collect())
    }

    async fn keep(&self, purpose: Purpose<'_>, state: Value, options: Value) -> Result<Ceremony, PasskeyError> {
        let id = gatehouse_protocol::rand::token(self.rng.as_ref(), 32);
        let expires = self.clock.now() + CEREMONY_SECONDS;
        self.store.put_ceremony(&hash_token(&id), &purpose.bound_to(), &state.to_string(), expires).await?;
        Ok(Ceremony { id, options: options.to_string() })
    }

    async fn take(&self, purpose: Purpose<'_>, id: &str) -> Result<Value, PasskeyError> {
        let state = self.store.take_ceremony(&hash_token(id), &purpose.bound_to(), self.clock.now()).await?;
        state.and_then(|s| serde_json::from_str(&s).ok()).ok_or(PasskeyError::Expired)
    }

    /// Starts adding a passkey to `user`'s account. The passkey is discoverable (it can sign in
    /// without a username) and must verify the user; those they have already are excluded.
    pub async fn start_passkey_registration(&self, user: &User) -> Result<Ceremony, PasskeyError> {
        let rp = self.relying()?;
        let existing = self.passkeys(&user.sub).await?.into_iter().map(|(_, p)| p.cred_id().clone()).collect();
        let display = user.claims.get("name").and_then(Value::as_str).unwrap_or(&user.username);
        let (options, state): (CreationChallengeResponse, PasskeyRegistration) = rp
            .start_passkey_registration(user_handle(&user.sub), &user.username, display, Some(existing))
            .map_err(|e| unexpected("start a registration", e))?;
        // Discoverable, so that it can sign in without a username (the state does not depend on
        // it: the authenticator decides, and reports it in credProps).
        let mut options = to_json(&options)?;
        if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection").and_then(Value::as_object_mut) {
            sel.insert("residentKey".into(), json!("required"));
            sel.insert("requireResidentKey".into(), json!(true));
        }
        self.keep(Purpose::Register { sub: &user.sub }, to_json(&state)?, options).await
    }

    /// Finishes adding a passkey: the browser's `credential` (JSON) for ceremony `id`. The first
    /// factor of a user also brings recovery codes, returned for showing once.
    pub async fn finish_passkey_registration(
        &self,
        actor: &str,
        sub: &str,
        id: &str,
        credential: &str,
        name: &str,
    ) -> Result<(FactorView, Option<Vec<String>>), PasskeyError> {
        let name = super::factor_name(name).ok_or(PasskeyError::BadName)?;
        let rp = self.relying()?;
        let state: PasskeyRegistration = serde_json::from_value(self.take(Purpose::Register { sub }, id).await?)
            .map_err(|_| PasskeyError::Expired)?;
        let reg: RegisterPublicKeyCredential = serde_json::from_str(credential).map_err(|_| PasskeyError::Missing)?;
        let passkey = match rp.finish_passkey_registration(&reg, &state) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(sub, error = %e, "a passkey registration was refused");
                self.metrics.second_factor("passkey", "failure");
                return Err(PasskeyError::Refused);
            }
        };
        let factor_id = credential_id(passkey.cred_id());
        // A credential belongs to one account (WebAuthn §7.1 step 22).
        if self.store.get_factor(&factor_id).await?.is_some() {
            return Err(PasskeyError::Duplicate);
        }
        let first = self.store.list_factors(sub).await?.is_empty();
        let now = self.clock.now();
        let factor = Factor {
            id: factor_id,
            sub: sub.to_owned(),
            kind: FactorKind::Passkey,
            name: name.to_owned(),
            secret: to_json(&passkey)?.to_string(),
            last_step: None,
            created_at: now,
            last_used_at: None,
        };
        self.metrics.second_factor("passkey", "success");
        Ok(self.add(actor, factor, first).await?)
    }

    /// Starts a sign-in: on the login page (`sub` unknown: any discoverable passkey of this
    /// site), or as `sub`'s second factor (their passkeys only). `None` when passkeys are off, or
    /// the user has none.
    pub async fn start_passkey_sign_in(&self, purpose: Purpose<'_>) -> Result<Option<Ceremony>, PasskeyError> {
        let Ok(rp) = self.relying() else { return Ok(None) };
        let (options, state) = match purpose {
            Purpose::SecondFactor { sub, .. } => {
                let keys: Vec<Passkey> = self.passkeys(sub).await?.into_iter().map(|(_, p)| p).collect();
                if keys.is_empty() {
                    return Ok(None);
                }
                let (o, s): (RequestChallengeResponse, PasskeyAuthentication) =
                    rp.start_passkey_authentication(&keys).map_err(|e| unexpected("start a sign-in", e))?;
                (o, to_json(&s)?)
            }
            Purpose::SignIn { .. } => {
                let (mut o, s): (RequestChallengeResponse, DiscoverableAuthentication) =
                    rp.start_discoverable_authentication().map_err(|e| unexpected("start a sign-in", e))?;
                // The page decides: the autofill (conditional) request, or a button's.
                o.mediation = None;
                (o, to_json(&s)?)
            }
            Purpose::Register { .. } => return Err(PasskeyError::Unavailable),
        };
        Ok(Some(self.keep(purpose, state, to_json(&options)?).await?))
    }

    /// [`Self::start_passkey_sign_in`] for a page that also works without: a failure leaves the
    /// page without passkeys (logged).
    pub async fn passkey_ceremony(&self, purpose: Purpose<'_>) -> Option<Ceremony> {
        match self.start_passkey_sign_in(purpose).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "a passkey ceremony could not start");
                None
            }
        }
    }

    /// Finishes a sign-in started by [`Self::start_passkey_sign_in`]: the browser's assertion
    /// (JSON) for ceremony `id`. Throttled like codes: per user, and per address.
    pub async fn finish_passkey_sign_in(
        &self,
        purpose: Purpose<'_>,
        id: &str,
        assertion: &str,
        peer: Option<IpAddr>,
    ) -> Result<PasskeySignIn, PasskeyError> {
        let rp = self.relying()?;
        let state = self.take(purpose, id).await?;
        let cred: PublicKeyCredential = serde_json::from_str(assertion).map_err(|_| PasskeyError::Missing)?;
        let factor = self.store.get_factor(&credential_id(cred.get_credential_id())).await?;
        let found = factor.and_then(decode).filter(|(f, _)| match purpose {
            Purpose::SecondFactor { sub, .. } => f.sub == sub,
            _ => true,
        });
        let sub = found.as_ref().map(|(f, _)| f.sub.clone());
        let mut keys = Vec::new();
        keys.extend(sub.as_deref().map(Key::Factor));
        keys.extend(peer.map(Key::Ip));
        if let Some(wait) = self.throttle.wait(&keys).await {
            self.metrics.second_factor("passkey", "throttled");
            return Err(PasskeyError::Throttled(wait));
        }
        match self.check_assertion(rp, purpose, state, &cred, found).await? {
            Some(signed_in) => {
                self.metrics.second_factor("passkey", "success");
                self.throttle.success(&keys).await;
                Ok(signed_in)
            }
            None => {
                self.metrics.second_factor("passkey", "failure");
                self.throttle.failure(&keys).await;
                Err(PasskeyError::Refused)
            }
        }
    }

    async fn check_assertion(
        &self,
        rp: &Webauthn,
        purpose: Purpose<'_>,
        state: Value,
        cred: &PublicKeyCredential,
        found: Option<(Factor, Passkey)>,
    ) -> Result<Option<PasskeySignIn>, PasskeyError> {
        let Some((factor, mut passkey)) = found else { return Ok(None) };
        let result = match purpose {
            Purpose::SecondFactor { .. } => {
                let state: PasskeyAuthentication = serde_json::from_value(state).map_err(|_| PasskeyError::Expired)?;
                rp.finish_passkey_authentication(cred, &state)
            }
            _ => {
                let state: DiscoverableAuthentication =
                    serde_json::from_value(state).map_err(|_| PasskeyError::Expired)?;
                // The authenticator says whose credential it is: it must be the owner's.
                match rp.identify_discoverable_authentication(cred) {
                    Ok((handle, _)) if handle == user_handle(&factor.sub) => {}
                    _ => return Ok(None),
                }
                rp.finish_discoverable_authentication(cred, state, &[DiscoverableKey::from(&passkey)])
            }
        };
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(sub = %factor.sub, error = %e, "a passkey assertion was refused");
                return Ok(None);
            }
        };
        // The signature counter (a cloned key shows an old one) and the backup flags.
        passkey.update_credential(&result);
        self.store.touch_factor(&factor.id, &to_json(&passkey)?.to_string(), self.clock.now()).await?;
        let mut amr = vec![if result.backup_eligible() { "swk" } else { "hwk" }.to_owned()];
        if result.user_verified() {
            amr.extend(["user", "mfa"].map(str::to_owned));
        }
        Ok(Some(PasskeySignIn { sub: factor.sub, amr }))
    }
}

fn decode(f: Factor) -> Option<(Factor, Passkey)> {
    if f.kind != FactorKind::Passkey {
        return None;
    }
    match serde_json::from_str(&f.secret) {
        Ok(p) => Some((f, p)),
        Err(e) => {
            tracing::error!(factor = %f.id, error = %e, "a stored passkey does not decode");
            None
        }
    }
}

/// A credential id as the factor's id.
fn credential_id(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, PasskeyError> {
    serde_json::to_value(v).map_err(|e| PasskeyError::Store(StoreError::Database(format!("passkey state: {e}"))))
}

fn unexpected(what: &str, e: webauthn_rs::prelude::WebauthnError) -> PasskeyError {
    tracing::error!(error = %e, "could not {what}");
    PasskeyError::Unavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(rp_id: &str, origin: &str) -> PasskeySite {
        PasskeySite { rp_id: rp_id.into(), origin: origin.into(), name: "Gatehouse".into() }
    }

    #[test]
    fn the_relying_party_is_the_issuers_host_or_a_domain_above_it() {
        assert!(relying_party(&site("login.example.com", "https://login.example.com")).is_some());
        assert!(relying_party(&site("example.com", "https://login.example.com")).is_some());
        assert!(relying_party(&site("localhost", "http://localhost:8080")).is_some());
        assert!(relying_party(&site("other.com", "https://login.example.com")).is_none());
        assert!(relying_party(&site("ample.com", "https://example.com")).is_none());
        assert!(relying_party(&site("127.0.0.1", "http://127.0.0.1:8080")).is_none());
    }

    #[test]
    fn a_user_handle_is_stable_and_tells_nothing() {
        assert_eq!(user_handle("alice"), user_handle("alice"));
        assert_ne!(user_handle("alice"), user_handle("bob"));
        assert!(!user_handle("alice").as_bytes().windows(5).any(|w| w == b"alice"));
    }

    #[test]
    fn ceremonies_are_bound_to_what_they_are_for() {
        let a = Purpose::SignIn { interaction: "i1" }.bound_to();
        assert_ne!(a, Purpose::SignIn { interaction: "i2" }.bound_to());
        assert_ne!(a, Purpose::SecondFactor { interaction: "i1", sub: "s" }.bound_to());
        assert!(!a.contains("i1"), "the interaction id itself is not stored");
        assert_ne!(Purpose::Register { sub: "a" }.bound_to(), Purpose::Register { sub: "b" }.bound_to());
    }
}
