//! The office's reissue application in a real browser, screen by screen as the manual shows
//! it. Every screen passed is photographed (target/e2e-screenshots/) and checked with axe-core.

use std::time::Duration;

use anyhow::{ensure, Context};
use reissue_e2e::{Browser, Server};
use serde_json::Value;

const OFFICE: &str = "1311111111";

/// Walks portal → login → lost → apply with the given values, pressing 次へ.
async fn fill_application(
    browser: &Browser,
    office: &str,
    email: &str,
    confirmation: &str,
) -> anyhow::Result<()> {
    browser.fill_testid("input-office_number", office).await?;
    browser.fill_testid("input-email", email).await?;
    browser
        .fill_testid("input-email_confirmation", confirmation)
        .await?;
    browser.click_testid("next").await
}

/// Opens the application form directly (the lost-password screen is covered by the happy path).
async fn open_application_form(browser: &Browser) -> anyhow::Result<()> {
    browser.goto("/lost").await?;
    browser.click_testid("choice-reissue").await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/apply").await
}

/// From an empty wizard to the code screen for `email`.
async fn reach_code_screen(browser: &Browser, email: &str) -> anyhow::Result<()> {
    open_application_form(browser).await?;
    fill_application(browser, OFFICE, email, email).await?;
    browser.wait_for_path("/reissue/prefecture").await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/code").await
}

async fn assert_current_step(browser: &Browser, step: u8) -> anyhow::Result<()> {
    let current = browser
        .client()
        .find(fantoccini::Locator::Css("li[aria-current=\"step\"]"))
        .await
        .context("no step marked aria-current")?;
    let testid = current.attr("data-testid").await?.unwrap_or_default();
    ensure!(
        testid == format!("step-{step}"),
        "current step is {testid}, expected step-{step}"
    );
    // Exactly one step is current, and it is shown in bold.
    let marked = browser
        .client()
        .find_all(fantoccini::Locator::Css("li[aria-current]"))
        .await?;
    ensure!(marked.len() == 1, "{} steps marked current", marked.len());
    current
        .find(fantoccini::Locator::Css("strong"))
        .await
        .context("current step not bold")?;
    Ok(())
}

async fn assert_japan_clock(browser: &Browser) -> anyhow::Result<()> {
    let shown = browser.text_of_testid("clock").await?;
    let parts: Vec<u32> = shown.split(':').filter_map(|p| p.parse().ok()).collect();
    ensure!(
        parts.len() == 3 && shown.len() == 8,
        "clock shows {shown:?}"
    );
    let shown_seconds = i64::from(parts[0] * 3600 + parts[1] * 60 + parts[2]);
    let utc = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let japan = (utc + 9 * 3600).rem_euclid(86_400);
    let difference = (japan - shown_seconds).rem_euclid(86_400);
    ensure!(
        difference <= 3 || difference >= 86_397,
        "clock {shown} is not Japan time"
    );
    Ok(())
}

