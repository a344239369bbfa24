//! Safe retries (issue 15 item 1): the IETF draft's `Idempotency-Key` on the applicant's and
//! the password reset's POST and PUT operations.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, Backend, Created, TestApp};
use reissue_api::domain::idempotency::{self, Claim};

const EMAIL: &str = "retry@example.jp";

fn create(app: &TestApp, key: &str, email: &str) -> RequestBuilder {
    app.client
        .post(app.api("/reissue-applications"))
        .header("Idempotency-Key", key)
        .json(&json!({
            "office_number": "1311111111",
            "email": email,
            "email_confirmation": email,
        }))
}

fn choose(app: &TestApp, created: &Created, key: &str) -> RequestBuilder {
    app.client
        .put(app.api(&format!("/reissue-applications/{}/prefecture", created.id)))
        .bearer_auth(&created.token)
        .header("Idempotency-Key", key)
        .json(&json!({ "prefecture_code": "13" }))
}

fn replayed(response: &Response) -> bool {
    response
        .headers()
        .get("idempotency-replayed")
        .is_some_and(|v| v == "true")
}

async fn a_retried_request_replays_the_first_answer_without_doing_the_work_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"";
    let first = create(&app, key, EMAIL).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first));
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();

    // The answer to the timed-out request, again: same application, same token, no second one.
    let again = create(&app, key, EMAIL).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(replayed(&again));
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.headers()["content-type"], "application/json");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.audited("application_created").await.len(), 1);
    let created = Created {
        id: first["id"].as_str().unwrap().to_owned(),
        token: first["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(app.get(&created).await.status(), StatusCode::OK);

    // The same key for another body is refused; a key that is not one, too.
    problem(
        create(&app, key, "other@example.jp").send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    for bad in ["two words", "鍵", &"k".repeat(256)] {
        let response = app
            .client
            .post(app.api("/reissue-applications"))
            .header("Idempotency-Key", bad.as_bytes())
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::BAD_REQUEST, "idempotency_key_invalid").await;
    }

    // A retried prefecture choice mails one code and spends the budget once.
    let chosen = choose(&app, &created, "choose-1").send().await.unwrap();
    assert_eq!(chosen.status(), StatusCode::OK);
    let chosen: Value = chosen.json().await.unwrap();
    let retried = choose(&app, &created, "choose-1").send().await.unwrap();
    assert!(replayed(&retried));
    assert_eq!(retried.json::<Value>().await.unwrap(), chosen);
    assert_eq!(app.wait_for_mails(EMAIL, 1).await.len(), 1);
    assert_eq!(app.audited("code_sent").await.len(), 1);
    // The same key string in another scope (this application's token, not the client) is
    // another key: the create's key does the prefecture choice's work here.
    let other_scope = choose(&app, &created, key).send().await.unwrap();
    assert!(!replayed(&other_scope));

    // Without the token its operation needs, a request is 401 whatever its key: the key is not
    // looked at (here the create's, used in the client's scope for another request).
    let no_token = app
        .client
        .put(app.api(&format!("/reissue-applications/{}/prefecture", created.id)))
        .header("Idempotency-Key", key)
        .json(&json!({ "prefecture_code": "13" }))
        .send()
        .await
        .unwrap();
    problem(no_token, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Without the header, nothing changes: a second create supersedes the first.
    let plain = app.create_application("1311111111", EMAIL).await;
    assert_ne!(plain.id, created.id);
}

async fn an_answer_to_retry_later_is_not_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_application("1311111111", EMAIL).await;
    assert_eq!(
        app.choose_prefecture(&created, "13").await.status(),
        StatusCode::OK
    );
    let resend = |key: &'static str| {
        app.client
            .post(app.api(&format!("/reissue-applications/{}/code", created.id)))
            .bearer_auth(&created.token)
            .header("Idempotency-Key", key)
            .send()
    };
    // Too soon after the first code: 429, and the key is not spent on it ...
    let early = resend("resend-1").await.unwrap();
    assert_eq!(early.status(), StatusCode::TOO_MANY_REQUESTS);
    // ... so the same retry, a minute later, mails the code.
    app.advance(Duration::from_secs(61));
    let later = resend("resend-1").await.unwrap();
    assert_eq!(later.status(), StatusCode::OK);
    assert!(!replayed(&later));
    assert_eq!(app.wait_for_mails(EMAIL, 2).await.len(), 2);
}

async fn a_key_is_held_while_its_first_request_runs_and_kept_for_a_day(backend: Backend) {
    let app = spawn_app(backend).await;
    let ctx = &app.context;
    let claim = |request: &str| idempotency::claim(ctx, "key-hash".to_owned(), request.to_owned());
    assert_eq!(claim("request").await.unwrap(), Claim::First);
    assert_eq!(claim("request").await.unwrap(), Claim::InUse);
    assert_eq!(claim("another").await.unwrap(), Claim::Reused);
    // A first request whose instance died gives the key up when its lease ends.
    app.advance(Duration::from_secs(61));
    assert_eq!(claim("request").await.unwrap(), Claim::First);
    let answer = idempotency::StoredAnswer {
        status: 201,
        content_type: Some("application/json".into()),
        location: None,
        body: "{\"token\":\"secret\"}".into(),
    };
    idempotency::finish(ctx, "key-hash".into(), answer.clone())
        .await
        .unwrap();
    assert_eq!(claim("request").await.unwrap(), Claim::Replay(answer));
    // The body is kept sealed, never in clear.
    let stored = app
        .context
        .db
        .run(|conn| reissue_api::db::idempotency_keys::find(conn, "key-hash"))
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.response_body.unwrap().contains("secret"));
    // After 24 hours the key is new again.
    app.advance(Duration::from_secs(24 * 60 * 60));
    assert_eq!(claim("another").await.unwrap(), Claim::First);
}

async fn a_retry_reaching_another_instance_is_replayed_there(backend: Backend) {
    let app = spawn_app(backend).await;
    let second = app.another_server(&[]).await;
    let first = create(&app, "across-instances", EMAIL)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = create(&second, "across-instances", EMAIL)
        .send()
        .await
        .unwrap();
    assert!(replayed(&again));
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.audited("application_created").await.len(), 1);
}

crate::on_both_backends!(
    a_retried_request_replays_the_first_answer_without_doing_the_work_again,
    an_answer_to_retry_later_is_not_kept,
    a_key_is_held_while_its_first_request_runs_and_kept_for_a_day,
    a_retry_reaching_another_instance_is_replayed_there,
);
