//! `spawn_app()` and `TestApp`: the real application on port 0, a fresh database (a temporary
//! SQLite file, or a new PostgreSQL database named by a UUID), a manual clock, and typed helpers
//! for the applicant flow. Mail is read as the browser tests read it: through the e2e harness's
//! [`Mailbox`] and [`code_from_body`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use reissue_api::cli::{import_ledger, DEMO_LEDGER};
use reissue_api::clock::{Clock, ManualClock};
use reissue_api::config::Settings;
use reissue_api::domain::ledger::parse_ledger_csv;
use reissue_api::domain::Context;
use reissue_api::startup::Application;
use reissue_e2e::{code_from_body, Mailbox, Message};

/// The password of the demo reviewers `demo-tokyo`, `demo-tokyo-2` (13) and `demo-tottori`,
/// `demo-tottori-2` (31) in tests.
pub const REVIEWER_PASSWORD: &str = "test-reviewer-password";

/// Which storage backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server of this machine (override with `TEST_POSTGRES_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs each named `async fn name(backend: Backend)` of the calling module as two tests,
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

/// The servers' `REISSUE_SECRET_KEY` (a test may set another).
pub const TEST_SECRET_KEY: &str = "test-secret-key-0123456789abcdef0123456789";

/// A running application and what a test needs to drive it.
pub struct TestApp {
    pub address: String,
    /// Where `/metrics` listens (`REISSUE_METRICS_BIND`), unless a test turned it off.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub context: Context,
    mailbox: Mailbox,
    /// The demo reviewers are stored on first use (hashing their passwords takes a moment);
    /// shared with the servers of [`TestApp::another_server`].
    reviewers: Arc<tokio::sync::OnceCell<()>>,
    /// The authenticator apps of the reviewers enrolled so far, by login ID (shared likewise).
    authenticators: Arc<std::sync::Mutex<HashMap<String, Authenticator>>>,
    postgres_database: Option<String>,
    /// The settings that point a second server at this one's storage.
    storage: Vec<(String, String)>,
    _data_dir: tempfile::TempDir,
}

/// A reviewer's authenticator app as the tests hold it: the secret, the recovery codes not
/// used yet, and the last time step a code was sent for (the server accepts each step once).
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub secret: String,
    pub recovery_codes: Vec<String>,
    pub last_step: i64,
}

/// An application created through the API.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub token: String,
}

/// Starts the application with default settings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the application with some `REISSUE_*` settings overridden.
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    spawn(backend, overrides, None).await
}

/// Starts the application on a fresh PostgreSQL database that it reaches through the loopback
/// port `via_port` (a [`crate::tcp_proxy::TcpProxy`] in front of the real server).
pub async fn spawn_postgres_app_via(via_port: u16, overrides: &[(&str, &str)]) -> TestApp {
    spawn(Backend::Postgres, overrides, Some(via_port)).await
}

/// `host:port` of the PostgreSQL server of `postgres_admin_url()`.
pub fn postgres_host_port() -> String {
    let url = postgres_admin_url();
    let after_user = url.rsplit_once('@').map_or(url.as_str(), |(_, rest)| rest);
    after_user.split('/').next().unwrap().to_owned()
}

