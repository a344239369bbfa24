//! The federation's review (DESIGN.md "After submission"): the queue, an application's page,
//! and the reviewer's actions. A reviewer sees only their own prefecture: another prefecture's
//! application is "not found", never shown, never counted.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::admin::{
    ApplicationDetail, ApplicationList, ApplicationQuery, ApplicationSummary, ApprovalView,
    Confirmation, Decision, LedgerEntryView, ReprintRequestView,
};
use reissue_shared::ApplicationStatus;

use super::accounts;
use super::application::ReissueApplication;
use super::audit::{self as audit_log_labels, AuditAction, AuditEvent};
use super::calendar;
use super::error::ReprintRefusal;
use super::federation::{self, FederationSettings};
use super::ledger::LedgerEntry;
use super::secrets::Sealer;
use super::sessions::Reviewer;
use super::templates::{self, MailContent, ReviewOutcome};
use super::{Context, DomainError, Tx};
use crate::db::applications::QueueFilter;
use crate::db::{self, DbConnection};

/// Rows per page of the queue.
pub const PER_PAGE: u32 = 50;

/// The queue: the reviewer's prefecture, filtered, oldest first, with counts by status; `page`
/// (from 1) as the route checked it.
pub async fn list(
    ctx: &Context,
    reviewer: Reviewer,
    query: ApplicationQuery,
    page: u32,
) -> Result<ApplicationList, DomainError> {
    ctx.read(move |conn, _ctx, now| {
        let filter = QueueFilter {
            prefecture: reviewer.prefecture,
            status: query.status,
            search: query.q.clone(),
            offset: i64::from(page - 1) * i64::from(PER_PAGE),
            limit: i64::from(PER_PAGE),
        };
        let (applications, total) = ReissueApplication::queue(conn, &filter)?;
        let counts = db::applications::counts_by_status(conn, reviewer.prefecture)?
            .into_iter()
            .map(|(status, n)| (status, u64::try_from(n).unwrap_or(0)))
            .collect::<BTreeMap<_, _>>();
        let clock = AgeClock::of(conn, reviewer.prefecture, now)?;
        let items = summaries(conn, &reviewer, &applications, &clock)?;
        let waiting = db::applications::waiting_since(conn, reviewer.prefecture)?;
        Ok(ApplicationList {
            items,
            total: u64::try_from(total).unwrap_or(0),
            counts,
            ageing: clock.ageing(waiting.into_iter().map(crate::db::models::from_db_time)),
            page,
            per_page: PER_PAGE,
        })
    })
    .await
}

/// An application's page: the application, its ledger entry, notes, history and the other
/// applications of the same office.
pub async fn detail(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
) -> Result<ApplicationDetail, DomainError> {
    ctx.read(move |conn, ctx, _now| {
        let application = load_in_prefecture(conn, &reviewer, id, false)?;
        detail_of(conn, ctx, &reviewer, &application)
    })
    .await
}

/// 審査開始.
pub async fn start_review(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
) -> Result<ApplicationDetail, DomainError> {
    act(
        ctx,
        reviewer,
        id,
        AuditAction::ReviewStarted,
        |tx, application| {
            application.start_review(tx.now)?;
            Ok(Transition::default())
        },
    )
    .await
}

/// 承認 or 却下 (the reason is required to reject and shown to the office), with the result
/// mail to the notification address. With four-eyes issuance (`REISSUE_FOUR_EYES`) an approval
/// only waits for a second reviewer (二次承認待ち): no temporary password, notice or mail yet.
pub async fn decide(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    decision: Decision,
) -> Result<ApplicationDetail, DomainError> {
    let four_eyes = ctx.four_eyes;
    let action = match decision {
        Decision::Approve => AuditAction::ApplicationApproved,
        Decision::Reject(_) => AuditAction::ApplicationRejected,
    };
    let mut fresh = match decision {
        Decision::Approve if !four_eyes => {
            Some(accounts::FreshTemporaryPassword::prepare(ctx).await?)
        }
        Decision::Approve | Decision::Reject(_) => None,
    };
    let approver = reviewer.id.clone();
    act(ctx, reviewer, id, action, move |tx, application| {
        if decision == Decision::Approve {
            let settings = FederationSettings::load(tx.conn, reviewer_prefecture(application)?)?;
            check_ledger(tx.conn, application)?;
            check_callback(tx.conn, application, &settings)?;
            if !four_eyes {
                application.check_envelope(settings.settings.return_envelope_required)?;
            }
        }
        application.decide(&decision, &approver, four_eyes, tx.now)?;
        match decision {
            Decision::Approve if four_eyes => Ok(Transition {
                detail: "awaiting confirmation by another reviewer".to_owned(),
                ..Transition::default()
            }),
            Decision::Approve => issue_approved(tx, application, fresh.take()),
            Decision::Reject(reason) => {
                let reference = &application.submitted()?.reference_number;
                let contact = federation::contact(tx.conn, application.prefecture)?;
                Ok(Transition {
                    mail: Some(templates::review_result(
                        reference,
                        &ReviewOutcome::Rejected(reason.clone()),
                        &contact,
                    )),
                    detail: reason,
                    also: Vec::new(),
                })
            }
        }
    })
    .await
}

