//! The login-information reissue service for the care e-billing reception system
//! (電子請求受付システム): the JSON API under `/api/v1`, storage, the mail outbox.
//!
//! Layers: `routes` (HTTP: read the request, call one domain function, map the answer) →
//! `domain` (rules and the state machine) → `db` (diesel, the only place with SQL). `mail`
//! renders and delivers messages from the outbox. `startup` wires it together.

pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod telemetry;