#[tokio::test]
async fn the_whole_application_from_the_portal_to_the_reference_number() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    let email = "jimusho@example.jp";

    browser.goto("/").await?;
    ensure!(browser.text_of_testid("page-title").await? == "電子請求受付システム総合窓口");
    browser.check_screen("portal").await?;
    browser.click_testid("portal-login").await?;

    browser.wait_for_path("/login").await?;
    ensure!(browser.text_of_testid("page-title").await? == "ログイン");
    browser.check_screen("login").await?;
    browser.click_testid("lost-link").await?;

    browser.wait_for_path("/lost").await?;
    assert_current_step(&browser, 1).await?;
    assert_japan_clock(&browser).await?;
    browser.check_screen("lost").await?;
    browser.click_testid("choice-reissue").await?;
    browser.click_testid("next").await?;

    browser.wait_for_path("/reissue/apply").await?;
    assert_current_step(&browser, 2).await?;
    let notes = browser.text_of_testid("apply-notes").await?;
    ensure!(
        notes.contains("代理人のログイン情報を紛失した場合、国保連合会へお問い合わせください。")
    );
    browser.check_screen("apply").await?;
    fill_application(&browser, "１３１１１１１１１１", email, email).await?;

    browser.wait_for_path("/reissue/prefecture").await?;
    let select = browser.find_by_testid("input-prefecture_code").await?;
    ensure!(
        select.prop("value").await?.as_deref() == Some("13"),
        "東京都 is pre-selected from the office number"
    );
    browser.check_screen("prefecture").await?;
    browser.click_testid("next").await?;

    browser.wait_for_path("/reissue/code").await?;
    assert_current_step(&browser, 3).await?;
    ensure!(browser
        .text_of_testid("code-sent-to")
        .await?
        .contains(email));
    let field = browser.find_by_testid("input-code").await?;
    ensure!(field.attr("inputmode").await?.as_deref() == Some("numeric"));
    ensure!(field.attr("autocomplete").await?.as_deref() == Some("one-time-code"));
    browser.check_screen("code").await?;
    let code = server.mailbox().latest_code(email).await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;

    browser.wait_for_path("/reissue/confirm").await?;
    assert_current_step(&browser, 4).await?;
    ensure!(browser.text_of_testid("confirm-office-number").await? == OFFICE);
    ensure!(browser.text_of_testid("confirm-office-name").await? == "請求事業所 A");
    ensure!(browser.text_of_testid("confirm-email").await? == email);
    ensure!(browser.text_of_testid("confirm-prefecture").await? == "東京都");
    ensure!(browser
        .text_of_testid("confirm-summary")
        .await?
        .contains("※事業所番号にお間違えがないよう、十分ご注意ください。"));
    browser.check_screen("confirm").await?;
    browser.click_testid("submit").await?;

    browser.wait_for_path("/reissue/done").await?;
    assert_current_step(&browser, 5).await?;
    ensure!(browser
        .text_of_testid("done-panel")
        .await?
        .contains("ログイン情報の再発行申請を完了しました。"));
    let reference = browser.text_of_testid("reference-number").await?;
    ensure!(
        reference.len() == 9 && reference.chars().nth(4) == Some('-'),
        "reference number {reference:?}"
    );
    ensure!(browser
        .text_of_testid("done-notes")
        .await?
        .contains("現在のパスワードでもログインすることができます。"));
    browser.check_screen("done").await?;
    browser.close().await
}

#[tokio::test]
async fn each_field_error_of_the_application_form_is_shown_and_summarised() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    open_application_form(&browser).await?;

    // Nothing entered: three errors, summarised at the top, focus on the summary.
    browser.click_testid("next").await?;
    let summary = browser.find_by_testid("error-summary").await?;
    let text = summary.text().await?;
    for expected in [
        "事業所番号を入力してください。",
        "通知先メールアドレスを入力してください。",
        "通知先メールアドレス（確認用）を入力してください。",
    ] {
        ensure!(text.contains(expected), "summary lacks {expected}: {text}");
    }
    let focused = browser.client().active_element().await?;
    ensure!(
        focused.attr("data-testid").await?.as_deref() == Some("error-summary"),
        "focus is not on the summary"
    );
    browser.check_screen("apply-empty").await?;

    // Wrong office number, checked when the field loses focus.
    browser
        .fill_testid("input-office_number", "131111111")
        .await?;
    browser
        .fill_testid("input-email", "jimusho@example.jp")
        .await?;
    let office_error = browser.text_of_testid("error-office_number").await?;
    ensure!(
        office_error.contains("事業所番号は10桁で入力してください"),
        "{office_error}"
    );
    let input = browser.find_by_testid("input-office_number").await?;
    ensure!(input.attr("aria-invalid").await?.as_deref() == Some("true"));
    ensure!(input
        .attr("aria-describedby")
        .await?
        .unwrap_or_default()
        .contains("field-office-number-error"));

    // Confirmation that differs.
    fill_application(&browser, OFFICE, "jimusho@example.jp", "jimusyo@example.jp").await?;
    let mismatch = browser.text_of_testid("error-email_confirmation").await?;
    ensure!(mismatch.contains("一致しません"), "{mismatch}");
    ensure!(
        !browser.has_testid("error-office_number").await?,
        "the corrected office number is no longer in error"
    );
    browser.check_screen("apply-mismatch").await?;

    // An invalid address.
    fill_application(&browser, OFFICE, "jimusho@", "jimusho@").await?;
    ensure!(browser
        .text_of_testid("error-email")
        .await?
        .contains("形式が正しくありません"));
    ensure!(browser.current_path().await? == "/reissue/apply");
    browser.close().await
}

