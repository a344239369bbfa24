//! The reissue application and its state machine (manual steps 6–11): no HTTP, no SQL. Every
//! transition is a method that checks the current status and says why it refuses. The entity
//! is converted to and from its stored row here, once; `db::applications` holds the SQL.

use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::admin::Decision;
use reissue_shared::email::NOTICE_EMAIL;
use reissue_shared::federation::EnvelopeState;
use reissue_shared::{ApplicationStatus, EmailAddress, OfficeNumber, PrefectureCode};

use super::error::{DomainError, InvalidStateReason, ReprintRefusal};
use crate::config::Limits;
use crate::db::applications::QueueFilter;
use crate::db::models::{from_db_time, to_db_time, ApplicationRow};
use crate::db::{self, DbConnection, StorageError};

/// Why an unsubmitted application was closed.
pub const SUPERSEDED: &str = "superseded";

/// What an erased notification address, client address or token hash is stored as.
const ERASED: &str = "";

/// The code currently mailed for an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCode {
    /// HMAC of the code (never the code itself).
    pub hash: String,
    /// End of its lifetime.
    pub expires_at: OffsetDateTime,
    /// Wrong tries so far.
    pub failed_attempts: u32,
}

/// What an application has once submitted (manual step 11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The 受付番号 shown on 【終了】 and in the reviewers' queue.
    pub reference_number: String,
    /// When 送信 was pressed.
    pub submitted_at: OffsetDateTime,
}

/// Who approved an application and, with four-eyes issuance, who confirmed it. Reviewers are
/// named by their account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The approving reviewer.
    pub approved_by: String,
    /// When they approved.
    pub approved_at: OffsetDateTime,
    /// The second reviewer who confirmed it, and when (none while 二次承認待ち, or when the
    /// approval was one step).
    pub confirmation: Option<(String, OffsetDateTime)>,
}

/// A request to print a posted notice again (a new temporary password), waiting for a second
/// reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReprintRequest {
    /// The requesting reviewer.
    pub requested_by: String,
    /// When.
    pub requested_at: OffsetDateTime,
    /// Why.
    pub reason: String,
}

/// A reissue application as the domain sees it.
#[derive(Debug, Clone)]
pub struct ReissueApplication {
    pub id: Uuid,
    pub token_hash: String,
    pub office_number: OfficeNumber,
    /// The notification address; `None` once the retention period has erased it
    /// (`domain::retention`, stored as an empty text).
    pub email: Option<EmailAddress>,
    pub prefecture: Option<PrefectureCode>,
    pub office_name: Option<String>,
    pub status: ApplicationStatus,
    pub closed_reason: Option<String>,
    pub code: Option<ActiveCode>,
    pub codes_issued: u32,
    pub last_code_sent_at: Option<OffsetDateTime>,
    pub client_address: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub verified_at: Option<OffsetDateTime>,
    /// Set once submitted (manual step 11), never before.
    pub submission: Option<Submission>,
    /// Why it was rejected or withdrawn (shown to the office).
    pub decision_reason: Option<String>,
    /// When it was approved, rejected or withdrawn.
    pub decided_at: Option<OffsetDateTime>,
    /// Who approved it and who confirmed it, from the (first) approval on.
    pub approval: Option<Approval>,
    /// A reprint of its posted notice waiting for a second reviewer.
    pub reprint_request: Option<ReprintRequest>,
    /// The return envelope (返信用封筒), beside the status.
    pub envelope: EnvelopeState,
    /// When the envelope was last asked for.
    pub envelope_requested_at: Option<OffsetDateTime>,
    /// When it arrived.
    pub envelope_received_at: Option<OffsetDateTime>,
    /// The row as storage holds it (read or last written in this unit of work), so that
    /// [`Self::save`] writes only the columns that changed: a narrow UPDATE that diesel
    /// prepares once per connection (`db::changed_columns`). `None` for an application not
    /// stored yet.
    stored: Option<ApplicationRow>,
}

/// What a code entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationOutcome {
    /// Right code: the application is verified and the code is used up.
    Verified,
    /// Wrong code; tries remain.
    Wrong {
        /// Tries left.
        attempts_left: u32,
    },
    /// Wrong code, and it was the last try: the code is dead.
    Locked,
}

