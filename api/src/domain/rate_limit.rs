//! Budgets and rate limits across applications, counted in the database so every instance
//! sees the same numbers. Compensates the 4-digit code (DESIGN.md): codes and wrong tries are
//! budgeted per office number and per recipient address, and requests per client address.
//!
//! A bucket is one row that counts its events per slot of the window ([`SlotCounts`]), so a
//! check costs the same however busy the bucket is. An event is counted until the end of its
//! slot has left the window: at most a slot (a sixtieth of the window) longer than an exact
//! sliding window would count it, never shorter, so no limit lets more through than it says.

use std::time::Duration;

use time::OffsetDateTime;

use super::application::seconds_until;
use super::error::DomainError;
use crate::db::models::{to_db_time, RateLimitCounterRow};
use crate::db::{self, rate_limits, DbConnection, StorageError};

/// Slots a window is divided into.
pub const SLOTS_PER_WINDOW: u64 = 60;

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

    /// The slot size of this budget's window, in whole seconds (at least one).
    fn slot_seconds(&self) -> i64 {
        i64::try_from(self.window.as_secs() / SLOTS_PER_WINDOW)
            .unwrap_or(i64::MAX)
            .max(1)
    }

    fn window_seconds(&self) -> i64 {
        i64::try_from(self.window.as_secs()).unwrap_or(i64::MAX)
    }
}

/// The events of one bucket, counted per slot: slot `s` holds the events of the unix seconds
/// `[s × slot_seconds, (s + 1) × slot_seconds)`. Only slots with events are kept, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotCounts {
    slot_seconds: i64,
    slots: Vec<(i64, u32)>,
}

impl SlotCounts {
    /// No events yet.
    pub fn empty(slot_seconds: i64) -> Self {
        Self {
            slot_seconds: slot_seconds.max(1),
            slots: Vec::new(),
        }
    }

    /// Reads the stored form `slot:count,slot:count` (oldest first).
    pub fn parse(slot_seconds: i64, text: &str) -> Result<Self, String> {
        if slot_seconds < 1 {
            return Err(format!("slot of {slot_seconds} s"));
        }
        let mut slots: Vec<(i64, u32)> = Vec::new();
        for pair in text.split(',').filter(|pair| !pair.is_empty()) {
            let parsed = pair
                .split_once(':')
                .and_then(|(slot, count)| Some((slot.parse().ok()?, count.parse().ok()?)));
            match parsed {
                Some((slot, count)) if slots.last().is_none_or(|&(last, _)| last < slot) => {
                    slots.push((slot, count));
                }
                _ => return Err(format!("slot {pair:?} out of order or unreadable")),
            }
        }
        Ok(Self {
            slot_seconds,
            slots,
        })
    }

    /// The stored form.
    pub fn to_text(&self) -> String {
        let pairs: Vec<String> = self
            .slots
            .iter()
            .map(|(slot, count)| format!("{slot}:{count}"))
            .collect();
        pairs.join(",")
    }

    /// The same events in slots of `slot_seconds` (after the window setting changed). Each
    /// event moves into the new slot that holds the start of its old one, and the counting rule
    /// counts a slot while any of it is within the window, so none is counted for less long
    /// than the window.
    pub fn reslotted(self, slot_seconds: i64) -> Self {
        let slot_seconds = slot_seconds.max(1);
        if slot_seconds == self.slot_seconds {
            return self;
        }
        let mut slots: Vec<(i64, u32)> = Vec::new();
        for (slot, count) in self.slots {
            let start = slot.saturating_mul(self.slot_seconds);
            let new_slot = start.div_euclid(slot_seconds);
            match slots.last_mut() {
                Some((last, total)) if *last == new_slot => *total = total.saturating_add(count),
                _ => slots.push((new_slot, count)),
            }
        }
        Self {
            slot_seconds,
            slots,
        }
    }

    /// When the events of `slot` stop counting (unix seconds): once the slot's end has left
    /// a window of `window_seconds`.
    fn free_at(slot_seconds: i64, slot: i64, window_seconds: i64) -> i64 {
        slot.saturating_add(1)
            .saturating_mul(slot_seconds)
            .saturating_add(window_seconds)
    }

