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

#![warn(missing_docs)]

mod auth;
mod auth_error;
#[cfg(feature = "axum")]
pub mod axum;
mod check;
mod introspection;
mod login;
mod provider;
mod session;
mod store;
mod verifier;

pub use auth::{AuthClient, AuthClientBuilder, NewUser, PROVISION_SCOPE, RegisteredUser};
pub use auth_error::AuthError;
pub use check::{Checked, TokenCheck};
pub use introspection::Introspector;
pub use login::PendingLogin;
pub use session::Session;
pub use store::{MemoryStore, SessionStore, StoreError, StoreFuture, StoredSession, TokenSet};
pub use verifier::{AccessToken, DEFAULT_ALGORITHMS, Error, Verifier, VerifyError};
