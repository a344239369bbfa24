//! Limits hold under a race: 32 requests sent at once at each budget, failure counter and
//! attempt limit are let through exactly up to the limit, never one more. (On PostgreSQL,
//! under READ COMMITTED, a count read and then written back lets parallel requests through;
//! every limit is therefore checked and spent under a lock.)

use std::collections::BTreeMap;

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    office_number, spawn_app_with, wrong_code, Backend, TestApp, REVIEWER_PASSWORD,
};

/// Requests sent at once at each limit.
const AT_ONCE: usize = 32;

/// The problem `code` of each answer (or its status for a success), counted.
async fn tally(answers: Vec<Response>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for answer in answers {
        let status = answer.status();
        let key = if status.is_success() {
            status.as_u16().to_string()
        } else {
            let body: Value = answer.json().await.unwrap();
            format!(
                "{} {}",
                status.as_u16(),
                body["code"].as_str().unwrap_or("?")
            )
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

fn expected(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| ((*key).to_owned(), *n))
        .collect()
}

/// `bodies` posted to the API path `path`, all at once.
async fn posted_at_once(
    app: &TestApp,
    path: &str,
    bodies: impl Iterator<Item = Value>,
) -> Vec<Response> {
    join_all(bodies.map(|body| app.client.post(app.api(path)).json(&body).send()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// What wrong passwords sent all at once get from a lock at `limit`: the failures before the
/// limit are answered as wrong, the one at it locks, and the rest meet the lock.
fn locked_at(limit: usize) -> BTreeMap<String, usize> {
    expected(&[
        ("401 invalid_credentials", limit - 1),
        ("423 account_locked", AT_ONCE - (limit - 1)),
    ])
}

async fn parallel_prefecture_choices_mail_exactly_the_address_budget(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_CODES_PER_EMAIL", "10"),
            ("REISSUE_REQUESTS_PER_CLIENT", "1000"),
        ],
    )
    .await;
    app.import_offices(1, AT_ONCE as u32).await;
    let mut applications = Vec::new();
    for n in 1..=AT_ONCE as u32 {
        applications.push(
            app.create_application(&office_number(n), "shared@example.jp")
                .await,
        );
    }
    let answers = join_all(
        applications
            .iter()
            .map(|created| app.choose_prefecture(created, "13")),
    )
    .await;
    assert_eq!(
        tally(answers).await,
        expected(&[("200", 10), ("429 rate_limited", AT_ONCE - 10)])
    );
    // Exactly ten code mails were queued.
    let mails = app.wait_for_mails("shared@example.jp", 10).await;
    assert_eq!(mails.len(), 10);
}

async fn parallel_requests_of_one_client_pass_exactly_its_limit(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_REQUESTS_PER_CLIENT", "7")]).await;
    app.import_offices(1, AT_ONCE as u32).await;
    let app = &app;
    let answers = join_all((1..=AT_ONCE as u32).map(|n| {
        let email = format!("o{n}@example.jp");
        let body = json!({
            "office_number": office_number(n),
            "email": email,
            "email_confirmation": email,
        });
        async move { app.post_application(&body).await }
    }))
    .await;
    assert_eq!(
        tally(answers).await,
        expected(&[("201", 7), ("429 rate_limited", AT_ONCE - 7)])
    );
}

async fn parallel_wrong_codes_spend_exactly_the_tries_of_a_code(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_CODE_MAX_ATTEMPTS", "5"),
            ("REISSUE_REQUESTS_PER_CLIENT", "1000"),
            ("REISSUE_WRONG_CODES_PER_OFFICE", "1000"),
            ("REISSUE_WRONG_CODES_PER_EMAIL", "1000"),
        ],
    )
    .await;
    let (created, code) = app.application_with_code("guess@example.jp").await;
    let wrong = wrong_code(&code);
    let answers = join_all((0..AT_ONCE).map(|_| app.verify(&created, &wrong))).await;
    // Four wrong tries are answered with what is left; the fifth locks; the rest meet the lock.
    assert_eq!(
        tally(answers).await,
        expected(&[("422 wrong_code", 4), ("429 code_locked", AT_ONCE - 4)])
    );
    assert_eq!(
        app.verify(&created, &code).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn parallel_wrong_office_passwords_lock_after_exactly_the_limit(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_OFFICE_MAX_FAILED_LOGINS", "3"),
            ("REISSUE_LOGINS_PER_CLIENT", "1000"),
            ("REISSUE_PASSWORD_QUEUE", "1000"),
        ],
    )
    .await;
    app.create_office_account("13", "1311111111", "KJ1311111111", "right-password-12")
        .await;
    let wrong = json!({ "user_id": "KJ1311111111", "password": "wrong-password-12" });
    let answers = posted_at_once(&app, "/auth/login", (0..AT_ONCE).map(|_| wrong.clone())).await;
    assert_eq!(tally(answers).await, locked_at(3));
}

async fn parallel_wrong_reviewer_passwords_lock_after_exactly_the_limit(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_REVIEWER_MAX_FAILED_LOGINS", "4"),
            ("REISSUE_LOGINS_PER_CLIENT", "1000"),
            ("REISSUE_PASSWORD_QUEUE", "1000"),
        ],
    )
    .await;
    // Stores the demo reviewers (and proves the right password works before the race).
    app.admin_token("demo-tokyo").await;
    let answers =
        join_all((0..AT_ONCE).map(|_| app.admin_login_attempt("demo-tokyo", "not the password")))
            .await;
    assert_eq!(tally(answers).await, locked_at(4));
    let locked = app
        .admin_login_attempt("demo-tokyo", REVIEWER_PASSWORD)
        .await;
    assert_eq!(locked.status(), StatusCode::LOCKED);
}

async fn parallel_logins_of_one_client_pass_exactly_its_login_throttle(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_LOGINS_PER_CLIENT", "6"),
            ("REISSUE_PASSWORD_QUEUE", "1000"),
        ],
    )
    .await;
    let unknown_ids = (0..AT_ONCE)
        .map(|n| json!({ "login_id": format!("nobody{n}"), "password": "wrong password" }));
    let answers = posted_at_once(&app, "/admin/sessions", unknown_ids).await;
    assert_eq!(
        tally(answers).await,
        expected(&[
            ("401 invalid_credentials", 6),
            ("429 rate_limited", AT_ONCE - 6)
        ])
    );
}

crate::on_both_backends!(
    parallel_prefecture_choices_mail_exactly_the_address_budget,
    parallel_requests_of_one_client_pass_exactly_its_limit,
    parallel_wrong_codes_spend_exactly_the_tries_of_a_code,
    parallel_wrong_office_passwords_lock_after_exactly_the_limit,
    parallel_wrong_reviewer_passwords_lock_after_exactly_the_limit,
    parallel_logins_of_one_client_pass_exactly_its_login_throttle,
);