/// What 承認 does once final: the temporary password and its postal notice, the security
/// e-mail's alert, and the result mail, all in the approval's transaction.
fn issue_approved(
    tx: &mut Tx<'_>,
    application: &ReissueApplication,
    fresh: Option<accounts::FreshTemporaryPassword>,
) -> Result<Transition, DomainError> {
    let fresh = accounts::FreshTemporaryPassword::prepared_or_generated(fresh)?;
    let (account, _notice) =
        accounts::issue_temporary_password(tx.conn, tx.ctx, application, fresh, tx.now)?;
    accounts::notify_security_email(
        tx,
        &account,
        "ログイン情報の再発行申請が承認されました。事業所台帳の住所へ通知書を郵送します。",
    )?;
    let reference = &application.submitted()?.reference_number;
    let contact = federation::contact(tx.conn, application.prefecture)?;
    Ok(Transition {
        detail: String::new(),
        mail: Some(templates::review_result(
            reference,
            &ReviewOutcome::Approved,
            &contact,
        )),
        also: vec![(
            AuditAction::NoticeIssued,
            format!("user ID {}", account.user_id),
        )],
    })
}

/// 二次承認: another reviewer of the prefecture confirms an approval (then it is 承認, with the
/// temporary password, the notice and the result mail) or sends it back to 審査中 with a
/// reason. The approver cannot answer their own approval.
pub async fn confirm(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    confirmation: Confirmation,
) -> Result<ApplicationDetail, DomainError> {
    let (action, mut fresh) = answer_of(
        ctx,
        &confirmation,
        AuditAction::ApprovalConfirmed,
        AuditAction::ApprovalSentBack,
    )
    .await?;
    let confirmer = reviewer.id.clone();
    act(
        ctx,
        reviewer,
        id,
        action,
        move |tx, application| match confirmation {
            Confirmation::Confirm => {
                let settings =
                    FederationSettings::load(tx.conn, reviewer_prefecture(application)?)?;
                check_ledger(tx.conn, application)?;
                check_callback(tx.conn, application, &settings)?;
                application.check_envelope(settings.settings.return_envelope_required)?;
                application.confirm_approval(&confirmer, tx.now)?;
                issue_approved(tx, application, fresh.take())
            }
            Confirmation::SendBack(reason) => {
                application.send_back_approval(&confirmer, tx.now)?;
                Ok(Transition {
                    detail: reason,
                    ..Transition::default()
                })
            }
        },
    )
    .await
}

/// What a second reviewer's answer records (`confirmed` or `sent_back`), and, for a
/// confirmation, the temporary password it issues, hashed before the transaction.
async fn answer_of(
    ctx: &Context,
    confirmation: &Confirmation,
    confirmed: AuditAction,
    sent_back: AuditAction,
) -> Result<(AuditAction, Option<accounts::FreshTemporaryPassword>), DomainError> {
    Ok(match confirmation {
        Confirmation::Confirm => (
            confirmed,
            Some(accounts::FreshTemporaryPassword::prepare(ctx).await?),
        ),
        Confirmation::SendBack(_) => (sent_back, None),
    })
}

/// Asks for the posted notice to be printed again (e.g. it came back undelivered): printing
/// it mints a new temporary password, so another reviewer must confirm the request first.
pub async fn request_reprint(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    reason: String,
) -> Result<ApplicationDetail, DomainError> {
    let requester = reviewer.id.clone();
    act(
        ctx,
        reviewer,
        id,
        AuditAction::ReprintRequested,
        move |tx, application| {
            if application.status == ApplicationStatus::Approved
                && notice_is_printable(tx.conn, application)?
            {
                return Err(DomainError::ReprintRefused(
                    ReprintRefusal::NoticeStillPrintable,
                ));
            }
            application.request_reprint(&requester, reason.clone(), tx.now)?;
            Ok(Transition {
                detail: reason,
                ..Transition::default()
            })
        },
    )
    .await
}

/// Another reviewer answers a reprint request: confirmed, a new temporary password and notice
/// are issued (the old one voided) and the office's security e-mail is told; sent back, the
/// request ends with the reason. The requester cannot answer their own request.
pub async fn confirm_reprint(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    confirmation: Confirmation,
) -> Result<ApplicationDetail, DomainError> {
    let (action, mut fresh) = answer_of(
        ctx,
        &confirmation,
        AuditAction::ReprintConfirmed,
        AuditAction::ReprintSentBack,
    )
    .await?;
    let confirmer = reviewer.id.clone();
    act(ctx, reviewer, id, action, move |tx, application| {
        let request = application.close_reprint_request(&confirmer, tx.now)?;
        match confirmation {
            Confirmation::Confirm => {
                let fresh = accounts::FreshTemporaryPassword::prepared_or_generated(fresh.take())?;
                let user_id = reissue_notice(tx, application, fresh)?;
                Ok(Transition {
                    detail: request.reason,
                    mail: None,
                    also: vec![(
                        AuditAction::NoticeIssued,
                        format!("reprint: new temporary password for {user_id}"),
                    )],
                })
            }
            Confirmation::SendBack(reason) => Ok(Transition {
                detail: reason,
                ..Transition::default()
            }),
        }
    })
    .await
}

