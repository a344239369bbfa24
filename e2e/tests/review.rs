//! The federation's side in a real browser: a reviewer logs in, finds the application the
//! office filed and approves it; a second reviewer of the prefecture confirms the approval
//! (four-eyes issuance), prints the notice and marks it posted; the office then logs in with
//! the temporary password from that notice, must set a new one, and logs in with it.

use anyhow::{ensure, Context};
use reissue_e2e::{Authenticators, Browser, Server};
use serde_json::{json, Value};

const DEMO_PASSWORD: &str = "e2e-demo-password-2026";

/// Files an application for 1311111111 (東京都) through the API; returns its reference number.
async fn file_application(server: &Server, email: &str) -> anyhow::Result<String> {
    Ok(file_application_with_id(server, email).await?.1)
}

/// The same, returning the application's id and reference number.
async fn file_application_with_id(
    server: &Server,
    email: &str,
) -> anyhow::Result<(String, String)> {
    server.file_application("1311111111", "13", email).await
}

/// `POST /api/v1/admin/applications/{id}/{action}` with a reviewer token.
async fn reviewer_post(
    server: &Server,
    token: &str,
    id: &str,
    action: &str,
    body: Value,
) -> anyhow::Result<Value> {
    Ok(server
        .http()
        .post(server.url(&format!("/api/v1/admin/applications/{id}/{action}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The text of an element of the notice inside the iframe.
async fn notice_field(browser: &Browser, testid: &str) -> anyhow::Result<String> {
    let script = format!(
        "return document.querySelector('[data-testid=notice-frame]').contentDocument.querySelector('[data-testid={testid}]').textContent"
    );
    let value = browser.client().execute(&script, vec![]).await?;
    Ok(value.as_str().unwrap_or_default().trim().to_owned())
}

/// Scrolls the element of `testid` to the top of the viewport (to photograph it).
async fn scroll_to(browser: &Browser, testid: &str) -> anyhow::Result<()> {
    let script = format!("document.querySelector('[data-testid={testid}]').scrollIntoView()");
    browser.client().execute(&script, vec![]).await?;
    Ok(())
}

#[tokio::test]
async fn a_reviewer_approves_another_confirms_and_the_office_logs_in_with_the_notices_temporary_password(
) -> anyhow::Result<()> {
    let server = Server::start_with_env(true, &[("REISSUE_DEMO_PASSWORD", DEMO_PASSWORD)]).await?;
    let reference = file_application(&server, "office@example.jp").await?;
    let browser = Browser::open(&server).await?;

    let phone = Authenticators::new();
    browser
        .log_in_reviewer(&phone, "demo-tokyo", DEMO_PASSWORD)
        .await?;
    browser.find_by_testid("queue-row").await?;
    browser.check_screen("admin-queue").await?;
    // Nothing is approved yet: the batch of notices waiting to be posted is empty.
    browser.click_testid("print-batch").await?;
    browser.find_by_testid("batch-frame").await?;

    browser.fill_testid("input-q", &reference).await?;
    browser.click_testid("search").await?;
    let row = browser.find_by_testid("queue-row").await?;
    ensure!(row.text().await?.contains("請求事業所 A"));
    row.find(fantoccini::Locator::Css("a"))
        .await?
        .click()
        .await?;

    browser.find_by_testid("admin-detail").await?;
    ensure!(
        browser
            .text_of_testid("ledger-entry")
            .await?
            .contains("03-0000-1111"),
        "the ledger phone number is shown"
    );
    browser.check_screen("admin-detail").await?;
    browser.click_testid("start-review").await?;
    browser.find_by_testid("approve").await?;
    ensure!(browser.text_of_testid("admin-status").await? == "審査中");
    browser.click_testid("approve").await?;
    // Four-eyes issuance: the approval waits for another reviewer; nothing to print yet.
    browser.find_by_testid("awaiting-other").await?;
    ensure!(browser.text_of_testid("admin-status").await? == "二次承認待ち");
    ensure!(!browser.has_testid("print-notice").await?);
    ensure!(!browser.has_testid("confirm-approval").await?);
    ensure!(browser
        .text_of_testid("approved-by")
        .await?
        .contains("東京都国保連合会 審査担当（デモ）"));
    scroll_to(&browser, "approval").await?;
    browser.check_screen("admin-awaiting-confirmation").await?;
    let detail_path = browser.current_path().await?;

    // The second reviewer of 東京都 finds it under 二次承認待ち and confirms it.
    browser.goto("/admin").await?;
    browser.click_testid("admin-logout").await?;
    browser.wait_for_path("/admin/login").await?;
    browser
        .log_in_reviewer(&phone, "demo-tokyo-2", DEMO_PASSWORD)
        .await?;
    browser.click_testid("tab-awaiting_confirmation").await?;
    let row = browser.find_by_testid("queue-row").await?;
    ensure!(row.text().await?.contains("二次承認待ち"));
    browser
        .check_screen("admin-queue-awaiting-confirmation")
        .await?;
    row.find(fantoccini::Locator::Css("a"))
        .await?
        .click()
        .await?;
    browser.wait_for_path(&detail_path).await?;
    browser.find_by_testid("confirm-approval").await?;
    scroll_to(&browser, "approval").await?;
    browser.check_screen("admin-confirmation").await?;
    browser.click_testid("confirm-approval").await?;
    browser.find_by_testid("print-notice").await?;
    ensure!(browser.text_of_testid("admin-status").await? == "承認");
    ensure!(browser
        .text_of_testid("confirmed-by")
        .await?
        .contains("東京都国保連合会 審査担当2（デモ）"));
    ensure!(browser
        .text_of_testid("history")
        .await?
        .contains("承認を確定（二次承認）"));
    browser.click_testid("print-notice").await?;
    browser.find_by_testid("notice-frame").await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let user_id = notice_field(&browser, "notice-user-id").await?;
    let password = notice_field(&browser, "notice-password").await?;
    ensure!(
        user_id.starts_with("KJ") && password.len() == 12,
        "notice shows {user_id:?} / {password:?}"
    );
    // The frame runs no script, and the notice's own style still applies under the console's
    // Content-Security-Policy (a srcdoc document obeys its parent's), which admits it by hash.
    let frame_facts = browser
        .client()
        .execute(
            "const frame = document.querySelector('[data-testid=notice-frame]');\
             const sheet = frame.contentDocument.querySelector('.sheet');\
             return [frame.getAttribute('sandbox'), getComputedStyle(sheet).boxSizing];",
            vec![],
        )
        .await?;
    ensure!(
        frame_facts == serde_json::json!(["allow-same-origin allow-modals", "border-box"]),
        "notice frame: {frame_facts}"
    );
    // Photograph the printable notice itself, not the buttons above it.
    browser
        .client()
        .execute(
            "document.querySelector('[data-testid=notice-frame]').scrollIntoView()",
            vec![],
        )
        .await?;
    browser.check_screen("admin-notice").await?;
    browser.click_testid("notice-mailed").await?;
    browser.find_by_testid("notice-mailed-at").await?;
    ensure!(browser.text_of_testid("history").await?.contains("郵送済"));
    // Printing again would mint a new temporary password: it needs a reprint request now.
    browser.find_by_testid("request-reprint").await?;
    ensure!(!browser.has_testid("print-notice").await?);
    scroll_to(&browser, "approval").await?;
    browser.check_screen("admin-reprint-needed").await?;

    // The office, with the letter in hand.
    browser.goto("/login").await?;
    browser.fill_testid("input-user_id", &user_id).await?;
    browser.fill_testid("input-password", &password).await?;
    browser.click_testid("login-submit").await?;
    browser.wait_for_path("/account/password").await?;
    browser.find_by_testid("change-required").await?;
    browser.check_screen("office-change-password").await?;
    browser
        .fill_testid("input-current_password", &password)
        .await?;
    browser.fill_testid("input-new_password", "short").await?;
    browser
        .fill_testid("input-new_password_confirmation", "short")
        .await?;
    browser.click_testid("change-password").await?;
    ensure!(browser
        .text_of_testid("error-new_password")
        .await?
        .contains("10文字以上"));
    browser
        .fill_testid("input-new_password", "shinjuku-kaigo-2026")
        .await?;
    browser
        .fill_testid("input-new_password_confirmation", "shinjuku-kaigo-2026")
        .await?;
    browser.click_testid("change-password").await?;
    browser.wait_for_path("/account").await?;
    ensure!(browser
        .text_of_testid("logged-in")
        .await?
        .contains("請求事業所 A"));
    browser.check_screen("office-account").await?;
    browser.click_testid("logout").await?;
    browser.wait_for_path("/login").await?;

    // The old demo password is retired; the new one works.
    browser.fill_testid("input-user_id", &user_id).await?;
    browser.fill_testid("input-password", DEMO_PASSWORD).await?;
    browser.click_testid("login-submit").await?;
    ensure!(browser
        .text_of_testid("error-summary")
        .await?
        .contains("ユーザIDまたはパスワードが正しくありません"));
    browser
        .fill_testid("input-password", "shinjuku-kaigo-2026")
        .await?;
    browser.click_testid("login-submit").await?;
    browser.wait_for_path("/account").await?;
    browser.close().await
}

#[tokio::test]
async fn a_posted_notice_prints_again_only_after_another_reviewer_confirms_the_reprint(
) -> anyhow::Result<()> {
    let server = Server::start_with_env(true, &[("REISSUE_DEMO_PASSWORD", DEMO_PASSWORD)]).await?;
    let (id, _) = file_application_with_id(&server, "reprint@example.jp").await?;
    // Approved the four-eyes way, printed and posted, through the API.
    let phone = Authenticators::new();
    let first = phone
        .console_token(&server, "demo-tokyo", DEMO_PASSWORD)
        .await?;
    let second = phone
        .console_token(&server, "demo-tokyo-2", DEMO_PASSWORD)
        .await?;
    reviewer_post(&server, &first, &id, "review", json!({})).await?;
    reviewer_post(
        &server,
        &first,
        &id,
        "decision",
        json!({"decision": "approved"}),
    )
    .await?;
    reviewer_post(
        &server,
        &second,
        &id,
        "confirmation",
        json!({"confirm": true}),
    )
    .await?;
    let notice = server
        .http()
        .get(server.url(&format!("/api/v1/admin/applications/{id}/notice")))
        .bearer_auth(&first)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let marker = "data-testid=\"notice-password\">";
    let start = notice.find(marker).context("notice password")? + marker.len();
    let old_password = notice[start..start + notice[start..].find('<').context("end")?].to_owned();
    reviewer_post(&server, &first, &id, "notice-mailed", json!({})).await?;

    // demo-tokyo-2 asks for a reprint, with a reason; they cannot confirm it themself.
    let browser = Browser::open(&server).await?;
    browser
        .log_in_reviewer(&phone, "demo-tokyo-2", DEMO_PASSWORD)
        .await?;
    browser.goto(&format!("/admin/applications/{id}")).await?;
    browser.find_by_testid("request-reprint").await?;
    browser.click_testid("request-reprint").await?;
    ensure!(browser
        .text_of_testid("error-reason")
        .await?
        .contains("再印刷の理由を入力してください"));
    browser
        .fill_testid("input-reason", "宛先不明で返送されたため")
        .await?;
    browser.click_testid("request-reprint").await?;
    browser.find_by_testid("reprint-awaiting-other").await?;
    ensure!(!browser.has_testid("confirm-reprint").await?);
    scroll_to(&browser, "reprint-request").await?;
    browser.check_screen("admin-reprint-requested").await?;

    // demo-tokyo confirms it; a new temporary password prints.
    browser.goto("/admin").await?;
    browser.click_testid("admin-logout").await?;
    browser.wait_for_path("/admin/login").await?;
    browser
        .log_in_reviewer(&phone, "demo-tokyo", DEMO_PASSWORD)
        .await?;
    browser.goto(&format!("/admin/applications/{id}")).await?;
    ensure!(browser
        .text_of_testid("reprint-request")
        .await?
        .contains("宛先不明で返送されたため"));
    scroll_to(&browser, "reprint-request").await?;
    browser.check_screen("admin-reprint-confirmation").await?;
    browser.click_testid("confirm-reprint").await?;
    browser.find_by_testid("print-notice").await?;
    ensure!(browser
        .text_of_testid("history")
        .await?
        .contains("再印刷を確定"));
    browser.click_testid("print-notice").await?;
    browser.find_by_testid("notice-frame").await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let new_password = notice_field(&browser, "notice-password").await?;
    ensure!(
        new_password.len() == 12 && new_password != old_password,
        "the reprint shows a new temporary password"
    );
    browser.close().await
}