#[tokio::test]
async fn an_office_that_is_not_a_care_office_is_told_why_on_the_prefecture_screen(
) -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    open_application_form(&browser).await?;
    fill_application(
        &browser,
        "1312345678",
        "shogai@example.jp",
        "shogai@example.jp",
    )
    .await?;
    browser.wait_for_path("/reissue/prefecture").await?;
    browser.click_testid("next").await?;
    let summary = browser.text_of_testid("error-summary").await?;
    ensure!(
        summary.contains("介護事業所のログイン情報のみ再発行を申請できます"),
        "{summary}"
    );
    browser.check_screen("prefecture-not-care").await?;

    // The care office in another prefecture's ledger: the error sits on the prefecture field.
    open_application_form(&browser).await?;
    fill_application(&browser, OFFICE, "a@example.jp", "a@example.jp").await?;
    browser.wait_for_path("/reissue/prefecture").await?;
    browser
        .find_by_testid("input-prefecture_code")
        .await?
        .select_by_value("31")
        .await?;
    browser.click_testid("next").await?;
    let error = browser.text_of_testid("error-prefecture_code").await?;
    ensure!(
        error.contains("鳥取県の事業所台帳に登録されていません"),
        "{error}"
    );
    browser.close().await
}

#[tokio::test]
async fn a_wrong_code_then_the_right_one() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    let email = "wrong@example.jp";
    reach_code_screen(&browser, email).await?;
    let code = server.mailbox().latest_code(email).await?;
    let wrong = format!("{:04}", (code.parse::<u32>()? + 1) % 10_000);
    browser.fill_testid("input-code", &wrong).await?;
    browser.click_testid("next").await?;
    let error = browser.text_of_testid("error-code").await?;
    ensure!(
        error.contains("確認コードが正しくありません") && error.contains("あと4回"),
        "{error}"
    );
    browser.check_screen("code-wrong").await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/confirm").await?;
    browser.close().await
}

#[tokio::test]
async fn resending_mails_a_new_code_and_only_that_one_works() -> anyhow::Result<()> {
    let server = Server::start_with_env(true, &[("REISSUE_RESEND_INTERVAL_SECONDS", "0")]).await?;
    let browser = Browser::open(&server).await?;
    let email = "resend@example.jp";
    reach_code_screen(&browser, email).await?;
    let mailbox = server.mailbox();
    let first = mailbox.latest_code(email).await?;
    let seen = mailbox.messages(email).await?.len();
    browser.click_testid("resend").await?;
    let status = browser.text_of_testid("resend-status").await?;
    ensure!(status.contains("再送信しました"), "{status}");
    browser.check_screen("code-resent").await?;
    let second = mailbox.next_code(email, seen).await?;
    if first != second {
        browser.fill_testid("input-code", &first).await?;
        browser.click_testid("next").await?;
        ensure!(browser
            .text_of_testid("error-code")
            .await?
            .contains("正しくありません"));
    }
    browser.fill_testid("input-code", &second).await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/confirm").await?;
    browser.close().await
}

#[tokio::test]
async fn back_from_the_code_screen_reapplies_with_the_fields_filled_in() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    reach_code_screen(&browser, "typo@example.jp").await?;
    browser.click_testid("back").await?;
    browser.wait_for_path("/reissue/apply").await?;
    let office = browser
        .find_by_testid("input-office_number")
        .await?
        .prop("value")
        .await?;
    let email = browser
        .find_by_testid("input-email")
        .await?
        .prop("value")
        .await?;
    ensure!(office.as_deref() == Some(OFFICE) && email.as_deref() == Some("typo@example.jp"));
    // Correct the address and apply again: the code goes to the new address.
    fill_application(&browser, OFFICE, "fixed@example.jp", "fixed@example.jp").await?;
    browser.wait_for_path("/reissue/prefecture").await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/code").await?;
    ensure!(browser
        .text_of_testid("code-sent-to")
        .await?
        .contains("fixed@example.jp"));
    server.mailbox().latest_code("fixed@example.jp").await?;
    browser.close().await
}

