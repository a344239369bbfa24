//! The outbox worker: claims due messages from the domain's outbox, hands them to the
//! transport, and reports each outcome back (`domain::outbox` holds the retry policy).

use std::sync::Arc;

use tokio::sync::Notify;

use super::transport::Transport;
use crate::config::MailSettings;
use crate::domain::outbox::{self, ClaimedMail};
use crate::domain::{Context, DomainError};
use crate::metrics::MailOutcome;

/// Messages one worker claims (and sends at once) per round.
pub const BATCH: usize = 8;
/// Workers per instance. A round lasts as long as its slowest hand-over (a few round trips to
/// the SMTP server on a pooled connection, see `smtp_pool`; a new connection adds its
/// greeting, TLS and AUTH); rounds of several workers overlap, so a queued message waits for
/// the next free worker rather than for the end of a slow round.
pub const WORKERS: usize = 4;

/// The worker and what it needs.
#[derive(Clone)]
pub struct OutboxWorker {
    /// The domain's outbox, clock and storage.
    pub ctx: Context,
    /// Where mail goes.
    pub transport: Transport,
    /// Retry policy.
    pub settings: MailSettings,
    /// Woken after a commit that queued mail.
    pub wakeup: Arc<Notify>,
}

impl OutboxWorker {
    /// Delivers until the task is dropped.
    pub async fn run(self) {
        // Handed to SMTP in the last round, not yet recorded as sent: the next round records
        // them in the transaction that claims its batch.
        let mut delivered = Vec::new();
        loop {
            match self.deliver_due(&mut delivered).await {
                // A full batch means more may be waiting, and deliveries wait to be recorded:
                // go again at once.
                Ok(claimed) if claimed >= BATCH || !delivered.is_empty() => continue,
                Ok(_) => {}
                // Addresses in a database error (a constraint's detail, say) stay out of
                // the log.
                Err(error) => tracing::warn!(
                    error = %crate::domain::outbox::redact_addresses(&error.to_string()),
                    "outbox round failed; will retry"
                ),
            }
            tokio::select! {
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// One round: records `delivered` (the last round's hand-overs) as sent and claims a
    /// batch in one transaction, sends the batch at once, and leaves in `delivered` what this
    /// round handed over. Returns how many messages it claimed. (Until the next round records
    /// them, a message handed over is still leased: a worker that dies in between leaves it to
    /// be sent again when the lease runs out, with the same Message-ID.)
    pub async fn deliver_due(&self, delivered: &mut Vec<String>) -> Result<usize, DomainError> {
        let claimed = outbox::settle_and_claim(&self.ctx, delivered.clone(), BATCH as i64).await?;
        delivered.clear();
        let count = claimed.len();
        let deliveries = claimed.into_iter().map(|mail| async move {
            let outcome = self.transport.send(&mail, self.ctx.clock.now()).await;
            (mail, outcome.map_err(|e| e.to_string()))
        });
        for (mail, outcome) in futures_util::future::join_all(deliveries).await {
            match outcome {
                Ok(()) => {
                    crate::metrics::observe_mail(MailOutcome::Sent);
                    // The development mailbox records its own deliveries.
                    if !self.transport.is_dev_mailbox() {
                        delivered.push(mail.id);
                    }
                }
                Err(error) => self.record_failure(&mail, error).await?,
            }
        }
        Ok(count)
    }

    async fn record_failure(&self, mail: &ClaimedMail, error: String) -> Result<(), DomainError> {
        // An SMTP server's refusal often quotes the recipient: neither the log nor the audit
        // log needs it (the message id names the mail).
        let error = outbox::redact_addresses(&error);
        let retry_at = outbox::next_attempt(&self.settings, mail.attempts, self.ctx.clock.now());
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
        outbox::record_failure(&self.ctx, mail, error, retry_at).await
    }
}
