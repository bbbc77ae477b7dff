//! The OpenAPI description of the bodies the admin API shares with the config file and the
//! CLI (`ClientSpec`, `ScopeSpec`, `UserSpec`) and of the client it answers with. The types
//! themselves are `gatehouse-protocol`'s, which knows nothing of OpenAPI: these mirror their
//! serde form (field names, defaults, `deny_unknown_fields`) for the document only, under the
//! same names. The schemathesis run (`crates/gatehouse/tests/it/admin.rs`) checks the document
//! against what the API really accepts and answers.

#![allow(dead_code)]

use serde_json::{Map, Value};

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A client as an operator writes it. Both the Gatehouse names (`grants`, `scope`) and the
/// RFC 7591 names (`grant_types`, `response_types`) are accepted.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ClientSpec)]
#[serde(deny_unknown_fields)]
pub struct ClientSpecDoc {
    /// The client's identifier: 1 to 255 printable ASCII characters.
    pub client_id: String,
    /// The secret, hashed before it is stored. Absent (with `client_secret_hash`): a public client,
    /// which must use PKCE.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// A stored hash (`$argon2id$...` or `sha256:...`) instead of the secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_hash: Option<String>,
    /// A name for people: shown on the consent page and in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Space-separated scopes the client may ask for: built-in ones (`openid profile email address
    /// phone offline_access`) and ones defined in `[[scopes]]`. Empty when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// What the client may do: `authorization_code`, `implicit`, `hybrid`, `client_credentials`,
    /// `refresh_token`, `password`, `device_code`. When this, `grant_types` and `response_types` are
    /// all absent: `authorization_code`, plus `client_credentials` for a confidential client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<String>>,
    /// RFC 7591 name for `grants`; both may be given and are merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// RFC 7591 §2.1 response types (`code`, `id_token`, `"code id_token"`, ...); each allows the
    /// grant that produces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    /// Exact redirect URIs, no wildcards; on `http://127.0.0.1` or `http://[::1]` any port
    /// matches (RFC 8252 §7.3). Required when a grant sends the user back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the user afterwards (exact match).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// `client_secret_basic` (default with a secret), `client_secret_post`, `client_secret_jwt`
    /// (an HS256 JWT keyed by the secret; needs `[secrets] sealing_key`), `private_key_jwt`
    /// (with `jwks` or `jwks_uri`, no secret), or `none` (the only one for a public client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// ID token algorithm: RS256 (default), PS256, ES256, EdDSA, or HS256 keyed by the client
    /// secret (a confidential client; needs `[secrets] sealing_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
    /// JWT access token algorithm; the server's `[tokens]` one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signed_response_alg: Option<String>,
    /// A first-party client: its users are not asked for consent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_party: bool,
    /// Every user signing in to this client must use a second factor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_second_factor: bool,
    /// Require PKCE of this confidential client too (always required of public clients).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pkce: bool,
    /// Accept `code_challenge_method=plain` (RFC 7636 §4.2); S256 only when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plain_pkce: bool,
    /// Audiences whose tokens this client may introspect as a resource server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introspection_audiences: Vec<String>,
    /// Identifiers of the resources (RFC 8707, `[[resources]]`) this client may ask tokens
    /// for with the `resource` parameter; resources with `any_client` need not be listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The audience of this client's access tokens when a request names no `resource`; when
    /// empty, the issuer (Gatehouse's own userinfo and admin API).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_resources: Vec<String>,
    /// RFC 9449: every token request of this client must carry a DPoP proof, so all its
    /// access tokens are bound to its key (`token_type` `DPoP`).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// The client's public JWK set (`{"keys": [...]}`: RSA, EC P-256 or Ed25519 public keys),
    /// for `private_key_jwt` and signed request objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// Where the client publishes its JWK set instead of `jwks` (https): fetched through the
    /// SSRF-safe fetcher, cached, and fetched again when an unknown `kid` appears (at most once a
    /// minute), so the client rotates keys without re-registering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The one algorithm the client's `private_key_jwt` assertions may use (RS256, PS256, ES256,
    /// EdDSA); any of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// The one algorithm the client's request objects may use; `none` allows unsigned ones
    /// (and only those). Any signing algorithm, never `none`, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// RFC 9126 §6: the client must push its authorization requests to `/par` first.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Answer this client's `/userinfo` requests with a JWT signed with this algorithm
    /// (`application/jwt`); plain JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// The algorithm of JWT introspection responses (RFC 9701) for this client; RS256 when
    /// absent. Asked for with `Accept: application/token-introspection+jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signed_response_alg: Option<String>,
    /// OIDC Core §4: the client's URL that starts a sign-in; Gatehouse's
    /// `/initiate_login/{client_id}` sends browsers there with `iss` (https, or http on a
    /// loopback address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    /// JARM: the algorithm of this client's JWT authorization responses (`response_mode`
    /// `jwt`, `query.jwt`, `fragment.jwt`, `form_post.jwt`); RS256 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_signed_response_alg: Option<String>,
    /// OIDC Core §10.2: ID tokens signed, then encrypted to the client's key: `RSA-OAEP`,
    /// `RSA-OAEP-256`, `ECDH-ES`, `ECDH-ES+A128KW` or `ECDH-ES+A256KW` (needs `jwks` or
    /// `jwks_uri` with an RSA or EC P-256 key for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<String>,
    /// OIDC Core §5.3.2: `/userinfo` answers encrypted (`application/jwt`), signed first when
    /// `userinfo_signed_response_alg` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<String>,
    /// RFC 9701 §6: JWT introspection responses, signed then encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_enc: Option<String>,
    /// JARM §2.3: JWT authorization responses, signed then encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_enc: Option<String>,
    /// OIDC Core §8: `public` (default) or `pairwise` — a different, stable `sub` for this
    /// client's sector, so clients of different sectors cannot correlate their users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    /// For pairwise subjects: an https URL of a JSON array holding every redirect URI; its
    /// host is the sector. Needed when the redirect URIs span several hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// Authorization code lifetime in seconds; the server-wide `[tokens]` one when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code_ttl: Option<i64>,
    /// Access token lifetime in seconds; the server-wide `[tokens]` one when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    /// ID token lifetime in seconds; the server-wide `[tokens]` one when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<i64>,
    /// Refresh token idle lifetime in seconds; the server-wide `[tokens]` one when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle_ttl: Option<i64>,
    /// Refresh token family lifetime in seconds; the server-wide `[tokens]` one when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_absolute_ttl: Option<i64>,
    /// Device code lifetime in seconds; the server-wide `[tokens]` one when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_ttl: Option<i64>,
    /// Seconds during which a just-rotated refresh token presented again is answered as a
    /// retry instead of revoking its family.
    #[schema(minimum = 0, maximum = 300)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_reuse_grace: Option<i64>,
    /// The oldest sign-in this client accepts, in seconds: older sessions must sign in again for it
    /// (a default `max_age`).
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<i64>,
    /// OIDC Back-Channel Logout: where a logout token is POSTed when a session of this client ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether the logout token must carry `sid` (it always does here).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    /// OIDC Registration `application_type`: `web` (default) or `native`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
}

