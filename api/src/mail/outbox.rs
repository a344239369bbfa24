//! The outbox worker: claims due messages, hands them to the transport, and records the
//! outcome. A failed try is retried with exponential back-off up to a bounded number of tries,
//! then marked `failed` (and audited) where an operator can see it. Delivery is at least once:
//! a crash between the SMTP hand-over and the commit of `sent` can repeat one message.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;

use super::transport::Transport;
use crate::config::MailSettings;
use crate::db::{self, Database, StorageError};
use crate::domain::audit::{AuditAction, AuditEvent};
use crate::domain::clock::Clock;
use crate::metrics::MailOutcome;

/// How long a claimed message stays reserved for the worker that claimed it: longer than the
/// SMTP timeout (10 s), short enough that mail claimed by a killed instance leaves soon.
const LEASE: Duration = Duration::from_secs(30);
/// Messages one worker claims (and sends at once) per round.
pub const BATCH: i64 = 8;
/// Workers per instance. A round lasts as long as its slowest hand-over (about 40 ms even on
/// loopback, see `transport`); rounds of several workers overlap, so a queued message waits
/// for the next free worker rather than for the end of a long round.
pub const WORKERS: usize = 4;

/// The worker and what it needs.
#[derive(Clone)]
pub struct OutboxWorker {
    /// Storage.
    pub db: Database,
    /// Where mail goes.
    pub transport: Transport,
    /// Retry policy.
    pub settings: MailSettings,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Woken after a commit that queued mail.
    pub wakeup: Arc<Notify>,
}

impl OutboxWorker {
    /// Delivers until the task is dropped.
    pub async fn run(self) {
        loop {
            match self.deliver_due().await {
                // A full batch means more may be waiting: go again at once.
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "outbox round failed; will retry"),
            }
            tokio::select! {
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// One round: claims due messages and tries each once. Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        let claimed = self
            .db
            .transaction(move |conn| db::outbox::claim_due(conn, now, LEASE, BATCH))
            .await?;
        let count = claimed.len();
        let deliveries = claimed.into_iter().map(|mail| async move {
            let outcome = self.transport.send(&mail, self.clock.as_ref()).await;
            (mail, outcome.map_err(|e| e.to_string()))
        });
        let mut delivered = Vec::new();
        for (mail, outcome) in futures_util::future::join_all(deliveries).await {
            match outcome {
                Ok(()) => {
                    crate::metrics::observe_mail(MailOutcome::Sent);
                    delivered.push(mail.id);
                }
                Err(error) => self.record_failure(&mail, error).await?,
            }
        }
        // The development mailbox marked its copies in their own transactions; SMTP
        // deliveries of the round are marked in one, not one transaction per message.
        if !self.transport.is_dev_mailbox() && !delivered.is_empty() {
            let now = self.clock.now();
            self.db
                .transaction(move |conn| {
                    for id in &delivered {
                        // The recipient's mailbox keeps the text: erase it (it may hold a
                        // code).
                        db::outbox::mark_sent(conn, id, now, true)?;
                    }
                    Ok::<_, StorageError>(())
                })
                .await?;
        }
        Ok(count)
    }

    async fn record_failure(
        &self,
        mail: &db::outbox::ClaimedMail,
        error: String,
    ) -> Result<(), StorageError> {
        let now = self.clock.now();
        let id = mail.id.clone();
        let retry_at = next_attempt(&self.settings, mail.attempts, now);
        crate::metrics::observe_mail(if retry_at.is_some() {
            MailOutcome::Retry
        } else {
            MailOutcome::Failed
        });
        match retry_at {
            Some(at) => {
                tracing::warn!(mail_id = %mail.id, attempts = mail.attempts, retry_at = %at, error = %error, "mail delivery failed; will retry")
            }
            None => {
                tracing::error!(mail_id = %mail.id, attempts = mail.attempts, error = %error, "mail delivery failed for good")
            }
        }
        let attempts = mail.attempts;
        self.db
            .transaction(move |conn| {
                db::outbox::mark_failed(conn, &id, &error, retry_at)?;
                if retry_at.is_none() {
                    db::audit::append(
                        conn,
                        &AuditEvent {
                            occurred_at: now,
                            actor: "system".into(),
                            action: AuditAction::MailFailed,
                            application_id: None,
                            office_number: None,
                            prefecture_code: None,
                            detail: format!("outbox {id} after {attempts} tries: {error}"),
                        },
                    )?;
                }
                Ok(())
            })
            .await
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            smtp_url: None,
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
