//! The real `reissue` binary killed with SIGKILL: after the code request was committed and
//! before the mail was delivered (after a restart the mail is delivered, once), and while 64
//! clients go through the flow (nothing that was answered 2xx is lost, every queued mail is
//! delivered, none twice under different ids).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use reissue_e2e::smtp_sink::SmtpSink;

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
        // Two of these servers run at once: neither takes the metrics port.
        .env("REISSUE_METRICS_BIND", "off")
        .env("REISSUE_DATA_DIR", data_dir)
        .env("REISSUE_SMTP_URL", smtp_url)
        .env("REISSUE_MAIL_RETRY_BASE_MS", "100")
        .env("REISSUE_MAIL_RETRY_MAX_MS", "300")
        .env("REISSUE_MAIL_POLL_MS", "50")
        // Many clients share the loopback address here.
        .env("REISSUE_REQUESTS_PER_CLIENT", "1000000")
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

    let port = reissue_e2e::free_port().unwrap();
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
    let code = crate::helpers::code_in(&mails[0].body);
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
    let (url, drop_database) = crate::helpers::fresh_postgres_database("reissue_crash");
    crash_after_commit_then_restart_delivers_the_mail(Some(url)).await;
    drop_database();
}

/// What one simulated office got before the kill.
#[derive(Debug, Default, Clone)]
struct Outcome {
    email: String,
    id: String,
    token: String,
    code_requested: bool,
    reference_number: Option<String>,
}

/// One office's flow; stops at the first failure (the server is being killed).
async fn office_flow(
    client: &reqwest::Client,
    base: &str,
    sink: &SmtpSink,
    office_number: &str,
    email: &str,
    outcomes: &std::sync::Mutex<Vec<Outcome>>,
) -> Option<()> {
    let api = format!("{base}/api/v1/reissue-applications");
    let created = client
        .post(&api)
        .json(&json!({"office_number": office_number, "email": email, "email_confirmation": email}))
        .send()
        .await
        .ok()?;
    if !created.status().is_success() {
        return None;
    }
    let created: Value = created.json().await.ok()?;
    let mut outcome = Outcome {
        email: email.to_owned(),
        id: created["id"].as_str()?.to_owned(),
        token: created["token"].as_str()?.to_owned(),
        ..Outcome::default()
    };
    let index = {
        let mut all = outcomes.lock().unwrap();
        all.push(outcome.clone());
        all.len() - 1
    };
    let (id, token) = (outcome.id.clone(), outcome.token.clone());
    let chosen = client
        .put(format!("{api}/{id}/prefecture"))
        .bearer_auth(&token)
        .json(&json!({"prefecture_code": "13"}))
        .send()
        .await
        .ok()?;
    if !chosen.status().is_success() {
        return None;
    }
    outcome.code_requested = true;
    outcomes.lock().unwrap()[index] = outcome.clone();
    let code = wait_for_code(sink, email, Duration::from_secs(10)).await?;
    let verified = client
        .post(format!("{api}/{id}/verification"))
        .bearer_auth(&token)
        .json(&json!({"code": code}))
        .send()
        .await
        .ok()?;
    if !verified.status().is_success() {
        return None;
    }
    let submitted = client
        .post(format!("{api}/{id}/submission"))
        .bearer_auth(&token)
        .send()
        .await
        .ok()?;
    if !submitted.status().is_success() {
        return None;
    }
    let submitted: Value = submitted.json().await.ok()?;
    outcome.reference_number = Some(submitted["reference_number"].as_str()?.to_owned());
    outcomes.lock().unwrap()[index] = outcome;
    Some(())
}

async fn wait_for_code(sink: &SmtpSink, email: &str, timeout: Duration) -> Option<String> {
    let mail = sink.wait_for_mail_to(email, 0, timeout).await?;
    Some(crate::helpers::code_in(&mail.body))
}

