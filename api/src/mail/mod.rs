//! Mail delivery, the driver beside `routes`: the outbox worker and the transports (SMTP, or
//! the development mailbox when no SMTP server is configured). What a message says is domain
//! text (`domain::templates`); what is queued is the domain's outbox.

pub mod outbox;
pub mod smtp_pool;
pub mod transport;
