//! DPoP proofs as the server checks them (RFC 9449; the proof's own rules are
//! `gatehouse_protocol::dpop`'s): each `jti` accepted once per key across every node (the
//! store's `seen_jtis`, kept as long as a proof can be accepted), and, with `[dpop]
//! require_nonce`, a server nonce in every proof (§8). Nonces are an HMAC of the five-minute
//! window with a server key every node shares, so any node accepts any node's nonce, for the
//! window it was issued in and the next, and nothing is stored.

use crate::issuer::hash_token;
use crate::server_keys::ServerKey;
use gatehouse_protocol::clock::{Clock, UnixTime};
use gatehouse_protocol::dpop::{self, Expected, MAX_AGE, MAX_SKEW, Proof};
use gatehouse_protocol::error::OAuthError;
use gatehouse_store::Store;
use std::sync::Arc;

/// How long a nonce window lasts, in seconds.
const NONCE_WINDOW: i64 = 300;

pub struct DpopProofs {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    issuer: Arc<str>,
    nonce_key: ServerKey,
    require_nonce: bool,
}

impl DpopProofs {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        issuer: Arc<str>,
        nonce_key: ServerKey,
        require_nonce: bool,
    ) -> Self {
        Self { store, clock, issuer, nonce_key, require_nonce }
    }

    fn nonce_at(&self, window: i64) -> String {
        self.nonce_key.sign(&format!("dpop-nonce:{window}"))
    }

    /// The nonce to send in `DPoP-Nonce`, when nonces are required.
    pub fn nonce(&self) -> Option<String> {
        self.require_nonce.then(|| self.nonce_at(self.clock.now() / NONCE_WINDOW))
    }

    fn nonce_ok(&self, nonce: Option<&str>, now: UnixTime) -> bool {
        let window = now / NONCE_WINDOW;
        nonce.is_some_and(|n| [window, window - 1].iter().any(|w| self.nonce_key.verify(&format!("dpop-nonce:{w}"), n)))
    }

    /// Checks the proof of a request to `path` (under the issuer) with `method`, presenting
    /// `access_token` at a resource: the proof itself, the nonce when required, and that its
    /// `jti` was never seen with this key.
    pub async fn check(
        &self,
        proof: &str,
        method: &str,
        path: &str,
        access_token: Option<&str>,
    ) -> Result<Proof, OAuthError> {
        let now = self.clock.now();
        let url = format!("{}{path}", self.issuer.trim_end_matches('/'));
        let proof = dpop::verify(proof, &Expected { method, url: &url, now, access_token })?;
        if self.require_nonce && !self.nonce_ok(proof.nonce.as_deref(), now) {
            return Err(OAuthError::UseDpopNonce);
        }
        let key = hash_token(&format!("dpop:{}:{}", proof.jkt, proof.jti));
        if !self.store.record_once(&key, now + MAX_AGE + MAX_SKEW).await? {
            return Err(OAuthError::InvalidDpopProof("the DPoP proof was used before"));
        }
        Ok(proof)
    }
}
