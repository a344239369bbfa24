//! `/api/v1/admin`: the federation reviewers' API. Every route but the login needs a reviewer
//! token; an application of another prefecture answers 404.

use actix_web::dev::Payload;
use actix_web::{delete, get, post, web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use reissue_shared::admin::{
    page_number, AdminSession, ApplicationDetail, ApplicationList, ApplicationQuery, AuditLogPage,
    ConfirmationRequest, DecisionRequest, LoginRequest, NoteRequest, PageQuery, ReprintRequest,
    TextRequest, WithdrawalRequest, MAX_PAGE,
};
use reissue_shared::dto::Problem;
use reissue_shared::federation::NoticeMailedRequest;

use super::extract::{authenticated_bearer, ClientAddress};
use super::input::{Input, OptionalInput};
use super::responses::{
    ApprovalRefused, JsonBodyRefused, LoginThrottled, MalformedQuery, NotInPrefecture,
    ReviewerLoginRefused, ReviewerTokenRefused, TransitionRefused, Unavailable,
};
use super::AppState;
use crate::domain::review;
use crate::domain::reviewers;
use crate::domain::sessions::{self, Reviewer, SessionId, SessionScope};
use crate::error::ApiError;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_session)
        .service(end_session)
        .service(list_applications)
        .service(get_application)
        .service(start_review)
        .service(decide)
        .service(confirm)
        .service(request_reprint)
        .service(confirm_reprint)
        .service(withdraw)
        .service(add_note)
        .service(print_notice)
        .service(print_notice_pdf)
        .service(print_unposted_notices_pdf)
        .service(notice_mailed)
        .service(audit_log)
        .service(print_unposted_notices);
}

/// Every approved notice of the prefecture not yet marked 郵送済, one A4 page each, to print
/// in one go.
#[utoipa::path(
    tag = "admin",
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The notices, HTML with A4 print style (empty when none wait)", content_type = "text/html"),
        ReviewerTokenRefused, Unavailable,
    )
)]
#[get("/admin/notices")]
pub async fn print_unposted_notices(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
) -> Result<actix_web::HttpResponse, ApiError> {
    let letters = review::unposted_notices(&state.ctx, reviewer.0).await?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(super::notice_html::render(&letters)))
}

/// [`print_unposted_notices`] as one PDF: an A4 page per notice waiting to be posted (one
/// page saying so when none wait), the address in the window of a 長形3号 envelope.
#[utoipa::path(
    tag = "admin",
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The notices, an A4 PDF of one page each", content_type = "application/pdf"),
        (status = 500, description = "`internal_error`: the notice font (`REISSUE_NOTICE_FONT`) cannot be read", body = Problem, content_type = "application/problem+json"),
        ReviewerTokenRefused, Unavailable,
    )
)]
#[get("/admin/notices.pdf")]
pub async fn print_unposted_notices_pdf(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
) -> Result<actix_web::HttpResponse, ApiError> {
    // The font first: without it nothing is printed, so nothing is recorded as printed.
    let font = state.notice_font.get().await?;
    let letters = review::unposted_notices(&state.ctx, reviewer.0).await?;
    let pdf = super::notice_pdf::render(font, letters).await?;
    Ok(super::notice_pdf::response("notices.pdf", pdf))
}

/// This prefecture's audit log, newest first; with `Accept: text/csv` the whole log as CSV.
/// Supervisors only: a reviewer reads each application's history in its detail.
#[utoipa::path(
    tag = "admin",
    params(PageQuery),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "A page of entries, or the CSV export", body = AuditLogPage),
        (status = 403, description = "`forbidden`: the audit log is for supervisors", body = Problem, content_type = "application/problem+json"),
        MalformedQuery, ReviewerTokenRefused, Unavailable,
    )
)]
#[get("/admin/audit-log")]
pub async fn audit_log(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    query: web::Query<PageQuery>,
    request: HttpRequest,
) -> Result<actix_web::HttpResponse, ApiError> {
    if super::csv::wanted(&request) {
        let csv = review::export_audit_log(&state.ctx, reviewer.0).await?;
        return Ok(super::csv::attachment("audit-log.csv", "utf-8", csv));
    }
    let page = page_number(query.page).ok_or_else(page_out_of_range)?;
    let page = review::audit_log(&state.ctx, reviewer.0, page).await?;
    Ok(actix_web::HttpResponse::Ok().json(page))
}

