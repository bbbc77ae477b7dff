//! The authorization endpoint's work apart from its pages (RFC 6749 §4.1, OIDC Core §3): the
//! pending request kept server-side while the user signs in and consents (an *interaction*,
//! found by a random id and bound to the browser's CSRF token), remembered consent, the
//! `id_token_hint`, and issuing the code and tokens of the response.

use crate::cimd::Clients;
use crate::client_keys::Encrypter;
use crate::issuer::{IdTokenInput, Subject, TokenIssuer, hash_token};
use gatehouse_protocol::authorize::AuthorizeRequest;
use gatehouse_protocol::client::{Client, ClientId};
use gatehouse_protocol::client_responses::Encrypted;
use gatehouse_protocol::clock::Clock;
use gatehouse_protocol::error::OAuthError;
use gatehouse_protocol::resource::{Audience, ResourceId};
use gatehouse_protocol::scope::ScopeSet;
use gatehouse_protocol::token::authorization_code::CodeGrant;
use gatehouse_protocol::user::User;
use gatehouse_store::{Interaction, PendingFactor, Session, Store, StoreError};
use std::sync::Arc;

pub struct Authorization {
    store: Arc<dyn Store>,
    clients: Arc<Clients>,
    tokens: Arc<TokenIssuer>,
    clock: Arc<dyn Clock>,
}

/// An application a user consented to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentedApp {
    pub client_id: String,
    pub name: Option<String>,
    pub scope: ScopeSet,
    pub granted_at: gatehouse_protocol::clock::UnixTime,
}

/// A pending authorization request, as its interaction id found it.
pub struct Pending {
    pub request: AuthorizeRequest,
    /// The CSRF token the interaction was opened with.
    pub csrf: String,
    /// The session a sign-in during this interaction started: it satisfies `prompt=login`
    /// (and `select_account`, `max_age=0`) for the rest of the interaction.
    pub login_sid: Option<String>,
    /// A sign-in waiting for its second factor.
    pub pending_factor: Option<PendingFactor>,
}

/// One scope on a consent page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScopeLine {
    pub name: String,
    pub description: String,
}

