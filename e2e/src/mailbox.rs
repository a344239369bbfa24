//! The server's development mailbox (`GET /api/dev/messages?to=`), where mail goes while no SMTP
//! server is configured, and reading the verification code out of a mail.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::Deserialize;

/// How long a mail may take to arrive (the outbox is polled every 500 ms by default).
const MAIL_TIMEOUT: Duration = Duration::from_secs(15);
/// Between two reads of the mailbox: the API tests' outbox delivers within tens of ms, and
/// reading the mailbox is one indexed query.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// The line the code follows in the mail (manual step 8).
const CODE_HEADING: &str = "[確認コード]";

/// One mail in the development mailbox.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was handed to the mailbox (RFC 3339).
    pub created_at: String,
}

/// The development mailbox of one server: [`crate::Server::mailbox`], or
/// [`Mailbox::new`] for a server started otherwise (the API tests start it in-process).
#[derive(Debug, Clone)]
pub struct Mailbox {
    url: String,
    http: reqwest::Client,
}

impl Mailbox {
    /// The mailbox of the server at `base_url` (`http://127.0.0.1:PORT`, no trailing slash),
    /// read with `http`.
    pub fn new(base_url: &str, http: reqwest::Client) -> Self {
        Self {
            url: format!("{base_url}/api/dev/messages"),
            http,
        }
    }

    /// The mails sent to `to` so far, newest first.
    pub async fn messages(&self, to: &str) -> anyhow::Result<Vec<Message>> {
        let response = self
            .http
            .get(&self.url)
            .query(&[("to", to)])
            .send()
            .await
            .context("reading the development mailbox")?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "GET /api/dev/messages answered {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response.json().await?)
    }

    /// Waits until at least `n` mails have been sent to `to` and returns them all, newest first.
    pub async fn wait_for_messages(&self, to: &str, n: usize) -> anyhow::Result<Vec<Message>> {
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            let messages = self.messages(to).await?;
            if messages.len() >= n {
                return Ok(messages);
            }
            if Instant::now() > deadline {
                bail!(
                    "fewer than {n} mails to {to} within {MAIL_TIMEOUT:?} ({} arrived)",
                    messages.len()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until more than `seen` mails have been sent to `to` and returns the newest.
    pub async fn wait_for_message(&self, to: &str, seen: usize) -> anyhow::Result<Message> {
        let mut messages = self.wait_for_messages(to, seen + 1).await?;
        Ok(messages.swap_remove(0))
    }

    /// The code in the newest mail to `to`, waiting for a first mail to arrive.
    pub async fn latest_code(&self, to: &str) -> anyhow::Result<String> {
        self.next_code(to, 0).await
    }

    /// The code in the next mail to `to` after the `seen` already there (for 再送信: count
    /// [`Mailbox::messages`] before clicking, then wait for the new code).
    pub async fn next_code(&self, to: &str, seen: usize) -> anyhow::Result<String> {
        let message = self.wait_for_message(to, seen).await?;
        code_from_body(&message.body).with_context(|| {
            format!(
                "no 4-digit code after {CODE_HEADING} in the mail {:?}:\n{}",
                message.subject, message.body
            )
        })
    }
}

/// The 4 digits on the first non-empty line after `[確認コード]`.
pub fn code_from_body(body: &str) -> Option<String> {
    let mut lines = body.lines().map(str::trim);
    lines.find(|line| *line == CODE_HEADING)?;
    let code = lines.find(|line| !line.is_empty())?;
    // 4 digits for the reissue application, 6 for the security-e-mail path.
    (matches!(code.len(), 4 | 6) && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_read_from_the_line_after_the_heading() {
        let body = "請求事業所 A 様\n\n[確認コード]\n\n0427\n\n有効期限は30分です。";
        assert_eq!(code_from_body(body).as_deref(), Some("0427"));
    }

    #[test]
    fn a_mail_without_a_code_yields_none() {
        assert_eq!(code_from_body("[確認コード]\n\n12345\n"), None);
        assert_eq!(code_from_body("1234"), None);
        assert_eq!(code_from_body("[確認コード]\n"), None);
    }
}
