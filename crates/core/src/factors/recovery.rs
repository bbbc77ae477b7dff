//! Recovery codes: ten at a time, shown once, kept as SHA-256 hashes (each holds 60 random
//! bits, and checking them is throttled like every second factor), each used once.

use crate::issuer::hash_token;
use gatehouse_protocol::rand::Rng;
use gatehouse_protocol::recovery_codes;
use gatehouse_store::{Store, StoreError};

/// New codes for `sub`, replacing any it had; returned for showing once.
pub async fn issue(store: &dyn Store, rng: &dyn Rng, sub: &str) -> Result<Vec<String>, StoreError> {
    let codes = recovery_codes::generate(rng);
    let hashes: Vec<String> =
        codes.iter().filter_map(|c| recovery_codes::normalize(c)).map(|c| hash_token(&c)).collect();
    store.replace_recovery_codes(sub, &hashes).await?;
    Ok(codes)
}

/// Uses `typed` as one of `sub`'s recovery codes: how many are left afterwards, or `None` when
/// it is not an unused code of theirs.
pub async fn redeem(store: &dyn Store, sub: &str, typed: &str, now: i64) -> Result<Option<i64>, StoreError> {
    let Some(code) = recovery_codes::normalize(typed) else { return Ok(None) };
    store.use_recovery_code(sub, &hash_token(&code), now).await
}
