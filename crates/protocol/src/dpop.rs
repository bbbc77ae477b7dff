//! DPoP proofs (RFC 9449 §4): a JWT the client signs with a key of its own, sent in the `DPoP`
//! header, binding a request (method and URL), a moment (`iat`), optionally an access token
//! (`ath`) and a server nonce to the public key it carries. Tokens issued with a proof are bound
//! to that key's thumbprint (`cnf.jkt`, RFC 7638), so a stolen token is useless without it.
//!
//! Here: checking one proof against one request ([`verify`]). Replay detection (each `jti` once)
//! and nonces are the server's (`gatehouse-core`), which keeps the shared state.

use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::jose::{SigningAlg, thumbprint};
use crate::jwk::{has_private_member, verify_signature};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value};

/// The `typ` of a proof (§4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// The algorithms proofs may be signed with (advertised as `dpop_signing_alg_values_supported`).
pub const ALGS: [SigningAlg; 4] = SigningAlg::ALL;
/// How old a proof may be, and how far in the future its `iat` may lie (clock skew), in seconds.
pub const MAX_AGE: i64 = 300;
pub const MAX_SKEW: i64 = 60;
/// The longest proof accepted.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// A proof that passed: the key's thumbprint and what the server must still check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 thumbprint of the proof's key: what tokens are bound to.
    pub jkt: String,
    pub jti: String,
    pub iat: UnixTime,
    pub nonce: Option<String>,
}

/// The request a proof must match.
pub struct Expected<'a> {
    pub method: &'a str,
    /// The request's URL; query and fragment are ignored (§4.3).
    pub url: &'a str,
    pub now: UnixTime,
    /// At a protected resource: the access token presented with the proof (`ath`).
    pub access_token: Option<&'a str>,
}

fn bad(why: &'static str) -> OAuthError {
    OAuthError::InvalidDpopProof(why)
}

/// The URL as `htu` compares it: without query and fragment, normalised.
fn htu(url: &str) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    u.set_query(None);
    u.set_fragment(None);
    Some(u.into())
}

/// SHA-256 of an access token, base64url: the `ath` claim (§4.2).
pub fn ath(access_token: &str) -> String {
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes()).as_ref())
}

/// Checks a proof (§4.3): its form, its signature by the public key it carries, and that it is
/// for this request, now, and (at a resource) this access token.
pub fn verify(proof: &str, expected: &Expected<'_>) -> Result<Proof, OAuthError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(bad("the DPoP proof is too long"));
    }
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad("the DPoP proof is not a JWS"));
    };
    let object = |part: &str| -> Result<Map<String, Value>, OAuthError> {
        let bytes = B64.decode(part).map_err(|_| bad("the DPoP proof is not a JWS"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(bad("the DPoP proof is not a JWS")),
        }
    };
    let header = object(h)?;
    if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
        return Err(bad("the DPoP proof's typ must be dpop+jwt"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(SigningAlg::parse)
        .filter(|a| ALGS.contains(a))
        .ok_or(bad("the DPoP proof's alg is not supported"))?;
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err(bad("the DPoP proof carries no jwk"));
    };
    if has_private_member(jwk) {
        return Err(bad("the DPoP proof's jwk holds a private key"));
    }
    let signature = B64.decode(s).map_err(|_| bad("the DPoP proof is not a JWS"))?;
    let signed = proof.get(..h.len() + 1 + p.len()).ok_or(bad("the DPoP proof is not a JWS"))?;
    if !verify_signature(alg, jwk, signed.as_bytes(), &signature) {
        return Err(bad("the DPoP proof's signature does not verify with its jwk"));
    }

    let claims = object(p)?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(bad("the DPoP proof needs a jti"))?;
    if claims.get("htm").and_then(Value::as_str) != Some(expected.method) {
        return Err(bad("the DPoP proof's htm is not this request's method"));
    }
    let claimed = claims.get("htu").and_then(Value::as_str).and_then(htu);
    if claimed.is_none() || claimed != htu(expected.url) {
        return Err(bad("the DPoP proof's htu is not this request's URL"));
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or(bad("the DPoP proof needs an iat"))?;
    if iat < expected.now - MAX_AGE || iat > expected.now + MAX_SKEW {
        return Err(bad("the DPoP proof's iat is too far from now"));
    }
    if let Some(token) = expected.access_token
        && claims.get("ath").and_then(Value::as_str) != Some(ath(token).as_str())
    {
        return Err(bad("the DPoP proof's ath does not match the access token"));
    }
    Ok(Proof {
        jkt: thumbprint(&Value::Object(jwk.clone())),
        jti: jti.to_owned(),
        iat,
        nonce: claims.get("nonce").and_then(Value::as_str).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests;
