//! The whole application over the API: the happy path and what the flow refuses.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, Backend};

async fn happy_path_reads_the_code_from_the_mailbox_and_ends_submitted(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_application("1311111111", "jimusho@example.jp")
        .await;

    let sent = app.choose_prefecture(&created, "13").await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["status"], "code_sent");
    assert_eq!(sent["email"], "jimusho@example.jp");
    assert_eq!(sent["codes_remaining"], 2);
    assert!(sent["code_expires_at"].as_str().is_some());

    let mails = app.wait_for_mails("jimusho@example.jp", 1).await;
    assert_eq!(mails[0].subject, "確認コード発行通知(介護保険)");
    let code = crate::helpers::code_in(&mails[0].body);
    assert_eq!(code.len(), 4);

    let verified = app.verify(&created, &code).await;
    assert_eq!(verified.status(), StatusCode::OK);
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(
        verified,
        json!({
            "status": "verified",
            "office_number": "1311111111",
            "office_name": "請求事業所 A",
            "email": "jimusho@example.jp",
            "prefecture_code": "13",
            "prefecture_name": "東京都",
        })
    );

    let submitted = app.submit(&created).await;
    assert_eq!(submitted.status(), StatusCode::OK);
    let submitted: Value = submitted.json().await.unwrap();
    assert_eq!(submitted["status"], "submitted");
    let reference = submitted["reference_number"].as_str().unwrap();
    assert_eq!(reference.len(), 9);
    assert!(reference
        .chars()
        .filter(|c| *c != '-')
        .all(|c| "ACEFGHJKMNPRTWXY34679".contains(c)));

    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["status_label"], "審査待ち");
    assert_eq!(view["reference_number"], reference);
    assert_eq!(view["office_name"], "請求事業所 A");

    assert_eq!(
        app.audit_actions(&created).await,
        [
            "application_created",
            "prefecture_chosen",
            "code_sent",
            "code_verified",
            "application_submitted"
        ]
    );
}

async fn full_width_office_number_and_code_are_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_application("１３１１１-１１１１１", "zen@example.jp")
        .await;
    assert_eq!(
        app.choose_prefecture(&created, "13").await.status(),
        StatusCode::OK
    );
    let code = app.read_code_from_mailbox("zen@example.jp", 1).await;
    let full_width: String = code
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    let verified = app.verify(&created, &full_width).await;
    assert_eq!(verified.status(), StatusCode::OK);
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(verified["office_number"], "1311111111");
}

async fn submit_before_verification_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_application("1311111111", "early@example.jp")
        .await;
    problem(
        app.submit(&created).await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
    app.choose_prefecture(&created, "13").await;
    let body = problem(
        app.submit(&created).await,
        StatusCode::CONFLICT,
        "invalid_state",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("確認コード"));
}

async fn a_second_submission_is_refused_and_so_is_any_later_step(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, code) = app.application_with_code("twice@example.jp").await;
    assert_eq!(app.verify(&created, &code).await.status(), StatusCode::OK);
    let first: Value = app.submit(&created).await.json().await.unwrap();
    problem(
        app.submit(&created).await,
        StatusCode::CONFLICT,
        "already_submitted",
    )
    .await;
    problem(
        app.verify(&created, &code).await,
        StatusCode::CONFLICT,
        "already_submitted",
    )
    .await;
    problem(
        app.resend_code(&created).await,
        StatusCode::CONFLICT,
        "already_submitted",
    )
    .await;
    problem(
        app.choose_prefecture(&created, "13").await,
        StatusCode::CONFLICT,
        "already_submitted",
    )
    .await;
    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["reference_number"], first["reference_number"]);
}