/// A new temporary password and notice for an approved application whose notice was posted
/// (or expired), the old one voided; the office's security e-mail hears of it. Returns the
/// user ID.
fn reissue_notice(
    tx: &mut Tx<'_>,
    application: &ReissueApplication,
    fresh: accounts::FreshTemporaryPassword,
) -> Result<String, DomainError> {
    let (account, _notice) =
        accounts::issue_temporary_password(tx.conn, tx.ctx, application, fresh, tx.now)?;
    accounts::notify_security_email(
        tx,
        &account,
        "ログイン情報再発行通知書が再び発行されました。新しい仮パスワードを事業所台帳の住所へ郵送します。以前の通知書の仮パスワードは使えなくなりました。",
    )?;
    Ok(account.user_id)
}

/// Whether the application's current notice still holds its sealed temporary password (it
/// prints as it is, without a new one).
fn notice_is_printable(
    conn: &mut DbConnection,
    application: &ReissueApplication,
) -> Result<bool, DomainError> {
    Ok(accounts::current_notice(conn, &application.id.to_string())?
        .is_some_and(|notice| notice.sealed_password.is_some()))
}

/// 取下げ, with the reason.
pub async fn withdraw(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    reason: String,
) -> Result<ApplicationDetail, DomainError> {
    act(
        ctx,
        reviewer,
        id,
        AuditAction::ApplicationWithdrawn,
        move |tx, application| {
            application.withdraw(reason.clone(), tx.now)?;
            Ok(Transition {
                detail: reason,
                ..Transition::default()
            })
        },
    )
    .await
}

/// A call note (e.g. what the office said on the phone).
pub async fn add_note(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    text: String,
) -> Result<ApplicationDetail, DomainError> {
    ctx.transaction(move |tx| {
        let (conn, ctx, now) = (&mut *tx.conn, tx.ctx, tx.now);
        let application = load_in_prefecture(conn, &reviewer, id, true)?;
        db::notes::insert(conn, application.id, &reviewer.id, &text, now)?;
        audit(
            conn,
            &reviewer,
            &application,
            AuditAction::NoteAdded,
            String::new(),
            now,
        )?;
        detail_of(conn, ctx, &reviewer, &application)
    })
    .await
}

/// The prefecture of an application a reviewer loaded (always set once submitted).
fn reviewer_prefecture(
    application: &ReissueApplication,
) -> Result<reissue_shared::PrefectureCode, DomainError> {
    application.prefecture.ok_or_else(|| {
        DomainError::Internal(format!("application {} has no prefecture", application.id))
    })
}

/// An approval needs the office in the ledger still, and any change of its entry since the
/// submission acknowledged by a reviewer.
fn check_ledger(
    conn: &mut DbConnection,
    application: &ReissueApplication,
) -> Result<(), DomainError> {
    let prefecture = reviewer_prefecture(application)?;
    if LedgerEntry::find(conn, prefecture, &application.office_number)?.is_none() {
        return Err(DomainError::OfficeRemovedFromLedger);
    }
    match ledger_change(conn, application)? {
        Some(change) if !change.acknowledged => Err(DomainError::LedgerChanged),
        _ => Ok(()),
    }
}

fn entry_view(entry: LedgerEntry) -> LedgerEntryView {
    LedgerEntryView {
        office_number: entry.office_number.to_string(),
        office_name: entry.office_name,
        kind: entry.kind.label().to_owned(),
        postal_code: entry.postal_code,
        address: entry.address,
        phone: entry.phone,
    }
}

/// How the office's ledger entry changed since the submission, if it did, and whether a
/// reviewer acknowledged the latest change.
fn ledger_change(
    conn: &mut DbConnection,
    application: &ReissueApplication,
) -> Result<Option<reissue_shared::admin::LedgerChangeView>, DomainError> {
    let (Some(prefecture), Some(submission)) = (application.prefecture, &application.submission)
    else {
        return Ok(None);
    };
    let Some((before, after, changed_at)) = super::ledger::change_since(
        conn,
        prefecture,
        &application.office_number,
        submission.submitted_at,
    )?
    else {
        return Ok(None);
    };
    let acknowledged = db::ledger::acknowledged_at(conn, &application.id.to_string())?
        .map(crate::db::models::from_db_time)
        .is_some_and(|at| at >= changed_at);
    Ok(Some(reissue_shared::admin::LedgerChangeView {
        before: entry_view(before),
        after: after.map(entry_view),
        changed_at,
        acknowledged,
    }))
}

/// The reviewer has seen how the office's ledger entry changed since the submission: an
/// approval no longer waits for it (until the next change).
pub async fn acknowledge_ledger_change(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
) -> Result<ApplicationDetail, DomainError> {
    let reviewer_id = reviewer.id.clone();
    act(
        ctx,
        reviewer,
        id,
        AuditAction::LedgerChangeAcknowledged,
        move |tx, application| {
            application.check_can_acknowledge_ledger_change()?;
            db::ledger::acknowledge(
                tx.conn,
                &application.id.to_string(),
                &reviewer_id,
                crate::db::models::to_db_time(tx.now),
            )?;
            Ok(Transition::default())
        },
    )
    .await
}

/// With a prefecture that requires it, an approval needs a call to the ledger's number that
/// reached the office.
fn check_callback(
    conn: &mut DbConnection,
    application: &ReissueApplication,
    settings: &FederationSettings,
) -> Result<(), DomainError> {
    if !settings.settings.callback_required {
        return Ok(());
    }
    let reached = db::federation::callbacks_of(conn, &application.id.to_string())?
        .iter()
        .any(|call| call.reached);
    if reached {
        Ok(())
    } else {
        Err(DomainError::CallbackMissing)
    }
}

