//! Signing keys (DESIGN.md §4): generated on first start, stored in the database so every node
//! signs with the same keys, parsed once and held in memory, published at `/jwks`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::jose::{self, JoseError, JsonObject, SigningAlg, SigningKey};
use gatehouse_store::{KeyState, Store, StoredKey};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The algorithms Gatehouse keeps a current key for. All four exist from the first start so a
/// client can choose any of them without a restart.
pub const ALGS: [SigningAlg; 4] = SigningAlg::ALL;

/// Verified tokens remembered per key ring; beyond this many the memory starts again empty.
const MAX_VERIFIED: usize = 10_000;

/// A token's header and claims, once its signature has been checked.
pub type Verified = Arc<(JsonObject, JsonObject)>;

/// Parsed keys: the current signer per algorithm and every published key.
#[derive(Debug)]
pub struct KeyRing {
    current: BTreeMap<SigningAlg, Arc<SigningKey>>,
    published: Vec<Arc<SigningKey>>,
    jwks: bytes::Bytes,
    /// Tokens whose signature one of `published` verified, by SHA-256 of the whole token. A
    /// resource server introspects the same access token on every call it receives; the
    /// signature check (most of the cost) then runs once. It belongs to this ring: a key change
    /// builds a new ring, so a retired key's tokens are verified afresh (and fail).
    verified: Mutex<HashMap<[u8; 32], Verified>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] gatehouse_store::StoreError),
    #[error("key generation failed for {0}")]
    Generate(SigningAlg),
    #[error("stored key {kid} ({alg}) does not parse: {detail}")]
    Unparsable { kid: String, alg: SigningAlg, detail: String },
    #[error("no current key for {0} after generation")]
    Missing(SigningAlg),
}

/// A fresh PKCS#8 private key for `alg`, from aws-lc's system random source.
pub fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, KeyError> {
    let err = |_| KeyError::Generate(alg);
    Ok(match alg {
        SigningAlg::RS256 | SigningAlg::PS256 => {
            RsaKeyPair::generate(KeySize::Rsa2048).map_err(err)?.as_der().map_err(err)?.as_ref().to_vec()
        }
        SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(err)?
            .to_pkcs8v1()
            .map_err(err)?
            .as_ref()
            .to_vec(),
        SigningAlg::EdDSA => Ed25519KeyPair::generate().map_err(err)?.to_pkcs8v1().map_err(err)?.as_ref().to_vec(),
    })
}

impl KeyRing {
    /// Loads the stored keys, generating a current key for every algorithm that has none. Safe
    /// when several nodes start at once: the database admits one current key per algorithm and
    /// the losers adopt the winner's.
    pub async fn load_or_init(store: &dyn Store, now: UnixTime) -> Result<Self, KeyError> {
        let mut stored = store.list_keys().await?;
        let mut generated = false;
        // A current key to sign with and a next key already published, for every algorithm.
        for (alg, state) in ALGS.into_iter().flat_map(|a| [(a, KeyState::Current), (a, KeyState::Next)]) {
            if stored.iter().any(|k| k.alg == alg && k.state == state) {
                continue;
            }
            let der = tokio::task::spawn_blocking(move || generate_pkcs8(alg))
                .await
                .map_err(|_| KeyError::Generate(alg))??;
            let parsed = SigningKey::from_pkcs8(alg, &der).map_err(|e| KeyError::Unparsable {
                kid: "(new)".into(),
                alg,
                detail: e.to_string(),
            })?;
            let key = StoredKey {
                kid: parsed.kid().to_owned(),
                alg,
                state,
                private_pkcs8: der,
                created_at: now,
                activated_at: (state == KeyState::Current).then_some(now),
                retired_at: None,
            };
            if store.insert_key(&key).await? {
                tracing::info!(kid = %key.kid, %alg, state = state.as_str(), "generated signing key");
            }
            generated = true;
        }
        if generated {
            stored = store.list_keys().await?;
        }
        Self::from_stored(&stored)
    }

    pub fn from_stored(stored: &[StoredKey]) -> Result<Self, KeyError> {
        let mut current = BTreeMap::new();
        let mut published = Vec::new();
        for k in stored {
            let parsed = SigningKey::from_pkcs8(k.alg, &k.private_pkcs8).map_err(|e| KeyError::Unparsable {
                kid: k.kid.clone(),
                alg: k.alg,
                detail: e.to_string(),
            })?;
            let parsed = Arc::new(parsed);
            if k.state == KeyState::Current {
                current.insert(k.alg, parsed.clone());
            }
            published.push(parsed);
        }
        for alg in ALGS {
            if !current.contains_key(&alg) {
                return Err(KeyError::Missing(alg));
            }
        }
        let jwks = serde_json::json!({
            "keys": published.iter().map(|k| serde_json::Value::Object(k.public_jwk().clone())).collect::<Vec<_>>()
        });
        let jwks = bytes::Bytes::from(serde_json::to_vec(&jwks).unwrap_or_default());
        Ok(Self { current, published, jwks, verified: Mutex::new(HashMap::new()) })
    }

