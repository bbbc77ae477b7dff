//! Provider metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.
//!
//! Built from what the server really implements ([`Capabilities`]), so the document never
//! advertises an endpoint, grant or algorithm that is not there.

use crate::client::TokenEndpointAuthMethod;
use crate::grant::{GrantType, ResponseType};
use crate::jose::SigningAlg;
use serde::Serialize;

/// What this build of Gatehouse can do; discovery lists exactly this.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub response_types: Vec<ResponseType>,
    pub response_modes: Vec<&'static str>,
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_methods: Vec<TokenEndpointAuthMethod>,
    pub signing_algs: Vec<SigningAlg>,
    pub scopes: Vec<String>,
    pub claims: Vec<String>,
    pub code_challenge_methods: Vec<&'static str>,
    /// Paths (relative to the issuer) of the endpoints that exist.
    pub endpoints: Endpoints,
    pub backchannel_logout: bool,
    /// draft-ietf-oauth-client-id-metadata-document: https `client_id`s are fetched.
    pub client_id_metadata_documents: bool,
    /// RFC 9126 §5: every client must push its authorization requests.
    pub par_required: bool,
    /// The `acr` levels of the deployment.
    pub acr_values: Vec<String>,
    /// OIDC Core §10.1: ID tokens may be HS256, keyed by the client secret.
    pub hs256_id_tokens: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub authorization: Option<&'static str>,
    pub token: Option<&'static str>,
    pub userinfo: Option<&'static str>,
    pub jwks: &'static str,
    pub device_authorization: Option<&'static str>,
    pub introspection: Option<&'static str>,
    pub revocation: Option<&'static str>,
    pub end_session: Option<&'static str>,
    pub registration: Option<&'static str>,
    pub pushed_authorization_request: Option<&'static str>,
}

/// The metadata document. Field names are the registered ones; `None` fields are omitted.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// RFC 9126 §5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    pub require_pushed_authorization_requests: bool,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    /// OIDC Discovery §3: the authentication context classes (`[[acr_levels]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acr_values_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// OIDC Discovery §3: signed userinfo responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub userinfo_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 9701 §7: JWT introspection responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introspection_signing_alg_values_supported: Vec<&'static str>,
    /// JARM §4: JWT authorization responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_signing_alg_values_supported: Vec<&'static str>,
    /// OIDC Discovery §3: encrypted ID tokens (OIDC Core §10.2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub id_token_encryption_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub id_token_encryption_enc_values_supported: Vec<&'static str>,
    /// OIDC Discovery §3: encrypted userinfo responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub userinfo_encryption_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub userinfo_encryption_enc_values_supported: Vec<&'static str>,
    /// RFC 9701 §7: encrypted JWT introspection responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introspection_encryption_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introspection_encryption_enc_values_supported: Vec<&'static str>,
    /// JARM §4: encrypted JWT authorization responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_encryption_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_encryption_enc_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The algorithms of `private_key_jwt` assertions (OIDC Discovery §3, RFC 8414 §2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    /// OIDC Discovery §3: `request_uri`s need not be registered beforehand.
    pub require_request_uri_registration: bool,
    /// OIDC Discovery §3, RFC 9101 §10.5: how request objects may be signed (`none` only for a
    /// client registered so).
    pub request_object_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 9207: `iss` is sent in authorization responses.
    pub authorization_response_iss_parameter_supported: bool,
    /// OIDC Back-Channel Logout 1.0 §2.1.
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    /// RFC 9449 §5.1: the algorithms DPoP proofs may be signed with.
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    /// draft-ietf-oauth-client-id-metadata-document §5: omitted when off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub client_id_metadata_document_supported: bool,
}

