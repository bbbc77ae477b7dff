//! Gatehouse's services: everything a node does apart from HTTP (ARCHITECTURE.md).
//!
//! - [`config`]: the layered, validated configuration; [`seed`] applies it to the store.
//! - [`services::build`]: config → store → keys → catalog → [`services::Gatehouse`], the
//!   services the server's handlers take one by one; [`background`] runs beside them.
//! - Tokens: [`keys`] (signing keys), [`issuer`] (minting), [`catalog`] (scopes, discovery).
//! - Requests: [`client_auth`], [`grant`] (one module per grant), [`authorization`],
//!   [`sign_in`], [`device`], [`lifecycle`] (introspection, revocation, userinfo),
//!   [`registration`], [`backchannel`].
//! - Operations: [`admin`] (shared by the admin API, the console, the CLI; [`resources`] adds
//!   the resource servers' operations to it), [`throttle`],
//!   [`metrics`], [`secrets`], [`server_keys`] (the server's own HMAC keys).
//!
//! Nothing here depends on an HTTP server framework; the server crate maps requests onto these
//! services and their results onto responses.

pub mod activity;
pub mod admin;
pub mod authorization;
pub mod backchannel;
pub mod background;
pub mod catalog;
pub mod cimd;
mod claim_sync;
pub mod client_auth;
pub mod client_keys;
pub mod config;
pub mod device;
pub mod directory;
pub mod dpop;
pub mod factors;
pub mod fetch;
pub mod grant;
pub mod issuer;
pub mod keys;
pub mod lifecycle;
pub mod metrics;
pub mod provisioning;
pub mod registration;
pub mod request_objects;
pub mod resources;
pub mod sealing;
pub mod secrets;
pub mod seed;
pub mod server_keys;
pub mod services;
pub mod sign_in;
pub mod subjects;
pub mod theme;
pub mod throttle;
pub mod ttl_cache;
pub mod upstreams;

pub use services::{Gatehouse, build, build_with_clock};
