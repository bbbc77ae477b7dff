//! An API protected by Gatehouse: `GET /reports` needs a bearer token with `api:read`.
//!
//! ```text
//! cargo run -- serve --config examples/quickstart.toml        # Gatehouse on :8080
//! cargo run -p gatehouse-client --features axum --example api # this API on :4000
//! TOKEN=$(curl -s -u service:service-secret-change-me -d grant_type=client_credentials \
//!   -d scope=api:read http://127.0.0.1:8080/token | jq -r .access_token)
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4000/reports
//! ```
//!
//! Gatehouse names itself as the audience of its access tokens, so the API's audience here is
//! the issuer URL.

use axum::{Router, routing::get};
use gatehouse_client::Verifier;
use gatehouse_client::axum::{Authenticated, RequireScope};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let verifier = Arc::new(Verifier::discover(&issuer, &issuer).await?);
    let app = Router::new()
        .route(
            "/reports",
            get(|Authenticated(token): Authenticated| async move {
                format!("reports for {} (client {:?})\n", token.subject, token.client_id)
            }),
        )
        .layer(RequireScope::new(verifier, "api:read"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
    println!("API on http://127.0.0.1:4000/reports, tokens from {issuer}");
    axum::serve(listener, app).await?;
    Ok(())
}
