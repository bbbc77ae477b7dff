use gatehouse_protocol::OAuthError;
use gatehouse_protocol::error::InternalError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed. The text is for logs only.
    #[error("database error: {0}")]
    Database(String),
    /// The database cannot be reached right now, or dropped the statement for a reason that
    /// passes (a restart, a failover, a timeout, too many connections): worth trying again.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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
        use sqlx::Error as E;
        match &e {
            E::Database(db) if db.is_unique_violation() => Self::Conflict("unique constraint"),
            E::Database(db) if db.code().is_some_and(|c| is_transient_sqlstate(&c)) => Self::Unavailable(e.to_string()),
            // Protocol: the other end said something that is not PostgreSQL, as a connection cut
            // half-way does (a proxy or load balancer that accepted it, then closed it: "unexpected
            // response from SSLRequest: 0x00").
            E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
                Self::Unavailable(e.to_string())
            }
            _ => Self::Database(e.to_string()),
        }
    }
}

/// SQLSTATEs that say "not now" rather than "never": connection exceptions (class 08), a
/// server shutting down or starting (57P01–57P03), too many connections (53300), a statement
/// cancelled by `statement_timeout` (57014), and a transaction rolled back by a serialisation
/// failure or deadlock (40001, 40P01). (SQLite's busy and locked are told apart in
/// `db/sqlite.rs`.)
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "57014" | "40001" | "40P01")
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Database(format!("migration failed: {e}"))
    }
}

/// Storage failures reach clients as `temporarily_unavailable` (503) when they pass, else
/// `server_error`; the detail is logged, never sent.
impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => OAuthError::TemporarilyUnavailable(InternalError::new(e.to_string())),
            _ => OAuthError::Server(InternalError::new(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{StoreError, is_transient_sqlstate};

    #[test]
    fn passing_failures_are_told_from_lasting_ones() {
        for code in ["08006", "08001", "57P01", "53300", "57014", "40001", "40P01"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "22001", "1", "19", "2067"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
        let cut = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
        assert!(matches!(StoreError::from(cut), StoreError::Unavailable(_)));
        let gone = sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into());
        assert!(matches!(StoreError::from(gone), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::RowNotFound), StoreError::Database(_)));
    }
}