/// Asks the office for a return envelope: the prefecture's instructions go to the
/// notification address, and the queue shows 返信用封筒待ち until it arrives.
pub async fn request_envelope(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
) -> Result<ApplicationDetail, DomainError> {
    act(
        ctx,
        reviewer,
        id,
        AuditAction::EnvelopeRequested,
        |tx, application| {
            let settings = FederationSettings::load(tx.conn, reviewer_prefecture(application)?)?;
            if settings.settings.envelope_instructions.trim().is_empty() {
                return Err(DomainError::Validation(vec![reissue_shared::FieldError::new(
                    "envelope_instructions",
                    reissue_shared::FieldErrorCode::Required,
                    "返信用封筒の案内文が設定されていません。審査責任者が「都道府県の設定」で、送ってほしいもの（切手の額、封筒の大きさ、宛先）を登録してください。",
                )]));
            }
            application.request_envelope(tx.now)?;
            let reference = application.submitted()?.reference_number.clone();
            Ok(Transition {
                mail: Some(templates::envelope_request(
                    &reference,
                    &settings.settings.envelope_instructions,
                    &settings.settings.federation_name,
                    &settings.contact(),
                )),
                ..Transition::default()
            })
        },
    )
    .await
}

/// The return envelope arrived.
pub async fn receive_envelope(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
) -> Result<ApplicationDetail, DomainError> {
    act(
        ctx,
        reviewer,
        id,
        AuditAction::EnvelopeReceived,
        |tx, application| {
            application.receive_envelope(tx.now)?;
            Ok(Transition::default())
        },
    )
    .await
}

/// A call to the office's number as the ledger lists it (never a number from anywhere else):
/// who, when, reached or not, and what was said.
pub async fn record_callback(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    call: reissue_shared::federation::Callback,
) -> Result<ApplicationDetail, DomainError> {
    ctx.transaction(move |tx| {
        let (conn, ctx, now) = (&mut *tx.conn, tx.ctx, tx.now);
        let application = load_in_prefecture(conn, &reviewer, id, true)?;
        application.check_can_record_call()?;
        let entry = ledger_view(conn, &reviewer, &application)?.ok_or_else(|| {
            DomainError::Validation(vec![reissue_shared::FieldError::new(
                "reached",
                reissue_shared::FieldErrorCode::UnknownValue,
                "この事業所は事業所台帳にないため、台帳の電話番号へ電話できません。台帳を確認してください。",
            )])
        })?;
        db::federation::insert_callback(
            conn,
            &crate::db::models::CallbackRow {
                id: Uuid::now_v7().to_string(),
                application_id: application.id.to_string(),
                reviewer_id: reviewer.id.clone(),
                phone: entry.phone.clone(),
                reached: call.reached,
                note: call.note,
                called_at: crate::db::models::to_db_time(now),
            },
        )?;
        audit(
            conn,
            &reviewer,
            &application,
            AuditAction::CallbackRecorded,
            if call.reached { "reached" } else { "not reached" }.to_owned(),
            now,
        )?;
        detail_of(conn, ctx, &reviewer, &application)
    })
    .await
}

/// What a status change records besides the new status.
#[derive(Debug, Default)]
struct Transition {
    /// The audit detail (e.g. the reason).
    detail: String,
    /// A mail to the application's notification address.
    mail: Option<MailContent>,
    /// Further audit entries, recorded after the transition's own.
    also: Vec<(AuditAction, String)>,
}

