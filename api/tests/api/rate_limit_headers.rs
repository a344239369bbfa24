//! Limits a client can see (issue 15 item 2): the IETF draft's `RateLimit-Policy` and
//! `RateLimit` fields on the applicant's and the login operations.

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::{problem, spawn_app, spawn_app_with, wrong_code, Backend};

/// Every field line of `name`, as the one list they form.
fn list(response: &Response, name: &str) -> Vec<String> {
    response
        .headers()
        .get_all(name)
        .iter()
        .flat_map(|value| value.to_str().unwrap().split(", "))
        .map(str::to_owned)
        .collect()
}

/// The `RateLimit` member of `policy`, e.g. `"client";r=59;t=3540`.
fn member(response: &Response, policy: &str) -> Option<String> {
    list(response, "ratelimit")
        .into_iter()
        .find(|item| item.starts_with(&format!("\"{policy}\";")))
}

/// `r` of a member.
fn remaining(item: &str) -> u32 {
    item.split(';')
        .find_map(|p| p.strip_prefix("r="))
        .unwrap()
        .parse()
        .unwrap()
}

async fn the_applicant_sees_what_is_left_of_each_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .post_application(&json!({
            "office_number": "1311111111",
            "email": "limits@example.jp",
            "email_confirmation": "limits@example.jp",
        }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        list(&created, "ratelimit-policy"),
        ["\"client\";q=60;w=3600"]
    );
    let client = member(&created, "client").unwrap();
    assert_eq!(remaining(&client), 59, "{client}");
    let body: serde_json::Value = created.json().await.unwrap();
    let app_ref = crate::helpers::Created {
        id: body["id"].as_str().unwrap().to_owned(),
        token: body["token"].as_str().unwrap().to_owned(),
    };

    // Choosing the prefecture mails the first of three codes, with five tries.
    let chosen = app.choose_prefecture(&app_ref, "13").await;
    assert_eq!(chosen.status(), StatusCode::OK);
    let policies = list(&chosen, "ratelimit-policy");
    for policy in [
        "\"client\";q=60;w=3600",
        "\"codes\";q=3",
        "\"attempts\";q=5",
    ] {
        assert!(policies.contains(&policy.to_owned()), "{policies:?}");
    }
    assert_eq!(member(&chosen, "codes").as_deref(), Some("\"codes\";r=2"));
    assert_eq!(
        member(&chosen, "attempts").as_deref(),
        Some("\"attempts\";r=5")
    );
    assert_eq!(remaining(&member(&chosen, "client").unwrap()), 58);
    // A counted request's field comes from the use case's own count (no second read of the
    // budget); it says exactly what the budget then read says, reset time included.
    let client_after_choice = member(&chosen, "client").unwrap();
    assert!(client_after_choice.contains(";t="), "{client_after_choice}");
    assert_eq!(
        member(&app.get(&app_ref).await, "client"),
        Some(client_after_choice)
    );

    // A wrong code tells the tries left in its problem and in the fields alike.
    let code = app.read_code_from_mailbox("limits@example.jp", 1).await;
    let wrong = app.verify(&app_ref, &wrong_code(&code)).await;
    assert_eq!(
        member(&wrong, "attempts").as_deref(),
        Some("\"attempts\";r=4")
    );
    let refused = problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "wrong_code").await;
    assert_eq!(refused["attempts_left"], 4);

    // Reading the application shows them too, and spends nothing.
    let read = app.get(&app_ref).await;
    assert_eq!(member(&read, "codes").as_deref(), Some("\"codes\";r=2"));
    assert_eq!(
        member(&read, "attempts").as_deref(),
        Some("\"attempts\";r=4")
    );
    assert_eq!(remaining(&member(&read, "client").unwrap()), 57);
}

async fn at_the_limit_the_fields_agree_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, &[("REISSUE_REQUESTS_PER_CLIENT", "2")]).await;
    let body = json!({
        "office_number": "1311111111",
        "email": "limits@example.jp",
        "email_confirmation": "limits@example.jp",
    });
    for left in [1, 0] {
        let created = app.post_application(&body).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(remaining(&member(&created, "client").unwrap()), left);
    }
    let refused = app.post_application(&body).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        member(&refused, "client"),
        Some(format!("\"client\";r=0;t={retry_after}"))
    );
}

async fn logins_show_their_per_client_throttle(backend: Backend) {
    let app = spawn_app(backend).await;
    let office = app
        .client
        .post(app.api("/auth/login"))
        .json(&json!({ "user_id": "KJ0000000000", "password": "whatever" }))
        .send()
        .await
        .unwrap();
    assert_eq!(list(&office, "ratelimit-policy"), ["\"login\";q=20;w=60"]);
    assert_eq!(remaining(&member(&office, "login").unwrap()), 19);
    let reviewer = app
        .admin_login_attempt("demo-tokyo", "not the password")
        .await;
    assert_eq!(remaining(&member(&reviewer, "login").unwrap()), 18);
    // Operations counted by no client limit carry no fields.
    let prefectures = app
        .client
        .get(app.api("/prefectures"))
        .send()
        .await
        .unwrap();
    assert!(list(&prefectures, "ratelimit").is_empty());
}

/// A password reset counts its request against the same client budget, and its field is the
/// reset's own count: exactly what the next uncounted read of that budget shows.
async fn a_password_reset_shows_the_client_budget_it_spent(backend: Backend) {
    let app = spawn_app(backend).await;
    let app_ref = app
        .create_application("1311111111", "limits@example.jp")
        .await;
    let started = app
        .client
        .post(app.api("/password-resets"))
        .json(&json!({ "user_id": "NOSUCHUSER", "security_email": "limits@example.jp" }))
        .send()
        .await
        .unwrap();
    assert!(started.status().is_success(), "{}", started.status());
    assert_eq!(
        list(&started, "ratelimit-policy"),
        ["\"client\";q=60;w=3600"]
    );
    let client = member(&started, "client").unwrap();
    assert_eq!(remaining(&client), 58, "{client}");
    assert!(client.contains(";t="), "{client}");
    assert_eq!(member(&app.get(&app_ref).await, "client"), Some(client));
}

crate::on_both_backends!(
    the_applicant_sees_what_is_left_of_each_limit,
    a_password_reset_shows_the_client_budget_it_spent,
    at_the_limit_the_fields_agree_with_retry_after,
    logins_show_their_per_client_throttle,
);