    /// Forgets the slots that no longer count.
    fn prune(&mut self, now: i64, window_seconds: i64) {
        let slot_seconds = self.slot_seconds;
        self.slots
            .retain(|&(slot, _)| Self::free_at(slot_seconds, slot, window_seconds) > now);
    }

    /// The events counted at `now`, and when the oldest counted slot stops counting (unix
    /// seconds).
    pub fn counted(&self, now: i64, window_seconds: i64) -> (u32, Option<i64>) {
        let free_at = |slot| Self::free_at(self.slot_seconds, slot, window_seconds);
        let counted = self.slots.iter().filter(|&&(slot, _)| free_at(slot) > now);
        let oldest = counted.clone().next().map(|&(slot, _)| free_at(slot));
        let total = counted.fold(0u32, |sum, &(_, n)| sum.saturating_add(n));
        (total, oldest)
    }

    /// Counts one event at `now`.
    pub fn add(&mut self, now: i64) {
        let slot = now.div_euclid(self.slot_seconds);
        match self.slots.last_mut() {
            Some((last, count)) if *last == slot => *count = count.saturating_add(1),
            // A clock that went back: the event joins the newest slot, which keeps it longest.
            Some((last, count)) if *last > slot => *count = count.saturating_add(1),
            _ => self.slots.push((slot, 1)),
        }
    }

    /// When the newest counted event stops counting (unix seconds).
    fn expires(&self, window_seconds: i64) -> Option<i64> {
        self.slots
            .last()
            .map(|&(slot, _)| Self::free_at(self.slot_seconds, slot, window_seconds))
    }
}

/// Where a budget stands for its client: what is left of it and how long until its oldest
/// counted event leaves the window (0 when nothing is counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Events still allowed now.
    pub remaining: u32,
    /// Seconds until one more is allowed again.
    pub reset_secs: u64,
}

/// Reads where `budget` stands at the context's now (no lock: a hint for the client, as the
/// RateLimit header fields are, never a promise).
pub async fn standing(ctx: &super::Context, budget: Budget) -> Result<Standing, DomainError> {
    ctx.lookup(move |conn, _ctx, now| peek(conn, &budget, now))
        .await
}

/// What is left of `budget` now, read in the caller's unit of work (no event counted).
pub fn peek(
    conn: &mut DbConnection,
    budget: &Budget,
    now: OffsetDateTime,
) -> Result<Standing, DomainError> {
    let counts = load(conn, budget)?;
    Ok(Standing::of(budget, &counts, now.unix_timestamp()))
}

impl Standing {
    /// What `counts` leaves of `budget` at `now` (unix seconds).
    fn of(budget: &Budget, counts: &SlotCounts, now: i64) -> Self {
        let (count, free_at) = counts.counted(now, budget.window_seconds());
        Self {
            remaining: budget.limit.saturating_sub(count),
            reset_secs: free_at.map_or(0, |at| u64::try_from(at - now).unwrap_or(0)),
        }
    }
}

/// Where a request's use case leaves what is left of the client's request budget after it
/// counted the request, so that the answer's `RateLimit` field (`routes::rate_limit_headers`)
/// needs no second read of the budget. Shared by the request and the caller it makes.
#[derive(Debug, Clone, Default)]
pub struct StandingNote(std::sync::Arc<std::sync::Mutex<Option<Standing>>>);

impl StandingNote {
    /// Keeps `standing` (the last one noted wins: a transaction run again notes again).
    pub fn note(&self, standing: Standing) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(standing);
    }

    /// The standing noted last, if any.
    pub fn noted(&self) -> Option<Standing> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The bucket's counts in `budget`'s slots: those of its `row`, none when it has no row yet.
fn counts_of(
    budget: &Budget,
    row: Option<RateLimitCounterRow>,
) -> Result<SlotCounts, StorageError> {
    let Some(row) = row else {
        return Ok(SlotCounts::empty(budget.slot_seconds()));
    };
    let counts = SlotCounts::parse(row.slot_seconds, &row.slots)
        .map_err(|what| StorageError::Corrupt(format!("rate limit {}: {what}", row.bucket)))?;
    Ok(counts.reslotted(budget.slot_seconds()))
}

