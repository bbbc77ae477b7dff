//! Randomness is injected: protocol code asks an [`Rng`], so tests can make it deterministic.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

pub trait Rng: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// `n` random bytes as base64url: 32 bytes give the ≥ 256-bit tokens DESIGN.md §4 asks for.
pub fn token(rng: &dyn Rng, n: usize) -> String {
    let mut buf = vec![0u8; n];
    rng.fill(&mut buf);
    B64.encode(buf)
}

/// A counter-based source for tests: distinct, predictable values.
#[derive(Debug, Default)]
pub struct CountingRng(pub std::sync::atomic::AtomicU64);

impl Rng for CountingRng {
    fn fill(&self, buf: &mut [u8]) {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = n.get(i % 8).copied().unwrap_or(0);
        }
    }
}
