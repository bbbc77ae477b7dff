//! A client's own keys for the tests that sign as a client (`private_key_jwt`, request objects):
//! an EC P-256 key with a `kid` that signs any JWT, and a host serving a JWK set at a
//! `jwks_uri` whose keys a test can rotate, counting fetches.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct ClientKey {
    pair: EcdsaKeyPair,
    pub kid: String,
}

impl ClientKey {
    pub fn new(kid: &str) -> Self {
        Self { pair: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(), kid: kid.to_owned() }
    }

    pub fn jwk(&self) -> Value {
        let p = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig",
               "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])})
    }

    /// A JWK set of these keys.
    pub fn set(keys: &[&ClientKey]) -> Value {
        json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }

    /// Signs `claims` with header `{alg: ES256, kid}` and `typ` when given.
    pub fn sign(&self, typ: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": "ES256", "kid": self.kid});
        if let Some(t) = typ {
            header["typ"] = json!(t);
        }
        let mut out = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let sig = self.pair.sign(&SystemRandom::new(), out.as_bytes()).unwrap();
        out.push('.');
        out.push_str(&B64.encode(sig.as_ref()));
        out
    }

    /// A `private_key_jwt` assertion of `client_id` for `aud`, valid for a minute, with a fresh `jti`.
    pub fn assertion(&self, client_id: &str, aud: &str) -> String {
        self.sign(
            None,
            &json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": fresh_id(),
                                "iat": now(), "exp": now() + 60}),
        )
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn fresh_id() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    B64.encode(b)
}

/// A JWK set served at `url`, replaceable, with the number of times it was fetched.
pub struct JwksHost {
    pub url: String,
    set: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

impl JwksHost {
    pub async fn start(set: Value) -> Self {
        Self::serving("/jwks.json", set, "application/json").await
    }

    /// Serves `body` at `path` (any document a client publishes), with `content_type`.
    pub async fn serving(path: &str, body: Value, content_type: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let (set, hits) = (Arc::new(Mutex::new(body)), Arc::new(AtomicUsize::new(0)));
        let (shared, counted) = (set.clone(), hits.clone());
        let app = axum::Router::new().route(
            path,
            axum::routing::get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let body = shared.lock().unwrap().clone();
                let body = match body {
                    Value::String(s) => s,
                    v => v.to_string(),
                };
                async move { ([("content-type", content_type)], body) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, set, hits }
    }

    pub fn replace(&self, set: Value) {
        *self.set.lock().unwrap() = set;
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
