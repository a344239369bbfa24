//! The harness's mailbox reader against the real binary: a code mailed through the API is read
//! from the development mailbox, and the browser app starting under its security headers.

use reissue_e2e::Server;
use serde_json::{json, Value};

#[tokio::test]
async fn a_code_mailed_for_the_demo_office_is_read_from_the_mailbox() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let email = "smoke@example.jp";
    let mailbox = server.mailbox();
    assert!(mailbox.messages(email).await?.is_empty());

    // Manual steps 5–7 through the API: apply, then choose the prefecture; a code is mailed.
    let created: Value = server
        .http()
        .post(server.url("/api/v1/reissue-applications"))
        .json(&json!({
            "office_number": "1311111111",
            "email": email,
            "email_confirmation": email,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let (Some(id), Some(token)) = (created["id"].as_str(), created["token"].as_str()) else {
        anyhow::bail!("unexpected answer: {created}");
    };
    server
        .http()
        .put(server.url(&format!("/api/v1/reissue-applications/{id}/prefecture")))
        .bearer_auth(token)
        .json(&json!({ "prefecture_code": "13" }))
        .send()
        .await?
        .error_for_status()?;

    let code = mailbox.latest_code(email).await?;

    assert_eq!(code.len(), 4, "code was {code:?}");
    assert!(
        code.bytes().all(|b| b.is_ascii_digit()),
        "code was {code:?}"
    );
    Ok(())
}

/// The browser app starts under the strict Content-Security-Policy it is served with: Trunk's
/// inline loader is admitted by its hash and the WebAssembly by `'wasm-unsafe-eval'`; had the
/// policy blocked either, the portal would never render.
#[tokio::test]
async fn the_app_runs_under_its_content_security_policy() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let response = server.http().get(server.url("/")).send().await?;
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-")
            && policy.contains("frame-ancestors 'none'")
            && !policy.contains("unsafe-inline"),
        "policy: {policy}"
    );
    let browser = reissue_e2e::Browser::open(&server).await?;
    browser.goto("/").await?;
    browser.find_by_testid("portal-login").await?;
    browser.close().await
}
