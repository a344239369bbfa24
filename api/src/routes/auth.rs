//! `/api/v1/auth`: the office's login and password change.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{post, web, FromRequest, HttpRequest};
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::account::{ChangePasswordRequest, OfficeLoginRequest, OfficeSession};
use reissue_shared::dto::Problem;

use super::extract::verified_bearer;
use super::responses::{JsonBodyRefused, OfficeTokenRefused, Unavailable};
use super::AppState;
use crate::domain::accounts;
use crate::domain::sessions::OfficeIdentity;
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(change_password);
}

/// The office a valid `Authorization: Bearer <JWT>` names (also a password-change-only token).
pub struct AuthenticatedOffice(pub OfficeIdentity);

impl FromRequest for AuthenticatedOffice {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            verified_bearer(req, payload, |ctx, token, now| {
                ctx.sessions.verify_office(token, now)
            })
            .map(Self),
        )
    }
}

/// Logs an office in with its password or the temporary password from the notice.
#[utoipa::path(
    tag = "office",
    request_body = OfficeLoginRequest,
    responses(
        (status = 200, description = "Logged in; with the temporary password, `password_change_required`", body = OfficeSession),
        (status = 401, description = "`invalid_credentials` (same answer for an unknown user ID)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty fields", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "`account_locked`: 3 wrong passwords lock the user ID for 30 minutes", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, Unavailable,
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<OfficeLoginRequest>,
) -> Result<web::Json<OfficeSession>, ApiError> {
    let input = body.parse()?;
    Ok(web::Json(accounts::login(&state.ctx, input).await?))
}

/// Sets a new password (required after a login with the temporary password).
#[utoipa::path(
    tag = "office",
    request_body = ChangePasswordRequest,
    security(("office_token" = [])),
    responses(
        (status = 200, description = "Changed; a full session", body = OfficeSession),
        (status = 422, description = "Wrong current password, or the new one breaks the rule", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, OfficeTokenRefused, Unavailable,
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    office: AuthenticatedOffice,
    body: web::Json<ChangePasswordRequest>,
) -> Result<web::Json<OfficeSession>, ApiError> {
    let input = body.parse()?;
    Ok(web::Json(
        accounts::change_password(&state.ctx, office.0, input).await?,
    ))
}
