//! The interactions a client may use (DESIGN.md §2) and the response types they allow
//! (RFC 6749 §3.1.1, OAuth 2.0 Multiple Response Type Encoding Practices, OIDC Core §3).

use std::collections::BTreeSet;
use std::fmt;

/// A grant a client may be given. `Implicit` and `Hybrid` are authorization-endpoint
/// interactions in the IdentityServer sense; the rest are token-endpoint grant types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    AuthorizationCode,
    Implicit,
    Hybrid,
    ClientCredentials,
    RefreshToken,
    Password,
    DeviceCode,
}

pub const DEVICE_CODE_URN: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl GrantType {
    pub const ALL: [GrantType; 7] = [
        Self::AuthorizationCode,
        Self::Implicit,
        Self::Hybrid,
        Self::ClientCredentials,
        Self::RefreshToken,
        Self::Password,
        Self::DeviceCode,
    ];

    /// The canonical name, as written in config and sent as `grant_type`.
    /// The RFC 7591 §2 `grant_types` values this grant stands for (hybrid is both the code
    /// and the implicit flow).
    pub fn registration_grant_types(self) -> &'static [&'static str] {
        match self {
            Self::AuthorizationCode => &["authorization_code"],
            Self::Implicit => &["implicit"],
            Self::Hybrid => &["authorization_code", "implicit"],
            Self::ClientCredentials => &["client_credentials"],
            Self::RefreshToken => &["refresh_token"],
            Self::Password => &["password"],
            Self::DeviceCode => &["urn:ietf:params:oauth:grant-type:device_code"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::Hybrid => "hybrid",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
            Self::DeviceCode => DEVICE_CODE_URN,
        }
    }

    /// A short name for labels and logs: the canonical name, `device_code` for the RFC 8628 URN.
    pub fn metric_label(self) -> &'static str {
        match self {
            Self::DeviceCode => "device_code",
            g => g.as_str(),
        }
    }

    /// Parses one name; `device_code` is accepted as an alias of the RFC 8628 URN.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "authorization_code" => Self::AuthorizationCode,
            "implicit" => Self::Implicit,
            "hybrid" => Self::Hybrid,
            "client_credentials" => Self::ClientCredentials,
            "refresh_token" => Self::RefreshToken,
            "password" => Self::Password,
            DEVICE_CODE_URN | "device_code" => Self::DeviceCode,
            _ => return None,
        })
    }

    /// The valid names, for error messages.
    pub fn valid_names() -> String {
        let mut v: Vec<&str> = Self::ALL.iter().map(|g| g.as_str()).collect();
        v.push("device_code");
        v.join(", ")
    }

    /// Grants that act for no user and need a client secret.
    pub fn needs_confidential_client(self) -> bool {
        matches!(self, Self::ClientCredentials | Self::Password)
    }

    /// Grants that deliver through the authorization endpoint and so need redirect URIs.
    pub fn uses_redirect(self) -> bool {
        matches!(self, Self::AuthorizationCode | Self::Implicit | Self::Hybrid)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The grants of one client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantSet(BTreeSet<GrantType>);

impl GrantSet {
    /// Parses one config entry. An entry may combine names with spaces, as the IdentityServer
    /// family writes them (`"hybrid client_credentials"`); the unknown name is returned on error.
    pub fn extend_from_entry(&mut self, entry: &str) -> Result<(), String> {
        let mut any = false;
        for name in entry.split_whitespace() {
            any = true;
            let g = GrantType::parse(name).ok_or_else(|| name.to_owned())?;
            self.0.insert(g);
        }
        if any { Ok(()) } else { Err(entry.to_owned()) }
    }

    pub fn insert(&mut self, g: GrantType) {
        self.0.insert(g);
    }

    pub fn contains(&self, g: GrantType) -> bool {
        self.0.contains(&g)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = GrantType> + '_ {
        self.0.iter().copied()
    }

    /// Whether the client may use this response type at the authorization endpoint.
    pub fn allows_response_type(&self, rt: ResponseType) -> bool {
        self.contains(rt.required_grant())
    }
}

impl FromIterator<GrantType> for GrantSet {
    fn from_iter<I: IntoIterator<Item = GrantType>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// A `response_type` value: a set of `code`, `id_token`, `token` (order-insensitive,
/// OAuth 2.0 Multiple Response Type Encoding Practices §5), or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    pub const CODE: Self = Self { code: true, id_token: false, token: false };

    /// Every response type Gatehouse can answer, in discovery order.
    pub const ALL: [ResponseType; 7] = [
        Self::CODE,
        Self { code: false, id_token: true, token: false },
        Self { code: false, id_token: true, token: true },
        Self { code: false, id_token: false, token: true },
        Self { code: true, id_token: true, token: false },
        Self { code: true, id_token: false, token: true },
        Self { code: true, id_token: true, token: true },
    ];

    pub fn parse(s: &str) -> Option<Self> {
        let mut rt = Self { code: false, id_token: false, token: false };
        for part in s.split(' ') {
            let slot = match part {
                "code" => &mut rt.code,
                "id_token" => &mut rt.id_token,
                "token" => &mut rt.token,
                _ => return None,
            };
            if *slot {
                return None; // repeated member
            }
            *slot = true;
        }
        (rt.code || rt.id_token || rt.token).then_some(rt)
    }

    /// The client grant that allows this response type (DESIGN.md §2).
    pub fn required_grant(self) -> GrantType {
        match (self.code, self.id_token || self.token) {
            (true, false) => GrantType::AuthorizationCode,
            (true, true) => GrantType::Hybrid,
            (false, _) => GrantType::Implicit,
        }
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = [(self.code, "code"), (self.id_token, "id_token"), (self.token, "token")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_identityserver_names_expand() {
        let mut g = GrantSet::default();
        g.extend_from_entry("hybrid client_credentials").unwrap();
        g.extend_from_entry("device_code").unwrap();
        assert!(g.contains(GrantType::Hybrid));
        assert!(g.contains(GrantType::ClientCredentials));
        assert!(g.contains(GrantType::DeviceCode));
        assert!(!g.contains(GrantType::AuthorizationCode));
    }

    #[test]
    fn unknown_grant_is_named() {
        let mut g = GrantSet::default();
        assert_eq!(g.extend_from_entry("implict"), Err("implict".to_owned()));
        assert_eq!(g.extend_from_entry("   "), Err("   ".to_owned()));
        assert!(GrantType::valid_names().contains("urn:ietf:params:oauth:grant-type:device_code"));
    }

    #[test]
    fn device_urn_round_trips() {
        assert_eq!(GrantType::parse(DEVICE_CODE_URN), Some(GrantType::DeviceCode));
        assert_eq!(GrantType::DeviceCode.as_str(), DEVICE_CODE_URN);
    }

    #[test]
    fn response_types_are_order_insensitive_sets() {
        assert_eq!(ResponseType::parse("token id_token"), ResponseType::parse("id_token token"));
        assert_eq!(ResponseType::parse("code").map(|r| r.to_string()).as_deref(), Some("code"));
        assert_eq!(ResponseType::parse("code code"), None);
        assert_eq!(ResponseType::parse("code  token"), None);
        assert_eq!(ResponseType::parse("none"), None);
        assert_eq!(ResponseType::parse(""), None);
    }

    #[test]
    fn response_types_map_to_grants() {
        let cases = [
            ("code", GrantType::AuthorizationCode),
            ("id_token", GrantType::Implicit),
            ("id_token token", GrantType::Implicit),
            ("token", GrantType::Implicit),
            ("code id_token", GrantType::Hybrid),
            ("code token", GrantType::Hybrid),
            ("code id_token token", GrantType::Hybrid),
        ];
        for (rt, grant) in cases {
            assert_eq!(ResponseType::parse(rt).unwrap().required_grant(), grant, "{rt}");
        }
    }
}

crate::string_serde!(GrantType, GrantType::parse, |v: &GrantType| v.as_str().to_owned());
crate::string_serde!(ResponseType, ResponseType::parse, |v: &ResponseType| v.to_string());

impl serde::Serialize for GrantSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de> serde::Deserialize<'de> for GrantSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(BTreeSet::<GrantType>::deserialize(d)?))
    }
}
