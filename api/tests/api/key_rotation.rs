//! Rotating `REISSUE_SECRET_KEY`: with the old secret in `REISSUE_PREVIOUS_SECRET_KEYS`, what
//! it made (session tokens, application tokens and codes, sealed temporary passwords) is still
//! accepted while new things are made with the new secret; once the old secret is dropped from
//! the list, what it made is refused.

use reqwest::StatusCode;

use crate::helpers::{problem, spawn_app, Backend};

/// The test servers' secret (see `helpers::spawn`).
const OLD: &str = "test-secret-key-0123456789abcdef0123456789";
const NEW: &str = "rotated-secret-key-fedcba9876543210fedcba98";

async fn a_rotation_keeps_the_old_secrets_work_valid_until_it_is_dropped(backend: Backend) {
    let before = spawn_app(backend).await;
    let old_reviewer = before.admin_token("demo-tokyo").await;
    let (created, code) = before.application_with_code("rotate@example.jp").await;

    let rotated = before
        .another_server(&[
            ("REISSUE_SECRET_KEY", NEW),
            ("REISSUE_PREVIOUS_SECRET_KEYS", OLD),
        ])
        .await;
    // The old secret's application token and code hash still open the application.
    assert_eq!(
        rotated.verify(&created, &code).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        rotated
            .admin_get(&old_reviewer, "/applications")
            .await
            .status(),
        StatusCode::OK
    );
    let new_reviewer = rotated.admin_token("demo-tokyo").await;
    assert_ne!(
        kid(&new_reviewer),
        kid(&old_reviewer),
        "new tokens are signed with the new secret"
    );

    let after = before.another_server(&[("REISSUE_SECRET_KEY", NEW)]).await;
    assert_eq!(
        after
            .admin_get(&new_reviewer, "/applications")
            .await
            .status(),
        StatusCode::OK
    );
    problem(
        after.admin_get(&old_reviewer, "/applications").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_eq!(after.get(&created).await.status(), StatusCode::NOT_FOUND);
}

/// The `kid` of a token's header.
fn kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

crate::on_both_backends!(a_rotation_keeps_the_old_secrets_work_valid_until_it_is_dropped,);
