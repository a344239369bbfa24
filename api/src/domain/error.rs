//! Errors of the domain layer: every outcome a request can meet, without HTTP.

use reissue_shared::{FieldError, OfficeNumber, PrefectureCode};

use crate::db::StorageError;

/// Why a domain operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input fields are invalid.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// No such application, or the token does not open it.
    #[error("application not found")]
    NotFound,
    /// 申請状況照会: no submitted application has this 受付番号 and address (which of the two
    /// is not said).
    #[error("no application of this reference number and address")]
    InquiryNotFound,
    /// No bearer token was given.
    #[error("missing credentials")]
    Unauthorized,
    /// A reviewer's or office's session token is missing, invalid or expired.
    #[error("no valid session")]
    SessionInvalid,
    /// The office is not in the chosen prefecture's ledger.
    #[error("office not in ledger")]
    OfficeNotInLedger {
        /// The office number.
        office_number: OfficeNumber,
        /// The chosen prefecture.
        prefecture: PrefectureCode,
    },
    /// The office is not a care office.
    #[error("office is not a care office")]
    OfficeNotCare {
        /// The office number.
        office_number: OfficeNumber,
        /// The chosen prefecture.
        prefecture: PrefectureCode,
    },
    /// The number belongs to an agent.
    #[error("agents cannot apply")]
    AgentNotAllowed {
        /// The office number.
        office_number: OfficeNumber,
    },
    /// The step is not allowed in the current status.
    #[error("not allowed now")]
    InvalidState(InvalidStateReason),
    /// A reviewer's action that the current status does not allow.
    #[error("transition refused")]
    TransitionRefused {
        /// The current status.
        from: reissue_shared::ApplicationStatus,
    },
    /// The reviewer's role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The password was right; the reviewer's second factor is needed too (401 `mfa_required`).
    #[error("second factor required")]
    MfaRequired,
    /// The second factor was wrong or used already (401 `mfa_invalid`, a failed login).
    #[error("second factor invalid")]
    MfaInvalid,
    /// Four-eyes issuance: the approver (or the reprint's requester) cannot confirm it.
    #[error("same reviewer")]
    SameReviewer,
    /// The notice was posted (or its temporary password expired): printing it again mints a
    /// new temporary password, which needs a confirmed reprint request first.
    #[error("reprint needs confirmation")]
    ReprintConfirmationRequired,
    /// The prefecture requires a return envelope before the notice is issued, and it has not
    /// arrived (409 `envelope_missing`).
    #[error("return envelope missing")]
    EnvelopeMissing,
    /// The prefecture requires a reached call to the ledger's number before approval
    /// (409 `callback_missing`).
    #[error("call-back missing")]
    CallbackMissing,
    /// The office's ledger entry changed since the submission and no reviewer acknowledged
    /// it yet (409 `ledger_changed`).
    #[error("ledger entry changed")]
    LedgerChanged,
    /// The retention period erased the notification address (409 `personal_data_erased`).
    #[error("personal data erased")]
    PersonalDataErased,
    /// A malformed `Idempotency-Key` (400 `idempotency_key_invalid`).
    #[error("idempotency key invalid")]
    IdempotencyKeyInvalid,
    /// The first request with the key still runs (409 `idempotency_key_in_use`).
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    /// The key was used for another request (422 `idempotency_key_reused`).
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// The office was removed from the ledger since the submission (409
    /// `office_not_in_ledger`).
    #[error("office removed from the ledger")]
    OfficeRemovedFromLedger,
    /// A reprint request that the notice's state does not allow.
    #[error("reprint refused")]
    ReprintRefused(ReprintRefusal),
    /// Wrong login ID or password (said alike for both).
    #[error("invalid credentials")]
    InvalidCredentials {
        /// How the screen names the ID (ユーザID for offices, ログインID for reviewers).
        id_label: &'static str,
    },
    /// Too much password work waiting already: try again shortly (503).
    #[error("busy")]
    Busy {
        /// Seconds to wait: the `Retry-After`.
        retry_after_secs: u64,
    },
    /// Too many failed logins: locked until then.
    #[error("account locked")]
    AccountLocked {
        /// When it unlocks.
        until: time::OffsetDateTime,
        /// Seconds from now (the injected clock's) until then: the `Retry-After`.
        retry_after_secs: u64,
    },
    /// The login ID failed too often in a row (`passwords::MAX_CONSECUTIVE_FAILURES`): no login
    /// until a new password is set.
    #[error("login suspended")]
    LoginSuspended {
        /// What to do, in Japanese, for the account's kind.
        remedy: &'static str,
    },
    /// Already submitted (or decided).
    #[error("already submitted")]
    AlreadySubmitted,
    /// Past its lifetime.
    #[error("application expired")]
    ApplicationExpired,
    /// Replaced by a newer application for the same office.
    #[error("application superseded")]
    ApplicationSuperseded,
    /// Wrong code; this many tries remain.
    #[error("wrong code")]
    WrongCode {
        /// Tries left on this code.
        attempts_left: u32,
    },
    /// The code is older than its lifetime.
    #[error("code expired")]
    CodeExpired {
        /// The lifetime, for the message.
        lifetime_minutes: u64,
    },
    /// Too many wrong tries: the code is dead.
    #[error("code locked")]
    CodeLocked {
        /// The number of tries that killed it.
        max_attempts: u32,
    },
    /// No code is active.
    #[error("no active code")]
    NoActiveCode,
    /// No more codes for this application.
    #[error("code limit reached")]
    CodeLimitReached {
        /// The limit.
        limit: u32,
    },
    /// A rate limit or budget was hit.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A failure that is neither storage nor the caller's (a broken invariant, a crypto
    /// failure): answered as an internal error, never hidden behind a default value.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a reprint request or its answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReprintRefusal {
    /// The notice still prints as it is (not posted yet).
    NoticeStillPrintable,
    /// A request already waits for its confirmation.
    AlreadyRequested,
    /// No request waits.
    NoneRequested,
}

/// Which step was out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidStateReason {
    /// A code was asked for before the prefecture was chosen.
    PrefectureNotChosen,
    /// Submission before the code was verified.
    NotVerified,
    /// The code was already verified.
    AlreadyVerified,
    /// The application was withdrawn.
    Withdrawn,
    /// The reviewer's authenticator app is enrolled already.
    MfaEnrolled,
    /// No enrolment was started (or it was confirmed meanwhile).
    MfaNotStarted,
    /// Personal data is erased only from an application that has ended.
    NotEnded,
}
