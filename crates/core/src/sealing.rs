//! Client secrets Gatehouse must use, not just check: the key of HS256 ID tokens (OIDC Core
//! §10.1) and of `client_secret_jwt` assertions (§9). Such a secret cannot be hashed; it is
//! sealed with AES-256-GCM (aws-lc-rs) under the deployment's `[secrets] sealing_key`, which
//! lives in the configuration (or `GATEHOUSE_SECRETS__SEALING_KEY`), never in the database: a
//! copy of the database alone does not reveal them. Without a sealing key, clients that need a
//! usable secret are refused at validation and discovery does not offer them.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_protocol::secret::{SEALED_PREFIX, Secret, SecretHash};

/// Binds every sealed value to its purpose.
const AAD: &[u8] = b"gatehouse client secret v1";

/// The sealing key, when the deployment has one.
#[derive(Default)]
pub struct Sealer {
    key: Option<LessSafeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.key.is_some() { "Sealer(key)" } else { "Sealer(none)" })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("this client's secret must be usable (HS256 ID tokens, client_secret_jwt): set [secrets] sealing_key")]
pub struct NoSealingKey;

impl Sealer {
    pub fn new(key: Option<&[u8; 32]>) -> Self {
        Self { key: key.and_then(|k| UnboundKey::new(&AES_256_GCM, k).ok()).map(LessSafeKey::new) }
    }

    /// Whether secrets can be sealed here.
    pub fn enabled(&self) -> bool {
        self.key.is_some()
    }

    /// `secret`, sealed: `sealed:v1:` and base64url of a random nonce and the ciphertext.
    pub fn seal(&self, secret: &Secret) -> Result<SecretHash, NoSealingKey> {
        let body = self.seal_bytes(AAD, secret.expose().as_bytes()).ok_or(NoSealingKey)?;
        SecretHash::parse(&format!("{SEALED_PREFIX}{body}")).map_err(|_| NoSealingKey)
    }

    /// The secret inside a sealed value; `None` for another kind, another key, or tampering.
    pub fn open(&self, hash: &SecretHash) -> Option<Secret> {
        let SecretHash::Sealed(stored) = hash else { return None };
        let plain = self.open_bytes(AAD, stored.strip_prefix(SEALED_PREFIX)?)?;
        String::from_utf8(plain).ok().map(Secret::new)
    }

    /// `data` sealed for `purpose` (bound in as associated data, so a value sealed for one
    /// purpose never opens as another's): base64url of a random nonce and the ciphertext.
    /// `None` without a key.
    pub fn seal_bytes(&self, purpose: &[u8], data: &[u8]) -> Option<String> {
        let key = self.key.as_ref()?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut sealed = data.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose), &mut sealed).ok()?;
        Some(B64.encode([&nonce[..], &sealed].concat()))
    }

    /// What [`Self::seal_bytes`] sealed for `purpose`; `None` for another purpose, another key,
    /// or tampering.
    pub fn open_bytes(&self, purpose: &[u8], sealed: &str) -> Option<Vec<u8>> {
        let raw = B64.decode(sealed).ok()?;
        let (nonce, body) = raw.split_at_checked(NONCE_LEN)?;
        let mut data = body.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self.key.as_ref()?.open_in_place(nonce, Aad::from(purpose), &mut data).ok()?;
        Some(plain.to_vec())
    }

    /// Whether `presented` is the sealed secret, compared in constant time.
    pub fn verify(&self, hash: &SecretHash, presented: &Secret) -> bool {
        self.open(hash)
            .is_some_and(|s| subtle::ConstantTimeEq::ct_eq(s.expose().as_bytes(), presented.expose().as_bytes()).into())
    }
}

/// Whether a validated client's secret can be kept as it must be: a client that needs a usable
/// secret must give the secret itself (or an already sealed one), and the deployment must have
/// a sealing key. The problem as (field, message).
pub fn check_usable(
    client: &gatehouse_protocol::Client,
    input: Option<&gatehouse_protocol::client::SecretInput>,
    sealing: bool,
) -> Result<(), (&'static str, String)> {
    use gatehouse_protocol::client::SecretInput;
    if !client.needs_usable_secret() {
        return Ok(());
    }
    match input {
        Some(SecretInput::Hashed(h)) if !h.is_sealed() => Err((
            "client_secret_hash",
            "a client with client_secret_jwt or HS256 ID tokens needs its secret itself (client_secret), not a hash"
                .into(),
        )),
        _ if !sealing => Err(("client_secret", NoSealingKey.to_string())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_other_keys_and_tampering() {
        let s = Sealer::new(Some(&[7u8; 32]));
        let secret = Secret::new("s3cret");
        let sealed = s.seal(&secret).unwrap();
        assert!(sealed.is_sealed() && !sealed.to_stored().contains("s3cret"));
        assert_ne!(sealed, s.seal(&secret).unwrap(), "a fresh nonce each time");
        assert_eq!(s.open(&sealed).map(|x| x.expose().to_owned()), Some("s3cret".into()));
        assert!(s.verify(&sealed, &secret) && !s.verify(&sealed, &Secret::new("other")));
        assert!(Sealer::new(Some(&[8u8; 32])).open(&sealed).is_none(), "another key");
        assert!(Sealer::default().open(&sealed).is_none() && Sealer::default().seal(&secret).is_err());
        let mut stored = sealed.to_stored();
        stored.replace_range(stored.len() - 2.., "AA");
        assert!(s.open(&SecretHash::parse(&stored).unwrap()).is_none(), "tampered");
        assert!(!sealed.verify(&secret), "only the server can check a sealed secret");
    }

    #[test]
    fn bytes_open_only_for_the_purpose_they_were_sealed_for() {
        let s = Sealer::new(Some(&[7u8; 32]));
        let sealed = s.seal_bytes(b"totp\0alice", b"\x01\x02").unwrap();
        assert_eq!(s.open_bytes(b"totp\0alice", &sealed), Some(vec![1, 2]));
        assert_eq!(s.open_bytes(b"totp\0bob", &sealed), None, "another purpose");
        assert_eq!(s.open_bytes(AAD, &sealed), None);
        assert_eq!(Sealer::default().seal_bytes(b"totp", b"x"), None);
    }
}
