//! Approval → the postal notice with a temporary password → the office's first login with it,
//! the forced password change, the manual's "old password works until then" rule, lock-out.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, Backend, Created, TestApp};

/// Submits an application of `office` in 東京都 and approves it the four-eyes way (approved
/// by `demo-tokyo`, confirmed by `demo-tokyo-2`); returns it and `demo-tokyo`'s token.
async fn approved(app: &TestApp, office: &str, email: &str) -> (Created, String) {
    let created = app.submitted_application(office, "13", email).await;
    let (token, _) = app.approve_four_eyes(&created).await;
    (created, token)
}

/// The notice's user ID and temporary password (read from the printable HTML).
async fn print_notice(app: &TestApp, token: &str, created: &Created) -> (String, String, String) {
    let response = app
        .admin_get(token, &format!("/applications/{}/notice", created.id))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();
    crate::security_headers::assert_strict_policy_admits(&headers, &html);
    let field = |testid: &str| {
        let marker = format!("data-testid=\"{testid}\">");
        let start = html.find(&marker).unwrap() + marker.len();
        html[start..start + html[start..].find('<').unwrap()].to_owned()
    };
    (field("notice-user-id"), field("notice-password"), html)
}

async fn login(app: &TestApp, user_id: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.api("/auth/login"))
        .json(&json!({ "user_id": user_id, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn change_password(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
) -> reqwest::Response {
    app.client
        .post(app.api("/auth/password"))
        .bearer_auth(token)
        .json(&json!({ "current_password": current, "new_password": new }))
        .send()
        .await
        .unwrap()
}

async fn approval_gives_a_notice_whose_temporary_password_logs_in_and_must_be_changed(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (created, token) = approved(&app, "1311111111", "notice@example.jp").await;
    let (user_id, password, html) = print_notice(&app, &token, &created).await;
    assert!(html.contains("電子請求ログイン情報再発行通知書"));
    assert!(
        html.contains("東京都千代田区丸の内"),
        "the ledger address is on the notice"
    );
    assert!(html.contains("東京都国民健康保険団体連合会"));
    assert!(user_id.starts_with("KJ"));
    assert_eq!(password.len(), 12);
    // Printing again before it is posted shows the same password.
    assert_eq!(print_notice(&app, &token, &created).await.1, password);

    let session: Value = login(&app, &user_id, &password).await.json().await.unwrap();
    assert_eq!(session["password_change_required"], true);
    let limited = session["access_token"].as_str().unwrap();

    for (new, why) in [
        ("short", "invalid_length"),
        (password.as_str(), "invalid_format"),
        (&format!("x{user_id}x-long"), "invalid_format"),
    ] {
        let body = problem(
            change_password(&app, limited, &password, new).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "new_password");
        assert_eq!(body["errors"][0]["code"], why);
    }
    let wrong_current = problem(
        change_password(&app, limited, "not-it", "kaigo-jimusho-2026").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(wrong_current["errors"][0]["field"], "current_password");
    let changed: Value = change_password(&app, limited, &password, "kaigo-jimusho-2026")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["password_change_required"], false);

    let again: Value = login(&app, &user_id, "kaigo-jimusho-2026")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["password_change_required"], false);
    problem(
        login(&app, &user_id, &password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

async fn the_old_password_works_until_the_first_login_with_the_temporary_password(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.create_office_account("13", "1311111111", "KJ1311111111", "old-password-1234")
        .await;
    let (created, token) = approved(&app, "1311111111", "old@example.jp").await;
    let (user_id, temporary, _) = print_notice(&app, &token, &created).await;
    assert_eq!(user_id, "KJ1311111111", "the existing user ID is kept");
    // Before: the old password still works (and needs no change).
    let before: Value = login(&app, &user_id, "old-password-1234")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["password_change_required"], false);
    // The first login with the temporary password retires the old one.
    let first: Value = login(&app, &user_id, &temporary)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["password_change_required"], true);
    problem(
        login(&app, &user_id, "old-password-1234").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // Until the change, the temporary password still logs in, and still demands the change.
    let second: Value = login(&app, &user_id, &temporary)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["password_change_required"], true);
}

async fn a_reprint_after_posting_voids_the_old_temporary_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, token) = approved(&app, "1311111111", "reprint@example.jp").await;
    let (user_id, first, _) = print_notice(&app, &token, &created).await;
    let mailed = app
        .admin_post(
            &token,
            &format!("/applications/{}/notice-mailed", created.id),
            &json!({}),
        )
        .await;
    assert_eq!(mailed.status(), StatusCode::OK);
    let mailed: Value = mailed.json().await.unwrap();
    let actions: Vec<&str> = mailed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"notice_issued")
            && actions.contains(&"notice_printed")
            && actions.contains(&"notice_mailed")
    );
    problem(
        app.admin_post(
            &token,
            &format!("/applications/{}/notice-mailed", created.id),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;

    // Printing again needs a reprint request confirmed by a second reviewer (four-eyes).
    problem(
        app.admin_get(&token, &format!("/applications/{}/notice", created.id))
            .await,
        StatusCode::CONFLICT,
        "reprint_confirmation_required",
    )
    .await;
    let second_reviewer = app.admin_token("demo-tokyo-2").await;
    app.reprint_four_eyes(&token, &second_reviewer, &created)
        .await;
    let (_, second, _) = print_notice(&app, &token, &created).await;
    assert_ne!(
        first, second,
        "a reprint after posting issues a new temporary password"
    );
    problem(
        login(&app, &user_id, &first).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        login(&app, &user_id, &second).await.status(),
        StatusCode::OK
    );
}

async fn a_temporary_password_expires_after_21_days(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, token) = approved(&app, "1311111111", "late@example.jp").await;
    let (user_id, password, _) = print_notice(&app, &token, &created).await;
    app.advance(Duration::from_secs(21 * 24 * 60 * 60));
    problem(
        login(&app, &user_id, &password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

async fn the_sealed_copy_of_an_expired_temporary_password_is_forgotten(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, _) = approved(&app, "1311111111", "unprinted@example.jp").await;
    let sealed_copies = || async {
        let id = created.id.clone();
        app.context
            .db
            .run(move |conn| {
                reissue_api::domain::accounts::current_notice(conn, &id)
                    .map(|notice| notice.and_then(|n| n.sealed_password))
            })
            .await
            .unwrap()
    };
    reissue_api::domain::sweeper::sweep_once(&app.context)
        .await
        .unwrap();
    assert!(sealed_copies().await.is_some(), "kept while it can be used");
    app.advance(Duration::from_secs(21 * 24 * 60 * 60 + 1));
    reissue_api::domain::sweeper::sweep_once(&app.context)
        .await
        .unwrap();
    assert_eq!(sealed_copies().await, None);
    assert!(app
        .audit_actions(&created)
        .await
        .contains(&"sealed_password_purged".to_owned()));
    // Printing it now issues a new temporary password, which logs in: like a reprint after
    // posting, once a second reviewer confirmed it.
    let token = app.admin_token("demo-tokyo").await;
    problem(
        app.admin_get(&token, &format!("/applications/{}/notice", created.id))
            .await,
        StatusCode::CONFLICT,
        "reprint_confirmation_required",
    )
    .await;
    let second_reviewer = app.admin_token("demo-tokyo-2").await;
    app.reprint_four_eyes(&token, &second_reviewer, &created)
        .await;
    let (user_id, password, _) = print_notice(&app, &token, &created).await;
    assert_eq!(
        login(&app, &user_id, &password).await.status(),
        StatusCode::OK
    );
}

async fn three_wrong_passwords_lock_the_user_id_for_30_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_office_account("13", "1311111111", "KJ1311111111", "right-password-99")
        .await;
    for _ in 0..2 {
        problem(
            login(&app, "KJ1311111111", "wrong").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let locked = problem(
        login(&app, "KJ1311111111", "wrong").await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    assert!(locked["detail"]
        .as_str()
        .unwrap()
        .contains("までログインできません"));
    problem(
        login(&app, "KJ1311111111", "right-password-99").await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    app.advance(Duration::from_secs(30 * 60 + 1));
    assert_eq!(
        login(&app, "KJ1311111111", "right-password-99")
            .await
            .status(),
        StatusCode::OK
    );
    // An unknown user ID answers like a wrong password.
    problem(
        login(&app, "KJ0000000000", "whatever").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

async fn wrong_current_passwords_count_as_failed_logins(backend: Backend) {
    // Locked for 10 minutes, so the session (30 minutes) outlives the lock.
    let app = spawn_app_with(backend, &[("REISSUE_OFFICE_LOCK_SECONDS", "600")]).await;
    app.create_office_account("13", "1311111111", "KJ1311111111", "right-password-99")
        .await;
    let session: serde_json::Value = login(&app, "KJ1311111111", "right-password-99")
        .await
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    // A wrong login first: the password change's wrong tries add to the same count.
    problem(
        login(&app, "KJ1311111111", "wrong").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let wrong = problem(
        change_password(&app, &token, "not-the-current-1", "another-password-42").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    problem(
        change_password(&app, &token, "not-the-current-2", "another-password-42").await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    // Locked: not even the right current password changes it, nor does a login get in.
    problem(
        change_password(&app, &token, "right-password-99", "another-password-42").await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    problem(
        login(&app, "KJ1311111111", "right-password-99").await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    app.advance(Duration::from_secs(601));
    assert_eq!(
        change_password(&app, &token, "right-password-99", "another-password-42")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn the_notice_is_only_for_approved_applications_of_ones_own_prefecture(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "early@example.jp")
        .await;
    let tokyo = app.admin_token("demo-tokyo").await;
    problem(
        app.admin_get(&tokyo, &format!("/applications/{}/notice", created.id))
            .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    let tottori = app.admin_token("demo-tottori").await;
    problem(
        app.admin_get(&tottori, &format!("/applications/{}/notice", created.id))
            .await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    problem(
        app.admin_post(
            &tottori,
            &format!("/applications/{}/notice-mailed", created.id),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
}

async fn all_unposted_notices_print_in_one_batch(backend: Backend) {
    let app = spawn_app(backend).await;
    let (first, token) = approved(&app, "1311111111", "batch-a@example.jp").await;
    let (second, _) = approved(&app, "1310200021", "batch-b@example.jp").await;
    let batch = app.admin_get(&token, "/notices").await;
    assert_eq!(batch.status(), StatusCode::OK);
    let html = batch.text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"notice-sheet\"").count(), 2);
    assert!(html.contains("請求事業所 A") && html.contains("訪問介護ステーション すみれ"));
    // Posted notices leave the batch.
    app.admin_post(
        &token,
        &format!("/applications/{}/notice-mailed", first.id),
        &json!({}),
    )
    .await;
    let html = app
        .admin_get(&token, "/notices")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches("data-testid=\"notice-sheet\"").count(), 1);
    // The batch shows the same password as the single print.
    let (_, password, _) = print_notice(&app, &token, &second).await;
    assert!(html.contains(&password));
    // Another prefecture's reviewer gets none of them.
    let tottori = app.admin_token("demo-tottori").await;
    let html = app
        .admin_get(&tottori, "/notices")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches("data-testid=\"notice-sheet\"").count(), 0);
}

crate::on_both_backends!(
    all_unposted_notices_print_in_one_batch,
    approval_gives_a_notice_whose_temporary_password_logs_in_and_must_be_changed,
    the_old_password_works_until_the_first_login_with_the_temporary_password,
    a_reprint_after_posting_voids_the_old_temporary_password,
    a_temporary_password_expires_after_21_days,
    the_sealed_copy_of_an_expired_temporary_password_is_forgotten,
    three_wrong_passwords_lock_the_user_id_for_30_minutes,
    wrong_current_passwords_count_as_failed_logins,
    the_notice_is_only_for_approved_applications_of_ones_own_prefecture,
);
