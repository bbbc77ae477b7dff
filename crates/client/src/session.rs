//! A signed-in user's session: a valid access token on demand, refreshed ahead of expiry by
//! one task at a time, the user's claims, and a typed error once the provider ends it.

use crate::auth_error::AuthError;
use crate::provider::{Provider, now, refusal, unavailable};
use crate::store::{StoredSession, TokenSet};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// A user's session, as returned by [`AuthClient::sign_in`](super::AuthClient::sign_in) and
/// friends. Cheap to clone; every clone (and every [`AuthClient::session`](super::AuthClient::session)
/// call for the same id in this process) is the same session, so a refresh happens once
/// however many tasks ask for a token at once, and refresh-token rotation never races itself.
///
/// ```no_run
/// # async fn f(client: gatehouse_client::AuthClient, session_id: &str) -> Result<(), gatehouse_client::AuthError> {
/// use gatehouse_client::AuthError;
/// let Some(session) = client.session(session_id).await? else { return Ok(()) /* not signed in */ };
/// match session.access_token().await {
///     Ok(token) => { /* call an API with `Authorization: Bearer {token}` */ }
///     Err(AuthError::SessionEnded) => { /* revoked or expired: send the user to sign in */ }
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session(Arc<Inner>);

pub(crate) struct Inner {
    id: String,
    provider: Arc<Provider>,
    /// `None` once the session has ended. Held across a refresh: the single flight.
    state: tokio::sync::Mutex<Option<StoredSession>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("id", &self.0.id).finish_non_exhaustive()
    }
}

impl Session {
    /// The session's id: random and URL-safe. Put it in the application's own session cookie
    /// and find the session again with [`AuthClient::session`](super::AuthClient::session).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// A valid access token. Refreshed first when it expires within the client's
    /// `refresh_ahead` (at most half its lifetime); one refresh at a time per session, the
    /// others waiting for its result. [`AuthError::SessionEnded`] when the provider refuses
    /// the refresh token (revoked, expired, user disabled) or there is none and the access
    /// token has expired; while the provider is unreachable, the current token as long as it
    /// is still valid.
    pub async fn access_token(&self) -> Result<String, AuthError> {
        self.fresh(None).await
    }

    /// The claims of the verified ID token (empty if `openid` was not asked for).
    pub async fn claims(&self) -> Result<Map<String, Value>, AuthError> {
        let state = self.0.state.lock().await;
        Ok(state.as_ref().ok_or(AuthError::SessionEnded)?.claims.clone())
    }

    /// The user's subject identifier, from the ID token.
    pub async fn subject(&self) -> Result<Option<String>, AuthError> {
        Ok(self.claims().await?.get("sub").and_then(Value::as_str).map(str::to_owned))
    }

    /// The tokens as they are now (for an `id_token_hint`, or to hand an access token on).
    pub async fn tokens(&self) -> Result<TokenSet, AuthError> {
        let state = self.0.state.lock().await;
        Ok(state.as_ref().ok_or(AuthError::SessionEnded)?.tokens.clone())
    }

