//! Every malformed request gets a problem+json 4xx, never a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{problem, spawn_app, Backend};

async fn every_field_error_is_reported_with_its_field_and_a_japanese_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_application(&json!({
            "office_number": "13111",
            "email": "not-an-address",
            "email_confirmation": "",
        }))
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let errors = body["errors"].as_array().unwrap();
    let fields: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("office_number", "invalid_length"),
            ("email", "invalid_format"),
            ("email_confirmation", "required")
        ]
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("事業所番号"));
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .contains("通知先メールアドレス"));
    assert!(errors[2]["message"]
        .as_str()
        .unwrap()
        .contains("通知先メールアドレス（確認用）"));
}

async fn a_confirmation_that_differs_is_reported_on_email_confirmation(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_application(&json!({
            "office_number": "1311111111",
            "email": "a@example.jp",
            "email_confirmation": "b@example.jp",
        }))
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(body["errors"][0]["field"], "email_confirmation");
    assert_eq!(body["errors"][0]["code"], "mismatch");
}

async fn a_missing_field_is_required_not_a_crash(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_application(&json!({ "email": "a@example.jp" }))
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "office_number");
    assert_eq!(body["errors"][0]["code"], "required");
}

async fn bad_json_wrong_types_and_wrong_media_types_are_4xx(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.api("/reissue-applications");
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    problem(
        send("{not json", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    problem(
        send("[1,2]", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    problem(
        send(r#"{"office_number": 1311111111}"#, "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    problem(
        send("office_number=1", "text/plain").await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let no_type = app.client.post(&url).body("{}").send().await.unwrap();
    problem(
        no_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

async fn a_body_over_64_kb_is_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = format!(
        r#"{{"office_number": "{}", "email": "", "email_confirmation": ""}}"#,
        "1".repeat(70 * 1024)
    );
    let response = app
        .client
        .post(app.api("/reissue-applications"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

async fn unknown_routes_and_malformed_ids_are_404_and_wrong_methods_405(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .get(app.api("/no-such-thing"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND, "route_not_found").await;
    let response = app
        .client
        .delete(app.api("/reissue-applications"))
        .send()
        .await
        .unwrap();
    problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let response = app.client.post(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.headers().get("allow").unwrap(), "GET");
    problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let response = app
        .client
        .get(app.api("/reissue-applications/not-a-uuid"))
        .bearer_auth("x")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND, "application_not_found").await;
}

async fn the_dev_mailbox_is_gone_when_smtp_is_configured(backend: Backend) {
    let app =
        crate::helpers::spawn_app_with(backend, &[("REISSUE_SMTP_URL", "smtp://127.0.0.1:9")])
            .await;
    let response = app
        .client
        .get(app.url("/api/dev/messages"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND, "route_not_found").await;
    let response = app
        .client
        .get(app.url("/dev/mailbox"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND, "route_not_found").await;
}

async fn the_dev_mailbox_page_shows_the_mail(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_created, code) = app.application_with_code("page@example.jp").await;
    let page = app
        .client
        .get(app.url("/dev/mailbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("確認コード発行通知(介護保険)"));
    assert!(html.contains(&code));
}

crate::on_both_backends!(
    every_field_error_is_reported_with_its_field_and_a_japanese_message,
    a_confirmation_that_differs_is_reported_on_email_confirmation,
    a_missing_field_is_required_not_a_crash,
    bad_json_wrong_types_and_wrong_media_types_are_4xx,
    a_body_over_64_kb_is_413,
    unknown_routes_and_malformed_ids_are_404_and_wrong_methods_405,
    the_dev_mailbox_is_gone_when_smtp_is_configured,
    the_dev_mailbox_page_shows_the_mail,
);
