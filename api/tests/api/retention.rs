//! Personal data goes away (issue 14 item 9): `REISSUE_RETENTION_DAYS` after an application
//! ended, its notification address, client address, notes, call notes and mails are erased,
//! while its row (office number, status, 受付番号, dates) and its audit history stay; the audit
//! log names client and e-mail addresses only by keyed pseudonyms.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, Backend, Created, TestApp};
use reissue_api::domain::pseudonyms::{pseudonym, Personal};
use reissue_api::domain::retention;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Outbox rows of an application (delivered mails are kept until the retention period ends).
async fn mails_of(app: &TestApp, created: &Created) -> i64 {
    use diesel::prelude::*;
    use reissue_api::db::schema::outbox_messages::dsl;
    let id = created.id.clone();
    app.context
        .db
        .run(move |conn| {
            dsl::outbox_messages
                .filter(dsl::application_id.eq(id))
                .count()
                .get_result::<i64>(conn)
                .map_err(reissue_api::db::StorageError::from)
        })
        .await
        .unwrap()
}

async fn detail(app: &TestApp, token: &str, created: &Created) -> Value {
    let response = app
        .admin_get(token, &format!("/applications/{}", created.id))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn act(app: &TestApp, token: &str, created: &Created, action: &str, body: Value) -> Value {
    let response = app
        .admin_post(
            token,
            &format!("/applications/{}/{action}", created.id),
            &body,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{action}");
    response.json().await.unwrap()
}

async fn inquiry(app: &TestApp, reference_number: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.api("/reissue-status"))
        .json(&json!({ "reference_number": reference_number, "email": email }))
        .send()
        .await
        .unwrap()
}

/// Four applications of 東京都: approved and posted (with a note and a call), rejected,
/// approved but not posted, and in review.
struct Scene {
    posted: Created,
    rejected: Created,
    unposted: Created,
    in_review: Created,
}

const POSTED_EMAIL: &str = "posted@example.jp";
const REJECTED_EMAIL: &str = "rejected@example.jp";

async fn scene(app: &TestApp) -> Scene {
    let posted = app
        .submitted_application("1311111111", "13", POSTED_EMAIL)
        .await;
    let approver = app.admin_token("demo-tokyo").await;
    act(app, &approver, &posted, "review", json!({})).await;
    act(
        app,
        &approver,
        &posted,
        "notes",
        json!({"text": "山田様（事務長）と電話で確認"}),
    )
    .await;
    act(
        app,
        &approver,
        &posted,
        "callbacks",
        json!({"reached": true, "note": "山田様が応対"}),
    )
    .await;
    act(
        app,
        &approver,
        &posted,
        "decision",
        json!({"decision": "approved"}),
    )
    .await;
    let confirmer = app.admin_token("demo-tokyo-2").await;
    app.confirm_approval(&confirmer, &posted).await;
    act(
        app,
        &approver,
        &posted,
        "notice-mailed",
        json!({"tracking_number": "131-12-38385-2"}),
    )
    .await;

    let rejected = app
        .submitted_application("1310200021", "13", REJECTED_EMAIL)
        .await;
    act(app, &approver, &rejected, "review", json!({})).await;
    act(
        app,
        &approver,
        &rejected,
        "decision",
        json!({"decision": "rejected", "reason": "台帳の電話番号で確認できませんでした。"}),
    )
    .await;

    let unposted = app
        .submitted_application("1311500039", "13", "unposted@example.jp")
        .await;
    app.approve_four_eyes(&unposted).await;

    let in_review = app
        .submitted_application("1317200010", "13", "waiting@example.jp")
        .await;
    act(app, &approver, &in_review, "review", json!({})).await;
    Scene {
        posted,
        rejected,
        unposted,
        in_review,
    }
}

async fn ended_applications_lose_their_personal_data_after_the_period_and_keep_their_history(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let scene = scene(&app).await;
    let token = app.admin_token("demo-tokyo").await;
    let reference = detail(&app, &token, &scene.posted).await["application"]["reference_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let rejected_reference = detail(&app, &token, &scene.rejected).await["application"]
        ["reference_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(mails_of(&app, &scene.posted).await > 0);

    // A day before the period ends, nothing goes.
    app.advance(364 * DAY);
    let early = retention::purge(&app.context, "operator", false)
        .await
        .unwrap();
    assert!(early.applications.is_empty(), "{early:?}");

    // After it, a dry run names the two ended applications and changes nothing.
    app.advance(2 * DAY);
    let planned = retention::purge(&app.context, "operator", true)
        .await
        .unwrap();
    let mut planned_references: Vec<_> = planned
        .applications
        .iter()
        .filter_map(|a| a.reference_number.clone())
        .collect();
    planned_references.sort();
    let mut expected = vec![reference.clone(), rejected_reference.clone()];
    expected.sort();
    assert_eq!(planned_references, expected, "{planned:?}");
    let posted_plan = planned
        .applications
        .iter()
        .find(|a| a.reference_number.as_deref() == Some(reference.as_str()))
        .unwrap();
    assert_eq!(
        (posted_plan.notes, posted_plan.call_notes),
        (1, 1),
        "{posted_plan:?}"
    );
    assert!(posted_plan.mails >= 2, "the code and result mails at least");
    assert_eq!(
        inquiry(&app, &reference, POSTED_EMAIL).await.status(),
        StatusCode::OK
    );

    // The purge erases them; the two still open for the federation keep everything.
    let done = retention::purge(&app.context, "system", false)
        .await
        .unwrap();
    assert_eq!(done.applications.len(), 2, "{done:?}");
    assert!(!done.dry_run);
    let token = app.admin_token("demo-tokyo").await;
    let erased = detail(&app, &token, &scene.posted).await;
    assert_eq!(erased["application"]["email"], "");
    assert_eq!(erased["application"]["personal_data_erased"], true);
    assert_eq!(erased["application"]["status"], "approved");
    assert_eq!(erased["application"]["reference_number"], reference);
    assert_eq!(erased["application"]["office_number"], "1311111111");
    assert_eq!(erased["notes"], json!([]));
    assert_eq!(erased["callbacks"][0]["note"], "");
    assert_eq!(erased["callbacks"][0]["reached"], true);
    assert_eq!(erased["notice_tracking_number"], "131-12-38385-2");
    let actions: Vec<&str> = erased["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"application_created"));
    assert_eq!(actions.last(), Some(&"personal_data_erased"));
    assert!(actions.contains(&"notice_mailed"), "{actions:?}");
    assert_eq!(mails_of(&app, &scene.posted).await, 0);
    let rejected = detail(&app, &token, &scene.rejected).await;
    assert_eq!(rejected["application"]["personal_data_erased"], true);
    assert_eq!(
        rejected["decision_reason"],
        "台帳の電話番号で確認できませんでした。"
    );
    for open in [&scene.unposted, &scene.in_review] {
        let kept = detail(&app, &token, open).await;
        assert_eq!(kept["application"]["personal_data_erased"], false);
        assert!(kept["application"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.jp"));
    }

    // The applicant's link and the status inquiry no longer open it; nothing can be mailed.
    problem(
        app.get(&scene.posted).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    problem(
        inquiry(&app, &reference, POSTED_EMAIL).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Every erasure is audited, by whom it was done; the log names no address in clear.
    let log = app.audit_log().await;
    let erasures: Vec<_> = log
        .iter()
        .filter(|(_, action, _)| action == "personal_data_erased")
        .collect();
    assert_eq!(erasures.len(), 2, "{erasures:?}");
    assert!(erasures.iter().all(|(actor, _, detail)| actor == "system"
        && detail.starts_with("retention 365 days: notification address, client address")));
    assert!(log
        .iter()
        .any(|(_, action, _)| action == "personal_data_purged"));
    let client = pseudonym(&app.context.hasher, Personal::ClientAddress("127.0.0.1"));
    assert!(log
        .iter()
        .any(|(actor, action, _)| action == "application_created"
            && *actor == format!("applicant@{client}")));
    let code_to = pseudonym(&app.context.hasher, Personal::Email(POSTED_EMAIL));
    assert!(log
        .iter()
        .any(|(_, action, detail)| action == "code_sent" && detail.ends_with(&code_to)));
    for (actor, action, detail) in &log {
        for clear in ["127.0.0.1", "@example.jp"] {
            assert!(
                !actor.contains(clear) && !detail.contains(clear),
                "{actor} {action} {detail}"
            );
        }
    }

    // Done once: a second purge finds nothing.
    let again = retention::purge(&app.context, "system", false)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
}

async fn a_posted_notice_counts_from_its_posting_and_a_pending_reprint_holds_the_data(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", POSTED_EMAIL)
        .await;
    let (approver, _) = app.approve_four_eyes(&created).await;
    // Approved now, posted 200 days later: the period runs from the posting.
    app.advance(200 * DAY);
    let approver = {
        let _ = approver;
        app.admin_token("demo-tokyo").await
    };
    act(&app, &approver, &created, "notice-mailed", json!({})).await;
    app.advance(200 * DAY);
    let purged = retention::purge(&app.context, "system", false)
        .await
        .unwrap();
    assert!(purged.applications.is_empty(), "{purged:?}");
    // A reprint asked for (the letter came back) keeps it until it is settled.
    let approver = app.admin_token("demo-tokyo").await;
    act(
        &app,
        &approver,
        &created,
        "reprint-request",
        json!({"reason": "宛先不明で返送されたため"}),
    )
    .await;
    app.advance(400 * DAY);
    let purged = retention::purge(&app.context, "system", false)
        .await
        .unwrap();
    assert!(purged.applications.is_empty(), "{purged:?}");
    let token = app.admin_token("demo-tokyo-2").await;
    assert_eq!(
        detail(&app, &token, &created).await["application"]["personal_data_erased"],
        false
    );
}

async fn the_purge_command_reports_before_it_erases(backend: Backend) {
    let app = spawn_app(backend).await;
    // Applied and rejected 400 days ago (the command reads the system clock).
    app.clock.rewind(400 * DAY);
    let created = app
        .submitted_application("1311111111", "13", REJECTED_EMAIL)
        .await;
    let token = app.admin_token("demo-tokyo").await;
    act(&app, &token, &created, "review", json!({})).await;
    let rejected = act(
        &app,
        &token,
        &created,
        "decision",
        json!({"decision": "rejected", "reason": "重複した申請のため"}),
    )
    .await;
    let reference = rejected["application"]["reference_number"]
        .as_str()
        .unwrap()
        .to_owned();

    let dry = app.command(&["purge", "--dry-run"], &[]);
    let printed = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(
        dry.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(printed.contains("まだ何も消去していません"), "{printed}");
    assert!(printed.contains("申請 1 件"), "{printed}");
    assert!(printed.contains(&format!(
        "受付番号 {reference}  事業所番号 1311111111  却下"
    )));
    assert!(!printed.contains(REJECTED_EMAIL), "{printed}");
    let token = app.admin_token("demo-tokyo").await;
    assert_eq!(
        detail(&app, &token, &created).await["application"]["email"],
        REJECTED_EMAIL
    );

    // A longer period set for the command keeps it.
    let kept = app.command(&["purge"], &[("REISSUE_RETENTION_DAYS", "730")]);
    assert!(kept.status.success());
    assert!(String::from_utf8_lossy(&kept.stdout).contains("消去する対象はありません"));

    let run = app.command(&["purge"], &[]);
    let printed = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{printed}");
    assert!(printed.contains("を消去しました。"), "{printed}");
    let erased = detail(&app, &token, &created).await;
    assert_eq!(erased["application"]["personal_data_erased"], true);
    let last = erased["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "personal_data_erased");
    assert_eq!(last["actor_name"], "運用担当");
    assert_eq!(last["action_label"], "保存期間の経過により個人情報を消去");

    // A period outside one day to ten years is refused, naming the variable.
    let refused = app.command(&["purge"], &[("REISSUE_RETENTION_DAYS", "0")]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("REISSUE_RETENTION_DAYS"));
}

async fn an_operator_finds_an_address_in_the_audit_log_by_its_pseudonym(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .submitted_application("1311111111", "13", POSTED_EMAIL)
        .await;
    let looked_up = app.command(&["pseudonym", "127.0.0.1"], &[]);
    assert!(looked_up.status.success());
    let printed = String::from_utf8_lossy(&looked_up.stdout).trim().to_owned();
    assert_eq!(
        printed,
        pseudonym(&app.context.hasher, Personal::ClientAddress("127.0.0.1"))
    );
    let token = app.admin_token("demo-tokyo").await;
    let history = detail(&app, &token, &created).await["history"].clone();
    let created_by = history[0]["actor_name"].as_str().unwrap().to_owned();
    assert_eq!(created_by, format!("申請者（接続元 {printed}）"));
    let mail = app.command(&["pseudonym", "Posted@Example.jp"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&mail.stdout).trim(),
        pseudonym(&app.context.hasher, Personal::Email(POSTED_EMAIL))
    );
}

crate::on_both_backends!(
    ended_applications_lose_their_personal_data_after_the_period_and_keep_their_history,
    a_posted_notice_counts_from_its_posting_and_a_pending_reprint_holds_the_data,
    the_purge_command_reports_before_it_erases,
    an_operator_finds_an_address_in_the_audit_log_by_its_pseudonym,
);
