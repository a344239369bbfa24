//! The harness's mailbox reader against the real binary: a code mailed through the API is read
//! from the development mailbox, the browser app starting under its security headers, and the
//! office app and the reviewers' console each loading only its own files, and the page's frame
//! while they load.

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

/// Until the app has loaded, a person on a slow line sees the system's name and a line saying
/// the screen is on its way (the static frame of `index.html` and `console.html`), not a blank
/// page; once the app is there, its own frame has taken that place: one header, no loading line.
#[tokio::test]
async fn the_page_says_it_is_loading_until_the_app_takes_its_place() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    for path in ["/reissue/apply", "/admin/login"] {
        let html = server
            .http()
            .get(server.url(path))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        anyhow::ensure!(
            html.contains(r#"<div id="loading">"#)
                && html.contains(r#"<p class="site-name">電子請求受付システム</p>"#)
                && html.contains("画面を読み込んでいます。しばらくお待ちください。"),
            "{path} before the app: {html}"
        );
    }
    let browser = reissue_e2e::Browser::open(&server).await?;
    browser.goto("/reissue/apply").await?;
    browser.find_by_testid("apply-notes").await?;
    assert_eq!(browser.count_css("#loading").await?, 0);
    assert_eq!(browser.count_css(".site-header").await?, 1);
    browser.goto("/admin/login").await?;
    browser.find_by_testid("admin-login").await?;
    assert_eq!(browser.count_css("#loading").await?, 0);
    browser.close().await
}

/// The wasm files a page has loaded.
fn wasm_files(paths: &[String]) -> Vec<&str> {
    paths
        .iter()
        .map(String::as_str)
        .filter(|path| path.ends_with(".wasm"))
        .collect()
}

/// An office going through its screens downloads the office app only, never the reviewers'
/// console; a console URL opened directly loads the console alone, and the console's link to
/// the portal is a full page load into the office app.
#[tokio::test]
async fn offices_never_load_the_console_and_the_console_opens_directly() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = reissue_e2e::Browser::open(&server).await?;

    browser.goto("/").await?;
    browser.click_testid("portal-login").await?;
    browser.click_testid("lost-link").await?;
    browser.goto("/reissue/apply").await?;
    browser.find_by_testid("apply-notes").await?;
    let office = browser.loaded_paths().await?;
    anyhow::ensure!(
        matches!(wasm_files(&office)[..], [wasm] if wasm.starts_with("/reissue-web-")),
        "the office page loaded {office:?}"
    );
    anyhow::ensure!(
        !office.iter().any(|path| path.starts_with("/console/")),
        "the office page loaded console files: {office:?}"
    );

    browser.goto("/admin/login").await?;
    browser.find_by_testid("admin-login").await?;
    assert_eq!(
        browser.text_of_testid("page-title").await?,
        "審査担当者ログイン"
    );
    let console = browser.loaded_paths().await?;
    anyhow::ensure!(
        matches!(wasm_files(&console)[..], [wasm] if wasm.starts_with("/console/reissue-console-")),
        "the console page loaded {console:?}"
    );

    browser.goto("/admin/no-such-page").await?;
    browser.click_testid("to-portal").await?;
    browser.find_by_testid("portal-login").await?;
    let portal = browser.loaded_paths().await?;
    anyhow::ensure!(
        matches!(wasm_files(&portal)[..], [wasm] if wasm.starts_with("/reissue-web-")),
        "after the console's link the portal loaded {portal:?}"
    );
    browser.close().await
}