impl ReissueApplication {
    /// A new application, waiting for its prefecture.
    pub fn new(
        office_number: OfficeNumber,
        email: EmailAddress,
        token_hash: String,
        client_address: String,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            token_hash,
            office_number,
            email: Some(email),
            prefecture: None,
            office_name: None,
            status: ApplicationStatus::AwaitingPrefecture,
            closed_reason: None,
            code: None,
            codes_issued: 0,
            last_code_sent_at: None,
            client_address,
            created_at: now,
            updated_at: now,
            expires_at: now + limits.application_ttl,
            verified_at: None,
            submission: None,
            decision_reason: None,
            decided_at: None,
            approval: None,
            reprint_request: None,
            envelope: EnvelopeState::None,
            envelope_requested_at: None,
            envelope_received_at: None,
            stored: None,
        }
    }

    /// Whether nothing more can happen to it but reading: the statuses the retention period
    /// counts from (an approved one also needs its notices posted: `db::applications::erasable`).
    pub fn has_ended(&self) -> bool {
        matches!(
            self.status,
            ApplicationStatus::Approved
                | ApplicationStatus::Rejected
                | ApplicationStatus::Withdrawn
                | ApplicationStatus::Expired
        )
    }

    /// The notification address; once the retention period has erased it, nothing can be
    /// mailed (409 `personal_data_erased`).
    pub fn notification_address(&self) -> Result<&EmailAddress, DomainError> {
        self.email.as_ref().ok_or(DomainError::PersonalDataErased)
    }

    /// Whether the retention period has erased its personal data.
    pub fn personal_data_erased(&self) -> bool {
        self.email.is_none()
    }

    /// Forgets the personal data the row holds once the retention period has passed: the
    /// notification address, the client address, and the token's hash (the applicant's link
    /// opens nothing any more). The office number, status, 受付番号, reasons and dates stay.
    pub fn erase_personal_data(&mut self) -> Result<(), DomainError> {
        if !self.has_ended() {
            return Err(DomainError::InvalidState(InvalidStateReason::NotEnded));
        }
        self.email = None;
        self.client_address = ERASED.to_owned();
        self.token_hash = ERASED.to_owned();
        Ok(())
    }

    /// The status as the applicant sees it now: an unsubmitted application past its lifetime
    /// is expired even before the sweeper has marked it.
    pub fn effective_status(&self, now: OffsetDateTime) -> ApplicationStatus {
        if self.status.is_unsubmitted() && now >= self.expires_at {
            ApplicationStatus::Expired
        } else {
            self.status
        }
    }

    /// Refuses any applicant step once the application is no longer being filled in.
    pub fn ensure_open(&self, now: OffsetDateTime) -> Result<(), DomainError> {
        match self.effective_status(now) {
            ApplicationStatus::AwaitingPrefecture
            | ApplicationStatus::CodeSent
            | ApplicationStatus::Verified => Ok(()),
            ApplicationStatus::Expired => Err(DomainError::ApplicationExpired),
            ApplicationStatus::Withdrawn if self.closed_reason.as_deref() == Some(SUPERSEDED) => {
                Err(DomainError::ApplicationSuperseded)
            }
            ApplicationStatus::Withdrawn => {
                Err(DomainError::InvalidState(InvalidStateReason::Withdrawn))
            }
            ApplicationStatus::Submitted
            | ApplicationStatus::InReview
            | ApplicationStatus::AwaitingConfirmation
            | ApplicationStatus::Approved
            | ApplicationStatus::Rejected => Err(DomainError::AlreadySubmitted),
        }
    }

    /// Records the ledger-checked prefecture and office name (manual step 7). Choosing again
    /// (the user went back) restarts verification.
    pub fn choose_prefecture(
        &mut self,
        prefecture: PrefectureCode,
        office_name: String,
        now: OffsetDateTime,
    ) -> Result<(), DomainError> {
        self.ensure_open(now)?;
        self.prefecture = Some(prefecture);
        self.office_name = Some(office_name);
        self.status = ApplicationStatus::AwaitingPrefecture;
        self.verified_at = None;
        self.code = None;
        self.updated_at = now;
        Ok(())
    }

    /// Checks that one more code may be mailed now.
    pub fn check_can_issue_code(
        &self,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Result<(), DomainError> {
        self.ensure_open(now)?;
        if self.prefecture.is_none() {
            return Err(DomainError::InvalidState(
                InvalidStateReason::PrefectureNotChosen,
            ));
        }
        if self.status == ApplicationStatus::Verified {
            return Err(DomainError::InvalidState(
                InvalidStateReason::AlreadyVerified,
            ));
        }
        if self.codes_issued >= limits.codes_per_application {
            return Err(DomainError::CodeLimitReached {
                limit: limits.codes_per_application,
            });
        }
        if let Some(last) = self.last_code_sent_at {
            let next_allowed = last + limits.resend_interval;
            if now < next_allowed {
                return Err(DomainError::RateLimited {
                    retry_after_secs: seconds_until(now, next_allowed),
                });
            }
        }
        Ok(())
    }

    /// Mails a new code (manual step 7–8): the old one dies.
    pub fn issue_code(
        &mut self,
        code_hash: String,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Result<(), DomainError> {
        self.check_can_issue_code(now, limits)?;
        self.code = Some(ActiveCode {
            hash: code_hash,
            expires_at: now + limits.code_ttl,
            failed_attempts: 0,
        });
        self.codes_issued += 1;
        self.last_code_sent_at = Some(now);
        self.status = ApplicationStatus::CodeSent;
        self.updated_at = now;
        Ok(())
    }

    /// Checks that a code may be entered now (before comparing it).
    pub fn check_can_verify(
        &self,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Result<&ActiveCode, DomainError> {
        self.ensure_open(now)?;
        match self.status {
            ApplicationStatus::Verified => {
                return Err(DomainError::InvalidState(
                    InvalidStateReason::AlreadyVerified,
                ))
            }
            ApplicationStatus::AwaitingPrefecture if self.prefecture.is_none() => {
                return Err(DomainError::InvalidState(
                    InvalidStateReason::PrefectureNotChosen,
                ))
            }
            _ => {}
        }
        let code = self.code.as_ref().ok_or(DomainError::NoActiveCode)?;
        if code.failed_attempts >= limits.code_max_attempts {
            return Err(DomainError::CodeLocked {
                max_attempts: limits.code_max_attempts,
            });
        }
        if now >= code.expires_at {
            return Err(DomainError::CodeExpired {
                lifetime_minutes: limits.code_ttl.as_secs().div_ceil(60),
            });
        }
        Ok(code)
    }

    /// Applies the result of comparing the entered code (manual step 9). Single use: a right
    /// code is consumed.
    pub fn record_code_entry(
        &mut self,
        matches: bool,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Result<VerificationOutcome, DomainError> {
        self.check_can_verify(now, limits)?;
        self.updated_at = now;
        if matches {
            self.code = None;
            self.status = ApplicationStatus::Verified;
            self.verified_at = Some(now);
            return Ok(VerificationOutcome::Verified);
        }
        let Some(code) = self.code.as_mut() else {
            return Err(DomainError::NoActiveCode);
        };
        code.failed_attempts += 1;
        let attempts_left = limits
            .code_max_attempts
            .saturating_sub(code.failed_attempts);
        Ok(if attempts_left == 0 {
            VerificationOutcome::Locked
        } else {
            VerificationOutcome::Wrong { attempts_left }
        })
    }

    /// Sends the verified application to the federation (manual step 10–11).
    pub fn submit(
        &mut self,
        reference_number: String,
        now: OffsetDateTime,
    ) -> Result<&Submission, DomainError> {
        self.ensure_open(now)?;
        if self.status != ApplicationStatus::Verified {
            return Err(DomainError::InvalidState(InvalidStateReason::NotVerified));
        }
        self.status = ApplicationStatus::Submitted;
        self.updated_at = now;
        Ok(self.submission.insert(Submission {
            reference_number,
            submitted_at: now,
        }))
    }

    /// The reference number once submitted, for texts that name the application.
    pub fn reference_number(&self) -> Option<&str> {
        self.submission
            .as_ref()
            .map(|s| s.reference_number.as_str())
    }

    /// The submission of an application a reviewer acts on. Only submitted applications reach
    /// a reviewer, so a missing one is a broken invariant, not the caller's mistake.
    pub fn submitted(&self) -> Result<&Submission, DomainError> {
        self.submission.as_ref().ok_or_else(|| {
            DomainError::Internal(format!("application {} has no submission", self.id))
        })
    }

    /// 審査開始: a reviewer takes a submitted application.
    pub fn start_review(&mut self, now: OffsetDateTime) -> Result<(), DomainError> {
        self.require_status(&[ApplicationStatus::Submitted])?;
        self.status = ApplicationStatus::InReview;
        self.updated_at = now;
        Ok(())
    }

    /// 承認 or 却下 of an application under review; a rejection carries its reason. With
    /// four-eyes issuance an approval by `reviewer_id` waits for a second reviewer
    /// (二次承認待ち); without, it is final at once.
    pub fn decide(
        &mut self,
        decision: &Decision,
        reviewer_id: &str,
        four_eyes: bool,
        now: OffsetDateTime,
    ) -> Result<(), DomainError> {
        self.require_status(&[ApplicationStatus::InReview])?;
        match decision {
            Decision::Approve => {
                self.approval = Some(Approval {
                    approved_by: reviewer_id.to_owned(),
                    approved_at: now,
                    confirmation: None,
                });
                self.decision_reason = None;
                if four_eyes {
                    self.status = ApplicationStatus::AwaitingConfirmation;
                } else {
                    self.status = ApplicationStatus::Approved;
                    self.decided_at = Some(now);
                }
            }
            Decision::Reject(reason) => {
                self.status = ApplicationStatus::Rejected;
                self.decision_reason = Some(reason.clone());
                self.decided_at = Some(now);
            }
        }
        self.updated_at = now;
        Ok(())
    }

    /// The pending approval, checked against the second reviewer: another reviewer than the
    /// approver.
    fn pending_approval(&self, reviewer_id: &str) -> Result<&Approval, DomainError> {
        self.require_status(&[ApplicationStatus::AwaitingConfirmation])?;
        let approval = self.approval.as_ref().ok_or_else(|| {
            DomainError::Internal(format!("application {} awaits no approval", self.id))
        })?;
        if approval.approved_by == reviewer_id {
            return Err(DomainError::SameReviewer);
        }
        Ok(approval)
    }

    /// The second reviewer confirms the approval: now it is 承認.
    pub fn confirm_approval(
        &mut self,
        reviewer_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), DomainError> {
        let mut approval = self.pending_approval(reviewer_id)?.clone();
        approval.confirmation = Some((reviewer_id.to_owned(), now));
        self.approval = Some(approval);
        self.status = ApplicationStatus::Approved;
        self.decided_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// The second reviewer sends the approval back: 審査中 again, the approval forgotten (the
    /// history keeps it, with the reason).
    pub fn send_back_approval(
        &mut self,
        reviewer_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), DomainError> {
        self.pending_approval(reviewer_id)?;
        self.approval = None;
        self.status = ApplicationStatus::InReview;
        self.updated_at = now;
        Ok(())
    }

    /// Statuses in which the federation still works towards issuing the notice: a return
    /// envelope can be asked for, and a call made.
    const BEFORE_ISSUE: [ApplicationStatus; 3] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::InReview,
        ApplicationStatus::AwaitingConfirmation,
    ];

    /// The reviewer asks the office for a return envelope (asking again re-sends the mail);
    /// refused once it has arrived.
    pub fn request_envelope(&mut self, now: OffsetDateTime) -> Result<(), DomainError> {
        self.require_status(&Self::BEFORE_ISSUE)?;
        if self.envelope == EnvelopeState::Received {
            return Err(DomainError::TransitionRefused { from: self.status });
        }
        self.envelope = EnvelopeState::Requested;
        self.envelope_requested_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// The return envelope arrived (asked for or not: offices that read the manual send it
    /// unasked).
    pub fn receive_envelope(&mut self, now: OffsetDateTime) -> Result<(), DomainError> {
        self.require_status(&Self::BEFORE_ISSUE)?;
        if self.envelope == EnvelopeState::Received {
            return Err(DomainError::TransitionRefused { from: self.status });
        }
        self.envelope = EnvelopeState::Received;
        self.envelope_received_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// Whether a reviewer may acknowledge a change of the office's ledger entry now.
    pub fn check_can_acknowledge_ledger_change(&self) -> Result<(), DomainError> {
        self.require_status(&Self::BEFORE_ISSUE)
    }

    /// Whether a call to the ledger's number can be recorded now.
    pub fn check_can_record_call(&self) -> Result<(), DomainError> {
        self.require_status(&Self::BEFORE_ISSUE)
    }

    /// The notice may be issued only once a required envelope has arrived.
    pub fn check_envelope(&self, required: bool) -> Result<(), DomainError> {
        if required && self.envelope != EnvelopeState::Received {
            return Err(DomainError::EnvelopeMissing);
        }
        Ok(())
    }

    /// Asks for the posted notice of an approved application to be printed again; one request
    /// waits at a time.
    pub fn request_reprint(
        &mut self,
        reviewer_id: &str,
        reason: String,
        now: OffsetDateTime,
    ) -> Result<(), DomainError> {
        self.require_status(&[ApplicationStatus::Approved])?;
        if self.reprint_request.is_some() {
            return Err(DomainError::ReprintRefused(
                ReprintRefusal::AlreadyRequested,
            ));
        }
        self.reprint_request = Some(ReprintRequest {
            requested_by: reviewer_id.to_owned(),
            requested_at: now,
            reason,
        });
        self.updated_at = now;
        Ok(())
    }

    /// The second reviewer answers the reprint request (confirms it or sends it back): the
    /// request ends either way and is returned. The requester cannot answer it.
    pub fn close_reprint_request(
        &mut self,
        reviewer_id: &str,
        now: OffsetDateTime,
    ) -> Result<ReprintRequest, DomainError> {
        self.require_status(&[ApplicationStatus::Approved])?;
        let request = self
            .reprint_request
            .as_ref()
            .ok_or(DomainError::ReprintRefused(ReprintRefusal::NoneRequested))?;
        if request.requested_by == reviewer_id {
            return Err(DomainError::SameReviewer);
        }
        let request = request.clone();
        self.reprint_request = None;
        self.updated_at = now;
        Ok(request)
    }

    /// 取下げ of a submitted application, before a decision (also while 二次承認待ち: no
    /// temporary password exists yet).
    pub fn withdraw(&mut self, reason: String, now: OffsetDateTime) -> Result<(), DomainError> {
        self.require_status(&[
            ApplicationStatus::Submitted,
            ApplicationStatus::InReview,
            ApplicationStatus::AwaitingConfirmation,
        ])?;
        self.status = ApplicationStatus::Withdrawn;
        self.decision_reason = Some(reason);
        self.decided_at = Some(now);
        self.approval = None;
        self.updated_at = now;
        Ok(())
    }

    fn require_status(&self, allowed: &[ApplicationStatus]) -> Result<(), DomainError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(DomainError::TransitionRefused { from: self.status })
        }
    }

    /// Closes an unsubmitted application because a newer one for the same office replaced it.
    pub fn supersede(&mut self, now: OffsetDateTime) {
        if self.status.is_unsubmitted() {
            self.status = ApplicationStatus::Withdrawn;
            self.closed_reason = Some(SUPERSEDED.to_owned());
            self.code = None;
            self.updated_at = now;
        }
    }

    /// Wrong tries left on the active code.
    pub fn attempts_left(&self, limits: &Limits) -> Option<u32> {
        self.code.as_ref().map(|code| {
            limits
                .code_max_attempts
                .saturating_sub(code.failed_attempts)
        })
    }

    /// Codes this application may still ask for.
    pub fn codes_remaining(&self, limits: &Limits) -> u32 {
        limits
            .codes_per_application
            .saturating_sub(self.codes_issued)
    }
}

/// Whole seconds from `now` until `then`, at least 1.
pub fn seconds_until(now: OffsetDateTime, then: OffsetDateTime) -> u64 {
    let seconds = (then - now).as_seconds_f64().ceil();
    if seconds < 1.0 {
        1
    } else {
        seconds as u64
    }
}

/// A stored application as the entity; a row that does not parse is corrupt.
impl TryFrom<ApplicationRow> for ReissueApplication {
    type Error = StorageError;

    fn try_from(row: ApplicationRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str| StorageError::Corrupt(format!("application {}: {what}", row.id));
        let count = |n: i32, what: &str| u32::try_from(n).map_err(|_| corrupt(what));
        let code = match (&row.code_hash, row.code_expires_at) {
            (Some(hash), Some(expires_at)) => Some(ActiveCode {
                hash: hash.clone(),
                expires_at: from_db_time(expires_at),
                failed_attempts: count(row.code_failed_attempts, "code_failed_attempts")?,
            }),
            _ => None,
        };
        let submission = match (&row.reference_number, row.submitted_at) {
            (Some(reference_number), Some(submitted_at)) => Some(Submission {
                reference_number: reference_number.clone(),
                submitted_at: from_db_time(submitted_at),
            }),
            (None, None) => None,
            _ => return Err(corrupt("reference_number without submitted_at or back")),
        };
        let approval = match (&row.approved_by, row.approved_at) {
            (Some(by), Some(at)) => Some(Approval {
                approved_by: by.clone(),
                approved_at: from_db_time(at),
                confirmation: match (&row.confirmed_by, row.confirmed_at) {
                    (Some(by), Some(at)) => Some((by.clone(), from_db_time(at))),
                    (None, None) => None,
                    _ => return Err(corrupt("confirmed_by without confirmed_at or back")),
                },
            }),
            (None, None) if row.confirmed_by.is_none() => None,
            _ => return Err(corrupt("an incomplete approval")),
        };
        let reprint_request = match (
            &row.reprint_requested_by,
            row.reprint_requested_at,
            &row.reprint_reason,
        ) {
            (Some(by), Some(at), Some(reason)) => Some(ReprintRequest {
                requested_by: by.clone(),
                requested_at: from_db_time(at),
                reason: reason.clone(),
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("an incomplete reprint request")),
        };
        let envelope = EnvelopeState::parse(&row.envelope).ok_or_else(|| corrupt("envelope"))?;
        Ok(Self {
            id: Uuid::parse_str(&row.id).map_err(|_| corrupt("id"))?,
            office_number: OfficeNumber::parse(&row.office_number)
                .map_err(|_| corrupt("office_number"))?,
            email: match row.email.as_str() {
                ERASED => None,
                stored => Some(
                    EmailAddress::parse(stored, NOTICE_EMAIL.field, NOTICE_EMAIL.label)
                        .map_err(|_| corrupt("email"))?,
                ),
            },
            prefecture: row
                .prefecture_code
                .as_deref()
                .map(PrefectureCode::parse)
                .transpose()
                .map_err(|_| corrupt("prefecture_code"))?,
            status: row.status.parse().map_err(|_| corrupt("status"))?,
            codes_issued: count(row.codes_issued, "codes_issued")?,
            code,
            submission,
            last_code_sent_at: row.last_code_sent_at.map(from_db_time),
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            expires_at: from_db_time(row.expires_at),
            verified_at: row.verified_at.map(from_db_time),
            decided_at: row.decided_at.map(from_db_time),
            approval,
            reprint_request,
            envelope,
            envelope_requested_at: row.envelope_requested_at.map(from_db_time),
            envelope_received_at: row.envelope_received_at.map(from_db_time),
            token_hash: row.token_hash.clone(),
            office_name: row.office_name.clone(),
            closed_reason: row.closed_reason.clone(),
            client_address: row.client_address.clone(),
            decision_reason: row.decision_reason.clone(),
            stored: Some(row),
        })
    }
}

/// The entity as its row.
impl From<&ReissueApplication> for ApplicationRow {
    fn from(a: &ReissueApplication) -> Self {
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        let confirmation = a.approval.as_ref().and_then(|x| x.confirmation.as_ref());
        Self {
            id: a.id.to_string(),
            token_hash: a.token_hash.clone(),
            office_number: a.office_number.as_str().to_owned(),
            email: a
                .email
                .as_ref()
                .map_or_else(|| ERASED.to_owned(), |e| e.as_str().to_owned()),
            prefecture_code: a.prefecture.map(|p| p.as_str().to_owned()),
            office_name: a.office_name.clone(),
            status: a.status.as_str().to_owned(),
            closed_reason: a.closed_reason.clone(),
            reference_number: a.submission.as_ref().map(|s| s.reference_number.clone()),
            code_hash: a.code.as_ref().map(|c| c.hash.clone()),
            code_expires_at: a.code.as_ref().map(|c| to_db_time(c.expires_at)),
            code_failed_attempts: a.code.as_ref().map_or(0, |c| count(c.failed_attempts)),
            codes_issued: count(a.codes_issued),
            last_code_sent_at: a.last_code_sent_at.map(to_db_time),
            client_address: a.client_address.clone(),
            created_at: to_db_time(a.created_at),
            updated_at: to_db_time(a.updated_at),
            expires_at: to_db_time(a.expires_at),
            verified_at: a.verified_at.map(to_db_time),
            submitted_at: a.submission.as_ref().map(|s| to_db_time(s.submitted_at)),
            decision_reason: a.decision_reason.clone(),
            decided_at: a.decided_at.map(to_db_time),
            approved_by: a.approval.as_ref().map(|x| x.approved_by.clone()),
            approved_at: a.approval.as_ref().map(|x| to_db_time(x.approved_at)),
            confirmed_by: confirmation.map(|(by, _)| by.clone()),
            confirmed_at: confirmation.map(|(_, at)| to_db_time(*at)),
            reprint_requested_by: a.reprint_request.as_ref().map(|r| r.requested_by.clone()),
            reprint_requested_at: a
                .reprint_request
                .as_ref()
                .map(|r| to_db_time(r.requested_at)),
            reprint_reason: a.reprint_request.as_ref().map(|r| r.reason.clone()),
            envelope: a.envelope.as_str().to_owned(),
            envelope_requested_at: a.envelope_requested_at.map(to_db_time),
            envelope_received_at: a.envelope_received_at.map(to_db_time),
        }
    }
}

fn entities(rows: Vec<ApplicationRow>) -> Result<Vec<ReissueApplication>, StorageError> {
    rows.into_iter().map(ReissueApplication::try_from).collect()
}

/// Storage of applications, as entities (the SQL is in `db::applications`).
impl ReissueApplication {
    /// Reads one application.
    pub fn load(conn: &mut DbConnection, id: Uuid) -> Result<Option<Self>, StorageError> {
        db::applications::find(conn, id)?
            .map(Self::try_from)
            .transpose()
    }

    /// Reads the application with this 受付番号.
    pub fn load_by_reference_number(
        conn: &mut DbConnection,
        reference_number: &str,
    ) -> Result<Option<Self>, StorageError> {
        db::applications::find_by_reference_number(conn, reference_number)?
            .map(Self::try_from)
            .transpose()
    }

    /// Reads one application and locks it until the transaction ends.
    pub fn load_for_update(
        conn: &mut DbConnection,
        id: Uuid,
    ) -> Result<Option<Self>, StorageError> {
        db::applications::find_for_update(conn, id)?
            .map(Self::try_from)
            .transpose()
    }

    /// Stores a new application.
    pub fn insert(&mut self, conn: &mut DbConnection) -> Result<(), StorageError> {
        let row = ApplicationRow::from(&*self);
        db::applications::insert(conn, &row)?;
        self.stored = Some(row);
        Ok(())
    }

    /// Stores an existing application: the columns that changed since it was read (or last
    /// stored).
    pub fn save(&mut self, conn: &mut DbConnection) -> Result<(), StorageError> {
        let row = ApplicationRow::from(&*self);
        db::applications::update(conn, self.stored.as_ref(), &row)?;
        self.stored = Some(row);
        Ok(())
    }

    /// The unsubmitted applications of an office.
    pub fn unsubmitted_of_office(
        conn: &mut DbConnection,
        office_number: &OfficeNumber,
    ) -> Result<Vec<Self>, StorageError> {
        entities(db::applications::find_unsubmitted_for_office(
            conn,
            office_number,
        )?)
    }

    /// Marks up to `batch` unsubmitted applications past their lifetime as expired.
    pub fn expire_due(
        conn: &mut DbConnection,
        now: OffsetDateTime,
        batch: i64,
    ) -> Result<Vec<Self>, StorageError> {
        entities(db::applications::expire_due(conn, now, batch)?)
    }

    /// One page of a prefecture's queue and how many match in all.
    pub fn queue(
        conn: &mut DbConnection,
        filter: &QueueFilter,
    ) -> Result<(Vec<Self>, i64), StorageError> {
        let (rows, total) = db::applications::queue(conn, filter)?;
        Ok((entities(rows)?, total))
    }

    /// Every application of an office in a prefecture, oldest first.
    pub fn of_office(
        conn: &mut DbConnection,
        prefecture: PrefectureCode,
        office_number: &OfficeNumber,
    ) -> Result<Vec<Self>, StorageError> {
        entities(db::applications::for_office(
            conn,
            prefecture,
            office_number,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reissue_shared::email::NOTICE_EMAIL;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits::default()
    }

    fn application(now: OffsetDateTime) -> ReissueApplication {
        let office = OfficeNumber::parse("1311111111");
        let email = EmailAddress::parse("a@example.jp", NOTICE_EMAIL.field, NOTICE_EMAIL.label);
        match (office, email) {
            (Ok(office), Ok(email)) => ReissueApplication::new(
                office,
                email,
                "t".into(),
                "127.0.0.1".into(),
                now,
                &limits(),
            ),
            _ => panic!("fixture must parse"),
        }
    }

    fn with_code(now: OffsetDateTime) -> ReissueApplication {
        let mut app = application(now);
        assert!(app
            .choose_prefecture(PrefectureCode::TOKYO, "請求事業所 A".into(), now)
            .is_ok());
        assert!(app.issue_code("h".into(), now, &limits()).is_ok());
        app
    }

    #[test]
    fn the_happy_path_reaches_submitted() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        assert_eq!(app.status, ApplicationStatus::CodeSent);
        let outcome = app.record_code_entry(true, now, &limits()).ok();
        assert_eq!(outcome, Some(VerificationOutcome::Verified));
        assert!(app.code.is_none(), "a used code is gone");
        assert!(app.submit("AAAA-AAAA".into(), now).is_ok());
        assert_eq!(app.status, ApplicationStatus::Submitted);
    }

    #[test]
    fn fifth_wrong_code_locks_the_code() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        for left in (1..=4).rev() {
            let outcome = app.record_code_entry(false, now, &limits()).ok();
            assert_eq!(
                outcome,
                Some(VerificationOutcome::Wrong {
                    attempts_left: left
                })
            );
        }
        let outcome = app.record_code_entry(false, now, &limits()).ok();
        assert_eq!(outcome, Some(VerificationOutcome::Locked));
        let next = app.record_code_entry(true, now, &limits());
        assert!(matches!(next, Err(DomainError::CodeLocked { .. })));
    }

    #[test]
    fn a_code_expires_after_thirty_minutes() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        let later = now + Duration::from_secs(30 * 60);
        assert!(matches!(
            app.record_code_entry(true, later, &limits()),
            Err(DomainError::CodeExpired {
                lifetime_minutes: 30
            })
        ));
    }

    #[test]
    fn submit_before_verify_is_refused_and_double_submit_too() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        assert!(matches!(
            app.submit("X".into(), now),
            Err(DomainError::InvalidState(InvalidStateReason::NotVerified))
        ));
        assert!(app.record_code_entry(true, now, &limits()).is_ok());
        assert!(app.submit("X".into(), now).is_ok());
        assert!(matches!(
            app.submit("Y".into(), now),
            Err(DomainError::AlreadySubmitted)
        ));
    }

    #[test]
    fn a_fourth_code_is_refused_and_resends_are_spaced() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        assert!(matches!(
            app.issue_code("h2".into(), now, &limits()),
            Err(DomainError::RateLimited {
                retry_after_secs: 60
            })
        ));
        let t2 = now + Duration::from_secs(61);
        assert!(app.issue_code("h2".into(), t2, &limits()).is_ok());
        let t3 = t2 + Duration::from_secs(61);
        assert!(app.issue_code("h3".into(), t3, &limits()).is_ok());
        let t4 = t3 + Duration::from_secs(61);
        assert!(matches!(
            app.issue_code("h4".into(), t4, &limits()),
            Err(DomainError::CodeLimitReached { limit: 3 })
        ));
    }

    #[test]
    fn an_unsubmitted_application_expires_and_then_refuses_every_step() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        let later = app.expires_at;
        assert_eq!(app.effective_status(later), ApplicationStatus::Expired);
        assert!(matches!(
            app.record_code_entry(true, later, &limits()),
            Err(DomainError::ApplicationExpired)
        ));
    }

    fn in_review(now: OffsetDateTime) -> ReissueApplication {
        let mut app = with_code(now);
        assert!(app.record_code_entry(true, now, &limits()).is_ok());
        assert!(app.submit("AAAA-AAAA".into(), now).is_ok());
        assert!(app.start_review(now).is_ok());
        app
    }

    #[test]
    fn a_four_eyes_approval_waits_for_another_reviewer() {
        // Stored times keep microseconds: a time that survives the round trip.
        let now = from_db_time(to_db_time(OffsetDateTime::now_utc()));
        let mut app = in_review(now);
        assert!(app.decide(&Decision::Approve, "r1", true, now).is_ok());
        assert_eq!(app.status, ApplicationStatus::AwaitingConfirmation);
        assert_eq!(app.decided_at, None);
        assert!(matches!(
            app.confirm_approval("r1", now),
            Err(DomainError::SameReviewer)
        ));
        assert!(matches!(
            app.send_back_approval("r1", now),
            Err(DomainError::SameReviewer)
        ));
        assert!(app.confirm_approval("r2", now).is_ok());
        assert_eq!(app.status, ApplicationStatus::Approved);
        let confirmation = app.approval.as_ref().and_then(|a| a.confirmation.clone());
        assert_eq!(confirmation.map(|(by, _)| by), Some("r2".to_owned()));
        let row = ApplicationRow::from(&app);
        let again = ReissueApplication::try_from(row).ok();
        assert_eq!(again.and_then(|a| a.approval), app.approval);
    }

    #[test]
    fn a_sent_back_approval_is_in_review_again_and_one_step_approval_is_final() {
        let now = OffsetDateTime::now_utc();
        let mut app = in_review(now);
        assert!(app.decide(&Decision::Approve, "r1", true, now).is_ok());
        assert!(app.send_back_approval("r2", now).is_ok());
        assert_eq!(app.status, ApplicationStatus::InReview);
        assert_eq!(app.approval, None);
        assert!(app.decide(&Decision::Approve, "r1", false, now).is_ok());
        assert_eq!(app.status, ApplicationStatus::Approved);
        assert!(matches!(
            app.confirm_approval("r2", now),
            Err(DomainError::TransitionRefused { .. })
        ));
    }

    #[test]
    fn a_reprint_request_is_answered_by_another_reviewer_once() {
        let now = OffsetDateTime::now_utc();
        let mut app = in_review(now);
        assert!(app.decide(&Decision::Approve, "r1", false, now).is_ok());
        assert!(app.request_reprint("r1", "返送された".into(), now).is_ok());
        assert!(matches!(
            app.request_reprint("r2", "x".into(), now),
            Err(DomainError::ReprintRefused(
                ReprintRefusal::AlreadyRequested
            ))
        ));
        assert!(matches!(
            app.close_reprint_request("r1", now),
            Err(DomainError::SameReviewer)
        ));
        let request = app.close_reprint_request("r2", now).ok();
        assert_eq!(request.map(|r| r.reason), Some("返送された".to_owned()));
        assert!(matches!(
            app.close_reprint_request("r2", now),
            Err(DomainError::ReprintRefused(ReprintRefusal::NoneRequested))
        ));
    }

    #[test]
    fn a_superseded_application_says_so() {
        let now = OffsetDateTime::now_utc();
        let mut app = with_code(now);
        app.supersede(now);
        assert!(matches!(
            app.ensure_open(now),
            Err(DomainError::ApplicationSuperseded)
        ));
    }
}
