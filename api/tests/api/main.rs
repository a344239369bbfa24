//! API tests against the real server, started on a random port against a fresh database.
//! Every journey runs on SQLite and on PostgreSQL (see `on_both_backends!`).

// Tests fail by panicking; unwrap is the clearest way to say "this must work here".
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod abuse;
mod application_flow;
mod attacks;
mod crash;
mod faults;
mod ledger_import;
mod ledger_outcomes;
mod mail_delivery;
mod malformed_requests;
mod metrics;
mod office_login;
mod openapi;
mod review;
mod security_email;
mod tcp_proxy;
mod verification_codes;
