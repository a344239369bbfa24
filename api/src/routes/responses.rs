//! The problem+json answers that many operations share, declared once as utoipa response groups
//! and named in each operation's `#[utoipa::path(responses(...))]`. What only one operation
//! answers (its 409, 410, 422 or 429 with their codes) stays in that operation's attribute.
//!
//! These types only document: the answers themselves are `ApiError`'s. Each status stays in the
//! document, so the fuzzing still holds the server to it.

use reissue_shared::dto::Problem;
use utoipa::IntoResponses;

/// Every operation that reaches storage.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "`service_unavailable`: the database is unavailable, or the password queue is full (see Retry-After): try again shortly",
    content_type = "application/problem+json"
)]
pub struct Unavailable(pub Problem);

/// Every operation with a JSON body: what `routes::json_config` refuses before the handler runs.
#[derive(IntoResponses)]
pub enum JsonBodyRefused {
    /// `malformed_body`: malformed JSON, or not the expected shape
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// `payload_too_large`: body over 64 KB
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// `unsupported_media_type`: not application/json
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
}

/// Operations with query parameters (`routes::query_config`).
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "`malformed_body`: malformed query (e.g. a page out of range)",
    content_type = "application/problem+json"
)]
pub struct MalformedQuery(pub Problem);

/// The applicant's operations on `/reissue-applications/{id}` (`application_token`).
#[derive(IntoResponses)]
pub enum ApplicantTokenRefused {
    /// `unauthorized`: no bearer token
    #[response(status = 401, content_type = "application/problem+json")]
    Missing(Problem),
    /// `application_not_found`: unknown id, or the token is for another application
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// The operations on `/password-resets/{id}` (`reset_token`).
#[derive(IntoResponses)]
pub enum ResetTokenRefused {
    /// `unauthorized`: no token
    #[response(status = 401, content_type = "application/problem+json")]
    Missing(Problem),
    /// `application_not_found`: unknown reset or wrong token
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// The office's operations (`office_token`).
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "`unauthorized`: no valid office token",
    content_type = "application/problem+json"
)]
pub struct OfficeTokenRefused(pub Problem);

/// The reviewers' operations (`reviewer_token`).
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "`unauthorized`: no valid reviewer token",
    content_type = "application/problem+json"
)]
pub struct ReviewerTokenRefused(pub Problem);

/// The reviewers' operations on `/admin/applications/{id}`: a reviewer sees only the
/// applications of their prefecture.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "`application_not_found`: unknown, or of another prefecture",
    content_type = "application/problem+json"
)]
pub struct NotInPrefecture(pub Problem);

/// The reviewers' status changes: the application is not in a status that allows it.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "`transition_refused`",
    content_type = "application/problem+json"
)]
pub struct TransitionRefused(pub Problem);

/// An approval and its confirmation: the status, and the conditions checked before the notice
/// may be issued (`domain::review::decide`, `confirm`).
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "`transition_refused`: the status does not allow it; `ledger_changed`: the office's ledger entry changed since the submission (acknowledge it first); `office_not_in_ledger`: the office was removed from the ledger; `callback_missing`: the prefecture requires a reached call to the ledger's number; `envelope_missing`: the prefecture requires the return envelope",
    content_type = "application/problem+json"
)]
pub struct ApprovalRefused(pub Problem);

/// The applicant's steps after creation: an application past its lifetime.
#[derive(IntoResponses)]
#[response(
    status = 410,
    description = "`application_expired`",
    content_type = "application/problem+json"
)]
pub struct ApplicationExpired(pub Problem);

/// Operations with a per-client or per-address budget.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "`rate_limited` (see Retry-After)",
    content_type = "application/problem+json"
)]
pub struct RateLimited(pub Problem);

/// The password logins (office and reviewer): one answer for an unknown ID and a wrong
/// password.
#[derive(IntoResponses)]
pub enum LoginRefused {
    /// `invalid_credentials` (the same answer for an unknown ID)
    #[response(status = 401, content_type = "application/problem+json")]
    InvalidCredentials(Problem),
    /// `validation_failed`: empty fields (see `errors`)
    #[response(status = 422, content_type = "application/problem+json")]
    Empty(Problem),
    /// `account_locked` after too many wrong passwords in a row (see Retry-After)
    #[response(status = 423, content_type = "application/problem+json")]
    Locked(Problem),
}

/// The reviewers' login: the password as for offices, then the second factor.
#[derive(IntoResponses)]
pub enum ReviewerLoginRefused {
    /// `invalid_credentials` (the same answer for an unknown or disabled ID); `mfa_required`
    /// (the password was right and the reviewer is enrolled: send `totp_code` or
    /// `recovery_code`); `mfa_invalid` (a wrong or used code, counted as a failed login)
    #[response(status = 401, content_type = "application/problem+json")]
    Refused(Problem),
    /// `validation_failed`: empty fields, or a malformed code (see `errors`)
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// `account_locked` after too many wrong passwords or codes in a row (see Retry-After)
    #[response(status = 423, content_type = "application/problem+json")]
    Locked(Problem),
}

/// The enrolment of a reviewer's authenticator app (`reviewer_token` of a session that may
/// only enrol).
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "`unauthorized`: no valid reviewer token of a session that may enrol (the console's own session is refused too)",
    content_type = "application/problem+json"
)]
pub struct EnrolmentTokenRefused(pub Problem);

/// The 6-digit security codes (security e-mail registration and password reset).
#[derive(IntoResponses)]
pub enum SecurityCodeRefused {
    /// `no_active_code` (none sent, or already used)
    #[response(status = 409, content_type = "application/problem+json")]
    NoActiveCode(Problem),
    /// `code_expired`
    #[response(status = 410, content_type = "application/problem+json")]
    Expired(Problem),
    /// `wrong_code` with `attempts_left`; `validation_failed`: not 6 digits
    #[response(status = 422, content_type = "application/problem+json")]
    Wrong(Problem),
    /// `code_locked` (too many wrong tries)
    #[response(status = 429, content_type = "application/problem+json")]
    Locked(Problem),
}

/// The password logins' throttles (`REISSUE_LOGINS_PER_CLIENT`, `REISSUE_LOGINS_GLOBAL`).
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "`rate_limited`: too many login attempts from this client or in all (see Retry-After); a full password queue is a 503 with Retry-After",
    content_type = "application/problem+json"
)]
pub struct LoginThrottled(pub Problem);
