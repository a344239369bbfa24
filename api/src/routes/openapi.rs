//! The OpenAPI 3.1 document. Routes are registered through `utoipa-actix-web`, which collects
//! each handler's `#[utoipa::path]` as it is mounted, so a route cannot be served without
//! being documented.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi};

/// Top-level document data; paths and schemas are added by the route registration.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "電子請求受付システム ログイン情報再発行 API",
        description = "Applications for reissuing the login information of the care e-billing reception system. Every error is application/problem+json (RFC 9457) with a stable `code` and a Japanese `detail`.",
        version = "1.0.0"
    ),
    components(schemas(
        reissue_shared::dto::Problem,
        reissue_shared::FieldError,
        reissue_shared::FieldErrorCode,
        reissue_shared::ErrorCode,
        reissue_shared::ApplicationStatus
    )),
    modifiers(&ApplicationTokenScheme),
    tags(
        (name = "applicant", description = "The office's reissue application (manual steps 6–11)"),
        (name = "admin", description = "The federation reviewers' review of applications"),
        (name = "office", description = "The office's login and password change"),
        (name = "operations", description = "Health and readiness"),
        (name = "development", description = "Development mailbox (only without SMTP)")
    )
)]
pub struct ApiDoc;

/// The served document, from what the route registration collected: the operations' schemas
/// are added after [`ApiDoc`]'s modifiers have run, so this works on the whole.
///
/// The request DTOs are `#[serde(default)]` so that a missing field reaches the shared rules as
/// `""` and is answered 422 `required` with its field named, not 400. utoipa documents that `""`
/// as each field's default, a value the field's own schema (pattern, format, length) or the
/// server refuses; OpenAPI validators reject such a document, so those defaults are left out.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let schemas = api
        .components
        .iter_mut()
        .flat_map(|components| components.schemas.values_mut());
    for schema in schemas {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for property in object.properties.values_mut() {
            if let RefOr::T(Schema::Object(field)) = property {
                if field.default.as_ref().is_some_and(|value| value == "") {
                    field.default = None;
                }
            }
        }
    }
    api
}

/// The per-application bearer token.
struct ApplicationTokenScheme;

impl Modify for ApplicationTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "reviewer_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The access_token of POST /admin/sessions"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "office_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The access_token of POST /auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "reset_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token returned once by POST /password-resets"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "application_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token returned once by POST /reissue-applications",
                    ))
                    .build(),
            ),
        );
    }
}
