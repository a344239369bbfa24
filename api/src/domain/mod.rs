//! Rules and the state machine: no HTTP, no SQL. Services here orchestrate one use case each
//! inside one database transaction, through the repository functions of `crate::db`.

pub mod accounts;
pub mod application;
pub mod audit;
pub mod clock;
pub mod error;
pub mod ledger;
pub mod password_reset;
pub mod passwords;
pub mod rate_limit;
pub mod reissue;
pub mod review;
pub mod reviewers;
pub mod secrets;
pub mod security_codes;
pub mod security_email;
pub mod sessions;
pub mod sweeper;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Limits;
use crate::db::Database;
use clock::Clock;
use secrets::Hasher;

pub use error::DomainError;

/// What every use case needs: storage, time, the keyed hash, the limits, and a way to wake the
/// mail worker after a commit that queued mail.
#[derive(Clone)]
pub struct Context {
    /// Storage.
    pub db: Database,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Keyed hash for codes and tokens.
    pub hasher: Hasher,
    /// Signing keys of reviewer and office sessions.
    pub sessions: sessions::SessionKeys,
    /// The code rules' limits.
    pub limits: Arc<Limits>,
    /// Wakes the outbox worker.
    pub mail_wakeup: Arc<Notify>,
}
