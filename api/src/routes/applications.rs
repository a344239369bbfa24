//! `/api/v1/reissue-applications`: the applicant's flow (manual steps 6–11).

use actix_web::middleware::from_fn;
use actix_web::{get, post, put, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use reissue_shared::dto::{
    ApplicationView, ChoosePrefectureRequest, CodeSent, CreateApplicationRequest,
    CreatedApplication, Problem, Submitted, Verified, VerifyCodeRequest,
};

use super::extract::{BearerToken, ClientAddress};
use super::input::Input;
use super::rate_limit_headers::{with_application_limits, with_attempts_left};
use super::responses::{
    ApplicantTokenRefused, ApplicationExpired, JsonBodyRefused, RateLimited, Unavailable,
};
use super::AppState;
use crate::domain::{reissue, DomainError};
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_application)
        .service(get_application)
        .service(choose_prefecture)
        .service(resend_code)
        .service(verify_code)
        .service(submit_application);
}

/// Manual step 6: starts an application with 事業所番号 and 通知先メールアドレス (twice).
/// Returns the bearer token for this application, once.
#[utoipa::path(
    tag = "applicant",
    request_body = CreateApplicationRequest,
    responses(
        (status = 201, description = "Created; keep the token", body = CreatedApplication),
        (status = 422, description = "Invalid fields (`validation_failed`, see `errors`)", body = Problem, content_type = "application/problem+json"),
        RateLimited, JsonBodyRefused, Unavailable,
    )
)]
#[post(
    "/reissue-applications",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn create_application(
    state: web::Data<AppState>,
    client: ClientAddress,
    input: Input<CreateApplicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = reissue::create(&state.ctx, input.0, client.caller()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/reissue-applications/{}", created.id),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .json(created))
}

/// The application as its applicant may see it.
#[utoipa::path(
    tag = "applicant",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("application_token" = [])),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        ApplicantTokenRefused, Unavailable,
    )
)]
#[get("/reissue-applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    token: BearerToken,
    client: ClientAddress,
) -> Result<HttpResponse, ApiError> {
    let view = reissue::view(&state.ctx, *id, token.0, client.caller()).await?;
    let mut response = HttpResponse::Ok();
    with_application_limits(
        &mut response,
        &state.ctx.limits,
        view.codes_remaining,
        view.attempts_left,
    );
    Ok(response.json(view))
}

/// Manual step 7: the billing prefecture. Checks the office in that prefecture's ledger and
/// mails a 4-digit code valid for 30 minutes.
#[utoipa::path(
    tag = "applicant",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("application_token" = [])),
    request_body = ChoosePrefectureRequest,
    responses(
        (status = 200, description = "Code mailed", body = CodeSent),
        (status = 409, description = "`already_submitted`; `application_superseded`: a newer application of the office replaced it; `invalid_state`: withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): invalid prefecture; `office_not_in_ledger`, `office_not_care`, `agent_not_allowed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` or `code_limit_reached`", body = Problem, content_type = "application/problem+json"),
        ApplicationExpired, JsonBodyRefused, ApplicantTokenRefused, Unavailable,
    )
)]
#[put(
    "/reissue-applications/{id}/prefecture",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn choose_prefecture(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    token: BearerToken,
    client: ClientAddress,
    prefecture: Input<ChoosePrefectureRequest>,
) -> Result<HttpResponse, ApiError> {
    let sent =
        reissue::choose_prefecture(&state.ctx, *id, token.0, prefecture.0, client.caller()).await?;
    Ok(code_sent(&state, sent))
}

/// A mailed code, with the codes left to the application (`RateLimit` "codes") and the tries of
/// the new code ("attempts").
fn code_sent(state: &AppState, sent: CodeSent) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    let limits = &state.ctx.limits;
    with_application_limits(
        &mut response,
        limits,
        sent.codes_remaining,
        Some(limits.code_max_attempts),
    );
    response.json(sent)
}

/// 確認コードを再送信: mails a new code; the previous one stops working.
#[utoipa::path(
    tag = "applicant",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("application_token" = [])),
    responses(
        (status = 200, description = "New code mailed", body = CodeSent),
        (status = 409, description = "`invalid_state`: prefecture not chosen, already verified, or withdrawn; `already_submitted`; `application_superseded`: a newer application of the office replaced it", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (see Retry-After) or `code_limit_reached`", body = Problem, content_type = "application/problem+json"),
        ApplicationExpired, ApplicantTokenRefused, Unavailable,
    )
)]
#[post(
    "/reissue-applications/{id}/code",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn resend_code(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    token: BearerToken,
    client: ClientAddress,
) -> Result<HttpResponse, ApiError> {
    let sent = reissue::resend_code(&state.ctx, *id, token.0, client.caller()).await?;
    Ok(code_sent(&state, sent))
}

/// Manual step 9: the 4-digit code from the mail.
#[utoipa::path(
    tag = "applicant",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("application_token" = [])),
    request_body = VerifyCodeRequest,
    responses(
        (status = 200, description = "Verified; what 【送信確認】 shows", body = Verified),
        (status = 409, description = "`no_active_code`: none sent yet; `invalid_state`: already verified, or withdrawn; `already_submitted`; `application_superseded`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`code_expired` or `application_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, or `wrong_code` with `attempts_left`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`code_locked` (too many wrong tries) or `rate_limited`", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ApplicantTokenRefused, Unavailable,
    )
)]
#[post(
    "/reissue-applications/{id}/verification",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn verify_code(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    token: BearerToken,
    client: ClientAddress,
    code: Input<VerifyCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    match reissue::verify(&state.ctx, *id, token.0, code.0, client.caller()).await {
        Ok(verified) => Ok(HttpResponse::Ok().json(verified)),
        // A wrong code says, beside its problem's `attempts_left`, what is left of the code's
        // tries in the RateLimit fields too.
        Err(DomainError::WrongCode { attempts_left }) => {
            let mut problem =
                actix_web::ResponseError::error_response(&ApiError::from(DomainError::WrongCode {
                    attempts_left,
                }));
            with_attempts_left(problem.headers_mut(), &state.ctx.limits, attempts_left);
            Ok(problem)
        }
        Err(other) => Err(other.into()),
    }
}

/// Manual steps 10–11: 送信. Once, and only after verification.
#[utoipa::path(
    tag = "applicant",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("application_token" = [])),
    responses(
        (status = 200, description = "Submitted, with the reference number", body = Submitted),
        (status = 409, description = "`invalid_state` (not verified, or withdrawn), `already_submitted` or `application_superseded`", body = Problem, content_type = "application/problem+json"),
        ApplicationExpired, ApplicantTokenRefused, Unavailable,
    )
)]
#[post(
    "/reissue-applications/{id}/submission",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn submit_application(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    token: BearerToken,
    client: ClientAddress,
) -> Result<web::Json<Submitted>, ApiError> {
    Ok(web::Json(
        reissue::submit(&state.ctx, *id, token.0, client.caller()).await?,
    ))
}
