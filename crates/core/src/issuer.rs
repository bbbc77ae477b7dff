//! Minting tokens: JWT access tokens (RFC 9068) and ID tokens (OIDC Core §2), signed with the
//! in-memory keys; opaque handles (codes, refresh tokens, session ids) and their storage hashes.

use crate::client_keys::Encrypter;
use crate::keys::Keys;
use gatehouse_protocol::claims_request::{ClaimsRequest, Member};
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::clock::UnixTime;
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::jose::{IdTokenAlg, SigningAlg};
use gatehouse_protocol::rand::{Rng, token};
use gatehouse_protocol::resource::Audience;
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::tokens::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, ClaimTarget, Confirmation, IdTokenClaims, USERINFO_CLAIMS, released_claims,
    requested_claims,
};
use gatehouse_protocol::user::User;
use gatehouse_store::IssuedAccessToken;
use serde_json::Value;
use std::sync::Arc;

/// Token and session lifetimes in seconds. Defaults follow what certified providers ship
/// (node-oidc-provider, Hydra): short codes, one-hour tokens, two-week refresh and sessions.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_idle: i64,
    pub refresh_absolute: i64,
    pub session: i64,
    pub interaction: i64,
    /// RFC 8628: how long a device code lives, and the minimum polling interval.
    pub device_code: i64,
    pub device_poll_interval: i64,
    /// Seconds during which a rotated refresh token presented again by its client is a retry
    /// (answered with the same successor) rather than theft (0: every reuse is theft).
    pub refresh_reuse_grace: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            code: 60,
            access_token: 3600,
            id_token: 3600,
            refresh_idle: 14 * 86400,
            refresh_absolute: 30 * 86400,
            session: 14 * 86400,
            interaction: 3600,
            device_code: 600,
            device_poll_interval: 5,
            refresh_reuse_grace: 10,
        }
    }
}

impl Lifetimes {
    /// The server's lifetimes with the client's overrides applied.
    pub fn for_client(&self, client: &Client) -> Self {
        let o = &client.lifetimes;
        Self {
            code: o.authorization_code_ttl.unwrap_or(self.code),
            access_token: o.access_token_ttl.unwrap_or(self.access_token),
            id_token: o.id_token_ttl.unwrap_or(self.id_token),
            refresh_idle: o.refresh_token_idle_ttl.unwrap_or(self.refresh_idle),
            refresh_absolute: o.refresh_token_absolute_ttl.unwrap_or(self.refresh_absolute),
            device_code: o.device_code_ttl.unwrap_or(self.device_code),
            refresh_reuse_grace: o.refresh_token_reuse_grace.unwrap_or(self.refresh_reuse_grace),
            ..*self
        }
    }
}

/// The system random source for the protocol's [`Rng`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&self, buf: &mut [u8]) {
        // aws-lc's generator only fails if the OS source is broken; zeroes would then be
        // dangerous, so abort the process rather than hand out predictable tokens.
        if aws_lc_rs::rand::fill(buf).is_err() {
            std::process::abort();
        }
    }
}

/// SHA-256 of an opaque token, base64url: what the store keeps instead of the token.
pub fn hash_token(t: &str) -> String {
    use base64::Engine;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, t.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

pub struct TokenIssuer {
    pub issuer: Arc<str>,
    pub keys: Arc<Keys>,
    pub catalog: Arc<crate::catalog::Catalog>,
    pub lifetimes: Lifetimes,
    pub default_access_token_alg: SigningAlg,
    pub rng: Arc<dyn Rng>,
    /// Derives each rotated refresh token's successor ([`Self::refresh_successor`]).
    pub successor_key: crate::server_keys::ServerKey,
    /// The deployment's `acr` levels (`[[acr_levels]]`).
    pub acr: gatehouse_protocol::acr::AcrPolicy,
    /// Keys pairwise subject identifiers (OIDC Core §8.1).
    pub pairwise_key: crate::server_keys::ServerKey,
    /// Opens the sealed secrets of clients with HS256 ID tokens.
    pub sealer: Arc<crate::sealing::Sealer>,
    /// Clients' public keys, for what Gatehouse encrypts to them.
    pub client_keys: Arc<crate::client_keys::ClientKeySets>,
}

/// What an ID token says, and what is returned beside it.
pub struct IdTokenInput<'a> {
    pub user: &'a User,
    pub scope: &'a ScopeSet,
    pub auth_time: UnixTime,
    pub sid: &'a str,
    pub amr: &'a [String],
    pub nonce: Option<&'a str>,
    /// The access token returned with it, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code returned with it, for `c_hash`.
    pub code: Option<&'a str>,
    /// The claims asked for by name (OIDC Core §5.5).
    pub claims: Option<&'a ClaimsRequest>,
    /// The sign-in's authentication context class.
    pub acr: Option<&'a str>,
    /// For a client that has its ID tokens encrypted (OIDC Core §10.2): signed, then this.
    pub encrypter: Option<&'a Encrypter>,
}

