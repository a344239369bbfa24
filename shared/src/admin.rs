//! Request and response bodies of the reviewers' API (`/api/v1/admin`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error_code::{FieldError, FieldErrorCode};
use crate::input::ParseInput;
use crate::secret::SecretText;
use crate::status::ApplicationStatus;

/// A reviewer's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewerRole {
    /// Reviews applications of their prefecture.
    Reviewer,
    /// Also exports the audit log.
    Supervisor,
}

impl ReviewerRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Supervisor => "supervisor",
        }
    }

    /// From the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reviewer" => Some(Self::Reviewer),
            "supervisor" => Some(Self::Supervisor),
            _ => None,
        }
    }
}

/// `POST /admin/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// ログインID.
    #[cfg_attr(
        feature = "server",
        schema(
            example = "demo-tokyo",
            required = true,
            min_length = 1,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub login_id: String,
    /// パスワード.
    #[cfg_attr(
        feature = "server",
        schema(value_type = String, required = true, format = Password, min_length = 1)
    )]
    pub password: SecretText,
    /// 確認コード: the 6 digits of the reviewer's authenticator app, once enrolled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(example = "123456", pattern = r"^[0-9]{6}$")
    )]
    pub totp_code: Option<String>,
    /// Instead of `totp_code` (not with it): one of the recovery codes given at enrolment
    /// (single use). Case and hyphens do not matter.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(
            example = "abcd-efgh-jkmn",
            pattern = r"^[a-hjkmnp-zA-HJKMNP-Z2-9]{4}-?[a-hjkmnp-zA-HJKMNP-Z2-9]{4}-?[a-hjkmnp-zA-HJKMNP-Z2-9]{4}$"
        )
    )]
    pub recovery_code: Option<String>,
}

impl LoginRequest {
    /// Both fields must be filled in.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.login_id.trim().is_empty() {
            errors.push(FieldError::new(
                "login_id",
                FieldErrorCode::Required,
                "ログインIDを入力してください。",
            ));
        }
        if self.password.is_empty() {
            errors.push(FieldError::new(
                "password",
                FieldErrorCode::Required,
                "パスワードを入力してください。",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A reviewer as the console shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReviewerView {
    /// 氏名.
    pub name: String,
    /// Role.
    pub role: ReviewerRole,
    /// The federation's prefecture.
    pub prefecture_code: String,
}

/// Answer of `POST /admin/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AdminSession {
    /// Bearer JWT for `/admin/...`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub access_token: SecretText,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub expires_at: OffsetDateTime,
    /// Who logged in.
    pub reviewer: ReviewerView,
    /// The reviewer has no authenticator app yet: the token opens only `/admin/mfa/*` (the
    /// enrolment) and the logout.
    #[serde(default)]
    pub mfa_enrolment_required: bool,
}

/// Filters of `GET /admin/applications`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct ApplicationQuery {
    /// Only this status.
    pub status: Option<ApplicationStatus>,
    /// Reference number, office number, office name or e-mail (part of it).
    pub q: Option<String>,
    /// Page, from 1 (50 per page).
    #[cfg_attr(feature = "server", param(minimum = 1, maximum = 10000))]
    pub page: Option<u32>,
}

/// The last page number a list answers; beyond it a page number is a mistake, not a page.
pub const MAX_PAGE: u32 = 10_000;

/// The page asked for (1 when none), or `None` when it is outside 1..=`MAX_PAGE`.
pub fn page_number(page: Option<u32>) -> Option<u32> {
    let page = page.unwrap_or(1);
    (1..=MAX_PAGE).contains(&page).then_some(page)
}

/// One row of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApplicationSummary {
    /// Id.
    pub id: Uuid,
    /// 受付番号 (once submitted).
    pub reference_number: Option<String>,
    /// Status.
    pub status: ApplicationStatus,
    /// Status label.
    pub status_label: String,
    /// 事業所番号.
    pub office_number: String,
    /// 事業所名.
    pub office_name: Option<String>,
    /// 通知先メールアドレス (empty once erased: see `personal_data_erased`).
    pub email: String,
    /// The retention period (`REISSUE_RETENTION_DAYS` after the application ended) has erased
    /// its notification address, client address, notes and mails.
    #[serde(default)]
    pub personal_data_erased: bool,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// Submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub submitted_at: Option<OffsetDateTime>,
    /// Other applications for the same office exist (possible duplicate or fraud).
    pub other_applications: u32,
    /// The return envelope: `requested` shows as 返信用封筒待ち.
    #[serde(default)]
    pub envelope: crate::federation::EnvelopeState,
    /// 経過日数: business days since submission (weekends, public holidays and 29 Dec–3 Jan
    /// not counted), while it waits for the federation (審査待ち, 審査中, 二次承認待ち).
    #[serde(default)]
    pub business_days_waiting: Option<u32>,
    /// It has waited longer than the prefecture's review target.
    #[serde(default)]
    pub overdue: bool,
}

