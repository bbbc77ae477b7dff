//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): 6 digits, HMAC-SHA1, 30-second
//! steps — what every authenticator app reads from an `otpauth://` URI. A code is accepted in
//! its own step or the one before or after (clock drift), and only in a step later than the
//! last one accepted, so each code works once. The HMAC is aws-lc-rs's; the clock is handed in.

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;

/// Seconds per step (RFC 6238 §4.1, the default every app assumes).
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a generated secret: 160 bits, the length RFC 4226 §4 recommends.
pub const SECRET_LEN: usize = 20;

/// A shared TOTP secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A fresh secret from `rng`.
    pub fn generate(rng: &dyn crate::rand::Rng) -> Self {
        let mut b = vec![0u8; SECRET_LEN];
        rng.fill(&mut b);
        Self(b)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as users type it into an app: RFC 4648 base32, no padding.
    pub fn base32(&self) -> String {
        base32(&self.0)
    }

    /// The step `unix_time` falls in.
    pub fn step_at(unix_time: i64) -> i64 {
        unix_time.div_euclid(STEP)
    }

    /// The code of `step`, `digits` long (RFC 4226 §5.3: dynamic truncation).
    pub fn code(&self, step: i64, digits: u32) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let tag = hmac::sign(&key, &step.to_be_bytes());
        let mac = tag.as_ref();
        let offset = mac.last().map_or(0, |b| usize::from(b & 0x0f));
        let word = mac
            .get(offset..offset + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map_or(0, |w| u32::from_be_bytes(w) & 0x7fff_ffff);
        let modulus = 10u32.pow(digits.min(9));
        format!("{:0width$}", word % modulus, width = digits.min(9) as usize)
    }

    /// The step whose code `input` is, at `now`, within one step either way and later than
    /// `last_used` (each code once); `None` otherwise. Spaces in `input` are ignored.
    pub fn verify(&self, input: &str, now: i64, last_used: Option<i64>) -> Option<i64> {
        let typed: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = Self::step_at(now);
        // Every candidate is compared, in constant time, whatever matched.
        let mut found = None;
        for step in [current - 1, current, current + 1] {
            let same: bool = self.code(step, DIGITS).as_bytes().ct_eq(typed.as_bytes()).into();
            if same && last_used.is_none_or(|l| step > l) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` URI an app scans (Key Uri Format): `issuer:account` as the label.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
            enc(issuer),
            enc(account),
            self.base32(),
            enc(issuer)
        )
    }
}

/// RFC 4648 §6 base32 without padding.
fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET.get(((buffer >> bits) & 31) as usize).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET.get(((buffer << (5 - bits)) & 31) as usize).copied().unwrap_or(b'A')));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed.
    fn rfc() -> TotpSecret {
        TotpSecret::new(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_rfc_6238_appendix_b() {
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(rfc().code(TotpSecret::step_at(time), 8), code, "at {time}");
        }
        // Six digits are the last six of the same number.
        assert_eq!(rfc().code(TotpSecret::step_at(59), 6), "287082");
    }

    #[test]
    fn a_code_is_good_one_step_either_way_and_only_once() {
        let s = rfc();
        let now = 1_111_111_111;
        let step = TotpSecret::step_at(now);
        let code = |st: i64| s.code(st, DIGITS);
        assert_eq!(s.verify(&code(step), now, None), Some(step));
        assert_eq!(s.verify(&code(step - 1), now, None), Some(step - 1), "the step before (drift)");
        assert_eq!(s.verify(&code(step + 1), now, None), Some(step + 1), "the step after");
        assert_eq!(s.verify(&code(step - 2), now, None), None, "two steps old");
        assert_eq!(s.verify(&code(step + 2), now, None), None);
        // Used once: neither it nor an older code works again.
        assert_eq!(s.verify(&code(step), now, Some(step)), None);
        assert_eq!(s.verify(&code(step - 1), now, Some(step)), None);
        assert_eq!(s.verify(&code(step + 1), now, Some(step)), Some(step + 1));
        // Spaces are forgiven; anything else is not a code.
        let spaced = format!("{} {}", &code(step)[..3], &code(step)[3..]);
        assert_eq!(s.verify(&spaced, now, None), Some(step));
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(s.verify(bad, now, None), None, "{bad:?}");
        }
        assert_eq!(TotpSecret::new(b"another secret".to_vec()).verify(&code(step), now, None), None);
    }

    #[test]
    fn secrets_are_base32_in_an_otpauth_uri() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(rfc().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            rfc().uri("Acme Corp", "alice@example.com"),
            "otpauth://totp/Acme%20Corp:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(TotpSecret::generate(&crate::rand::CountingRng::default()).bytes().len(), SECRET_LEN);
        assert_eq!(format!("{:?}", rfc()), "TotpSecret(..)");
    }
}
