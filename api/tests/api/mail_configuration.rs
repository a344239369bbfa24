//! Where mail goes is a decision the operator makes: without `REISSUE_SMTP_URL` the server
//! starts only with the development mailbox asked for (`REISSUE_DEV_MAILBOX=true` or
//! `serve --demo`), so a forgotten setting cannot publish codes at `/api/dev/messages`.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn serve(data_dir: &std::path::Path, env: &[(&str, &str)], wait: Duration) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reissue"));
    command.arg("serve");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REISSUE_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .current_dir(data_dir)
        .env("REISSUE_DATA_DIR", data_dir)
        .env("REISSUE_BIND", "127.0.0.1:0")
        .env("REISSUE_METRICS_BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A server that starts keeps running: stop it after `wait` and report what it said.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < wait {
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Long enough for a refusal on a loaded machine; a refusal ends the wait at once.
const REFUSAL: Duration = Duration::from_secs(30);

#[test]
fn without_smtp_or_the_dev_mailbox_serve_refuses_to_start_and_names_the_setting() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = serve(data_dir.path(), &[], REFUSAL);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {said}");
    assert!(said.contains("REISSUE_SMTP_URL"), "{said}");
    assert!(said.contains("REISSUE_DEV_MAILBOX=true"), "{said}");
}

#[test]
fn the_dev_mailbox_off_explicitly_is_the_same_refusal() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = serve(
        data_dir.path(),
        &[("REISSUE_DEV_MAILBOX", "false")],
        REFUSAL,
    );
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {said}");
    assert!(said.contains("REISSUE_SMTP_URL"), "{said}");
}

#[test]
fn asking_for_the_dev_mailbox_starts_the_server() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = serve(
        data_dir.path(),
        &[("REISSUE_DEV_MAILBOX", "true")],
        Duration::from_secs(5),
    );
    let said = String::from_utf8_lossy(&output.stderr);
    // Still running when stopped: killed, not exited.
    assert_eq!(output.status.code(), None, "it exited: {said}");
}
