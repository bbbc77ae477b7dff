//! `/userinfo` (OIDC Core §5.3): GET or POST, the access token in the `Authorization: Bearer`
//! header or (POST) the `access_token` form field (RFC 6750 §2.1, §2.2). A missing, expired,
//! revoked or forged token is 401 with `WWW-Authenticate: Bearer error="invalid_token"`
//! (RFC 6750 §3.1). A DPoP-bound token comes as `Authorization: DPoP` with a proof of its key
//! over this request and the token (RFC 9449 §7); its errors carry a `DPoP` challenge. The
//! claims are `gatehouse_core::lifecycle`'s.

use crate::error::ApiError;
use crate::extract::client_form;
use crate::oauth::dpop;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::dpop::DpopProofs;
use gatehouse_core::lifecycle::{TokenLifecycle, UserInfo};
use gatehouse_protocol::error::OAuthError;
use serde_json::Value;
use std::sync::Arc;

fn bearer(method: &Method, headers: &HeaderMap, body: &Bytes) -> Result<String, OAuthError> {
    let from_header = crate::web::bearer_token(headers);
    let from_form = if *method == Method::POST && !body.is_empty() {
        client_form(headers, body)?.get("access_token").map(str::to_owned)
    } else {
        None
    };
    match (from_header, from_form) {
        // RFC 6750 §2: "MUST NOT use more than one method to transmit the token".
        (Some(_), Some(_)) => Err(OAuthError::InvalidRequest("send the token once")),
        (Some(t), None) if !t.is_empty() => Ok(t.to_owned()),
        (None, Some(t)) => Ok(t),
        // RFC 6750 §3.1: no credentials at all is invalid_token here too (a bare challenge
        // would also do; clients handle both).
        _ => Err(OAuthError::InvalidToken("an access token is required")),
    }
}

/// JSON, or a signed JWT as `application/jwt` (OIDC Core §5.3.2).
fn respond(info: UserInfo) -> Response {
    match info {
        UserInfo::Json(claims) => Json(Value::Object(claims)).into_response(),
        UserInfo::Jwt(jwt) => ([(header::CONTENT_TYPE, "application/jwt")], jwt).into_response(),
    }
}

pub async fn userinfo(
    State(tokens): State<Arc<TokenLifecycle>>,
    State(proofs): State<Arc<DpopProofs>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // RFC 9449 §7.1: `Authorization: DPoP <token>`.
    if let Some(token) = crate::web::authorization_token(&headers, "dpop") {
        let answer = async {
            let proof = dpop::proof(&headers)?.ok_or(OAuthError::InvalidDpopProof("a DPoP proof is required"))?;
            let jkt = proofs.check(proof, method.as_str(), "/userinfo", Some(token)).await?.jkt;
            tokens.userinfo(token, Some(&jkt)).await
        };
        return match answer.await {
            Ok(info) => dpop::with_nonce(respond(info), proofs.nonce()),
            Err(e) => dpop::resource_error(e, proofs.nonce()),
        };
    }
    let answer = async {
        let token = bearer(&method, &headers, &body)?;
        tokens.userinfo(&token, None).await
    };
    match answer.await {
        Ok(info) => respond(info),
        Err(e) => ApiError::from(e).into_response(),
    }
}