    /// The provider's UserInfo answer for this user (OIDC Core §5.3), fetched now. A `401`
    /// (the access token revoked early) refreshes once and asks again. Its `sub` must be the
    /// ID token's.
    pub async fn userinfo(&self) -> Result<Map<String, Value>, AuthError> {
        let endpoint = self.0.provider.userinfo_endpoint.clone().ok_or_else(|| AuthError::Refused {
            error: "unsupported".into(),
            description: Some("the provider has no userinfo endpoint".into()),
        })?;
        let mut token = self.access_token().await?;
        for attempt in 0..2 {
            let r = self.0.provider.http.get(&endpoint).bearer_auth(&token).send().await.map_err(unavailable)?;
            if r.status() == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                token = self.fresh(Some(&token)).await?;
                continue;
            }
            if r.status() == reqwest::StatusCode::UNAUTHORIZED {
                return Err(AuthError::SessionEnded);
            }
            if !r.status().is_success() {
                return Err(refusal(r).await);
            }
            let info: Map<String, Value> =
                r.json().await.map_err(|e| AuthError::Unavailable(format!("the userinfo response: {e}")))?;
            let sub = self.claims().await?.get("sub").cloned();
            if sub.is_some() && info.get("sub") != sub.as_ref() {
                return Err(AuthError::Refused {
                    error: "invalid_userinfo".into(),
                    description: Some("userinfo names another subject than the ID token".into()),
                });
            }
            return Ok(info);
        }
        Err(AuthError::SessionEnded)
    }

    /// Whether the session has ended (signed out, or refused by the provider).
    pub async fn is_ended(&self) -> bool {
        self.0.state.lock().await.is_none()
    }

    /// A valid access token, refreshing when due or when `rejected` is the current token (an
    /// API or userinfo refused it before its time).
    async fn fresh(&self, rejected: Option<&str>) -> Result<String, AuthError> {
        let p = &self.0.provider;
        let mut state = self.0.state.lock().await;
        {
            let current = state.as_ref().ok_or(AuthError::SessionEnded)?;
            let forced = rejected.is_some_and(|r| r == current.tokens.access_token);
            if !forced && !due(&current.tokens, p.refresh_ahead, now()) {
                return Ok(current.tokens.access_token.clone());
            }
        }
        let mut current = state.clone().ok_or(AuthError::SessionEnded)?;
        let forced = rejected.is_some_and(|r| r == current.tokens.access_token);
        // Another process sharing the store may have refreshed (or ended) it already.
        match p.store.load(&self.0.id).await {
            Ok(None) => return Err(self.end(&mut state).await),
            Ok(Some(stored))
                if stored.tokens != current.tokens && stored.tokens.issued_at >= current.tokens.issued_at =>
            {
                if !due(&stored.tokens, p.refresh_ahead, now()) {
                    let token = stored.tokens.access_token.clone();
                    *state = Some(stored);
                    return Ok(token);
                }
                // Newer but due as well: refresh with its refresh token, ours may be spent.
                current = stored;
            }
            _ => {}
        }
        let Some(refresh_token) = current.tokens.refresh_token.clone() else {
            return match current.tokens.expires_at {
                Some(exp) if exp > now() && !forced => Ok(current.tokens.access_token.clone()),
                _ => Err(self.end(&mut state).await),
            };
        };
        let answer = p.token(vec![("grant_type", "refresh_token"), ("refresh_token", &refresh_token)]).await;
        let answer = match answer {
            Ok(t) => p.session_tokens(t, None, Some(&current)).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok((tokens, claims)) => {
                p.refreshed();
                let next = StoredSession { id: self.0.id.clone(), tokens, claims };
                // Saved before use: with rotation, the old refresh token is already spent.
                p.store.save(&next).await.map_err(|e| AuthError::Storage(e.to_string()))?;
                let token = next.tokens.access_token.clone();
                *state = Some(next);
                Ok(token)
            }
            Err(AuthError::Refused { error, .. }) if error == "invalid_grant" => Err(self.end(&mut state).await),
            Err(e) => match current.tokens.expires_at {
                Some(exp) if exp > now() && !forced => Ok(current.tokens.access_token.clone()),
                _ => Err(e),
            },
        }
    }

    /// Ends the session here: no tokens, not in the store. Returns `SessionEnded`.
    async fn end(&self, state: &mut Option<StoredSession>) -> AuthError {
        *state = None;
        if let Err(e) = self.0.provider.store.remove(&self.0.id).await {
            return AuthError::Storage(e.to_string());
        }
        AuthError::SessionEnded
    }

    /// Takes the tokens out (the session ends), for signing out.
    pub(crate) async fn take(&self) -> Option<StoredSession> {
        self.0.state.lock().await.take()
    }
}

/// Whether `t` should be refreshed now: it expires within `ahead`, or within half its
/// lifetime if that is shorter (so a short-lived token is not refreshed on every call).
fn due(t: &TokenSet, ahead: Duration, now: i64) -> bool {
    let Some(exp) = t.expires_at else { return false };
    let lifetime = exp.saturating_sub(t.issued_at).max(0);
    let ahead = i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX).min(lifetime / 2);
    exp.saturating_sub(now) <= ahead
}

/// The live sessions of one `AuthClient`, by id: one [`Session`] per id in this process.
#[derive(Default)]
pub(crate) struct Registry(Mutex<HashMap<String, Weak<Inner>>>);

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Weak<Inner>>) -> T) -> T {
        match self.0.lock() {
            Ok(mut map) => f(&mut map),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// The live session with this id, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        self.with(|map| map.get(id).and_then(Weak::upgrade).map(Session))
    }

    /// The session for `stored`: the live one with its id if there is one, else a new one.
    pub fn adopt(&self, provider: &Arc<Provider>, stored: StoredSession) -> Session {
        self.with(|map| {
            if let Some(live) = map.get(&stored.id).and_then(Weak::upgrade) {
                return Session(live);
            }
            if map.len() >= 1024 {
                map.retain(|_, w| w.strong_count() > 0);
            }
            let id = stored.id.clone();
            let inner = Arc::new(Inner {
                id: id.clone(),
                provider: provider.clone(),
                state: tokio::sync::Mutex::new(Some(stored)),
            });
            map.insert(id, Arc::downgrade(&inner));
            Session(inner)
        })
    }

    /// Forgets an ended session.
    pub fn forget(&self, id: &str) {
        self.with(|map| map.remove(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(issued_at: i64, expires_at: Option<i64>) -> TokenSet {
        TokenSet {
            access_token: "a".into(),
            token_type: "Bearer".into(),
            refresh_token: None,
            id_token: None,
            scope: None,
            issued_at,
            expires_at,
        }
    }

    #[test]
    fn refresh_is_due_ahead_of_expiry_but_never_earlier_than_half_the_lifetime() {
        let ahead = Duration::from_secs(60);
        // A 300 s token: due in its last 60 s.
        assert!(!due(&tokens(1000, Some(1300)), ahead, 1239));
        assert!(due(&tokens(1000, Some(1300)), ahead, 1240));
        // A 10 s token: due in its last 5 s, not at once.
        assert!(!due(&tokens(1000, Some(1010)), ahead, 1004));
        assert!(due(&tokens(1000, Some(1010)), ahead, 1005));
        // No expiry said: never due.
        assert!(!due(&tokens(1000, None), ahead, i64::MAX));
        // Already expired.
        assert!(due(&tokens(1000, Some(1300)), ahead, 2000));
    }
}
