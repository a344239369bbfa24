//! The security-e-mail path: `/api/v1/account/security-email` (a logged-in office registers
//! its address) and `/api/v1/password-resets` (an office that lost its password resets it).

use actix_web::middleware::from_fn;
use actix_web::{post, put, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::account::{
    NewPasswordRequest, OfficeSession, PasswordResetRequest, PasswordResetStarted,
    SecurityCodeRequest, SecurityCodeSent, SecurityEmailRegistered, SecurityEmailRequest,
};
use reissue_shared::dto::Problem;

use super::auth::FullAccessOffice;
use super::extract::{BearerToken, ClientAddress};
use super::input::Input;
use super::responses::{
    JsonBodyRefused, OfficeTokenRefused, RateLimited, ResetTokenRefused, SecurityCodeRefused,
    Unavailable,
};
use super::AppState;
use crate::domain::{password_reset, security_email};
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(request_registration)
        .service(confirm_registration)
        .service(start_reset)
        .service(verify_reset)
        .service(finish_reset);
}

/// Mails a 6-digit code (valid 10 minutes) to the new セキュリティ用メールアドレス. Needs the
/// current password; once the code confirms the new address, an address it replaces is told.
#[utoipa::path(
    tag = "office",
    request_body = SecurityEmailRequest,
    security(("office_token" = [])),
    responses(
        (status = 200, description = "Code mailed", body = SecurityCodeSent),
        (status = 401, description = "`unauthorized`: no valid office token (or one limited to the password change)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): invalid address or confirmation, or a missing or wrong current password (a wrong one counts as a failed login)", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "`account_locked`: too many wrong passwords in a row, at login or here (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        RateLimited, JsonBodyRefused, Unavailable,
    )
)]
#[put("/account/security-email")]
pub async fn request_registration(
    state: web::Data<AppState>,
    office: FullAccessOffice,
    client: ClientAddress,
    input: Input<SecurityEmailRequest>,
) -> Result<web::Json<SecurityCodeSent>, ApiError> {
    Ok(web::Json(
        security_email::request_registration(&state.ctx, office.0, input.0, client.caller())
            .await?,
    ))
}

/// The code from the mail registers the address.
#[utoipa::path(
    tag = "office",
    request_body = SecurityCodeRequest,
    security(("office_token" = [])),
    responses(
        (status = 200, description = "Registered", body = SecurityEmailRegistered),
        SecurityCodeRefused, JsonBodyRefused, OfficeTokenRefused, Unavailable,
    )
)]
#[post("/account/security-email/verification")]
pub async fn confirm_registration(
    state: web::Data<AppState>,
    office: FullAccessOffice,
    input: Input<SecurityCodeRequest>,
) -> Result<web::Json<SecurityEmailRegistered>, ApiError> {
    Ok(web::Json(
        security_email::confirm_registration(&state.ctx, office.0, input.0).await?,
    ))
}

/// Starts a reset with user ID and security e-mail; 202 with an id and token whether or not
/// they match (a code is mailed only when they do).
#[utoipa::path(
    tag = "office",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted (the same answer for any pair)", body = PasswordResetStarted),
        (status = 422, description = "`validation_failed` (see `errors`): empty user ID or malformed address", body = Problem, content_type = "application/problem+json"),
        RateLimited, JsonBodyRefused, Unavailable,
    )
)]
#[post("/password-resets", wrap = "from_fn(super::idempotency::idempotent)")]
pub async fn start_reset(
    state: web::Data<AppState>,
    client: ClientAddress,
    input: Input<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let started = password_reset::start(&state.ctx, input.0, client.caller()).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(started))
}

/// The code from the mail.
#[utoipa::path(
    tag = "office",
    params(("id" = String, Path, description = "Reset id")),
    request_body = SecurityCodeRequest,
    security(("reset_token" = [])),
    responses(
        (status = 204, description = "Verified"),
        SecurityCodeRefused, JsonBodyRefused, ResetTokenRefused, Unavailable,
    )
)]
#[post(
    "/password-resets/{id}/verification",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn verify_reset(
    state: web::Data<AppState>,
    id: web::Path<String>,
    token: BearerToken,
    input: Input<SecurityCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    password_reset::verify(&state.ctx, id.into_inner(), token.0, input.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The new password, after a verified code.
#[utoipa::path(
    tag = "office",
    params(("id" = String, Path, description = "Reset id")),
    request_body = NewPasswordRequest,
    security(("reset_token" = [])),
    responses(
        (status = 200, description = "Password set; logged in", body = OfficeSession),
        (status = 409, description = "`invalid_state`: the code was not verified; `no_active_code`: the reset is used", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`code_expired`: not finished within 10 minutes of the verification", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): the new password breaks the rule", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ResetTokenRefused, Unavailable,
    )
)]
#[post(
    "/password-resets/{id}/password",
    wrap = "from_fn(super::idempotency::idempotent)"
)]
pub async fn finish_reset(
    state: web::Data<AppState>,
    id: web::Path<String>,
    token: BearerToken,
    input: Input<NewPasswordRequest>,
) -> Result<web::Json<OfficeSession>, ApiError> {
    Ok(web::Json(
        password_reset::finish(&state.ctx, id.into_inner(), token.0, input.0).await?,
    ))
}
