//! `gatehouse-client`: the application side of Gatehouse, for any standard OpenID provider.
//!
//! This first part serves APIs (resource servers): [`Verifier`] checks RFC 9068 JWT access
//! tokens against the provider's published keys; with the `axum` feature, [`axum::RequireScope`]
//! guards routes with it. [`Introspector`] asks the provider instead (RFC 7662), for APIs that
//! must see a revocation at once. It depends on none of Gatehouse's server crates.
//!
//! ```no_run
//! # async fn api() -> Result<(), Box<dyn std::error::Error>> {
//! use gatehouse_client::Verifier;
//! // Discovery and JWKS come from the issuer; tokens must name this API in `aud`.
//! let verifier = Verifier::discover("http://127.0.0.1:8080", "http://127.0.0.1:8080").await?;
//! let token = verifier.verify("eyJ...").await?;
//! assert!(token.scopes.contains("api:read"));
//! println!("{} via client {:?}", token.subject, token.client_id);
//! # Ok(()) }
//! ```

#[cfg(feature = "axum")]
pub mod axum;
mod check;
mod introspection;
mod verifier;

pub use check::{Checked, TokenCheck};
pub use introspection::Introspector;
pub use verifier::{AccessToken, Error, Verifier, VerifyError};
