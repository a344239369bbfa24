//! Where things are: the workspace, Cargo's target folder, the server binary, the built web app
//! and the folders the harness writes to.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The workspace root (the folder holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.join(".."), Path::to_path_buf)
}

/// Cargo's target folder: `CARGO_TARGET_DIR` (relative to the workspace root when relative),
/// else `<workspace root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The `reissue` binary: `REISSUE_BIN` when set, else `<target>/debug/reissue`.
pub fn server_binary() -> PathBuf {
    match std::env::var_os("REISSUE_BIN") {
        Some(path) => PathBuf::from(path),
        None => target_dir().join("debug").join("reissue"),
    }
}

/// The built web app the server serves at `/`: `REISSUE_WEB_DIR` when set, else
/// `<workspace root>/dist`.
pub fn web_dir() -> PathBuf {
    match std::env::var_os("REISSUE_WEB_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("dist"),
    }
}

/// Where screenshots go: `<target>/e2e-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("e2e-screenshots")
}

/// Where tools fetched at test time (axe-core) go: `<target>/e2e-tools`.
pub(crate) fn tools_dir() -> PathBuf {
    target_dir().join("e2e-tools")
}

/// A loopback port that was free a moment ago. Another process may take it before we bind it;
/// callers retry when their child fails to start.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
