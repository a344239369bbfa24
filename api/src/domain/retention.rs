//! Personal data goes away: `REISSUE_RETENTION_DAYS` after an application ended (approved and
//! its notice posted, rejected, withdrawn, expired), its notification address, client address,
//! notes, call notes and mails are erased; the row keeps the office number, status, 受付番号,
//! reasons and dates, and the audit log, which never held an address in clear
//! (`domain::pseudonyms`), keeps its history. Mails of no application, dead security codes and
//! the development mailbox's messages older than the period go too.
//!
//! `reissue purge [--dry-run]` runs it on demand; the sweeper runs it once a day. Every purge
//! that removed something is audited: one entry per application, one for the rest.

use time::{Duration, OffsetDateTime};

use super::application::ReissueApplication;
use super::audit::{AuditAction, AuditEvent};
use super::{Context, DomainError};
use crate::db::models::to_db_time;
use crate::db::{self, DbConnection, Purge};

/// Applications erased per transaction: short transactions, so a purge of a year's backlog
/// never holds the writer for long.
const BATCH: i64 = 200;

/// One application whose personal data was (or, in a dry run, would be) erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedApplication {
    /// 受付番号, if it was submitted.
    pub reference_number: Option<String>,
    /// 事業所番号.
    pub office_number: String,
    /// Its status label.
    pub status_label: String,
    /// When it was last changed (its end).
    pub ended_at: OffsetDateTime,
    /// Call notes of reviewers, deleted.
    pub notes: usize,
    /// Notes of calls to the ledger's number, erased.
    pub call_notes: usize,
    /// Mails sent for it, deleted.
    pub mails: usize,
}

/// What a purge erased (or would erase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// Only counted, nothing changed.
    pub dry_run: bool,
    /// `REISSUE_RETENTION_DAYS`.
    pub retention_days: u32,
    /// What ended before this has its personal data erased.
    pub cutoff: OffsetDateTime,
    /// The applications, least recently changed first.
    pub applications: Vec<ErasedApplication>,
    /// Mails of no application (or sent later than its end), deleted.
    pub other_mails: usize,
    /// Expired security codes (with the address each went to), deleted.
    pub security_codes: usize,
    /// Messages of the development mailbox, deleted.
    pub dev_messages: usize,
}

impl PurgeReport {
    fn new(retention_days: u32, cutoff: OffsetDateTime, dry_run: bool) -> Self {
        Self {
            dry_run,
            retention_days,
            cutoff,
            applications: Vec::new(),
            other_mails: 0,
            security_codes: 0,
            dev_messages: 0,
        }
    }

    /// Whether nothing was (or would be) removed.
    pub fn is_empty(&self) -> bool {
        self.applications.is_empty()
            && self.other_mails == 0
            && self.security_codes == 0
            && self.dev_messages == 0
    }

    /// Adds a batch's counts; whether it was the last batch (a dry run reads all at once; a
    /// short batch left nothing behind).
    fn absorb(&mut self, batch: PurgeReport) -> bool {
        let last = batch.dry_run || batch.applications.len() < BATCH as usize;
        self.cutoff = batch.cutoff;
        self.applications.extend(batch.applications);
        self.other_mails += batch.other_mails;
        self.security_codes += batch.security_codes;
        self.dev_messages += batch.dev_messages;
        last
    }

    /// The report as the operator reads it (`reissue purge`).
    pub fn render(&self) -> String {
        let date = reissue_shared::japan_time::iso_date(self.cutoff);
        let mut out = format!(
            "保存期間 {} 日: {date} より前に終了した申請の個人情報{}\n",
            self.retention_days,
            if self.dry_run {
                "を消去する予定です（--dry-run のため、まだ何も消去していません）。"
            } else {
                "を消去しました。"
            }
        );
        if self.is_empty() {
            out.push_str("消去する対象はありません。\n");
            return out;
        }
        out.push_str(&format!("申請 {} 件\n", self.applications.len()));
        for application in &self.applications {
            out.push_str(&format!(
                "  受付番号 {}  事業所番号 {}  {}  最終更新 {}  メモ {} 件  通話メモ {} 件  メール {} 通\n",
                application.reference_number.as_deref().unwrap_or("（送信前）"),
                application.office_number,
                application.status_label,
                reissue_shared::japan_time::iso_date(application.ended_at),
                application.notes,
                application.call_notes,
                application.mails,
            ));
        }
        out.push_str(&format!(
            "申請に結び付かないメール {} 通、期限切れのセキュリティコード {} 件、開発用メールボックス {} 通\n",
            self.other_mails, self.security_codes, self.dev_messages
        ));
        out
    }
}

/// Erases what the retention period lets go, in batches of short transactions, and audits each
/// erasure as `actor` (`system` for the sweeper, `operator` for the command). A dry run only
/// counts, in one read.
pub async fn purge(ctx: &Context, actor: &str, dry_run: bool) -> Result<PurgeReport, DomainError> {
    let days = ctx.limits.retention_days;
    let mut report = PurgeReport::new(days, ctx.clock.now() - retention(days), dry_run);
    loop {
        let actor = actor.to_owned();
        let batch = ctx
            .transaction(move |tx| purge_batch(tx.conn, tx.now, days, &actor, dry_run))
            .await?;
        if report.absorb(batch) {
            return Ok(report);
        }
    }
}

