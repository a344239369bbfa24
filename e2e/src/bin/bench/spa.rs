//! The browser app's figures (issue 6, item 2): the bundle's gzip size, and the Lighthouse
//! scores that `e2e/lighthouse/spa-figures.mjs` measures against a `serve --demo` server. A
//! missing script or a failing measurement is reported, never fatal.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use flate2::write::GzEncoder;
use flate2::Compression;
use reissue_e2e::{Server, ServerOptions};
use serde::{Deserialize, Serialize};

/// The script, relative to the workspace root.
const SCRIPT: &str = "e2e/lighthouse/spa-figures.mjs";
/// Lighthouse runs several pages in a headless browser: minutes, not hours.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The bundle and Lighthouse figures, or why they are missing.
#[derive(Debug, Serialize)]
pub struct SpaReport {
    /// The gzip size of the bundle.
    pub bundle: Option<Bundle>,
    /// Why `bundle` is missing.
    pub bundle_not_measured: Option<String>,
    /// What the script printed.
    pub lighthouse: Option<Lighthouse>,
    /// Why `lighthouse` is missing.
    pub lighthouse_not_measured: Option<String>,
}

/// The office app's `dist/*.wasm`, `*.js`, `*.css` (not the console's `dist/console/`, which
/// offices never load), each compressed with gzip level 9 (as `./dev` checks).
#[derive(Debug, Serialize)]
pub struct Bundle {
    /// (file name, bytes, gzip bytes).
    pub files: Vec<(String, u64, u64)>,
    /// Sum of the gzip sizes.
    pub total_gzip_bytes: u64,
    /// `BUNDLE_BUDGET_BYTES` of tools.env.
    pub budget_bytes: Option<u64>,
}

/// The script's output: `{"lighthouse_version", "pages": [...]}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Lighthouse {
    /// Lighthouse's version.
    pub lighthouse_version: String,
    /// One entry per page measured.
    pub pages: Vec<Page>,
}

/// Scores of one page (0–100).
#[derive(Debug, Serialize, Deserialize)]
pub struct Page {
    /// Name of the screen.
    pub name: String,
    /// Path measured.
    pub path: String,
    /// Lighthouse performance score.
    pub performance: f64,
    /// Lighthouse accessibility score.
    pub accessibility: f64,
}

/// Measures both parts.
pub async fn measure(binary: &Path) -> SpaReport {
    let (bundle, bundle_not_measured) = match bundle() {
        Ok(bundle) => (Some(bundle), None),
        Err(error) => (None, Some(format!("{error:#}"))),
    };
    let (lighthouse, lighthouse_not_measured) = match lighthouse(binary).await {
        Ok(figures) => (Some(figures), None),
        Err(error) => (None, Some(format!("{error:#}"))),
    };
    SpaReport {
        bundle,
        bundle_not_measured,
        lighthouse,
        lighthouse_not_measured,
    }
}

fn bundle() -> anyhow::Result<Bundle> {
    let dist = reissue_e2e::web_dir();
    let entries = std::fs::read_dir(&dist).with_context(|| {
        format!(
            "{} is not built (trunk build --release; ./dev bench does it)",
            dist.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let bundled = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "wasm" | "js" | "css"));
        if !bundled {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::new(9));
        encoder.write_all(&bytes)?;
        let gzip = encoder.finish()?.len() as u64;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, bytes.len() as u64, gzip));
    }
    if files.is_empty() {
        bail!("{} holds no .wasm, .js or .css file", dist.display());
    }
    files.sort();
    Ok(Bundle {
        total_gzip_bytes: files.iter().map(|f| f.2).sum(),
        files,
        budget_bytes: budget(),
    })
}

/// `BUNDLE_BUDGET_BYTES=…` from tools.env, the budget `./dev` enforces.
fn budget() -> Option<u64> {
    let tools = std::fs::read_to_string(reissue_e2e::workspace_root().join("tools.env")).ok()?;
    tools
        .lines()
        .find_map(|line| line.strip_prefix("BUNDLE_BUDGET_BYTES="))
        .and_then(|value| value.trim().trim_matches('"').parse().ok())
}

async fn lighthouse(binary: &Path) -> anyhow::Result<Lighthouse> {
    let script = reissue_e2e::workspace_root().join(SCRIPT);
    if !script.is_file() {
        bail!("{SCRIPT} is missing");
    }
    // The development mailbox (no SMTP) and the demo data, as the script expects.
    let server = Server::start_with(&ServerOptions {
        demo: true,
        env: vec![
            ("RUST_LOG".to_owned(), "warn".to_owned()),
            (
                "REISSUE_REQUESTS_PER_CLIENT".to_owned(),
                "100000000".to_owned(),
            ),
        ],
        binary: Some(binary.to_path_buf()),
        without_web_app: false,
    })
    .await?;
    let run = tokio::process::Command::new("node")
        .arg(&script)
        .arg(server.base_url())
        .current_dir(reissue_e2e::workspace_root())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .with_context(|| format!("{SCRIPT} took longer than {SCRIPT_TIMEOUT:?}"))?
        .context("running node (is Node.js installed?)")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        bail!(
            "{SCRIPT} failed ({}): {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        );
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "{SCRIPT} printed no figures: {}",
            String::from_utf8_lossy(&output.stdout)
                .chars()
                .take(300)
                .collect::<String>()
        )
    })
}

impl SpaReport {
    /// The Markdown section.
    pub fn markdown(&self, md: &mut String) {
        let _ = writeln!(md, "## Browser app\n");
        match (&self.bundle, &self.bundle_not_measured) {
            (Some(bundle), _) => {
                let budget = bundle.budget_bytes.map_or_else(String::new, |budget| {
                    format!(
                        " (budget {} KiB: {})",
                        budget / 1024,
                        if bundle.total_gzip_bytes <= budget {
                            "within"
                        } else {
                            "**over**"
                        }
                    )
                });
                let _ = writeln!(
                    md,
                    "Office app bundle: {:.1} KiB gzip -9{budget}.\n",
                    bundle.total_gzip_bytes as f64 / 1024.0
                );
                let _ = writeln!(md, "| file | KiB | gzip KiB |\n| --- | ---: | ---: |");
                for (name, bytes, gzip) in &bundle.files {
                    let _ = writeln!(
                        md,
                        "| `{name}` | {:.1} | {:.1} |",
                        *bytes as f64 / 1024.0,
                        *gzip as f64 / 1024.0
                    );
                }
                md.push('\n');
            }
            (None, reason) => {
                let _ = writeln!(
                    md,
                    "Office app bundle: not measured: {}\n",
                    reason.as_deref().unwrap_or("unknown")
                );
            }
        }
        match (&self.lighthouse, &self.lighthouse_not_measured) {
            (Some(figures), _) => {
                let _ = writeln!(md, "Lighthouse {}:\n", figures.lighthouse_version);
                let _ = writeln!(
                    md,
                    "| page | path | performance | accessibility |\n| --- | --- | ---: | ---: |"
                );
                for page in &figures.pages {
                    let _ = writeln!(
                        md,
                        "| {} | `{}` | {:.0} | {:.0} |",
                        page.name, page.path, page.performance, page.accessibility
                    );
                }
                md.push('\n');
            }
            (None, reason) => {
                let _ = writeln!(
                    md,
                    "Lighthouse: not measured: {}\n",
                    reason.as_deref().unwrap_or("unknown")
                );
            }
        }
    }
}
