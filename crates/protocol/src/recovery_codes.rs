//! Recovery codes: ten single-use codes a user keeps for when the second factor is lost. Each is
//! twelve characters of lowercase base32 (60 random bits), shown as `xxxx-xxxx-xxxx`; what the
//! user types is read forgivingly (case, spaces, dashes) and reduced to the twelve characters,
//! whose hash is what the store keeps.

use crate::rand::Rng;

/// Codes issued at once.
pub const COUNT: usize = 10;
/// Characters per code.
const LEN: usize = 12;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `COUNT` fresh codes, for showing (`xxxx-xxxx-xxxx`).
pub fn generate(rng: &dyn Rng) -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let mut raw = [0u8; LEN];
            rng.fill(&mut raw);
            let chars: Vec<char> =
                raw.iter().map(|b| char::from(ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'a'))).collect();
            chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// The canonical form of a typed code (what is hashed), or `None` when it cannot be one.
pub fn normalize(input: &str) -> Option<String> {
    let code: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// Whether `input` looks like a recovery code rather than a one-time password.
pub fn looks_like(input: &str) -> bool {
    normalize(input).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::CountingRng;

    #[test]
    fn ten_distinct_codes_that_read_back_as_themselves() {
        let codes = generate(&CountingRng::default());
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        for c in &codes {
            assert_eq!(c.len(), 14, "{c}");
            assert_eq!(c.matches('-').count(), 2);
            assert_eq!(normalize(c).as_deref(), Some(c.replace('-', "").as_str()));
        }
    }

    #[test]
    fn typing_is_forgiven_but_only_codes_are_codes() {
        assert_eq!(normalize(" ABCD-efgh 2345 ").as_deref(), Some("abcdefgh2345"));
        assert_eq!(normalize("abcd-efgh-2345-").as_deref(), Some("abcdefgh2345"));
        for bad in ["", "123456", "abcd-efgh-234", "abcd-efgh-23456", "abcd-efgh-2301", "abcd-éfgh-2345"] {
            assert_eq!(normalize(bad), None, "{bad:?}");
            assert!(!looks_like(bad));
        }
    }
}
