//! Stable, machine-readable error codes of the API and the field errors of validation.
//!
//! The snake_case names are part of the API contract: billing software and the browser app match
//! on them. The Japanese `message` is for people and may be reworded.

use serde::{Deserialize, Serialize};

/// The `code` member of every problem+json answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields are invalid; see `errors`.
    ValidationFailed,
    /// The body is not valid JSON or does not have the expected shape.
    MalformedBody,
    /// The request needs `Content-Type: application/json`.
    UnsupportedMediaType,
    /// The body exceeds 64 KB.
    PayloadTooLarge,
    /// No such route.
    RouteNotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// The bearer token is missing or does not open this resource.
    Unauthorized,
    /// No application with this id (or not one this token may see).
    ApplicationNotFound,
    /// 申請状況照会: no submitted application has this reference number and e-mail address
    /// (the same answer whichever of the two does not match).
    NotFound,
    /// The office number is not in the chosen prefecture's ledger.
    OfficeNotInLedger,
    /// The office is in the ledger but is not a care (介護) office.
    OfficeNotCare,
    /// The number belongs to an agent (代理人), who must contact the federation.
    AgentNotAllowed,
    /// The application is not in a state that allows this step.
    InvalidState,
    /// The application was already submitted.
    AlreadySubmitted,
    /// The application expired before it was submitted.
    ApplicationExpired,
    /// A newer application for the same office replaced this one.
    ApplicationSuperseded,
    /// The code is wrong; `attempts_left` says how many tries remain.
    WrongCode,
    /// The code is older than its lifetime.
    CodeExpired,
    /// Too many wrong tries: the code is dead, ask for a new one.
    CodeLocked,
    /// No code is active: ask for one first.
    NoActiveCode,
    /// This application may not receive more codes.
    CodeLimitReached,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// A reviewer's action that the application's status does not allow.
    TransitionRefused,
    /// Wrong login ID or password.
    InvalidCredentials,
    /// Too many failed logins; locked for a while.
    AccountLocked,
    /// The password was right; the reviewer's authenticator code (or a recovery code) is needed.
    MfaRequired,
    /// The authenticator code or recovery code was wrong or used already (a failed login).
    MfaInvalid,
    /// The role does not allow this (e.g. the CSV export is for supervisors).
    Forbidden,
    /// Four-eyes issuance: the reviewer who approved (or asked for a reprint) cannot also
    /// confirm it; another reviewer of the prefecture must.
    SameReviewer,
    /// Printing again after 郵送済 mints a new temporary password: it needs a reprint request
    /// confirmed by a second reviewer first.
    ReprintConfirmationRequired,
    /// The prefecture requires a return envelope (返信用封筒) before the notice is issued, and
    /// it has not arrived.
    EnvelopeMissing,
    /// The prefecture requires a reached call to the ledger's telephone number before approval.
    CallbackMissing,
    /// The office's ledger entry changed since the submission: a reviewer acknowledges the
    /// change (`POST …/ledger-change-acknowledgement`) before approving.
    LedgerChanged,
    /// The retention period (`REISSUE_RETENTION_DAYS`) has erased the application's
    /// notification address: nothing can be mailed for it any more.
    PersonalDataErased,
    /// The `Idempotency-Key` header is not 1 to 255 visible ASCII characters.
    IdempotencyKeyInvalid,
    /// The first request with this `Idempotency-Key` is still running: retry shortly.
    IdempotencyKeyInUse,
    /// This `Idempotency-Key` was used for another request (another body or operation).
    IdempotencyKeyReused,
    /// The database or another dependency is unavailable; try again shortly.
    ServiceUnavailable,
    /// An unexpected error; the `request_id` identifies it in the logs.
    InternalError,
}

impl ErrorCode {
    /// The snake_case name as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::MalformedBody => "malformed_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unauthorized => "unauthorized",
            Self::ApplicationNotFound => "application_not_found",
            Self::NotFound => "not_found",
            Self::OfficeNotInLedger => "office_not_in_ledger",
            Self::OfficeNotCare => "office_not_care",
            Self::AgentNotAllowed => "agent_not_allowed",
            Self::InvalidState => "invalid_state",
            Self::AlreadySubmitted => "already_submitted",
            Self::ApplicationExpired => "application_expired",
            Self::ApplicationSuperseded => "application_superseded",
            Self::WrongCode => "wrong_code",
            Self::CodeExpired => "code_expired",
            Self::CodeLocked => "code_locked",
            Self::NoActiveCode => "no_active_code",
            Self::CodeLimitReached => "code_limit_reached",
            Self::RateLimited => "rate_limited",
            Self::TransitionRefused => "transition_refused",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountLocked => "account_locked",
            Self::MfaRequired => "mfa_required",
            Self::MfaInvalid => "mfa_invalid",
            Self::Forbidden => "forbidden",
            Self::SameReviewer => "same_reviewer",
            Self::ReprintConfirmationRequired => "reprint_confirmation_required",
            Self::EnvelopeMissing => "envelope_missing",
            Self::CallbackMissing => "callback_missing",
            Self::LedgerChanged => "ledger_changed",
            Self::PersonalDataErased => "personal_data_erased",
            Self::IdempotencyKeyInvalid => "idempotency_key_invalid",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::ServiceUnavailable => "service_unavailable",
            Self::InternalError => "internal_error",
        }
    }
}

/// Why one field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    /// Nothing was entered.
    Required,
    /// Too many or too few characters.
    InvalidLength,
    /// A character that is not allowed at its position.
    InvalidCharacter,
    /// The text does not have the required shape.
    InvalidFormat,
    /// Longer than allowed.
    TooLong,
    /// The confirmation entry differs from the first entry.
    Mismatch,
    /// Not one of the allowed values.
    UnknownValue,
}

impl FieldErrorCode {
    /// The snake_case name as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::InvalidLength => "invalid_length",
            Self::InvalidCharacter => "invalid_character",
            Self::InvalidFormat => "invalid_format",
            Self::TooLong => "too_long",
            Self::Mismatch => "mismatch",
            Self::UnknownValue => "unknown_value",
        }
    }
}

/// One refused field: which field (the JSON member name), why (`code`), and what to do
/// (`message`, Japanese, naming the field as the screen labels it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The request member, e.g. `office_number`.
    pub field: String,
    /// Machine-readable reason.
    pub code: FieldErrorCode,
    /// What to do, in Japanese.
    pub message: String,
}

impl FieldError {
    /// A field error for `field`.
    pub fn new(field: &str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in [
            ErrorCode::OfficeNotInLedger,
            ErrorCode::WrongCode,
            ErrorCode::RateLimited,
        ] {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        let json = serde_json::to_string(&FieldErrorCode::Mismatch).unwrap_or_default();
        assert_eq!(json, "\"mismatch\"");
    }
}
