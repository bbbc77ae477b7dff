//! The admin API under `/admin/v1` (JSON; errors as RFC 9457 problems) and its OpenAPI 3.1
//! document at `/admin/openapi.json`, generated from these handlers and types by utoipa.
//!
//! Callers present a Gatehouse access token granted `gatehouse:admin` (client_credentials, or
//! the admin console's authorization code): Gatehouse protects itself with its own tokens. The
//! operations themselves are `gatehouse_core::admin`'s, shared with the console, the CLI and
//! dynamic registration.

mod audit;
mod clients;
mod factors;
pub mod http;
mod keys;
mod links;
mod resources;
mod schema;
mod scopes;
mod upstreams;
mod users;

pub use clients::ClientView;
pub use scopes::ScopeView;
pub use users::UserView;

use crate::state::AppState;
use axum::Router;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::Problem;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse admin API",
        description = "Manage clients, users, scopes, resource servers, sessions and signing keys. Authenticate with a Gatehouse access token granted the `gatehouse:admin` scope (client_credentials). Errors are RFC 9457 problem details.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "clients"), (name = "users"), (name = "sessions"), (name = "factors"), (name = "upstreams"), (name = "scopes"), (name = "resources"), (name = "keys"), (name = "audit")
    ),
    components(schemas(Problem))
)]
struct ApiDoc;

/// The admin routes and the OpenAPI document that describes them.
pub fn router() -> Router<AppState> {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(clients::list_clients, clients::create_client))
        .routes(routes!(clients::get_client, clients::put_client, clients::patch_client, clients::delete_client))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::patch_user, users::delete_user))
        .routes(routes!(users::set_password))
        .routes(routes!(users::list_sessions, users::revoke_sessions))
        .routes(routes!(users::revoke_session))
        .routes(routes!(factors::list_factors, factors::reset_factors))
        .routes(routes!(factors::remove_factor))
        .routes(routes!(links::list_links))
        .routes(routes!(links::remove_link))
        .routes(routes!(upstreams::list_upstreams))
        .routes(routes!(upstreams::put_upstream, upstreams::delete_upstream))
        .routes(routes!(scopes::list_scopes, scopes::create_scope))
        .routes(routes!(scopes::get_scope, scopes::put_scope, scopes::delete_scope))
        .routes(routes!(resources::list_resources, resources::create_resource))
        .routes(routes!(resources::get_resource, resources::put_resource, resources::delete_resource))
        .routes(routes!(keys::list_keys))
        .routes(routes!(keys::rotate_keys))
        .routes(routes!(audit::list_audit))
        .split_for_parts();
    document_common_responses(&mut doc);
    let json = Bytes::from(doc.to_pretty_json().unwrap_or_default());
    router.route("/admin/openapi.json", axum::routing::get(move || openapi_json(json.clone())))
}

/// The entries the config file shares with the admin API (`[[clients]]`, `[[users]]`,
/// `[[scopes]]`, `[[resources]]`) for the configuration reference: the config key, the body's name in the
/// OpenAPI document, and its JSON Schema.
pub fn config_entry_schemas() -> [(&'static str, String, serde_json::Value); 4] {
    use utoipa::ToSchema;
    fn entry<T: ToSchema>(key: &'static str) -> (&'static str, String, serde_json::Value) {
        (key, T::name().into_owned(), serde_json::to_value(T::schema()).unwrap_or_default())
    }
    [
        entry::<schema::ClientSpecDoc>("clients"),
        entry::<schema::UserSpecDoc>("users"),
        entry::<schema::ScopeSpecDoc>("scopes"),
        entry::<schema::ResourceSpecDoc>("resources"),
    ]
}

async fn openapi_json(doc: Bytes) -> Response {
    let mut r = doc.into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Every operation needs the bearer token and can fail the same few ways; say so once here
/// instead of on each handler: 400 (bad query or body), 401, 403, 404 (on paths with an id),
/// 415 (on bodies), 500.
fn document_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, ResponseBuilder};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A Gatehouse access token granted gatehouse:admin"))
                .build(),
        ),
    );
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem"))))
                    .build(),
            )
            .build()
    };
    let requirement = utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new());
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_id = path.contains('{');
        for op in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            op.security = Some(vec![requirement.clone()]);
            let mut add = |code: &str, desc: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| RefOr::T(problem(desc)));
            };
            add("400", "The query or body is invalid; `errors` names each field");
            add("401", "No access token, or not a valid one");
            add("403", "The access token was not granted gatehouse:admin");
            add("500", "The server failed; the detail is in its log");
            if has_id {
                add("404", "No such entry");
            }
            if op.request_body.is_some() {
                add("415", "The body is not application/json");
                if let Some(body) = op.request_body.as_mut() {
                    body.required = Some(Required::True);
                }
            }
        }
    }
}