/// One age band of the applications waiting for the federation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgeBand {
    /// The band as the console shows it, e.g. `3〜5営業日`.
    pub label: String,
    /// Fewest business days in the band.
    pub min_days: u32,
    /// Most business days in the band (none: no upper end).
    pub max_days: Option<u32>,
    /// Applications in the band.
    pub count: u64,
}

/// How long the prefecture's waiting applications have waited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Ageing {
    /// The prefecture's review target, in business days.
    pub target_business_days: u32,
    /// Counts by age band, youngest first.
    pub bands: Vec<AgeBand>,
    /// Applications past the target.
    pub overdue: u64,
}

/// Answer of `GET /admin/applications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApplicationList {
    /// This page, oldest first.
    pub items: Vec<ApplicationSummary>,
    /// Matching applications in all pages.
    pub total: u64,
    /// Ages of the applications waiting for the federation (審査待ち, 審査中, 二次承認待ち),
    /// whatever the filter.
    #[serde(default)]
    pub ageing: Ageing,
    /// Applications of the reviewer's prefecture by status (ignoring the filters).
    pub counts: std::collections::BTreeMap<String, u64>,
    /// The page shown.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// The ledger entry a reviewer checks against (to call the office).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LedgerEntryView {
    /// 事業所番号.
    pub office_number: String,
    /// 事業所名.
    pub office_name: String,
    /// 種別 (介護/障害/代理人).
    pub kind: String,
    /// 郵便番号.
    pub postal_code: String,
    /// 住所.
    pub address: String,
    /// 電話番号.
    pub phone: String,
}

/// A call note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NoteView {
    /// Who wrote it.
    pub reviewer_name: String,
    /// The note.
    pub text: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
}

/// One audit entry of an application's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub occurred_at: OffsetDateTime,
    /// Who (stable form, e.g. `reviewer:<id>`, `applicant:<address>`, `system`).
    pub actor: String,
    /// What (stable name, e.g. `application_submitted`).
    pub action: String,
    /// Why / details.
    pub detail: String,
    /// What, in Japanese (e.g. 申請を送信).
    #[serde(default)]
    pub action_label: String,
    /// Who, as people say it: the reviewer's name, 申請者, システム.
    #[serde(default)]
    pub actor_name: String,
}

/// Answer of `GET /admin/applications/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApplicationDetail {
    /// The application.
    pub application: ApplicationSummary,
    /// 請求先都道府県.
    pub prefecture_code: Option<String>,
    /// Reason given with a rejection or withdrawal.
    pub decision_reason: Option<String>,
    /// The ledger entry, if the office is in the ledger.
    pub ledger_entry: Option<LedgerEntryView>,
    /// Call notes, oldest first.
    pub notes: Vec<NoteView>,
    /// Audit history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Other applications of the same office in this prefecture.
    pub other_applications: Vec<ApplicationSummary>,
    /// Who approved and who confirmed, once approved (also while 二次承認待ち).
    pub approval: Option<ApprovalView>,
    /// A request to print the notice again, waiting for a second reviewer.
    pub reprint_request: Option<ReprintRequestView>,
    /// When the current notice was marked 郵送済, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub notice_mailed_at: Option<OffsetDateTime>,
    /// Printing the notice now needs a confirmed reprint request
    /// (`POST .../reprint-request`, then `POST .../reprint-confirmation` by another reviewer):
    /// the notice was posted (or its temporary password expired) and four-eyes issuance is on.
    pub reprint_required: bool,
    /// 発送日 of the current notice (Japan's date, `YYYY-MM-DD`), once 郵送済.
    #[serde(default)]
    pub notice_mailed_on: Option<String>,
    /// 追跡番号 of its registered post, as the label prints it.
    #[serde(default)]
    pub notice_tracking_number: Option<String>,
    /// Calls to the ledger's telephone number, oldest first.
    #[serde(default)]
    pub callbacks: Vec<crate::federation::CallbackView>,
    /// What the prefecture asks before an approval, and where this application stands.
    #[serde(default)]
    pub checks: crate::federation::ApprovalChecks,
    /// How the office's ledger entry changed since the submission, if it did.
    #[serde(default)]
    pub ledger_change: Option<LedgerChangeView>,
}

