//! Four-eyes issuance (DESIGN.md "Sessions, MFA and four-eyes issuance"): an approval waits
//! for a second reviewer of the same prefecture before any temporary password exists; the
//! approver cannot confirm it; the confirmer may send it back with a reason; printing a posted
//! notice again needs the same second confirmation and alerts the office's security e-mail.
//! `REISSUE_FOUR_EYES=false` keeps the one-step approval.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, Backend, Created, TestApp};
use crate::security_email::{logged_in, register};

/// A submitted application of 1311111111 (東京都), approved by `demo-tokyo` only; returns it
/// and the approver's token.
async fn awaiting_confirmation(app: &TestApp, email: &str) -> (Created, String) {
    let created = app.submitted_application("1311111111", "13", email).await;
    let approver = app.admin_token("demo-tokyo").await;
    let detail = app.review_and_approve(&approver, &created).await;
    assert_eq!(detail["application"]["status"], "awaiting_confirmation");
    assert_eq!(detail["application"]["status_label"], "二次承認待ち");
    (created, approver)
}

async fn confirmation(
    app: &TestApp,
    token: &str,
    created: &Created,
    body: Value,
) -> reqwest::Response {
    app.admin_post(
        token,
        &format!("/applications/{}/confirmation", created.id),
        &body,
    )
    .await
}

/// Messages still waiting in the outbox (none once the worker has delivered everything).
async fn pending_mail(app: &TestApp) -> i64 {
    app.context
        .db
        .run(reissue_api::db::outbox::backlog)
        .await
        .unwrap()
        .pending
}

