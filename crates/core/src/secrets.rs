//! Randomness and hashing for secrets, on the server side of the protocol crate's rules:
//! salts and generated values come from aws-lc's system random source.
//!
//! argon2id costs ~19 MiB and tens of milliseconds per call, so at most one call per two CPUs
//! (and at least one) runs at a time ([`argon2_permit`]): a burst of logins or of clients
//! missing the secret cache queues instead of allocating hundreds of megabytes, and leaves half
//! the CPUs to every other request.

use gatehouse_protocol::secret::{Secret, SecretHash};
use std::sync::LazyLock;
use tokio::sync::{Semaphore, SemaphorePermit};

static ARGON2: LazyLock<Semaphore> = LazyLock::new(|| {
    let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    Semaphore::new((cpus / 2).max(1))
});

/// Waits for a turn to run argon2.
pub async fn argon2_permit() -> Option<SemaphorePermit<'static>> {
    ARGON2.acquire().await.ok()
}

/// argon2id with a fresh 16-byte salt. Blocking: call from a blocking thread.
pub fn hash_argon2(secret: &Secret) -> Result<SecretHash, String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| "random source failed".to_owned())?;
    SecretHash::argon2(secret, &salt).map_err(|e| e.to_string())
}

/// Verifies a presented secret against a stored hash; a slow (argon2) hash waits for a permit
/// and runs on a blocking thread.
pub async fn verify(hash: SecretHash, presented: Secret) -> bool {
    if !hash.is_slow() {
        return hash.verify(&presented);
    }
    let _permit = argon2_permit().await;
    tokio::task::spawn_blocking(move || hash.verify(&presented)).await.unwrap_or(false)
}

/// [`hash_argon2`] on a blocking thread, after waiting for a turn.
pub async fn hash_argon2_async(secret: Secret) -> Result<SecretHash, String> {
    let _permit = argon2_permit().await;
    tokio::task::spawn_blocking(move || hash_argon2(&secret)).await.map_err(|e| e.to_string())?
}

/// A new 256-bit client secret (DESIGN.md §4) and its SHA-256 hash: checking it costs
/// microseconds, and its entropy makes a slow hash pointless.
pub fn generate_client_secret() -> (Secret, SecretHash) {
    let mut random = [0u8; 32];
    gatehouse_protocol::rand::Rng::fill(&crate::issuer::SystemRng, &mut random);
    let secret = gatehouse_protocol::secret::generated_secret(&random);
    let hash = SecretHash::sha256(&secret);
    (secret, hash)
}

/// Whether two strings are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}