/// The office's ledger entry as it was at the submission and as it is now: an approval waits
/// until a reviewer has acknowledged it (`POST …/ledger-change-acknowledgement`), and an office
/// removed from the ledger cannot be approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LedgerChangeView {
    /// The entry when the application was submitted.
    pub before: LedgerEntryView,
    /// The entry now; none when the office was removed from the ledger.
    pub after: Option<LedgerEntryView>,
    /// When the latest change was imported.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub changed_at: OffsetDateTime,
    /// A reviewer has acknowledged the change (after its latest import).
    pub acknowledged: bool,
}

/// Who approved an application and who confirmed the approval (four-eyes issuance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApprovalView {
    /// The approving reviewer's name.
    pub approved_by: String,
    /// When they approved.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub approved_at: OffsetDateTime,
    /// The reviewer asking approved it (and so cannot confirm it).
    pub approved_by_you: bool,
    /// The confirming reviewer's name (none while 二次承認待ち, or when four-eyes issuance is
    /// off).
    pub confirmed_by: Option<String>,
    /// When they confirmed.
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub confirmed_at: Option<OffsetDateTime>,
}

/// A pending request to print the notice again (which issues a new temporary password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReprintRequestView {
    /// The requesting reviewer's name.
    pub requested_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub requested_at: OffsetDateTime,
    /// Why the notice must be printed again.
    pub reason: String,
    /// The reviewer asking made the request (and so cannot confirm it).
    pub requested_by_you: bool,
}

/// `POST /admin/applications/{id}/confirmation` and `.../reprint-confirmation`: the second
/// reviewer's answer.
// `default` per field, not on the struct: a struct-wide default would document `confirm` with
// the default `null`, which its schema (a boolean) does not admit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfirmationRequest {
    /// `true` confirms; `false` sends it back (with a reason).
    #[cfg_attr(
        feature = "server",
        schema(value_type = bool, required = true, example = true)
    )]
    #[serde(default)]
    pub confirm: Option<bool>,
    /// Required to send back (at least one character that is not a space); kept in the
    /// history.
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The second reviewer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// 確定.
    Confirm,
    /// 差し戻し, with the reason.
    SendBack(String),
}

impl ParseInput for ConfirmationRequest {
    type Input = Confirmation;

    fn parse(&self) -> Result<Confirmation, Vec<FieldError>> {
        let reason = self.reason.as_deref().map(str::trim).unwrap_or_default();
        if reason.chars().count() > MAX_TEXT {
            return Err(vec![FieldError::new(
                "reason",
                FieldErrorCode::TooLong,
                format!("理由は{MAX_TEXT}文字以内で入力してください。"),
            )]);
        }
        match self.confirm {
            Some(true) => Ok(Confirmation::Confirm),
            Some(false) if reason.is_empty() => Err(vec![FieldError::new(
                "reason",
                FieldErrorCode::Required,
                "差し戻しの理由を入力してください。",
            )]),
            Some(false) => Ok(Confirmation::SendBack(reason.to_owned())),
            None => Err(vec![FieldError::new(
                "confirm",
                FieldErrorCode::Required,
                "confirm に true（確定）または false（差し戻し）を指定してください。",
            )]),
        }
    }
}