    /// [`jose::verify`] against the published keys, remembering what verified. Only the
    /// signature is vouched for: claims (`exp` above all) stay the caller's to check every time.
    pub fn verify(&self, token: &str) -> Result<Verified, JoseError> {
        let mut digest = [0u8; 32];
        digest.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref());
        if let Some(hit) = self.verified.lock().ok().and_then(|seen| seen.get(&digest).cloned()) {
            return Ok(hit);
        }
        let verified = Arc::new(jose::verify(token, self.published())?);
        if let Ok(mut seen) = self.verified.lock() {
            if seen.len() >= MAX_VERIFIED {
                seen.clear();
            }
            seen.insert(digest, verified.clone());
        }
        Ok(verified)
    }

    /// The key that signs with `alg` now.
    pub fn signer(&self, alg: SigningAlg) -> Option<&Arc<SigningKey>> {
        self.current.get(&alg)
    }

    /// Every key a token may have been signed with (for verifying our own tokens).
    pub fn published(&self) -> impl Iterator<Item = &SigningKey> {
        self.published.iter().map(AsRef::as_ref)
    }

    /// The JWK Set document, rendered once.
    pub fn jwks_json(&self) -> bytes::Bytes {
        self.jwks.clone()
    }

    pub fn algs(&self) -> Vec<SigningAlg> {
        self.current.keys().copied().collect()
    }
}

/// A fresh key of `alg` as the store keeps it.
async fn new_stored_key(alg: SigningAlg, state: KeyState, now: UnixTime) -> Result<StoredKey, KeyError> {
    let der = tokio::task::spawn_blocking(move || generate_pkcs8(alg)).await.map_err(|_| KeyError::Generate(alg))??;
    let parsed = SigningKey::from_pkcs8(alg, &der).map_err(|e| KeyError::Unparsable {
        kid: "(new)".into(),
        alg,
        detail: e.to_string(),
    })?;
    Ok(StoredKey {
        kid: parsed.kid().to_owned(),
        alg,
        state,
        private_pkcs8: der,
        created_at: now,
        activated_at: None,
        retired_at: None,
    })
}

/// Rotates `algs`: each current key retires (still published), the published next key starts
/// signing, and a new next key is published. Nodes pick the change up at their next reload.
pub async fn rotate(store: &dyn Store, algs: &[SigningAlg], now: UnixTime) -> Result<(), KeyError> {
    let mut nexts = Vec::with_capacity(algs.len());
    for &alg in algs {
        nexts.push(new_stored_key(alg, KeyState::Next, now).await?);
    }
    // One transaction for all: a crash half-way rotates none rather than some.
    store.rotate_keys(&nexts, now, None).await?;
    for next in &nexts {
        tracing::info!(alg = %next.alg, new_next = %next.kid, "rotated signing keys");
    }
    Ok(())
}

/// The scheduled rotation: every algorithm whose current key has signed for `every` seconds is
/// rotated, unless another node got there first. Returns whether anything rotated.
pub async fn rotate_due(store: &dyn Store, every: i64, now: UnixTime) -> Result<bool, KeyError> {
    let mut rotated = false;
    for k in store.list_keys().await?.into_iter().filter(|k| k.state == KeyState::Current) {
        if k.activated_at.unwrap_or(k.created_at) + every > now {
            continue;
        }
        let next = new_stored_key(k.alg, KeyState::Next, now).await?;
        if store.rotate_keys(std::slice::from_ref(&next), now, Some(&k.kid)).await? {
            tracing::info!(alg = %k.alg, retired = %k.kid, "scheduled key rotation");
            rotated = true;
        }
    }
    Ok(rotated)
}

/// The key ring in use, replaced whole when the stored keys change.
#[derive(Debug)]
pub struct Keys(std::sync::RwLock<Arc<KeyRing>>);

impl Keys {
    pub fn new(ring: KeyRing) -> Self {
        Self(std::sync::RwLock::new(Arc::new(ring)))
    }

    /// The current ring (cheap: an `Arc` clone under a read lock).
    pub fn get(&self) -> Arc<KeyRing> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the stored keys (after a rotation by another node or by `gatehouse keys rotate`).
    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyError> {
        let ring = KeyRing::from_stored(&store.list_keys().await?)?;
        if let Ok(mut g) = self.0.write() {
            *g = Arc::new(ring);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(stored: &[StoredKey]) -> KeyRing {
        KeyRing::from_stored(stored).expect("ring")
    }

    async fn stored_keys() -> Vec<StoredKey> {
        let mut keys = Vec::new();
        for alg in ALGS {
            keys.push(new_stored_key(alg, KeyState::Current, 0).await.expect("key"));
        }
        keys
    }

    #[tokio::test]
    async fn a_remembered_token_is_still_only_that_exact_token() {
        let keys = stored_keys().await;
        let ring = ring(&keys);
        let signer = ring.signer(SigningAlg::ES256).expect("signer");
        let token = signer.sign("at+jwt", &serde_json::json!({"sub": "alice"})).expect("sign");
        let first = ring.verify(&token).expect("verifies");
        let again = ring.verify(&token).expect("verifies again");
        assert!(Arc::ptr_eq(&first, &again), "the second check is answered from memory");
        assert_eq!(again.1.get("sub").and_then(|v| v.as_str()), Some("alice"));

        let (head, rest) = token.rsplit_once('.').expect("compact JWS");
        let mut signature = rest.as_bytes().to_vec();
        signature[4] = if signature[4] == b'A' { b'B' } else { b'A' };
        let forged = format!("{head}.{}", String::from_utf8(signature).expect("ascii"));
        assert!(ring.verify(&forged).is_err(), "a changed signature is checked, not remembered");
    }

    #[tokio::test]
    async fn a_ring_without_the_key_does_not_accept_what_the_old_ring_verified() {
        let keys = stored_keys().await;
        let old = ring(&keys);
        let token =
            old.signer(SigningAlg::EdDSA).expect("signer").sign("at+jwt", &serde_json::json!({})).expect("sign");
        old.verify(&token).expect("verifies");
        let mut replaced = keys.clone();
        replaced.retain(|k| k.alg != SigningAlg::EdDSA);
        replaced.push(new_stored_key(SigningAlg::EdDSA, KeyState::Current, 0).await.expect("key"));
        assert!(ring(&replaced).verify(&token).is_err(), "the key is no longer published");
    }
}
