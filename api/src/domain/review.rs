//! The federation's review (DESIGN.md "After submission"): the queue, an application's page,
//! and the reviewer's actions. A reviewer sees only their own prefecture: another prefecture's
//! application is "not found", never shown, never counted.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use reissue_shared::admin::{
    ApplicationDetail, ApplicationList, ApplicationQuery, ApplicationSummary, Decision,
    LedgerEntryView,
};
use reissue_shared::ApplicationStatus;

use super::application::ReissueApplication;
use super::audit::{AuditAction, AuditEvent};
use super::reviewers::Reviewer;
use super::{Context, DomainError};
use crate::db::applications::QueueFilter;
use crate::db::{self, DbConnection};
use crate::mail::templates::{self, MailContent, ReviewOutcome};

/// Rows per page of the queue.
pub const PER_PAGE: u32 = 50;

/// The queue: the reviewer's prefecture, filtered, oldest first, with counts by status.
pub async fn list(
    ctx: &Context,
    reviewer: Reviewer,
    query: ApplicationQuery,
) -> Result<ApplicationList, DomainError> {
    let page = query.page.unwrap_or(1).max(1);
    ctx.db
        .run(move |conn| {
            let filter = QueueFilter {
                prefecture: reviewer.prefecture,
                status: query.status,
                search: query.q.clone(),
                offset: i64::from(page - 1) * i64::from(PER_PAGE),
                limit: i64::from(PER_PAGE),
            };
            let (applications, total) = db::applications::queue(conn, &filter)?;
            let counts = db::applications::counts_by_status(conn, reviewer.prefecture)?
                .into_iter()
                .map(|(status, n)| (status, u64::try_from(n).unwrap_or(0)))
                .collect::<BTreeMap<_, _>>();
            let items = summaries(conn, &reviewer, &applications)?;
            Ok(ApplicationList {
                items,
                total: u64::try_from(total).unwrap_or(0),
                counts,
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
    ctx.db
        .run(move |conn| {
            let application = load_in_prefecture(conn, &reviewer, id, false)?;
            detail_of(conn, &reviewer, &application)
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
        |application, now| {
            application.start_review(now)?;
            Ok(Transition::default())
        },
    )
    .await
}

/// 承認 or 却下 (the reason is required to reject and shown to the office), with the result
/// mail to the notification address.
pub async fn decide(
    ctx: &Context,
    reviewer: Reviewer,
    id: Uuid,
    decision: Decision,
) -> Result<ApplicationDetail, DomainError> {
    let action = match decision {
        Decision::Approve => AuditAction::ApplicationApproved,
        Decision::Reject(_) => AuditAction::ApplicationRejected,
    };
    act(ctx, reviewer, id, action, move |application, now| {
        let (outcome, reason) = match decision {
            Decision::Approve => (ReviewOutcome::Approved, None),
            Decision::Reject(reason) => (ReviewOutcome::Rejected(reason.clone()), Some(reason)),
        };
        application.decide(reason.is_none(), reason.clone(), now)?;
        let reference = application.reference_number.clone().unwrap_or_default();
        Ok(Transition {
            detail: reason.unwrap_or_default(),
            mail: Some(templates::review_result(&reference, &outcome)),
        })
    })
    .await
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
        move |application, now| {
            application.withdraw(reason.clone(), now)?;
            Ok(Transition {
                detail: reason,
                mail: None,
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
    let ctx2 = ctx.clone();
    ctx.db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
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
            detail_of(conn, &reviewer, &application)
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
    F: FnOnce(&mut ReissueApplication, OffsetDateTime) -> Result<Transition, DomainError>
        + Send
        + 'static,
{
    let ctx2 = ctx.clone();
    let (detail, mailed) = ctx
        .db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let mut application = load_in_prefecture(conn, &reviewer, id, true)?;
            let transition = change(&mut application, now)?;
            db::applications::update(conn, &application)?;
            audit(
                conn,
                &reviewer,
                &application,
                action,
                transition.detail,
                now,
            )?;
            let mailed = transition.mail.is_some();
            if let Some(mail) = transition.mail {
                db::outbox::enqueue(
                    conn,
                    &db::outbox::NewMail {
                        recipient: application.email.to_string(),
                        subject: mail.subject,
                        body: mail.body,
                        application_id: Some(application.id),
                    },
                    now,
                )?;
            }
            Ok::<_, DomainError>((detail_of(conn, &reviewer, &application)?, mailed))
        })
        .await?;
    if mailed {
        ctx.mail_wakeup.notify_one();
    }
    Ok(detail)
}

/// The application if it belongs to the reviewer's prefecture; otherwise "not found".
fn load_in_prefecture(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    id: Uuid,
    for_update: bool,
) -> Result<ReissueApplication, DomainError> {
    let found = if for_update {
        db::applications::find_for_update(conn, id)?
    } else {
        db::applications::find(conn, id)?
    };
    found
        .filter(|application| application.prefecture == Some(reviewer.prefecture))
        .ok_or(DomainError::NotFound)
}

fn detail_of(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    application: &ReissueApplication,
) -> Result<ApplicationDetail, DomainError> {
    let ledger_entry = db::ledger::find(conn, reviewer.prefecture, &application.office_number)?
        .map(|entry| LedgerEntryView {
            office_number: entry.office_number.to_string(),
            office_name: entry.office_name,
            kind: entry.kind.label().to_owned(),
            postal_code: entry.postal_code,
            address: entry.address,
            phone: entry.phone,
        });
    let others: Vec<ReissueApplication> =
        db::applications::for_office(conn, reviewer.prefecture, &application.office_number)?
            .into_iter()
            .filter(|other| other.id != application.id)
            .collect();
    let others_count = u32::try_from(others.len()).unwrap_or(u32::MAX);
    Ok(ApplicationDetail {
        application: summary(application, others_count),
        prefecture_code: application.prefecture.map(|p| p.as_str().to_owned()),
        decision_reason: application.decision_reason.clone(),
        ledger_entry,
        notes: db::notes::for_application(conn, application.id)?,
        history: db::audit::history(conn, application.id)?,
        other_applications: others
            .iter()
            .map(|other| summary(other, others_count))
            .collect(),
    })
}

fn summaries(
    conn: &mut DbConnection,
    reviewer: &Reviewer,
    applications: &[ReissueApplication],
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
            summary(application, u32::try_from(all - 1).unwrap_or(0))
        })
        .collect())
}

fn summary(application: &ReissueApplication, other_applications: u32) -> ApplicationSummary {
    let status: ApplicationStatus = application.status;
    ApplicationSummary {
        id: application.id,
        reference_number: application.reference_number.clone(),
        status,
        status_label: status.label().to_owned(),
        office_number: application.office_number.to_string(),
        office_name: application.office_name.clone(),
        email: application.email.to_string(),
        created_at: application.created_at,
        submitted_at: application.submitted_at,
        other_applications,
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
    db::audit::append(
        conn,
        &AuditEvent::for_application(application, reviewer.actor(), action, detail, now),
    )?;
    Ok(())
}
