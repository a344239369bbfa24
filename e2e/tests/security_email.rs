//! The security-e-mail path in a real browser: a logged-in office registers its security
//! e-mail with the 6-digit code; later, having lost the password, it resets it from
//! 【パスワード等を紛失した方】 with that address and logs in with the new password.

use anyhow::ensure;
use reissue_e2e::{Browser, Server};

const DEMO_PASSWORD: &str = "e2e-demo-password-2026";
const USER: &str = "KJ1311111111";

/// The 6 digits after 【確認コード】 in the newest of `n` mails.
async fn code_from_mail(server: &Server, to: &str, seen: usize) -> anyhow::Result<String> {
    let message = server.mailbox().wait_for_message(to, seen).await?;
    let code = reissue_e2e::code_from_body(&message.body).unwrap_or_default();
    ensure!(code.len() == 6, "expected a 6-digit code, got {code:?}");
    Ok(code)
}

#[tokio::test]
async fn an_office_registers_a_security_email_and_later_resets_its_password_with_it(
) -> anyhow::Result<()> {
    let server = Server::start_with_env(true, &[("REISSUE_DEMO_PASSWORD", DEMO_PASSWORD)]).await?;
    let browser = Browser::open(&server).await?;
    let address = "security@example.jp";

    browser.goto("/login").await?;
    browser.fill_testid("input-user_id", USER).await?;
    browser.fill_testid("input-password", DEMO_PASSWORD).await?;
    browser.click_testid("login-submit").await?;
    browser.wait_for_path("/account").await?;
    browser.click_testid("to-security-email").await?;
    browser.wait_for_path("/account/security-email").await?;
    browser.check_screen("security-email").await?;
    browser.fill_testid("input-email", address).await?;
    browser
        .fill_testid("input-email_confirmation", address)
        .await?;
    browser
        .fill_testid("input-current_password", DEMO_PASSWORD)
        .await?;
    browser.click_testid("next").await?;
    browser.find_by_testid("input-code").await?;
    browser.check_screen("security-email-code").await?;
    let code = code_from_mail(&server, address, 0).await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;
    ensure!(browser
        .text_of_testid("security-email-registered")
        .await?
        .contains(address));
    browser.goto("/account").await?;
    browser.click_testid("logout").await?;

    // The password is lost: 【パスワード等を紛失した方】, first choice.
    browser.goto("/lost").await?;
    browser.click_testid("choice-security-email").await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/reset").await?;
    browser.check_screen("reset").await?;
    browser.fill_testid("input-user_id", USER).await?;
    browser.fill_testid("input-security_email", address).await?;
    browser.click_testid("next").await?;
    browser.find_by_testid("reset-code-sent").await?;
    browser.check_screen("reset-code").await?;
    let code = code_from_mail(&server, address, 1).await?;
    browser.fill_testid("input-code", &code).await?;
    browser.click_testid("next").await?;
    browser.find_by_testid("input-new_password").await?;
    browser
        .fill_testid("input-new_password", "reset-by-mail-2026")
        .await?;
    browser.click_testid("next").await?;
    browser.wait_for_path("/account").await?;
    browser.click_testid("logout").await?;
    browser.fill_testid("input-user_id", USER).await?;
    browser
        .fill_testid("input-password", "reset-by-mail-2026")
        .await?;
    browser.click_testid("login-submit").await?;
    browser.wait_for_path("/account").await?;
    browser.close().await
}
