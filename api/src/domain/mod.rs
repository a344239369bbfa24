//! Rules and the state machine: no HTTP, no SQL. Services here orchestrate one use case each
//! inside one database transaction, through the repository functions of `crate::db`.

pub mod accounts;
pub mod application;
pub mod audit;
pub mod calendar;
pub mod caller;
pub mod csv;
pub mod enrolment;
pub mod error;
pub mod federation;
pub mod idempotency;
pub mod ledger;
pub mod mfa;
pub mod outbox;
pub mod password_reset;
pub mod passwords;
pub mod pseudonyms;
pub mod rate_limit;
pub mod reissue;
pub mod retention;
pub mod review;
pub mod reviewers;
pub mod secrets;
pub mod security_codes;
pub mod security_email;
pub mod sessions;
pub mod status_inquiry;
pub mod sweeper;
pub mod templates;

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Limits;
use crate::db::{Database, DbConnection, StorageError};
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
    /// The bounded argon2 threads.
    pub passwords: passwords::PasswordWorkers,
    /// Four-eyes issuance (`REISSUE_FOUR_EYES`): approvals and reprints wait for a second
    /// reviewer.
    pub four_eyes: bool,
}

/// One unit of work inside a transaction: the connection, the context, the time the work
/// started (one "now" for every row it writes), and whether it queued mail.
pub struct Tx<'a> {
    /// The transaction's connection.
    pub conn: &'a mut DbConnection,
    /// What every use case needs.
    pub ctx: &'a Context,
    /// Now, read once when the transaction began.
    pub now: OffsetDateTime,
    mail_queued: bool,
}

impl Tx<'_> {
    /// Queues `content` for `recipient` in this transaction (sent if and only if it commits);
    /// the outbox worker is woken after the commit.
    pub fn queue_mail(
        &mut self,
        recipient: &str,
        content: templates::MailContent,
        application_id: Option<uuid::Uuid>,
    ) -> Result<(), StorageError> {
        outbox::queue(self.conn, recipient, content, application_id, self.now)?;
        self.mail_queued = true;
        Ok(())
    }
}

impl Context {
    /// Runs `work` in one transaction on the blocking pool (an `Err` rolls back), with the
    /// clock read once; wakes the outbox worker when the committed work queued mail.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    {
        let ctx = self.clone();
        let (value, mail_queued) = self
            .db
            .transaction(move |conn| {
                let mut tx = Tx {
                    conn,
                    now: ctx.clock.now(),
                    ctx: &ctx,
                    mail_queued: false,
                };
                let value = work(&mut tx)?;
                Ok::<_, E>((value, tx.mail_queued))
            })
            .await?;
        if mail_queued {
            self.mail_wakeup.notify_one();
        }
        Ok(value)
    }

    /// Runs a read on the blocking pool, outside any transaction, with the clock read once.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection, &Context, OffsetDateTime) -> Result<T, E> + Send + 'static,
    {
        self.db.run(self.reading_now(work)).await
    }

    /// [`Self::read`] for a read of a few rows by key (an application by its id, a budget's
    /// row): on SQLite it runs on the calling async worker when a connection is free
    /// (`Database::lookup`).
    pub async fn lookup<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection, &Context, OffsetDateTime) -> Result<T, E> + Send + 'static,
    {
        self.db.lookup(self.reading_now(work)).await
    }

    /// `work` as a unit of storage work that reads the clock once, when it starts.
    fn reading_now<T, E, F>(&self, work: F) -> impl FnOnce(&mut DbConnection) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection, &Context, OffsetDateTime) -> Result<T, E>,
    {
        let ctx = self.clone();
        move |conn| {
            let now = ctx.clock.now();
            work(conn, &ctx, now)
        }
    }

    /// `/readyz`: whether storage answers now. Whatever the cause, "not ready" is the answer
    /// (503), so a load balancer can act on it.
    pub async fn check_storage(&self) -> Result<(), DomainError> {
        self.db
            .ping()
            .await
            .map_err(|error| DomainError::Storage(StorageError::Unavailable(error.to_string())))
    }
}
