//! HTTP routes: one module per resource, each with `configure`. Handlers read the request,
//! call one domain function and map the answer; they hold no rule.

pub mod admin;
pub mod api_docs;
pub mod applications;
pub mod auth;
pub mod csv;
pub mod dev_mailbox;
pub mod extract;
pub mod federation;
pub mod health;
pub mod idempotency;
pub mod input;
pub mod mfa;
pub mod notice_html;
pub mod notice_pdf;
pub mod notice_text;
pub mod openapi;
pub mod prefectures;
pub mod rate_limit_headers;
pub mod reissue_status;
pub mod responses;
pub mod security_email;
pub mod security_headers;
pub mod spa;

use std::sync::Arc;

use actix_web::{web, HttpRequest};

use crate::config::Settings;
use crate::domain::Context;
use crate::error::ApiError;

/// Largest accepted JSON body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// What the domain needs.
    pub ctx: Context,
    /// The configuration.
    pub settings: Arc<Settings>,
    /// Whether mail is kept in the development mailbox (no SMTP configured).
    pub dev_mailbox_enabled: bool,
    /// The PDF notices' font, read on the first PDF.
    pub notice_font: Arc<notice_pdf::NoticeFontCache>,
}

/// JSON bodies: at most 64 KB, `application/json` required, every failure a problem+json.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .content_type_required(true)
        .content_type(|mime| mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        .error_handler(|error, _req| json_error(error).into())
}

fn json_error(error: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match error {
        E::ContentType => ApiError::UnsupportedMediaType,
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::PayloadTooLarge,
        E::Deserialize(e) => ApiError::MalformedBody(e.to_string()),
        other => ApiError::MalformedBody(other.to_string()),
    }
}

/// Path parameters that do not parse (an id that is not a UUID) name no resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_error, _req| ApiError::Domain(crate::domain::DomainError::NotFound).into())
}

/// Query strings that do not parse.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|error, _req| ApiError::MalformedQuery(error.to_string()).into())
}

/// Any route we do not have: 405 with `Allow` when the path exists for other methods, else 404.
/// The OpenAPI document lists every route (a test holds it to that), so it answers which
/// methods a path has.
pub async fn not_found(
    req: HttpRequest,
    api: web::Data<utoipa::openapi::OpenApi>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let allowed = allowed_methods(&api, req.path());
    if allowed.is_empty() {
        Err(ApiError::RouteNotFound)
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: allowed.join(", "),
        })
    }
}

/// The methods the document declares for the route matching `path`.
fn allowed_methods(api: &utoipa::openapi::OpenApi, path: &str) -> Vec<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    for (template, item) in &api.paths.paths {
        let pattern: Vec<&str> = template.split('/').collect();
        let matches = pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(p, s)| (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s);
        if !matches {
            continue;
        }
        let operations = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in operations {
            if present && !allowed.contains(&method) {
                allowed.push(method);
            }
        }
    }
    allowed
}
