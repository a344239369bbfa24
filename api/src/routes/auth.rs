//! `/api/v1/auth`: the office's login and password change.

use actix_web::dev::Payload;
use actix_web::{delete, post, web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::account::{ChangePasswordRequest, OfficeLoginRequest, OfficeSession};
use reissue_shared::dto::Problem;

use super::extract::{authenticated_bearer, ClientAddress};
use super::input::Input;
use super::responses::{
    JsonBodyRefused, LoginRefused, LoginThrottled, OfficeTokenRefused, Unavailable,
};
use super::AppState;
use crate::domain::accounts;
use crate::domain::sessions::{self, FullOfficeAccess, OfficeIdentity, SessionId};
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login).service(change_password).service(logout);
}

/// The office a valid `Authorization: Bearer <JWT>` of an open session names (also a
/// password-change-only token), and that session.
pub struct AuthenticatedOffice(pub OfficeIdentity, pub SessionId);

impl FromRequest for AuthenticatedOffice {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = authenticated_bearer(req, payload, |ctx, token| async move {
            sessions::authenticate_office(&ctx, &token).await
        });
        Box::pin(async move {
            let (identity, session) = authenticated.await?;
            Ok(Self(identity, session))
        })
    }
}

/// An office with full access: a valid office token that is not limited to the password
/// change. Refused (401) before the body is read, so a limited token learns nothing from it.
pub struct FullAccessOffice(pub FullOfficeAccess);

impl FromRequest for FullAccessOffice {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let office = AuthenticatedOffice::from_request(req, payload);
        Box::pin(async move { Ok(Self(office.await?.0.full_access()?)) })
    }
}

/// Logs an office in with its password or the temporary password from the notice.
#[utoipa::path(
    tag = "office",
    request_body = OfficeLoginRequest,
    responses(
        (status = 200, description = "Logged in; with the temporary password, `password_change_required`", body = OfficeSession),
        LoginRefused, LoginThrottled, JsonBodyRefused, Unavailable,
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientAddress,
    input: Input<OfficeLoginRequest>,
) -> Result<web::Json<OfficeSession>, ApiError> {
    Ok(web::Json(
        accounts::login(&state.ctx, input.0, client.caller()).await?,
    ))
}

/// Sets a new password (required after a login with the temporary password).
#[utoipa::path(
    tag = "office",
    request_body = ChangePasswordRequest,
    security(("office_token" = [])),
    responses(
        (status = 200, description = "Changed; a full session", body = OfficeSession),
        (status = 422, description = "`validation_failed` (see `errors`): wrong current password (counted as a failed login), or the new one breaks the rule", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "`account_locked`: too many wrong passwords in a row, at login or here (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, OfficeTokenRefused, Unavailable,
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    office: AuthenticatedOffice,
    client: ClientAddress,
    input: Input<ChangePasswordRequest>,
) -> Result<web::Json<OfficeSession>, ApiError> {
    Ok(web::Json(
        accounts::change_password(&state.ctx, office.0, input.0, client.caller()).await?,
    ))
}

/// Logs the office out: its session ends, and its token answers 401 from now on, on every
/// instance. A password-change-only token may log out too.
#[utoipa::path(
    tag = "office",
    security(("office_token" = [])),
    responses(
        (status = 204, description = "Logged out"),
        OfficeTokenRefused, Unavailable,
    )
)]
#[delete("/auth/session")]
pub async fn logout(
    state: web::Data<AppState>,
    office: AuthenticatedOffice,
) -> Result<HttpResponse, ApiError> {
    accounts::logout(&state.ctx, office.0, office.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