/// One status transition in one transaction: load (locked), change, store, audit, and queue
/// its mail, so that all of it happens or none.
async fn act<F>(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    action: AuditAction,
    change: F,
) -> Result<ApplicationDetail, DomainError>
where
    F: FnOnce(&mut Tx<'_>, &mut ReissueApplication) -> Result<Transition, DomainError>
        + Send
        + 'static,
{
    ctx.transaction(move |tx| {
        let mut application = load_in_prefecture(tx.conn, &reviewer, id, true)?;
        let transition = change(tx, &mut application)?;
        application.save(tx.conn)?;
        audit(
            tx.conn,
            &reviewer,
            &application,
            action,
            transition.detail,
            tx.now,
        )?;
        for (action, detail) in transition.also {
            audit(tx.conn, &reviewer, &application, action, detail, tx.now)?;
        }
        if let Some(mail) = transition.mail {
            let email = application.notification_address()?.as_str();
            tx.queue_mail(email, mail, Some(application.id))?;
        }
        detail_of(tx.conn, tx.ctx, &reviewer, &application)
    })
    .await
}

/// The application if it belongs to the reviewer's prefecture; otherwise "not found".
fn load_in_prefecture(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    id: Uuid,
    for_update: bool,
) -> Result<ReissueApplication, DomainError> {
    let found = if for_update {
        ReissueApplication::load_for_update(conn, id)?
    } else {
        ReissueApplication::load(conn, id)?
    };
    found
        .filter(|application| application.prefecture == Some(reviewer.prefecture))
        .ok_or(DomainError::NotFound)
}

/// The application's office in the reviewer's prefecture's ledger, as shown to reviewers.
fn ledger_view(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    application: &ReissueApplication,
) -> Result<Option<LedgerEntryView>, DomainError> {
    Ok(LedgerEntry::find(conn, reviewer.prefecture, &application.office_number)?.map(entry_view))
}

fn detail_of(
    conn: &mut DbConnection,
    ctx: &Context,
    reviewer: &Reviewer,
    application: &ReissueApplication,
) -> Result<ApplicationDetail, DomainError> {
    let four_eyes = ctx.four_eyes;
    let now = ctx.clock.now();
    let notice = accounts::current_notice(conn, &application.id.to_string())?;
    let ledger_entry = ledger_view(conn, reviewer, application)?;
    let others: Vec<ReissueApplication> =
        ReissueApplication::of_office(conn, reviewer.prefecture, &application.office_number)?
            .into_iter()
            .filter(|other| other.id != application.id)
            .collect();
    let others_count = u32::try_from(others.len()).unwrap_or(u32::MAX);
    let settings = FederationSettings::load(conn, reviewer.prefecture)?;
    let clock = AgeClock {
        today: reissue_shared::japan_time::in_japan(now).date(),
        target: settings.settings.review_target_business_days,
    };
    let calls = db::federation::callbacks_of(conn, &application.id.to_string())?;
    let mut callbacks = Vec::with_capacity(calls.len());
    for call in calls {
        callbacks.push(reissue_shared::federation::CallbackView {
            called_by: reviewer_name(conn, &call.reviewer_id)?,
            called_at: crate::db::models::from_db_time(call.called_at),
            phone: call.phone,
            reached: call.reached,
            note: call.note,
        });
    }
    let posting = notice.as_ref().and_then(|notice| notice.posting.clone());
    Ok(ApplicationDetail {
        application: summary(application, others_count, &clock),
        prefecture_code: application.prefecture.map(|p| p.as_str().to_owned()),
        decision_reason: application.decision_reason.clone(),
        ledger_entry,
        notes: db::notes::for_application(conn, application.id)?,
        history: history_of(conn, application.id)?,
        other_applications: others
            .iter()
            .map(|other| summary(other, others_count, &clock))
            .collect(),
        approval: approval_view(conn, reviewer, application)?,
        reprint_request: match &application.reprint_request {
            Some(request) => Some(ReprintRequestView {
                requested_by: reviewer_name(conn, &request.requested_by)?,
                requested_at: request.requested_at,
                reason: request.reason.clone(),
                requested_by_you: request.requested_by == reviewer.id,
            }),
            None => None,
        },
        notice_mailed_at: notice.as_ref().and_then(|notice| notice.mailed_at),
        reprint_required: application.status == ApplicationStatus::Approved
            && four_eyes
            && notice.is_some_and(|notice| notice.sealed_password.is_none()),
        notice_mailed_on: posting.as_ref().map(|p| p.mailed_on.to_string()),
        notice_tracking_number: posting
            .as_ref()
            .and_then(|p| p.tracking_number.as_ref())
            .map(|n| n.display()),
        checks: reissue_shared::federation::ApprovalChecks {
            return_envelope_required: settings.settings.return_envelope_required,
            callback_required: settings.settings.callback_required,
            callback_reached: callbacks.iter().any(|call| call.reached),
        },
        callbacks,
        ledger_change: ledger_change(conn, application)?,
    })
}

/// The application's history with Japanese labels and the actors' names.
fn history_of(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Vec<reissue_shared::admin::HistoryEntry>, DomainError> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut entries = db::audit::history(conn, id)?;
    for entry in &mut entries {
        entry.action_label = audit_log_labels::action_label(&entry.action);
        let name = match names.get(&entry.actor) {
            Some(name) => name.clone(),
            None => {
                let name = actor_name(conn, &entry.actor)?;
                names.insert(entry.actor.clone(), name.clone());
                name
            }
        };
        entry.actor_name = name;
    }
    Ok(entries)
}

/// An audit actor as people say it.
fn actor_name(conn: &mut DbConnection, actor: &str) -> Result<String, DomainError> {
    // The client address is kept only as its pseudonym (`domain::pseudonyms`): it still tells
    // the reviewer which steps came from one client.
    if let Some(client) = actor.strip_prefix("applicant@") {
        return Ok(format!("申請者（接続元 {client}）"));
    }
    Ok(match actor.split_once(':') {
        Some(("reviewer", id)) => reviewer_name(conn, id)?,
        Some(("office", user_id)) => format!("事業所（{user_id}）"),
        _ => match actor {
            "system" => "システム".to_owned(),
            "operator" => "運用担当".to_owned(),
            other => other.to_owned(),
        },
    })
}

/// Who approved and who confirmed, by name.
fn approval_view(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    application: &ReissueApplication,
) -> Result<Option<ApprovalView>, DomainError> {
    let Some(approval) = &application.approval else {
        return Ok(None);
    };
    let (confirmed_by, confirmed_at) = match &approval.confirmation {
        Some((by, at)) => (Some(reviewer_name(conn, by)?), Some(*at)),
        None => (None, None),
    };
    Ok(Some(ApprovalView {
        approved_by: reviewer_name(conn, &approval.approved_by)?,
        approved_at: approval.approved_at,
        approved_by_you: approval.approved_by == reviewer.id,
        confirmed_by,
        confirmed_at,
    }))
}

/// A reviewer's name as stored now; an id without an account (none is ever deleted) shows as
/// its audit actor.
fn reviewer_name(conn: &mut DbConnection, id: &str) -> Result<String, DomainError> {
    federation::reviewer_name(conn, id)
}

/// Today in Japan and the prefecture's review target: what an application's age is measured
/// against.
struct AgeClock {
    today: time::Date,
    target: u32,
}

/// The console's age bands (business days), youngest first.
const AGE_BANDS: [(u32, Option<u32>); 4] = [(0, Some(2)), (3, Some(5)), (6, Some(10)), (11, None)];

impl AgeClock {
    fn of(
        conn: &mut DbConnection,
        prefecture: reissue_shared::PrefectureCode,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            today: reissue_shared::japan_time::in_japan(now).date(),
            target: FederationSettings::load(conn, prefecture)?
                .settings
                .review_target_business_days,
        })
    }

    /// 経過日数 of an application that waits for the federation; none otherwise.
    fn waited(&self, application: &ReissueApplication) -> Option<u32> {
        let waiting = matches!(
            application.status,
            ApplicationStatus::Submitted
                | ApplicationStatus::InReview
                | ApplicationStatus::AwaitingConfirmation
        );
        let submitted = application.submission.as_ref()?.submitted_at;
        waiting.then(|| self.days_since(submitted))
    }

    fn days_since(&self, submitted_at: OffsetDateTime) -> u32 {
        let submitted_on = reissue_shared::japan_time::in_japan(submitted_at).date();
        calendar::business_days_between(submitted_on, self.today)
    }

    /// Counts per age band of the waiting applications submitted at these instants.
    fn ageing(
        &self,
        submitted: impl Iterator<Item = OffsetDateTime>,
    ) -> reissue_shared::admin::Ageing {
        let mut bands: Vec<reissue_shared::admin::AgeBand> = AGE_BANDS
            .iter()
            .map(|&(min_days, max_days)| reissue_shared::admin::AgeBand {
                label: match max_days {
                    Some(max) => format!("{min_days}〜{max}営業日"),
                    None => format!("{min_days}営業日以上"),
                },
                min_days,
                max_days,
                count: 0,
            })
            .collect();
        let mut overdue = 0;
        for at in submitted {
            let days = self.days_since(at);
            if days > self.target {
                overdue += 1;
            }
            if let Some(band) = bands
                .iter_mut()
                .find(|b| days >= b.min_days && b.max_days.is_none_or(|max| days <= max))
            {
                band.count += 1;
            }
        }
        reissue_shared::admin::Ageing {
            target_business_days: self.target,
            bands,
            overdue,
        }
    }
}