/// The reviewer a valid `Authorization: Bearer <JWT>` of an open console session names, and
/// that session. (A session that may only enrol the authenticator app is refused: 401.)
pub struct AuthenticatedReviewer(pub Reviewer, pub SessionId);

impl FromRequest for AuthenticatedReviewer {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = reviewer_in_session(req, payload, &[SessionScope::Console]);
        Box::pin(async move {
            let (reviewer, session) = authenticated.await?;
            Ok(Self(reviewer, session))
        })
    }
}

/// Any open session of a reviewer: the console's, or one that may only enrol (what the logout
/// takes).
pub struct AnyReviewerSession(pub Reviewer, pub SessionId);

impl FromRequest for AnyReviewerSession {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let scopes = &[SessionScope::Console, SessionScope::MfaEnrolment];
        let authenticated = reviewer_in_session(req, payload, scopes);
        Box::pin(async move {
            let (reviewer, session) = authenticated.await?;
            Ok(Self(reviewer, session))
        })
    }
}

/// The reviewer and session of the request's token, if its session is open with one of
/// `scopes`.
pub fn reviewer_in_session(
    req: &HttpRequest,
    payload: &mut Payload,
    scopes: &'static [SessionScope],
) -> LocalBoxFuture<'static, Result<(Reviewer, SessionId), ApiError>> {
    authenticated_bearer(req, payload, move |ctx, token| async move {
        sessions::authenticate_reviewer(&ctx, &token, scopes).await
    })
}

/// Logs a reviewer in: a short-lived token carrying role and prefecture.
#[utoipa::path(
    tag = "admin",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; a reviewer without an authenticator app gets `mfa_enrolment_required` and a token that opens only `/admin/mfa/*` and the logout", body = AdminSession),
        ReviewerLoginRefused, LoginThrottled, JsonBodyRefused, Unavailable,
    )
)]
#[post("/admin/sessions")]
pub async fn create_session(
    state: web::Data<AppState>,
    client: ClientAddress,
    input: Input<LoginRequest>,
) -> Result<web::Json<AdminSession>, ApiError> {
    Ok(web::Json(
        reviewers::login(&state.ctx, input.0, client.caller()).await?,
    ))
}

/// Logs the reviewer out: the session ends, and its token answers 401 from now on, on every
/// instance.
#[utoipa::path(
    tag = "admin",
    security(("reviewer_token" = [])),
    responses(
        (status = 204, description = "Logged out"),
        ReviewerTokenRefused, Unavailable,
    )
)]
#[delete("/admin/sessions/current")]
pub async fn end_session(
    state: web::Data<AppState>,
    reviewer: AnyReviewerSession,
) -> Result<HttpResponse, ApiError> {
    reviewers::logout(&state.ctx, reviewer.0, reviewer.1).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The queue of the reviewer's prefecture, oldest first, 50 per page, with counts by status.
#[utoipa::path(
    tag = "admin",
    params(ApplicationQuery),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The queue", body = ApplicationList),
        MalformedQuery, ReviewerTokenRefused, Unavailable,
    )
)]
#[get("/admin/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    query: web::Query<ApplicationQuery>,
) -> Result<web::Json<ApplicationList>, ApiError> {
    let query = query.into_inner();
    let page = page_number(query.page).ok_or_else(page_out_of_range)?;
    Ok(web::Json(
        review::list(&state.ctx, reviewer.0, query, page).await?,
    ))
}