/// The bucket's counts as stored (no lock), none when it has no row.
fn load(conn: &mut DbConnection, budget: &Budget) -> Result<SlotCounts, StorageError> {
    counts_of(budget, rate_limits::find(conn, &budget.bucket)?)
}

/// Refuses with `RateLimited` when `counts` leave nothing of `budget` at `now`; the wait is
/// until the oldest counted slot leaves the window.
fn refuse_when_spent(
    budget: &Budget,
    counts: &SlotCounts,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    let (count, free_at) = counts.counted(now.unix_timestamp(), budget.window_seconds());
    if count < budget.limit {
        return Ok(());
    }
    crate::metrics::observe_refusal(&budget.kind);
    let free_at = free_at
        .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
        .unwrap_or(now + budget.window);
    Err(DomainError::RateLimited {
        retry_after_secs: seconds_until(now, free_at),
    })
}

/// Whether [`count_events`] first refuses an event that the budget has no room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenSpent {
    Refuse,
    Count,
}

/// The counts of a bucket whose first event is this one, at `now`.
fn first_event(budget: &Budget, now: OffsetDateTime) -> SlotCounts {
    let mut first = SlotCounts::empty(budget.slot_seconds());
    first.add(now.unix_timestamp());
    first
}

/// Counts the event once the bucket's first row, `first`, is inserted (`found` is `None`), or
/// its row found and locked (`found`: the event is counted into it and written back). With
/// [`WhenSpent::Refuse`] a budget with no room refuses, a budget of nothing even its first
/// event: the caller's transaction then rolls the insert back with the rest.
fn count_into(
    conn: &mut DbConnection,
    budget: &Budget,
    first: SlotCounts,
    found: Option<RateLimitCounterRow>,
    now: OffsetDateTime,
    when_spent: WhenSpent,
) -> Result<Standing, DomainError> {
    let now_seconds = now.unix_timestamp();
    let Some(row) = found else {
        if when_spent == WhenSpent::Refuse {
            refuse_when_spent(budget, &SlotCounts::empty(budget.slot_seconds()), now)?;
        }
        return Ok(Standing::of(budget, &first, now_seconds));
    };
    let mut counts = counts_of(budget, Some(row))?;
    if when_spent == WhenSpent::Refuse {
        refuse_when_spent(budget, &counts, now)?;
    }
    counts.prune(now_seconds, budget.window_seconds());
    counts.add(now_seconds);
    rate_limits::update(conn, &counter_row(budget, &counts, now))?;
    Ok(Standing::of(budget, &counts, now_seconds))
}

/// The row that stores `counts` of `budget`, kept until its last counted slot leaves the
/// window.
fn counter_row(budget: &Budget, counts: &SlotCounts, now: OffsetDateTime) -> RateLimitCounterRow {
    let expires_at = counts
        .expires(budget.window_seconds())
        .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
        .unwrap_or(now + budget.window);
    RateLimitCounterRow {
        bucket: budget.bucket.clone(),
        slot_seconds: counts.slot_seconds,
        slots: counts.to_text(),
        expires_at: to_db_time(expires_at),
    }
}

/// Refuses with `RateLimited` when any budget is spent; the wait is until its oldest counted
/// slot leaves the window. For an event that is counted only when it turns out so (a wrong
/// code): [`record`] then counts it in the same transaction.
///
/// Each bucket is locked until the transaction ends, row or no row yet (by its key: see
/// `db::lock_key`), so that parallel requests take turns between this check and the `record`
/// that counts: without, two transactions under READ COMMITTED both see 9 of 10 and both
/// pass. The buckets are locked in the order given; callers put the client's budget first.
pub fn check(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    let keys: Vec<String> = budgets
        .iter()
        .map(|budget| format!("budget:{}", budget.bucket))
        .collect();
    db::lock_keys(conn, &keys.iter().map(String::as_str).collect::<Vec<_>>())?;
    let buckets: Vec<&str> = budgets.iter().map(|b| b.bucket.as_str()).collect();
    let mut rows = rate_limits::find_all_for_update(conn, &buckets)?;
    for budget in budgets {
        let row = rows
            .iter()
            .position(|row| row.bucket == budget.bucket)
            .map(|at| rows.swap_remove(at));
        refuse_when_spent(budget, &counts_of(budget, row)?, now)?;
    }
    Ok(())
}

