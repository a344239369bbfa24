//! The mail outbox: every message is queued in the transaction of the change that causes it
//! (`queue`), and the delivery driver (`crate::mail`) claims due messages, hands them over and
//! reports back here. The retry policy is a rule of the domain: exponential back-off up to a
//! bounded number of tries, then `failed` and audited where an operator can see it. Delivery
//! is at least once: a crash between the hand-over and the commit of `sent` can repeat one
//! message (with the same Message-ID, see `mail::transport`).

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{AuditAction, AuditEvent};
use super::templates::MailContent;
use super::{Context, DomainError};
use crate::config::MailSettings;
use crate::db::models::OutboxRow;
use crate::db::outbox::NewMail;
use crate::db::{self, Database, DbConnection, StorageError};
use crate::metrics::OutboxGauges;

pub use reissue_shared::dto::DevMessage;

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    /// The outbox row's id; it also names the message (`Message-ID`), so a retry after a crash
    /// is recognisable.
    pub id: String,
    /// Recipient.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Tries so far, this one included.
    pub attempts: u32,
}

/// A claimed row as the message to send.
impl TryFrom<OutboxRow> for ClaimedMail {
    type Error = StorageError;

    fn try_from(row: OutboxRow) -> Result<Self, StorageError> {
        let attempts = u32::try_from(row.attempts)
            .map_err(|_| StorageError::Corrupt(format!("outbox {}: attempts", row.id)))?;
        Ok(Self {
            id: row.id,
            recipient: row.recipient,
            subject: row.subject,
            body: row.body,
            attempts,
        })
    }
}

/// How long a claimed message stays reserved for the worker that claimed it: longer than the
/// SMTP timeout (10 s), short enough that mail claimed by a killed instance leaves soon.
const LEASE: Duration = Duration::from_secs(30);

/// How many messages the development mailbox lists.
const DEV_MAILBOX_LIMIT: i64 = 200;

