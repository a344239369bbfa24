//! 申請状況照会 in a real browser: an office sends its application, then asks where it stands
//! with the 受付番号 and its 通知先メールアドレス. Every screen passed is photographed
//! (target/e2e-screenshots/) and checked with axe-core.

use anyhow::ensure;
use reissue_e2e::{Browser, Server};

const OFFICE: &str = "1311111111";

/// From an empty wizard to 【終了】 for `email`; the reference number shown.
async fn submit_application(
    server: &Server,
    browser: &Browser,
    email: &str,
) -> anyhow::Result<String> {
    browser.goto("/lost").await?;
    browser.click_testid("choice-reissue").await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/apply").await?;
    browser.fill_testid("input-office_number", OFFICE).await?;
    browser.fill_testid("input-email", email).await?;
    browser
        .fill_testid("input-email_confirmation", email)
        .await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/prefecture").await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/code").await?;
    let code = server.mailbox().latest_code(email).await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/confirm").await?;
    browser.click_testid("submit").await?;
    browser.wait_for_path("/reissue/done").await?;
    browser.text_of_testid("reference-number").await
}

#[tokio::test]
async fn an_office_asks_for_the_status_of_its_submitted_application() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    let email = "inquiry@example.jp";
    let reference = submit_application(&server, &browser, email).await?;

    // 【終了】 leads to the inquiry, with the number filled in.
    browser.click_testid("status-inquiry-link").await?;
    browser.wait_for_path("/status-inquiry").await?;
    ensure!(browser.text_of_testid("page-title").await? == "申請状況照会");
    let shown = browser
        .find_by_testid("input-reference_number")
        .await?
        .prop("value")
        .await?;
    ensure!(shown.as_deref() == Some(reference.as_str()), "{shown:?}");
    browser.check_screen("status-inquiry").await?;

    // Nothing is found for another address, and the page does not say which field is wrong.
    browser
        .fill_testid("input-email", "someone@example.jp")
        .await?;
    browser.click_testid("next").await?;
    let summary = browser.text_of_testid("error-summary").await?;
    ensure!(
        summary.contains("一致する申請が見つかりません"),
        "{summary}"
    );
    ensure!(!browser.has_testid("status-answer").await?);
    browser.check_screen("status-inquiry-not-found").await?;

    // The right address: 審査待ち, with the date it was sent.
    browser.fill_testid("input-email", email).await?;
    browser.click_testid("next").await?;
    let label = browser.text_of_testid("status-label").await?;
    ensure!(label == "審査待ち", "{label}");
    let submitted = browser.text_of_testid("status-submitted-at").await?;
    ensure!(
        submitted.len() == 16 && submitted.chars().nth(4) == Some('/'),
        "{submitted}"
    );
    ensure!(!browser.has_testid("error-summary").await?);
    ensure!(!browser.has_testid("status-rejection-reason").await?);
    let region = browser.find_by_testid("status-answer-region").await?;
    ensure!(region.attr("aria-live").await?.as_deref() == Some("polite"));
    browser.check_screen("status-inquiry-answer").await?;
    browser.close().await
}

#[tokio::test]
async fn the_lost_password_screen_leads_to_the_inquiry_whose_form_checks_its_fields(
) -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    browser.goto("/lost").await?;
    browser.click_testid("status-inquiry-link").await?;
    browser.wait_for_path("/status-inquiry").await?;

    // Checked in the browser by the shared rules before anything is sent.
    browser
        .fill_testid("input-reference_number", "K7MX-3HP")
        .await?;
    browser.fill_testid("input-email", "jimusho@").await?;
    browser.click_testid("next").await?;
    let number_error = browser.text_of_testid("error-reference_number").await?;
    ensure!(number_error.contains("英数字8文字"), "{number_error}");
    let email_error = browser.text_of_testid("error-email").await?;
    ensure!(
        email_error.contains("形式が正しくありません"),
        "{email_error}"
    );
    let input = browser.find_by_testid("input-reference_number").await?;
    ensure!(input.attr("aria-invalid").await?.as_deref() == Some("true"));
    browser.check_screen("status-inquiry-errors").await?;

    browser.click_testid("back").await?;
    browser.wait_for_path("/lost").await?;
    browser.close().await
}
