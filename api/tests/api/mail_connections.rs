//! The SMTP connection pool against the real server and an in-process sink: one connection
//! carries message after message, a server that restarted gets the next mail on a fresh
//! connection at once, and a message the server refused or may have taken is not sent again
//! until the outbox's back-off says so. (The pool is the same on both backends: SQLite only.)
//!
//! The test clock stands still unless a test advances it, so the outbox's back-off never comes
//! due by itself: whatever arrives without `advance` was sent by the first try.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{office_number, spawn_app_with, Backend, TestApp};
use reissue_e2e::smtp_sink::{AfterData, SmtpSink};

const WAIT: Duration = Duration::from_secs(10);

/// Starts the flow of office `n`, whose code mail goes to `email`.
async fn request_code(app: &TestApp, n: u32, email: &str) {
    let created = app.create_application(&office_number(n), email).await;
    assert_eq!(
        app.choose_prefecture(&created, "13").await.status(),
        StatusCode::OK
    );
}

/// Waits until `n` messages are marked sent: the worker has had its answer (and put the
/// connection back) for each.
async fn wait_until_sent(app: &TestApp, n: i64) {
    let started = std::time::Instant::now();
    loop {
        let sent = app
            .context
            .db
            .run(|conn| reissue_api::db::outbox::count_by_status(conn, "sent"))
            .await
            .unwrap();
        if sent >= n || started.elapsed() > WAIT {
            assert_eq!(sent, n, "messages marked sent");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How many times the outbox has claimed (tried) each message, by recipient.
async fn attempts(app: &TestApp) -> Vec<(String, i32)> {
    app.context
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use reissue_api::db::schema::outbox_messages::dsl;
            dsl::outbox_messages
                .select((dsl::recipient, dsl::attempts))
                .order(dsl::recipient)
                .load::<(String, i32)>(conn)
                .map_err(reissue_api::db::StorageError::from)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_mails_share_one_smtp_connection() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(Backend::Sqlite, &[("REISSUE_SMTP_URL", url.as_str())]).await;
    const MAILS: u32 = 6;
    app.import_offices(0, MAILS).await;
    for n in 0..MAILS {
        let email = format!("reuse{n}@example.jp");
        request_code(&app, n, &email).await;
        assert!(sink.wait_for_mail_to(&email, 0, WAIT).await.is_some());
        wait_until_sent(&app, i64::from(n + 1)).await;
    }
    assert_eq!(sink.messages().len(), MAILS as usize);
    assert_eq!(sink.connections(), 1, "one connection for every message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_smtp_server_restarts_the_next_mails_go_at_once_on_a_fresh_connection() {
    let sink = SmtpSink::start().await;
    let port = sink.port();
    let url = sink.url();
    let app = spawn_app_with(Backend::Sqlite, &[("REISSUE_SMTP_URL", url.as_str())]).await;
    app.import_offices(0, 5).await;
    for n in 0..2 {
        let email = format!("before{n}@example.jp");
        request_code(&app, n, &email).await;
        assert!(sink.wait_for_mail_to(&email, 0, WAIT).await.is_some());
        wait_until_sent(&app, i64::from(n + 1)).await;
    }
    assert_eq!(sink.connections(), 1);

    // The server goes away and comes back while the pool holds its connection.
    sink.stop().await;
    let sink = SmtpSink::start_on(port).await.unwrap();
    let after: Vec<String> = (2..5).map(|n| format!("after{n}@example.jp")).collect();
    for (n, email) in (2..5).zip(&after) {
        request_code(&app, n, email).await;
    }
    // No `advance`: only the first try can deliver them.
    for email in &after {
        assert!(
            sink.wait_for_mail_to(email, 0, WAIT).await.is_some(),
            "{email} delivered without waiting for a retry"
        );
    }
    wait_until_sent(&app, 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut recipients: Vec<String> = sink.messages().iter().map(|m| m.to.join(",")).collect();
    recipients.sort();
    assert_eq!(recipients, after, "each once");
    assert!(
        attempts(&app).await.iter().all(|(_, tries)| *tries == 1),
        "no failed try recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_server_refuses_is_tried_again_only_after_the_back_off() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(Backend::Sqlite, &[("REISSUE_SMTP_URL", url.as_str())]).await;
    app.import_offices(0, 2).await;
    sink.after_data_to("refused@example.jp", AfterData::Refuse);
    request_code(&app, 0, "refused@example.jp").await;
    let started = std::time::Instant::now();
    while sink.not_accepted().is_empty() && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Time for a re-send, if anything were to re-send it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.not_accepted().len(), 1, "refused once, not sent again");
    assert_eq!(attempts(&app).await, [("refused@example.jp".to_owned(), 1)]);

    // The pool still delivers the next mail.
    request_code(&app, 1, "next@example.jp").await;
    assert!(sink
        .wait_for_mail_to("next@example.jp", 0, WAIT)
        .await
        .is_some());

    // The outbox's first retry delay (2 s) later, it is tried once more, and refused again.
    app.advance(Duration::from_secs(3));
    let started = std::time::Instant::now();
    while sink.not_accepted().len() < 2 && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.not_accepted().len(), 2);
    assert_eq!(
        attempts(&app).await,
        [
            ("next@example.jp".to_owned(), 1),
            ("refused@example.jp".to_owned(), 2)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_up_after_the_content_is_not_sent_the_message_again_at_once() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(Backend::Sqlite, &[("REISSUE_SMTP_URL", url.as_str())]).await;
    app.import_offices(0, 2).await;
    // A pooled connection first, so the hang-up happens on a reused one (where a dead
    // connection before `DATA` would be retried).
    request_code(&app, 0, "first@example.jp").await;
    assert!(sink
        .wait_for_mail_to("first@example.jp", 0, WAIT)
        .await
        .is_some());
    wait_until_sent(&app, 1).await;

    sink.after_data_to("unknown@example.jp", AfterData::HangUp);
    request_code(&app, 1, "unknown@example.jp").await;
    let started = std::time::Instant::now();
    while sink.not_accepted().is_empty() && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The server may have taken it: only the outbox's back-off may send it again.
    assert_eq!(
        sink.not_accepted().len(),
        1,
        "not re-sent on a fresh connection"
    );
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        attempts(&app).await,
        [
            ("first@example.jp".to_owned(), 1),
            ("unknown@example.jp".to_owned(), 1)
        ]
    );
}
