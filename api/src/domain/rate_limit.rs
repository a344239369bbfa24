//! Budgets and rate limits across applications, counted in the database so every instance
//! sees the same numbers. Compensates the 4-digit code (DESIGN.md): codes and wrong tries are
//! budgeted per office number and per recipient address, and requests per client address.

use std::time::Duration;

use time::OffsetDateTime;

use super::application::seconds_until;
use super::error::DomainError;
use crate::db::{self, rate_limits, DbConnection};

/// One counted bucket with its limit and window.
#[derive(Debug, Clone)]
pub struct Budget {
    /// The bucket key, e.g. `code:office:1311111111`.
    pub bucket: String,
    /// What is counted, e.g. `code:office` (the key without its subject, for metrics).
    pub kind: String,
    /// Events allowed within `window`.
    pub limit: u32,
    /// The sliding window.
    pub window: Duration,
}

impl Budget {
    /// A budget for `kind` of `subject`.
    pub fn new(kind: &str, subject: &str, limit: u32, window: Duration) -> Self {
        Self {
            bucket: format!("{kind}:{}", subject.to_lowercase()),
            kind: kind.to_owned(),
            limit,
            window,
        }
    }
}

/// Refuses with `RateLimited` when any budget is spent; the wait is until its oldest counted
/// event leaves the window.
///
/// Each bucket is locked until the transaction ends before it is counted, so that parallel
/// requests take turns between the count and the `record` that spends it: without, two
/// transactions under READ COMMITTED both see 9 of 10 and both pass. The buckets are locked in
/// the order given; callers put the client's budget first.
pub fn check(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    for budget in budgets {
        db::lock_key(conn, &format!("budget:{}", budget.bucket))?;
    }
    for budget in budgets {
        let since = now - budget.window;
        let (count, oldest) = rate_limits::count_since(conn, &budget.bucket, since)?;
        if count >= budget.limit {
            crate::metrics::observe_refusal(&budget.kind);
            let free_at = oldest.map_or(now + budget.window, |oldest| oldest + budget.window);
            return Err(DomainError::RateLimited {
                retry_after_secs: seconds_until(now, free_at),
            });
        }
    }
    Ok(())
}

/// Counts one event against each budget.
pub fn record(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    let buckets: Vec<String> = budgets.iter().map(|b| b.bucket.clone()).collect();
    rate_limits::record(conn, &buckets, now)?;
    Ok(())
}

/// Checks, then counts: the usual pair for an action that is itself limited.
pub fn spend(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    check(conn, budgets, now)?;
    record(conn, budgets, now)
}
