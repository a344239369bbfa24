//! Reviewers' second factor: the first login enrols an authenticator app, later logins need
//! its code (each accepted once) or a single-use recovery code, wrong codes count as failed
//! logins, and the operator's `reissue reviewer reset-mfa` starts over.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, Backend, TestApp, REVIEWER_PASSWORD};

async fn login(app: &TestApp, login_id: &str, second: Value) -> reqwest::Response {
    let mut body = json!({ "login_id": login_id, "password": REVIEWER_PASSWORD });
    if let (Some(body), Some(second)) = (body.as_object_mut(), second.as_object()) {
        body.extend(second.clone());
    }
    app.admin_login_with(&body).await
}

async fn console_open(app: &TestApp, token: &str) -> bool {
    app.admin_get(token, "/applications").await.status() == StatusCode::OK
}

fn token_of(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_owned()
}

async fn a_new_reviewer_enrols_an_app_and_then_logs_in_with_its_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .admin_login_attempt("demo-tokyo", REVIEWER_PASSWORD)
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["mfa_enrolment_required"], true);
    let limited = token_of(&first);
    // The first login's session opens only the enrolment.
    assert!(!console_open(&app, &limited).await);

    let enrolment = app.admin_post(&limited, "/mfa/enrolment", &json!({})).await;
    assert_eq!(enrolment.status(), StatusCode::OK);
    let enrolment: Value = enrolment.json().await.unwrap();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        uri.contains("demo-tokyo") && uri.contains("issuer="),
        "{uri}"
    );
    let svg = enrolment["qr_svg"].as_str().unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");

    // A wrong code does not confirm it.
    let now = reissue_e2e::totp_step(app.clock_now());
    let wrong = reissue_e2e::totp_code_at_step(&secret, now + 5).unwrap();
    let refused = problem(
        app.admin_post(
            &limited,
            "/mfa/enrolment/confirmation",
            &json!({ "totp_code": wrong }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "totp_code");

    let code = reissue_e2e::totp_code_at_step(&secret, now).unwrap();
    let confirmed = app
        .admin_post(
            &limited,
            "/mfa/enrolment/confirmation",
            &json!({ "totp_code": code }),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await.unwrap();
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let mut distinct = recovery.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert!(recovery.iter().all(|c| c.len() == 14), "{recovery:?}");
    assert!(console_open(&app, &token_of(&confirmed)).await);
    // The enrolment session ended with the confirmation.
    assert!(
        app.admin_post(&limited, "/mfa/enrolment", &json!({}))
            .await
            .status()
            == StatusCode::UNAUTHORIZED
    );

    // From now on the password alone is not enough; a wrong code is refused.
    problem(
        login(&app, "demo-tokyo", json!({})).await,
        StatusCode::UNAUTHORIZED,
        "mfa_required",
    )
    .await;
    problem(
        login(&app, "demo-tokyo", json!({ "totp_code": wrong })).await,
        StatusCode::UNAUTHORIZED,
        "mfa_invalid",
    )
    .await;
    // The confirmation's code was spent; the next step's code logs in, once.
    problem(
        login(&app, "demo-tokyo", json!({ "totp_code": code })).await,
        StatusCode::UNAUTHORIZED,
        "mfa_invalid",
    )
    .await;
    let next = reissue_e2e::totp_code_at_step(&secret, now + 1).unwrap();
    let session = login(&app, "demo-tokyo", json!({ "totp_code": next })).await;
    assert_eq!(session.status(), StatusCode::OK);
    let session: Value = session.json().await.unwrap();
    assert_eq!(session["mfa_enrolment_required"], false);
    assert!(console_open(&app, &token_of(&session)).await);
    problem(
        login(&app, "demo-tokyo", json!({ "totp_code": next })).await,
        StatusCode::UNAUTHORIZED,
        "mfa_invalid",
    )
    .await;

    // A recovery code logs in once; another reviewer's does not.
    let recovery_login = login(&app, "demo-tokyo", json!({ "recovery_code": recovery[0] })).await;
    assert_eq!(recovery_login.status(), StatusCode::OK);
    problem(
        login(&app, "demo-tokyo", json!({ "recovery_code": recovery[0] })).await,
        StatusCode::UNAUTHORIZED,
        "mfa_invalid",
    )
    .await;
    app.admin_token("demo-tottori").await;
    problem(
        login(
            &app,
            "demo-tottori",
            json!({ "recovery_code": recovery[1] }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "mfa_invalid",
    )
    .await;
    // Both members at once are refused as a malformed request.
    problem(
        login(
            &app,
            "demo-tokyo",
            json!({ "totp_code": "123456", "recovery_code": recovery[2] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

async fn wrong_codes_count_as_failed_logins_and_a_missing_one_does_not(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_LOGINS_PER_CLIENT", "1000")]).await;
    app.admin_token("demo-tokyo").await;
    // The password alone, as often as one likes: answered, not counted.
    for _ in 0..8 {
        problem(
            login(&app, "demo-tokyo", json!({})).await,
            StatusCode::UNAUTHORIZED,
            "mfa_required",
        )
        .await;
    }
    // Five wrong codes lock the login ID (REISSUE_REVIEWER_MAX_FAILED_LOGINS), as five wrong
    // passwords do.
    for _ in 0..4 {
        problem(
            login(&app, "demo-tokyo", json!({ "totp_code": "000000" })).await,
            StatusCode::UNAUTHORIZED,
            "mfa_invalid",
        )
        .await;
    }
    problem(
        login(&app, "demo-tokyo", json!({ "totp_code": "000000" })).await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    let mut authenticator = app.authenticator("demo-tokyo").unwrap();
    let right = app.next_totp_code(&mut authenticator).unwrap();
    problem(
        login(&app, "demo-tokyo", json!({ "totp_code": right })).await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
}

async fn the_operator_resets_a_lost_app_and_the_reviewer_enrols_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token("demo-tottori").await;
    let output = app.reviewer_command(&["reset-mfa", "demo-tottori"]);
    assert!(output.status.success(), "{output:?}");
    assert!(!console_open(&app, &token).await);
    app.set_authenticator("demo-tottori", None);
    let again = app
        .admin_login_attempt("demo-tottori", REVIEWER_PASSWORD)
        .await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["mfa_enrolment_required"], true);
    // The reviewer enrols a new app and works again.
    let token = app.enrol("demo-tottori").await;
    assert!(console_open(&app, &token).await);
    let output = app.reviewer_command(&["reset-mfa", "nobody"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nobody"));
}

crate::on_both_backends!(
    a_new_reviewer_enrols_an_app_and_then_logs_in_with_its_codes,
    wrong_codes_count_as_failed_logins_and_a_missing_one_does_not,
    the_operator_resets_a_lost_app_and_the_reviewer_enrols_again,
);
