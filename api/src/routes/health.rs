//! `/healthz` (the process answers) and `/readyz` (the database is reachable) on the public
//! port, and `/metrics` (Prometheus) on its own listener (`REISSUE_METRICS_BIND`, loopback by
//! default): what it tells (traffic, refusals by limit, the mail backlog) is for operators.

use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use crate::error::ApiError;

/// Registers the routes of the public port.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// Registers the metrics listener's only route.
pub fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics);
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
        (status = 503, description = "`service_unavailable`: the database is unreachable", body = reissue_shared::dto::Problem, content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ctx.check_storage().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

/// Prometheus metrics: requests by route and status, latency histograms, mail delivery tries,
/// rate-limit refusals, and the outbox backlog read from the database at each scrape. (Not in
/// the OpenAPI document: it is not on the API's port.)
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let gauges = crate::domain::outbox::backlog(&state.ctx).await?;
    let text = crate::metrics::render(&gauges, state.ctx.clock.now());
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
