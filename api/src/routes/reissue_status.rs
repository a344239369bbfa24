//! `/api/v1/reissue-status`: 申請状況照会, an office's question where its submitted application
//! stands (受付番号 and 通知先メールアドレス; no token).

use actix_web::{post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::dto::Problem;
use reissue_shared::status_inquiry::{ApplicationStatusAnswer, StatusInquiryRequest};

use super::extract::ClientAddress;
use super::input::Input;
use super::responses::{JsonBodyRefused, RateLimited, Unavailable};
use super::AppState;
use crate::domain::status_inquiry;
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(inquire_status);
}

/// 申請状況照会: the status of the submitted application with this 受付番号, if it was made
/// with this 通知先メールアドレス. Any other pair (an unknown number, another address, an
/// application not submitted) is the same 404 `not_found`. Limited per client and per 受付番号.
#[utoipa::path(
    tag = "applicant",
    request_body = StatusInquiryRequest,
    responses(
        (status = 200, description = "Where the application stands", body = ApplicationStatusAnswer),
        (status = 404, description = "`not_found`: no submitted application of this 受付番号 and address (the same answer whichever does not match)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`validation_failed`, see `errors`)", body = Problem, content_type = "application/problem+json"),
        RateLimited, JsonBodyRefused, Unavailable,
    )
)]
#[post("/reissue-status")]
pub async fn inquire_status(
    state: web::Data<AppState>,
    client: ClientAddress,
    input: Input<StatusInquiryRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer = status_inquiry::inquire(&state.ctx, input.0, client.caller()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}
