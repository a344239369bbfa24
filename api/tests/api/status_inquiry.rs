//! 申請状況照会 (`POST /reissue-status`): an office asks where its submitted application stands
//! with the 受付番号 and the 通知先メールアドレス. Every pair that names no submitted
//! application gets the same 404; the inquiries are limited per client and per 受付番号.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, Backend, Created, TestApp};
use crate::on_both_backends;

/// The server's limits (`domain::status_inquiry`).
const PER_CLIENT: usize = 30;
const PER_REFERENCE_NUMBER: usize = 10;

impl TestApp {
    /// `POST /reissue-status` with the given fields.
    async fn inquire(&self, reference_number: &str, email: &str) -> Response {
        self.inquire_from(reference_number, email, None).await
    }

    /// [`Self::inquire`] as if from `client_address` (through a trusted proxy).
    async fn inquire_from(
        &self,
        reference_number: &str,
        email: &str,
        client_address: Option<&str>,
    ) -> Response {
        let mut request = self.client.post(self.api("/reissue-status")).json(&json!({
            "reference_number": reference_number,
            "email": email,
        }));
        if let Some(address) = client_address {
            request = request.header("x-forwarded-for", address);
        }
        request.send().await.unwrap()
    }

    /// The 受付番号 of a submitted application.
    async fn reference_number(&self, created: &Created) -> String {
        let view: Value = self.get(created).await.json().await.unwrap();
        view["reference_number"].as_str().unwrap().to_owned()
    }
}

/// The `n`th of some well-formed 受付番号 that no application of these tests has (the chance
/// that one of their few random numbers is among them is negligible).
fn unknown_reference_number(n: usize) -> String {
    const ALPHABET: &[u8] = b"ACEFGHJKMNPRTWXY34679";
    let pick = |i: usize| char::from(ALPHABET[i % ALPHABET.len()]);
    format!(
        "AAAA-AA{}{}",
        pick(n / ALPHABET.len()),
        pick(n % ALPHABET.len())
    )
}

async fn answer(response: Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    response.json().await.unwrap()
}

async fn a_submitted_application_is_awaiting_review(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "status@example.jp")
        .await;
    let reference = app.reference_number(&created).await;
    let view: Value = app.get(&created).await.json().await.unwrap();

    // The number as typed by hand (lower case, no hyphen, full-width) and the address in
    // another case still find it.
    let typed = reference.replace('-', "").to_lowercase();
    let found = answer(app.inquire(&typed, "Status@Example.JP").await).await;
    assert_eq!(found["status"], "submitted");
    assert_eq!(found["status_label"], "審査待ち");
    assert_eq!(found["submitted_at"], view["submitted_at"]);
    for absent in ["decided_at", "notice_mailed_on", "rejection_reason"] {
        assert!(found.get(absent).is_none(), "{absent} in {found}");
    }
}

async fn an_approved_and_posted_application_shows_its_dates(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "approved@example.jp")
        .await;
    let reference = app.reference_number(&created).await;
    app.approve_four_eyes(&created).await;
    let approved = answer(app.inquire(&reference, "approved@example.jp").await).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["status_label"], "承認");
    // Decided when the second reviewer confirmed it (the test clock stood still since).
    let decided_at = time::OffsetDateTime::parse(
        approved["decided_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(decided_at.unix_timestamp(), app.clock_now());
    assert!(approved.get("notice_mailed_on").is_none());
    assert!(approved.get("rejection_reason").is_none());

    // Posted a day later, at 23:30 in Japan (14:30 UTC): the day is Japan's.
    app.advance(Duration::from_secs(24 * 60 * 60));
    let now = app.clock_now();
    let to_1430_utc = (14 * 3600 + 1800 - now.rem_euclid(86_400)).rem_euclid(86_400);
    app.advance(Duration::from_secs(to_1430_utc as u64));
    let approver = app.admin_token("demo-tokyo").await;
    let mailed = app
        .admin_post(
            &approver,
            &format!("/applications/{}/notice-mailed", created.id),
            &json!({}),
        )
        .await;
    assert_eq!(mailed.status(), StatusCode::OK);
    let posted = answer(app.inquire(&reference, "approved@example.jp").await).await;
    let day_in_japan =
        time::OffsetDateTime::from_unix_timestamp(app.clock_now() + 9 * 3600).unwrap();
    let expected = format!(
        "{}-{:02}-{:02}",
        day_in_japan.year(),
        u8::from(day_in_japan.month()),
        day_in_japan.day()
    );
    assert_eq!(posted["notice_mailed_on"], expected.as_str());
    assert_eq!(posted["decided_at"], approved["decided_at"]);
}

async fn a_rejected_application_shows_its_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "rejected@example.jp")
        .await;
    let reference = app.reference_number(&created).await;
    let token = app.admin_token("demo-tokyo").await;
    let path = format!("/applications/{}", created.id);
    let started = app
        .admin_post(&token, &format!("{path}/review"), &json!({}))
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let in_review = answer(app.inquire(&reference, "rejected@example.jp").await).await;
    assert_eq!(in_review["status_label"], "審査中");
    let reason = "事業所台帳の電話番号に連絡がつきませんでした。";
    let rejected = app
        .admin_post(
            &token,
            &format!("{path}/decision"),
            &json!({ "decision": "rejected", "reason": reason }),
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let found = answer(app.inquire(&reference, "rejected@example.jp").await).await;
    assert_eq!(found["status"], "rejected");
    assert_eq!(found["status_label"], "却下");
    assert_eq!(found["rejection_reason"], reason);
    assert!(found["decided_at"].is_string());
}