fn summaries(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    applications: &[ReissueApplication],
    clock: &AgeClock,
) -> Result<Vec<ApplicationSummary>, DomainError> {
    let offices: Vec<String> = applications
        .iter()
        .map(|a| a.office_number.to_string())
        .collect();
    let per_office: BTreeMap<String, i64> =
        db::applications::count_per_office(conn, reviewer.prefecture, &offices)?
            .into_iter()
            .collect();
    Ok(applications
        .iter()
        .map(|application| {
            let all = per_office
                .get(application.office_number.as_str())
                .copied()
                .unwrap_or(1);
            summary(application, u32::try_from(all - 1).unwrap_or(0), clock)
        })
        .collect())
}

fn summary(
    application: &ReissueApplication,
    other_applications: u32,
    clock: &AgeClock,
) -> ApplicationSummary {
    let status: ApplicationStatus = application.status;
    let waited = clock.waited(application);
    ApplicationSummary {
        business_days_waiting: waited,
        overdue: waited.is_some_and(|days| days > clock.target),
        id: application.id,
        reference_number: application.reference_number().map(str::to_owned),
        status,
        status_label: status.label().to_owned(),
        office_number: application.office_number.to_string(),
        office_name: application.office_name.clone(),
        email: application
            .email
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        personal_data_erased: application.personal_data_erased(),
        created_at: application.created_at,
        submitted_at: application.submission.as_ref().map(|s| s.submitted_at),
        other_applications,
        envelope: application.envelope,
    }
}

fn audit(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    application: &ReissueApplication,
    action: AuditAction,
    detail: String,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    AuditEvent::for_application(application, reviewer.actor(), action, detail, now).record(conn)?;
    Ok(())
}

/// What the printable notice (電子請求ログイン情報再発行通知書) shows.
#[derive(Debug, Clone)]
pub struct NoticeLetter {
    /// 事業所番号.
    pub office_number: String,
    /// The ledger entry (name and postal address for the window envelope).
    pub ledger_entry: Option<LedgerEntryView>,
    /// ユーザID.
    pub user_id: String,
    /// 仮パスワード.
    pub temporary_password: String,
    /// Until when the temporary password works.
    pub expires_at: OffsetDateTime,
    /// Date of issue.
    pub issued_at: OffsetDateTime,
    /// The issuing federation's prefecture.
    pub prefecture: reissue_shared::PrefectureCode,
    /// The issuing federation's name, postal address and telephone (the prefecture's
    /// settings).
    pub federation_name: String,
    /// Its postal address (empty until a supervisor sets it).
    pub federation_address: String,
    /// Its telephone number (empty until set).
    pub federation_phone: String,
    /// The help desk (the manual's until the prefecture sets its own).
    pub helpdesk_phone: String,
    /// 受付番号.
    pub reference_number: String,
}