fn actions(detail: &Value) -> Vec<String> {
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_approval_waits_for_a_second_reviewer_with_no_temporary_password_yet(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, approver) = awaiting_confirmation(&app, "wait@example.jp").await;
    let detail: Value = app
        .admin_get(&approver, &format!("/applications/{}", created.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["approval"]["approved_by"],
        "東京都国保連合会 審査担当（デモ）"
    );
    assert_eq!(detail["approval"]["approved_by_you"], true);
    assert!(detail["approval"]["approved_at"].is_string());
    assert!(detail["approval"]["confirmed_by"].is_null());
    // No notice and no temporary password: nothing to print.
    problem(
        app.admin_get(&approver, &format!("/applications/{}/notice", created.id))
            .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    let id = created.id.clone();
    let notice = app
        .context
        .db
        .run(move |conn| reissue_api::domain::accounts::current_notice(conn, &id))
        .await
        .unwrap();
    assert!(notice.is_none(), "no notice before the confirmation");
    assert!(!actions(&detail).contains(&"notice_issued".to_owned()));
    // And no result mail: the outbox is empty and only the code mail arrived.
    assert_eq!(pending_mail(&app).await, 0);
    let mails = app.mailbox().messages("wait@example.jp").await.unwrap();
    assert_eq!(mails.len(), 1, "only the code mail: {mails:?}");
    // The queue has a 二次承認待ち filter.
    let second = app.admin_token("demo-tokyo-2").await;
    let waiting: Value = app
        .admin_get(&second, "/applications?status=awaiting_confirmation")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["total"], 1);
    assert_eq!(waiting["counts"]["awaiting_confirmation"], 1);
    assert_eq!(waiting["items"][0]["id"], created.id.as_str());
    // The second reviewer sees who approved, and that it was not them.
    let seen: Value = app
        .admin_get(&second, &format!("/applications/{}", created.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["approval"]["approved_by_you"], false);
    // The applicant sees it is not decided yet.
    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["status"], "awaiting_confirmation");
}

async fn the_approver_cannot_confirm_and_another_prefecture_does_not_see_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, approver) = awaiting_confirmation(&app, "self@example.jp").await;
    for body in [
        json!({ "confirm": true }),
        json!({ "confirm": false, "reason": "自分で取り消したい" }),
    ] {
        let refused = problem(
            confirmation(&app, &approver, &created, body).await,
            StatusCode::FORBIDDEN,
            "same_reviewer",
        )
        .await;
        assert!(refused["detail"]
            .as_str()
            .unwrap()
            .contains("別の審査担当者"));
    }
    // A reviewer of another prefecture does not even see it.
    let tottori = app.admin_token("demo-tottori-2").await;
    problem(
        confirmation(&app, &tottori, &created, json!({ "confirm": true })).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    let still: Value = app
        .admin_get(&approver, &format!("/applications/{}", created.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["application"]["status"], "awaiting_confirmation");
    assert_eq!(pending_mail(&app).await, 0);
}

async fn a_second_reviewer_confirms_then_the_notice_and_result_mail_exist(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, approver) = awaiting_confirmation(&app, "confirm@example.jp").await;
    let second = app.admin_token("demo-tokyo-2").await;
    let approved = app.confirm_approval(&second, &created).await;
    assert_eq!(approved["application"]["status_label"], "承認");
    let approval = &approved["approval"];
    assert_eq!(approval["approved_by"], "東京都国保連合会 審査担当（デモ）");
    assert_eq!(
        approval["confirmed_by"],
        "東京都国保連合会 審査担当2（デモ）"
    );
    assert!(approval["confirmed_at"].is_string());
    assert_eq!(approval["approved_by_you"], false);
    let history = approved["history"].as_array().unwrap();
    let entry = |action: &str| {
        history
            .iter()
            .find(|h| h["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {history:?}"))
            .clone()
    };
    assert_ne!(
        entry("application_approved")["actor"],
        entry("approval_confirmed")["actor"],
        "two reviewers are named in the history"
    );
    let position = |name: &str| actions(&approved).iter().position(|a| a == name).unwrap();
    assert!(position("approval_confirmed") < position("notice_issued"));
    // The notice prints, with a temporary password.
    let notice = app
        .admin_get(&approver, &format!("/applications/{}/notice", created.id))
        .await;
    assert_eq!(notice.status(), StatusCode::OK);
    assert!(notice.text().await.unwrap().contains("notice-password"));
    // The result mail went out.
    let mails = app.wait_for_mails("confirm@example.jp", 2).await;
    assert_eq!(mails[0].subject, "ログイン情報再発行申請結果通知");
    assert!(mails[0].body.contains("[審査結果]\n\n承認\n"));
    // Confirmed once: a second confirmation is refused.
    problem(
        confirmation(&app, &second, &created, json!({ "confirm": true })).await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
}

async fn sending_back_needs_a_reason_and_returns_the_application_to_review(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, approver) = awaiting_confirmation(&app, "back@example.jp").await;
    let second = app.admin_token("demo-tokyo-2").await;
    let missing = problem(
        confirmation(&app, &second, &created, json!({ "confirm": false })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(missing["errors"][0]["field"], "reason");
    assert_eq!(missing["errors"][0]["code"], "required");
    let blank = problem(
        confirmation(
            &app,
            &second,
            &created,
            json!({ "confirm": false, "reason": "  " }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(blank["errors"][0]["field"], "reason");
    let unsaid = problem(
        confirmation(&app, &second, &created, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(unsaid["errors"][0]["field"], "confirm");

    let reason = "事業所台帳の電話番号で本人確認ができていません。";
    let sent_back = confirmation(
        &app,
        &second,
        &created,
        json!({ "confirm": false, "reason": reason }),
    )
    .await;
    assert_eq!(sent_back.status(), StatusCode::OK);
    let sent_back: Value = sent_back.json().await.unwrap();
    assert_eq!(sent_back["application"]["status"], "in_review");
    assert!(sent_back["approval"].is_null());
    let entry = sent_back["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"] == "approval_sent_back")
        .cloned()
        .unwrap();
    assert_eq!(entry["detail"], reason);
    assert!(app
        .audit_actions(&created)
        .await
        .contains(&"approval_sent_back".to_owned()));
    // No password, no mail; the application can be approved again.
    assert_eq!(pending_mail(&app).await, 0);
    assert_eq!(
        app.mailbox()
            .messages("back@example.jp")
            .await
            .unwrap()
            .len(),
        1
    );
    let again = app
        .admin_post(
            &approver,
            &format!("/applications/{}/decision", created.id),
            &json!({ "decision": "approved" }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["application"]["status"], "awaiting_confirmation");
}

async fn a_reprint_after_posting_needs_a_second_reviewer_and_alerts_the_security_email(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let office = logged_in(&app).await;
    register(&app, &office, "sec@example.jp").await;
    let created = app
        .submitted_application("1311111111", "13", "reprint@example.jp")
        .await;
    let (first, _) = app.approve_four_eyes(&created).await;
    let second = app.admin_token("demo-tokyo-2").await;
    // Code, application, approval.
    app.wait_for_mails("sec@example.jp", 3).await;
    let path = format!("/applications/{}", created.id);
    // Before it is posted, the notice prints as it is: there is nothing to ask for.
    let first_print = app.admin_get(&first, &format!("{path}/notice")).await;
    assert_eq!(first_print.status(), StatusCode::OK);
    problem(
        app.admin_post(
            &first,
            &format!("{path}/reprint-request"),
            &json!({ "reason": "x" }),
        )
        .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    let mailed = app
        .admin_post(&first, &format!("{path}/notice-mailed"), &json!({}))
        .await;
    assert_eq!(mailed.status(), StatusCode::OK);
    let mailed: Value = mailed.json().await.unwrap();
    assert!(mailed["notice_mailed_at"].is_string());
    assert_eq!(mailed["reprint_required"], true);

    // Printing again now needs a confirmed request.
    problem(
        app.admin_get(&first, &format!("{path}/notice")).await,
        StatusCode::CONFLICT,
        "reprint_confirmation_required",
    )
    .await;
    let no_reason = problem(
        app.admin_post(
            &first,
            &format!("{path}/reprint-request"),
            &json!({ "reason": " " }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(no_reason["errors"][0]["field"], "reason");
    problem(
        app.admin_post(
            &second,
            &format!("{path}/reprint-confirmation"),
            &json!({ "confirm": true }),
        )
        .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    let requested = app
        .admin_post(
            &first,
            &format!("{path}/reprint-request"),
            &json!({ "reason": "宛先不明で返送された" }),
        )
        .await;
    assert_eq!(requested.status(), StatusCode::OK);
    let requested: Value = requested.json().await.unwrap();
    assert_eq!(
        requested["reprint_request"]["reason"],
        "宛先不明で返送された"
    );
    assert_eq!(requested["reprint_request"]["requested_by_you"], true);
    // Still not printable, and the requester cannot confirm their own request.
    problem(
        app.admin_get(&first, &format!("{path}/notice")).await,
        StatusCode::CONFLICT,
        "reprint_confirmation_required",
    )
    .await;
    problem(
        app.admin_post(
            &first,
            &format!("{path}/reprint-confirmation"),
            &json!({ "confirm": true }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "same_reviewer",
    )
    .await;
    let tottori = app.admin_token("demo-tottori").await;
    problem(
        app.admin_post(
            &tottori,
            &format!("{path}/reprint-confirmation"),
            &json!({ "confirm": true }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    // No new password yet: the security e-mail has heard nothing more.
    assert_eq!(pending_mail(&app).await, 0);
    assert_eq!(
        app.mailbox()
            .messages("sec@example.jp")
            .await
            .unwrap()
            .len(),
        3
    );

    let confirmed = app
        .admin_post(
            &second,
            &format!("{path}/reprint-confirmation"),
            &json!({ "confirm": true }),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert!(confirmed["reprint_request"].is_null());
    assert!(
        confirmed["notice_mailed_at"].is_null(),
        "a new notice waits"
    );
    assert_eq!(confirmed["reprint_required"], false);
    let history = actions(&confirmed);
    let position = |name: &str| history.iter().position(|a| a == name).unwrap();
    assert!(position("notice_mailed") < position("reprint_requested"));
    assert!(position("reprint_requested") < position("reprint_confirmed"));
    assert!(history.iter().filter(|a| *a == "notice_issued").count() == 2);
    // The office's security e-mail is told.
    let mails = app.wait_for_mails("sec@example.jp", 4).await;
    assert_eq!(mails[0].subject, "ログイン情報に関するお知らせ(介護保険)");
    assert!(
        mails[0].body.contains("再び発行されました"),
        "{}",
        mails[0].body
    );
    // The new notice prints, once the reprint was confirmed.
    let reprint = app.admin_get(&first, &format!("{path}/notice")).await;
    assert_eq!(reprint.status(), StatusCode::OK);
}

async fn a_reprint_request_can_be_sent_back_with_a_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "refuse@example.jp")
        .await;
    let (first, _) = app.approve_four_eyes(&created).await;
    let second = app.admin_token("demo-tokyo-2").await;
    let path = format!("/applications/{}", created.id);
    app.admin_post(&first, &format!("{path}/notice-mailed"), &json!({}))
        .await;
    let requested = app
        .admin_post(
            &second,
            &format!("{path}/reprint-request"),
            &json!({ "reason": "届いていないと電話があった" }),
        )
        .await;
    assert_eq!(requested.status(), StatusCode::OK);
    // One request at a time.
    problem(
        app.admin_post(
            &first,
            &format!("{path}/reprint-request"),
            &json!({ "reason": "もう一度" }),
        )
        .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    problem(
        app.admin_post(
            &first,
            &format!("{path}/reprint-confirmation"),
            &json!({ "confirm": false }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let refused = app
        .admin_post(
            &first,
            &format!("{path}/reprint-confirmation"),
            &json!({ "confirm": false, "reason": "投函から3日しか経っていない" }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::OK);
    let refused: Value = refused.json().await.unwrap();
    assert!(refused["reprint_request"].is_null());
    assert_eq!(refused["reprint_required"], true);
    let entry = refused["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"] == "reprint_sent_back")
        .cloned()
        .unwrap();
    assert_eq!(entry["detail"], "投函から3日しか経っていない");
    problem(
        app.admin_get(&first, &format!("{path}/notice")).await,
        StatusCode::CONFLICT,
        "reprint_confirmation_required",
    )
    .await;
}

async fn with_four_eyes_off_one_reviewer_approves_and_reprints_at_once(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_FOUR_EYES", "false")]).await;
    let office = logged_in(&app).await;
    register(&app, &office, "sec-off@example.jp").await;
    let created = app
        .submitted_application("1311111111", "13", "off@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let approved = app.review_and_approve(&token, &created).await;
    assert_eq!(approved["application"]["status"], "approved");
    assert_eq!(
        approved["approval"]["approved_by"],
        "東京都国保連合会 審査担当（デモ）"
    );
    assert!(approved["approval"]["confirmed_by"].is_null());
    let mails = app.wait_for_mails("off@example.jp", 2).await;
    assert!(mails[0].body.contains("[審査結果]\n\n承認\n"));
    let second = app.admin_token("demo-tokyo-2").await;
    problem(
        confirmation(&app, &second, &created, json!({ "confirm": true })).await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    let path = format!("/applications/{}", created.id);
    assert_eq!(
        app.admin_get(&token, &format!("{path}/notice"))
            .await
            .status(),
        StatusCode::OK
    );
    let mailed: Value = app
        .admin_post(&token, &format!("{path}/notice-mailed"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mailed["reprint_required"], false);
    // A reprint after posting issues a new temporary password at once, and the security
    // e-mail hears of it (code, application, approval, reprint).
    assert_eq!(
        app.admin_get(&token, &format!("{path}/notice"))
            .await
            .status(),
        StatusCode::OK
    );
    let mails = app.wait_for_mails("sec-off@example.jp", 4).await;
    assert!(mails[0].body.contains("再び発行されました"));
}

crate::on_both_backends!(
    an_approval_waits_for_a_second_reviewer_with_no_temporary_password_yet,
    the_approver_cannot_confirm_and_another_prefecture_does_not_see_it,
    a_second_reviewer_confirms_then_the_notice_and_result_mail_exist,
    sending_back_needs_a_reason_and_returns_the_application_to_review,
    a_reprint_after_posting_needs_a_second_reviewer_and_alerts_the_security_email,
    a_reprint_request_can_be_sent_back_with_a_reason,
    with_four_eyes_off_one_reviewer_approves_and_reprints_at_once,
);
