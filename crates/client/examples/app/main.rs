//! An application with its own sign-in and registration forms, on Gatehouse (the source
//! documents' case): `AuthClient` signs users in with the password grant, registers them
//! through the narrow `gatehouse:provision` scope, and keeps their sessions in a file so a
//! restart keeps them signed in. `/report` calls the example API with the session's access
//! token, refreshed ahead of expiry.
//!
//! ```text
//! cargo run -- serve --config examples/quickstart.toml         # Gatehouse on :8080
//! cargo run -p gatehouse-client --features axum --example api  # the API on :4000
//! cargo run -p gatehouse-client --features axum --example app  # this app on :3002
//! ```
//!
//! Then open <http://127.0.0.1:3002/>: register, or sign in as alice /
//! alice-password-change-me.

mod file_store;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use gatehouse_client::{AuthClient, AuthError, NewUser, Session};
use serde::Deserialize;
use std::sync::Arc;

const COOKIE: &str = "app_session";
const SCOPE: &str = "openid profile email roles offline_access api:read";

#[derive(Clone)]
struct App {
    auth: AuthClient,
    api: String,
    http: reqwest::Client,
}

#[tokio::main]
async fn main() -> Result<(), gatehouse_client::StoreError> {
    let issuer = std::env::var("ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let store = Arc::new(file_store::FileStore::open("app-sessions.json")?);
    let auth =
        AuthClient::builder(&issuer, "myapp").client_secret("myapp-secret-change-me").store(store).discover().await?;
    let app = App { auth, api: "http://127.0.0.1:4000/reports".into(), http: reqwest::Client::new() };
    let router = Router::new()
        .route("/", get(home))
        .route("/signin", get(|| async { page(sign_in_form("")) }).post(sign_in))
        .route("/register", get(|| async { page(register_form("")) }).post(register))
        .route("/signout", post(sign_out))
        .route("/report", get(report))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    println!("app on http://127.0.0.1:3002/, signing in at {issuer}");
    axum::serve(listener, router).await?;
    Ok(())
}

/// The signed-in user's session, from the app's cookie.
async fn current(app: &App, headers: &HeaderMap) -> Option<Session> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let id = cookies.split(';').find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))?;
    app.auth.session(id).await.ok().flatten()
}

async fn home(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(session) = current(&app, &headers).await else {
        return page(
            r#"<p>You are not signed in.</p><p><a href="/signin">Sign in</a> or <a href="/register">register</a>.</p>"#
                .into(),
        );
    };
    match session.userinfo().await {
        Ok(me) => {
            let name = me.get("name").or(me.get("preferred_username")).and_then(|v| v.as_str()).unwrap_or("?");
            page(format!(
                r#"<p>Signed in as <b>{}</b> (subject <code>{}</code>).</p>
                <p><a href="/report">Call the API</a></p>
                <form method="post" action="/signout"><button>Sign out</button></form>"#,
                escape(name),
                escape(me.get("sub").and_then(|v| v.as_str()).unwrap_or("?")),
            ))
        }
        Err(AuthError::SessionEnded) => signed_out(Redirect::to("/signin")),
        Err(e) => page(format!("<p>Gatehouse is unavailable: {}</p>", escape(&e.to_string()))),
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn sign_in(State(app): State<App>, Form(c): Form<Credentials>) -> Response {
    match app.auth.sign_in(&c.username, &c.password, SCOPE).await {
        Ok(session) => signed_in(&session),
        Err(AuthError::InvalidCredentials) => {
            (StatusCode::UNAUTHORIZED, page(sign_in_form("Wrong username or password."))).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, page(sign_in_form(&e.to_string()))).into_response(),
    }
}

#[derive(Deserialize)]
struct Registration {
    username: String,
    password: String,
    name: String,
    email: String,
}

async fn register(State(app): State<App>, Form(r): Form<Registration>) -> Response {
    let mut claims = serde_json::Map::new();
    claims.insert("name".into(), r.name.into());
    claims.insert("email".into(), r.email.into());
    let user = NewUser { username: r.username.clone(), password: r.password.clone(), claims };
    let error = match app.auth.register(&user).await {
        Ok(_) => match app.auth.sign_in(&r.username, &r.password, SCOPE).await {
            Ok(session) => return signed_in(&session),
            Err(e) => e.to_string(),
        },
        Err(AuthError::UsernameTaken) => "That username is taken.".into(),
        Err(AuthError::InvalidUser(why)) => why,
        Err(e) => e.to_string(),
    };
    (StatusCode::BAD_REQUEST, page(register_form(&error))).into_response()
}

async fn sign_out(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some(session) = current(&app, &headers).await
        && let Err(e) = app.auth.sign_out(&session).await
    {
        eprintln!("signed out here, but revocation failed: {e}");
    }
    signed_out(Redirect::to("/"))
}

async fn report(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(session) = current(&app, &headers).await else { return Redirect::to("/signin").into_response() };
    let token = match session.access_token().await {
        Ok(token) => token,
        Err(AuthError::SessionEnded) => return signed_out(Redirect::to("/signin")),
        Err(e) => return page(format!("<p>{}</p>", escape(&e.to_string()))),
    };
    let answer = match app.http.get(&app.api).bearer_auth(token).send().await {
        Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
        Err(e) => format!("the API at {} is not running: {e}", app.api),
    };
    page(format!(r#"<p>The API said:</p><pre>{}</pre><p><a href="/">Back</a></p>"#, escape(&answer)))
}

fn signed_in(session: &Session) -> Response {
    let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax", session.id());
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

fn signed_out(then: Redirect) -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], then).into_response()
}

fn sign_in_form(error: &str) -> String {
    format!(
        r#"<h2>Sign in</h2><p class="error">{}</p>
        <form method="post" action="/signin">
          <label>Username <input name="username" autocomplete="username" required></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
          <button>Sign in</button>
        </form><p><a href="/register">Register instead</a></p>"#,
        escape(error)
    )
}

fn register_form(error: &str) -> String {
    format!(
        r#"<h2>Register</h2><p class="error">{}</p>
        <form method="post" action="/register">
          <label>Username <input name="username" autocomplete="username" required></label>
          <label>Password <input name="password" type="password" autocomplete="new-password" required></label>
          <label>Name <input name="name" autocomplete="name"></label>
          <label>Email <input name="email" type="email" autocomplete="email"></label>
          <button>Register</button>
        </form><p><a href="/signin">Sign in instead</a></p>"#,
        escape(error)
    )
}

fn page(body: String) -> Response {
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>My App</title>\
         <style>body{{font-family:sans-serif;max-width:30em;margin:2em auto}}label{{display:block;margin:.5em 0}}.error{{color:#b00}}</style>\
         <h1>My App</h1>{body}"
    ))
    .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
