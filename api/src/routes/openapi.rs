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
        description = "Applications for reissuing the login information of the care e-billing reception system. Every error is application/problem+json (RFC 9457) with a stable `code` and a Japanese `detail`; each problem answer of an operation names the codes it can carry in its description and in `x-problem-codes`. Within `/api/v1` changes are additive only (new optional fields, endpoints and problem codes): ignore unknown fields, and treat an unknown `code` by its HTTP status. `info.version` is the server's version; the repository's CHANGELOG.md lists what the API gained."
    ),
    servers((url = "/", description = "The server this document is served by (paths start with /api/v1; the document itself is at /api/openapi.json)")),
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
        (name = "documentation", description = "This reference as a page (works offline: nothing is loaded from another origin)"),
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
    document_idempotency_keys(&mut api);
    document_rate_limit_fields(&mut api);
    document_problem_codes(&mut api);
    document_examples(&mut api);
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

/// The operations wrapped in `routes::idempotency`: the applicant's and the password reset's
/// POST and PUT.
fn is_idempotent(path: &str) -> bool {
    path.starts_with("/api/v1/reissue-applications") || path.starts_with("/api/v1/password-resets")
}

/// Adds the `Idempotency-Key` header and its refusals to each operation that takes it.
fn document_idempotency_keys(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Optional (IETF draft \"The Idempotency-Key HTTP Header Field\"): a key of your choosing, \
             ideally a UUID, to send the same request again after a timeout. The same key with \
             the same body within 24 hours answers the first answer again, with \
             `Idempotency-Replayed: true`, without doing the work again. Keys are scoped to the \
             bearer token, or to the client address before there is one. 429 and 5xx answers \
             are not kept: a retry with the same key does the work.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(crate::domain::idempotency::MAX_KEY_LENGTH))
                .pattern(Some("^[!-~]+$"))
                .examples(["8e03978e-40d5-43e8-bc93-6894a57f9324"]),
        ))
        .build();
    for (path, item) in api.paths.paths.iter_mut() {
        if !is_idempotent(path) {
            continue;
        }
        for operation in [item.post.as_mut(), item.put.as_mut()]
            .into_iter()
            .flatten()
        {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(parameter.clone());
            for (status, refusal) in [
                ("400", "`idempotency_key_invalid`: the Idempotency-Key is not 1–255 visible ASCII characters"),
                ("409", "`idempotency_key_in_use`: the first request with this Idempotency-Key is still running (see Retry-After)"),
                ("422", "`idempotency_key_reused`: this Idempotency-Key was used for another request"),
            ] {
                document_refusal(&mut operation.responses, status, refusal);
            }
        }
    }
}

/// Adds `refusal` to the operation's answer of `status` (a problem), or adds that answer.
fn document_refusal(responses: &mut utoipa::openapi::Responses, status: &str, refusal: &str) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    match responses.responses.get_mut(status) {
        Some(RefOr::T(response)) => {
            response.description = format!("{}; {refusal}", response.description);
        }
        _ => {
            let problem = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            responses.responses.insert(
                status.to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(refusal)
                        .content("application/problem+json", problem)
                        .build(),
                ),
            );
        }
    }
}

/// Adds the RateLimit header fields (`routes::rate_limit_headers`) to every answer of the
/// operations that are counted per client: the applicant's, the password reset's, the logins.
fn document_rate_limit_fields(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let field = |description: &str, example: &str| {
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .examples([example]),
            )
            .description(Some(description))
            .build()
    };
    let policy = field(
        "IETF draft \"RateLimit header fields for HTTP\": the quotas that apply, one list member each: \
         `\"client\";q=60;w=3600` (requests per client address and hour), `\"login\";q=20;w=60` \
         (login attempts per client address and minute), and on answers about one application \
         `\"codes\";q=3` (codes it may ask for) and `\"attempts\";q=5` (wrong tries of a code).",
        "\"client\";q=60;w=3600, \"codes\";q=3, \"attempts\";q=5",
    );
    let remaining = field(
        "What is left of each quota of RateLimit-Policy: `r` remaining, `t` seconds until one more \
         is allowed again (absent when nothing is used or the quota has no window).",
        "\"client\";r=57;t=3541, \"codes\";r=2, \"attempts\";r=5",
    );
    for (path, item) in api.paths.paths.iter_mut() {
        let counted =
            is_idempotent(path) || path == "/api/v1/auth/login" || path == "/api/v1/admin/sessions";
        if !counted {
            continue;
        }
        let operations = [item.get.as_mut(), item.post.as_mut(), item.put.as_mut()];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .insert("RateLimit-Policy".into(), policy.clone());
                    response
                        .headers
                        .insert("RateLimit".into(), remaining.clone());
                }
            }
        }
    }
}

/// The codes an answer's description names in backquotes (`` `wrong_code` ``), in order and
/// once each; other quoted words (`errors`, `attempts_left`) are not codes and are left out.
pub fn problem_codes(description: &str) -> Vec<reissue_shared::ErrorCode> {
    let mut codes = Vec::new();
    for quoted in description.split('`').skip(1).step_by(2) {
        let value = serde_json::Value::String(quoted.to_owned());
        if let Ok(code) = serde_json::from_value::<reissue_shared::ErrorCode>(value) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes
}

/// Adds `x-problem-codes` to every problem answer: the codes its description names, for a
/// vendor's code generator. The descriptions stay the one place where an operation's codes are
/// written (`routes::responses` and each `#[utoipa::path]`).
fn document_problem_codes(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    for item in api.paths.paths.values_mut() {
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                if !response.content.contains_key("application/problem+json") {
                    continue;
                }
                let codes: Vec<&str> = problem_codes(&response.description)
                    .into_iter()
                    .map(reissue_shared::ErrorCode::as_str)
                    .collect();
                let extension = ExtensionsBuilder::new()
                    .add("x-problem-codes", codes)
                    .build();
                match response.extensions.as_mut() {
                    Some(extensions) => extensions.merge(extension),
                    None => response.extensions = Some(extension),
                }
            }
        }
    }
}

/// One example per schema, by schema name: the manual's example office 1311111111 of 東京都
/// (請求事業所 A of the demo ledger), addresses under example.jp, the answers' Japanese labels.
/// An API test checks that each example is valid against its schema's properties.
const EXAMPLES: &str = include_str!("openapi_examples.json");

/// The schema-level `examples` of [`EXAMPLES`] (JSON Schema 2020-12, as OpenAPI 3.1 has it).
fn document_examples(api: &mut utoipa::openapi::OpenApi) {
    let Ok(serde_json::Value::Object(examples)) = serde_json::from_str(EXAMPLES) else {
        return;
    };
    let Some(components) = api.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        let (Some(example), RefOr::T(Schema::Object(object))) = (examples.get(name), schema) else {
            continue;
        };
        object.examples = vec![example.clone()];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reissue_shared::ErrorCode;

    #[test]
    fn the_examples_are_a_json_object_of_schema_names() {
        let examples: serde_json::Value = serde_json::from_str(EXAMPLES).unwrap();
        assert!(examples.as_object().unwrap().contains_key("Problem"));
    }

    #[test]
    fn problem_codes_are_the_quoted_error_codes() {
        assert_eq!(
            problem_codes("`wrong_code` with `attempts_left`; `code_expired`, `wrong_code`"),
            [ErrorCode::WrongCode, ErrorCode::CodeExpired]
        );
        assert!(problem_codes("Database unavailable").is_empty());
    }
}
