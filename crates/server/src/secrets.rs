//! Randomness and hashing for secrets, on the server side of the protocol crate's rules:
//! salts and generated values come from aws-lc's system random source.

use gatehouse_protocol::secret::{Secret, SecretHash};

/// argon2id with a fresh 16-byte salt. Blocking: call from a blocking thread.
pub fn hash_argon2(secret: &Secret) -> Result<SecretHash, String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| "random source failed".to_owned())?;
    SecretHash::argon2(secret, &salt).map_err(|e| e.to_string())
}

/// Verifies a presented secret against a stored hash off the async runtime when it is slow.
pub async fn verify(hash: SecretHash, presented: Secret) -> bool {
    if hash.is_slow() {
        tokio::task::spawn_blocking(move || hash.verify(&presented)).await.unwrap_or(false)
    } else {
        hash.verify(&presented)
    }
}
