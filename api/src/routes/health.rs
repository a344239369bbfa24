//! `/healthz` (the process answers) and `/readyz` (the database is reachable).

use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "The database is unreachable", body = reissue_shared::dto::Problem, content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ctx.db.ping().await.map_err(|error| {
        // Whatever the cause, "not ready" is the answer, so a load balancer can act on it.
        crate::db::StorageError::Unavailable(error.to_string())
    })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}
