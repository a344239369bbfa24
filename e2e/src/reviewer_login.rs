//! A reviewer's login in the console as a person does it: the login ID and password, then, the
//! first time, the enrolment of an authenticator app (the secret read off the page, as a phone
//! would scan it), and later the app's code. [`Authenticators`] is the phone: it keeps each
//! reviewer's secret and the last time step it sent a code for (the server accepts each once).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;

use crate::authenticator::{totp_code_at_step, totp_step};
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::server::Server;

/// The authenticator apps of the reviewers a test enrolled (secret and last step used), and
/// the recovery codes the enrolment page showed (kept as a reviewer keeps the printout).
#[derive(Debug, Default)]
pub struct Authenticators {
    apps: Mutex<HashMap<String, (String, i64)>>,
    recovery: Mutex<HashMap<String, Vec<String>>>,
}

impl Authenticators {
    /// A new, empty phone.
    pub fn new() -> Self {
        Self::default()
    }

    /// The secret enrolled for `login_id`, if any.
    pub fn secret(&self, login_id: &str) -> Option<String> {
        self.lock().get(login_id).map(|(secret, _)| secret.clone())
    }

    /// Keeps the secret of a newly enrolled reviewer, its first code spent at `step`.
    pub fn enrolled(&self, login_id: &str, secret: &str, step: i64) {
        self.lock()
            .insert(login_id.to_owned(), (secret.to_owned(), step));
    }

    /// The code for the earliest step the server still accepts for `login_id` (now or the next
    /// one, after the last used), waiting for a new step when both are used.
    pub async fn next_code(&self, login_id: &str) -> anyhow::Result<String> {
        loop {
            let now = totp_step(unix_now());
            let choice = {
                let mut apps = self.lock();
                let (secret, last) = apps
                    .get_mut(login_id)
                    .with_context(|| format!("{login_id} has no authenticator app"))?;
                let step = now.max(*last + 1);
                (step <= now + 1).then(|| {
                    *last = step;
                    (secret.clone(), step)
                })
            };
            match choice {
                Some((secret, step)) => return totp_code_at_step(&secret, step),
                None => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    /// One of the recovery codes shown at `login_id`'s enrolment, taken off the printout.
    pub fn take_recovery_code(&self, login_id: &str) -> Option<String> {
        self.recovery
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(login_id)
            .and_then(Vec::pop)
    }

    fn keep_recovery_codes(&self, login_id: &str, codes: Vec<String>) {
        self.recovery
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(login_id.to_owned(), codes);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, i64)>> {
        self.apps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Authenticators {
    /// A console token of `login_id` over the API, as billing software or a script gets one:
    /// the first time through the enrolment (the secret kept here), later with the app's code.
    pub async fn console_token(
        &self,
        server: &Server,
        login_id: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let http = server.http();
        let login = |body: Value| {
            http.post(server.url("/api/v1/admin/sessions"))
                .json(&body)
                .send()
        };
        let mut body = json!({ "login_id": login_id, "password": password });
        if self.secret(login_id).is_some() {
            body["totp_code"] = json!(self.next_code(login_id).await?);
        }
        let session: Value = login(body).await?.error_for_status()?.json().await?;
        let token = session["access_token"]
            .as_str()
            .context("access_token")?
            .to_owned();
        if session["mfa_enrolment_required"] != json!(true) {
            return Ok(token);
        }
        let post = |path: &str, body: Value| {
            http.post(server.url(path))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        let enrolment: Value = post("/api/v1/admin/mfa/enrolment", json!({}))
            .await?
            .error_for_status()?
            .json()
            .await?;
        let secret = enrolment["secret"].as_str().context("secret")?.to_owned();
        let step = totp_step(unix_now());
        self.enrolled(login_id, &secret, step);
        let confirmed: Value = post(
            "/api/v1/admin/mfa/enrolment/confirmation",
            json!({ "totp_code": totp_code_at_step(&secret, step)? }),
        )
        .await?
        .error_for_status()?
        .json()
        .await?;
        let codes = confirmed["recovery_codes"]
            .as_array()
            .context("recovery_codes")?
            .iter()
            .filter_map(|code| code.as_str().map(str::to_owned))
            .collect();
        self.keep_recovery_codes(login_id, codes);
        Ok(confirmed["access_token"]
            .as_str()
            .context("access_token")?
            .to_owned())
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Browser {
    /// Logs `login_id` in at /admin/login and ends on the queue: the first time through the
    /// enrolment page (screens checked: `admin-login`, `admin-mfa`, `admin-mfa-recovery`), later
    /// with the app's code (`admin-code`).
    pub async fn log_in_reviewer(
        &self,
        phone: &Authenticators,
        login_id: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        self.goto("/admin/login").await?;
        self.check_screen("admin-login").await?;
        self.fill_testid("input-login_id", login_id).await?;
        self.fill_testid("input-password", password).await?;
        self.click_testid("admin-login").await?;
        if phone.secret(login_id).is_none() {
            self.wait_for_path("/admin/mfa").await?;
            let secret = self
                .find_by_testid("mfa-secret")
                .await?
                .attr("data-secret")
                .await?
                .context("the enrolment page shows no secret")?;
            self.find_by_testid("mfa-qr").await?;
            self.check_screen("admin-mfa").await?;
            let step = totp_step(unix_now());
            phone.enrolled(login_id, &secret, step);
            self.fill_testid("input-totp_code", &totp_code_at_step(&secret, step)?)
                .await?;
            self.click_testid("mfa-confirm").await?;
            let codes = self.text_of_testid("recovery-codes").await?;
            let codes: Vec<String> = codes.split_whitespace().map(str::to_owned).collect();
            anyhow::ensure!(codes.len() == 10, "recovery codes shown: {codes:?}");
            phone.keep_recovery_codes(login_id, codes);
            self.check_screen("admin-mfa-recovery").await?;
            self.click_testid("to-console").await?;
        } else {
            self.find_by_testid("admin-code-form").await?;
            self.check_screen("admin-code").await?;
            let code = phone.next_code(login_id).await?;
            self.fill_testid("input-totp_code", &code).await?;
            self.click_testid("admin-code-submit").await?;
        }
        self.wait_for_path("/admin").await
    }
}
