//! The background sweeper: marks unsubmitted applications past their lifetime as expired and
//! forgets rate-limit events older than every window.

use std::time::Duration;

use super::audit::{AuditAction, AuditEvent};
use super::{Context, DomainError};
use crate::db;

/// One pass; returns how many applications expired.
pub async fn sweep_once(ctx: &Context) -> Result<usize, DomainError> {
    let ctx2 = ctx.clone();
    ctx.db
        .transaction(move |conn| {
            let now = ctx2.clock.now();
            let expired = db::applications::expire_due(conn, now, 500)?;
            for application in &expired {
                db::audit::append(
                    conn,
                    &AuditEvent::for_application(
                        application,
                        "system",
                        AuditAction::ApplicationExpired,
                        "unsubmitted past its lifetime",
                        now,
                    ),
                )?;
            }
            let longest = ctx2.limits.budget_window.max(ctx2.limits.client_window);
            db::rate_limits::delete_before(conn, now - longest)?;
            Ok(expired.len())
        })
        .await
}

/// Runs [`sweep_once`] every `interval` until the task is dropped.
pub async fn run(ctx: Context, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        match sweep_once(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired unsubmitted applications"),
            Err(error) => tracing::warn!(error = %error, "sweep failed; will retry"),
        }
    }
}