impl NoticeLetter {
    /// The issuer's block at the foot of the notice, line by line: the federation, its
    /// address and telephone where set, and the help desk. The HTML and PDF notices both
    /// print these lines.
    pub fn issuer_lines(&self) -> Vec<String> {
        let mut lines = vec![self.federation_name.clone()];
        if !self.federation_address.is_empty() {
            lines.push(self.federation_address.clone());
        }
        if !self.federation_phone.is_empty() {
            lines.push(format!("電話 {}", self.federation_phone));
        }
        lines.push(format!("ヘルプデスク {}", self.helpdesk_phone));
        lines
    }
}

/// The notice of an approved application, to print. Printing again before it is posted shows
/// the same temporary password. After 郵送済 (or once that password expired) printing mints a
/// new one: with four-eyes issuance only through a confirmed reprint request
/// ([`request_reprint`], [`confirm_reprint`]), so this answers
/// `ReprintConfirmationRequired`; without, the old one is voided and a new one issued here.
pub async fn notice(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
) -> Result<NoticeLetter, DomainError> {
    ctx.transaction(move |tx| {
        let application = load_in_prefecture(tx.conn, &reviewer, id, true)?;
        if application.status != ApplicationStatus::Approved {
            return Err(DomainError::TransitionRefused {
                from: application.status,
            });
        }
        letter_for(tx, &reviewer, &application)
    })
    .await
}

/// Every approved notice of the prefecture not yet marked 郵送済, for printing in one go (with
/// four-eyes issuance, only those that print without a new temporary password).
pub async fn unposted_notices(
    ctx: &Context,
    reviewer: Reviewer,
) -> Result<Vec<NoticeLetter>, DomainError> {
    ctx.transaction(move |tx| {
        let filter = QueueFilter {
            prefecture: reviewer.prefecture,
            status: Some(ApplicationStatus::Approved),
            search: None,
            offset: 0,
            limit: 1000,
        };
        let (approved, _) = ReissueApplication::queue(tx.conn, &filter)?;
        let four_eyes = tx.ctx.four_eyes;
        let mut letters = Vec::new();
        for application in approved {
            let waiting = accounts::current_notice(tx.conn, &application.id.to_string())?
                .is_some_and(|notice| {
                    notice.mailed_at.is_none() && (!four_eyes || notice.sealed_password.is_some())
                });
            if waiting {
                letters.push(letter_for(tx, &reviewer, &application)?);
            }
        }
        Ok(letters)
    })
    .await
}

/// The letter of an approved application: the sealed temporary password of its current
/// notice, or (without four-eyes issuance) a new one when that notice was posted, audited
/// either way.
fn letter_for(
    tx: &mut Tx<'_>,
    reviewer: &Reviewer,
    application: &ReissueApplication,
) -> Result<NoticeLetter, DomainError> {
    let sealer = accounts::notice_sealer(tx.ctx);
    let now = tx.now;
    let open = open_notice(tx.conn, &sealer, application)?;
    let (notice, password) = match open {
        Some(found) => found,
        None if tx.ctx.four_eyes => return Err(DomainError::ReprintConfirmationRequired),
        None => {
            let user_id = reissue_notice(
                tx,
                application,
                accounts::FreshTemporaryPassword::generate()?,
            )?;
            audit(
                tx.conn,
                reviewer,
                application,
                AuditAction::NoticeIssued,
                format!("reprint: new temporary password for {user_id}"),
                now,
            )?;
            open_notice(tx.conn, &sealer, application)?.ok_or_else(|| {
                DomainError::Internal(format!(
                    "the new notice of application {} does not open",
                    application.id
                ))
            })?
        }
    };
    let conn = &mut *tx.conn;
    let account =
        accounts::find_for_update(conn, &notice.account_id)?.ok_or(DomainError::NotFound)?;
    audit(
        conn,
        reviewer,
        application,
        AuditAction::NoticePrinted,
        String::new(),
        now,
    )?;
    let ledger_entry = ledger_view(conn, reviewer, application)?;
    let federation = FederationSettings::load(conn, reviewer.prefecture)?.settings;
    Ok(NoticeLetter {
        federation_name: federation.federation_name,
        federation_address: federation.federation_address,
        federation_phone: federation.federation_phone,
        helpdesk_phone: federation.helpdesk_phone,
        office_number: application.office_number.to_string(),
        ledger_entry,
        user_id: account.user_id,
        temporary_password: password,
        expires_at: account.temp_password_expires_at.unwrap_or(notice.issued_at),
        issued_at: notice.issued_at,
        prefecture: reviewer.prefecture,
        reference_number: application.submitted()?.reference_number.clone(),
    })
}

/// The current notice and its temporary password, if it still holds one that opens.
fn open_notice(
    conn: &mut DbConnection,
    sealer: &Sealer,
    application: &ReissueApplication,
) -> Result<Option<(accounts::Notice, String)>, DomainError> {
    let current = accounts::current_notice(conn, &application.id.to_string())?;
    Ok(current.and_then(|notice| {
        let password = notice
            .sealed_password
            .as_deref()
            .and_then(|sealed| sealer.open(sealed, &[&notice.id, &notice.account_id]))?;
        Some((notice, password))
    }))
}

