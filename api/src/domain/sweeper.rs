//! The background sweeper: marks unsubmitted applications past their lifetime as expired,
//! forgets the sealed copies of expired temporary passwords, and forgets rate-limit events
//! older than every window and sessions a day after they ended; once a day it erases the
//! personal data past the retention period (`domain::retention`).

use std::time::Duration;

use super::application::ReissueApplication;
use super::audit::{AuditAction, AuditEvent};
use super::{Context, DomainError};
use crate::db;

/// How long the row of an ended or expired session is kept.
const ENDED_SESSION_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// One pass; returns how many applications expired.
pub async fn sweep_once(ctx: &Context) -> Result<usize, DomainError> {
    ctx.transaction(move |tx| {
        let (conn, now) = (&mut *tx.conn, tx.now);
        let expired = ReissueApplication::expire_due(conn, now, 500)?;
        for application in &expired {
            AuditEvent::for_application(
                application,
                "system",
                AuditAction::ApplicationExpired,
                "unsubmitted past its lifetime",
                now,
            )
            .record(conn)?;
        }
        for notice in super::accounts::purge_expired_sealed_passwords(conn, now, 500)? {
            let account = super::accounts::find(conn, &notice.account_id)?;
            AuditEvent {
                occurred_at: now,
                actor: "system".into(),
                action: AuditAction::SealedPasswordPurged,
                application_id: uuid::Uuid::parse_str(&notice.application_id).ok(),
                office_number: account
                    .as_ref()
                    .map(|a| a.office_number.as_str().to_owned()),
                prefecture_code: account.as_ref().map(|a| a.prefecture.as_str().to_owned()),
                detail: format!("notice {}: temporary password expired", notice.id),
            }
            .record(conn)?;
        }
        db::rate_limits::delete_expired(conn, crate::db::models::to_db_time(now))?;
        db::idempotency_keys::delete_expired(conn, crate::db::models::to_db_time(now))?;
        db::login_failures::delete_stale(
            conn,
            crate::db::models::to_db_time(now - super::passwords::FAILURE_MEMORY),
        )?;
        // A day's grace: an ended session's row still tells why its token was refused.
        super::sessions::purge_finished(conn, now - ENDED_SESSION_MEMORY)?;
        Ok(expired.len())
    })
    .await
}

/// Runs [`sweep_once`] every `interval`, and the retention purge
/// ([`super::retention::purge`]) at the first pass and then once a day, until the task is
/// dropped.
pub async fn run(ctx: Context, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    let mut daily = super::retention::DailyPurge::default();
    loop {
        ticker.tick().await;
        if daily.due(ctx.clock.now()) {
            match super::retention::purge(&ctx, "system", false).await {
                Ok(report) if report.is_empty() => {}
                Ok(report) => tracing::info!(
                    applications = report.applications.len(),
                    other_mails = report.other_mails,
                    security_codes = report.security_codes,
                    dev_messages = report.dev_messages,
                    "erased personal data past the retention period"
                ),
                Err(error) => {
                    tracing::warn!(
                        error = %super::outbox::redact_addresses(&error.to_string()),
                        "retention purge failed; will retry at the next pass"
                    );
                    daily = super::retention::DailyPurge::default();
                }
            }
        }
        match sweep_once(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired unsubmitted applications"),
            Err(error) => tracing::warn!(
                error = %super::outbox::redact_addresses(&error.to_string()),
                "sweep failed; will retry"
            ),
        }
    }
}