#[tokio::test]
async fn a_reload_in_the_middle_keeps_the_place_and_a_deep_link_leads_back() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;

    // A later step's URL without the earlier steps leads to the first step still needed.
    browser.goto("/reissue/confirm").await?;
    browser.wait_for_path("/reissue/apply").await?;

    reach_code_screen(&browser, "reload@example.jp").await?;
    browser.refresh().await?;
    browser.wait_for_path("/reissue/code").await?;
    ensure!(browser
        .text_of_testid("code-sent-to")
        .await?
        .contains("reload@example.jp"));
    browser.goto("/reissue/done").await?;
    browser.wait_for_path("/reissue/code").await?;
    let code = server.mailbox().latest_code("reload@example.jp").await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/confirm").await?;
    browser.close().await
}

#[tokio::test]
async fn the_back_button_after_submission_cannot_send_twice() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    let email = "once@example.jp";
    reach_code_screen(&browser, email).await?;
    let code = server.mailbox().latest_code(email).await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reissue/confirm").await?;
    browser.click_testid("submit").await?;
    browser.wait_for_path("/reissue/done").await?;
    let reference = browser.text_of_testid("reference-number").await?;

    browser.back().await?;
    browser.wait_for_path("/reissue/done").await?;
    ensure!(
        !browser.has_testid("submit").await?,
        "the 送信 button is not offered again"
    );
    ensure!(browser.text_of_testid("reference-number").await? == reference);

    // The server holds one submitted application with that reference number.
    let saved = browser
        .client()
        .execute("return sessionStorage.getItem('reissue-wizard')", vec![])
        .await?;
    let state: Value = serde_json::from_str(saved.as_str().unwrap_or_default())?;
    let id = state["application_id"].as_str().unwrap_or_default();
    let token = state["token"].as_str().unwrap_or_default();
    let view: Value = server
        .http()
        .get(server.url(&format!("/api/v1/reissue-applications/{id}")))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        view["status"] == "submitted" && view["reference_number"] == reference.as_str(),
        "{view}"
    );
    browser.close().await
}

#[tokio::test]
async fn the_form_works_on_a_narrow_phone_screen() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    browser.set_window_size(360, 800).await?;
    open_application_form(&browser).await?;
    browser.check_screen("apply-360px").await?;
    // Nothing is wider than the screen.
    let overflow = browser
        .client()
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await?;
    ensure!(
        overflow == Value::Bool(false),
        "the page scrolls sideways at 360 px"
    );
    browser.close().await
}

#[tokio::test]
async fn the_clock_ticks_in_japan_time() -> anyhow::Result<()> {
    let server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    browser.goto("/lost").await?;
    let before = browser.text_of_testid("clock").await?;
    assert_japan_clock(&browser).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ensure!(
        browser.text_of_testid("clock").await? != before,
        "the clock does not tick"
    );
    assert_japan_clock(&browser).await?;
    browser.close().await
}

#[tokio::test]
async fn a_lost_connection_shows_a_polite_retry_message_and_keeps_the_input() -> anyhow::Result<()>
{
    let mut server = Server::start(true).await?;
    let browser = Browser::open(&server).await?;
    open_application_form(&browser).await?;
    browser.fill_testid("input-office_number", OFFICE).await?;
    browser
        .fill_testid("input-email", "offline@example.jp")
        .await?;
    browser
        .fill_testid("input-email_confirmation", "offline@example.jp")
        .await?;
    server.kill()?;
    browser.click_testid("next").await?;
    let message = browser.text_of_testid("error-general").await?;
    ensure!(message.contains("通信できませんでした"), "{message}");
    ensure!(browser.current_path().await? == "/reissue/apply");
    let kept = browser
        .find_by_testid("input-email")
        .await?
        .prop("value")
        .await?;
    ensure!(
        kept.as_deref() == Some("offline@example.jp"),
        "the input is kept"
    );
    let button = browser.find_by_testid("next").await?;
    ensure!(
        button.attr("disabled").await?.is_none(),
        "次へ can be pressed again"
    );
    browser.check_screen("apply-offline").await?;
    browser.close().await
}
