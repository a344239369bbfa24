//! API tests against the real server, started on a random port against a fresh database.
//! Every journey runs on SQLite and on PostgreSQL (see `on_both_backends!`).

// A test target is always built with cfg(test); said here, clippy (1.95) also counts the
// helpers outside `#[test]` functions as tests, so `allow-unwrap-in-tests` covers them.
#![cfg(test)]

mod helpers;

mod abuse;
mod api_docs;
mod application_flow;
mod attacks;
mod client_address;
mod crash;
mod faults;
mod federation;
mod four_eyes;
mod idempotency;
mod key_rotation;
mod ledger_import;
mod ledger_outcomes;
mod lockout;
mod login_throttle;
mod mail_configuration;
mod mail_connections;
mod mail_delivery;
mod malformed_requests;
mod metrics;
mod mfa;
mod notice_pdf;
mod office_login;
mod openapi;
mod parallel_limits;
mod rate_limit_headers;
mod retention;
mod review;
mod security_email;
mod security_headers;
mod sessions;
mod spa;
mod status_inquiry;
mod tcp_proxy;
mod verification_codes;
