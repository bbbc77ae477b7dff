//! Gatehouse integration tests: one binary, a module per capability. Every test talks to a
//! real server over HTTP on an ephemeral port, with its own database, on SQLite and (when
//! `GATEHOUSE_TEST_POSTGRES_URL` is set) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod cli;
mod discovery;
mod health;
mod jwks;
mod restart;
mod store;

/// A config with one of each kind of client, a user and a custom scope.
pub const CONFIG: &str = r#"
[[scopes]]
name = "roles"
claims = ["roles"]

[[clients]]
client_id = "webapp"
client_secret = "webapp-secret"
scope = "openid profile email roles offline_access"
grants = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1:3000/callback"]

[[clients]]
client_id = "service"
client_secret = "service-secret"
scope = "roles"
grants = ["client_credentials"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
email = "alice@example.com"
roles = ["admin"]
"#;
