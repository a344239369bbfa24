//! Server-side sessions: a token works only while its session row is open. Logout, a new
//! password, a disabled or changed reviewer, the idle timeout and the lifetime end it, at once
//! and on every instance.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, Backend, TestApp, REVIEWER_PASSWORD};

const USER: &str = "KJ1311111111";
const PASSWORD: &str = "current-password-77";

async fn office_login(app: &TestApp, password: &str) -> String {
    let response = app
        .client
        .post(app.api("/auth/login"))
        .json(&json!({ "user_id": USER, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let session: Value = response.json().await.unwrap();
    session["access_token"].as_str().unwrap().to_owned()
}

/// Whether an office token still opens its session: a password change without a body is
/// answered 422 (its fields) behind an open session and 401 behind an ended one, and changes
/// nothing either way.
async fn office_session_open(app: &TestApp, token: &str) -> bool {
    let status = app
        .client
        .post(app.api("/auth/password"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status();
    assert!(
        [StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNAUTHORIZED].contains(&status),
        "{status}"
    );
    status == StatusCode::UNPROCESSABLE_ENTITY
}

async fn reviewer_session_open(app: &TestApp, token: &str) -> bool {
    let status = app.admin_get(token, "/applications").await.status();
    assert!(
        [StatusCode::OK, StatusCode::UNAUTHORIZED].contains(&status),
        "{status}"
    );
    status == StatusCode::OK
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.api(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The audit actions of a prefecture, oldest first.
async fn prefecture_actions(app: &TestApp, prefecture: &'static str) -> Vec<String> {
    let (entries, _) = app
        .context
        .db
        .run(move |conn| reissue_api::db::audit::for_prefecture(conn, prefecture, 0, 1000))
        .await
        .unwrap();
    entries
        .into_iter()
        .rev()
        .map(|entry| entry.action)
        .collect()
}

async fn logout_ends_the_session_at_once_on_every_instance(backend: Backend) {
    let app = spawn_app(backend).await;
    let second = app.another_server(&[]).await;

    let reviewer = app.admin_token("demo-tokyo").await;
    assert!(reviewer_session_open(&second, &reviewer).await);
    assert_eq!(
        delete(&second, "/admin/sessions/current", &reviewer)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(!reviewer_session_open(&app, &reviewer).await);
    assert!(!reviewer_session_open(&second, &reviewer).await);
    problem(
        delete(&app, "/admin/sessions/current", &reviewer).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // Another session of the same reviewer is not touched.
    let again = app.admin_token("demo-tokyo").await;
    assert!(reviewer_session_open(&second, &again).await);
    let actions = prefecture_actions(&app, "13").await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "reviewer_logged_out")
            .count(),
        1,
        "{actions:?}"
    );

    app.create_office_account("13", "1311111111", USER, PASSWORD)
        .await;
    let office = office_login(&app, PASSWORD).await;
    assert!(office_session_open(&second, &office).await);
    assert_eq!(
        delete(&second, "/auth/session", &office).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(!office_session_open(&app, &office).await);
    problem(
        delete(&app, "/auth/session", &office).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert!(prefecture_actions(&app, "13")
        .await
        .contains(&"office_logged_out".to_owned()));
}

async fn a_new_password_ends_every_session_of_the_office(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_office_account("13", "1311111111", USER, PASSWORD)
        .await;
    let mine = office_login(&app, PASSWORD).await;
    let other = office_login(&app, PASSWORD).await;
    let changed = app
        .client
        .post(app.api("/auth/password"))
        .bearer_auth(&mine)
        .json(&json!({ "current_password": PASSWORD, "new_password": "brand-new-pass-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    let new_token = changed["access_token"].as_str().unwrap();
    // The token that changed the password is replaced by the answer's; the other is ended.
    assert!(!office_session_open(&app, &mine).await);
    assert!(!office_session_open(&app, &other).await);
    assert!(office_session_open(&app, new_token).await);
}

async fn an_idle_session_ends_and_an_active_one_lives_its_lifetime(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("REISSUE_SESSION_IDLE_SECONDS", "600"),
            ("REISSUE_REVIEWER_SESSION_SECONDS", "1800"),
        ],
    )
    .await;
    let minutes = |n: u64| Duration::from_secs(60 * n);

    // Used every 9 minutes, a session outlives the 10-minute idle timeout...
    let token = app.admin_token("demo-tottori").await;
    app.advance(minutes(9));
    assert!(reviewer_session_open(&app, &token).await);
    app.advance(minutes(9));
    assert!(reviewer_session_open(&app, &token).await);
    // ...and ends after 10 minutes without a request.
    app.advance(minutes(10));
    assert!(!reviewer_session_open(&app, &token).await);

    // However active, it ends with its lifetime (30 minutes here).
    let token = app.admin_token("demo-tottori").await;
    for _ in 0..3 {
        app.advance(minutes(9));
        assert!(reviewer_session_open(&app, &token).await);
    }
    app.advance(minutes(3));
    assert!(!reviewer_session_open(&app, &token).await);

    // An office's session has the same idle timeout.
    app.create_office_account("13", "1311111111", USER, PASSWORD)
        .await;
    let office = office_login(&app, PASSWORD).await;
    app.advance(minutes(9));
    assert!(office_session_open(&app, &office).await);
    app.advance(minutes(10));
    assert!(!office_session_open(&app, &office).await);
}

async fn a_disabled_reviewer_is_logged_out_and_cannot_log_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let disabled = app.admin_token("demo-tottori").await;
    let colleague = app.admin_token("demo-tokyo").await;

    let output = app.reviewer_command(&["disable", "demo-tottori"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("demo-tottori"));
    assert!(!reviewer_session_open(&app, &disabled).await);
    assert!(reviewer_session_open(&app, &colleague).await);
    // Its password opens nothing, answered like a wrong one.
    problem(
        app.admin_login_attempt("demo-tottori", REVIEWER_PASSWORD)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert!(prefecture_actions(&app, "31")
        .await
        .contains(&"reviewer_disabled".to_owned()));

    // An unknown login ID is an error the operator reads.
    let output = app.reviewer_command(&["disable", "nobody"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nobody"));

    // `reviewer add` with the login ID enables it again (with its authenticator app).
    app.reset_demo_reviewers().await;
    let token = app.admin_token("demo-tottori").await;
    assert!(reviewer_session_open(&app, &token).await);
}

/// The `sid` claim of a token: the id of its session row.
fn session_id(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

async fn session_row_exists(app: &TestApp, token: &str) -> bool {
    let id = session_id(token);
    app.context
        .db
        .run(move |conn| reissue_api::db::sessions::find(conn, &id))
        .await
        .unwrap()
        .is_some()
}

async fn the_sweeper_forgets_sessions_a_day_after_they_end(backend: Backend) {
    let app = spawn_app(backend).await;
    let ended = app.admin_token("demo-tokyo").await;
    let open = app.admin_token("demo-tottori").await;
    assert_eq!(
        delete(&app, "/admin/sessions/current", &ended)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    app.advance(Duration::from_secs(23 * 60 * 60));
    reissue_api::domain::sweeper::sweep_once(&app.context)
        .await
        .unwrap();
    // Within the day the ended row stays (it tells why its token is refused)...
    assert!(session_row_exists(&app, &ended).await);
    app.advance(Duration::from_secs(2 * 60 * 60));
    reissue_api::domain::sweeper::sweep_once(&app.context)
        .await
        .unwrap();
    // ...and then goes. The other goes a day after its lifetime (8 hours) ran out.
    assert!(!session_row_exists(&app, &ended).await);
    assert!(session_row_exists(&app, &open).await);
    app.advance(Duration::from_secs(8 * 60 * 60));
    reissue_api::domain::sweeper::sweep_once(&app.context)
        .await
        .unwrap();
    assert!(!session_row_exists(&app, &open).await);
}

async fn a_changed_reviewer_is_logged_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token("demo-tokyo").await;
    assert!(reviewer_session_open(&app, &token).await);
    // The operator saves the account again (a new role, prefecture or password).
    app.reset_demo_reviewers().await;
    assert!(!reviewer_session_open(&app, &token).await);
    let token = app.admin_token("demo-tokyo").await;
    assert!(reviewer_session_open(&app, &token).await);
}

crate::on_both_backends!(
    logout_ends_the_session_at_once_on_every_instance,
    a_new_password_ends_every_session_of_the_office,
    an_idle_session_ends_and_an_active_one_lives_its_lifetime,
    a_disabled_reviewer_is_logged_out_and_cannot_log_in,
    a_changed_reviewer_is_logged_out,
    the_sweeper_forgets_sessions_a_day_after_they_end,
);
