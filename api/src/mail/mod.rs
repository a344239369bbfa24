//! Mail: templates (the manual's text verbatim), the outbox worker, and the transports (SMTP,
//! or the development mailbox when no SMTP server is configured).

pub mod outbox;
pub mod templates;
pub mod transport;