impl ProviderMetadata {
    /// `issuer` must be the exact issuer identifier (no trailing slash added or removed):
    /// OIDC Discovery §4.3 requires it to equal the `iss` of every token.
    pub fn build(issuer: &str, caps: &Capabilities) -> Self {
        let base = issuer.trim_end_matches('/');
        let url = |path: &str| format!("{base}{path}");
        let opt = |p: Option<&'static str>| p.map(url);
        let auth_methods: Vec<&'static str> = caps.token_endpoint_auth_methods.iter().map(|m| m.as_str()).collect();
        let mut auth_algs: Vec<&'static str> = Vec::new();
        if caps.token_endpoint_auth_methods.contains(&TokenEndpointAuthMethod::PrivateKeyJwt) {
            auth_algs.extend(SigningAlg::ALL.iter().map(|a| a.as_str()));
        }
        if caps.token_endpoint_auth_methods.contains(&TokenEndpointAuthMethod::ClientSecretJwt) {
            auth_algs.push("HS256");
        }
        // JWE (crate::jwe): what clients may have their responses encrypted with.
        let key_algs: Vec<&'static str> = crate::jwe::KeyAlg::ALL.iter().map(|a| a.as_str()).collect();
        let encs: Vec<&'static str> = crate::jwe::ContentEnc::ALL.iter().map(|a| a.as_str()).collect();
        let when = |endpoint: Option<&str>, list: &Vec<&'static str>| {
            if endpoint.is_some() { list.clone() } else { Vec::new() }
        };
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: opt(caps.endpoints.authorization),
            token_endpoint: opt(caps.endpoints.token),
            userinfo_endpoint: opt(caps.endpoints.userinfo),
            jwks_uri: url(caps.endpoints.jwks),
            registration_endpoint: opt(caps.endpoints.registration),
            device_authorization_endpoint: opt(caps.endpoints.device_authorization),
            introspection_endpoint: opt(caps.endpoints.introspection),
            revocation_endpoint: opt(caps.endpoints.revocation),
            end_session_endpoint: opt(caps.endpoints.end_session),
            pushed_authorization_request_endpoint: opt(caps.endpoints.pushed_authorization_request),
            require_pushed_authorization_requests: caps.par_required,
            scopes_supported: caps.scopes.clone(),
            response_types_supported: caps.response_types.iter().map(ToString::to_string).collect(),
            response_modes_supported: caps.response_modes.clone(),
            grant_types_supported: caps.grant_types.iter().map(|g| g.as_str()).collect(),
            // OIDC Core §8: one subject identifier per user across clients.
            subject_types_supported: vec!["public", "pairwise"],
            acr_values_supported: caps.acr_values.clone(),
            id_token_signing_alg_values_supported: caps
                .signing_algs
                .iter()
                .map(|a| a.as_str())
                .chain(caps.hs256_id_tokens.then_some("HS256"))
                .collect(),
            userinfo_signing_alg_values_supported: when(
                caps.endpoints.userinfo,
                &caps.signing_algs.iter().map(|a| a.as_str()).collect(),
            ),
            authorization_signing_alg_values_supported: when(
                caps.endpoints.authorization,
                &caps.signing_algs.iter().map(|a| a.as_str()).collect(),
            ),
            introspection_signing_alg_values_supported: when(
                caps.endpoints.introspection,
                &caps.signing_algs.iter().map(|a| a.as_str()).collect(),
            ),
            id_token_encryption_alg_values_supported: when(
                caps.endpoints.authorization.or(caps.endpoints.token),
                &key_algs,
            ),
            id_token_encryption_enc_values_supported: when(
                caps.endpoints.authorization.or(caps.endpoints.token),
                &encs,
            ),
            userinfo_encryption_alg_values_supported: when(caps.endpoints.userinfo, &key_algs),
            userinfo_encryption_enc_values_supported: when(caps.endpoints.userinfo, &encs),
            introspection_encryption_alg_values_supported: when(caps.endpoints.introspection, &key_algs),
            introspection_encryption_enc_values_supported: when(caps.endpoints.introspection, &encs),
            authorization_encryption_alg_values_supported: when(caps.endpoints.authorization, &key_algs),
            authorization_encryption_enc_values_supported: when(caps.endpoints.authorization, &encs),
            introspection_endpoint_auth_methods_supported: when(caps.endpoints.introspection, &auth_methods),
            introspection_endpoint_auth_signing_alg_values_supported: when(caps.endpoints.introspection, &auth_algs),
            revocation_endpoint_auth_methods_supported: when(caps.endpoints.revocation, &auth_methods),
            revocation_endpoint_auth_signing_alg_values_supported: when(caps.endpoints.revocation, &auth_algs),
            token_endpoint_auth_signing_alg_values_supported: auth_algs,
            token_endpoint_auth_methods_supported: auth_methods,
            claims_supported: caps.claims.clone(),
            code_challenge_methods_supported: caps.code_challenge_methods.clone(),
            claims_parameter_supported: caps.endpoints.authorization.is_some(),
            request_parameter_supported: caps.endpoints.authorization.is_some(),
            request_uri_parameter_supported: caps.endpoints.authorization.is_some(),
            require_request_uri_registration: false,
            request_object_signing_alg_values_supported: std::iter::once("none")
                .chain(SigningAlg::ALL.iter().map(|a| a.as_str()))
                .collect(),
            authorization_response_iss_parameter_supported: caps.endpoints.authorization.is_some(),
            backchannel_logout_supported: caps.backchannel_logout,
            backchannel_logout_session_supported: caps.backchannel_logout,
            dpop_signing_alg_values_supported: crate::dpop::ALGS.iter().map(|a| a.as_str()).collect(),
            client_id_metadata_document_supported: caps.client_id_metadata_documents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Capabilities {
        Capabilities {
            response_types: vec![ResponseType::CODE],
            response_modes: vec!["query"],
            grant_types: vec![GrantType::AuthorizationCode],
            token_endpoint_auth_methods: TokenEndpointAuthMethod::ALL.to_vec(),
            par_required: false,
            acr_values: Vec::new(),
            hs256_id_tokens: false,
            signing_algs: vec![SigningAlg::RS256, SigningAlg::ES256],
            scopes: vec!["openid".into()],
            claims: vec!["sub".into()],
            code_challenge_methods: vec!["S256"],
            endpoints: Endpoints {
                authorization: Some("/authorize"),
                token: Some("/token"),
                jwks: "/jwks",
                ..Default::default()
            },
            backchannel_logout: false,
            client_id_metadata_documents: false,
        }
    }

    #[test]
    fn required_fields_present_and_urls_joined() {
        let m = serde_json::to_value(ProviderMetadata::build("https://id.example.com/tenant", &caps())).unwrap();
        assert_eq!(m["issuer"], "https://id.example.com/tenant");
        assert_eq!(m["jwks_uri"], "https://id.example.com/tenant/jwks");
        assert_eq!(m["authorization_endpoint"], "https://id.example.com/tenant/authorize");
        for field in [
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
            "token_endpoint",
        ] {
            assert!(m.get(field).is_some(), "{field}");
        }
        assert!(m.get("userinfo_endpoint").is_none(), "absent endpoints are not advertised");
        assert_eq!(m["id_token_signing_alg_values_supported"][0], "RS256");
    }

    #[test]
    fn issuer_is_kept_exactly() {
        let m = ProviderMetadata::build("https://id.example.com/", &caps());
        assert_eq!(m.issuer, "https://id.example.com/");
        assert_eq!(m.jwks_uri, "https://id.example.com/jwks");
    }
}