/// Counts one event against each budget, after [`check`] in the same transaction.
pub fn record(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    count_events(conn, budgets, now, WhenSpent::Count).map(drop)
}

/// Checks and counts, budget by budget in their order (the locking order): the usual pair
/// for an action that is itself limited. A refusal by a later budget rolls the earlier ones'
/// counts back with the rest of the transaction. Gives what is left of each budget afterwards,
/// in their order.
pub fn spend(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
) -> Result<Vec<Standing>, DomainError> {
    count_events(conn, budgets, now, WhenSpent::Refuse)
}

/// Counts one event at `now` against each of `budgets`, with each bucket's row locked until
/// the transaction ends: a parallel transaction counting the same bucket waits, then counts
/// after this one, so no two both see 9 of 10 and both pass.
///
/// The buckets' first rows are inserted, or their rows locked, together and in order
/// (`rate_limits::insert_firsts_or_lock`: on PostgreSQL one statement, so a bucket's first
/// event costs no other); then each budget found with a row is checked (with
/// [`WhenSpent::Refuse`]) and written back, in order, one statement each. A refusal answers
/// the first budget in order that refuses, as one by one would.
fn count_events(
    conn: &mut DbConnection,
    budgets: &[Budget],
    now: OffsetDateTime,
    when_spent: WhenSpent,
) -> Result<Vec<Standing>, DomainError> {
    let firsts: Vec<SlotCounts> = budgets
        .iter()
        .map(|budget| first_event(budget, now))
        .collect();
    let rows: Vec<RateLimitCounterRow> = budgets
        .iter()
        .zip(&firsts)
        .map(|(budget, first)| counter_row(budget, first, now))
        .collect();
    let found = rate_limits::insert_firsts_or_lock(conn, &rows)?;
    budgets
        .iter()
        .zip(firsts)
        .zip(found)
        .map(|((budget, first), found)| count_into(conn, budget, first, found, now, when_spent))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    #[test]
    fn an_event_counts_for_at_least_the_window_and_at_most_a_slot_longer() {
        let mut counts = SlotCounts::empty(HOUR / 60);
        counts.add(10 * HOUR + 59);
        assert_eq!(counts.counted(10 * HOUR + 59, HOUR).0, 1);
        // Still counted a whole window later (its slot's end is not yet out).
        assert_eq!(counts.counted(11 * HOUR + 59, HOUR).0, 1);
        // Out once its slot's end has left the window.
        let (count, _) = counts.counted(11 * HOUR + 60, HOUR);
        assert_eq!(count, 0);
    }

    #[test]
    fn the_wait_ends_when_the_oldest_counted_slot_leaves_the_window() {
        let mut counts = SlotCounts::empty(60);
        counts.add(1_000_000);
        counts.add(1_000_100);
        let (count, free_at) = counts.counted(1_000_200, HOUR);
        assert_eq!(count, 2);
        // Slot 16666 covers [999_960, 1_000_020): free when its end is an hour old.
        assert_eq!(free_at, Some(1_000_020 + HOUR));
    }

    #[test]
    fn the_stored_form_reads_back_and_refuses_what_is_not_ours() {
        let mut counts = SlotCounts::empty(60);
        for second in [0, 1, 61, 200, 200] {
            counts.add(second);
        }
        assert_eq!(counts.to_text(), "0:2,1:1,3:2");
        assert_eq!(SlotCounts::parse(60, &counts.to_text()), Ok(counts));
        assert_eq!(SlotCounts::parse(60, ""), Ok(SlotCounts::empty(60)));
        assert!(SlotCounts::parse(60, "3:1,1:1").is_err());
        assert!(SlotCounts::parse(60, "x:1").is_err());
        assert!(SlotCounts::parse(0, "1:1").is_err());
    }

    #[test]
    fn reslotting_never_lets_an_event_leave_the_window_early() {
        // Events carried over from the one-row-per-event table, at one-second slots.
        let mut exact = SlotCounts::empty(1);
        for second in [86_399, 86_400, 90_000] {
            exact.add(second);
        }
        let coarse = exact.clone().reslotted(1440);
        for now in (86_399..=90_000 + 86_400 + 2000).step_by(97) {
            let (exact_count, _) = exact.counted(now, 86_400);
            let (coarse_count, _) = coarse.counted(now, 86_400);
            assert!(
                coarse_count >= exact_count,
                "at {now}: {coarse_count} < {exact_count}"
            );
        }
        assert_eq!(coarse.counted(90_000, 86_400).0, 3);
    }

    #[test]
    fn pruning_keeps_the_row_to_the_slots_of_one_window() {
        let mut counts = SlotCounts::empty(60);
        for minute in 0..600 {
            counts.prune(minute * 60, HOUR);
            counts.add(minute * 60);
        }
        assert!(counts.slots.len() <= SLOTS_PER_WINDOW as usize + 1);
        // The event of minute 539 is exactly an hour old: an exact window has let it go, the
        // slots keep it one slot longer.
        assert_eq!(counts.counted(599 * 60, HOUR).0, 61);
    }

    #[test]
    fn a_clock_that_went_back_counts_the_event_in_the_newest_slot() {
        let mut counts = SlotCounts::empty(60);
        counts.add(6000);
        counts.add(5000);
        assert_eq!(counts.to_text(), "100:2");
    }

    /// A pair of budgets is counted together: both new, then both found; the first budget in
    /// order that refuses answers, and its transaction keeps nothing of the spend.
    #[test]
    fn a_pair_of_budgets_is_spent_together_and_refused_in_order() -> Result<(), DomainError> {
        let (_dir, db) = crate::db::temporary_sqlite(1);
        let now = time::macros::datetime!(2026-12-07 10:00:00 UTC);
        let hour = Duration::from_secs(3600);
        let office = Budget::new("code:office", "1311111111", 2, hour);
        let address = Budget::new("code:email", "a@example.jp", 5, hour);
        let nothing = Budget::new("code:none", "x", 0, hour);
        let remaining = |standings: Vec<Standing>| -> Vec<u32> {
            standings.iter().map(|s| s.remaining).collect()
        };
        let pair = [office.clone(), address.clone()];
        let first = db.transaction_blocking(|conn| spend(conn, &pair, now))?;
        let second = db.transaction_blocking(|conn| spend(conn, &pair, now))?;
        assert_eq!(
            (remaining(first), remaining(second)),
            (vec![1, 4], vec![0, 3])
        );

        // The office's budget is spent: it refuses, though the address's has room.
        let refused = db.transaction_blocking(|conn| spend(conn, &pair, now));
        assert!(matches!(refused, Err(DomainError::RateLimited { .. })));
        // A budget of nothing refuses even its first event, and nothing of it is stored.
        let refused =
            db.transaction_blocking(|conn| spend(conn, &[address.clone(), nothing.clone()], now));
        assert!(matches!(
            refused,
            Err(DomainError::RateLimited { retry_after_secs }) if retry_after_secs == 3600
        ));
        let stored = db.transaction_blocking(|conn| {
            Ok::<_, DomainError>((
                rate_limits::find(conn, &address.bucket)?.map(|row| row.slots),
                rate_limits::find(conn, &nothing.bucket)?,
            ))
        })?;
        assert_eq!(stored.0.as_deref(), Some("29943960:2"));
        assert!(stored.1.is_none());
        Ok(())
    }

    #[test]
    fn budget_slots_are_a_sixtieth_of_the_window_and_at_least_a_second() {
        let day = Budget::new("code:office", "1311111111", 10, Duration::from_secs(86_400));
        assert_eq!(day.slot_seconds(), 1440);
        let short = Budget::new("login:all", "", 10, Duration::from_secs(30));
        assert_eq!(short.slot_seconds(), 1);
    }
}
