//! Fault injection: PostgreSQL vanishing under load, and two instances sharing one PostgreSQL
//! and its outbox. (The server killed with SIGKILL is in `crash.rs`; SMTP down in
//! `mail_delivery.rs`.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use reissue_e2e::smtp_sink::SmtpSink;

use crate::helpers::{
    fresh_postgres_database, office_number, postgres_host_port, spawn_app_with,
    spawn_postgres_app_via, Backend, Created, TestApp,
};
use crate::tcp_proxy::TcpProxy;

/// What one request during the outage got.
#[derive(Debug)]
struct Answer {
    status: Option<StatusCode>,
    content_type: String,
    elapsed: Duration,
}

async fn read_application(app: &TestApp, created: &Created) -> Answer {
    let started = Instant::now();
    let response = app
        .client
        .get(app.api(&format!("/reissue-applications/{}", created.id)))
        .bearer_auth(&created.token)
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    let elapsed = started.elapsed();
    match response {
        Ok(response) => Answer {
            status: Some(response.status()),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            elapsed,
        },
        Err(_) => Answer {
            status: None,
            content_type: String::new(),
            elapsed,
        },
    }
}

async fn readiness(app: &TestApp) -> StatusCode {
    app.client
        .get(app.url("/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_answers_503_and_the_service_recovers_by_itself() {
    let mut proxy = TcpProxy::start(&postgres_host_port()).await;
    let app =
        spawn_postgres_app_via(proxy.port(), &[("REISSUE_REQUESTS_PER_CLIENT", "100000")]).await;
    let created = app
        .create_application("1311111111", "outage@example.jp")
        .await;
    let app = Arc::new(app);

    // Eight clients read the application in a loop for the whole test.
    let running = Arc::new(AtomicBool::new(true));
    // (sent at, answered at, answer)
    let answers = Arc::new(std::sync::Mutex::new(
        Vec::<(Instant, Instant, Answer)>::new(),
    ));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (app, created, running, answers) = (
                app.clone(),
                created.clone(),
                running.clone(),
                answers.clone(),
            );
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    let sent_at = Instant::now();
                    let answer = read_application(&app, &created).await;
                    answers
                        .lock()
                        .unwrap()
                        .push((sent_at, Instant::now(), answer));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    proxy.stop();
    let stopped_at = Instant::now();
    let mut ready_during_outage = Vec::new();
    for _ in 0..3 {
        ready_during_outage.push(readiness(&app).await);
    }
    // Keep the database away until every client has had answers sent and received within
    // the outage.
    let outage_answers = || {
        answers
            .lock()
            .unwrap()
            .iter()
            .filter(|(sent, _, _)| *sent > stopped_at + Duration::from_millis(100))
            .count()
    };
    while outage_answers() < 16 && stopped_at.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    proxy.restart().await;
    let restarted_at = Instant::now();

    // It recovers without a restart: ready, and reads succeed again.
    let mut recovered_after = None;
    while restarted_at.elapsed() < Duration::from_secs(20) {
        if readiness(&app).await == StatusCode::OK
            && read_application(&app, &created).await.status == Some(StatusCode::OK)
        {
            recovered_after = Some(restarted_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }

    assert!(
        ready_during_outage
            .iter()
            .all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "/readyz during the outage: {ready_during_outage:?}"
    );
    let recovered_after = recovered_after.expect("the service recovered by itself");
    let answers = answers.lock().unwrap();
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|(sent, answered, _)| {
            *sent > stopped_at + Duration::from_millis(100) && *answered < restarted_at
        })
        .map(|(_, _, answer)| answer)
        .collect();
    assert!(
        during.len() >= 16,
        "requests were answered during the outage"
    );
    for answer in &during {
        assert_eq!(
            answer.status,
            Some(StatusCode::SERVICE_UNAVAILABLE),
            "every request during the outage is refused with 503: {answer:?}"
        );
        assert_eq!(answer.content_type, "application/problem+json");
        // Bounded by the pool's wait for a connection (3 s), never a hang.
        assert!(answer.elapsed < Duration::from_secs(5), "{answer:?}");
    }
    let server_errors = answers
        .iter()
        .filter(|(_, _, a)| {
            a.status
                .is_none_or(|s| s == StatusCode::INTERNAL_SERVER_ERROR)
        })
        .count();
    assert_eq!(server_errors, 0, "no 500 and no dropped connection");
    let last = &answers.last().unwrap().2;
    assert_eq!(
        last.status,
        Some(StatusCode::OK),
        "reads succeed at the end"
    );
    eprintln!(
        "outage: {} answers during it, all 503; recovered {recovered_after:?} after the restart",
        during.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_each_mail_exactly_once() {
    const MAILS: u32 = 40;
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let (shared_database, drop_database) = fresh_postgres_database("reissue_pair");
    let settings = [
        ("REISSUE_SMTP_URL", smtp.as_str()),
        ("REISSUE_REQUESTS_PER_CLIENT", "100000"),
        ("REISSUE_DATABASE_URL", shared_database.as_str()),
    ];
    // Started at the same moment, both migrate the empty database: they must take turns.
    let (first, second) = tokio::join!(
        spawn_app_with(Backend::Postgres, &settings),
        spawn_app_with(Backend::Postgres, &settings)
    );
    first.import_offices(0, MAILS).await;

    // Applications alternate between the instances, and so do the commits that queue their
    // mail; both outbox workers race for every message.
    let requests = (0..MAILS).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        async move {
            let email = format!("pair{n}@example.jp");
            let created = app.create_application(&office_number(n), &email).await;
            assert_eq!(
                app.choose_prefecture(&created, "13").await.status(),
                StatusCode::OK
            );
            email
        }
    });
    let recipients = futures_util::future::join_all(requests).await;

    sink.wait_for_messages(MAILS as usize, Duration::from_secs(20))
        .await;
    // Give a second delivery of any message time to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = sink.messages();
    assert_eq!(mails.len(), MAILS as usize, "each mail once, no more");
    let mut per_recipient: HashMap<&str, usize> = HashMap::new();
    for mail in &mails {
        *per_recipient.entry(mail.to[0].as_str()).or_default() += 1;
    }
    for email in &recipients {
        assert_eq!(per_recipient.get(email.as_str()), Some(&1), "{email}");
    }
    let sent = first
        .context
        .db
        .run(|conn| reissue_api::db::outbox::count_by_status(conn, "sent"))
        .await
        .unwrap();
    assert_eq!(sent, i64::from(MAILS));
    drop((first, second));
    drop_database();
}
