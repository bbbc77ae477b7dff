//! What happens to tokens after they are issued: introspection (RFC 7662), revocation
//! (RFC 7009) and the claims userinfo answers with (OIDC Core §5.3). Lookups honour
//! `token_type_hint` for their order without trusting it, and never reveal anything about tokens
//! of other clients.

use crate::client_keys::Encrypter;
use crate::issuer::{TokenIssuer, hash_token};
use gatehouse_protocol::ClientId;
use gatehouse_protocol::client::Client;
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::error::{InternalError, OAuthError};
use gatehouse_protocol::introspect::{
    self, AccessTokenView, Hint, Introspection, access_token_view, lookup_order, may_introspect,
};
use gatehouse_protocol::jose::{JsonObject, SigningAlg};
use gatehouse_protocol::tokens::{ClaimTarget, released_claims, requested_claims};
use gatehouse_store::Store;
use serde_json::Value;
use std::sync::Arc;

/// What `/userinfo` answers with.
pub enum UserInfo {
    Json(JsonObject),
    /// `application/jwt`.
    Jwt(String),
}

pub struct TokenLifecycle {
    store: Arc<dyn Store>,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
}

const BAD_TOKEN: OAuthError = OAuthError::InvalidToken("the access token is invalid or expired");

impl TokenLifecycle {
    pub fn new(store: Arc<dyn Store>, tokens: Arc<TokenIssuer>, clock: Arc<dyn Clock>) -> Self {
        Self { store, tokens, clock }
    }

    /// A JWT access token this issuer signed, of the right type, unexpired and not revoked.
    pub async fn live_access_token(&self, token: &str) -> Result<Option<AccessTokenView>, OAuthError> {
        let Ok(verified) = self.tokens.keys.get().verify(token) else { return Ok(None) };
        let (header, claims) = verified.as_ref();
        let Some(view) = access_token_view(header, claims, &self.tokens.issuer, self.clock.now()) else {
            return Ok(None);
        };
        if self.store.is_access_token_revoked(&view.jti).await? {
            return Ok(None);
        }
        Ok(Some(view))
    }

    /// A live access token for Gatehouse's own APIs (userinfo, the admin API): its audience
    /// names the issuer. A token for another resource server is refused here (RFC 8707 §1: a
    /// token is good only where its audience says), so no API can replay its tokens to ours.
    pub async fn own_access_token(&self, token: &str) -> Result<Option<AccessTokenView>, OAuthError> {
        let view = self.live_access_token(token).await?;
        Ok(view.filter(|v| v.aud.iter().any(|a| **a == *self.tokens.issuer)))
    }

    /// The username of an enabled user, `Err(())` when the user is gone or disabled (the token is
    /// then inactive), `Ok(None)` when the subject is a client (client_credentials).
    async fn subject_username(&self, sub: &str, client_id: &str) -> Result<Result<Option<String>, ()>, OAuthError> {
        let Some(sub) = self.user_sub(client_id, sub).await? else { return Ok(Err(())) };
        match self.store.get_user_by_sub(&sub).await? {
            Some(u) if !u.disabled => Ok(Ok(Some(u.username))),
            Some(_) => Ok(Err(())),
            None if sub == client_id => Ok(Ok(None)),
            None => Ok(Err(())),
        }
    }

    /// The client that `client_id` names, if it exists.
    async fn client_named(&self, client_id: &str) -> Result<Option<Client>, OAuthError> {
        match ClientId::parse(client_id) {
            Ok(id) => Ok(self.store.get_client(&id).await?),
            Err(_) => Ok(None),
        }
    }

    /// The user a token of `client_id` means by `sub` (its pairwise subject, or the user's own).
    async fn user_sub(&self, client_id: &str, sub: &str) -> Result<Option<String>, OAuthError> {
        match self.client_named(client_id).await? {
            Some(c) => crate::subjects::owner(self.store.as_ref(), &c, sub).await,
            None => Ok(Some(sub.to_owned())),
        }
    }

