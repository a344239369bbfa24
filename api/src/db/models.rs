//! Rows as stored (`X` read, `NewX` written). Conversion to domain types happens in the
//! repository functions, so the rest of the server never sees a raw status string.

use diesel::prelude::*;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::schema::{
    application_notes, audit_log, dev_messages, ledger_entries, login_failures, outbox_messages,
    rate_limit_counters, reissue_applications, reviewers,
};

/// Stored timestamps are UTC without an offset, at microsecond precision (PostgreSQL's), so a
/// value reads back exactly as it was written on both backends.
pub fn to_db_time(instant: OffsetDateTime) -> PrimitiveDateTime {
    let utc = instant.to_offset(time::UtcOffset::UTC);
    let micros = utc.nanosecond() / 1_000 * 1_000;
    let utc = utc.replace_nanosecond(micros).unwrap_or(utc);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

/// The inverse of [`to_db_time`].
pub fn from_db_time(stored: PrimitiveDateTime) -> OffsetDateTime {
    stored.assume_utc()
}

/// A `ledger_entries` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ledger_entries, treat_none_as_default_value = false)]
pub struct LedgerEntryRow {
    pub prefecture_code: String,
    pub office_number: String,
    pub office_name: String,
    pub kind: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    pub imported_at: PrimitiveDateTime,
}

/// A `reissue_applications` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reissue_applications, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ApplicationRow {
    pub id: String,
    pub token_hash: String,
    pub office_number: String,
    pub email: String,
    pub prefecture_code: Option<String>,
    pub office_name: Option<String>,
    pub status: String,
    pub closed_reason: Option<String>,
    pub reference_number: Option<String>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<PrimitiveDateTime>,
    pub code_failed_attempts: i32,
    pub codes_issued: i32,
    pub last_code_sent_at: Option<PrimitiveDateTime>,
    pub client_address: String,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub verified_at: Option<PrimitiveDateTime>,
    pub submitted_at: Option<PrimitiveDateTime>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<PrimitiveDateTime>,
    pub approved_by: Option<String>,
    pub approved_at: Option<PrimitiveDateTime>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<PrimitiveDateTime>,
    pub reprint_requested_by: Option<String>,
    pub reprint_requested_at: Option<PrimitiveDateTime>,
    pub reprint_reason: Option<String>,
    pub envelope: String,
    pub envelope_requested_at: Option<PrimitiveDateTime>,
    pub envelope_received_at: Option<PrimitiveDateTime>,
}

/// A `reviewers` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reviewers, treat_none_as_default_value = false)]
pub struct ReviewerRow {
    pub id: String,
    pub login_id: String,
    pub name: String,
    pub role: String,
    pub prefecture_code: String,
    pub password_hash: String,
    pub created_at: PrimitiveDateTime,
    pub disabled_at: Option<PrimitiveDateTime>,
    pub mfa_secret: Option<String>,
    pub mfa_pending_secret: Option<String>,
    pub mfa_enrolled_at: Option<PrimitiveDateTime>,
    pub mfa_last_step: Option<i64>,
}

/// An `application_notes` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_notes, treat_none_as_default_value = false)]
pub struct NoteRow {
    pub id: String,
    pub application_id: String,
    pub reviewer_id: String,
    pub text: String,
    pub created_at: PrimitiveDateTime,
}

/// An `outbox_messages` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_messages, treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: PrimitiveDateTime,
    pub locked_until: Option<PrimitiveDateTime>,
    pub last_error: Option<String>,
    pub application_id: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub sent_at: Option<PrimitiveDateTime>,
}

/// A `dev_messages` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dev_messages, treat_none_as_default_value = false)]
pub struct DevMessageRow {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: PrimitiveDateTime,
}

/// A `rate_limit_counters` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = rate_limit_counters, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct RateLimitCounterRow {
    pub bucket: String,
    pub slot_seconds: i64,
    pub slots: String,
    pub expires_at: PrimitiveDateTime,
}

