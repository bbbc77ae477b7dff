//! Telling every node what changed, so in-process caches follow at once (DESIGN.md §5).
//!
//! On PostgreSQL each write that a cache depends on is announced with `NOTIFY` on
//! [`CHANNEL`]; every node `LISTEN`s and drops what it holds for that key. A notification can be
//! lost (the listening connection drops); then the node drops everything, and `cache_ttl` bounds
//! staleness in between. SQLite has one file and no notifications: there the TTL alone applies.

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "gatehouse_changes";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Client(String),
    User(String),
    /// An access token revoked (by `jti`), or `None`: some tokens, not known which.
    Revoked(Option<String>),
    /// The catalog: scopes or resource servers.
    Scopes,
    Keys,
    /// Notifications may have been missed (the listener reconnected): assume anything changed.
    Unknown,
}

impl Change {
    /// The notification payload.
    pub fn encode(&self) -> String {
        match self {
            Self::Client(id) => format!("client:{id}"),
            Self::User(sub) => format!("user:{sub}"),
            Self::Revoked(Some(jti)) => format!("revoked:{jti}"),
            Self::Revoked(None) => "revoked:*".to_owned(),
            Self::Scopes => "scopes".to_owned(),
            Self::Keys => "keys".to_owned(),
            Self::Unknown => "unknown".to_owned(),
        }
    }

    /// Reads a payload; anything unrecognised (a newer node's message) is [`Change::Unknown`].
    pub fn decode(payload: &str) -> Self {
        match payload.split_once(':') {
            Some(("client", id)) => Self::Client(id.to_owned()),
            Some(("user", sub)) => Self::User(sub.to_owned()),
            Some(("revoked", "*")) => Self::Revoked(None),
            Some(("revoked", jti)) => Self::Revoked(Some(jti.to_owned())),
            None if payload == "scopes" => Self::Scopes,
            None if payload == "keys" => Self::Keys,
            _ => Self::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_unknown_ones_mean_anything() {
        for c in [
            Change::Client("web:app".into()),
            Change::User("u-1".into()),
            Change::Revoked(Some("j1".into())),
            Change::Revoked(None),
            Change::Scopes,
            Change::Keys,
            Change::Unknown,
        ] {
            assert_eq!(Change::decode(&c.encode()), c);
        }
        assert_eq!(Change::decode("tenant:7"), Change::Unknown);
        assert_eq!(Change::decode(""), Change::Unknown);
    }
}
