//! The ledger check of manual step 7: each refusal has its own code and a Japanese detail.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{problem, spawn_app, Backend};

async fn an_office_not_in_the_chosen_prefectures_ledger_is_named_with_the_prefecture(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let created = app.create_application("1311111111", "a@example.jp").await;
    let body = problem(
        app.choose_prefecture(&created, "31").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "office_not_in_ledger",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("1311111111"), "{detail}");
    assert!(detail.contains("鳥取県"), "{detail}");
    assert_eq!(body["errors"][0]["field"], "prefecture_code");
    // Nothing was mailed, and the applicant can choose again.
    assert_eq!(
        app.choose_prefecture(&created, "13").await.status(),
        StatusCode::OK
    );
}

async fn an_unknown_office_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_application("1399999999", "a@example.jp").await;
    let body = problem(
        app.choose_prefecture(&created, "13").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "office_not_in_ledger",
    )
    .await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("東京都の事業所台帳に登録されていません"));
}

async fn a_non_care_office_is_told_to_contact_the_federation(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_application("1312345678", "shogai@example.jp")
        .await;
    let body = problem(
        app.choose_prefecture(&created, "13").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "office_not_care",
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("介護事業所のログイン情報のみ再発行を申請できます"),
        "{detail}"
    );
    assert!(
        detail.contains("国保連合会へお問い合わせください"),
        "{detail}"
    );
}

async fn an_agent_gets_the_manuals_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_application("1390000012", "agent@example.jp")
        .await;
    let body = problem(
        app.choose_prefecture(&created, "13").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "agent_not_allowed",
    )
    .await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("代理人のログイン情報を紛失した場合、国保連合会へお問い合わせください。"));
    let mails = app.mailbox().messages("agent@example.jp").await.unwrap();
    assert!(mails.is_empty(), "no code is mailed to an agent");
}

async fn an_invalid_prefecture_is_a_field_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_application("1311111111", "a@example.jp").await;
    let response = app
        .client
        .put(app.api(&format!("/reissue-applications/{}/prefecture", created.id)))
        .bearer_auth(&created.token)
        .json(&json!({ "prefecture_code": "48" }))
        .send()
        .await
        .unwrap();
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "prefecture_code");
    assert_eq!(body["errors"][0]["code"], "unknown_value");
}

crate::on_both_backends!(
    an_office_not_in_the_chosen_prefectures_ledger_is_named_with_the_prefecture,
    an_unknown_office_is_refused,
    a_non_care_office_is_told_to_contact_the_federation,
    an_agent_gets_the_manuals_message,
    an_invalid_prefecture_is_a_field_error,
);
