//! Where mail goes: an SMTP server in production (our connection pool, lettre's messages and
//! SMTP dialogue), or the development mailbox that the server shows at `/dev/mailbox` when
//! `REISSUE_SMTP_URL` is unset.

use lettre::message::{header::ContentType, Mailbox};
use lettre::Message;

use time::OffsetDateTime;

use super::smtp_pool::{PoolLimits, SmtpPool, SmtpServer};
use crate::config::MailSettings;
use crate::domain::outbox::{ClaimedMail, DevMailbox};

/// A configured transport.
#[derive(Clone)]
pub enum Transport {
    /// Real delivery.
    Smtp {
        /// Open connections to the server (clones share them).
        pool: SmtpPool,
        /// Sender.
        from: Mailbox,
    },
    /// Kept in the database, readable at `/dev/mailbox`.
    DevMailbox(DevMailbox),
}

/// Why `serve` refuses to start with neither SMTP nor the development mailbox.
pub const NO_MAIL_CONFIGURED: &str = "REISSUE_SMTP_URL is not set: set it to the SMTP server \
     (smtp://… or smtps://…) that sends the codes and results, or set REISSUE_DEV_MAILBOX=true to \
     keep mail in the development mailbox (for trying the service only: its messages are \
     readable at /api/dev/messages from this machine)";

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The configuration cannot work (bad URL or sender).
    #[error("mail configuration: {0}")]
    Config(String),
    /// The message could not be built (bad recipient address).
    #[error("message: {0}")]
    Message(String),
    /// The SMTP server refused or was unreachable.
    #[error("smtp: {0}")]
    Smtp(String),
    /// The development mailbox could not be written.
    #[error("dev mailbox: {0}")]
    DevMailbox(String),
}

impl Transport {
    /// SMTP when a URL is configured, with up to `connections` open at once (one for each
    /// message in flight), otherwise the development mailbox. Call it inside the tokio runtime:
    /// the pool starts a task that closes connections idle too long.
    pub fn from_settings(
        settings: &MailSettings,
        dev_mailbox: DevMailbox,
        connections: u32,
    ) -> Result<Self, TransportError> {
        match &settings.smtp_url {
            None if settings.dev_mailbox => Ok(Self::DevMailbox(dev_mailbox)),
            None => Err(TransportError::Config(NO_MAIL_CONFIGURED.to_owned())),
            Some(url) => {
                let server = SmtpServer::from_url(&url.0)
                    .map_err(|e| TransportError::Config(format!("REISSUE_SMTP_URL: {e}")))?;
                // One connection for each message in flight at most; with `TCP_NODELAY` a
                // message takes a few round trips, so a connection carries hundreds a second
                // on a near server.
                let connections = usize::try_from(connections).unwrap_or(usize::MAX);
                let pool = SmtpPool::new(server, PoolLimits::new(connections));
                let from = settings
                    .from
                    .parse::<Mailbox>()
                    .map_err(|e| TransportError::Config(format!("REISSUE_MAIL_FROM: {e}")))?;
                Ok(Self::Smtp { pool, from })
            }
        }
    }

    /// Whether the development mailbox is in use (its pages answer 404 otherwise).
    pub fn is_dev_mailbox(&self) -> bool {
        matches!(self, Self::DevMailbox(_))
    }

    /// Hands one message over.
    pub async fn send(
        &self,
        mail: &ClaimedMail,
        now: OffsetDateTime,
    ) -> Result<(), TransportError> {
        match self {
            Self::Smtp { pool, from } => {
                let to = mail
                    .recipient
                    .parse::<Mailbox>()
                    .map_err(|e| TransportError::Message(e.to_string()))?;
                // The outbox row's id names the message: a retry after a crash between the
                // hand-over and the `sent` mark carries the same Message-ID, so mail programs
                // show it once.
                let message_id = format!("<{}@{}>", mail.id, from.email.domain());
                let message = Message::builder()
                    .message_id(Some(message_id))
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    // lettre sets MIME-Version only for MIME bodies; spam filters score its
                    // absence, and Auto-Submitted (RFC 3834) keeps auto-responders from
                    // answering a machine.
                    .header(lettre::message::header::MIME_VERSION_1_0)
                    .header(AutoSubmitted)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())
                    .map_err(|e| TransportError::Message(e.to_string()))?;
                pool.send(message.envelope(), &message.formatted())
                    .await
                    .map_err(|e| TransportError::Smtp(e.to_string()))
            }
            Self::DevMailbox(mailbox) => mailbox
                .keep(mail, now)
                .await
                .map_err(|e| TransportError::DevMailbox(e.to_string())),
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): every mail of the service is sent by a machine,
/// not in reply to anything.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}