/// `POST /admin/applications/{id}/reprint-request`: why the posted notice must be printed
/// again (e.g. it came back undelivered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReprintRequest {
    /// The reason: at least one character that is not a space.
    // U+0085 named besides `\s`, as in `TextRequest`.
    #[cfg_attr(
        feature = "server",
        schema(
            required = true,
            min_length = 1,
            max_length = 2000,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub reason: String,
}

impl ParseInput for ReprintRequest {
    /// The reason, trimmed.
    type Input = String;

    fn parse(&self) -> Result<String, Vec<FieldError>> {
        TextRequest {
            text: self.reason.clone(),
        }
        .parse_text("reason", "再印刷の理由")
    }
}

/// `POST /admin/applications/{id}/decision`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DecisionRequest {
    /// `approved` or `rejected`.
    #[cfg_attr(
        feature = "server",
        schema(
            example = "rejected",
            required = true,
            pattern = "^(approved|rejected)$"
        )
    )]
    pub decision: String,
    /// Required to reject (at least one character that is not a space); shown to the office.
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    // An approval is sent as `{"decision":"approved"}`, without `"reason":null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 承認.
    Approve,
    /// 却下, with the reason.
    Reject(String),
}

/// At most this many characters in a reason or note.
pub const MAX_TEXT: usize = 2000;

impl ParseInput for DecisionRequest {
    type Input = Decision;

    fn parse(&self) -> Result<Decision, Vec<FieldError>> {
        let reason = self.reason.as_deref().map(str::trim).unwrap_or_default();
        if reason.chars().count() > MAX_TEXT {
            return Err(vec![FieldError::new(
                "reason",
                FieldErrorCode::TooLong,
                format!("理由は{MAX_TEXT}文字以内で入力してください。"),
            )]);
        }
        match self.decision.as_str() {
            "approved" => Ok(Decision::Approve),
            "rejected" if reason.is_empty() => Err(vec![FieldError::new(
                "reason",
                FieldErrorCode::Required,
                "却下の理由を入力してください。理由は事業所への通知に記載されます。",
            )]),
            "rejected" => Ok(Decision::Reject(reason.to_owned())),
            _ => Err(vec![FieldError::new(
                "decision",
                FieldErrorCode::UnknownValue,
                "審査結果は approved（承認）または rejected（却下）を指定してください。",
            )]),
        }
    }
}

/// `POST /admin/applications/{id}/withdrawal` and `/notes`: one text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TextRequest {
    /// The reason or note: at least one character that is not a space.
    // The pattern names U+0085 besides `\s`: ECMA-262's `\s` (JSON Schema's) lacks it, and
    // `trim` removes it, so a text of U+0085 alone would match the document yet be refused.
    #[cfg_attr(
        feature = "server",
        schema(
            required = true,
            min_length = 1,
            max_length = 2000,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub text: String,
}

impl TextRequest {
    /// The text, trimmed, or what is wrong; `field` and `label` name it.
    pub fn parse_text(&self, field: &str, label: &str) -> Result<String, Vec<FieldError>> {
        let text = self.text.trim();
        if text.is_empty() {
            return Err(vec![FieldError::new(
                field,
                FieldErrorCode::Required,
                format!("{label}を入力してください。"),
            )]);
        }
        if text.chars().count() > MAX_TEXT {
            return Err(vec![FieldError::new(
                field,
                FieldErrorCode::TooLong,
                format!("{label}は{MAX_TEXT}文字以内で入力してください。"),
            )]);
        }
        Ok(text.to_owned())
    }
}

/// The body of `POST /admin/applications/{id}/withdrawal`: a [`TextRequest`] holding the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WithdrawalRequest(pub TextRequest);

impl ParseInput for WithdrawalRequest {
    /// The reason, trimmed.
    type Input = String;

    fn parse(&self) -> Result<String, Vec<FieldError>> {
        self.0.parse_text("text", "取下げの理由")
    }
}

/// The body of `POST /admin/applications/{id}/notes`: a [`TextRequest`] holding the note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoteRequest(pub TextRequest);