/// A validated client. Its serde form (RFC 7591 names) is the stored document and the admin
/// API's view; the secret hash never appears in it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = Client)]
pub struct ClientDoc {
    #[serde(rename = "client_id")]
    pub id: String,
    #[serde(rename = "client_name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Space-separated scopes the client may ask for.
    #[serde(rename = "scope")]
    pub scopes: String,
    pub grants: Vec<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub id_token_signed_response_alg: String,
    /// `None`: the server-wide default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signed_response_alg: Option<String>,
    /// First-party clients skip the consent page.
    #[serde(default)]
    pub first_party: bool,
    /// Every user signing in to this client must use a second factor.
    #[serde(default)]
    pub require_second_factor: bool,
    /// PKCE is always required of public clients; this requires it of a confidential one too.
    #[serde(default)]
    pub require_pkce: bool,
    /// Accept `code_challenge_method=plain` (RFC 7636 §4.2); off unless an operator opts in.
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// As a resource server, the token audiences this client may introspect (RFC 7662 §4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introspection_audiences: Vec<String>,
    /// The resources (RFC 8707) this client may ask tokens for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The audience of its tokens when a request names no `resource`; empty: the issuer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_resources: Vec<String>,
    /// RFC 9449: its token requests must carry DPoP proofs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// The client's public JWK set (`{"keys": [...]}`: RSA, EC P-256 or Ed25519 public keys),
    /// for `private_key_jwt` and signed request objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// Where the client publishes its JWK set instead of `jwks` (https): fetched through the
    /// SSRF-safe fetcher, cached, and fetched again when an unknown `kid` appears (at most once a
    /// minute), so the client rotates keys without re-registering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The one algorithm the client's `private_key_jwt` assertions may use (RS256, PS256, ES256,
    /// EdDSA); any of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// The one algorithm the client's request objects may use; `none` allows unsigned ones
    /// (and only those). Any signing algorithm, never `none`, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// RFC 9126 §6: the client must push its authorization requests to `/par` first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// Answer this client's `/userinfo` requests with a JWT signed with this algorithm
    /// (`application/jwt`); plain JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    /// The algorithm of JWT introspection responses (RFC 9701) for this client; RS256 when
    /// absent. Asked for with `Accept: application/token-introspection+jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signed_response_alg: Option<String>,
    /// OIDC Core §4: the client's URL that starts a sign-in; Gatehouse's
    /// `/initiate_login/{client_id}` sends browsers there with `iss` (https, or http on a
    /// loopback address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    /// JARM: the algorithm of this client's JWT authorization responses (`response_mode`
    /// `jwt`, `query.jwt`, `fragment.jwt`, `form_post.jwt`); RS256 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_signed_response_alg: Option<String>,
    /// OIDC Core §10.2: ID tokens signed, then encrypted to the client's key: `RSA-OAEP`,
    /// `RSA-OAEP-256`, `ECDH-ES`, `ECDH-ES+A128KW` or `ECDH-ES+A256KW` (needs `jwks` or
    /// `jwks_uri` with an RSA or EC P-256 key for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<String>,
    /// OIDC Core §5.3.2: `/userinfo` answers encrypted (`application/jwt`), signed first when
    /// `userinfo_signed_response_alg` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<String>,
    /// RFC 9701 §6: JWT introspection responses, signed then encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_encrypted_response_enc: Option<String>,
    /// JARM §2.3: JWT authorization responses, signed then encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_alg: Option<String>,
    /// The content encryption of the above: `A128CBC-HS256` (the default) or `A256GCM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_encrypted_response_enc: Option<String>,
    /// OIDC Core §8: `public` (default) or `pairwise` — a different, stable `sub` for this
    /// client's sector, so clients of different sectors cannot correlate their users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    /// For pairwise subjects: an https URL of a JSON array holding every redirect URI; its
    /// host is the sector. Needed when the redirect URIs span several hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// Lifetimes (seconds) overriding the server's for this client.
    #[serde(default, skip_serializing_if = "is_default")]
    pub lifetimes: ClientLifetimesDoc,
    /// OIDC Back-Channel Logout 1.0 §2.2: where to POST a logout token when a session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether the logout token must carry `sid` (it always does here).
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
}

