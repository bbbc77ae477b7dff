//! A `SessionStore` in one JSON file, so that restarting the app keeps users signed in.
//! Every change rewrites the file (a temporary file renamed over it: never half-written),
//! readable by this user only: it holds refresh tokens. Good for one process; several
//! processes would share a database instead (SQLite, PostgreSQL, Redis) the same way.

use gatehouse_client::{SessionStore, StoreError, StoreFuture, StoredSession};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

pub struct FileStore {
    path: PathBuf,
    sessions: Mutex<HashMap<String, StoredSession>>,
}

impl FileStore {
    /// Opens (or starts) the store at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let sessions = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(Self { path, sessions: Mutex::new(sessions) })
    }

    /// Applies `change` and writes the file.
    fn change(&self, change: impl FnOnce(&mut HashMap<String, StoredSession>)) -> Result<(), StoreError> {
        let mut sessions = self.sessions.lock().map_err(|_| "the store's lock is poisoned")?;
        change(&mut sessions);
        let tmp = self.path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(&serde_json::to_vec(&*sessions)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

impl SessionStore for FileStore {
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<StoredSession>> {
        let found = self.sessions.lock().map(|s| s.get(id).cloned()).map_err(|_| "the store's lock is poisoned".into());
        Box::pin(async move { found })
    }

    fn save<'a>(&'a self, session: &'a StoredSession) -> StoreFuture<'a, ()> {
        let done = self.change(|s| {
            s.insert(session.id.clone(), session.clone());
        });
        Box::pin(async move { done })
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        let done = self.change(|s| {
            s.remove(id);
        });
        Box::pin(async move { done })
    }
}
