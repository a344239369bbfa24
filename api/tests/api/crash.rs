//! The real `reissue` binary killed with SIGKILL after the code request was committed and
//! before the mail was delivered: after a restart the mail is delivered, once.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use reissue_e2e::smtp_sink::SmtpSink;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server's log, appended across restarts, printed when the test fails.
fn log_file(data_dir: &std::path::Path) -> Stdio {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("server.log"))
        .unwrap();
    Stdio::from(file)
}

fn start_server(
    data_dir: &std::path::Path,
    port: u16,
    smtp_url: &str,
    database_url: Option<&str>,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reissue"));
    command
        .args(["serve", "--demo"])
        .env("REISSUE_BIND", format!("127.0.0.1:{port}"))
        .env("REISSUE_DATA_DIR", data_dir)
        .env("REISSUE_SMTP_URL", smtp_url)
        .env("REISSUE_MAIL_RETRY_BASE_MS", "100")
        .env("REISSUE_MAIL_RETRY_MAX_MS", "300")
        .env("REISSUE_MAIL_POLL_MS", "50")
        .env("RUST_LOG", "debug")
        .env_remove("REISSUE_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(log_file(data_dir));
    if let Some(url) = database_url {
        command.env("REISSUE_DATABASE_URL", url);
    }
    command.spawn().unwrap()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            if response.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

async fn crash_after_commit_then_restart_delivers_the_mail(database_url: Option<String>) {
    let data_dir = tempfile::tempdir().unwrap();
    // The SMTP server is down at first, so the mail cannot leave before the kill.
    let sink = SmtpSink::start().await;
    let smtp_port = sink.port();
    let smtp_url = sink.url();
    sink.stop().await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = start_server(data_dir.path(), port, &smtp_url, database_url.as_deref());
    wait_ready(&client, &base).await;

    let created: Value = client
        .post(format!("{base}/api/v1/reissue-applications"))
        .json(&json!({"office_number": "1311111111", "email": "crash@example.jp", "email_confirmation": "crash@example.jp"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let token = created["token"].as_str().unwrap();
    let sent = client
        .put(format!(
            "{base}/api/v1/reissue-applications/{id}/prefecture"
        ))
        .bearer_auth(token)
        .json(&json!({"prefecture_code": "13"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);

    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    let sink = SmtpSink::start_on(smtp_port).await.unwrap();
    let mut restarted = start_server(data_dir.path(), port, &smtp_url, database_url.as_deref());
    wait_ready(&client, &base).await;
    // A kill during a delivery try leaves the message leased for 30 s.
    let mails = sink.wait_for_messages(1, Duration::from_secs(45)).await;
    assert_eq!(
        mails.len(),
        1,
        "the queued mail is delivered after the restart; server log:\n{}",
        std::fs::read_to_string(data_dir.path().join("server.log")).unwrap_or_default()
    );
    assert_eq!(mails[0].subject, "確認コード発行通知(介護保険)");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1);

    // The application survived too, and the mailed code verifies it.
    let code = crate::helpers::extract_code(&mails[0].body);
    let verified = client
        .post(format!(
            "{base}/api/v1/reissue-applications/{id}/verification"
        ))
        .bearer_auth(token)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    // Even at debug level, no secret reaches the log.
    let log = std::fs::read_to_string(data_dir.path().join("server.log")).unwrap();
    assert!(
        log.contains("handled"),
        "the server did log requests: {log}"
    );
    assert!(!log.contains(token), "the token leaked into the log");
    assert!(
        !log.contains(&format!("{code}\n")) && !log.contains(&format!("\"{code}\"")),
        "the code leaked into the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_server_killed_after_the_code_request_delivers_the_mail_after_restart() {
    crash_after_commit_then_restart_delivers_the_mail(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_killed_after_the_code_request_delivers_the_mail_after_restart() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let admin_url = crate::helpers::postgres_admin_url();
    let name = format!("reissue_crash_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap();
    let root = admin_url.rsplit_once('/').unwrap().0.to_owned();
    crash_after_commit_then_restart_delivers_the_mail(Some(format!("{root}/{name}"))).await;
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
}