/// Who an access token is about, and who may present it.
pub struct Subject<'a> {
    pub sub: &'a str,
    pub user: Option<&'a User>,
    pub auth_time: Option<UnixTime>,
    pub sid: Option<&'a str>,
    /// The DPoP key the token is bound to (RFC 9449 §6: `cnf.jkt`), when it is.
    pub jkt: Option<&'a str>,
    /// How strongly and how the user signed in (RFC 9068 §2.2.1), for RFC 9470 step-up.
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    /// The claims the authorization request asked for by name (OIDC Core §5.5): those for
    /// userinfo travel in the token, which is all userinfo sees.
    pub claims: Option<&'a ClaimsRequest>,
}

fn internal(e: impl std::fmt::Display) -> OAuthError {
    OAuthError::Server(InternalError::new(e.to_string()))
}

impl TokenIssuer {
    /// The `sub` `client` knows the user `sub` by: the same, or (pairwise clients) an HMAC of
    /// the client's sector and the user, stable per sector and unlinkable across sectors.
    pub fn subject_for(&self, client: &Client, sub: &str) -> String {
        match (&client.subjects.sector, client.subjects.is_pairwise()) {
            (Some(sector), true) => self.pairwise_key.sign(&gatehouse_protocol::pairwise::input(sector, sub)),
            _ => sub.to_owned(),
        }
    }

    pub fn random(&self, bytes: usize) -> String {
        token(self.rng.as_ref(), bytes)
    }

    /// The refresh token that succeeds `presented` when it is rotated: the same for every
    /// presentation of it, so a retry gets the token the first presentation got; unpredictable
    /// without the server's key, so a stolen token does not reveal its successors.
    pub fn refresh_successor(&self, presented: &str) -> String {
        self.successor_key.sign(presented)
    }

    /// The claims of a JWT this issuer signed with any published key, expired or not (an
    /// `id_token_hint`, OIDC Core §3.1.2.1, RP-Initiated Logout §2).
    pub fn verify_own(&self, token: &str) -> Option<gatehouse_protocol::jose::JsonObject> {
        let (_, claims) = gatehouse_protocol::jose::verify(token, self.keys.get().published()).ok()?;
        (claims.get("iss").and_then(|v| v.as_str()) == Some(&*self.issuer)).then_some(claims)
    }

    /// How long an access token for `audience` issued to `client` lives: the resource's
    /// lifetime, else the client's, else the server's.
    pub fn access_token_ttl(&self, client: &Client, audience: &Audience) -> i64 {
        audience.ttl.unwrap_or_else(|| self.lifetimes.for_client(client).access_token)
    }

    /// The id and expiry of an access token about to be issued to `client`, for the store to
    /// record before the token exists.
    pub fn access_token_id(&self, client: &Client, audience: &Audience, now: UnixTime) -> IssuedAccessToken {
        IssuedAccessToken { jti: self.random(16), expires_at: now + self.access_token_ttl(client, audience) }
    }

    /// An RFC 9068 access token for `audience` (RFC 8707 resources, or the issuer: Gatehouse's
    /// own userinfo and admin API).
    pub fn access_token(
        &self,
        client: &Client,
        subject: &Subject<'_>,
        scope: &ScopeSet,
        audience: &Audience,
        now: UnixTime,
    ) -> Result<(String, IssuedAccessToken), OAuthError> {
        self.access_token_as(client, subject, scope, audience, now, self.access_token_id(client, audience, now))
    }

