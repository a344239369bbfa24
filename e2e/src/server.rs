//! The real `reissue` binary, started as a child process on a free loopback port with a fresh
//! data folder (so a fresh SQLite database and secret key) and the development mailbox.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tempfile::TempDir;

use crate::mailbox::Mailbox;
use crate::paths;

/// How long the server may take to answer `/readyz`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts when the chosen port is taken between choosing and binding it.
const START_ATTEMPTS: usize = 3;

/// Set to keep every server's data folder (a test that returns `Err` does not panic, so its
/// folder is otherwise removed).
const KEEP_VARIABLE: &str = "REISSUE_E2E_KEEP";

/// How to start a [`Server`] beyond [`Server::start_with_env`]: another binary (the
/// benchmark's release build), or without the built browser app.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `serve --demo`.
    pub demo: bool,
    /// Extra environment variables for the server, as in [`Server::start_with_env`].
    pub env: Vec<(String, String)>,
    /// The `reissue` binary; `None`: [`crate::server_binary`].
    pub binary: Option<PathBuf>,
    /// Start even when the browser app is not built (the server then serves the API only).
    pub without_web_app: bool,
}

/// A running `reissue serve`; killed when dropped. When the test panics (or `REISSUE_E2E_KEEP`
/// is set), its data folder (with `reissue.log` and the database) is kept and its path printed.
#[derive(Debug)]
pub struct Server {
    child: Child,
    base_url: String,
    log_path: PathBuf,
    data_path: PathBuf,
    data_dir: Option<TempDir>,
    http: reqwest::Client,
}

impl Server {
    /// Files an application of `office_number` in `prefecture_code` through the API, as
    /// billing software would (the wizard has journeys of its own): create, prefecture, the
    /// code from the development mailbox, verification, submission. Returns the application's
    /// id and reference number.
    pub async fn file_application(
        &self,
        office_number: &str,
        prefecture_code: &str,
        email: &str,
    ) -> anyhow::Result<(String, String)> {
        use serde_json::{json, Value};
        let http = self.http();
        let created: Value = http
            .post(self.url("/api/v1/reissue-applications"))
            .json(&json!({"office_number": office_number, "email": email, "email_confirmation": email}))
            .send()
            .await?
            .json()
            .await?;
        let id = created["id"].as_str().context("id")?.to_owned();
        let token = created["token"].as_str().context("token")?.to_owned();
        let base = format!("/api/v1/reissue-applications/{id}");
        http.put(self.url(&format!("{base}/prefecture")))
            .bearer_auth(&token)
            .json(&json!({"prefecture_code": prefecture_code}))
            .send()
            .await?
            .error_for_status()?;
        let code = self.mailbox().latest_code(email).await?;
        http.post(self.url(&format!("{base}/verification")))
            .bearer_auth(&token)
            .json(&json!({"code": code}))
            .send()
            .await?
            .error_for_status()?;
        let submitted: Value = http
            .post(self.url(&format!("{base}/submission")))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let reference = submitted["reference_number"]
            .as_str()
            .context("reference")?
            .to_owned();
        Ok((id, reference))
    }

    /// Starts `reissue serve` (with `--demo` when `demo`, loading office 1311111111
    /// 請求事業所 A in prefecture 13) and waits until `GET /readyz` answers 200.
    pub async fn start(demo: bool) -> anyhow::Result<Self> {
        Self::start_with_env(demo, &[]).await
    }

    /// Like [`Server::start`], with extra environment variables for the server, for example
    /// `[("REISSUE_RESEND_INTERVAL_SECONDS", "1")]`. `REISSUE_*` variables of the test process
    /// are not passed on; only these and the harness's own are.
    pub async fn start_with_env(demo: bool, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start_with(&ServerOptions {
            demo,
            env: env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            ..ServerOptions::default()
        })
        .await
    }

    /// Starts `reissue serve` as `options` say and waits until `GET /readyz` answers 200.
    pub async fn start_with(options: &ServerOptions) -> anyhow::Result<Self> {
        let binary = options.binary.clone().unwrap_or_else(paths::server_binary);
        if !binary.is_file() {
            bail!(
                "{} not found: run `cargo build -p reissue-api` before the browser tests \
                 (or set REISSUE_BIN)",
                binary.display()
            );
        }
        let web_dir = paths::web_dir();
        for page in ["index.html", "console/index.html"] {
            if !options.without_web_app && !web_dir.join(page).is_file() {
                bail!(
                    "{} has no {page}: build the browser apps first (`trunk build --release`, \
                     which `./dev test` runs, builds both), or set REISSUE_WEB_DIR",
                    web_dir.display()
                );
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&binary, options, http.clone()).await {
                Ok(server) => return Ok(server),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the server did not start")))
    }

    async fn try_start(
        binary: &Path,
        options: &ServerOptions,
        http: reqwest::Client,
    ) -> anyhow::Result<Self> {
        let data_dir = tempfile::Builder::new()
            .prefix("reissue-e2e-")
            .tempdir()
            .context("creating the data folder")?;
        let log_path = data_dir.path().join("reissue.log");
        let log = File::create(&log_path).context("creating reissue.log")?;
        let port = paths::free_port()?;

        let mut command = Command::new(binary);
        command.arg("serve");
        if options.demo {
            command.arg("--demo");
        }
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REISSUE_") {
                command.env_remove(name);
            }
        }
        command
            // The data folder as working directory: no stray `.env` is read.
            .current_dir(data_dir.path())
            .env("REISSUE_BIND", format!("127.0.0.1:{port}"))
            .env("REISSUE_DATA_DIR", data_dir.path())
            .env("REISSUE_WEB_DIR", paths::web_dir())
            // The journeys read their mail from the development mailbox unless a test
            // configures SMTP (which then takes precedence).
            .env("REISSUE_DEV_MAILBOX", "true")
            // Servers run side by side here: none takes the metrics port unless asked to.
            .env("REISSUE_METRICS_BIND", "off")
            .envs(options.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;

        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
            data_path: data_dir.path().to_path_buf(),
            data_dir: Some(data_dir),
            http,
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = self.url("/readyz");
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "reissue exited ({status}) before it was ready; its log:\n{}",
                    paths::tail(&self.log_path, 40)
                );
            }
            if let Ok(response) = self.http.get(&url).send().await {
                if response.status() == reqwest::StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "reissue did not answer 200 at {url} within {READY_TIMEOUT:?}; its log:\n{}",
                    paths::tail(&self.log_path, 40)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The server's data folder (database, secret key, `reissue.log`).
    pub fn data_dir(&self) -> &Path {
        &self.data_path
    }

    /// The process id of the server (for reading its memory use from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's log so far (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// An HTTP client for calling the API directly (10 s timeout).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The development mailbox of this server.
    pub fn mailbox(&self) -> Mailbox {
        Mailbox::new(&self.base_url, self.http.clone())
    }

    /// Kills the server (SIGKILL) while the browser stays open, to see how the app behaves
    /// when the connection is lost.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Killing an already exited child fails harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let keep = std::env::var_os(KEEP_VARIABLE).is_some();
        if std::thread::panicking() || keep {
            if let Some(dir) = self.data_dir.take() {
                let kept = dir.keep();
                eprintln!(
                    "reissue-e2e: server data and log kept in {}\nlast lines of reissue.log:\n{}",
                    kept.display(),
                    paths::tail(&kept.join("reissue.log"), 20)
                );
            }
        }
    }
}