/// Queues `content` for `recipient` inside the caller's transaction: the mail exists if and
/// only if the change that causes it is committed.
pub fn queue(
    conn: &mut DbConnection,
    recipient: &str,
    content: MailContent,
    application_id: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<(), StorageError> {
    db::outbox::enqueue(
        conn,
        &NewMail {
            recipient: recipient.to_owned(),
            subject: content.subject,
            body: content.body,
            application_id,
        },
        now,
    )
}

/// Marks the messages a worker handed to SMTP in its last round as sent (`delivered`), and
/// claims up to `batch` due messages for its next round (a lease; see [`LEASE`]). The
/// recipient's mailbox keeps the text now, so a delivered message's stored body (it may hold
/// a code) is erased.
///
/// Each of the two is one statement, whole by itself (a round that fails between them
/// records the deliveries again next time, which changes nothing), so on PostgreSQL they run
/// without a transaction around them: a round is one or two statements instead of three or
/// more. On SQLite they share one write transaction, since each write transaction waits its
/// turn for the one writer, and a round that waited twice left queued mail waiting with it.
pub async fn settle_and_claim(
    ctx: &Context,
    delivered: Vec<String>,
    batch: i64,
) -> Result<Vec<ClaimedMail>, DomainError> {
    let now = ctx.clock.now();
    Ok(ctx
        .db
        .autocommit(move |conn| {
            if !delivered.is_empty() {
                db::outbox::mark_all_sent(conn, &delivered, now, true)?;
            }
            db::outbox::claim_due(conn, now, LEASE, batch)?
                .into_iter()
                .map(ClaimedMail::try_from)
                .collect::<Result<Vec<_>, _>>()
        })
        .await?)
}

/// `text` with every e-mail address in it (any run of characters with an `@`, between
/// spaces, brackets, quotes or punctuation) replaced by `[address]`.
pub fn redact_addresses(text: &str) -> String {
    let is_boundary = |c: char| c.is_whitespace() || "<>()[]\"',;:".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str("[address]");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_boundary(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// When to try again after `attempts` failed tries, or `None` to give up.
pub fn next_attempt(
    settings: &MailSettings,
    attempts: u32,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    if attempts >= settings.max_attempts {
        return None;
    }
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    let delay = settings
        .retry_base
        .saturating_mul(factor)
        .min(settings.retry_max);
    Some(now + delay)
}

/// Records a failed try of `mail`: retried at `retry_at`, or given up and audited.
pub async fn record_failure(
    ctx: &Context,
    mail: &ClaimedMail,
    error: String,
    retry_at: Option<OffsetDateTime>,
) -> Result<(), DomainError> {
    let now = ctx.clock.now();
    let id = mail.id.clone();
    let attempts = mail.attempts;
    ctx.db
        .transaction(move |conn| {
            db::outbox::mark_failed(conn, &id, &error, retry_at)?;
            if retry_at.is_none() {
                AuditEvent {
                    occurred_at: now,
                    actor: "system".into(),
                    action: AuditAction::MailFailed,
                    application_id: None,
                    office_number: None,
                    prefecture_code: None,
                    detail: format!("outbox {id} after {attempts} tries: {error}"),
                }
                .record(conn)?;
            }
            Ok::<_, StorageError>(())
        })
        .await?;
    Ok(())
}

/// What an operator watches: messages waiting, the oldest one's queue time, failures.
pub async fn backlog(ctx: &Context) -> Result<OutboxGauges, DomainError> {
    let backlog = ctx.db.run(db::outbox::backlog).await?;
    Ok(OutboxGauges {
        pending: backlog.pending,
        oldest_queued_at: backlog.oldest_queued_at,
        failed: backlog.failed,
    })
}

/// The development mailbox: where mail goes while no SMTP server is configured, shown at
/// `/dev/mailbox`. Cheap to clone.
#[derive(Clone)]
pub struct DevMailbox {
    db: Database,
}

impl DevMailbox {
    /// The mailbox kept in this database.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Keeps a copy of `mail` and marks it sent, in one transaction: exactly once, even when
    /// two workers hold the same message after a lease ran out.
    pub async fn keep(&self, mail: &ClaimedMail, now: OffsetDateTime) -> Result<(), DomainError> {
        let mail = mail.clone();
        self.db
            .transaction(move |conn| {
                if db::outbox::mark_sent(conn, &mail.id, now, false)? {
                    db::dev_mailbox::insert(conn, &mail.recipient, &mail.subject, &mail.body, now)?;
                }
                Ok::<_, StorageError>(())
            })
            .await?;
        Ok(())
    }
}

/// The development mailbox's messages, newest first, optionally only those to `recipient`.
pub async fn dev_messages(
    ctx: &Context,
    recipient: Option<String>,
) -> Result<Vec<DevMessage>, DomainError> {
    Ok(ctx
        .db
        .run(move |conn| {
            db::dev_mailbox::list(conn, recipient.as_deref().map(str::trim), DEV_MAILBOX_LIMIT)
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_transport_and_driver_errors_are_redacted() {
        // PostgreSQL quotes the row's values in a constraint violation.
        assert_eq!(
            redact_addresses(
                "Query(DatabaseError(UniqueViolation, \"duplicate key value\")) \
                 DETAIL: Key (email)=(taro@example.jp) already exists."
            ),
            "Query(DatabaseError(UniqueViolation, \"duplicate key value\")) \
             DETAIL: Key (email)=([address]) already exists."
        );
        assert_eq!(
            redact_addresses("permanent error (550): 5.1.1 <taro@example.jp>: Recipient unknown"),
            "permanent error (550): 5.1.1 <[address]>: Recipient unknown"
        );
        assert_eq!(
            redact_addresses("mailbox \"hanako.k+x@kaigo.example\" full, try later"),
            "mailbox \"[address]\" full, try later"
        );
        assert_eq!(
            redact_addresses("connection refused (os error 111)"),
            "connection refused (os error 111)"
        );
    }

    fn settings() -> MailSettings {
        MailSettings {
            smtp_url: None,
            dev_mailbox: true,
            from: "x@example.jp".into(),
            max_attempts: 5,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(10),
            poll_interval: Duration::from_millis(100),
        }
    }

    #[test]
    fn back_off_doubles_up_to_the_cap_then_gives_up() {
        let now = OffsetDateTime::now_utc();
        let delays: Vec<_> = (1..=5)
            .map(|n| next_attempt(&settings(), n, now).map(|t| (t - now).whole_seconds()))
            .collect();
        assert_eq!(delays, [Some(2), Some(4), Some(8), Some(10), None]);
    }
}
