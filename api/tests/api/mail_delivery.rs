//! Mail over real SMTP (an in-process sink): the manual's subject and body arrive, and a
//! server that is down for a while gets every message once it is back, exactly once.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{office_number, spawn_app_with, Backend};
use reissue_e2e::smtp_sink::SmtpSink;

const MANUAL_EXAMPLE: &str = include_str!("../fixtures/code_notice_manual.txt");

async fn the_code_mail_arrives_over_smtp_with_the_manuals_subject_and_body(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(backend, &[("REISSUE_SMTP_URL", url.as_str())]).await;
    let created = app
        .create_application("1311111111", "smtp@example.jp")
        .await;
    assert_eq!(
        app.choose_prefecture(&created, "13").await.status(),
        StatusCode::OK
    );

    let mails = sink.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, ["smtp@example.jp"]);
    assert_eq!(mail.subject, "確認コード発行通知(介護保険)");
    for header in [
        "MIME-Version: 1.0\r\n",
        "Auto-Submitted: auto-generated\r\n",
    ] {
        assert!(
            mail.raw.contains(header),
            "{header:?} missing:\n{}",
            mail.raw
        );
    }
    let code = crate::helpers::code_in(&mail.body);
    assert_eq!(
        mail.body.trim_end(),
        MANUAL_EXAMPLE
            .replace("9999", &code)
            .replace("くださいませようよう", "くださいますよう")
            .trim_end()
    );
    // The code works, and the stored outbox row no longer holds it.
    assert_eq!(app.verify(&created, &code).await.status(), StatusCode::OK);
    let bodies = app
        .context
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use reissue_api::db::schema::outbox_messages::dsl;
            dsl::outbox_messages
                .select(dsl::body)
                .load::<String>(conn)
                .map_err(reissue_api::db::StorageError::from)
        })
        .await
        .unwrap();
    assert!(bodies.iter().all(|b| !b.contains(&code)));
}

async fn with_smtp_down_the_mail_is_retried_and_delivered_exactly_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let port = sink.port();
    let url = sink.url();
    sink.stop().await;
    let app = spawn_app_with(backend, &[("REISSUE_SMTP_URL", url.as_str())]).await;
    const MAILS: u32 = 8;
    app.import_offices(0, MAILS).await;
    for n in 0..MAILS {
        let created = app
            .create_application(&office_number(n), &format!("down{n}@example.jp"))
            .await;
        assert_eq!(
            app.choose_prefecture(&created, "13").await.status(),
            StatusCode::OK
        );
    }

    // Let the worker fail a few times; the back-off runs on the test's clock.
    let mut attempts = 0;
    for _ in 0..100 {
        app.advance(Duration::from_millis(500));
        attempts = outbox_attempts(&app).await;
        if attempts >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        attempts >= 2,
        "the worker should have retried, attempts = {attempts}"
    );

    let sink = SmtpSink::start_on(port).await.unwrap();
    // Each message waits out its own back-off, which grew with every failed try (a loaded
    // machine tries some of them more often before the sink is back): keep the test's clock
    // moving until every one is due again.
    for _ in 0..100 {
        app.advance(Duration::from_secs(1));
        if sink.messages().len() >= MAILS as usize {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = sink
        .wait_for_messages(MAILS as usize, Duration::from_secs(10))
        .await;
    assert_eq!(mails.len(), MAILS as usize);
    // Give any duplicate time to show up.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut recipients: Vec<String> = sink.messages().iter().map(|m| m.to.join(",")).collect();
    recipients.sort();
    let mut expected: Vec<String> = (0..MAILS).map(|n| format!("down{n}@example.jp")).collect();
    expected.sort();
    assert_eq!(recipients, expected, "every mail delivered exactly once");
    let sent = app
        .context
        .db
        .run(|conn| reissue_api::db::outbox::count_by_status(conn, "sent"))
        .await
        .unwrap();
    assert_eq!(sent, i64::from(MAILS));
}

async fn outbox_attempts(app: &crate::helpers::TestApp) -> i32 {
    app.context
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use reissue_api::db::schema::outbox_messages::dsl;
            // The fewest tries of any message: every one of them has been tried that often.
            dsl::outbox_messages
                .select(diesel::dsl::min(dsl::attempts))
                .first::<Option<i32>>(conn)
                .map_err(reissue_api::db::StorageError::from)
        })
        .await
        .unwrap()
        .unwrap_or(0)
}

crate::on_both_backends!(
    the_code_mail_arrives_over_smtp_with_the_manuals_subject_and_body,
    with_smtp_down_the_mail_is_retried_and_delivered_exactly_once,
);
