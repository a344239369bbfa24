//! 【パスワード等を紛失した方】 (manual step 5): two ways. The security-e-mail reset is built
//! with the office accounts; until then it is shown disabled, saying so.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::components::error_summary::{ErrorSummary, FormErrors};
use crate::components::layout::Page;
use crate::wizard::{Step, Wizard, WizardState};

/// The lost-password screen, step 1 of the wizard.
#[component]
pub fn Lost() -> impl IntoView {
    let wizard = Wizard::get();
    let navigate = use_navigate();
    let choice = RwSignal::new(None::<&'static str>);
    let errors = RwSignal::new(FormErrors::default());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if choice.get() == Some("security_email") {
            navigate("/reset", Default::default());
        } else if choice.get() == Some("reissue") {
            // A finished application belongs to the past: start a new one.
            if wizard.0.with_untracked(|s| s.reference_number.is_some()) {
                wizard.0.set(WizardState::default());
            }
            navigate(Step::Apply.path(), Default::default());
        } else {
            errors.set(FormErrors::of_fields(vec![
                reissue_shared::FieldError::new(
                    "lost_choice",
                    reissue_shared::FieldErrorCode::Required,
                    "いずれかを選択してください。",
                ),
            ]));
        }
    };
    let error = move || errors.with(|e| e.for_field("lost_choice"));
    view! {
        <Page title="パスワード等を紛失した方" step=1>
            <ErrorSummary errors=errors/>
            <form on:submit=on_submit novalidate>
                <fieldset class="field" class:field-error=move || error().is_some()
                    aria-describedby=move || error().map(|_| "field-lost-choice-error")>
                    <legend>"パスワード等を紛失した方は、以下のいずれかを選択し、【次へ】ボタンを押してください。"</legend>
                    {move || error().map(|message| view! {
                        <p class="error-message" id="field-lost-choice-error">
                            <span class="visually-hidden">"エラー: "</span>{message}
                        </p>
                    })}
                    <div class="radio">
                        <input type="radio" id="lost-security-email" name="lost_choice" value="security_email"
                            data-testid="choice-security-email"
                            on:change=move |_| choice.set(Some("security_email"))/>
                        <label for="lost-security-email">"セキュリティ用メールアドレスを使用してパスワードを再設定する"</label>
                    </div>
                    <div class="radio">
                        <input type="radio" id="field-lost-choice" name="lost_choice" value="reissue"
                            data-testid="choice-reissue"
                            on:change=move |_| choice.set(Some("reissue"))/>
                        <label for="field-lost-choice">"セキュリティ用メールアドレスが不明または未登録の場合はこちら"</label>
                    </div>
                </fieldset>
                <div class="actions">
                    <a class="button secondary" href="/login" data-testid="back">"戻る"</a>
                    <button type="submit" class="button" data-testid="next">"次へ"</button>
                </div>
            </form>
            <p class="lost-link">
                <a href="/status-inquiry" data-testid="status-inquiry-link">"再発行を申請済みの方は、申請状況を確認できます（申請状況照会）"</a>
            </p>
        </Page>
    }
}