/// 郵送済: the notice left (on `mailed_on`, today when not given, by the registered post
/// `tracking_number`); its sealed password is erased, and the dispatch register gets its line
/// with the ledger's address of today.
pub async fn mark_notice_mailed(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    posted: reissue_shared::federation::NoticeMailed,
) -> Result<ApplicationDetail, DomainError> {
    ctx.transaction(move |tx| {
        let (conn, ctx, now) = (&mut *tx.conn, tx.ctx, tx.now);
        let application = load_in_prefecture(conn, &reviewer, id, true)?;
        let mut notice = accounts::current_notice(conn, &application.id.to_string())?
            .filter(|notice| notice.mailed_at.is_none())
            .ok_or(DomainError::TransitionRefused {
                from: application.status,
            })?;
        let today = reissue_shared::japan_time::in_japan(now).date();
        let issued_on = reissue_shared::japan_time::in_japan(notice.issued_at).date();
        let mailed_on = posted.mailed_on.unwrap_or(today);
        if mailed_on > today || mailed_on < issued_on {
            return Err(DomainError::Validation(vec![reissue_shared::FieldError::new(
                "mailed_on",
                reissue_shared::FieldErrorCode::UnknownValue,
                format!(
                    "発送日は通知書の発行日（{issued_on}）から今日（{today}）までの日付を入力してください。"
                ),
            )]));
        }
        let mailed_to = ledger_view(conn, &reviewer, &application)?
            .map(|entry| {
                format!(
                    "〒{} {} {}",
                    entry.postal_code, entry.address, entry.office_name
                )
            })
            .unwrap_or_default();
        let detail = match &posted.tracking_number {
            Some(number) => format!("mailed on {mailed_on}, tracking number {}", number.display()),
            None => format!("mailed on {mailed_on}"),
        };
        notice.mailed_at = Some(now);
        notice.sealed_password = None;
        notice.posting = Some(accounts::Posting {
            mailed_on,
            tracking_number: posted.tracking_number,
            mailed_by: reviewer.id.clone(),
            mailed_to,
        });
        accounts::update_notice(conn, &notice)?;
        audit(
            conn,
            &reviewer,
            &application,
            AuditAction::NoticeMailed,
            detail,
            now,
        )?;
        detail_of(conn, ctx, &reviewer, &application)
    })
    .await
}

/// Entries per page of the audit log.
pub const AUDIT_PER_PAGE: u32 = 100;
/// The audit log (read or exported) is for supervisors.
fn require_supervisor(reviewer: &Reviewer) -> Result<(), DomainError> {
    if reviewer.role == reissue_shared::admin::ReviewerRole::Supervisor {
        Ok(())
    } else {
        Err(DomainError::Forbidden)
    }
}

/// Most entries in one CSV export.
pub const AUDIT_EXPORT_LIMIT: i64 = 100_000;

/// The reviewer's prefecture's part of the audit log, newest first, for supervisors only (as
/// its export): a reviewer sees each application's own history in its detail.
pub async fn audit_log(
    ctx: &Context,
    reviewer: Reviewer,
    page: u32,
) -> Result<reissue_shared::admin::AuditLogPage, DomainError> {
    require_supervisor(&reviewer)?;
    let page = page.max(1);
    ctx.read(move |conn, _ctx, _now| {
        let offset = i64::from(page - 1) * i64::from(AUDIT_PER_PAGE);
        let (items, total) = db::audit::for_prefecture(
            conn,
            reviewer.prefecture.as_str(),
            offset,
            i64::from(AUDIT_PER_PAGE),
        )?;
        Ok(reissue_shared::admin::AuditLogPage {
            items,
            total: u64::try_from(total).unwrap_or(0),
            page,
            per_page: AUDIT_PER_PAGE,
        })
    })
    .await
}

/// The whole of the prefecture's audit log as CSV (UTF-8 with BOM, so Excel reads the
/// Japanese), for supervisors only. The export itself is audited.
pub async fn export_audit_log(ctx: &Context, reviewer: Reviewer) -> Result<String, DomainError> {
    require_supervisor(&reviewer)?;
    ctx.transaction(move |tx| {
        let (conn, now) = (&mut *tx.conn, tx.now);
        let (items, _) =
            db::audit::for_prefecture(conn, reviewer.prefecture.as_str(), 0, AUDIT_EXPORT_LIMIT)?;
        AuditEvent {
            occurred_at: now,
            actor: reviewer.actor(),
            action: AuditAction::AuditLogExported,
            application_id: None,
            office_number: None,
            prefecture_code: Some(reviewer.prefecture.as_str().to_owned()),
            detail: format!("{} entries", items.len()),
        }
        .record(conn)?;
        let mut csv = String::from("\u{feff}日時,操作者,操作,申請ID,事業所番号,詳細\r\n");
        for item in items {
            let fields = [
                item.occurred_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                item.actor,
                item.action,
                item.application_id.unwrap_or_default(),
                item.office_number.unwrap_or_default(),
                item.detail,
            ];
            let line: Vec<String> = fields.iter().map(|f| super::csv::field(f)).collect();
            csv.push_str(&line.join(","));
            csv.push_str("\r\n");
        }
        Ok(csv)
    })
    .await
}
