//! What the audit log records: who, when, what, why.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::models::{to_db_time, AuditRow};
use crate::db::{self, DbConnection, StorageError};

/// The recorded actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// An applicant created an application.
    ApplicationCreated,
    /// A newer application of the same office replaced an unsubmitted one.
    ApplicationSuperseded,
    /// The billing prefecture was chosen and the ledger check passed.
    PrefectureChosen,
    /// A code was mailed.
    CodeSent,
    /// A wrong code was entered.
    CodeWrong,
    /// The last allowed wrong code was entered; the code is dead.
    CodeLocked,
    /// The right code was entered.
    CodeVerified,
    /// The application was sent to the federation.
    ApplicationSubmitted,
    /// The application expired unsubmitted.
    ApplicationExpired,
    /// A ledger file was imported.
    LedgerImported,
    /// A mail could not be delivered after every try.
    MailFailed,
    /// A reviewer logged in.
    ReviewerLoggedIn,
    /// A reviewer login failed.
    ReviewerLoginFailed,
    /// Failed logins locked a reviewer account.
    ReviewerLocked,
    /// A reviewer account was created or changed.
    ReviewerSaved,
    /// 審査開始.
    ReviewStarted,
    /// 承認 (with four-eyes issuance: the first reviewer's, waiting for a second).
    ApplicationApproved,
    /// 二次承認: a second reviewer confirmed the approval.
    ApprovalConfirmed,
    /// A second reviewer sent the approval back to 審査中, with the reason.
    ApprovalSentBack,
    /// Printing a posted notice again was asked for, with the reason.
    ReprintRequested,
    /// A second reviewer confirmed the reprint (a new temporary password is issued).
    ReprintConfirmed,
    /// A second reviewer sent the reprint request back, with the reason.
    ReprintSentBack,
    /// 却下.
    ApplicationRejected,
    /// 取下げ.
    ApplicationWithdrawn,
    /// A call note was added.
    NoteAdded,
    /// A temporary password and its notice were issued.
    NoticeIssued,
    /// The notice was printed.
    NoticePrinted,
    /// The notice was marked 郵送済.
    NoticeMailed,
    /// An office logged in.
    OfficeLoggedIn,
    /// An office login failed.
    OfficeLoginFailed,
    /// Failed logins locked an office user ID.
    OfficeLocked,
    /// The temporary password was used for the first time (the old password is retired).
    TemporaryPasswordUsed,
    /// An office set a new password.
    PasswordChanged,
    /// A supervisor exported the audit log.
    AuditLogExported,
    /// A code was mailed to register a security e-mail.
    SecurityEmailCodeSent,
    /// A security e-mail was registered.
    SecurityEmailRegistered,
    /// A password reset was asked for (matching or not).
    PasswordResetRequested,
    /// A wrong reset or registration code was entered.
    SecurityCodeWrong,
    /// The sealed copy of an expired temporary password was forgotten.
    SealedPasswordPurged,
    /// The operator disabled a reviewer (its sessions ended).
    ReviewerDisabled,
    /// A reviewer logged out.
    ReviewerLoggedOut,
    /// An office logged out.
    OfficeLoggedOut,
    /// A reviewer was shown a new authenticator secret (the enrolment began).
    ReviewerMfaEnrolmentStarted,
    /// A reviewer's authenticator app was confirmed; recovery codes were made.
    ReviewerMfaEnrolled,
    /// The operator reset a reviewer's second factor.
    ReviewerMfaReset,
    /// A supervisor changed the prefecture's settings.
    PrefectureSettingsChanged,
    /// A return envelope was asked for (mailed to the notification address).
    EnvelopeRequested,
    /// The return envelope arrived.
    EnvelopeReceived,
    /// A call to the ledger's telephone number was recorded.
    CallbackRecorded,
    /// A reviewer acknowledged a change of the office's ledger entry since the submission.
    LedgerChangeAcknowledged,
    /// The retention period erased an application's personal data.
    PersonalDataErased,
    /// The retention period removed mails, codes and development mails of no application.
    PersonalDataPurged,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationCreated => "application_created",
            Self::ApplicationSuperseded => "application_superseded",
            Self::PrefectureChosen => "prefecture_chosen",
            Self::CodeSent => "code_sent",
            Self::CodeWrong => "code_wrong",
            Self::CodeLocked => "code_locked",
            Self::CodeVerified => "code_verified",
            Self::ApplicationSubmitted => "application_submitted",
            Self::ApplicationExpired => "application_expired",
            Self::LedgerImported => "ledger_imported",
            Self::MailFailed => "mail_failed",
            Self::ReviewerLoggedIn => "reviewer_logged_in",
            Self::ReviewerLoginFailed => "reviewer_login_failed",
            Self::ReviewerLocked => "reviewer_locked",
            Self::ReviewerSaved => "reviewer_saved",
            Self::ReviewStarted => "review_started",
            Self::ApplicationApproved => "application_approved",
            Self::ApprovalConfirmed => "approval_confirmed",
            Self::ApprovalSentBack => "approval_sent_back",
            Self::ReprintRequested => "reprint_requested",
            Self::ReprintConfirmed => "reprint_confirmed",
            Self::ReprintSentBack => "reprint_sent_back",
            Self::ApplicationRejected => "application_rejected",
            Self::ApplicationWithdrawn => "application_withdrawn",
            Self::NoteAdded => "note_added",
            Self::NoticeIssued => "notice_issued",
            Self::NoticePrinted => "notice_printed",
            Self::NoticeMailed => "notice_mailed",
            Self::OfficeLoggedIn => "office_logged_in",
            Self::OfficeLoginFailed => "office_login_failed",
            Self::OfficeLocked => "office_locked",
            Self::TemporaryPasswordUsed => "temporary_password_used",
            Self::PasswordChanged => "password_changed",
            Self::AuditLogExported => "audit_log_exported",
            Self::SecurityEmailCodeSent => "security_email_code_sent",
            Self::SecurityEmailRegistered => "security_email_registered",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::SecurityCodeWrong => "security_code_wrong",
            Self::SealedPasswordPurged => "sealed_password_purged",
            Self::ReviewerDisabled => "reviewer_disabled",
            Self::ReviewerLoggedOut => "reviewer_logged_out",
            Self::OfficeLoggedOut => "office_logged_out",
            Self::ReviewerMfaEnrolmentStarted => "reviewer_mfa_enrolment_started",
            Self::ReviewerMfaEnrolled => "reviewer_mfa_enrolled",
            Self::ReviewerMfaReset => "reviewer_mfa_reset",
            Self::PrefectureSettingsChanged => "prefecture_settings_changed",
            Self::EnvelopeRequested => "envelope_requested",
            Self::EnvelopeReceived => "envelope_received",
            Self::CallbackRecorded => "callback_recorded",
            Self::LedgerChangeAcknowledged => "ledger_change_acknowledged",
            Self::PersonalDataErased => "personal_data_erased",
            Self::PersonalDataPurged => "personal_data_purged",
        }
    }
}