fn page_out_of_range() -> ApiError {
    ApiError::MalformedQuery(format!("page は 1 から {MAX_PAGE} までです"))
}

/// An application with its ledger entry, notes, history and the office's other applications.
#[utoipa::path(
    tag = "admin",
    operation_id = "get_application_detail",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The application", body = ApplicationDetail),
        ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[get("/admin/applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::detail(&state.ctx, reviewer.0, *id).await?,
    ))
}

/// 審査開始: `submitted` → `in_review`.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "Now in review", body = ApplicationDetail),
        TransitionRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/review")]
pub async fn start_review(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::start_review(&state.ctx, reviewer.0, *id).await?,
    ))
}

/// 承認 or 却下 of an application in review; a rejection needs a reason. With four-eyes
/// issuance (`REISSUE_FOUR_EYES`, on by default) an approval leads to `awaiting_confirmation`
/// (二次承認待ち): no temporary password, notice or result mail exists until another reviewer
/// of the prefecture confirms it (`POST .../confirmation`).
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "Decided (approved, awaiting_confirmation or rejected)", body = ApplicationDetail),
        (status = 422, description = "`validation_failed` (see `errors`): unknown decision, or no reason for a rejection", body = Problem, content_type = "application/problem+json"),
        ApprovalRefused, JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    decision: Input<DecisionRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::decide(&state.ctx, reviewer.0, *id, decision.0).await?,
    ))
}

/// 二次承認 of an `awaiting_confirmation` application by another reviewer of the prefecture:
/// `{confirm: true}` → `approved` (the temporary password, the printable notice and the
/// result mail); `{confirm: false, reason}` → back to `in_review`, the reason in the history.
/// The approver themself is refused (403 `same_reviewer`).
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = ConfirmationRequest,
    responses(
        (status = 200, description = "Confirmed (approved) or sent back (in_review)", body = ApplicationDetail),
        (status = 403, description = "`same_reviewer`: the approver cannot confirm their own approval", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): no `confirm`, or no reason to send back", body = Problem, content_type = "application/problem+json"),
        ApprovalRefused, JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/confirmation")]
pub async fn confirm(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    confirmation: Input<ConfirmationRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::confirm(&state.ctx, reviewer.0, *id, confirmation.0).await?,
    ))
}

/// Asks to print a posted notice again (e.g. it came back undelivered), with the reason.
/// Printing it mints a new temporary password, so another reviewer of the prefecture must
/// confirm the request (`POST .../reprint-confirmation`) before the notice prints again.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = ReprintRequest,
    responses(
        (status = 200, description = "Requested: `reprint_request` waits for another reviewer", body = ApplicationDetail),
        (status = 409, description = "`transition_refused`: not approved, the notice was not posted yet (it prints as it is), or a request already waits", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): no reason", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/reprint-request")]
pub async fn request_reprint(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    reason: Input<ReprintRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::request_reprint(&state.ctx, reviewer.0, *id, reason.0).await?,
    ))
}

/// Another reviewer of the prefecture answers a reprint request: `{confirm: true}` issues a
/// new temporary password and notice (the old one stops working; the notice prints from
/// `GET .../notice`) and alerts the office's security e-mail; `{confirm: false, reason}` ends
/// the request, the reason in the history. The requester themself is refused (403
/// `same_reviewer`).
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = ConfirmationRequest,
    responses(
        (status = 200, description = "Confirmed (a new notice waits to be printed) or sent back", body = ApplicationDetail),
        (status = 403, description = "`same_reviewer`: the requester cannot confirm their own request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`transition_refused`: no reprint request waits", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (see `errors`): no `confirm`, or no reason to send back", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/reprint-confirmation")]
pub async fn confirm_reprint(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    confirmation: Input<ConfirmationRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::confirm_reprint(&state.ctx, reviewer.0, *id, confirmation.0).await?,
    ))
}

