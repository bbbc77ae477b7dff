//! The Gatehouse HTTP server: HTTP only. Requests are parsed here, handed to the services of
//! `gatehouse-core`, and their results (or errors) mapped onto responses (ARCHITECTURE.md).
//!
//! - [`state`]: [`AppState`], split by concern; handlers extract only the services they use.
//! - [`router::app`]: every route and the cross-cutting layers, shared by `gatehouse serve`
//!   and the tests; [`serve::serve_with`] runs it on a listener until shutdown.
//! - [`extract`]: the client's form and client authentication, written once.
//! - [`error`]: the one mapping of protocol errors to JSON responses, and the page error type.
//! - [`oauth`]: the endpoints clients call, one file each; [`pages`]: the pages people read;
//!   [`admin`]: the admin API; [`console`]: the admin console; [`metrics`]: `/metrics`.

pub mod account;
pub mod admin;
pub mod client_address;
mod console;
pub mod error;
pub mod extract;
mod i18n;
mod metrics;
pub mod oauth;
pub mod pages;
pub mod router;
pub mod serve;
pub mod state;
pub mod web;

pub use error::ApiError;
pub use router::app;
pub use serve::{serve, serve_with};
pub use state::AppState;
