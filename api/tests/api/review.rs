//! The federation's review over the API: reviewer login and lock-out, the queue of one's own
//! prefecture only, the status transitions allowed and refused, notes and history.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, Backend, REVIEWER_PASSWORD};

async fn a_reviewer_logs_in_with_role_and_prefecture_and_wrong_logins_look_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .admin_login_attempt("demo-tottori", REVIEWER_PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["reviewer"]["prefecture_code"], "31");
    assert_eq!(session["reviewer"]["role"], "supervisor");
    assert_eq!(
        session["access_token"].as_str().unwrap().split('.').count(),
        3
    );

    let wrong_password = problem(
        app.admin_login_attempt("demo-tottori", "wrong-password-123")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown_id = problem(
        app.admin_login_attempt("nobody", "wrong-password-123")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password["detail"], unknown_id["detail"]);
}

async fn the_fifth_failed_login_locks_the_reviewer_for_a_while(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..4 {
        problem(
            app.admin_login_attempt("demo-tokyo", "not-the-password")
                .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let locked = problem(
        app.admin_login_attempt("demo-tokyo", "not-the-password")
            .await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    assert!(locked["detail"]
        .as_str()
        .unwrap()
        .contains("までログインできません"));
    // Even the right password is refused while locked.
    problem(
        app.admin_login_attempt("demo-tokyo", REVIEWER_PASSWORD)
            .await,
        StatusCode::LOCKED,
        "account_locked",
    )
    .await;
    app.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(
        app.admin_login_attempt("demo-tokyo", REVIEWER_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn a_reviewer_sees_only_their_own_prefecture(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokyo = app
        .submitted_application("1311111111", "13", "tokyo@example.jp")
        .await;
    let tottori = app
        .submitted_application("3110100013", "31", "tottori@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;

    let list: Value = app
        .admin_get(&token, "/applications")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], tokyo.id.as_str());
    assert_eq!(list["counts"], json!({ "submitted": 1 }));
    let found: Value = app
        .admin_get(&token, "/applications?q=tottori")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["total"], 0,
        "another prefecture's application is never found"
    );

    let other = format!("/applications/{}", tottori.id);
    let body = problem(
        app.admin_get(&token, &other).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    assert!(!body.to_string().contains("tottori@example.jp"));
    for action in ["review", "notes", "withdrawal"] {
        let response = app
            .admin_post(
                &token,
                &format!("{other}/{action}"),
                &json!({ "text": "x" }),
            )
            .await;
        problem(response, StatusCode::NOT_FOUND, "application_not_found").await;
    }
    let response = app
        .admin_post(
            &token,
            &format!("{other}/decision"),
            &json!({ "decision": "approved" }),
        )
        .await;
    problem(response, StatusCode::NOT_FOUND, "application_not_found").await;
    // The Tottori application is untouched.
    let tottori_token = app.admin_token("demo-tottori").await;
    let detail: Value = app
        .admin_get(&tottori_token, &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["application"]["status"], "submitted");
}

async fn review_then_approve_and_every_refused_transition(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "flow@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let path = format!("/applications/{}", created.id);

    // A decision before the review started is refused.
    let early = app
        .admin_post(
            &token,
            &format!("{path}/decision"),
            &json!({ "decision": "approved" }),
        )
        .await;
    problem(early, StatusCode::CONFLICT, "transition_refused").await;

    let started = app
        .admin_post(&token, &format!("{path}/review"), &json!({}))
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let started: Value = started.json().await.unwrap();
    assert_eq!(started["application"]["status"], "in_review");
    problem(
        app.admin_post(&token, &format!("{path}/review"), &json!({}))
            .await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;

    let waiting: Value = app
        .admin_post(
            &token,
            &format!("{path}/decision"),
            &json!({ "decision": "approved" }),
        )
        .await
        .json()
        .await
        .unwrap();
    // Four-eyes issuance: the approval waits for a second reviewer of the prefecture.
    assert_eq!(waiting["application"]["status"], "awaiting_confirmation");
    for (action, body) in [
        ("decision", json!({ "decision": "approved" })),
        ("review", json!({})),
    ] {
        let response = app
            .admin_post(&token, &format!("{path}/{action}"), &body)
            .await;
        problem(response, StatusCode::CONFLICT, "transition_refused").await;
    }
    let second = app.admin_token("demo-tokyo-2").await;
    let approved = app.confirm_approval(&second, &created).await;
    // The result mail went to the notification address, after the code mail.
    let mails = app.wait_for_mails("flow@example.jp", 2).await;
    assert_eq!(mails[0].subject, "ログイン情報再発行申請結果通知");
    let body = &mails[0].body;
    assert!(body.contains("[審査結果]\n\n承認\n"), "{body}");
    let reference = approved["application"]["reference_number"]
        .as_str()
        .unwrap();
    assert!(body.contains(reference));
    for (action, body) in [
        ("decision", json!({ "decision": "rejected", "reason": "x" })),
        ("withdrawal", json!({ "text": "x" })),
        ("review", json!({})),
        ("confirmation", json!({ "confirm": true })),
    ] {
        let response = app
            .admin_post(&token, &format!("{path}/{action}"), &body)
            .await;
        problem(response, StatusCode::CONFLICT, "transition_refused").await;
    }
    let actions: Vec<String> = approved["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect();
    let position = |name: &str| actions.iter().position(|a| a == name).unwrap();
    assert!(position("application_submitted") < position("review_started"));
    assert!(position("review_started") < position("application_approved"));
    assert!(position("application_approved") < position("approval_confirmed"));
    assert!(position("approval_confirmed") < position("notice_issued"));
    assert!(
        approved["history"].as_array().unwrap().last().unwrap()["actor"]
            .as_str()
            .unwrap()
            .starts_with("reviewer:")
    );
}

async fn rejecting_needs_a_reason_which_is_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "reject@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let path = format!("/applications/{}", created.id);
    app.admin_post(&token, &format!("{path}/review"), &json!({}))
        .await;
    let body = problem(
        app.admin_post(
            &token,
            &format!("{path}/decision"),
            &json!({ "decision": "rejected" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "reason");
    let rejected: Value = app
        .admin_post(
            &token,
            &format!("{path}/decision"),
            &json!({ "decision": "rejected", "reason": "事業所台帳の電話番号に連絡がつきませんでした。" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["application"]["status"], "rejected");
    assert_eq!(
        rejected["decision_reason"],
        "事業所台帳の電話番号に連絡がつきませんでした。"
    );
    let mails = app.wait_for_mails("reject@example.jp", 2).await;
    assert_eq!(mails[0].subject, "ログイン情報再発行申請結果通知");
    let mail_body = &mails[0].body;
    assert!(mail_body.contains("[審査結果]\n\n却下\n"), "{mail_body}");
    assert!(
        mail_body.contains("[理由]\n\n事業所台帳の電話番号に連絡がつきませんでした。\n"),
        "{mail_body}"
    );
    // The office sees the outcome too.
    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["status"], "rejected");
}

async fn a_submitted_application_can_be_withdrawn_with_a_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "withdraw@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let path = format!("/applications/{}/withdrawal", created.id);
    problem(
        app.admin_post(&token, &path, &json!({ "text": " " })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let withdrawn: Value = app
        .admin_post(&token, &path, &json!({ "text": "事業所から取下げの連絡" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(withdrawn["application"]["status"], "withdrawn");
    assert_eq!(withdrawn["decision_reason"], "事業所から取下げの連絡");
}

async fn the_detail_shows_the_ledger_entry_notes_and_other_applications(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .submitted_application("1311111111", "13", "first@example.jp")
        .await;
    let second = app
        .submitted_application("1311111111", "13", "second@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let path = format!("/applications/{}", second.id);
    let noted: Value = app
        .admin_post(
            &token,
            &format!("{path}/notes"),
            &json!({ "text": "台帳の電話番号に架電、本人確認済み" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        noted["notes"][0]["text"],
        "台帳の電話番号に架電、本人確認済み"
    );
    assert_eq!(
        noted["notes"][0]["reviewer_name"],
        "東京都国保連合会 審査担当（デモ）"
    );
    assert_eq!(noted["ledger_entry"]["office_name"], "請求事業所 A");
    assert_eq!(noted["ledger_entry"]["kind"], "介護");
    assert!(noted["ledger_entry"]["phone"]
        .as_str()
        .unwrap()
        .starts_with("03-"));
    assert_eq!(noted["other_applications"][0]["id"], first.id.as_str());
    assert_eq!(noted["application"]["other_applications"], 1);
    let list: Value = app
        .admin_get(&token, "/applications")
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["other_applications"] == 1));
}

async fn the_queue_searches_filters_and_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app
        .submitted_application("1311111111", "13", "search-a@example.jp")
        .await;
    app.submitted_application("1310200021", "13", "search-b@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let view: Value = app.get(&a).await.json().await.unwrap();
    let reference = view["reference_number"].as_str().unwrap();

    for q in [reference, "すみれ", "search-b", "13102"] {
        let found: Value = app
            .admin_get(&token, &format!("/applications?q={}", urlencode(q)))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found["total"], 1, "search {q}");
    }
    let none: Value = app
        .admin_get(&token, "/applications?q=%25")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0, "a % is searched for literally");
    let in_review: Value = app
        .admin_get(&token, "/applications?status=in_review")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(in_review["total"], 0);
    assert_eq!(
        in_review["counts"]["submitted"], 2,
        "counts ignore the filters"
    );
    let page_two: Value = app
        .admin_get(&token, "/applications?page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            page_two["total"].as_u64(),
            page_two["items"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );
    problem(
        app.admin_get(&token, "/applications?status=nonsense").await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
}

async fn forged_expired_and_unsigned_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token("demo-tokyo").await;
    problem(
        app.admin_get("", "/applications").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let mut forged = token.clone();
    forged.push('x');
    problem(
        app.admin_get(&forged, "/applications").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let payload = token.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    problem(
        app.admin_get(&unsigned, "/applications").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // An applicant's token opens nothing here.
    let created = app.create_application("1311111111", "x@example.jp").await;
    problem(
        app.admin_get(&created.token, "/applications").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_eq!(
        app.admin_get(&token, "/applications").await.status(),
        StatusCode::OK
    );
    app.advance(Duration::from_secs(30 * 60));
    let expired = problem(
        app.admin_get(&token, "/applications").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // The reviewer is asked to log in again, not told about an application's token.
    let detail = expired["detail"].as_str().unwrap();
    assert!(
        detail.contains("もう一度ログイン") && !detail.contains("申請"),
        "{detail}"
    );
}

async fn the_audit_log_of_ones_own_prefecture_is_for_supervisors(backend: Backend) {
    let app = spawn_app(backend).await;
    let tokyo = app
        .submitted_application("1311111111", "13", "audit-t@example.jp")
        .await;
    app.submitted_application("3110100013", "31", "audit-o@example.jp")
        .await;
    let token = app.admin_token("demo-tokyo").await;
    let log: Value = app
        .admin_get(&token, "/audit-log")
        .await
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    assert!(items.iter().any(
        |i| i["action"] == "application_submitted" && i["application_id"] == tokyo.id.as_str()
    ));
    assert!(
        items.iter().all(|i| i["office_number"] != "3110100013"),
        "no other prefecture's entries"
    );

    let csv = app
        .client
        .get(app.api("/admin/audit-log"))
        .bearer_auth(&token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("\u{feff}日時,操作者,操作,申請ID,事業所番号,詳細\r\n"));
    assert!(text.contains("application_submitted"));
    assert!(!text.contains("3110100013"));

    // A reviewer who is not a supervisor neither reads the log nor exports it (each
    // application's history stays in its detail).
    let (db, hasher) = (app.context.db.clone(), app.context.hasher.clone());
    tokio::task::spawn_blocking(move || {
        reissue_api::cli::save_reviewers(
            &db,
            &hasher,
            &[reissue_api::domain::reviewers::NewReviewer {
                login_id: "plain-tokyo".into(),
                name: "審査 花子".into(),
                role: reissue_shared::admin::ReviewerRole::Reviewer,
                prefecture: reissue_shared::PrefectureCode::TOKYO,
                password: REVIEWER_PASSWORD.into(),
            }],
        )
        .unwrap();
    })
    .await
    .unwrap();
    let plain = app.admin_token("plain-tokyo").await;
    problem(
        app.admin_get(&plain, "/audit-log").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let detail: Value = app
        .admin_get(&plain, &format!("/applications/{}", tokyo.id))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        detail["history"]
            .as_array()
            .is_some_and(|history| !history.is_empty()),
        "{detail}"
    );
    let refused = app
        .client
        .get(app.api("/admin/audit-log"))
        .bearer_auth(&plain)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn a_page_out_of_range_is_a_malformed_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token("demo-tokyo").await;
    for path in ["/applications", "/audit-log"] {
        for page in ["0", "10001", "2147483648", "-1", "x"] {
            let body = problem(
                app.admin_get(&token, &format!("{path}?page={page}")).await,
                StatusCode::BAD_REQUEST,
                "malformed_body",
            )
            .await;
            assert!(
                body["detail"].as_str().unwrap().contains("検索条件"),
                "{body}"
            );
        }
        let last = app.admin_get(&token, &format!("{path}?page=10000")).await;
        assert_eq!(last.status(), StatusCode::OK, "{path}");
    }
}

crate::on_both_backends!(
    a_page_out_of_range_is_a_malformed_query,
    a_reviewer_logs_in_with_role_and_prefecture_and_wrong_logins_look_alike,
    the_fifth_failed_login_locks_the_reviewer_for_a_while,
    a_reviewer_sees_only_their_own_prefecture,
    review_then_approve_and_every_refused_transition,
    rejecting_needs_a_reason_which_is_kept,
    a_submitted_application_can_be_withdrawn_with_a_reason,
    the_detail_shows_the_ledger_entry_notes_and_other_applications,
    the_queue_searches_filters_and_pages,
    forged_expired_and_unsigned_tokens_are_refused,
    the_audit_log_of_ones_own_prefecture_is_for_supervisors,
);