    /// RFC 7662 §2.2: what `client` may learn about `token`.
    pub async fn introspect(
        &self,
        client: &Client,
        token: &str,
        hint: Option<Hint>,
    ) -> Result<Introspection, OAuthError> {
        let mut answer = Introspection::inactive();
        for kind in lookup_order(hint, token) {
            match kind {
                Hint::AccessToken => {
                    let Some(v) = self.live_access_token(token).await? else { continue };
                    if !may_introspect(client.id.as_str(), &client.introspection_audiences, &v.client_id, &v.aud) {
                        break;
                    }
                    let Ok(username) = self.subject_username(&v.sub, &v.client_id).await? else { break };
                    answer = Introspection {
                        active: true,
                        scope: Some(v.scope.to_string()),
                        client_id: Some(v.client_id),
                        username,
                        token_type: Some(if v.jkt.is_some() { "DPoP" } else { "Bearer" }),
                        exp: Some(v.exp),
                        iat: Some(v.iat),
                        sub: Some(v.sub),
                        aud: Some(v.aud),
                        iss: Some(self.tokens.issuer.to_string()),
                        jti: Some(v.jti),
                        cnf: v.jkt.map(|jkt| serde_json::json!({ "jkt": jkt })),
                    };
                    break;
                }
                Hint::RefreshToken => {
                    let Some(found) = self.store.find_refresh(&hash_token(token), self.clock.now()).await? else {
                        continue;
                    };
                    let grant = found.grant;
                    // Refresh tokens are only ever the business of the client they were issued to.
                    if !found.live || grant.client_id != client.id.as_str() {
                        break;
                    }
                    let Ok(username) = self.subject_username(&grant.sub, &grant.client_id).await? else { break };
                    answer = Introspection {
                        active: true,
                        scope: Some(grant.scope.to_string()),
                        client_id: Some(grant.client_id),
                        username,
                        token_type: Some("refresh_token"),
                        exp: Some(grant.expires_at),
                        // The subject the token's client knows (pairwise or public).
                        sub: Some(self.tokens.subject_for(client, &grant.sub)),
                        iss: Some(self.tokens.issuer.to_string()),
                        ..Introspection::default()
                    };
                    break;
                }
            }
        }
        Ok(answer)
    }

    /// RFC 7009 §2.1: revokes `token` if it is `client`'s; unknown, expired or already revoked
    /// tokens are fine (§2.2), another client's are refused.
    pub async fn revoke(&self, client: &Client, token: &str, hint: Option<Hint>) -> Result<(), OAuthError> {
        let foreign = OAuthError::UnauthorizedClient("the token was issued to another client");
        let now = self.clock.now();
        for kind in lookup_order(hint, token) {
            match kind {
                Hint::AccessToken => {
                    let Some(v) = self.live_access_token(token).await? else { continue };
                    if v.client_id != client.id.as_str() {
                        return Err(foreign);
                    }
                    self.store.revoke_access_token(&v.jti, v.exp).await?;
                    tracing::info!(client_id = %client.id, "access token revoked");
                    break;
                }
                Hint::RefreshToken => {
                    let Some(found) = self.store.find_refresh(&hash_token(token), now).await? else { continue };
                    if found.grant.client_id != client.id.as_str() {
                        return Err(foreign);
                    }
                    let n = self.store.revoke_family(&found.grant.family_id, now).await?;
                    tracing::info!(client_id = %client.id, revoked_refresh_tokens = n, "refresh token family revoked");
                    break;
                }
            }
        }
        Ok(())
    }

    /// Revokes an access token of Gatehouse's own (the console's, at sign-out), if it is live.
    pub async fn revoke_access_token(&self, token: &str) -> Result<(), OAuthError> {
        if let Some(view) = self.live_access_token(token).await? {
            self.store.revoke_access_token(&view.jti, view.exp).await?;
        }
        Ok(())
    }

