//! Proof Key for Code Exchange (RFC 7636).

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Method {
    S256,
    #[serde(rename = "plain")]
    Plain,
}

impl Method {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A challenge has the same charset and length rules (an S256 challenge is 43 characters).
pub fn is_valid_challenge(c: &str, method: Method) -> bool {
    match method {
        Method::S256 => c.len() == 43 && B64.decode(c).is_ok_and(|d| d.len() == 32),
        Method::Plain => is_valid_verifier(c),
    }
}

/// RFC 7636 §4.2: the S256 challenge of `verifier` (for Gatehouse's own console, a client).
pub fn s256_challenge(verifier: &str) -> String {
    B64.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// RFC 7636 §4.6: the server recomputes the challenge from the verifier and compares.
pub fn verify(challenge: &str, method: Method, verifier: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let computed = match method {
        Method::S256 => s256_challenge(verifier),
        Method::Plain => verifier.to_owned(),
    };
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b() {
        assert!(verify(CHALLENGE, Method::S256, VERIFIER));
        assert!(!verify(CHALLENGE, Method::S256, &VERIFIER.replace('d', "e")));
        assert!(is_valid_challenge(CHALLENGE, Method::S256));
    }

    #[test]
    fn verifier_rules() {
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(is_valid_verifier(&"a~._-".repeat(10)));
        assert!(!verify(CHALLENGE, Method::S256, "too-short"));
    }

    #[test]
    fn plain_compares_directly() {
        let v = "a".repeat(50);
        assert!(verify(&v, Method::Plain, &v));
        assert!(!verify(&v, Method::Plain, &"b".repeat(50)));
        assert!(!is_valid_challenge("abc", Method::S256));
    }
}
