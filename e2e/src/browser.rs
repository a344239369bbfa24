//! A headless Debian Chromium driven through chromedriver (WebDriver, via fantoccini), with
//! helpers that find elements by their `data-testid`.
//!
//! One chromedriver process is shared by the tests of a test binary that run at the same time
//! (it stops when the last [`Browser`] using it is dropped); every [`Browser`] is its own
//! WebDriver session with a fresh profile, so tests share no cookies or storage.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tempfile::TempDir;
use tokio::sync::Mutex;

use crate::paths;
use crate::server::Server;

/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver (package `chromium-driver`), found on `PATH`.
const CHROMEDRIVER: &str = "chromedriver";
/// How long chromedriver may take to report ready.
const DRIVER_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts when the chosen port is taken between choosing and binding it.
const DRIVER_ATTEMPTS: usize = 3;
/// How long the finding helpers wait for an element to appear (the app renders asynchronously).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The chromedriver shared by the browsers that are open at the same time.
static DRIVER: Mutex<Weak<Chromedriver>> = Mutex::const_new(Weak::new());

/// A running chromedriver; killed when the last browser using it is dropped.
#[derive(Debug)]
struct Chromedriver {
    child: std::sync::Mutex<Child>,
    port: u16,
}

impl Chromedriver {
    /// The running chromedriver, or a new one.
    async fn shared() -> anyhow::Result<Arc<Self>> {
        let mut slot = DRIVER.lock().await;
        if let Some(driver) = slot.upgrade() {
            return Ok(driver);
        }
        let driver = Arc::new(Self::start().await?);
        *slot = Arc::downgrade(&driver);
        Ok(driver)
    }