impl ParseInput for NoteRequest {
    /// The note, trimmed.
    type Input = String;

    fn parse(&self) -> Result<String, Vec<FieldError>> {
        self.0.parse_text("text", "メモ")
    }
}

#[cfg(feature = "server")]
crate::input::validate_by_parsing!(
    DecisionRequest,
    WithdrawalRequest,
    NoteRequest,
    ConfirmationRequest,
    ReprintRequest
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejecting_needs_a_reason() {
        let request = DecisionRequest {
            decision: "rejected".into(),
            reason: Some("  ".into()),
        };
        let errors = request.parse().err().unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.field.as_str()), Some("reason"));
        let request = DecisionRequest {
            decision: "rejected".into(),
            reason: Some("電話がつながらない".into()),
        };
        assert_eq!(
            request.parse(),
            Ok(Decision::Reject("電話がつながらない".into()))
        );
        let request = DecisionRequest {
            decision: "approved".into(),
            reason: None,
        };
        assert_eq!(request.parse(), Ok(Decision::Approve));
        let request = DecisionRequest {
            decision: "maybe".into(),
            reason: None,
        };
        assert!(request.parse().is_err());
    }

    #[test]
    fn an_approval_is_sent_without_a_reason() -> Result<(), serde_json::Error> {
        let approve = DecisionRequest {
            decision: "approved".into(),
            reason: None,
        };
        assert_eq!(
            serde_json::to_string(&approve)?,
            r#"{"decision":"approved"}"#
        );
        let reject = DecisionRequest {
            decision: "rejected".into(),
            reason: Some("電話不通".into()),
        };
        assert_eq!(
            serde_json::to_string(&reject)?,
            r#"{"decision":"rejected","reason":"電話不通"}"#
        );
        Ok(())
    }

    #[test]
    fn sending_back_needs_a_reason_and_confirm_must_be_said() {
        let request = ConfirmationRequest {
            confirm: Some(false),
            reason: Some(" ".into()),
        };
        let errors = request.parse().err().unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.field.as_str()), Some("reason"));
        let request = ConfirmationRequest {
            confirm: Some(false),
            reason: Some("台帳の住所と違う".into()),
        };
        assert_eq!(
            request.parse(),
            Ok(Confirmation::SendBack("台帳の住所と違う".into()))
        );
        let request = ConfirmationRequest {
            confirm: Some(true),
            reason: None,
        };
        assert_eq!(request.parse(), Ok(Confirmation::Confirm));
        let errors = ConfirmationRequest::default()
            .parse()
            .err()
            .unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.field.as_str()), Some("confirm"));
        let errors = ReprintRequest::default().parse().err().unwrap_or_default();
        assert_eq!(errors.first().map(|e| e.field.as_str()), Some("reason"));
        // U+0085 (NEXT LINE) is trimmed like a space: the documented pattern excludes it too.
        let only_next_line = ReprintRequest {
            reason: "\u{85}".into(),
        };
        assert!(only_next_line.parse().is_err());
    }

    #[test]
    fn login_needs_both_fields() {
        let errors = LoginRequest::default().check().err().unwrap_or_default();
        assert_eq!(errors.len(), 2);
    }
}

/// One entry of `GET /admin/audit-log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub occurred_at: OffsetDateTime,
    /// Who (`applicant@…`, `reviewer:…`, `office:…`, `system`, `operator`).
    pub actor: String,
    /// What (stable name).
    pub action: String,
    /// Which application, if any.
    pub application_id: Option<String>,
    /// Which office, if any.
    pub office_number: Option<String>,
    /// Why / details.
    pub detail: String,
}

/// Answer of `GET /admin/audit-log` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditLogPage {
    /// Newest first.
    pub items: Vec<AuditEntryView>,
    /// Entries in all pages.
    pub total: u64,
    /// The page shown.
    pub page: u32,
    /// Entries per page.
    pub per_page: u32,
}

/// Paging of `GET /admin/audit-log`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
pub struct PageQuery {
    /// Page, from 1.
    #[cfg_attr(feature = "server", param(minimum = 1, maximum = 10000))]
    pub page: Option<u32>,
}
