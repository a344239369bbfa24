//! An attacker guessing the 4-digit code: against one application, and spread over many
//! applications and client addresses; and whether the wrong-code answer's timing tells how
//! many digits were right. (Tokens of another prefecture and forged, expired and `alg: none`
//! tokens are in `review.rs`.)

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{office_number, problem, spawn_app_with, Backend, Created, TestApp};

const ALL_CODES: u32 = 10_000;

/// Every code but `known`, in order: an attacker who never hits the right code by luck
/// makes the server evaluate as many guesses as the limits allow.
fn guesses_except(known: &[String]) -> Vec<String> {
    (0..ALL_CODES)
        .map(|n| format!("{n:04}"))
        .filter(|guess| !known.contains(guess))
        .collect()
}

/// Guesses the server judged (right or wrong), from the audit log.
async fn judged_guesses(app: &TestApp, created: &Created) -> usize {
    app.audit_actions(created)
        .await
        .iter()
        .filter(|a| *a == "code_wrong" || *a == "code_locked")
        .count()
}

async fn trying_all_codes_against_one_application_is_stopped_by_the_limits(backend: Backend) {
    // The attacker has as many client addresses as it likes: the per-address limit is lifted,
    // so only the limits of the code itself stand in the way.
    let app = spawn_app_with(backend, &[("REISSUE_REQUESTS_PER_CLIENT", "1000000")]).await;
    let email = "target@example.jp";
    let (created, first_code) = app.application_with_code(email).await;
    let mut known = vec![first_code];
    let mut guesses = guesses_except(&known).into_iter();
    // Sequentially while the server still judges guesses, asking for a new code whenever one
    // is locked, as an attacker would.
    let mut locked_out = false;
    while !locked_out {
        let guess = guesses.next().unwrap();
        let response = app.verify(&created, &guess).await;
        match response.status() {
            StatusCode::UNPROCESSABLE_ENTITY => {}
            StatusCode::TOO_MANY_REQUESTS => {
                app.advance(Duration::from_secs(61));
                if app.resend_code(&created).await.status() == StatusCode::OK {
                    known.push(app.read_code_from_mailbox(email, known.len() + 1).await);
                } else {
                    locked_out = true;
                }
            }
            other => panic!("unexpected answer {other} to guess {guess}"),
        }
    }
    // Every remaining code (thousands, sent concurrently) is refused unjudged, and so is the
    // right one.
    let rest: Vec<String> = guesses
        .filter(|guess| !known.contains(guess))
        .chain(known.iter().cloned())
        .collect();
    let tried_in_all = ALL_CODES as usize - (known.len() - 1);
    let answers: Vec<StatusCode> = futures_util::stream::iter(rest)
        .map(|guess| {
            let (app, created) = (&app, &created);
            async move { app.verify(created, &guess).await.status() }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        answers.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "after the lock-out every guess is refused: {:?}",
        answers
            .iter()
            .filter(|s| **s != StatusCode::TOO_MANY_REQUESTS)
            .collect::<Vec<_>>()
    );
    let judged = judged_guesses(&app, &created).await;
    // 5 tries for each of the 3 codes an application may receive.
    assert_eq!(judged, 15, "guesses judged");
    let status: Value = app.get(&created).await.json().await.unwrap();
    assert_ne!(status["status"], "verified");
    eprintln!(
        "one application: {tried_in_all} codes tried, {judged} judged; best success \
         probability {:.2} %",
        judged as f64 / f64::from(ALL_CODES) * 100.0
    );
}

async fn guesses_spread_over_offices_and_client_addresses_are_capped_per_address(backend: Backend) {
    // The attacker wants the victim's address verified on some application, and spreads the
    // guesses over 30 offices and a new client address for every request.
    let app = spawn_app_with(backend, &[("REISSUE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.import_offices(0, 30).await;
    let victim = "victim@example.jp";
    let (mut judged, mut refused, mut codes_mailed) = (0, 0, 0);
    let mut last_with_code = None;
    for office in 0..30 {
        let created = app.create_application(&office_number(office), victim).await;
        if app.choose_prefecture(&created, "13").await.status() != StatusCode::OK {
            continue; // The address's code budget is spent.
        }
        codes_mailed += 1;
        let code = app.read_code_from_mailbox(victim, codes_mailed).await;
        for guess in guesses_except(std::slice::from_ref(&code)).iter().take(5) {
            let client = format!("198.51.{}.{}", office, judged + refused + 1);
            let response = app.verify_from(&created, guess, &client).await;
            let body: Value = response.json().await.unwrap();
            match body["code"].as_str() {
                Some("wrong_code" | "code_locked") => judged += 1,
                Some("rate_limited") => refused += 1,
                other => panic!("unexpected answer {other:?}: {body}"),
            }
        }
        last_with_code = Some((created, code));
    }
    // 20 wrong codes per address a day (and 10 codes mailed to it).
    assert_eq!(judged, 20, "judged guesses");
    assert!(
        codes_mailed <= 10,
        "{codes_mailed} codes mailed to one address"
    );
    assert!(refused > 0);
    // Now even the right code waits for the window to pass.
    let (created, code) = last_with_code.unwrap();
    problem(
        app.verify_from(&created, &code, "192.0.2.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    eprintln!(
        "spread over offices and addresses: {judged} guesses judged a day for one address; \
         best success probability {:.2} % a day",
        f64::from(judged) / f64::from(ALL_CODES) * 100.0
    );
}

crate::on_both_backends!(
    trying_all_codes_against_one_application_is_stopped_by_the_limits,
    guesses_spread_over_offices_and_client_addresses_are_capped_per_address,
);

/// A wrong code with no right digit and one with three right digits take the same time to
/// refuse: codes are compared as keyed hashes in constant time, so the answer cannot be used
/// to find the code digit by digit. The limits are lifted to take enough samples; samples of
/// the two kinds alternate so that drift hits both alike. (SQLite only: the comparison does
/// not depend on the backend, and the embedded database adds the least noise.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_code_answer_takes_as_long_whatever_digits_are_right() {
    const SAMPLES: usize = 300;
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("REISSUE_REQUESTS_PER_CLIENT", "1000000"),
            ("REISSUE_CODE_MAX_ATTEMPTS", "1000000"),
            ("REISSUE_WRONG_CODES_PER_OFFICE", "1000000"),
            ("REISSUE_WRONG_CODES_PER_EMAIL", "1000000"),
        ],
    )
    .await;
    let (created, code) = app.application_with_code("timing@example.jp").await;
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    let none_right: String = digits.iter().map(|d| ((d + 5) % 10).to_string()).collect();
    let three_right = format!("{}{}", &code[..3], (digits[3] + 5) % 10);
    let mut timings = [Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES)];
    for sample in 0..2 * SAMPLES + 20 {
        let kind = sample % 2;
        let guess = if kind == 0 { &none_right } else { &three_right };
        let started = Instant::now();
        let response = app.verify(&created, guess).await;
        let elapsed = started.elapsed();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // The first rounds warm up connections and caches.
        if sample >= 20 {
            timings[kind].push(elapsed);
        }
    }
    let [none, three] = timings.map(|mut t| {
        t.sort();
        t[t.len() / 2]
    });
    let difference = none.abs_diff(three);
    eprintln!("median wrong-code answer: no digit right {none:?}, three right {three:?}");
    assert!(
        difference < Duration::from_micros(500).max(none / 5),
        "the answer's time depends on the right digits: {none:?} vs {three:?}"
    );
}
