//! The security-e-mail path: registration proven by a 6-digit code, and the lost-password
//! reset that answers alike whether or not the pair matches.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, Backend, TestApp};

const USER: &str = "KJ1311111111";
const PASSWORD: &str = "current-password-77";

pub(crate) async fn logged_in(app: &TestApp) -> String {
    app.create_office_account("13", "1311111111", USER, PASSWORD)
        .await;
    let session: Value = app
        .client
        .post(app.api("/auth/login"))
        .json(&json!({ "user_id": USER, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn register(app: &TestApp, token: &str, email: &str) {
    let sent = app
        .client
        .put(app.api("/account/security-email"))
        .bearer_auth(token)
        .json(&json!({ "email": email, "email_confirmation": email, "current_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let code = six_digit_code(app, email, 1).await;
    let registered = app
        .client
        .post(app.api("/account/security-email/verification"))
        .bearer_auth(token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::OK);
}

async fn six_digit_code(app: &TestApp, email: &str, n: usize) -> String {
    let mails = app.wait_for_mails(email, n).await;
    let body = &mails[0].body;
    assert!(body.contains("確認コードの有効期間は10分です。"), "{body}");
    let code = crate::helpers::code_in(body);
    assert_eq!(code.len(), 6);
    code
}

async fn start_reset(app: &TestApp, user_id: &str, email: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.api("/password-resets"))
        .json(&json!({ "user_id": user_id, "security_email": email }))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn post_reset(
    app: &TestApp,
    started: &Value,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.api(&format!(
            "/password-resets/{}/{action}",
            started["id"].as_str().unwrap()
        )))
        .bearer_auth(started["token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn a_security_email_is_registered_with_a_six_digit_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    let mismatch = app
        .client
        .put(app.api("/account/security-email"))
        .bearer_auth(&token)
        .json(&json!({ "email": "sec@example.jp", "email_confirmation": "other@example.jp", "current_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let body = problem(
        mismatch,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("セキュリティ用メールアドレス（確認用）"));

    app.client
        .put(app.api("/account/security-email"))
        .bearer_auth(&token)
        .json(&json!({ "email": "sec@example.jp", "email_confirmation": "sec@example.jp", "current_password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let code = six_digit_code(&app, "sec@example.jp", 1).await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let refused = app
        .client
        .post(app.api("/account/security-email/verification"))
        .bearer_auth(&token)
        .json(&json!({ "code": wrong }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "wrong_code").await["attempts_left"],
        4
    );
    let registered: Value = app
        .client
        .post(app.api("/account/security-email/verification"))
        .bearer_auth(&token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(registered["email"], "sec@example.jp");
}

async fn a_reset_with_the_registered_pair_sets_a_new_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    register(&app, &token, "sec@example.jp").await;

    let (status, started) = start_reset(&app, USER, "sec@example.jp").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let code = six_digit_code(&app, "sec@example.jp", 2).await;
    // No password before the code is verified.
    problem(
        post_reset(
            &app,
            &started,
            "password",
            json!({ "new_password": "brand-new-pass-1" }),
        )
        .await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
    assert_eq!(
        post_reset(&app, &started, "verification", json!({ "code": code }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let weak = post_reset(
        &app,
        &started,
        "password",
        json!({ "new_password": "short" }),
    )
    .await;
    problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let done = post_reset(
        &app,
        &started,
        "password",
        json!({ "new_password": "brand-new-pass-1" }),
    )
    .await;
    assert_eq!(done.status(), StatusCode::OK);
    // Whoever was logged in (perhaps the one who made the reset necessary) is logged out.
    problem(
        app.client
            .delete(app.api("/auth/session"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let login = app
        .client
        .post(app.api("/auth/login"))
        .json(&json!({ "user_id": USER, "password": "brand-new-pass-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    // Single use.
    problem(
        post_reset(
            &app,
            &started,
            "password",
            json!({ "new_password": "another-pass-22" }),
        )
        .await,
        StatusCode::CONFLICT,
        "no_active_code",
    )
    .await;
}

async fn a_reset_answers_alike_whether_or_not_the_pair_matches(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    register(&app, &token, "sec@example.jp").await;

    let (matching_status, matching) = start_reset(&app, USER, "sec@example.jp").await;
    let (wrong_status, wrong_pair) = start_reset(&app, USER, "guess@example.jp").await;
    let (unknown_status, unknown) = start_reset(&app, "KJ0000000000", "sec@example.jp").await;
    assert_eq!(
        (matching_status, wrong_status, unknown_status),
        (
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED
        )
    );
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&matching), keys(&wrong_pair));
    assert_eq!(keys(&matching), keys(&unknown));
    // Only the registered address got a code.
    let guessed = app.mailbox().messages("guess@example.jp").await.unwrap();
    assert!(guessed.is_empty());
    // A non-matching reset fails exactly like a wrong code, try after try.
    let refused = post_reset(
        &app,
        &wrong_pair,
        "verification",
        json!({ "code": "123456" }),
    )
    .await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "wrong_code").await["attempts_left"],
        4
    );
}

async fn a_reset_code_dies_after_ten_minutes_and_after_five_wrong_tries(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    register(&app, &token, "sec@example.jp").await;
    let (_, late) = start_reset(&app, USER, "sec@example.jp").await;
    let code = six_digit_code(&app, "sec@example.jp", 2).await;
    app.advance(Duration::from_secs(10 * 60));
    problem(
        post_reset(&app, &late, "verification", json!({ "code": code })).await,
        StatusCode::GONE,
        "code_expired",
    )
    .await;

    let (_, guessed) = start_reset(&app, USER, "sec@example.jp").await;
    for _ in 0..4 {
        problem(
            post_reset(&app, &guessed, "verification", json!({ "code": "000000" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
    }
    problem(
        post_reset(&app, &guessed, "verification", json!({ "code": "000000" })).await,
        StatusCode::TOO_MANY_REQUESTS,
        "code_locked",
    )
    .await;
    let real = six_digit_code(&app, "sec@example.jp", 3).await;
    problem(
        post_reset(&app, &guessed, "verification", json!({ "code": real })).await,
        StatusCode::TOO_MANY_REQUESTS,
        "code_locked",
    )
    .await;
}

/// A reset verified with its code, ready for the new password.
async fn verified_reset(app: &TestApp, email: &str, mails_so_far: usize) -> Value {
    let (status, started) = start_reset(app, USER, email).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let code = six_digit_code(app, email, mails_so_far + 1).await;
    assert_eq!(
        post_reset(app, &started, "verification", json!({ "code": code }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    started
}

async fn a_verified_reset_expires_and_a_finished_one_closes_the_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    register(&app, &token, "keys@example.jp").await;

    // Verified, then left for more than 10 minutes: it no longer sets a password.
    let stale = verified_reset(&app, "keys@example.jp", 1).await;
    app.advance(std::time::Duration::from_secs(10 * 60 + 1));
    problem(
        post_reset(
            &app,
            &stale,
            "password",
            json!({ "new_password": "brand-new-pass-1" }),
        )
        .await,
        StatusCode::GONE,
        "code_expired",
    )
    .await;

    // Two resets verified; finishing one ends the other.
    let first = verified_reset(&app, "keys@example.jp", 2).await;
    let second = verified_reset(&app, "keys@example.jp", 3).await;
    let done = post_reset(
        &app,
        &second,
        "password",
        json!({ "new_password": "brand-new-pass-1" }),
    )
    .await;
    assert_eq!(done.status(), StatusCode::OK);
    problem(
        post_reset(
            &app,
            &first,
            "password",
            json!({ "new_password": "another-pass-22" }),
        )
        .await,
        StatusCode::CONFLICT,
        "no_active_code",
    )
    .await;
}

async fn the_security_email_hears_of_every_application_approval_and_password_change(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    register(&app, &token, "sec@example.jp").await;
    // Someone applies for this office with another address.
    let created = app
        .submitted_application("1311111111", "13", "someone@example.jp")
        .await;
    let mails = app.wait_for_mails("sec@example.jp", 2).await;
    assert_eq!(mails[0].subject, "ログイン情報に関するお知らせ(介護保険)");
    let body = &mails[0].body;
    assert!(
        body.contains("ログイン情報の再発行申請が送信されました"),
        "{body}"
    );
    assert!(
        body.contains("someone@example.jp") && body.contains("お心当たりがない場合"),
        "{body}"
    );
    // The approval, confirmed by a second reviewer.
    app.approve_four_eyes(&created).await;
    let mails = app.wait_for_mails("sec@example.jp", 3).await;
    assert!(mails[0].body.contains("承認されました"));
    // A password change.
    let changed = app
        .client
        .post(app.api("/auth/password"))
        .bearer_auth(&token)
        .json(&json!({ "current_password": PASSWORD, "new_password": "changed-password-88" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let mails = app.wait_for_mails("sec@example.jp", 4).await;
    assert!(mails[0].body.contains("パスワードが変更されました"));
}

async fn put_security_email(
    app: &TestApp,
    token: &str,
    email: &str,
    current_password: &str,
) -> reqwest::Response {
    app.client
        .put(app.api("/account/security-email"))
        .bearer_auth(token)
        .json(&json!({
            "email": email,
            "email_confirmation": email,
            "current_password": current_password,
        }))
        .send()
        .await
        .unwrap()
}

async fn a_security_email_change_needs_the_current_password_and_tells_the_old_address(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = logged_in(&app).await;
    register(&app, &token, "old@example.jp").await;

    // A token alone does not choose where a reset goes.
    let missing = problem(
        put_security_email(&app, &token, "new@example.jp", "").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(missing["errors"][0]["field"], "current_password");
    assert_eq!(missing["errors"][0]["code"], "required");
    let wrong = problem(
        put_security_email(&app, &token, "new@example.jp", "not-the-password").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    assert_eq!(wrong["errors"][0]["code"], "unknown_value");
    // Nothing was mailed to the new address for either.
    assert!(app
        .mailbox()
        .messages("new@example.jp")
        .await
        .unwrap()
        .is_empty());

    // The wrong one counted as a failed login: two more lock the user ID for this address.
    for _ in 0..2 {
        put_security_email(&app, &token, "new@example.jp", "not-the-password").await;
    }
    problem(
        put_security_email(&app, &token, "new@example.jp", PASSWORD).await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    app.advance(Duration::from_secs(31 * 60));
    let token = logged_in(&app).await;

    // With the password, the code goes to the new address; its confirmation tells the old one.
    let old_mails = app
        .mailbox()
        .messages("old@example.jp")
        .await
        .unwrap()
        .len();
    assert_eq!(
        put_security_email(&app, &token, "new@example.jp", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let code = six_digit_code(&app, "new@example.jp", 1).await;
    let registered = app
        .client
        .post(app.api("/account/security-email/verification"))
        .bearer_auth(&token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::OK);
    // The mailbox lists the newest first.
    let told = app.wait_for_mails("old@example.jp", old_mails + 1).await;
    let alert = &told[0];
    assert!(
        alert
            .body
            .contains("セキュリティ用メールアドレスが変更されました"),
        "{}",
        alert.body
    );
    assert!(alert.body.contains(USER));
    assert!(!alert.body.contains("new@example.jp"));
}

crate::on_both_backends!(
    a_security_email_change_needs_the_current_password_and_tells_the_old_address,
    a_verified_reset_expires_and_a_finished_one_closes_the_others,
    the_security_email_hears_of_every_application_approval_and_password_change,
    a_security_email_is_registered_with_a_six_digit_code,
    a_reset_with_the_registered_pair_sets_a_new_password,
    a_reset_answers_alike_whether_or_not_the_pair_matches,
    a_reset_code_dies_after_ten_minutes_and_after_five_wrong_tries,
);