/// A stored action in Japanese, for the console's history (an unknown one as it is stored).
pub fn action_label(stored: &str) -> String {
    let label = match stored {
        "application_created" => "申請を作成",
        "application_superseded" => "新しい申請に置き換え",
        "prefecture_chosen" => "請求先都道府県を選択（台帳確認済み）",
        "code_sent" => "確認コードを送信",
        "code_wrong" => "確認コードの誤り",
        "code_locked" => "確認コードを無効化（誤りの上限）",
        "code_verified" => "確認コードを確認",
        "application_submitted" => "申請を送信",
        "application_expired" => "期限切れ",
        "ledger_imported" => "事業所台帳を取込み",
        "mail_failed" => "メールを送信できず",
        "review_started" => "審査開始",
        "application_approved" => "承認",
        "approval_confirmed" => "承認を確定（二次承認）",
        "approval_sent_back" => "承認を差し戻し",
        "reprint_requested" => "再印刷を申請",
        "reprint_confirmed" => "再印刷を確定",
        "reprint_sent_back" => "再印刷の申請を差し戻し",
        "application_rejected" => "却下",
        "application_withdrawn" => "取下げ",
        "note_added" => "メモを追加",
        "notice_issued" => "通知書と仮パスワードを発行",
        "notice_printed" => "通知書を印刷",
        "notice_mailed" => "郵送済",
        "temporary_password_used" => "仮パスワードで初回ログイン",
        "password_changed" => "パスワードを変更",
        "sealed_password_purged" => "期限切れの仮パスワードを消去",
        "envelope_requested" => "返信用封筒を依頼（メール送信）",
        "envelope_received" => "返信用封筒を受領",
        "callback_recorded" => "台帳の電話番号へ電話",
        "prefecture_settings_changed" => "都道府県の設定を変更",
        "ledger_change_acknowledged" => "台帳の変更を確認",
        "personal_data_erased" => "保存期間の経過により個人情報を消去",
        "personal_data_purged" => "保存期間を過ぎたメール等を削除",
        _ => return stored.to_owned(),
    };
    label.to_owned()
}

/// One audit entry.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// When.
    pub occurred_at: OffsetDateTime,
    /// Who: `applicant@ip:<pseudonym>` (never the address itself: `domain::pseudonyms`),
    /// `reviewer:<id>`, `office:<user ID>`, `system`, `operator`.
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// Which application, if any.
    pub application_id: Option<Uuid>,
    /// Which office, if any.
    pub office_number: Option<String>,
    /// Which prefecture, if any.
    pub prefecture_code: Option<String>,
    /// Why / details (never a code, token or password).
    pub detail: String,
}

impl AuditEvent {
    /// An event about an application.
    pub fn for_application(
        application: &super::application::ReissueApplication,
        actor: impl Into<String>,
        action: AuditAction,
        detail: impl Into<String>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            occurred_at: now,
            actor: actor.into(),
            action,
            application_id: Some(application.id),
            office_number: Some(application.office_number.as_str().to_owned()),
            prefecture_code: application.prefecture.map(|p| p.as_str().to_owned()),
            detail: detail.into(),
        }
    }
}

impl AuditEvent {
    /// Appends the event to the audit log, as a new row with a time-ordered id.
    pub fn record(&self, conn: &mut DbConnection) -> Result<(), StorageError> {
        db::audit::append(conn, &self.row())
    }

    /// Appends two events of one step, `first` then `second`, in one statement (a step that
    /// changes two things, such as the prefecture step that also mails a code, writes the log
    /// once). Their ids are time-ordered as if each were recorded on its own.
    pub fn record_pair(
        conn: &mut DbConnection,
        first: &Self,
        second: &Self,
    ) -> Result<(), StorageError> {
        db::audit::append_pair(conn, [first.row(), second.row()])
    }

    fn row(&self) -> AuditRow {
        AuditRow {
            id: Uuid::now_v7().to_string(),
            occurred_at: to_db_time(self.occurred_at),
            actor: self.actor.clone(),
            action: self.action.as_str().to_owned(),
            application_id: self.application_id.map(|id| id.to_string()),
            office_number: self.office_number.clone(),
            prefecture_code: self.prefecture_code.clone(),
            detail: self.detail.clone(),
        }
    }
}
