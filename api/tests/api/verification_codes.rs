//! The code rules: tries, lifetime, single use, re-sends, limits.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{problem, spawn_app, wrong_code, Backend};

async fn a_wrong_code_says_how_many_tries_are_left(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, code) = app.application_with_code("wrong@example.jp").await;
    let body = problem(
        app.verify(&created, &wrong_code(&code)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
    assert_eq!(body["attempts_left"], 4);
    assert!(body["detail"].as_str().unwrap().contains("あと4回"));
    assert_eq!(body["errors"][0]["field"], "code");
    // The right code still works afterwards.
    assert_eq!(app.verify(&created, &code).await.status(), StatusCode::OK);
}

async fn fifth_wrong_code_locks_the_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, code) = app.application_with_code("lock@example.jp").await;
    for left in (1..=4).rev() {
        let body = problem(
            app.verify(&created, &wrong_code(&code)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
        assert_eq!(body["attempts_left"], left);
    }
    let body = problem(
        app.verify(&created, &wrong_code(&code)).await,
        StatusCode::TOO_MANY_REQUESTS,
        "code_locked",
    )
    .await;
    assert_eq!(body["attempts_left"], 0);
    // Even the right code is refused now: the applicant must ask for a new one.
    problem(
        app.verify(&created, &code).await,
        StatusCode::TOO_MANY_REQUESTS,
        "code_locked",
    )
    .await;
    app.advance(Duration::from_secs(61));
    assert_eq!(app.resend_code(&created).await.status(), StatusCode::OK);
    let new_code = app.read_code_from_mailbox("lock@example.jp", 2).await;
    assert_eq!(
        app.verify(&created, &new_code).await.status(),
        StatusCode::OK
    );
    let actions = app.audit_actions(&created).await;
    assert_eq!(actions.iter().filter(|a| *a == "code_wrong").count(), 4);
    assert_eq!(actions.iter().filter(|a| *a == "code_locked").count(), 1);
}

async fn a_code_expires_after_thirty_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, code) = app.application_with_code("expiry@example.jp").await;
    app.advance(Duration::from_secs(30 * 60 - 1));
    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["status"], "code_sent");
    app.advance(Duration::from_secs(1));
    problem(
        app.verify(&created, &code).await,
        StatusCode::GONE,
        "code_expired",
    )
    .await;
}

async fn a_code_works_only_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, code) = app.application_with_code("once@example.jp").await;
    assert_eq!(app.verify(&created, &code).await.status(), StatusCode::OK);
    problem(
        app.verify(&created, &code).await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
}

async fn resending_kills_the_old_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, old_code) = app.application_with_code("resend@example.jp").await;
    app.advance(Duration::from_secs(61));
    let sent = app.resend_code(&created).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["codes_remaining"], 1);
    let new_code = app.read_code_from_mailbox("resend@example.jp", 2).await;
    if new_code != old_code {
        problem(
            app.verify(&created, &old_code).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
    }
    assert_eq!(
        app.verify(&created, &new_code).await.status(),
        StatusCode::OK
    );
}

async fn resending_too_soon_answers_429_with_retry_after(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, _code) = app.application_with_code("soon@example.jp").await;
    app.advance(Duration::from_secs(20));
    let response = app.resend_code(&created).await;
    assert_eq!(response.headers().get("retry-after").unwrap(), "40");
    let body = problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(body["retry_after"], 40);
}

async fn a_fourth_code_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, _code) = app.application_with_code("fourth@example.jp").await;
    for _ in 0..2 {
        app.advance(Duration::from_secs(61));
        assert_eq!(app.resend_code(&created).await.status(), StatusCode::OK);
    }
    app.advance(Duration::from_secs(61));
    let body = problem(
        app.resend_code(&created).await,
        StatusCode::TOO_MANY_REQUESTS,
        "code_limit_reached",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("3回まで"));
    let mails = app.wait_for_mails("fourth@example.jp", 3).await;
    assert_eq!(mails.len(), 3, "one mail per code: {mails:#?}");
}

async fn a_code_before_choosing_the_prefecture_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_application("1311111111", "order@example.jp")
        .await;
    problem(
        app.resend_code(&created).await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
    problem(
        app.verify(&created, "1234").await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
}

async fn a_malformed_code_is_a_field_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, _code) = app.application_with_code("shape@example.jp").await;
    let body = problem(
        app.verify(&created, "12a").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "code");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("4桁"));
    // A malformed entry does not spend a try.
    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["attempts_left"], 5);
}

crate::on_both_backends!(
    a_wrong_code_says_how_many_tries_are_left,
    fifth_wrong_code_locks_the_code,
    a_code_expires_after_thirty_minutes,
    a_code_works_only_once,
    resending_kills_the_old_code,
    resending_too_soon_answers_429_with_retry_after,
    a_fourth_code_is_refused,
    a_code_before_choosing_the_prefecture_is_refused,
    a_malformed_code_is_a_field_error,
);
