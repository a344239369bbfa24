//! Lock-outs that cannot be turned against their owners: an unknown ID is answered, counted
//! and locked exactly like a known one; a client that keeps guessing is locked out of that ID
//! (for longer each time) while the owner, from another address, still logs in; and failures
//! are counted until a success, at most 100 in a row (NIST SP 800-63B), after which only a new
//! password lets the ID in again.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend, TestApp, REVIEWER_PASSWORD};

const USER: &str = "KJ1311111111";
const PASSWORD: &str = "right-password-99";

async fn office_login_from(app: &TestApp, client: &str, user_id: &str, password: &str) -> Response {
    app.client
        .post(app.api("/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({ "user_id": user_id, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn reviewer_login_from(app: &TestApp, client: &str, password: &str) -> Response {
    app.client
        .post(app.api("/admin/sessions"))
        .header("x-forwarded-for", client)
        .json(&json!({ "login_id": "demo-tokyo", "password": password }))
        .send()
        .await
        .unwrap()
}

/// Status, `Retry-After` and body of an answer (without its `request_id`, which is every
/// answer's own).
async fn answer(response: Response) -> (StatusCode, Option<String>, Value) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body: Value = response.json().await.unwrap();
    body.as_object_mut().unwrap().remove("request_id");
    (status, retry_after, body)
}

async fn proxied_app(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![("REISSUE_TRUSTED_PROXIES", "127.0.0.1")];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(backend, &settings).await;
    app.create_office_account("13", "1311111111", USER, PASSWORD)
        .await;
    app
}

async fn an_unknown_id_is_answered_and_locked_exactly_like_a_known_one(backend: Backend) {
    let app = proxied_app(backend, &[]).await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..4 {
        known.push(
            answer(office_login_from(&app, "203.0.113.1", USER, "wrong-password-1").await).await,
        );
        unknown.push(
            answer(
                office_login_from(&app, "203.0.113.1", "KJ1300000000", "wrong-password-1").await,
            )
            .await,
        );
    }
    let statuses: Vec<StatusCode> = known.iter().map(|(status, _, _)| *status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::LOCKED,
            StatusCode::LOCKED
        ]
    );
    assert_eq!(known[2].2["code"], "account_locked");
    assert!(known[2].1.is_some(), "a lock says when to come back");
    // Status, Retry-After and body, word for word (the clock stands still here).
    assert_eq!(known, unknown);
}

async fn a_client_locked_out_of_an_id_does_not_lock_its_owner_out(backend: Backend) {
    let app = proxied_app(backend, &[]).await;
    for _ in 0..3 {
        office_login_from(&app, "203.0.113.66", USER, "guess-password-1").await;
    }
    let (status, _, body) =
        answer(office_login_from(&app, "203.0.113.66", USER, PASSWORD).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::LOCKED, Some("account_locked"))
    );
    // The owner, from the office's own address, is not held back by the guesser.
    let owner = office_login_from(&app, "198.51.100.7", USER, PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK);
    // An IPv6 guesser is one client for its whole /64.
    for n in 1..=3 {
        office_login_from(
            &app,
            &format!("2001:db8:1:2::{n}"),
            USER,
            "guess-password-2",
        )
        .await;
    }
    let same_64 = office_login_from(&app, "2001:db8:1:2::99", USER, PASSWORD).await;
    assert_eq!(same_64.status(), StatusCode::LOCKED);
}

async fn each_further_lock_of_a_client_lasts_twice_as_long(backend: Backend) {
    let app = proxied_app(backend, &[("REISSUE_OFFICE_LOCK_SECONDS", "600")]).await;
    let mut waits = Vec::new();
    for _ in 0..3 {
        for _ in 0..2 {
            office_login_from(&app, "203.0.113.5", USER, "guess-password-3").await;
        }
        let (status, retry_after, _) =
            answer(office_login_from(&app, "203.0.113.5", USER, "guess-password-3").await).await;
        assert_eq!(status, StatusCode::LOCKED);
        let wait: u64 = retry_after.unwrap().parse().unwrap();
        waits.push(wait);
        app.advance(Duration::from_secs(wait + 1));
    }
    assert_eq!(waits, [600, 1200, 2400]);
    // A success starts the count again: the next lock is the first one's length.
    assert_eq!(
        office_login_from(&app, "203.0.113.5", USER, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    for _ in 0..2 {
        office_login_from(&app, "203.0.113.5", USER, "guess-password-3").await;
    }
    let (_, retry_after, _) =
        answer(office_login_from(&app, "203.0.113.5", USER, "guess-password-3").await).await;
    assert_eq!(retry_after.as_deref(), Some("600"));
}

async fn a_hundred_failures_in_a_row_stop_the_id_until_its_password_is_set_anew(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_TRUSTED_PROXIES", "127.0.0.1"),
            ("REISSUE_REVIEWER_MAX_FAILED_LOGINS", "5"),
            ("REISSUE_PASSWORD_QUEUE", "1000"),
        ],
    )
    .await;
    // Stores the demo reviewers, and shows that the password works before the guessing.
    app.admin_token("demo-tokyo").await;
    // Twenty clients, five wrong passwords each: 100 failures in a row of one ID.
    let clients = (1..=20).map(|n| {
        let app = &app;
        async move {
            let mut statuses = Vec::new();
            for _ in 0..5 {
                statuses.push(
                    reviewer_login_from(app, &format!("203.0.113.{n}"), "not the password")
                        .await
                        .status(),
                );
            }
            statuses
        }
    });
    let statuses: Vec<StatusCode> = join_all(clients).await.into_iter().flatten().collect();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!((refused, statuses.len()), (80, 100), "{statuses:?}");
    // Now not even the right password, from a client that never failed, gets in.
    let (status, retry_after, body) =
        answer(reviewer_login_from(&app, "198.51.100.1", REVIEWER_PASSWORD).await).await;
    assert_eq!(status, StatusCode::LOCKED);
    assert_eq!(body["code"], "account_locked");
    assert!(retry_after.is_none(), "no wait ends this lock");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("ログインできなくなりました"),
        "{body}"
    );
    // An operator sets the password anew (`reissue reviewer add` of the same ID): the
    // password is right again (the app's code is asked next), and the reviewer logs in.
    app.reset_demo_reviewers().await;
    let (status, _, body) =
        answer(reviewer_login_from(&app, "198.51.100.1", REVIEWER_PASSWORD).await).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("mfa_required"))
    );
    app.admin_token("demo-tokyo").await;
}

crate::on_both_backends!(
    an_unknown_id_is_answered_and_locked_exactly_like_a_known_one,
    a_client_locked_out_of_an_id_does_not_lock_its_owner_out,
    each_further_lock_of_a_client_lasts_twice_as_long,
    a_hundred_failures_in_a_row_stop_the_id_until_its_password_is_set_anew,
);