async fn spawn(backend: Backend, overrides: &[(&str, &str)], via_port: Option<u16>) -> TestApp {
    init_test_logging();
    let data_dir = tempfile::tempdir().unwrap();
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("REISSUE_BIND".into(), "127.0.0.1:0".into());
    env.insert("REISSUE_METRICS_BIND".into(), "127.0.0.1:0".into());
    env.insert(
        "REISSUE_DATA_DIR".into(),
        data_dir.path().to_string_lossy().into_owned(),
    );
    env.insert("REISSUE_SECRET_KEY".into(), TEST_SECRET_KEY.into());
    env.insert("REISSUE_MAIL_POLL_MS".into(), "50".into());
    env.insert("REISSUE_MAIL_RETRY_BASE_MS".into(), "100".into());
    env.insert("REISSUE_MAIL_RETRY_MAX_MS".into(), "400".into());
    env.insert("REISSUE_DATABASE_POOL_SIZE".into(), "4".into());
    // Mail goes to the development mailbox, where the tests read it, unless a test sets
    // REISSUE_SMTP_URL (or turns the mailbox off).
    env.insert("REISSUE_DEV_MAILBOX".into(), "true".into());
    let postgres_database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let name = format!("reissue_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(&postgres_admin_url()).unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap();
            let base = postgres_admin_url();
            let root = base
                .rsplit_once('/')
                .map(|(root, _)| root.to_owned())
                .unwrap();
            let url = format!("{root}/{name}");
            let url = match via_port {
                Some(port) => url.replace(&postgres_host_port(), &format!("127.0.0.1:{port}")),
                None => url,
            };
            env.insert("REISSUE_DATABASE_URL".into(), url);
            Some(name)
        }
    };
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let storage: Vec<(String, String)> = ["REISSUE_DATA_DIR", "REISSUE_DATABASE_URL"]
        .into_iter()
        .filter_map(|name| env.get(name).map(|value| (name.to_owned(), value.clone())))
        .collect();
    let lookup = env;
    let settings = Settings::from_lookup(&move |name| lookup.get(name).cloned()).unwrap();
    let clock = Arc::new(ManualClock::new());
    let application = Application::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    let port = application.port();
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let context = application.context();
    let entries = parse_ledger_csv(DEMO_LEDGER).unwrap();
    let db = context.db.clone();
    tokio::task::spawn_blocking(move || import_ledger(&db, &entries, "test").unwrap())
        .await
        .unwrap();
    tokio::spawn(application.run_until_stopped());
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        mailbox: Mailbox::new(&address, client.clone()),
        address,
        metrics_address,
        client,
        clock,
        context,
        reviewers: Arc::new(tokio::sync::OnceCell::new()),
        authenticators: Arc::default(),
        postgres_database,
        storage,
        _data_dir: data_dir,
    }
}