async fn killed_while_64_clients_submit_loses_nothing(database_url: Option<String>) {
    const CLIENTS: u32 = 64;
    const OFFICES_PER_CLIENT: u32 = 4;
    let data_dir = tempfile::tempdir().unwrap();
    let ledger = data_dir.path().join("offices.csv");
    std::fs::write(
        &ledger,
        crate::helpers::ledger_csv(0, CLIENTS * OFFICES_PER_CLIENT),
    )
    .unwrap();
    let mut import = Command::new(env!("CARGO_BIN_EXE_reissue"));
    import
        .args(["ledger", "import"])
        .arg(&ledger)
        .env("REISSUE_DATA_DIR", data_dir.path())
        .env_remove("REISSUE_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(log_file(data_dir.path()));
    if let Some(url) = &database_url {
        import.env("REISSUE_DATABASE_URL", url);
    }
    assert!(import.status().unwrap().success(), "ledger import");

    let sink = std::sync::Arc::new(SmtpSink::start().await);
    let port = reissue_e2e::free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut server = start_server(data_dir.path(), port, &sink.url(), database_url.as_deref());
    wait_ready(&client, &base).await;

    let outcomes = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Outcome>::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (client, base, sink, outcomes) =
                (client.clone(), base.clone(), sink.clone(), outcomes.clone());
            tokio::spawn(async move {
                for k in 0..OFFICES_PER_CLIENT {
                    let n = c + k * CLIENTS;
                    let office = crate::helpers::office_number(n);
                    let email = format!("kill{n}@example.jp");
                    if office_flow(&client, &base, &sink, &office, &email, &outcomes)
                        .await
                        .is_none()
                    {
                        return;
                    }
                }
            })
        })
        .collect();

    // Kill in the thick of it: once a quarter of the flows are through.
    let target = (CLIENTS * OFFICES_PER_CLIENT / 4) as usize;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let submitted = outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.reference_number.is_some())
            .count();
        if submitted >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for task in clients {
        task.await.unwrap();
    }
    let outcomes = outcomes.lock().unwrap().clone();
    let submitted = outcomes
        .iter()
        .filter(|o| o.reference_number.is_some())
        .count();
    assert!(
        submitted >= target && submitted < outcomes.len(),
        "the kill came while flows were under way ({submitted} of {} submitted)",
        outcomes.len()
    );

    let mut restarted = start_server(data_dir.path(), port, &sink.url(), database_url.as_deref());
    wait_ready(&client, &base).await;
    let server_log =
        || std::fs::read_to_string(data_dir.path().join("server.log")).unwrap_or_default();
    // Every application that was answered 2xx is there, in the state it was answered with.
    for outcome in &outcomes {
        let stored: Value = client
            .get(format!("{base}/api/v1/reissue-applications/{}", outcome.id))
            .bearer_auth(&outcome.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match &outcome.reference_number {
            Some(reference) => {
                assert_eq!(stored["status"], "submitted", "{outcome:?}: {stored}");
                assert_eq!(stored["reference_number"], reference.as_str());
            }
            None => assert!(stored["id"] == outcome.id.as_str(), "{outcome:?}: {stored}"),
        }
    }
    // Every mail queued by a 2xx code request arrives (a kill during a try leaves it leased
    // for 30 s), each recipient gets one message, and a message handed over just before the
    // kill and sent again after it carries the same Message-ID.
    let queued: Vec<&Outcome> = outcomes.iter().filter(|o| o.code_requested).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(50);
    loop {
        let mails = sink.messages();
        let missing = queued
            .iter()
            .filter(|o| !mails.iter().any(|m| m.to.contains(&o.email)))
            .count();
        if missing == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{missing} queued mails were not delivered after the restart; log:\n{}",
            server_log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = sink.messages();
    let mut ids_per_recipient: std::collections::HashMap<&str, std::collections::HashSet<&str>> =
        std::collections::HashMap::new();
    for mail in &mails {
        ids_per_recipient
            .entry(mail.to[0].as_str())
            .or_default()
            .insert(mail.message_id.as_deref().unwrap_or_default());
    }
    for (recipient, ids) in &ids_per_recipient {
        assert_eq!(ids.len(), 1, "{recipient} got different messages: {ids:?}");
    }
    let repeated = mails.len() - ids_per_recipient.len();
    eprintln!(
        "killed after {submitted} of {} flows were submitted; {} mails queued, {} delivered, \
         {repeated} handed over again after the kill under the same Message-ID",
        outcomes.len(),
        queued.len(),
        mails.len()
    );
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_server_killed_while_64_clients_submit_loses_nothing() {
    killed_while_64_clients_submit_loses_nothing(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_killed_while_64_clients_submit_loses_nothing() {
    let (url, drop_database) = crate::helpers::fresh_postgres_database("reissue_kill");
    killed_while_64_clients_submit_loses_nothing(Some(url)).await;
    drop_database();
}
