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
        loop {
            match self.deliver_due().await {
                // A full batch means more may be waiting: go again at once.
                Ok(n) if n >= BATCH => continue,
                Ok(_) => {}
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

    /// One round: claims due messages and tries each once. Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, DomainError> {
        let claimed = outbox::claim_due(&self.ctx, BATCH as i64).await?;
        let count = claimed.len();
        let deliveries = claimed.into_iter().map(|mail| async move {
            let outcome = self.transport.send(&mail, self.ctx.clock.now()).await;
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
        if !self.transport.is_dev_mailbox() {
            outbox::mark_delivered(&self.ctx, delivered).await?;
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