fn init_test_logging() {
    if std::env::var("TEST_LOG").is_ok() {
        reissue_api::telemetry::init("debug");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_database.take() {
            // Best effort: the pool may still hold connections; FORCE closes them.
            if let Ok(mut admin) = PgConnection::establish(&postgres_admin_url()) {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

impl TestApp {
    /// Another server on this one's database (and data folder), with `overrides`: a restart
    /// with other settings, or a second instance. The first server keeps the database.
    pub async fn another_server(&self, overrides: &[(&str, &str)]) -> TestApp {
        let mut settings: Vec<(&str, &str)> = self
            .storage
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        settings.extend_from_slice(overrides);
        let backend = if self.postgres_database.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let mut other = spawn(backend, &settings, None).await;
        other.reviewers = self.reviewers.clone();
        other.authenticators = self.authenticators.clone();
        other
    }

    /// Where this server keeps its data (`REISSUE_DATA_DIR`, and `REISSUE_DATABASE_URL` on
    /// PostgreSQL): what a CLI command run beside it needs.
    pub fn storage(&self) -> impl Iterator<Item = (&str, &str)> {
        self.storage
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Runs `reissue reviewer ARGS` on this server's database, as an operator would.
    pub fn reviewer_command(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["reviewer"];
        all.extend_from_slice(args);
        self.command(&all, &[])
    }

    /// Runs `reissue ARGS` on this server's database (and key), with `env` besides, as an
    /// operator would.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reissue"));
        command
            .args(args)
            .env_remove("REISSUE_DATABASE_URL")
            .env("REISSUE_SECRET_KEY", TEST_SECRET_KEY);
        for (name, value) in self.storage().chain(env.iter().copied()) {
            command.env(name, value);
        }
        command.output().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    /// The test clock's unix time.
    pub fn clock_now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// `POST /reissue-applications` with the given fields.
    pub async fn post_application(&self, body: &Value) -> Response {
        self.client
            .post(self.api("/reissue-applications"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates an application and returns its id and token.
    pub async fn create_application(&self, office_number: &str, email: &str) -> Created {
        let response = self
            .post_application(&json!({
                "office_number": office_number,
                "email": email,
                "email_confirmation": email,
            }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "awaiting_prefecture");
        Created {
            id: body["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn choose_prefecture(&self, app: &Created, prefecture_code: &str) -> Response {
        self.client
            .put(self.api(&format!("/reissue-applications/{}/prefecture", app.id)))
            .bearer_auth(&app.token)
            .json(&json!({ "prefecture_code": prefecture_code }))
            .send()
            .await
            .unwrap()
    }

    pub async fn resend_code(&self, app: &Created) -> Response {
        self.client
            .post(self.api(&format!("/reissue-applications/{}/code", app.id)))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn verify(&self, app: &Created, code: &str) -> Response {
        self.client
            .post(self.api(&format!("/reissue-applications/{}/verification", app.id)))
            .bearer_auth(&app.token)
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap()
    }

    /// `verify` sent as if from `client_address` (the server must trust 127.0.0.1 as a proxy).
    pub async fn verify_from(&self, app: &Created, code: &str, client_address: &str) -> Response {
        self.client
            .post(self.api(&format!("/reissue-applications/{}/verification", app.id)))
            .bearer_auth(&app.token)
            .header("x-forwarded-for", client_address)
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap()
    }

    pub async fn submit(&self, app: &Created) -> Response {
        self.client
            .post(self.api(&format!("/reissue-applications/{}/submission", app.id)))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, app: &Created) -> Response {
        self.client
            .get(self.api(&format!("/reissue-applications/{}", app.id)))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
    }

    /// The development mailbox (`GET /api/dev/messages`).
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    /// The development mailbox's messages to `to`, newest first, once the outbox worker has
    /// delivered at least `n`.
    pub async fn wait_for_mails(&self, to: &str, n: usize) -> Vec<Message> {
        self.mailbox.wait_for_messages(to, n).await.unwrap()
    }

    /// The code of the newest of `n` code mails to `to`.
    pub async fn read_code_from_mailbox(&self, to: &str, n: usize) -> String {
        self.mailbox.next_code(to, n - 1).await.unwrap()
    }

    /// Creates an application for 1311111111, chooses 東京都 and reads the code.
    pub async fn application_with_code(&self, email: &str) -> (Created, String) {
        let app = self.create_application("1311111111", email).await;
        let response = self.choose_prefecture(&app, "13").await;
        assert_eq!(response.status(), StatusCode::OK);
        let code = self.read_code_from_mailbox(email, 1).await;
        (app, code)
    }

    /// An application of `office_number` taken through to `submitted` in `prefecture`.
    pub async fn submitted_application(
        &self,
        office_number: &str,
        prefecture: &str,
        email: &str,
    ) -> Created {
        let created = self.create_application(office_number, email).await;
        assert_eq!(
            self.choose_prefecture(&created, prefecture).await.status(),
            StatusCode::OK
        );
        let code = self.read_code_from_mailbox(email, 1).await;
        assert_eq!(self.verify(&created, &code).await.status(), StatusCode::OK);
        assert_eq!(self.submit(&created).await.status(), StatusCode::OK);
        created
    }

    /// Stores the demo reviewers with their password, as `reissue reviewer add` would (which
    /// also forgets their failed logins).
    pub async fn reset_demo_reviewers(&self) {
        let (db, hasher) = (self.context.db.clone(), self.context.hasher.clone());
        tokio::task::spawn_blocking(move || {
            reissue_api::cli::save_reviewers(
                &db,
                &hasher,
                &reissue_api::cli::demo_reviewers(REVIEWER_PASSWORD),
            )
            .unwrap();
        })
        .await
        .unwrap();
    }

    /// `POST /admin/sessions` with a password only (the demo reviewers exist from the first
    /// call).
    pub async fn admin_login_attempt(&self, login_id: &str, password: &str) -> Response {
        self.admin_login_with(&json!({ "login_id": login_id, "password": password }))
            .await
    }

    /// An office account with a known password.
    pub async fn create_office_account(
        &self,
        prefecture: &str,
        office: &str,
        user_id: &str,
        password: &str,
    ) {
        let db = self.context.db.clone();
        let (prefecture, office, user_id, password) = (
            prefecture.to_owned(),
            office.to_owned(),
            user_id.to_owned(),
            password.to_owned(),
        );
        tokio::task::spawn_blocking(move || {
            let hash = reissue_api::domain::passwords::hash_password(&password).unwrap();
            db.transaction_blocking(|conn| {
                reissue_api::domain::accounts::save_account_with_password(
                    conn,
                    &prefecture,
                    &office,
                    &user_id,
                    &hash,
                    time::OffsetDateTime::now_utc(),
                )
            })
            .unwrap();
        })
        .await
        .unwrap();
    }

    /// A console token for a demo reviewer: enrolled with an authenticator app on first use,
    /// then logged in with its code (or, when every step near now is used, a recovery code).
    pub async fn admin_token(&self, login_id: &str) -> String {
        let known = self.authenticator(login_id);
        let Some(mut authenticator) = known else {
            return self.enrol(login_id).await;
        };
        let body = match self.next_totp_code(&mut authenticator) {
            Some(code) => json!({
                "login_id": login_id, "password": REVIEWER_PASSWORD, "totp_code": code,
            }),
            None => json!({
                "login_id": login_id,
                "password": REVIEWER_PASSWORD,
                "recovery_code": authenticator.recovery_codes.pop().unwrap(),
            }),
        };
        self.set_authenticator(login_id, authenticator);
        let response = self.admin_login_with(&body).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The first login of a reviewer and the enrolment of its authenticator app; the console
    /// token the confirmation answers.
    pub async fn enrol(&self, login_id: &str) -> String {
        let response = self.admin_login_attempt(login_id, REVIEWER_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let session: Value = response.json().await.unwrap();
        assert_eq!(session["mfa_enrolment_required"], true, "{session}");
        let limited = session["access_token"].as_str().unwrap().to_owned();
        let enrolment: Value = self
            .admin_post(&limited, "/mfa/enrolment", &json!({}))
            .await
            .json()
            .await
            .unwrap();
        let secret = enrolment["secret"].as_str().unwrap().to_owned();
        let mut authenticator = Authenticator {
            secret,
            recovery_codes: Vec::new(),
            last_step: i64::MIN,
        };
        let code = self.next_totp_code(&mut authenticator).unwrap();
        let confirmed = self
            .admin_post(
                &limited,
                "/mfa/enrolment/confirmation",
                &json!({ "totp_code": code }),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        let confirmed: Value = confirmed.json().await.unwrap();
        authenticator.recovery_codes = confirmed["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        self.set_authenticator(login_id, authenticator);
        confirmed["access_token"].as_str().unwrap().to_owned()
    }

    /// The authenticator app of an enrolled reviewer.
    pub fn authenticator(&self, login_id: &str) -> Option<Authenticator> {
        self.authenticators.lock().unwrap().get(login_id).cloned()
    }

    /// Replaces (or, with `None` after a reset, forgets) a reviewer's authenticator app.
    pub fn set_authenticator(
        &self,
        login_id: &str,
        authenticator: impl Into<Option<Authenticator>>,
    ) {
        let mut apps = self.authenticators.lock().unwrap();
        match authenticator.into() {
            Some(app) => apps.insert(login_id.to_owned(), app),
            None => apps.remove(login_id),
        };
    }

    /// The app's code for the earliest time step the server still accepts (one step either
    /// side of the test clock, after the last one used), if any is left.
    pub fn next_totp_code(&self, authenticator: &mut Authenticator) -> Option<String> {
        let now = reissue_e2e::totp_step(self.clock.now().unix_timestamp());
        let step = (now - 1).max(authenticator.last_step.saturating_add(1));
        if step > now + 1 {
            return None;
        }
        authenticator.last_step = step;
        Some(reissue_e2e::totp_code_at_step(&authenticator.secret, step).unwrap())
    }

    /// `POST /admin/sessions` with `body` (the demo reviewers exist from the first call).
    pub async fn admin_login_with(&self, body: &Value) -> Response {
        self.reviewers
            .get_or_init(|| self.reset_demo_reviewers())
            .await;
        self.client
            .post(self.api("/admin/sessions"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET` an admin path with a reviewer token.
    pub async fn admin_get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.api(&format!("/admin{path}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `POST` an admin path with a reviewer token and a JSON body.
    pub async fn admin_post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.api(&format!("/admin{path}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// 審査開始 and 承認 of a submitted application by the reviewer of `approver_token`: with
    /// four-eyes issuance (the default) it then waits for a second reviewer. Returns the
    /// detail.
    pub async fn review_and_approve(&self, approver_token: &str, created: &Created) -> Value {
        let path = format!("/applications/{}", created.id);
        let started = self
            .admin_post(approver_token, &format!("{path}/review"), &json!({}))
            .await;
        assert_eq!(started.status(), StatusCode::OK);
        let decided = self
            .admin_post(
                approver_token,
                &format!("{path}/decision"),
                &json!({ "decision": "approved" }),
            )
            .await;
        assert_eq!(decided.status(), StatusCode::OK);
        decided.json().await.unwrap()
    }

    /// The second reviewer's `{confirm: true}` of an approval waiting for it; returns the
    /// detail, now `approved`.
    pub async fn confirm_approval(&self, confirmer_token: &str, created: &Created) -> Value {
        let confirmed = self
            .admin_post(
                confirmer_token,
                &format!("/applications/{}/confirmation", created.id),
                &json!({ "confirm": true }),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        let detail: Value = confirmed.json().await.unwrap();
        assert_eq!(detail["application"]["status"], "approved");
        detail
    }

    /// A submitted application of 東京都 approved the four-eyes way: reviewed and approved by
    /// `demo-tokyo`, confirmed by `demo-tokyo-2`. Returns `demo-tokyo`'s token and the detail.
    pub async fn approve_four_eyes(&self, created: &Created) -> (String, Value) {
        let approver = self.admin_token("demo-tokyo").await;
        let waiting = self.review_and_approve(&approver, created).await;
        assert_eq!(waiting["application"]["status"], "awaiting_confirmation");
        let confirmer = self.admin_token("demo-tokyo-2").await;
        let detail = self.confirm_approval(&confirmer, created).await;
        (approver, detail)
    }

    /// A reprint of a posted (or expired) notice the four-eyes way: asked for by
    /// `requester_token`, confirmed by `confirmer_token`. Returns the confirmed detail.
    pub async fn reprint_four_eyes(
        &self,
        requester_token: &str,
        confirmer_token: &str,
        created: &Created,
    ) -> Value {
        let path = format!("/applications/{}", created.id);
        let requested = self
            .admin_post(
                requester_token,
                &format!("{path}/reprint-request"),
                &json!({ "reason": "宛先不明で返送されたため" }),
            )
            .await;
        assert_eq!(requested.status(), StatusCode::OK);
        let confirmed = self
            .admin_post(
                confirmer_token,
                &format!("{path}/reprint-confirmation"),
                &json!({ "confirm": true }),
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        confirmed.json().await.unwrap()
    }

    /// Every entry of the audit log as (actor, action, detail), oldest first.
    pub async fn audit_log(&self) -> Vec<(String, String, String)> {
        use diesel::prelude::*;
        use reissue_api::db::schema::audit_log::dsl;
        self.context
            .db
            .run(|conn| {
                dsl::audit_log
                    .order(dsl::id.asc())
                    .select((dsl::actor, dsl::action, dsl::detail))
                    .load::<(String, String, String)>(conn)
                    .map_err(reissue_api::db::StorageError::from)
            })
            .await
            .unwrap()
    }

    /// The audit log's entries of `action` as (actor, detail), oldest first.
    pub async fn audited(&self, action: &str) -> Vec<(String, String)> {
        self.audit_log()
            .await
            .into_iter()
            .filter(|(_, logged, _)| logged == action)
            .map(|(actor, _, detail)| (actor, detail))
            .collect()
    }

    /// The audit actions of an application, oldest first.
    pub async fn audit_actions(&self, app: &Created) -> Vec<String> {
        let id = uuid::Uuid::parse_str(&app.id).unwrap();
        self.context
            .db
            .run(move |conn| reissue_api::db::audit::actions_for_application(conn, id))
            .await
            .unwrap()
    }
}

/// The code after the "[確認コード]" line of the manual's mail (4 digits, 6 for the
/// security e-mail).
pub fn code_in(body: &str) -> String {
    code_from_body(body).unwrap_or_else(|| panic!("no code in the mail:\n{body}"))
}

/// A code different from `code`.
pub fn wrong_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:04}", (n + 1) % 10_000)
}

/// Reads a problem+json answer, checking its content type and status.
pub async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "expected {status} {code}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(body["type"].as_str().is_some());
    assert!(body["title"].as_str().is_some());
    body
}

/// A ledger (事業所台帳) CSV of `count` care offices in 東京都 (13), numbered from
/// `first`, for tests that need many offices (each office may have one open application).
pub fn ledger_csv(first: u32, count: u32) -> String {
    let mut csv = String::from("事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号\n");
    for n in first..first + count {
        csv.push_str(&format!(
            "{},試験事業所 {n},介護,13,100-0001,東京都千代田区千代田9-{n},03-0000-0000\n",
            office_number(n)
        ));
    }
    csv
}

/// The office number of the `n`th office of [`ledger_csv`].
pub fn office_number(n: u32) -> String {
    format!("1380{n:06}")
}

impl TestApp {
    /// Adds the offices of [`ledger_csv`] to the ledger.
    pub async fn import_offices(&self, first: u32, count: u32) {
        let entries = parse_ledger_csv(ledger_csv(first, count).as_bytes()).unwrap();
        let db = self.context.db.clone();
        tokio::task::spawn_blocking(move || import_ledger(&db, &entries, "test").unwrap())
            .await
            .unwrap();
    }
}

/// A new PostgreSQL database (for tests that start servers on it themselves), and how to
/// drop it.
pub fn fresh_postgres_database(prefix: &str) -> (String, impl FnOnce()) {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let admin_url = postgres_admin_url();
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap();
    let root = admin_url.rsplit_once('/').unwrap().0.to_owned();
    let url = format!("{root}/{name}");
    let drop_database = move || {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    };
    (url, drop_database)
}