/// An `audit_log` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: PrimitiveDateTime,
    pub actor: String,
    pub action: String,
    pub application_id: Option<String>,
    pub office_number: Option<String>,
    pub prefecture_code: Option<String>,
    pub detail: String,
}

/// An `office_accounts` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::office_accounts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct OfficeAccountRow {
    pub id: String,
    pub user_id: String,
    pub office_number: String,
    pub prefecture_code: String,
    pub password_hash: Option<String>,
    pub temp_password_hash: Option<String>,
    pub temp_password_expires_at: Option<PrimitiveDateTime>,
    pub must_change_password: bool,
    pub security_email: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

/// A `notices` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::notices, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct NoticeRow {
    pub id: String,
    pub application_id: String,
    pub account_id: String,
    pub sealed_password: Option<String>,
    pub issued_at: PrimitiveDateTime,
    pub mailed_at: Option<PrimitiveDateTime>,
    pub voided_at: Option<PrimitiveDateTime>,
    pub mailed_on: Option<String>,
    pub tracking_number: Option<String>,
    pub mailed_by: Option<String>,
    pub mailed_to: Option<String>,
}

/// A `prefecture_settings` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::prefecture_settings, treat_none_as_default_value = false)]
pub struct PrefectureSettingsRow {
    pub prefecture_code: String,
    pub federation_name: String,
    pub federation_address: String,
    pub federation_phone: String,
    pub helpdesk_phone: String,
    pub return_envelope_required: bool,
    pub envelope_instructions: String,
    pub callback_required: bool,
    pub review_target_business_days: i32,
    pub updated_at: PrimitiveDateTime,
    pub updated_by: String,
}

/// A `callbacks` row: one call to the ledger's telephone number.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::callbacks, treat_none_as_default_value = false)]
pub struct CallbackRow {
    pub id: String,
    pub application_id: String,
    pub reviewer_id: String,
    pub phone: String,
    pub reached: bool,
    pub note: String,
    pub called_at: PrimitiveDateTime,
}

/// A `security_codes` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::security_codes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct SecurityCodeRow {
    pub id: String,
    pub purpose: String,
    pub account_id: Option<String>,
    pub token_hash: Option<String>,
    pub email: String,
    pub code_hash: Option<String>,
    pub expires_at: PrimitiveDateTime,
    pub failed_attempts: i32,
    pub verified_at: Option<PrimitiveDateTime>,
    pub consumed_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
}

/// A `login_failures` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_failures, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct LoginFailureRow {
    pub key: String,
    pub subject: String,
    pub failures: i32,
    pub locks: i32,
    pub locked_until: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
}

/// A `sessions` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::sessions, treat_none_as_default_value = false)]
pub struct SessionRow {
    pub id: String,
    pub holder: String,
    pub subject_id: String,
    pub scope: String,
    pub created_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub ended_at: Option<PrimitiveDateTime>,
    pub end_reason: Option<String>,
}

/// A `reviewer_recovery_codes` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::reviewer_recovery_codes, treat_none_as_default_value = false)]
pub struct RecoveryCodeRow {
    pub id: String,
    pub reviewer_id: String,
    pub code_hash: String,
    pub created_at: PrimitiveDateTime,
    pub used_at: Option<PrimitiveDateTime>,
}

/// A `ledger_entry_versions` row: an entry as it was before an import changed or removed it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::ledger_entry_versions, treat_none_as_default_value = false)]
pub struct LedgerEntryVersionRow {
    pub id: String,
    pub prefecture_code: String,
    pub office_number: String,
    pub office_name: String,
    pub kind: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    pub imported_at: PrimitiveDateTime,
    pub replaced_at: PrimitiveDateTime,
}

/// An `idempotency_keys` row: a key's first request and, once it finished, its answer.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::idempotency_keys, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct IdempotencyKeyRow {
    pub key_hash: String,
    pub request_hash: String,
    pub response_status: Option<i32>,
    pub response_content_type: Option<String>,
    pub response_location: Option<String>,
    pub response_body: Option<String>,
    pub locked_until: PrimitiveDateTime,
    pub created_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
}
