//! A flood of logins cannot sink the service: attempts are throttled per client address and in
//! all before any password is checked (429), and argon2 runs on a bounded set of threads whose
//! full queue answers 503 at once, with `Retry-After` on both.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{problem, spawn_app_with, Backend, TestApp};
use reissue_api::domain::pseudonyms::{pseudonym, Personal};

/// A reviewer login with an unknown ID, sent as if from `client` (127.0.0.1 is the proxy).
async fn login_from(app: &TestApp, client: &str) -> reqwest::Response {
    app.client
        .post(app.api("/admin/sessions"))
        .header("x-forwarded-for", client)
        .json(&json!({ "login_id": "nobody", "password": "wrong password" }))
        .send()
        .await
        .unwrap()
}

async fn one_client_gets_its_attempts_then_429_while_others_still_log_in(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_LOGINS_PER_CLIENT", "3"),
            ("REISSUE_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    for _ in 0..3 {
        let response = login_from(&app, "203.0.113.1").await;
        problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let refused = login_from(&app, "203.0.113.1").await;
    let retry_after = refused.headers().get("retry-after").cloned();
    problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(retry_after.is_some(), "a 429 says when to come back");
    // The office login shares the throttle: it is the same client.
    let office = app
        .client
        .post(app.api("/auth/login"))
        .header("x-forwarded-for", "203.0.113.1")
        .json(&json!({ "user_id": "KJ1311111111", "password": "whatever" }))
        .send()
        .await
        .unwrap();
    problem(office, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another client is not held back by the first.
    let other = login_from(&app, "203.0.113.2").await;
    problem(other, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // The window passes.
    app.advance(std::time::Duration::from_secs(61));
    let again = login_from(&app, "203.0.113.1").await;
    problem(again, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn all_clients_together_are_throttled_too(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_LOGINS_GLOBAL", "2"),
            ("REISSUE_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let response = login_from(&app, client).await;
        problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let third = login_from(&app, "203.0.113.3").await;
    problem(third, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

async fn a_full_password_queue_answers_503_at_once_and_never_500(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_PASSWORD_THREADS", "1"),
            ("REISSUE_PASSWORD_QUEUE", "1"),
            ("REISSUE_LOGINS_PER_CLIENT", "1000"),
        ],
    )
    .await;
    let attempts = (0..24).map(|_| {
        app.client
            .post(app.api("/admin/sessions"))
            .json(&json!({ "login_id": "nobody", "password": "wrong password" }))
            .send()
    });
    let answers = futures_util::future::join_all(attempts).await;
    let (mut refused, mut busy) = (0, 0);
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(answer.headers().get("retry-after").is_some());
                problem(
                    answer,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                )
                .await;
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    // One thread and one waiting place: most of 24 simultaneous checks cannot be taken.
    assert!(busy > 0, "{refused} refused, {busy} busy");
    assert!(refused >= 1, "{refused} refused, {busy} busy");
    // Once the flood is over, logins are checked again.
    let after = login_from(&app, "203.0.113.9").await;
    problem(after, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

/// The audit log's name of a client address: its keyed pseudonym, never the address.
fn client_pseudonym(app: &TestApp, address: &str) -> String {
    pseudonym(&app.context.hasher, Personal::ClientAddress(address))
}

async fn every_failed_login_is_audited_with_its_client_pseudonym(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    // A known reviewer with a wrong password, straight from the proxy's own address ...
    let known = app
        .admin_login_attempt("demo-tokyo", "not the password")
        .await;
    problem(known, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // ... and an ID that does not exist.
    let unknown = login_from(&app, "203.0.113.8").await;
    problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let failures = app.audited("reviewer_login_failed").await;
    let (proxy, client) = (
        client_pseudonym(&app, "127.0.0.1"),
        client_pseudonym(&app, "203.0.113.8"),
    );
    assert!(
        failures
            .iter()
            .any(|(actor, detail)| actor.starts_with("reviewer:")
                && *detail == format!("1 in a row, from {proxy}")),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|(actor, detail)| *actor == format!("client@{client}")
                && *detail == format!("unknown ID \"nobody\", 1 in a row, from {client}")),
        "{failures:?}"
    );
    // The office login too.
    let office = app
        .client
        .post(app.api("/auth/login"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "user_id": "KJ0000000000", "password": "whatever" }))
        .send()
        .await
        .unwrap();
    problem(office, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let office_failures = app.audited("office_login_failed").await;
    let office_client = client_pseudonym(&app, "203.0.113.9");
    assert!(
        office_failures
            .iter()
            .any(|(actor, _)| *actor == format!("client@{office_client}")),
        "{office_failures:?}"
    );
    // No entry names an address in clear.
    for (actor, detail) in failures.iter().chain(&office_failures) {
        for address in ["127.0.0.1", "203.0.113"] {
            assert!(
                !actor.contains(address) && !detail.contains(address),
                "{actor} {detail}"
            );
        }
    }
}

crate::on_both_backends!(
    one_client_gets_its_attempts_then_429_while_others_still_log_in,
    all_clients_together_are_throttled_too,
    a_full_password_queue_answers_503_at_once_and_never_500,
    every_failed_login_is_audited_with_its_client_pseudonym,
);
