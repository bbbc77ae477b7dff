//! The device authorization grant (RFC 8628): user codes, and the polling rules of §3.4–3.5.

use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::rand::Rng;

/// RFC 8628 §6.1: consonants only (no vowels, so no words; no look-alikes such as 0/O, 1/I).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LEN: usize = 8;
/// RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval.
pub const SLOW_DOWN_STEP: i64 = 5;

/// A fresh user code, normalised (`BCDFGHJK`); shown as [`display_user_code`]. Uniform over the
/// alphabet: bytes that would bias the modulo are drawn again.
pub fn new_user_code(rng: &dyn Rng) -> String {
    let mut out = String::with_capacity(USER_CODE_LEN);
    let limit = 256 - (256 % USER_CODE_ALPHABET.len());
    while out.len() < USER_CODE_LEN {
        let mut buf = [0u8; 16];
        rng.fill(&mut buf);
        for b in buf {
            if (b as usize) < limit
                && out.len() < USER_CODE_LEN
                && let Some(c) = USER_CODE_ALPHABET.get(b as usize % USER_CODE_ALPHABET.len())
            {
                out.push(*c as char);
            }
        }
    }
    out
}

/// `BCDFGHJK` → `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => code.to_owned(),
    }
}

/// What the user typed → the normalised code, or `None` when it cannot be one
/// (case, dashes and spaces do not matter: RFC 8628 §6.1).
pub fn normalise_user_code(input: &str) -> Option<String> {
    let code: String =
        input.chars().filter(|c| *c != '-' && !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// The state of a device code as the poll sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Denied,
    /// Approved and not yet redeemed.
    Approved,
    /// Approved and already redeemed: success happens exactly once.
    Redeemed,
}

/// One poll (RFC 8628 §3.5). `polled_too_fast` says whether this poll came sooner than the
/// interval after the previous one.
pub fn poll(
    status: &DeviceStatus,
    client_matches: bool,
    expires_at: UnixTime,
    polled_too_fast: bool,
    now: UnixTime,
) -> Result<(), OAuthError> {
    if !client_matches {
        return Err(OAuthError::InvalidGrant("the device code was issued to another client"));
    }
    if now >= expires_at {
        return Err(OAuthError::ExpiredToken);
    }
    match status {
        DeviceStatus::Redeemed => Err(OAuthError::InvalidGrant("the device code has already been used")),
        DeviceStatus::Denied => Err(OAuthError::AccessDenied("the user denied the request")),
        _ if polled_too_fast => Err(OAuthError::SlowDown),
        DeviceStatus::Pending => Err(OAuthError::AuthorizationPending),
        DeviceStatus::Approved => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::CountingRng;

    #[test]
    fn user_codes_use_the_alphabet_and_normalise() {
        let rng = CountingRng::default();
        let a = new_user_code(&rng);
        let b = new_user_code(&rng);
        assert_eq!(a.len(), 8);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| USER_CODE_ALPHABET.contains(&c)));
        let shown = display_user_code(&a);
        assert_eq!(shown.len(), 9);
        assert_eq!(normalise_user_code(&shown.to_lowercase()), Some(a.clone()));
        assert_eq!(normalise_user_code(&format!(" {} ", shown.replace('-', " "))), Some(a));
        for bad in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0"] {
            assert_eq!(normalise_user_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn polling_rules() {
        use DeviceStatus::*;
        let p = |s: &DeviceStatus, fast: bool, now: i64| poll(s, true, 100, fast, now).map_err(|e| e.code());
        assert_eq!(p(&Pending, false, 10), Err("authorization_pending"));
        assert_eq!(p(&Pending, true, 10), Err("slow_down"));
        assert_eq!(p(&Denied, false, 10), Err("access_denied"));
        assert_eq!(p(&Approved, false, 10), Ok(()));
        assert_eq!(p(&Approved, true, 10), Err("slow_down"));
        assert_eq!(p(&Redeemed, false, 10), Err("invalid_grant"));
        assert_eq!(p(&Pending, false, 100), Err("expired_token"));
        assert_eq!(poll(&Approved, false, 100, false, 10).map_err(|e| e.code()), Err("invalid_grant"));
    }
}