async fn the_token_of_one_application_opens_no_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.create_application("1311111111", "a@example.jp").await;
    let b = app.create_application("3110100013", "b@example.jp").await;
    let b_with_a_token = crate::helpers::Created {
        token: a.token.clone(),
        ..b.clone()
    };
    let body = problem(
        app.get(&b_with_a_token).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    assert!(body.get("office_number").is_none());
    assert!(!body.to_string().contains("b@example.jp"));
    problem(
        app.choose_prefecture(&b_with_a_token, "31").await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    problem(
        app.verify(&b_with_a_token, "1234").await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    problem(
        app.submit(&b_with_a_token).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    problem(
        app.resend_code(&b_with_a_token).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    // An id that does not exist answers exactly like someone else's.
    let unknown = crate::helpers::Created {
        id: uuid::Uuid::new_v4().to_string(),
        ..a.clone()
    };
    problem(
        app.get(&unknown).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    )
    .await;
    // B itself is untouched.
    let view: Value = app.get(&b).await.json().await.unwrap();
    assert_eq!(view["status"], "awaiting_prefecture");
}

async fn a_request_without_a_token_is_unauthorized(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_application("1311111111", "a@example.jp").await;
    let response = app
        .client
        .get(app.api(&format!("/reissue-applications/{}", created.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        "Bearer"
    );
    problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

async fn an_unsubmitted_application_expires_by_the_sweeper(backend: Backend) {
    let app = spawn_app(backend).await;
    let (created, code) = app.application_with_code("late@example.jp").await;
    app.advance(std::time::Duration::from_secs(2 * 60 * 60 + 1));
    let expired = reissue_api::domain::sweeper::sweep_once(&app.context)
        .await
        .unwrap();
    assert_eq!(expired, 1);
    let view: Value = app.get(&created).await.json().await.unwrap();
    assert_eq!(view["status"], "expired");
    assert_eq!(view["status_label"], "期限切れ");
    problem(
        app.verify(&created, &code).await,
        StatusCode::GONE,
        "application_expired",
    )
    .await;
    problem(
        app.submit(&created).await,
        StatusCode::GONE,
        "application_expired",
    )
    .await;
    assert!(app
        .audit_actions(&created)
        .await
        .contains(&"application_expired".to_owned()));
}

async fn a_new_application_supersedes_the_unsubmitted_one_of_the_same_office(backend: Backend) {
    let app = spawn_app(backend).await;
    let (old, code) = app.application_with_code("first@example.jp").await;
    let new = app
        .create_application("1311111111", "second@example.jp")
        .await;
    problem(
        app.verify(&old, &code).await,
        StatusCode::CONFLICT,
        "application_superseded",
    )
    .await;
    let view: Value = app.get(&old).await.json().await.unwrap();
    assert_eq!(view["status"], "withdrawn");
    let view: Value = app.get(&new).await.json().await.unwrap();
    assert_eq!(view["status"], "awaiting_prefecture");
    // A submitted application is not superseded.
    assert_eq!(
        app.choose_prefecture(&new, "13").await.status(),
        StatusCode::OK
    );
    let code = app.read_code_from_mailbox("second@example.jp", 1).await;
    app.verify(&new, &code).await;
    assert_eq!(app.submit(&new).await.status(), StatusCode::OK);
    app.create_application("1311111111", "third@example.jp")
        .await;
    let view: Value = app.get(&new).await.json().await.unwrap();
    assert_eq!(view["status"], "submitted");
}

async fn simultaneous_applications_of_one_office_leave_exactly_one_open(backend: Backend) {
    let app = spawn_app(backend).await;
    let creations = (0..16).map(|i| {
        let app = &app;
        async move {
            app.create_application("1311111111", &format!("race{i}@example.jp"))
                .await
        }
    });
    let created = futures_util::future::join_all(creations).await;
    let mut open = 0;
    for application in &created {
        let view: Value = app.get(application).await.json().await.unwrap();
        match view["status"].as_str().unwrap() {
            "awaiting_prefecture" => open += 1,
            "withdrawn" => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(open, 1);
}

async fn prefectures_lists_all_47(backend: Backend) {
    let app = spawn_app(backend).await;
    let list: Vec<Value> = app
        .client
        .get(app.api("/prefectures"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 47);
    assert_eq!(list[0], json!({"code": "01", "name": "北海道"}));
    assert_eq!(list[30], json!({"code": "31", "name": "鳥取県"}));
}

async fn health_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

async fn the_audit_log_refuses_update_and_delete(backend: Backend) {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(backend).await;
    app.create_application("1311111111", "audit@example.jp")
        .await;
    let outcome = app
        .context
        .db
        .run(|conn| {
            let update = conn.batch_execute("UPDATE audit_log SET detail = 'changed'");
            let delete = conn.batch_execute("DELETE FROM audit_log");
            Ok::<_, reissue_api::db::StorageError>((update.is_err(), delete.is_err()))
        })
        .await
        .unwrap();
    assert_eq!(outcome, (true, true));
}

crate::on_both_backends!(
    happy_path_reads_the_code_from_the_mailbox_and_ends_submitted,
    full_width_office_number_and_code_are_accepted,
    submit_before_verification_is_refused,
    a_second_submission_is_refused_and_so_is_any_later_step,
    the_token_of_one_application_opens_no_other,
    a_request_without_a_token_is_unauthorized,
    an_unsubmitted_application_expires_by_the_sweeper,
    a_new_application_supersedes_the_unsubmitted_one_of_the_same_office,
    simultaneous_applications_of_one_office_leave_exactly_one_open,
    prefectures_lists_all_47,
    health_and_readiness_answer,
    the_audit_log_refuses_update_and_delete,
);
