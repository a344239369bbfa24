//! The federation's workflow (DESIGN.md "The federation's workflow"): each prefecture's
//! settings (supervisors, own prefecture only, used by mails and notices), the return envelope
//! and the call-back that can hold an approval, and the registered post's number in the
//! dispatch register (発送簿).

use reqwest::StatusCode;
use serde_json::{json, Value};

use reissue_api::clock::Clock;

use crate::helpers::{problem, spawn_app, Backend, Created, TestApp};

fn settings(envelope: bool, callback: bool) -> Value {
    json!({
        "federation_name": "東京都国民健康保険団体連合会",
        "federation_address": "〒102-0072 東京都千代田区飯田橋3-5-1",
        "federation_phone": "03-6238-0011",
        "helpdesk_phone": "03-1111-2222",
        "return_envelope_required": envelope,
        "envelope_instructions": if envelope { "460円分の切手を貼った長形3号の返信用封筒をお送りください。" } else { "" },
        "callback_required": callback,
        "review_target_business_days": 7,
    })
}

async fn put_settings(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.api("/admin/prefecture-settings"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// 東京都's supervisor saves `settings(envelope, callback)`.
async fn tokyo_requires(app: &TestApp, envelope: bool, callback: bool) {
    let supervisor = app.admin_token("demo-tokyo").await;
    let saved = put_settings(app, &supervisor, &settings(envelope, callback)).await;
    assert_eq!(saved.status(), StatusCode::OK);
}

/// The application's 受付番号, as the applicant reads it.
async fn reference_of(app: &TestApp, created: &Created) -> String {
    let view: Value = app.get(created).await.json().await.unwrap();
    view["reference_number"].as_str().unwrap().to_owned()
}

async fn post(
    app: &TestApp,
    token: &str,
    created: &Created,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.admin_post(
        token,
        &format!("/applications/{}/{action}", created.id),
        &body,
    )
    .await
}

async fn settings_are_the_prefectures_own_and_only_its_supervisor_changes_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let reviewer = app.admin_token("demo-tokyo-2").await;
    let defaults: Value = app
        .admin_get(&reviewer, "/prefecture-settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(defaults["prefecture_code"], "13");
    assert_eq!(defaults["editable"], false);
    assert_eq!(defaults["updated_at"], Value::Null);
    assert_eq!(
        defaults["settings"]["federation_name"],
        "東京都国民健康保険団体連合会"
    );
    assert_eq!(defaults["settings"]["helpdesk_phone"], "0570-059-402");
    assert_eq!(defaults["settings"]["return_envelope_required"], false);

    // A reviewer who is not a supervisor may not change them.
    problem(
        put_settings(&app, &reviewer, &settings(true, true)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let supervisor = app.admin_token("demo-tokyo").await;
    let saved: Value = put_settings(&app, &supervisor, &settings(true, true))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["editable"], true);
    assert_eq!(saved["settings"]["return_envelope_required"], true);
    assert_eq!(saved["settings"]["review_target_business_days"], 7);
    assert_eq!(saved["updated_by"], "東京都国保連合会 審査担当（デモ）");

    // Another prefecture still has its own (the defaults).
    let tottori = app.admin_token("demo-tottori").await;
    let theirs: Value = app
        .admin_get(&tottori, "/prefecture-settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["prefecture_code"], "31");
    assert_eq!(theirs["settings"]["return_envelope_required"], false);
    assert_eq!(
        theirs["settings"]["federation_name"],
        "鳥取県国民健康保険団体連合会"
    );

    // Every wrong field is named, in Japanese.
    let mut wrong = settings(true, false);
    wrong["federation_phone"] = json!("03-12");
    wrong["envelope_instructions"] = json!(" ");
    wrong["review_target_business_days"] = json!(0);
    let refused = problem(
        put_settings(&app, &supervisor, &wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "federation_phone",
            "envelope_instructions",
            "review_target_business_days"
        ]
    );

    // The change is in the audit log, naming what changed.
    let log: Value = app
        .admin_get(&supervisor, "/audit-log")
        .await
        .json()
        .await
        .unwrap();
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "prefecture_settings_changed")
        .cloned()
        .unwrap();
    assert!(entry["detail"]
        .as_str()
        .unwrap()
        .contains("return_envelope_required"));
}

async fn mails_and_notices_use_the_prefectures_settings(backend: Backend) {
    let app = spawn_app(backend).await;
    tokyo_requires(&app, false, false).await;
    let created = app
        .submitted_application("1311111111", "13", "contact@example.jp")
        .await;
    let mails = app.wait_for_mails("contact@example.jp", 1).await;
    assert!(mails[0].body.contains("ヘルプデスク:03-1111-2222\n"));
    assert!(!mails[0].body.contains("0570-059-402"));

    let (approver, _) = app.approve_four_eyes(&created).await;
    let result = app.wait_for_mails("contact@example.jp", 2).await;
    let result = result
        .iter()
        .find(|m| m.subject == "ログイン情報再発行申請結果通知")
        .unwrap();
    assert!(result
        .body
        .contains("東京都国民健康保険団体連合会（電話 03-6238-0011）へお問い合わせください"));

    let notice = app
        .admin_get(&approver, &format!("/applications/{}/notice", created.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("〒102-0072 東京都千代田区飯田橋3-5-1"));
    assert!(notice.contains("電話 03-6238-0011"));
    assert!(notice.contains("ヘルプデスク 03-1111-2222"));
}

async fn a_required_envelope_holds_the_confirmation_until_it_arrives(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "envelope@example.jp")
        .await;
    let approver = app.admin_token("demo-tokyo").await;

    // Without instructions there is nothing to mail.
    let refused = problem(
        post(&app, &approver, &created, "envelope-request", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "envelope_instructions");

    tokyo_requires(&app, true, false).await;
    let requested = post(&app, &approver, &created, "envelope-request", json!({})).await;
    assert_eq!(requested.status(), StatusCode::OK);
    let detail: Value = requested.json().await.unwrap();
    assert_eq!(detail["application"]["envelope"], "requested");
    assert_eq!(detail["checks"]["return_envelope_required"], true);
    let mails = app.wait_for_mails("envelope@example.jp", 2).await;
    let request = mails
        .iter()
        .find(|m| m.subject == "返信用封筒送付のお願い(ログイン情報再発行申請)")
        .unwrap();
    assert!(request
        .body
        .contains("460円分の切手を貼った長形3号の返信用封筒をお送りください。"));
    assert!(request.body.contains(&reference_of(&app, &created).await));

    // The queue shows 返信用封筒待ち.
    let queue: Value = app
        .admin_get(&approver, "/applications")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"][0]["envelope"], "requested");

    // The first approval may wait for it; the confirmation may not.
    let waiting = app.review_and_approve(&approver, &created).await;
    assert_eq!(waiting["application"]["status"], "awaiting_confirmation");
    let confirmer = app.admin_token("demo-tokyo-2").await;
    let body = problem(
        post(
            &app,
            &confirmer,
            &created,
            "confirmation",
            json!({"confirm": true}),
        )
        .await,
        StatusCode::CONFLICT,
        "envelope_missing",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("返信用封筒"));

    let received = post(&app, &confirmer, &created, "envelope-received", json!({})).await;
    assert_eq!(received.status(), StatusCode::OK);
    let detail: Value = received.json().await.unwrap();
    assert_eq!(detail["application"]["envelope"], "received");
    // Arrived once: not again.
    problem(
        post(&app, &confirmer, &created, "envelope-received", json!({})).await,
        StatusCode::CONFLICT,
        "transition_refused",
    )
    .await;
    app.confirm_approval(&confirmer, &created).await;
    let actions = app.audit_actions(&created).await;
    assert!(actions.contains(&"envelope_requested".to_owned()));
    assert!(actions.contains(&"envelope_received".to_owned()));
}

async fn a_required_call_back_holds_the_approval_until_the_office_was_reached(backend: Backend) {
    let app = spawn_app(backend).await;
    tokyo_requires(&app, false, true).await;
    let created = app
        .submitted_application("1311111111", "13", "callback@example.jp")
        .await;
    let approver = app.admin_token("demo-tokyo").await;
    assert_eq!(
        post(&app, &approver, &created, "review", json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    let approve = || {
        post(
            &app,
            &approver,
            &created,
            "decision",
            json!({"decision": "approved"}),
        )
    };
    problem(approve().await, StatusCode::CONFLICT, "callback_missing").await;

    let unreached = post(
        &app,
        &approver,
        &created,
        "callbacks",
        json!({"reached": false, "note": "留守番電話"}),
    )
    .await;
    assert_eq!(unreached.status(), StatusCode::OK);
    problem(approve().await, StatusCode::CONFLICT, "callback_missing").await;

    let reached: Value = post(
        &app,
        &approver,
        &created,
        "callbacks",
        json!({"reached": true, "note": "管理者の方が申請を確認"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let calls = reached["callbacks"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    // The number dialled is the ledger's, never one from the application.
    assert!(calls.iter().all(|c| c["phone"] == "03-0000-1111"));
    assert_eq!(calls[0]["reached"], false);
    assert_eq!(calls[1]["note"], "管理者の方が申請を確認");
    assert_eq!(calls[1]["called_by"], "東京都国保連合会 審査担当（デモ）");
    assert_eq!(reached["checks"]["callback_reached"], true);

    let approved = approve().await;
    assert_eq!(approved.status(), StatusCode::OK);
    let actions = app.audit_actions(&created).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.as_str() == "callback_recorded")
            .count(),
        2
    );
    // A note too long is refused with its field named.
    let long = "あ".repeat(2001);
    problem(
        post(
            &app,
            &approver,
            &created,
            "callbacks",
            json!({"reached": true, "note": long}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

async fn registered_post_numbers_are_checked_and_kept_in_the_dispatch_register(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "post@example.jp")
        .await;
    let (approver, _) = app.approve_four_eyes(&created).await;
    let mailed = |body: Value| post(&app, &approver, &created, "notice-mailed", body);

    for (wrong, field) in [
        (
            json!({"tracking_number": "131-12-38385-3"}),
            "tracking_number",
        ),
        (json!({"tracking_number": "1234"}), "tracking_number"),
        (json!({"mailed_on": "2999-01-01"}), "mailed_on"),
        (json!({"mailed_on": "2026-13-01"}), "mailed_on"),
    ] {
        let refused = problem(
            mailed(wrong).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], field);
    }

    let detail: Value = mailed(json!({"tracking_number": "１３１－１２－３８３８５－２"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["notice_tracking_number"], "131-12-38385-2");
    let today = detail["notice_mailed_on"].as_str().unwrap().to_owned();
    assert_eq!(today.len(), 10);

    let register: Value = app
        .admin_get(
            &approver,
            &format!("/dispatch-register?from={today}&to={today}"),
        )
        .await
        .json()
        .await
        .unwrap();
    let items = register["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["tracking_number"], "131-12-38385-2");
    assert_eq!(items[0]["office_number"], "1311111111");
    assert_eq!(
        items[0]["mailed_to"],
        "〒100-0005 東京都千代田区丸の内9-9-9 丸の内ケアビル3階 請求事業所 A"
    );
    assert_eq!(
        items[0]["reference_number"],
        reference_of(&app, &created).await
    );

    // CSV: UTF-8 with a BOM, or Shift_JIS.
    let csv = app
        .client
        .get(app.api(&format!("/admin/dispatch-register?from={today}&to={today}")))
        .bearer_auth(&approver)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(
        csv.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let bytes = csv.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("発送日,受付番号,事業所番号,宛先,追跡番号,発送者\r\n"));
    assert!(text.contains("131-12-38385-2"));
    let sjis = app
        .client
        .get(app.api(&format!(
            "/admin/dispatch-register?from={today}&to={today}&encoding=shift_jis"
        )))
        .bearer_auth(&approver)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (decoded, _, errors) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!errors);
    assert_eq!(decoded, text);

    // A range backwards is refused; another prefecture sees none of it.
    problem(
        app.admin_get(
            &approver,
            "/dispatch-register?from=2026-12-07&to=2026-12-01",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let tottori = app.admin_token("demo-tottori").await;
    let theirs: Value = app
        .admin_get(
            &tottori,
            &format!("/dispatch-register?from={today}&to={today}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
}

async fn notice_mailed_still_takes_no_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "nobody@example.jp")
        .await;
    let (approver, _) = app.approve_four_eyes(&created).await;
    let response = app
        .client
        .post(app.api(&format!("/admin/applications/{}/notice-mailed", created.id)))
        .bearer_auth(&approver)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let detail: Value = response.json().await.unwrap();
    assert!(detail["notice_mailed_on"].is_string());
    assert_eq!(detail["notice_tracking_number"], Value::Null);
}

async fn the_queue_shows_business_days_waited_against_the_target(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "ageing@example.jp")
        .await;
    let submitted_on = reissue_shared::japan_time::in_japan(app.clock.now()).date();
    app.advance(std::time::Duration::from_secs(15 * 24 * 3600));
    let today = reissue_shared::japan_time::in_japan(app.clock.now()).date();
    let expected = reissue_api::domain::calendar::business_days_between(submitted_on, today);
    // Fifteen calendar days hold at least eight business days whatever the date.
    assert!(expected >= 8, "{expected}");

    let reviewer = app.admin_token("demo-tokyo-2").await;
    let queue: Value = app
        .admin_get(&reviewer, "/applications")
        .await
        .json()
        .await
        .unwrap();
    let item = &queue["items"][0];
    assert_eq!(item["business_days_waiting"], expected);
    // The default target is five business days.
    assert_eq!(item["overdue"], true);
    let ageing = &queue["ageing"];
    assert_eq!(ageing["target_business_days"], 5);
    assert_eq!(ageing["overdue"], 1);
    let counted: Vec<u64> = ageing["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|band| band["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counted.iter().sum::<u64>(), 1);
    let band = if expected <= 10 { 2 } else { 3 };
    assert_eq!(counted[band], 1, "{ageing}");

    // The history speaks Japanese and names who acted.
    let detail: Value = app
        .admin_get(&reviewer, &format!("/applications/{}", created.id))
        .await
        .json()
        .await
        .unwrap();
    let submitted = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "application_submitted")
        .cloned()
        .unwrap();
    assert_eq!(submitted["action_label"], "申請を送信");
    assert!(submitted["actor_name"]
        .as_str()
        .unwrap()
        .starts_with("申請者（"));

    // Decided applications no longer age.
    let approver = app.admin_token("demo-tokyo").await;
    let waiting = app.review_and_approve(&approver, &created).await;
    assert_eq!(waiting["application"]["business_days_waiting"], expected);
    let rejected_or_approved = app.confirm_approval(&reviewer, &created).await;
    assert_eq!(
        rejected_or_approved["application"]["business_days_waiting"],
        Value::Null
    );
    let history: Vec<&str> = rejected_or_approved["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    assert!(history.contains(&"東京都国保連合会 審査担当2（デモ）"));
}

/// Imports a ledger of 東京都 (a whole prefecture's when `replace`) from CSV rows.
async fn import_tokyo(app: &TestApp, rows: &str, replace: bool) {
    use reissue_api::domain::ledger::{import, parse_ledger_csv, ImportMode};
    let csv = format!("事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号\n{rows}");
    let entries = parse_ledger_csv(csv.as_bytes()).unwrap();
    let db = app.context.db.clone();
    let now = app.clock.now();
    let mode = if replace {
        ImportMode::Replace
    } else {
        ImportMode::Merge
    };
    tokio::task::spawn_blocking(move || import(&db, &entries, "test", now, mode, false).unwrap())
        .await
        .unwrap();
}

async fn a_ledger_change_after_submission_holds_the_approval_until_acknowledged(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "moved@example.jp")
        .await;
    app.advance(std::time::Duration::from_secs(60));
    import_tokyo(
        &app,
        "1311111111,請求事業所 A,介護,13,100-0006,東京都千代田区有楽町9-9-9,03-0000-1111\n",
        false,
    )
    .await;
    let approver = app.admin_token("demo-tokyo").await;
    let started: Value = post(&app, &approver, &created, "review", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let change = &started["ledger_change"];
    assert_eq!(
        change["before"]["address"],
        "東京都千代田区丸の内9-9-9 丸の内ケアビル3階"
    );
    assert_eq!(change["after"]["address"], "東京都千代田区有楽町9-9-9");
    assert_eq!(change["acknowledged"], false);
    let approve = || {
        post(
            &app,
            &approver,
            &created,
            "decision",
            json!({"decision": "approved"}),
        )
    };
    problem(approve().await, StatusCode::CONFLICT, "ledger_changed").await;

    let acknowledged: Value = post(
        &app,
        &approver,
        &created,
        "ledger-change-acknowledgement",
        json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(acknowledged["ledger_change"]["acknowledged"], true);
    assert_eq!(approve().await.status(), StatusCode::OK);

    // A later change holds the confirmation again.
    app.advance(std::time::Duration::from_secs(60));
    import_tokyo(
        &app,
        "1311111111,請求事業所 A,介護,13,100-0006,東京都千代田区有楽町1-1-1,03-0000-1111\n",
        false,
    )
    .await;
    let confirmer = app.admin_token("demo-tokyo-2").await;
    problem(
        post(
            &app,
            &confirmer,
            &created,
            "confirmation",
            json!({"confirm": true}),
        )
        .await,
        StatusCode::CONFLICT,
        "ledger_changed",
    )
    .await;
    let actions = app.audit_actions(&created).await;
    assert!(actions.contains(&"ledger_change_acknowledged".to_owned()));
}

async fn an_office_removed_from_the_ledger_cannot_be_approved(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", "removed@example.jp")
        .await;
    app.advance(std::time::Duration::from_secs(60));
    // 東京都's whole ledger, without 1311111111.
    import_tokyo(
        &app,
        "1310200021,訪問介護ステーション すみれ,介護,13,130-0001,東京都墨田区吾妻橋9-3-2,03-0000-2021\n",
        true,
    )
    .await;
    let approver = app.admin_token("demo-tokyo").await;
    let started: Value = post(&app, &approver, &created, "review", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(started["ledger_change"]["after"], Value::Null);
    assert_eq!(started["ledger_entry"], Value::Null);
    let body = problem(
        post(
            &app,
            &approver,
            &created,
            "decision",
            json!({"decision": "approved"}),
        )
        .await,
        StatusCode::CONFLICT,
        "office_not_in_ledger",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("削除"));
    // Rejecting stays possible.
    let rejected = post(
        &app,
        &approver,
        &created,
        "decision",
        json!({"decision": "rejected", "reason": "事業所台帳から削除されているため"}),
    )
    .await;
    assert_eq!(rejected.status(), StatusCode::OK);
}

crate::on_both_backends!(
    a_ledger_change_after_submission_holds_the_approval_until_acknowledged,
    an_office_removed_from_the_ledger_cannot_be_approved,
    the_queue_shows_business_days_waited_against_the_target,
    settings_are_the_prefectures_own_and_only_its_supervisor_changes_them,
    mails_and_notices_use_the_prefectures_settings,
    a_required_envelope_holds_the_confirmation_until_it_arrives,
    a_required_call_back_holds_the_approval_until_the_office_was_reached,
    registered_post_numbers_are_checked_and_kept_in_the_dispatch_register,
    notice_mailed_still_takes_no_body,
);
