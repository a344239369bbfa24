//! `/api/v1/admin/mfa`: a reviewer's enrolment of an authenticator app, with the session the
//! first login gives (one that opens nothing else).

use actix_web::dev::Payload;
use actix_web::{post, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::dto::Problem;
use reissue_shared::mfa::{MfaConfirmationRequest, MfaEnrolled, MfaEnrolment};

use super::admin::reviewer_in_session;
use super::input::Input;
use super::responses::{EnrolmentTokenRefused, JsonBodyRefused, Unavailable};
use super::AppState;
use crate::domain::enrolment;
use crate::domain::sessions::{Reviewer, SessionId, SessionScope};
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(start_enrolment).service(confirm_enrolment);
}

/// A reviewer whose session may only enrol the authenticator app (the first login's).
pub struct EnrollingReviewer(pub Reviewer, pub SessionId);

impl FromRequest for EnrollingReviewer {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = reviewer_in_session(req, payload, &[SessionScope::MfaEnrolment]);
        Box::pin(async move {
            let (reviewer, session) = authenticated.await?;
            Ok(Self(reviewer, session))
        })
    }
}

/// A new secret for the authenticator app: base32 for typing, the `otpauth://` URI and its QR
/// code as SVG. Asking again replaces a secret that was not confirmed.
#[utoipa::path(
    tag = "admin",
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "A new secret, not in force until a code confirms it", body = MfaEnrolment),
        (status = 409, description = "`invalid_state`: the app is enrolled already", body = Problem, content_type = "application/problem+json"),
        EnrolmentTokenRefused, Unavailable,
    )
)]
#[post("/admin/mfa/enrolment")]
pub async fn start_enrolment(
    state: web::Data<AppState>,
    reviewer: EnrollingReviewer,
) -> Result<web::Json<MfaEnrolment>, ApiError> {
    let enrolment = enrolment::start_enrolment(&state.ctx, reviewer.0).await?;
    Ok(web::Json(enrolment))
}

/// The app's first code confirms the secret: every later login needs a code. The enrolment
/// session ends; the answer is a console session and ten single-use recovery codes, shown
/// this once.
#[utoipa::path(
    tag = "admin",
    request_body = MfaConfirmationRequest,
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "Enrolled: a console session and the recovery codes", body = MfaEnrolled),
        (status = 409, description = "`invalid_state`: no enrolment was started, or it is confirmed already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): the code is not six digits, or not the app's current one", body = Problem, content_type = "application/problem+json"),
        EnrolmentTokenRefused, JsonBodyRefused, Unavailable,
    )
)]
#[post("/admin/mfa/enrolment/confirmation")]
pub async fn confirm_enrolment(
    state: web::Data<AppState>,
    reviewer: EnrollingReviewer,
    input: Input<MfaConfirmationRequest>,
) -> Result<web::Json<MfaEnrolled>, ApiError> {
    let enrolled =
        enrolment::confirm_enrolment(&state.ctx, reviewer.0, reviewer.1, input.0).await?;
    Ok(web::Json(enrolled))
}
