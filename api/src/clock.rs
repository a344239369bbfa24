//! The current time, injected so that expiry is tested without sleeping.

use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// A source of "now".
pub trait Clock: Send + Sync {
    /// The current instant (UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        to_micros(OffsetDateTime::now_utc())
    }
}

/// Microsecond precision, as both databases store it, so an answer shows the same instant that
/// a later read returns.
fn to_micros(instant: OffsetDateTime) -> OffsetDateTime {
    let micros = instant.nanosecond() / 1_000 * 1_000;
    instant.replace_nanosecond(micros).unwrap_or(instant)
}

/// A clock that moves only when told to; for tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Starts at the current system time.
    pub fn new() -> Self {
        Self(Mutex::new(to_micros(OffsetDateTime::now_utc())))
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }

    /// Moves time back: for a test whose data must look old to a command that reads the
    /// system clock (`reissue purge`).
    pub fn rewind(&self, by: Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now -= by;
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}
