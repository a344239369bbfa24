//! `/api/v1/admin`: the federation's own workflow (DESIGN.md "The federation's workflow"):
//! its settings, the return envelope, calls to the ledger's number, and the dispatch register.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use reissue_shared::admin::ApplicationDetail;
use reissue_shared::dto::Problem;
use reissue_shared::federation::{
    CallbackRequest, DispatchQuery, DispatchRegister, PrefectureSettings, PrefectureSettingsView,
};

use super::admin::AuthenticatedReviewer;
use super::input::Input;
use super::responses::{
    JsonBodyRefused, MalformedQuery, NotInPrefecture, ReviewerTokenRefused, TransitionRefused,
    Unavailable,
};
use super::AppState;
use crate::domain::csv::CsvEncoding;
use crate::domain::{federation, review};
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_settings)
        .service(put_settings)
        .service(envelope_request)
        .service(envelope_received)
        .service(record_callback)
        .service(acknowledge_ledger_change)
        .service(dispatch_register);
}

/// The reviewer's prefecture's settings: the federation's name, address and telephone for
/// notices and mails, the help desk, the return envelope, the call-back rule and the review
/// target. Every reviewer reads them; `editable` says whether they may change them.
#[utoipa::path(
    tag = "admin",
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The settings in force", body = PrefectureSettingsView),
        ReviewerTokenRefused, Unavailable,
    )
)]
#[get("/admin/prefecture-settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
) -> Result<web::Json<PrefectureSettingsView>, ApiError> {
    Ok(web::Json(
        federation::settings(&state.ctx, reviewer.0).await?,
    ))
}

/// A supervisor saves their own prefecture's settings (audited).
#[utoipa::path(
    tag = "admin",
    security(("reviewer_token" = [])),
    request_body = PrefectureSettings,
    responses(
        (status = 200, description = "Saved", body = PrefectureSettingsView),
        (status = 403, description = "`forbidden`: supervisors only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: each wrong field named", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ReviewerTokenRefused, Unavailable,
    )
)]
#[put("/admin/prefecture-settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    settings: Input<PrefectureSettings>,
) -> Result<web::Json<PrefectureSettingsView>, ApiError> {
    Ok(web::Json(
        federation::save_settings(&state.ctx, reviewer.0, settings.0).await?,
    ))
}

/// Asks the office for a return envelope (返信用封筒): the prefecture's instructions are
/// mailed to the notification address; `envelope` becomes `requested` (返信用封筒待ち).
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "Asked for; the mail is queued", body = ApplicationDetail),
        (status = 422, description = "`validation_failed`: the prefecture has no envelope instructions yet", body = Problem, content_type = "application/problem+json"),
        TransitionRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/envelope-request")]
pub async fn envelope_request(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::request_envelope(&state.ctx, reviewer.0, *id).await?,
    ))
}

/// The return envelope arrived: `envelope` becomes `received`. Until then, where the
/// prefecture requires one, confirming the approval answers 409 `envelope_missing`.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "Recorded", body = ApplicationDetail),
        TransitionRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/envelope-received")]
pub async fn envelope_received(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::receive_envelope(&state.ctx, reviewer.0, *id).await?,
    ))
}

/// A call to the telephone number of the office's ledger entry: reached or not, and a note.
/// Where the prefecture requires it, an approval needs a reached call (409 `callback_missing`).
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = CallbackRequest,
    responses(
        (status = 200, description = "Recorded", body = ApplicationDetail),
        (status = 422, description = "`validation_failed`: the note is too long, or the office is not in the ledger", body = Problem, content_type = "application/problem+json"),
        TransitionRefused, JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/callbacks")]
pub async fn record_callback(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    call: Input<CallbackRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::record_callback(&state.ctx, reviewer.0, *id, call.0).await?,
    ))
}

/// The reviewer has seen how the office's ledger entry changed since the submission (the
/// application's `ledger_change`): until then an approval answers 409 `ledger_changed`.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "Acknowledged", body = ApplicationDetail),
        TransitionRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/ledger-change-acknowledgement")]
pub async fn acknowledge_ledger_change(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::acknowledge_ledger_change(&state.ctx, reviewer.0, *id).await?,
    ))
}

/// The dispatch register (発送簿): the notices posted from `from` to `to` (the last 31 days by
/// default), with their registered-post numbers. With `Accept: text/csv` a CSV file, UTF-8
/// with BOM, or Shift_JIS with `encoding=shift_jis`.
#[utoipa::path(
    tag = "admin",
    params(DispatchQuery),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The register, or its CSV", body = DispatchRegister),
        (status = 422, description = "`validation_failed`: a date that is not YYYY-MM-DD, or a range backwards or longer than 366 days", body = Problem, content_type = "application/problem+json"),
        MalformedQuery, ReviewerTokenRefused, Unavailable,
    )
)]
#[get("/admin/dispatch-register")]
pub async fn dispatch_register(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    query: web::Query<DispatchQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let encoding = CsvEncoding::from_query(query.encoding.as_deref());
    let register = federation::dispatch_register(&state.ctx, reviewer.0, query).await?;
    if !super::csv::wanted(&request) {
        return Ok(HttpResponse::Ok().json(register));
    }
    let csv = federation::dispatch_csv(&register);
    Ok(super::csv::attachment(
        &format!("dispatch-register-{}-{}.csv", register.from, register.to),
        encoding.charset(),
        encoding.encode(&csv),
    ))
}
