//! An LDAP directory that checks passwords (`[ldap]`, through the `ldap3` crate): for people who
//! have no password here, a password is right when the directory accepts a bind as them. The
//! user is found by a DN template (bind as the user) or by a search (as a read-only account or
//! anonymously) followed by a bind as the entry found. Nothing is ever written to the directory.
//!
//! An empty password is never sent: LDAP takes a bind with a DN and no password as an
//! anonymous bind, which succeeds (RFC 4513 §5.1.2). Names typed are escaped for the DN or the
//! filter they go into. The first sign-in of a directory user creates their user here (claims
//! from the entry's attributes, no password of its own) linked to the entry by its
//! `id_attribute` (`upstream_links`, provider `ldap`), so a renamed entry stays the same user;
//! with `sync_claims` the attributes are copied again at each sign-in.
//! A directory that cannot be reached is [`DirectoryError::Unavailable`]: a clear page, not a
//! wrong password and not a server error.

use crate::claim_sync::sync_claims;
use crate::factors::audit;
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::secret::{Secret, SecretHash};
use gatehouse_protocol::user::User;
use gatehouse_store::{Store, StoreError, UpstreamLink};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// The provider name of directory links.
pub const PROVIDER: &str = "ldap";
/// `invalidCredentials` (RFC 4511 §4.1.9).
const INVALID_CREDENTIALS: u32 = 49;

/// How a user's entry is found.
#[derive(Debug, Clone)]
pub enum Locate {
    /// Their DN, from a template with `{username}`.
    Bind { user_dn: String },
    /// A search under `base_dn` with `filter` (`{username}`), as `bind` or anonymously.
    Search { base_dn: String, filter: String, bind: Option<(String, Secret)> },
}

