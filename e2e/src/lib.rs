//! The browser test harness: the real `reissue` binary on a random port with a fresh SQLite
//! database, a headless Debian Chromium driven through chromedriver, the development mailbox,
//! screenshots of every screen and an axe-core check on each.
//!
//! A journey reads like this (the test ids are illustrative):
//!
//! ```no_run
//! use reissue_e2e::{Browser, Server};
//!
//! # async fn journey() -> anyhow::Result<()> {
//! let server = Server::start(true).await?;
//! let browser = Browser::open(&server).await?;
//! browser.goto("/").await?;
//! browser.check_screen("portal").await?; // screenshot + axe-core
//! browser.click_testid("login-link").await?;
//! let code = server.mailbox().latest_code("clerk@example.jp").await?;
//! browser.fill_testid("code", &code).await?;
//! browser.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Before `cargo test -p reissue-e2e`, build the server (`cargo build -p reissue-api`) and
//! install the Debian packages `chromium`, `chromium-driver` and `fonts-noto-cjk` (without a CJK
//! font the screenshots show boxes instead of Japanese). axe-core is fetched from the npm
//! registry on first use into `target/e2e-tools/` (needs `npm`).

mod authenticator;
mod axe;
mod browser;
mod mailbox;
mod paths;
mod reviewer_login;
mod server;
pub mod smtp_sink;

pub use authenticator::{totp_code_at_step, totp_step, TOTP_STEP_SECONDS};
pub use axe::{axe_check, axe_violations, AxeNode, AxeViolation, AXE_CORE_VERSION};
pub use browser::{Browser, DEFAULT_TIMEOUT};
pub use mailbox::{code_from_body, Mailbox, Message};
pub use paths::{
    free_port, screenshot_dir, server_binary, tail, target_dir, web_dir, workspace_root,
};
pub use reviewer_login::Authenticators;
pub use server::{Server, ServerOptions};