/// Per-client lifetime overrides, in seconds; `None` uses the server-wide value.
#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ClientLifetimes)]
pub struct ClientLifetimesDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_absolute_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_reuse_grace: Option<i64>,
    /// The longest-lived SSO session this client accepts: sign-ins older than this must be
    /// renewed for it (a default `max_age`, OIDC Core §3.1.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_ttl: Option<i64>,
}

/// A client as the admin API shows it. `client_secret` appears only in the answer that created
/// it (create, rotate-secret, or an update that made a public client confidential).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ClientView)]
pub struct ClientViewDoc {
    #[serde(flatten)]
    pub client: ClientDoc,
    /// No secret: PKCE is required and `token_endpoint_auth_method` is `none`.
    pub public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// An operator-defined scope as written in the config file, the admin API or the CLI.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ScopeSpec)]
#[serde(deny_unknown_fields)]
pub struct ScopeSpecDoc {
    /// The scope's name, as clients ask for it; not a built-in one.
    pub name: String,
    /// The user claims the scope releases (custom ones such as `roles`, or standard ones).
    /// Claims Gatehouse sets itself (`sub`, `iss`, `aud`, ...) cannot be listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    /// Shown on the consent page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the claims go: `id_token`, `access_token`, `userinfo`; all three when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_in: Option<Vec<String>>,
}

/// A resource server (RFC 8707) as an operator writes it: an API that access tokens can be
/// asked for with the `resource` parameter.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ResourceSpec)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpecDoc {
    /// The resource's identifier: an absolute URI without a fragment, such as
    /// `https://mcp.example.com/mcp`. Clients send it as `resource`; its access tokens carry it
    /// as `aud`.
    pub identifier: String,
    /// Shown on the consent page and in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The scopes that belong to this resource (defined in `[[scopes]]`): a token carries them
    /// only when this resource is among its audiences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Lifetime in seconds of access tokens for this resource; the client's or the server's
    /// when absent.
    #[schema(minimum = 1, maximum = 31_622_400)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    /// How access tokens for this resource are signed (`RS256`, `PS256`, `ES256`, `EdDSA`);
    /// the client's or the server's algorithm when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signing_alg: Option<String>,
    /// Any client may ask for this resource (dynamically registered ones and client ID
    /// metadata documents included), not only clients that list it in `resources`.
    #[serde(default)]
    pub any_client: bool,
}

/// A user as an operator writes it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = UserSpec)]
#[serde(deny_unknown_fields)]
pub struct UserSpecDoc {
    /// The sign-in name: 1 to 255 characters, no spaces.
    pub username: String,
    /// The subject identifier in tokens (1 to 255 printable ASCII characters);
    /// a random UUID when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The password, hashed with argon2id before it is stored. A user needs this or
    /// `password_hash`.
    #[serde(default)]
    #[schema(format = Password)]
    pub password: Option<String>,
    /// An argon2id PHC string, instead of `password`; `none` for a user without a password (who
    /// signs in through an upstream provider or a passkey).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Claims: OIDC Core §5.1 standard ones (`name`, `email`, `email_verified`, ...), checked
    /// for type, and custom ones (`roles = ["admin"]`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    /// A disabled user cannot sign in; disabling one ends their sessions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// An administrator: may sign in to the admin console (`/admin`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
}