/// `[ldap]`, validated.
#[derive(Debug, Clone)]
pub struct DirectoryPolicy {
    pub url: String,
    pub starttls: bool,
    /// PEM certificate authorities for the directory's certificate, instead of the system's.
    pub ca_pem: Option<Vec<u8>>,
    pub locate: Locate,
    /// Local claim ← attribute.
    pub claims: BTreeMap<String, String>,
    pub id_attribute: String,
    pub emails_verified: bool,
    pub create_users: bool,
    /// Copy the mapped attributes again at each sign-in.
    pub sync_claims: bool,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Not reachable, or it answered something other than yes or no (logged in full).
    #[error("the directory could not be reached")]
    Unavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn unavailable(e: impl std::fmt::Display) -> DirectoryError {
    tracing::warn!(error = %e, "the LDAP directory could not be used");
    DirectoryError::Unavailable
}

/// A directory entry a password was right for.
#[derive(Debug)]
pub struct Entry {
    /// Its `id_attribute`, else its DN.
    pub id: String,
    pub attrs: HashMap<String, Vec<String>>,
}

pub struct Directory {
    policy: DirectoryPolicy,
    tls: Option<Arc<rustls::ClientConfig>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Directory {
    pub fn new(policy: DirectoryPolicy, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let tls = policy.ca_pem.as_deref().and_then(client_config);
        Self { policy, tls, store, clock }
    }

    /// Whether the directory accepts `password` for `username`: its entry when it does.
    pub async fn verify(&self, username: &str, password: &Secret) -> Result<Option<Entry>, DirectoryError> {
        if password.expose().is_empty() || username.is_empty() {
            return Ok(None);
        }
        let p = &self.policy;
        let mut settings = LdapConnSettings::new().set_conn_timeout(p.timeout).set_starttls(p.starttls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &p.url).await.map_err(unavailable)?;
        ldap3::drive!(conn);
        let attrs: Vec<&str> = p.claims.values().map(String::as_str).chain([p.id_attribute.as_str()]).collect();
        let dn = match &p.locate {
            Locate::Bind { user_dn } => user_dn.replace("{username}", &ldap3::dn_escape(username)),
            Locate::Search { base_dn, filter, bind } => {
                if let Some((dn, pw)) = bind {
                    let r = ldap.with_timeout(p.timeout).simple_bind(dn, pw.expose()).await.map_err(unavailable)?;
                    r.success().map_err(|e| unavailable(format!("the search account's bind: {e}")))?;
                }
                let filter = filter.replace("{username}", &ldap3::ldap_escape(username));
                let found = ldap
                    .with_timeout(p.timeout)
                    .search(base_dn, Scope::Subtree, &filter, vec!["1.1"])
                    .await
                    .map_err(unavailable)?
                    .success()
                    .map_err(unavailable)?
                    .0;
                match found.as_slice() {
                    [one] => SearchEntry::construct(one.clone()).dn,
                    [] => return Ok(None),
                    _ => {
                        tracing::warn!(%filter, n = found.len(), "several directory entries match one username");
                        return Ok(None);
                    }
                }
            }
        };
        let bound = ldap.with_timeout(p.timeout).simple_bind(&dn, password.expose()).await.map_err(unavailable)?;
        match bound.rc {
            0 => {}
            // A wrong password, or no such entry (directories answer both alike).
            INVALID_CREDENTIALS => return Ok(None),
            _ => return Err(unavailable(format!("bind as the user: {bound}"))),
        }
        // As the user now: their own entry.
        let read = ldap
            .with_timeout(p.timeout)
            .search(&dn, Scope::Base, "(objectClass=*)", attrs)
            .await
            .map_err(unavailable)?
            .success()
            .map_err(unavailable)?
            .0;
        let _ = ldap.unbind().await;
        let Some(entry) = read.into_iter().next().map(SearchEntry::construct) else {
            return Err(unavailable("the user's own entry could not be read"));
        };
        let id = entry
            .attrs
            .get(&p.id_attribute)
            .and_then(|v| v.first().cloned())
            .or_else(|| entry.bin_attrs.get(&p.id_attribute).and_then(|v| v.first()).map(|b| hex(b)))
            .unwrap_or_else(|| entry.dn.clone());
        Ok(Some(Entry { id, attrs: entry.attrs }))
    }

    /// The user a directory `entry` signs in as: the one linked to it, or (`create_users`) a new
    /// one named `username`. `None`: not allowed here (linking is refused when the name belongs
    /// to a user here who is not this entry's).
    pub async fn user_for(&self, username: &str, entry: &Entry) -> Result<Option<User>, StoreError> {
        let store = self.store.as_ref();
        let now = self.clock.now();
        if let Some(link) = store.find_link(PROVIDER, &entry.id).await? {
            store.touch_link(PROVIDER, &entry.id, now).await?;
            let user = store.get_user_by_sub(&link.sub).await?;
            return match user {
                Some(user) if self.policy.sync_claims => {
                    let owned = self.policy.claims.keys().map(String::as_str);
                    Ok(Some(sync_claims(store, user, owned, &self.claims(entry), PROVIDER, now).await?))
                }
                other => Ok(other),
            };
        }
        if !self.policy.create_users || store.get_user_by_username(username).await?.is_some() {
            return Ok(None);
        }
        let user = User {
            sub: uuid::Uuid::new_v4().to_string(),
            username: username.to_owned(),
            password_hash: SecretHash::Unset,
            claims: self.claims(entry),
            disabled: false,
            admin: false,
        };
        let email = user.claims.get("email").and_then(Value::as_str).map(str::to_owned);
        let link = UpstreamLink {
            provider: PROVIDER.to_owned(),
            subject: entry.id.clone(),
            sub: user.sub.clone(),
            email: email.filter(|_| self.policy.emails_verified),
            created_at: now,
            last_used_at: Some(now),
        };
        match store.insert_user_with_link(&user, &link, now).await {
            Ok(()) => {}
            // Created meanwhile by this entry's sign-in on another node: that user. (Never the
            // holder of the name alone: that may be someone else.)
            Err(StoreError::Conflict(_)) => {
                return match store.find_link(PROVIDER, &entry.id).await? {
                    Some(link) => store.get_user_by_sub(&link.sub).await,
                    None => Ok(None),
                };
            }
            Err(e) => return Err(e),
        }
        let details = json!({ "username": user.username, "provider": PROVIDER, "subject": entry.id });
        audit(store, PROVIDER, "user.create", &user.sub, details, now).await?;
        tracing::info!(sub = %user.sub, username, "created a user at their first directory sign-in");
        Ok(Some(user))
    }

    /// The claims `entry` gives a user.
    fn claims(&self, entry: &Entry) -> Map<String, Value> {
        let mut claims = Map::new();
        for (local, attr) in &self.policy.claims {
            if let Some(v) = entry.attrs.get(attr).and_then(|v| v.first()) {
                claims.insert(local.clone(), Value::String(v.clone()));
            }
        }
        if claims.contains_key("email") {
            claims.insert("email_verified".to_owned(), Value::Bool(self.policy.emails_verified));
        }
        claims
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// TLS trusting only the certificate authorities in `pem`.
fn client_config(pem: &[u8]) -> Option<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem).flatten() {
        if let Err(e) = roots.add(cert) {
            tracing::warn!(error = %e, "a certificate of ldap.ca_file was not usable");
        }
    }
    crate::fetch::install_tls_provider();
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    Some(Arc::new(config))
}