async fn every_mismatch_gets_the_same_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "owner@example.jp")
        .await;
    let reference = app.reference_number(&created).await;
    // An application verified but never sent has no number: its address finds nothing.
    let (unsent, code) = app.application_with_code("unsent@example.jp").await;
    assert_eq!(app.verify(&unsent, &code).await.status(), StatusCode::OK);

    let mut bodies = Vec::new();
    for (number, email) in [
        (reference.as_str(), "someone-else@example.jp"),
        (unknown_reference_number(0).as_str(), "owner@example.jp"),
        (unknown_reference_number(1).as_str(), "unsent@example.jp"),
    ] {
        let response = app.inquire(number, email).await;
        let mut body = problem(response, StatusCode::NOT_FOUND, "not_found").await;
        assert!(body.get("errors").is_none());
        // Only the request's own id may differ.
        body.as_object_mut().unwrap().remove("request_id");
        bodies.push(body);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
    assert!(
        bodies[0]["detail"]
            .as_str()
            .unwrap()
            .contains("受付番号と通知先メールアドレス"),
        "{}",
        bodies[0]
    );
    // The right pair still answers (no lock-out after three mismatches).
    answer(app.inquire(&reference, "owner@example.jp").await).await;
}

async fn malformed_fields_are_refused_in_japanese(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = problem(
        app.inquire("K7MX-3HP", "jimusho@").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let errors = body["errors"].as_array().unwrap();
    let fields: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("reference_number", "invalid_length"),
            ("email", "invalid_format")
        ]
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("受付番号は"));
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .contains("通知先メールアドレスの形式が正しくありません"));

    // Missing members are required fields, not a malformed body; a letter the numbers never
    // use is named.
    let missing = app
        .client
        .post(app.api("/reissue-status"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = problem(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "required");
    assert_eq!(body["errors"][1]["code"], "required");
    let body = problem(
        app.inquire("K7MX-3HP0", "jimusho@example.jp").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "invalid_character");
}

async fn one_client_gets_exactly_its_inquiries_even_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "client@example.jp")
        .await;
    let reference = app.reference_number(&created).await;
    let numbers: Vec<String> = (0..PER_CLIENT + 10).map(unknown_reference_number).collect();
    let answers = join_all(
        numbers
            .iter()
            .map(|number| app.inquire(number, "x@example.jp")),
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(Response::status).collect();
    let not_found = statuses
        .iter()
        .filter(|s| **s == StatusCode::NOT_FOUND)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((not_found, limited), (PER_CLIENT, 10), "{statuses:?}");
    // Even the right pair now waits, with the shared problem and a Retry-After.
    let refused = app.inquire(&reference, "client@example.jp").await;
    assert!(refused.headers().contains_key("retry-after"));
    problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Applying is counted apart: this client may still start an application.
    app.create_application("1311111111", "again@example.jp")
        .await;
    // After the window the client may ask again.
    app.advance(Duration::from_secs(61 * 60 + 60));
    answer(app.inquire(&reference, "client@example.jp").await).await;
}

async fn one_reference_number_gets_exactly_its_inquiries_from_many_clients(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let created = app
        .submitted_application("1311111111", "13", "guessed@example.jp")
        .await;
    let reference = app.reference_number(&created).await;
    // Someone who knows the number guesses addresses from many clients, all at once.
    let addresses: Vec<String> = (0..32).map(|n| format!("203.0.113.{}", n + 1)).collect();
    let guesses: Vec<String> = (0..32).map(|n| format!("guess{n}@example.jp")).collect();
    let answers = join_all(
        addresses
            .iter()
            .zip(&guesses)
            .map(|(client, email)| app.inquire_from(&reference, email, Some(client))),
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(Response::status).collect();
    let not_found = statuses
        .iter()
        .filter(|s| **s == StatusCode::NOT_FOUND)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (not_found, limited),
        (PER_REFERENCE_NUMBER, 32 - PER_REFERENCE_NUMBER),
        "{statuses:?}"
    );
    // The number is spent for everyone for now, the right address from a new client too;
    // another number from that client is not.
    problem(
        app.inquire_from(&reference, "guessed@example.jp", Some("198.51.100.7"))
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    problem(
        app.inquire_from(
            &unknown_reference_number(5),
            "guessed@example.jp",
            Some("198.51.100.7"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.advance(Duration::from_secs(61 * 60 + 60));
    answer(
        app.inquire_from(&reference, "guessed@example.jp", Some("198.51.100.7"))
            .await,
    )
    .await;
}

on_both_backends!(
    a_submitted_application_is_awaiting_review,
    an_approved_and_posted_application_shows_its_dates,
    a_rejected_application_shows_its_reason,
    every_mismatch_gets_the_same_not_found,
    malformed_fields_are_refused_in_japanese,
    one_client_gets_exactly_its_inquiries_even_at_once,
    one_reference_number_gets_exactly_its_inquiries_from_many_clients,
);