/// [`purge`] for the command line, on `db` without a server: each batch in a transaction of
/// its own, at `now`.
pub fn purge_blocking(
    db: &db::Database,
    now: OffsetDateTime,
    retention_days: u32,
    actor: &str,
    dry_run: bool,
) -> Result<PurgeReport, DomainError> {
    let mut report = PurgeReport::new(retention_days, now - retention(retention_days), dry_run);
    loop {
        let batch =
            db.transaction_blocking(|conn| purge_batch(conn, now, retention_days, actor, dry_run))?;
        if report.absorb(batch) {
            return Ok(report);
        }
    }
}

/// One batch in the caller's transaction (also what the command runs on its own connection).
/// A dry run reads every due application at once and changes nothing.
pub fn purge_batch(
    conn: &mut DbConnection,
    now: OffsetDateTime,
    retention_days: u32,
    actor: &str,
    dry_run: bool,
) -> Result<PurgeReport, DomainError> {
    let cutoff = now - retention(retention_days);
    let purge = if dry_run { Purge::Count } else { Purge::Remove };
    // Two instances' sweepers may start their daily purge together: the second waits here and
    // then finds nothing left (PostgreSQL; SQLite has one writer anyway).
    db::lock_key(conn, "retention-purge")?;
    let mut report = PurgeReport::new(retention_days, cutoff, dry_run);
    let limit = if dry_run { i64::MAX } else { BATCH };
    let due = db::applications::erasable(conn, cutoff, limit)?;
    for row in due {
        let mut application = ReissueApplication::try_from(row)?;
        let id = application.id;
        let erased = ErasedApplication {
            reference_number: application.reference_number().map(str::to_owned),
            office_number: application.office_number.to_string(),
            status_label: application.status.label().to_owned(),
            ended_at: application.updated_at,
            notes: db::notes::purge_for_application(conn, id, purge)?,
            call_notes: db::federation::purge_callback_notes(conn, &id.to_string(), purge)?,
            mails: db::outbox::purge_finished_of_application(conn, id, purge)?,
        };
        if !dry_run {
            application.erase_personal_data()?;
            application.save(conn)?;
            AuditEvent::for_application(
                &application,
                actor,
                AuditAction::PersonalDataErased,
                format!(
                    "retention {retention_days} days: notification address, client address, {} notes, {} call notes, {} mails",
                    erased.notes, erased.call_notes, erased.mails
                ),
                now,
            )
            .record(conn)?;
        }
        report.applications.push(erased);
    }
    report.other_mails = db::outbox::purge_finished_before(conn, cutoff, purge)?;
    report.security_codes =
        db::security_codes::purge_expired_before(conn, to_db_time(cutoff), purge)?;
    report.dev_messages = db::dev_mailbox::purge_before(conn, cutoff, purge)?;
    let others = report.other_mails + report.security_codes + report.dev_messages;
    if !dry_run && others > 0 {
        AuditEvent {
            occurred_at: now,
            actor: actor.to_owned(),
            action: AuditAction::PersonalDataPurged,
            application_id: None,
            office_number: None,
            prefecture_code: None,
            detail: format!(
                "retention {retention_days} days: {} mails, {} security codes, {} development mails",
                report.other_mails, report.security_codes, report.dev_messages
            ),
        }
        .record(conn)?;
    }
    Ok(report)
}

fn retention(days: u32) -> Duration {
    Duration::days(i64::from(days))
}

/// When the sweeper purges next: at its first pass, then a day after each purge.
#[derive(Debug, Default)]
pub struct DailyPurge {
    last: Option<OffsetDateTime>,
}

impl DailyPurge {
    /// Whether a purge is due at `now`; if so, counts it as done at `now`.
    pub fn due(&mut self, now: OffsetDateTime) -> bool {
        let due = self
            .last
            .is_none_or(|last| now - last >= Duration::days(1) || now < last);
        if due {
            self.last = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweeper_purges_at_its_first_pass_and_then_once_a_day() {
        let start = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let mut daily = DailyPurge::default();
        assert!(daily.due(start));
        assert!(!daily.due(start + Duration::minutes(1)));
        assert!(!daily.due(start + Duration::hours(23) + Duration::minutes(59)));
        assert!(daily.due(start + Duration::days(1)));
        assert!(!daily.due(start + Duration::days(1) + Duration::hours(1)));
        // A clock set back (a corrected system time) does not stop the purges for a day.
        assert!(daily.due(start));
    }

    #[test]
    fn a_report_says_what_went_and_a_dry_run_says_nothing_went() {
        let cutoff = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let mut report = PurgeReport::new(365, cutoff, true);
        assert!(report.render().contains("消去する対象はありません"));
        report.applications.push(ErasedApplication {
            reference_number: Some("K7P3M9XW".into()),
            office_number: "1311111111".into(),
            status_label: "承認".into(),
            ended_at: cutoff - Duration::days(3),
            notes: 2,
            call_notes: 1,
            mails: 3,
        });
        report.other_mails = 4;
        let text = report.render();
        assert!(text.contains("まだ何も消去していません"), "{text}");
        assert!(text.contains("申請 1 件"), "{text}");
        assert!(
            text.contains("受付番号 K7P3M9XW  事業所番号 1311111111  承認"),
            "{text}"
        );
        assert!(
            text.contains("メモ 2 件  通話メモ 1 件  メール 3 通"),
            "{text}"
        );
        assert!(text.contains("申請に結び付かないメール 4 通"), "{text}");
        report.dry_run = false;
        assert!(report.render().contains("を消去しました。"));
    }
}