    /// OIDC Core §5.3: the claims of the granted scopes (§5.4), `sub` always. A missing, expired,
    /// revoked or forged token, or one of a disabled user, is `invalid_token`; a token not
    /// granted `openid` is `insufficient_scope`. `jkt` is the key of the DPoP proof presented
    /// with it (RFC 9449 §7): a bound token needs its own key's proof, a bearer token none.
    /// RFC 9701: `answer` as a JWT signed for `client` (its `introspection_signed_response_alg`,
    /// RS256 by default), then encrypted for a client that registered
    /// `introspection_encrypted_response_alg` (§6).
    pub async fn introspection_jwt(&self, client: &Client, answer: &Introspection) -> Result<String, OAuthError> {
        let encrypter = self.tokens.encrypter(client, Encrypted::Introspection).await?;
        let alg = client.responses.introspection_signed_response_alg.unwrap_or(SigningAlg::RS256);
        let doc = introspect::jwt_response(&self.tokens.issuer, client.id.as_str(), self.clock.now(), answer);
        let jws = self.tokens.sign_document(alg, introspect::JWT_RESPONSE_TYP, &doc)?;
        Encrypter::maybe(encrypter.as_ref(), jws, true)
    }

    /// OIDC Core §5.3: the claims for the token's user, as JSON, or (OIDC Core §5.3.2) as a JWT
    /// signed for a client registered with `userinfo_signed_response_alg`, with `iss` and `aud`.
    /// Encrypted (§5.3.2) for a client registered with `userinfo_encrypted_response_alg`:
    /// the signed JWT, or the JSON itself when it is not signed.
    pub async fn userinfo(&self, token: &str, jkt: Option<&str>) -> Result<UserInfo, OAuthError> {
        let (claims, client_id, client) = self.userinfo_claims(token, jkt).await?;
        let Some(client) = client else { return Ok(UserInfo::Json(claims)) };
        let encrypter = self.tokens.encrypter(&client, Encrypted::Userinfo).await?;
        let Some(alg) = client.responses.userinfo_signed_response_alg else {
            return match encrypter {
                None => Ok(UserInfo::Json(claims)),
                Some(e) => {
                    let json = serde_json::to_vec(&claims)
                        .map_err(|e| OAuthError::Server(InternalError::new(e.to_string())))?;
                    Ok(UserInfo::Jwt(e.seal(&json, false)?))
                }
            };
        };
        let mut doc = claims;
        doc.insert("iss".into(), Value::String(self.tokens.issuer.to_string()));
        doc.insert("aud".into(), Value::String(client_id));
        let jws = self.tokens.sign_document(alg, "JWT", &doc)?;
        Ok(UserInfo::Jwt(Encrypter::maybe(encrypter.as_ref(), jws, true)?))
    }

    /// The claims, the token's `client_id`, and that client (if it still exists).
    async fn userinfo_claims(
        &self,
        token: &str,
        jkt: Option<&str>,
    ) -> Result<(JsonObject, String, Option<Client>), OAuthError> {
        let view = self.own_access_token(token).await?.ok_or(BAD_TOKEN)?;
        match (view.jkt.as_deref(), jkt) {
            (Some(bound), Some(proved)) if bound == proved => {}
            (None, None) => {}
            (Some(_), None) => {
                return Err(OAuthError::InvalidToken("the access token is DPoP-bound: present it with a DPoP proof"));
            }
            (Some(_), Some(_)) => return Err(OAuthError::InvalidDpopProof("the proof is not by the token's key")),
            (None, Some(_)) => return Err(OAuthError::InvalidToken("the access token is not DPoP-bound")),
        }
        if !view.scope.contains("openid") {
            return Err(OAuthError::InsufficientScope);
        }
        let client = self.client_named(&view.client_id).await?;
        let owner = match &client {
            Some(c) => crate::subjects::owner(self.store.as_ref(), c, &view.sub).await?.ok_or(BAD_TOKEN)?,
            None => view.sub.clone(),
        };
        let user = match self.store.get_user_by_sub(&owner).await? {
            Some(u) if !u.disabled => u,
            _ => return Err(BAD_TOKEN),
        };
        let defs = &self.tokens.catalog.get().scopes;
        let mut out = released_claims(&user.claims, &view.scope, defs, ClaimTarget::Userinfo);
        out.extend(requested_claims(&user.claims, &view.scope, defs, view.userinfo_claims.iter().map(String::as_str)));
        // The subject the token's client knows the user by.
        out.insert("sub".into(), Value::String(view.sub.clone()));
        Ok((out, view.client_id, client))
    }
}