    /// [`Self::access_token`] with the id and expiry chosen beforehand.
    pub fn access_token_as(
        &self,
        client: &Client,
        subject: &Subject<'_>,
        scope: &ScopeSet,
        audience: &Audience,
        now: UnixTime,
        id: IssuedAccessToken,
    ) -> Result<(String, IssuedAccessToken), OAuthError> {
        let alg = audience.alg.or(client.access_token_signed_response_alg).unwrap_or(self.default_access_token_alg);
        let ring = self.keys.get();
        let key = ring.signer(alg).ok_or_else(|| internal(format!("no current {alg} key")))?;
        let IssuedAccessToken { jti, expires_at: exp } = id;
        let mut extra = subject
            .user
            .map(|u| released_claims(&u.claims, scope, &self.catalog.get().scopes, ClaimTarget::AccessToken))
            .unwrap_or_default();
        if let Some(asked) = subject.claims.filter(|c| !c.userinfo.is_empty() && scope.contains("openid")) {
            let names: Vec<Value> = asked.names(Member::Userinfo).map(|n| Value::String(n.to_owned())).collect();
            extra.insert(USERINFO_CLAIMS.into(), Value::Array(names));
        }
        // A user is known to a pairwise client by its pairwise subject, in every token.
        let sub = if subject.user.is_some() { self.subject_for(client, subject.sub) } else { subject.sub.to_owned() };
        let claims = AccessTokenClaims {
            iss: &self.issuer,
            sub: &sub,
            aud: &audience.aud,
            exp,
            iat: now,
            jti: &jti,
            client_id: client.id.as_str(),
            scope: scope.to_string(),
            auth_time: subject.auth_time,
            sid: subject.sid,
            acr: subject.acr,
            amr: subject.amr,
            cnf: subject.jkt.map(|jkt| Confirmation { jkt }),
            extra,
        };
        let jwt = key.sign(ACCESS_TOKEN_TYP, &claims).map_err(internal)?;
        Ok((jwt, IssuedAccessToken { jti, expires_at: exp }))
    }

    /// A document signed for a client with this server's `alg` key: signed userinfo (OIDC Core
    /// §5.3.2) and JWT introspection responses (RFC 9701).
    pub fn sign_document<T: serde::Serialize>(
        &self,
        alg: gatehouse_protocol::jose::SigningAlg,
        typ: &str,
        doc: &T,
    ) -> Result<String, OAuthError> {
        let ring = self.keys.get();
        let key = ring.signer(alg).ok_or_else(|| internal(format!("no current {alg} key")))?;
        key.sign(typ, doc).map_err(internal)
    }

    /// Signs `claims` as the client's ID tokens are signed (`id_token_signed_response_alg`):
    /// with the server's key of that algorithm, or HS256 keyed by the client's sealed secret.
    /// Logout tokens are signed the same way.
    pub fn sign_for_client<T: serde::Serialize>(
        &self,
        client: &Client,
        typ: &str,
        claims: &T,
    ) -> Result<String, OAuthError> {
        match client.id_token_signed_response_alg {
            IdTokenAlg::Key(alg) => self.sign_document(alg, typ, claims),
            IdTokenAlg::Hs256 => {
                let secret = client
                    .secret
                    .as_ref()
                    .and_then(|h| self.sealer.open(h))
                    .ok_or_else(|| internal(format!("client {} has no usable secret for HS256", client.id)))?;
                gatehouse_protocol::jose::sign_hs256(secret.expose().as_bytes(), typ, claims).map_err(internal)
            }
        }
    }

    /// An ID token (OIDC Core §2) with `at_hash`/`c_hash` for what is returned beside it;
    /// encrypted after signing when the client asked for that.
    pub fn id_token(&self, client: &Client, t: &IdTokenInput<'_>, now: UnixTime) -> Result<String, OAuthError> {
        let alg = client.id_token_signed_response_alg;
        let defs = &self.catalog.get().scopes;
        let mut extra = released_claims(
            &t.user.claims,
            t.scope,
            defs,
            ClaimTarget::IdToken { access_token_issued: t.access_token.is_some() },
        );
        if let Some(asked) = t.claims {
            extra.extend(requested_claims(&t.user.claims, t.scope, defs, asked.names(Member::IdToken)));
        }
        let sub = self.subject_for(client, &t.user.sub);
        let claims = IdTokenClaims {
            iss: &self.issuer,
            sub: &sub,
            aud: client.id.as_str(),
            exp: now + self.lifetimes.for_client(client).id_token,
            iat: now,
            auth_time: t.auth_time,
            nonce: t.nonce,
            amr: t.amr,
            acr: t.acr,
            azp: client.id.as_str(),
            sid: t.sid,
            at_hash: t.access_token.map(|at| alg.half_hash(at)),
            c_hash: t.code.map(|c| alg.half_hash(c)),
            extra,
        };
        let jws = self.sign_for_client(client, "JWT", &claims)?;
        Encrypter::maybe(t.encrypter, jws, true)
    }

    /// How `which` is encrypted for `client`, if it is ([`ClientKeySets::encrypter`]).
    ///
    /// [`ClientKeySets::encrypter`]: crate::client_keys::ClientKeySets::encrypter
    pub async fn encrypter(&self, client: &Client, which: Encrypted) -> Result<Option<Encrypter>, OAuthError> {
        self.client_keys.encrypter(client, which).await
    }
}