    async fn start() -> anyhow::Result<Self> {
        if !std::path::Path::new(CHROMIUM).is_file() {
            bail!(
                "{CHROMIUM} not found: install the Debian packages `chromium chromium-driver` \
                 (apt-get install -y chromium chromium-driver)"
            );
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let mut last_error = None;
        for _ in 0..DRIVER_ATTEMPTS {
            let port = paths::free_port()?;
            // chromedriver listens on loopback only unless given --allowed-ips; do not add it.
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context(
                    "starting chromedriver: install the Debian package `chromium-driver` \
                     (apt-get install -y chromium chromium-driver)",
                )?;
            let driver = Self {
                child: std::sync::Mutex::new(child),
                port,
            };
            match driver.wait_until_ready(&http).await {
                Ok(()) => return Ok(driver),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("chromedriver did not start")))
    }

    async fn wait_until_ready(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + DRIVER_TIMEOUT;
        let url = format!("{}/status", self.url());
        loop {
            if let Ok(mut child) = self.child.lock() {
                if let Some(status) = child.try_wait()? {
                    bail!("chromedriver exited ({status}) before it was ready");
                }
            }
            if let Ok(response) = http.get(&url).send().await {
                if let Ok(status) = response.json::<serde_json::Value>().await {
                    if status["value"]["ready"] == json!(true) {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not report ready at {url} within {DRIVER_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a session without an async runtime (for `Drop`): a plain HTTP/1.1 `DELETE`. The
    /// answer comes once Chromium has quit, so its profile folder can then be removed.
    fn delete_session_blocking(&self, session_id: &str) -> std::io::Result<()> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(15)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        // The status line is enough: it arrives once the session is gone.
        let mut answer = [0_u8; 512];
        match stream.read(&mut answer)? {
            0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(()),
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            // Killing an already exited child fails harmlessly.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A WebDriver session in a fresh headless Chromium profile, pointed at one [`Server`].
///
/// Call [`Browser::close`] at the end of a test; when a test fails first, dropping the browser
/// ends the session all the same.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    base_url: String,
    test_name: String,
    session_id: Option<String>,
    // Field order matters for Drop: the session ends (in `drop`), then chromedriver may stop,
    // then the profile folder is removed.
    driver: Arc<Chromedriver>,
    _profile: TempDir,
}

impl Browser {
    /// Opens a session (about a second) in a fresh profile, at 1280×1000 and in Japanese.
    /// Screenshots are named after the current test (the name of the thread the test runs on).
    pub async fn open(server: &Server) -> anyhow::Result<Self> {
        let driver = Chromedriver::shared().await?;
        let profile = tempfile::Builder::new()
            .prefix("reissue-e2e-chromium-")
            .tempdir()
            .context("creating the Chromium profile folder")?;
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            // Without these Chromium keeps trying hosts this machine cannot reach.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1280,1000".to_owned(),
            "--lang=ja".to_owned(),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": { "intl.accept_languages": "ja" },
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            bail!("capabilities must be a JSON object");
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .context("opening a WebDriver session in Chromium")?;
        let session_id = client.session_id().await?;
        Ok(Self {
            client,
            base_url: server.base_url().to_owned(),
            test_name: current_test_name(),
            session_id,
            driver,
            _profile: profile,
        })
    }

    /// The underlying fantoccini client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The name screenshots are prefixed with (the test's name).
    pub fn test_name(&self) -> &str {
        &self.test_name
    }

    /// Opens `path` (starting with `/`) on the server and waits for the page to load.
    pub async fn goto(&self, path: &str) -> anyhow::Result<()> {
        let url = format!("{}{path}", self.base_url);
        self.client
            .goto(&url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The element with `data-testid="id"`, waiting up to [`DEFAULT_TIMEOUT`] for it.
    pub async fn find_by_testid(&self, id: &str) -> anyhow::Result<Element> {
        self.wait_for_testid(id, DEFAULT_TIMEOUT).await
    }

    /// The element with `data-testid="id"`, waiting up to `timeout` for it to appear.
    pub async fn wait_for_testid(&self, id: &str, timeout: Duration) -> anyhow::Result<Element> {
        let selector = testid_selector(id);
        match self.wait_for_css(&selector, timeout).await {
            Ok(element) => Ok(element),
            Err(e) => {
                let path = self.current_path().await.unwrap_or_default();
                Err(e.context(format!(
                    "no data-testid={id:?} on {path} within {timeout:?}"
                )))
            }
        }
    }

    /// Whether an element with `data-testid="id"` is on the page now (no waiting), for checking
    /// that something is absent.
    pub async fn has_testid(&self, id: &str) -> anyhow::Result<bool> {
        let found = self
            .client
            .find_all(Locator::Css(&testid_selector(id)))
            .await?;
        Ok(!found.is_empty())
    }

    /// How many elements match a CSS selector now (no waiting).
    pub async fn count_css(&self, selector: &str) -> anyhow::Result<usize> {
        Ok(self.client.find_all(Locator::Css(selector)).await?.len())
    }

    /// The first element matching a CSS selector, waiting up to `timeout` for it.
    pub async fn wait_for_css(&self, selector: &str, timeout: Duration) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(selector))
            .await
            .with_context(|| format!("waiting for {selector}"))
    }

    /// Clicks the element with `data-testid="id"` (waiting for it to appear).
    pub async fn click_testid(&self, id: &str) -> anyhow::Result<()> {
        self.find_by_testid(id)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking data-testid={id:?}"))
    }

    /// Replaces the value of the field with `data-testid="id"` by typing `text` (real key
    /// events, so the app's input handlers run).
    pub async fn fill_testid(&self, id: &str, text: &str) -> anyhow::Result<()> {
        let field = self.find_by_testid(id).await?;
        field
            .clear()
            .await
            .with_context(|| format!("clearing data-testid={id:?}"))?;
        field
            .send_keys(text)
            .await
            .with_context(|| format!("typing into data-testid={id:?}"))
    }

    /// The rendered text of the element with `data-testid="id"` (waiting for it to appear).
    pub async fn text_of_testid(&self, id: &str) -> anyhow::Result<String> {
        Ok(self.find_by_testid(id).await?.text().await?)
    }

    /// The path of the current URL (`/apply/code`), without query or fragment.
    pub async fn current_path(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Waits up to [`DEFAULT_TIMEOUT`] until the current path is `path` (client-side routing
    /// changes it without a page load).
    pub async fn wait_for_path(&self, path: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            let current = self.current_path().await?;
            if current == path {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("still on {current} after {DEFAULT_TIMEOUT:?}, expected {path}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The paths of every file the current page has loaded since it was opened (the browser's
    /// resource timing entries; a client-side navigation adds to them, a page load starts anew).
    pub async fn loaded_paths(&self) -> anyhow::Result<Vec<String>> {
        let value = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname);",
                vec![],
            )
            .await
            .context("reading the page's resource timing entries")?;
        Ok(serde_json::from_value(value)?)
    }

    /// What the current page's Content-Security-Policy has refused since the page was opened,
    /// each as `directive blocked-url (source:line)`: the browser's reports of type
    /// `csp-violation`, read with a buffered `ReportingObserver`, which also hands over the
    /// reports made before it was created (during the load).
    pub async fn csp_violations(&self) -> anyhow::Result<Vec<String>> {
        let value = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
const seen = [];
const describe = (report) => `${report.body.effectiveDirective} ${report.body.blockedURL || "(inline)"} (${report.body.sourceFile || report.url}:${report.body.lineNumber || 0})`;
const observer = new ReportingObserver((reports) => seen.push(...reports.map(describe)),
  { types: ["csp-violation"], buffered: true });
observer.observe();
// The buffered reports arrive in a task of their own.
setTimeout(() => { seen.push(...observer.takeRecords().map(describe)); observer.disconnect(); done(seen); }, 200);"#,
                vec![],
            )
            .await
            .context("reading the page's Content-Security-Policy reports")?;
        Ok(serde_json::from_value(value)?)
    }

    /// The browser's back button.
    pub async fn back(&self) -> anyhow::Result<()> {
        Ok(self.client.back().await?)
    }

    /// The browser's reload button.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        Ok(self.client.refresh().await?)
    }

    /// Resizes the window, for example to 360×800 for the narrow-screen check.
    pub async fn set_window_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        Ok(self.client.set_window_size(width, height).await?)
    }

    /// Saves a PNG of the viewport to `target/e2e-screenshots/<test>-<name>.png` and returns
    /// its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let dir = paths::screenshot_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}-{}.png", self.test_name, file_safe(name)));
        tokio::fs::write(&path, png)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Runs axe-core on the current page; `Err` with a readable report on any violation.
    pub async fn axe_check(&self, screen: &str) -> anyhow::Result<()> {
        crate::axe::axe_check(&self.client, screen).await
    }

    /// What every journey does on every screen: a screenshot named `screen`, then the
    /// axe-core check.
    pub async fn check_screen(&self, screen: &str) -> anyhow::Result<()> {
        self.screenshot(screen).await?;
        self.axe_check(screen).await
    }

    /// Ends the session (Chromium quits).
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.session_id = None;
        self.client
            .clone()
            .close()
            .await
            .context("ending the WebDriver session")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session_id) = self.session_id.take() {
            // Best effort: a dead chromedriver has taken the session with it.
            let _ = self.driver.delete_session_blocking(&session_id);
        }
    }
}

/// `[data-testid="id"]`, with quotes and backslashes escaped.
fn testid_selector(id: &str) -> String {
    let escaped = id.replace('\\', "\\\\").replace('"', "\\\"");
    format!("[data-testid=\"{escaped}\"]")
}

/// The running test's name as libtest names its thread (`module::test` becomes
/// `module-test`), or `e2e` outside a test thread.
fn current_test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => file_safe(name),
        _ => "e2e".to_owned(),
    }
}

/// `name` with everything but ASCII letters, digits, `-` and `_` replaced by `-`.
fn file_safe(name: &str) -> String {
    name.replace("::", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testid_selector_escapes_quotes() {
        assert_eq!(testid_selector("next"), "[data-testid=\"next\"]");
        assert_eq!(testid_selector("a\"b"), "[data-testid=\"a\\\"b\"]");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_safe("journeys::happy_path"), "journeys-happy_path");
        assert_eq!(file_safe("step 2/確認"), "step-2---");
    }
}
