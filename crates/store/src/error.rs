use gatehouse_protocol::OAuthError;
use gatehouse_protocol::error::InternalError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or is unreachable. The text is for logs only.
    #[error("database error: {0}")]
    Database(String),
    /// A stored row does not decode: the database holds something Gatehouse did not write.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    /// A uniqueness rule was broken (e.g. a username already taken).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("bad database URL: {0}")]
    Url(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return Self::Conflict("unique constraint");
        }
        Self::Database(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Database(format!("migration failed: {e}"))
    }
}

/// Storage failures reach clients as `server_error`; the detail is logged, never sent.
impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        OAuthError::Server(InternalError::new(e.to_string()))
    }
}
