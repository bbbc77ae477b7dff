//! `[ldap]`: a directory that checks the passwords of people who have none here. Validated into
//! [`crate::directory::DirectoryPolicy`].

use crate::directory::{DirectoryPolicy, Locate};
use gatehouse_protocol::claims::RESERVED_CLAIMS;
use gatehouse_protocol::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[ldap]`: an LDAP directory (OpenLDAP, Active Directory, 389-DS, …) that verifies the
/// passwords of users who have none here. Gatehouse binds as the user to check a password and
/// never writes to the directory. Either `user_dn` (bind as the user directly) or `base_dn`
/// (search for the user, then bind as them).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldaps://host:636` (TLS from the start) or `ldap://host:389` (with `starttls`, or plain
    /// on a loopback address only: passwords cross the network). Absent: no directory.
    #[serde(default)]
    pub url: Option<String>,
    /// Upgrade an `ldap://` connection with StartTLS before anything is sent.
    #[serde(default)]
    pub starttls: bool,
    /// A PEM file of the certificate authorities the directory's certificate is checked
    /// against, instead of the system's.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ca_file: Option<PathBuf>,
    /// Bind as the user: their DN, with `{username}` for the name typed (escaped), such as
    /// `uid={username},ou=people,dc=example,dc=com`.
    #[serde(default)]
    pub user_dn: Option<String>,
    /// Search, then bind: where users are found (`ou=people,dc=example,dc=com`).
    #[serde(default)]
    pub base_dn: Option<String>,
    /// Search, then bind: the filter, with `{username}` for the name typed (escaped).
    #[serde(default)]
    #[schema(default = "(uid={username})")]
    pub user_filter: Option<String>,
    /// Search, then bind: the account that searches (read-only is enough); anonymous when
    /// absent.
    #[serde(default)]
    pub bind_dn: Option<String>,
    /// The password of `bind_dn`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub bind_password: Option<Secret>,
    /// Local claim ← directory attribute, for users created here. Default: `name ← cn`,
    /// `given_name ← givenName`, `family_name ← sn`, `email ← mail`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub claims: BTreeMap<String, String>,
    /// The attribute that identifies an entry for good (a rename keeps it): `entryUUID`
    /// (OpenLDAP, 389-DS), `objectGUID` (Active Directory). Entries without it are known by DN.
    #[serde(default)]
    #[schema(default = "entryUUID")]
    pub id_attribute: Option<String>,
    /// The directory's addresses count as verified (`email_verified`).
    #[serde(default)]
    pub emails_verified: bool,
    /// A directory user's first sign-in creates their user here (no password of its own).
    /// `false`: only users created before (by an earlier sign-in) may sign in.
    #[serde(default)]
    #[schema(default = true)]
    pub create_users: Option<bool>,
    /// At each sign-in, replace the claims `claims` maps with the directory's attributes now
    /// (one the entry no longer has is removed); other claims are kept. Default: claims are
    /// copied once, when the user is created.
    #[serde(default)]
    pub sync_claims: bool,
    /// Seconds to connect and for each operation.
    #[serde(default)]
    #[schema(default = 5, minimum = 1, maximum = 60)]
    pub timeout: Option<u64>,
}

impl LdapConfig {
    pub(super) fn validate(&self, file: &str, errs: &mut Vec<String>) -> Option<DirectoryPolicy> {
        let url = self.url.as_deref()?;
        let at = |key: &str| format!("{file}: ldap.{key}");
        let parsed = url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "ldap" | "ldaps") && u.host().is_some());
        let Some(parsed) = parsed else {
            errs.push(format!("{}: {url:?} is not an ldap:// or ldaps:// URL", at("url")));
            return None;
        };
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if parsed.scheme() == "ldaps" && self.starttls {
            errs.push(format!("{}: StartTLS is for ldap:// URLs; ldaps:// is TLS already", at("starttls")));
        }
        if parsed.scheme() == "ldap" && !self.starttls && !loopback {
            errs.push(format!(
                "{}: plain ldap:// would send passwords unencrypted; use ldaps:// or starttls = true",
                at("url")
            ));
        }
        let locate = match (&self.user_dn, &self.base_dn) {
            (Some(dn), None) if dn.contains("{username}") => Locate::Bind { user_dn: dn.clone() },
            (Some(_), None) => {
                errs.push(format!("{}: must contain {{username}}", at("user_dn")));
                return None;
            }
            (None, Some(base)) => {
                let filter = self.user_filter.clone().unwrap_or_else(|| "(uid={username})".to_owned());
                if !filter.contains("{username}") || !filter.starts_with('(') {
                    errs.push(format!("{}: must be a filter such as (uid={{username}})", at("user_filter")));
                }
                if self.bind_dn.is_some() != self.bind_password.is_some() {
                    errs.push(format!("{}: bind_dn and bind_password go together", at("bind_password")));
                }
                Locate::Search {
                    base_dn: base.clone(),
                    filter,
                    bind: self.bind_dn.clone().zip(self.bind_password.clone()),
                }
            }
            _ => {
                errs.push(format!("{}: give user_dn (bind as the user) or base_dn (search, then bind)", at("user_dn")));
                return None;
            }
        };
        let mut claims: BTreeMap<String, String> =
            [("name", "cn"), ("given_name", "givenName"), ("family_name", "sn"), ("email", "mail")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect();
        for (local, theirs) in &self.claims {
            if local == "email_verified" || RESERVED_CLAIMS.contains(&local.as_str()) {
                errs.push(format!("{}: {local:?} cannot be mapped", at("claims")));
            } else if theirs.is_empty() {
                claims.remove(local);
            } else {
                claims.insert(local.clone(), theirs.clone());
            }
        }
        let timeout = match self.timeout {
            Some(t) if !(1..=60).contains(&t) => {
                errs.push(format!("{}: {t} is out of range (1 to 60 seconds)", at("timeout")));
                5
            }
            t => t.unwrap_or(5),
        };
        let ca_pem = self.ca_file.as_ref().and_then(|p| {
            std::fs::read(p).map_err(|e| errs.push(format!("{}: {}: {e}", at("ca_file"), p.display()))).ok()
        });
        Some(DirectoryPolicy {
            url: url.to_owned(),
            starttls: self.starttls,
            ca_pem,
            locate,
            claims,
            id_attribute: self.id_attribute.clone().unwrap_or_else(|| "entryUUID".to_owned()),
            emails_verified: self.emails_verified,
            create_users: self.create_users.unwrap_or(true),
            sync_claims: self.sync_claims,
            timeout: std::time::Duration::from_secs(timeout),
        })
    }
}
