//! Pure OAuth 2.0 / OpenID Connect logic for Gatehouse.
//!
//! This crate never touches the network, the database, the wall clock or an ambient random
//! source: callers pass `now` and randomness in, so every rule is unit-testable in microseconds
//! (DESIGN.md §1).
//!
//! Layout:
//! - [`scope`], [`grant`], [`redirect_uri`], [`client`], [`user`]: the typed domain model, parsed
//!   once at the edge (config file, admin API, registration) and validated there.
//! - [`claims`]: the OIDC Core §5.4 scopes and the claims each one releases.
//! - [`secret`]: client secrets and user passwords (argon2id, SHA-256 for generated secrets).
//! - [`jose`]: signing keys, JWS compact serialisation and JWK export (RFC 7515/7517/7518).
//! - [`discovery`]: OIDC Discovery 1.0 / RFC 8414 metadata.
//! - [`error`]: [`OAuthError`], the RFC 6749 §5.2 / OIDC error codes.
//! - [`clock`]: the injected clock.

/// Serialises a type as its string form and deserialises it through its validating parser, so
/// stored documents can never hold a value the parser would refuse.
macro_rules! string_serde {
    ($ty:ty, $parse:expr, $as_str:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$as_str(self))
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("invalid value {raw:?}")))
            }
        }
    };
}
pub(crate) use string_serde;

pub mod acr;
pub mod authorize;
pub mod cimd;
pub mod claims;
pub mod claims_request;
pub mod client;
pub mod client_assertion;
pub mod client_auth;
pub mod client_keys;
pub mod client_responses;
pub mod clock;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod end_session;
pub mod error;
pub mod grant;
pub mod i18n;
pub mod introspect;
pub mod jose;
pub mod jwe;
pub mod jwk;
pub mod pairwise;
pub mod params;
pub mod pkce;
pub mod protected_resource;
pub mod rand;
pub mod recovery_codes;
pub mod redirect_uri;
pub mod registration;
pub mod request_object;
pub mod resource;
pub mod resource_id;
pub mod scope;
pub mod secret;
pub mod token;
pub mod tokens;
pub mod totp;
pub mod upstream;
pub mod user;

#[cfg(test)]
mod test_keys;

pub use client::{Client, ClientId, ClientSpec, TokenEndpointAuthMethod};
pub use error::OAuthError;
pub use grant::{GrantSet, GrantType, ResponseType};
pub use redirect_uri::RedirectUri;
pub use scope::{Scope, ScopeSet};
