//! The accessibility check: axe-core injected into the page under test and run there; any
//! violation fails the test with a readable report.
//!
//! `axe.min.js` comes from the npm package `axe-core` at [`AXE_CORE_VERSION`], installed on
//! first use into `target/e2e-tools/axe-core-<version>/` with `npm install` (only the registry
//! is needed). `REISSUE_E2E_AXE_JS` names another copy of the file instead.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use fantoccini::Client;
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::paths;

/// The axe-core release the harness installs and checks with.
pub const AXE_CORE_VERSION: &str = "4.14.1";

/// Names a local `axe.min.js` to use instead of installing one.
const AXE_JS_VARIABLE: &str = "REISSUE_E2E_AXE_JS";

/// The text of `axe.min.js`, read once per test process.
static AXE_SOURCE: OnceCell<String> = OnceCell::const_new();

/// Runs `axe.run()` over the whole document and hands the violations, trimmed to what the
/// report needs, to WebDriver's callback (the last argument of an async script).
const RUN_AXE: &str = r"
const done = arguments[arguments.length - 1];
window.axe
  .run(document, { resultTypes: ['violations'] })
  .then((results) => done({
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact || null,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : String(t))).join(' | '),
        summary: n.failureSummary || '',
      })),
    })),
  }))
  .catch((e) => done({ error: String((e && e.stack) || e) }));
";

/// One rule axe-core found broken, with the elements that break it.
#[derive(Debug, Clone, Deserialize)]
pub struct AxeViolation {
    /// The rule (`color-contrast`, `label`, …).
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    /// What the rule asks for, in one line.
    pub help: String,
    /// Deque University's page on the rule.
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    /// The offending elements.
    pub nodes: Vec<AxeNode>,
}

/// One element breaking a rule.
#[derive(Debug, Clone, Deserialize)]
pub struct AxeNode {
    /// CSS selector of the element (frames and shadow roots joined with ` >>> `).
    pub target: String,
    /// axe-core's "Fix any of the following: …" text.
    pub summary: String,
}

#[derive(Debug, Deserialize)]
struct AxeOutcome {
    violations: Option<Vec<AxeViolation>>,
    error: Option<String>,
}

/// Fails with a report naming each violation's rule, impact, help text and elements when axe-core
/// finds any on the current page; `screen` names the page in the report.
pub async fn axe_check(client: &Client, screen: &str) -> anyhow::Result<()> {
    let violations = axe_violations(client).await?;
    if violations.is_empty() {
        return Ok(());
    }
    bail!("{}", report(screen, &violations))
}

/// The axe-core violations on the current page (empty when it passes).
pub async fn axe_violations(client: &Client) -> anyhow::Result<Vec<AxeViolation>> {
    let loaded = client
        .execute("return window.axe ? window.axe.version : null;", vec![])
        .await?;
    if loaded.as_str() != Some(AXE_CORE_VERSION) {
        let source = axe_source().await?;
        client
            .execute(source, vec![])
            .await
            .context("injecting axe.min.js")?;
    }
    let outcome = client
        .execute_async(RUN_AXE, vec![])
        .await
        .context("running axe.run()")?;
    let outcome: AxeOutcome =
        serde_json::from_value(outcome).context("reading axe.run()'s results")?;
    if let Some(error) = outcome.error {
        bail!("axe.run() failed: {error}");
    }
    Ok(outcome.violations.unwrap_or_default())
}

/// The failure message: one paragraph per violated rule.
fn report(screen: &str, violations: &[AxeViolation]) -> String {
    let mut text = format!(
        "axe-core {AXE_CORE_VERSION}: {} violation(s) on screen {screen:?}",
        violations.len()
    );
    for violation in violations {
        text.push_str(&format!(
            "\n\n[{}] {}: {}\n  {}",
            violation.impact.as_deref().unwrap_or("?"),
            violation.id,
            violation.help,
            violation.help_url
        ));
        for node in &violation.nodes {
            text.push_str(&format!("\n  - {}", node.target));
            for line in node.summary.lines().filter(|l| !l.trim().is_empty()) {
                text.push_str(&format!("\n      {}", line.trim()));
            }
        }
    }
    text
}

/// The text of `axe.min.js`, installing axe-core first when needed.
async fn axe_source() -> anyhow::Result<&'static str> {
    let source = AXE_SOURCE
        .get_or_try_init(|| async {
            let path = match std::env::var_os(AXE_JS_VARIABLE) {
                Some(path) => PathBuf::from(path),
                None => install_axe_core().await?,
            };
            tokio::fs::read_to_string(&path)
                .await
                .with_context(|| format!("reading {}", path.display()))
        })
        .await?;
    Ok(source.as_str())
}

/// `target/e2e-tools/axe-core-<version>/node_modules/axe-core/axe.min.js`, running
/// `npm install axe-core@<version>` into a staging folder first when it is missing. The staging
/// folder is renamed into place, so concurrent test processes never see half an install.
async fn install_axe_core() -> anyhow::Result<PathBuf> {
    let tools = paths::tools_dir();
    let installed = tools.join(format!("axe-core-{AXE_CORE_VERSION}"));
    let script = axe_min_js(&installed);
    if script.is_file() {
        return Ok(script);
    }
    tokio::fs::create_dir_all(&tools)
        .await
        .with_context(|| format!("creating {}", tools.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".axe-core-")
        .tempdir_in(&tools)
        .context("creating a staging folder for axe-core")?;
    let output = tokio::process::Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(staging.path())
        .args([
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .arg(format!("axe-core@{AXE_CORE_VERSION}"))
        .output()
        .await
        .context("running npm (install Node.js and npm, or set REISSUE_E2E_AXE_JS)")?;
    if !output.status.success() {
        bail!(
            "npm install axe-core@{AXE_CORE_VERSION} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let version = installed_version(staging.path()).await?;
    if version != AXE_CORE_VERSION {
        bail!("npm installed axe-core {version}, expected {AXE_CORE_VERSION}");
    }
    let staged = staging.keep();
    if let Err(e) = tokio::fs::rename(&staged, &installed).await {
        // Another test process may have finished first; its copy is as good as ours.
        let _ = tokio::fs::remove_dir_all(&staged).await;
        if !script.is_file() {
            return Err(e).with_context(|| format!("moving axe-core to {}", installed.display()));
        }
    }
    Ok(script)
}

fn axe_min_js(prefix: &Path) -> PathBuf {
    prefix
        .join("node_modules")
        .join("axe-core")
        .join("axe.min.js")
}

async fn installed_version(prefix: &Path) -> anyhow::Result<String> {
    let manifest = prefix
        .join("node_modules")
        .join("axe-core")
        .join("package.json");
    let text = tokio::fs::read_to_string(&manifest)
        .await
        .with_context(|| format!("reading {}", manifest.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)?;
    Ok(manifest["version"].as_str().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_rule_impact_help_and_elements() {
        let violations = [AxeViolation {
            id: "color-contrast".into(),
            impact: Some("serious".into()),
            help: "Elements must meet minimum color contrast ratio thresholds".into(),
            help_url: "https://dequeuniversity.com/rules/axe/4.14/color-contrast".into(),
            nodes: vec![AxeNode {
                target: "main > p".into(),
                summary: "Fix any of the following:\n  Element has insufficient color contrast"
                    .into(),
            }],
        }];
        let text = report("portal", &violations);
        assert!(text.contains("1 violation(s) on screen \"portal\""));
        assert!(text.contains("[serious] color-contrast: Elements must meet"));
        assert!(text.contains("  - main > p\n      Fix any of the following:"));
    }
}