impl Authorization {
    pub fn new(store: Arc<dyn Store>, clients: Arc<Clients>, tokens: Arc<TokenIssuer>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clients, tokens, clock }
    }

    pub fn issuer(&self) -> &str {
        &self.tokens.issuer
    }

    /// A fresh random value of `bytes` bytes, base64url (state, nonces, ids).
    pub fn random(&self, bytes: usize) -> String {
        self.tokens.random(bytes)
    }

    /// JARM §2: the authorization response `params` as a JWT signed for `client` (its
    /// `authorization_signed_response_alg`, RS256 by default), with `iss`, `aud` and a
    /// ten-minute `exp`, then encrypted if the client asked for that (§2.3); sent as the one
    /// parameter `response`.
    pub async fn jarm(&self, client: &Client, params: &[(&str, &str)]) -> Result<String, OAuthError> {
        let encrypter = self.tokens.encrypter(client, Encrypted::Authorization).await?;
        let now = self.clock.now();
        let mut doc = serde_json::Map::new();
        for (k, v) in params {
            doc.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
        }
        doc.insert("iss".into(), self.tokens.issuer.to_string().into());
        doc.insert("aud".into(), client.id.as_str().into());
        doc.insert("exp".into(), (now + 600).into());
        doc.insert("iat".into(), now.into());
        let alg =
            client.responses.authorization_signed_response_alg.unwrap_or(gatehouse_protocol::jose::SigningAlg::RS256);
        let jws = self.tokens.sign_document(alg, "JWT", &doc)?;
        Encrypter::maybe(encrypter.as_ref(), jws, true)
    }

    /// The deployment's `acr` levels.
    pub fn acr_policy(&self) -> &gatehouse_protocol::acr::AcrPolicy {
        &self.tokens.acr
    }

    pub fn now(&self) -> gatehouse_protocol::clock::UnixTime {
        self.clock.now()
    }

    /// A user by subject, enabled or not.
    pub async fn user(&self, sub: &str) -> Result<Option<User>, StoreError> {
        self.store.get_user_by_sub(sub).await
    }

    /// The scopes in force (a request's unknown scope names are ignored).
    pub fn catalog(&self) -> std::sync::Arc<crate::catalog::CatalogView> {
        self.tokens.catalog.get()
    }

    pub async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        self.clients.get(id).await
    }

    /// Whether the client of this id requires a second factor of its users (a client that no
    /// longer exists requires nothing: it gets nothing either).
    pub async fn client_requires_second_factor(&self, id: &str) -> Result<bool, OAuthError> {
        let Ok(id) = ClientId::parse(id) else { return Ok(false) };
        Ok(self.client(&id).await?.is_some_and(|c| c.require_second_factor))
    }

    /// An enabled user, by subject.
    pub async fn active_user(&self, sub: &str) -> Result<Option<User>, StoreError> {
        Ok(self.store.get_user_by_sub(sub).await?.filter(|u| !u.disabled))
    }

    /// The scopes the user consented to for the client before.
    pub async fn consented(&self, sub: &str, client: &Client) -> Result<Option<ScopeSet>, StoreError> {
        self.store.get_consent(sub, client.id.as_str()).await
    }

    /// Remembers consent to `scope`: the union of what was ever approved for this client.
    pub async fn remember_consent(&self, sub: &str, client: &Client, scope: &ScopeSet) -> Result<(), StoreError> {
        let mut all = scope.clone();
        if let Ok(Some(prev)) = self.consented(sub, client).await {
            for s in prev.iter() {
                all.insert(s.clone());
            }
        }
        self.store.put_consent(sub, client.id.as_str(), &all, self.clock.now()).await
    }

    /// The applications the user consented to: the client's name (when it still exists), the
    /// scopes, and when.
    pub async fn consented_apps(&self, sub: &str) -> Result<Vec<ConsentedApp>, StoreError> {
        let mut out = Vec::new();
        for (client_id, scope, granted_at) in self.store.list_consents(sub).await? {
            let name = match ClientId::parse(&client_id) {
                Ok(id) => self.client(&id).await?.and_then(|c| c.name),
                Err(_) => None,
            };
            out.push(ConsentedApp { client_id, name, scope, granted_at });
        }
        Ok(out)
    }

    /// Takes back the user's consent to a client and revokes the refresh tokens (and the access
    /// tokens issued with them) the client holds for the user; audited as `actor`'s
    /// `consent.revoke`. `false` when there was no consent.
    pub async fn revoke_app(&self, actor: &str, sub: &str, client_id: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        if !self.store.delete_consent(sub, client_id).await? {
            return Ok(false);
        }
        let families = self.store.revoke_user_client_families(sub, client_id, now).await?;
        self.store
            .append_audit(&gatehouse_store::AuditEntry {
                id: uuid::Uuid::now_v7().to_string(),
                at: now,
                actor: actor.to_owned(),
                action: "consent.revoke".to_owned(),
                target: format!("user:{sub}"),
                details: serde_json::json!({ "client_id": client_id, "grants_revoked": families }),
            })
            .await?;
        Ok(true)
    }

    /// Keeps `request` while the user signs in and consents; returns the interaction's id.
    pub async fn open_interaction(&self, request: &AuthorizeRequest, csrf: &str) -> Result<String, OAuthError> {
        let id = self.tokens.random(32);
        let now = self.clock.now();
        let i = Interaction {
            request: request.clone(),
            csrf: csrf.to_owned(),
            expires_at: now + self.tokens.lifetimes.interaction,
            login_sid: None,
            pending_factor: None,
        };
        self.store.insert_interaction(&hash_token(&id), &i, now).await?;
        Ok(id)
    }

    /// The unexpired interaction with this id.
    pub async fn interaction(&self, id: &str) -> Result<Option<Pending>, OAuthError> {
        let Some(stored) = self.store.get_interaction(&hash_token(id), self.clock.now()).await? else {
            return Ok(None);
        };
        Ok(Some(Pending {
            request: stored.request,
            csrf: stored.csrf,
            login_sid: stored.login_sid,
            pending_factor: stored.pending_factor,
        }))
    }

    /// Records that the user signed in during interaction `id`, starting session `sid`.
    pub async fn note_login(&self, id: &str, sid: &str) -> Result<(), OAuthError> {
        Ok(self.store.note_interaction_login(&hash_token(id), sid).await?)
    }

    /// Records (or clears) the sign-in of interaction `id` that waits for its second factor.
    pub async fn note_pending_factor(&self, id: &str, pending: Option<&PendingFactor>) -> Result<(), OAuthError> {
        Ok(self.store.set_pending_factor(&hash_token(id), pending).await?)
    }

    /// Ends an interaction: the request is answered.
    pub async fn close_interaction(&self, id: &str) {
        if let Err(e) = self.store.delete_interaction(&hash_token(id)).await {
            tracing::warn!(error = %e, "could not delete a finished interaction");
        }
    }

    /// The `sub` of an ID token this issuer signed for this client. Expiry is not checked: OIDC
    /// Core §3.1.2.1 allows an expired token as a hint.
    pub async fn id_token_hint_subject(&self, hint: &str, client: &Client) -> Result<Option<String>, OAuthError> {
        let Some(claims) = self.tokens.verify_own(hint) else { return Ok(None) };
        let aud_ok = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => a == client.id.as_str(),
            Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(client.id.as_str())),
            _ => false,
        };
        match claims.get("sub").and_then(|v| v.as_str()).filter(|_| aud_ok) {
            // A pairwise client's hint names the user by the client's subject for them.
            Some(sub) => crate::subjects::owner(self.store.as_ref(), client, sub).await,
            None => Ok(None),
        }
    }

    /// The consent page's line for each resource (RFC 8707) a request targets: its name and
    /// identifier.
    pub fn resource_lines(&self, resources: &[ResourceId]) -> Vec<ScopeLine> {
        let catalog = self.tokens.catalog.get();
        resources
            .iter()
            .map(|r| ScopeLine {
                name: r.to_string(),
                description: catalog
                    .resources
                    .iter()
                    .find(|d| d.identifier == *r)
                    .map_or_else(|| r.to_string(), |d| d.display_name().to_owned()),
            })
            .collect()
    }

    /// The consent page's plain-words line for each scope.
    pub fn scope_lines(&self, scope: &ScopeSet) -> Vec<ScopeLine> {
        let catalog = self.tokens.catalog.get();
        scope
            .iter()
            .map(|s| ScopeLine {
                name: s.to_string(),
                description: catalog
                    .scopes
                    .iter()
                    .find(|d| d.name == *s)
                    .map_or_else(|| format!("Use {s}"), |d| d.description.clone()),
            })
            .collect()
    }

    /// The parameters of the authorization response: a code, tokens, or both (OIDC Core
    /// §3.1.2.5, §3.2.2.5, §3.3.2.5), `state`, and RFC 9207's `iss`.
    pub async fn issue(
        &self,
        client: &Client,
        req: &AuthorizeRequest,
        session: &Session,
    ) -> Result<Vec<(&'static str, String)>, OAuthError> {
        let now = self.clock.now();
        let tokens = &self.tokens;
        let rt = req.response_type;
        let mut params: Vec<(&'static str, String)> = Vec::new();
        // Before anything is stored: a client whose encryption key cannot be had gets nothing.
        let encrypter = if rt.id_token { tokens.encrypter(client, Encrypted::IdToken).await? } else { None };
        // Remembered so that ending this session can notify the client (back-channel logout).
        self.store.add_session_client(&session.sid, client.id.as_str(), now).await?;
        crate::subjects::remember(self.store.as_ref(), tokens, client, &session.sub).await?;
        let acr = tokens.acr.acr_for(
            &gatehouse_protocol::acr::requested(req.claims.as_ref(), req.acr_values.as_deref()).values,
            &session.amr,
        );
        let code = if rt.code {
            let code = tokens.random(32);
            let grant = CodeGrant {
                grant_id: tokens.random(16),
                client_id: client.id.to_string(),
                sub: session.sub.clone(),
                redirect_uri: req.redirect_uri.to_string(),
                scope: req.scope.clone(),
                nonce: req.nonce.clone(),
                code_challenge: req.code_challenge.clone(),
                code_challenge_method: req.code_challenge_method,
                auth_time: session.auth_time,
                sid: session.sid.clone(),
                amr: session.amr.clone(),
                expires_at: now + tokens.lifetimes.for_client(client).code,
                resources: req.resources.clone(),
                dpop_jkt: req.dpop_jkt.clone(),
                claims: req.claims.clone(),
                acr: acr.clone(),
            };
            self.store.insert_code(&hash_token(&code), &grant).await?;
            params.push(("code", code.clone()));
            Some(code)
        } else {
            None
        };
        if rt.token || rt.id_token {
            let user = self.active_user(&session.sub).await?.ok_or(OAuthError::LoginRequired)?;
            let access_token = if rt.token {
                let subject = Subject {
                    sub: &user.sub,
                    user: Some(&user),
                    auth_time: Some(session.auth_time),
                    sid: Some(&session.sid),
                    jkt: None,
                    acr: acr.as_deref(),
                    amr: &session.amr,
                    claims: req.claims.as_ref(),
                };
                let catalog = tokens.catalog.get();
                let audience = Audience::of(&req.resources, &req.scope, &tokens.issuer, &catalog.resources)?;
                let (at, _) = tokens.access_token(client, &subject, &req.scope, &audience, now)?;
                params.push(("access_token", at.clone()));
                params.push(("token_type", "Bearer".to_owned()));
                params.push(("expires_in", tokens.access_token_ttl(client, &audience).to_string()));
                params.push(("scope", req.scope.to_string()));
                Some(at)
            } else {
                None
            };
            if rt.id_token {
                let input = IdTokenInput {
                    user: &user,
                    scope: &req.scope,
                    auth_time: session.auth_time,
                    sid: &session.sid,
                    amr: &session.amr,
                    nonce: req.nonce.as_deref(),
                    access_token: access_token.as_deref(),
                    code: code.as_deref(),
                    claims: req.claims.as_ref(),
                    acr: acr.as_deref(),
                    encrypter: encrypter.as_ref(),
                };
                params.push(("id_token", tokens.id_token(client, &input, now)?));
            }
        }
        if let Some(s) = &req.state {
            params.push(("state", s.clone()));
        }
        params.push(("iss", tokens.issuer.to_string()));
        Ok(params)
    }
}
