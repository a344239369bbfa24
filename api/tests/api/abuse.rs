//! Budgets across applications: per client address, per office number, per recipient address.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{problem, spawn_app_with, wrong_code, Backend};

async fn a_client_over_its_request_limit_gets_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_REQUESTS_PER_CLIENT", "3")]).await;
    for i in 0..3 {
        app.create_application("1311111111", &format!("c{i}@example.jp"))
            .await;
    }
    let response = app
        .post_application(&json!({
            "office_number": "1311111111",
            "email": "c4@example.jp",
            "email_confirmation": "c4@example.jp",
        }))
        .await;
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // The window slides, counted in slots of a sixtieth of it: the first request is free
    // again an hour after the end of its minute, at most an hour and a minute from now.
    assert!(retry_after > 3540 && retry_after <= 3660, "{retry_after}");
    problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Still refused a second before the announced time, let in at it.
    app.advance(Duration::from_secs(retry_after - 1));
    let early = app
        .post_application(&json!({
            "office_number": "1311111111",
            "email": "c5@example.jp",
            "email_confirmation": "c5@example.jp",
        }))
        .await;
    problem(early, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    app.advance(Duration::from_secs(1));
    app.create_application("1311111111", "c5@example.jp").await;
}

async fn codes_for_one_office_are_budgeted_across_applications(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_CODES_PER_OFFICE", "2")]).await;
    for i in 0..2 {
        let created = app
            .create_application("1311111111", &format!("o{i}@example.jp"))
            .await;
        assert_eq!(
            app.choose_prefecture(&created, "13").await.status(),
            StatusCode::OK
        );
    }
    let third = app.create_application("1311111111", "o3@example.jp").await;
    problem(
        app.choose_prefecture(&third, "13").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // Another office is not affected.
    let other = app.create_application("1310200021", "o3@example.jp").await;
    assert_eq!(
        app.choose_prefecture(&other, "13").await.status(),
        StatusCode::OK
    );
}

async fn wrong_codes_for_one_office_are_budgeted_across_applications(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_WRONG_CODES_PER_OFFICE", "6")]).await;
    let (first, code) = app.application_with_code("w1@example.jp").await;
    for _ in 0..5 {
        app.verify(&first, &wrong_code(&code)).await;
    }
    let second = app.create_application("1311111111", "w2@example.jp").await;
    app.choose_prefecture(&second, "13").await;
    let second_code = app.read_code_from_mailbox("w2@example.jp", 1).await;
    problem(
        app.verify(&second, &wrong_code(&second_code)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_code",
    )
    .await;
    // The office's budget of wrong tries is spent: even the right code must wait.
    problem(
        app.verify(&second, &second_code).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

crate::on_both_backends!(
    a_client_over_its_request_limit_gets_429_with_retry_after,
    codes_for_one_office_are_budgeted_across_applications,
    wrong_codes_for_one_office_are_budgeted_across_applications,
);
