//! Authentication context classes (`acr`, OIDC Core §2, §3.1.2.1, §5.5.1.1) over the
//! authentication methods of a sign-in (`amr`, RFC 8176).
//!
//! A deployment names its levels, lowest first, each met by a sign-in that used any of its
//! methods: by default `pwd` (a password, or anything stronger) and `mfa` (more than one
//! factor). A session's `acr` is the highest level its `amr` meets, or the first level a request
//! asked for that it meets. A request asks with `acr_values` (voluntary) or the `claims`
//! parameter's `acr` (`essential` makes it a requirement); a level the session does not meet is
//! reached by signing in again (a step-up: for a session, only the missing factor) when the
//! user can perform one of its methods here — `available`, which second factors extend with
//! `otp` and `mfa` — and is otherwise `unmet_authentication_requirements` when essential.

use crate::claims_request::ClaimsRequest;
use serde::{Deserialize, Serialize};

/// One level: its name (the `acr` value) and the `amr` methods any one of which meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcrLevel {
    pub name: String,
    pub amr: Vec<String>,
}

/// The levels of a deployment, lowest first, and the methods a sign-in here can perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrPolicy {
    pub levels: Vec<AcrLevel>,
    /// `amr` values a sign-in here can produce: the deployment's (`pwd`, and `otp`, `mfa` with a
    /// sealing key), narrowed per user to what they have enrolled.
    pub available: Vec<String>,
}

impl Default for AcrPolicy {
    fn default() -> Self {
        let level = |name: &str, amr: &[&str]| AcrLevel {
            name: name.to_owned(),
            amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        };
        Self {
            levels: vec![level("pwd", &["pwd", "otp", "hwk", "swk", "fed", "mfa"]), level("mfa", &["mfa"])],
            available: vec!["pwd".to_owned()],
        }
    }
}

/// What a request asks of the `acr`: levels in order of preference, and whether one of them is
/// required (an essential `acr` claim request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    pub values: Vec<String>,
    pub essential: bool,
}

/// The `claims` parameter's `acr` (with values) when there is one, else `acr_values`.
pub fn requested(claims: Option<&ClaimsRequest>, acr_values: Option<&str>) -> Requested {
    if let Some((values, essential)) = claims.and_then(ClaimsRequest::acr) {
        return Requested { values, essential };
    }
    let values = acr_values.unwrap_or("").split(' ').filter(|v| !v.is_empty()).map(str::to_owned);
    Requested { values: values.collect(), essential: false }
}

/// Whether a sign-in must happen (again) for the request's `acr`, or the request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The session meets a requested level, or nothing was asked.
    Met,
    /// A sign-in here could meet a requested level.
    SignIn,
    /// Nothing can meet it; fail when essential, go on when voluntary.
    Unmeetable,
}

impl AcrPolicy {
    fn level(&self, name: &str) -> Option<&AcrLevel> {
        self.levels.iter().find(|l| l.name == name)
    }

    /// Whether a sign-in with `amr` meets level `name` (an unknown level is never met).
    pub fn meets(&self, name: &str, amr: &[String]) -> bool {
        self.level(name).is_some_and(|l| l.amr.iter().any(|m| amr.contains(m)))
    }

    /// The `acr` of a sign-in with `amr` for a request asking `requested`: the first requested
    /// level it meets, else the highest level it meets.
    pub fn acr_for(&self, requested: &[String], amr: &[String]) -> Option<String> {
        requested
            .iter()
            .find(|r| self.meets(r, amr))
            .or_else(|| self.levels.iter().rev().find(|l| self.meets(&l.name, amr)).map(|l| &l.name))
            .cloned()
    }

    /// What the request's `acr` needs of a session signed in with `amr`.
    pub fn need(&self, requested: &Requested, amr: &[String]) -> Need {
        if requested.values.is_empty() || requested.values.iter().any(|v| self.meets(v, amr)) {
            return Need::Met;
        }
        let reachable = requested.values.iter().any(|v| self.meets(v, &self.available));
        if reachable { Need::SignIn } else { Need::Unmeetable }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amr(m: &[&str]) -> Vec<String> {
        m.iter().map(|s| (*s).to_owned()).collect()
    }

    fn asked(values: &[&str], essential: bool) -> Requested {
        Requested { values: amr(values), essential }
    }

    #[test]
    fn a_sessions_acr_is_the_first_requested_level_it_meets_else_its_highest() {
        let p = AcrPolicy::default();
        assert_eq!(p.acr_for(&[], &amr(&["pwd"])).as_deref(), Some("pwd"));
        assert_eq!(p.acr_for(&[], &amr(&["pwd", "otp", "mfa"])).as_deref(), Some("mfa"));
        assert_eq!(p.acr_for(&amr(&["pwd", "mfa"]), &amr(&["pwd", "otp", "mfa"])).as_deref(), Some("pwd"));
        assert_eq!(p.acr_for(&amr(&["mfa"]), &amr(&["pwd"])).as_deref(), Some("pwd"), "voluntary: what it has");
        assert_eq!(p.acr_for(&[], &[]), None);
    }

    #[test]
    fn unmet_levels_need_a_sign_in_when_one_can_meet_them() {
        let p = AcrPolicy::default();
        assert_eq!(p.need(&asked(&[], false), &amr(&["pwd"])), Need::Met);
        assert_eq!(p.need(&asked(&["pwd"], true), &amr(&["pwd"])), Need::Met);
        assert_eq!(p.need(&asked(&["mfa"], true), &amr(&["pwd"])), Need::Unmeetable, "no second factor yet");
        assert_eq!(p.need(&asked(&["urn:unknown"], true), &amr(&["pwd"])), Need::Unmeetable);
        // With a second factor available, a password session steps up.
        let with_otp = AcrPolicy { available: amr(&["pwd", "otp", "mfa"]), ..AcrPolicy::default() };
        assert_eq!(with_otp.need(&asked(&["mfa"], false), &amr(&["pwd"])), Need::SignIn);
        // A session without methods (an old one) signs in again for pwd.
        assert_eq!(p.need(&asked(&["pwd"], true), &[]), Need::SignIn);
    }
}