/// 取下げ of a submitted application, with the reason.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = TextRequest,
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationDetail),
        (status = 422, description = "`validation_failed` (see `errors`): no reason", body = Problem, content_type = "application/problem+json"),
        TransitionRefused, JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/withdrawal")]
pub async fn withdraw(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    reason: Input<WithdrawalRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::withdraw(&state.ctx, reviewer.0, *id, reason.0).await?,
    ))
}

/// The printable A4 notice 電子請求ログイン情報再発行通知書 of an approved application. Printing
/// again after 郵送済 issues a new temporary password and voids the old one: with four-eyes
/// issuance only after a confirmed reprint request (until then 409
/// `reprint_confirmation_required`).
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The notice, HTML with A4 print style", content_type = "text/html"),
        (status = 409, description = "`transition_refused`: not approved; `reprint_confirmation_required`: posted, and no confirmed reprint request", body = Problem, content_type = "application/problem+json"),
        ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[get("/admin/applications/{id}/notice")]
pub async fn print_notice(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let letter = review::notice(&state.ctx, reviewer.0, *id).await?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // It carries a password: never cache it.
        .insert_header(("Cache-Control", "no-store"))
        .body(super::notice_html::render(std::slice::from_ref(&letter))))
}

/// [`print_notice`] as a PDF: one A4 page, the address in the window of a 長形3号 envelope;
/// printed, audited and issued exactly as the HTML notice.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    responses(
        (status = 200, description = "The notice, an A4 PDF", content_type = "application/pdf"),
        (status = 409, description = "`transition_refused`: not approved; `reprint_confirmation_required`: posted, and no confirmed reprint request", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "`internal_error`: the notice font (`REISSUE_NOTICE_FONT`) cannot be read", body = Problem, content_type = "application/problem+json"),
        ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[get("/admin/applications/{id}/notice.pdf")]
pub async fn print_notice_pdf(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
) -> Result<actix_web::HttpResponse, ApiError> {
    // The font first: without it nothing is printed, so no password is issued or audited.
    let font = state.notice_font.get().await?;
    let letter = review::notice(&state.ctx, reviewer.0, *id).await?;
    let filename = format!("notice-{}.pdf", letter.reference_number);
    let pdf = super::notice_pdf::render(font, vec![letter]).await?;
    Ok(super::notice_pdf::response(&filename, pdf))
}

/// 郵送済: the notice was posted, optionally with the registered post's 追跡番号 and the day
/// (today when absent); the dispatch register (発送簿) gets its line. The body may be left out.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body(content = Option<NoticeMailedRequest>, description = "Optional: the tracking number and the day"),
    responses(
        (status = 200, description = "Marked as posted", body = ApplicationDetail),
        (status = 409, description = "`transition_refused`: no notice waiting to be posted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a tracking number that is not 11–13 digits or whose check digit is wrong, or a day in the future or before the notice", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/notice-mailed")]
pub async fn notice_mailed(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    posted: OptionalInput<NoticeMailedRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::mark_notice_mailed(&state.ctx, reviewer.0, *id, posted.0).await?,
    ))
}

/// A call note.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("reviewer_token" = [])),
    request_body = TextRequest,
    responses(
        (status = 200, description = "Noted", body = ApplicationDetail),
        (status = 422, description = "`validation_failed` (see `errors`): empty or too long a note", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefused, ReviewerTokenRefused, NotInPrefecture, Unavailable,
    )
)]
#[post("/admin/applications/{id}/notes")]
pub async fn add_note(
    state: web::Data<AppState>,
    reviewer: AuthenticatedReviewer,
    id: web::Path<Uuid>,
    text: Input<NoteRequest>,
) -> Result<web::Json<ApplicationDetail>, ApiError> {
    Ok(web::Json(
        review::add_note(&state.ctx, reviewer.0, *id, text.0).await?,
    ))
}
