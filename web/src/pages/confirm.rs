//! 【送信確認】 (manual step 10): what will be sent, with the manual's warning on the office
//! number. 送信 submits once.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::{ErrorCode, OfficeNumber, PrefectureCode};

use super::guard;
use crate::components::error_summary::{ErrorSummary, FormErrors};
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::wizard::{Step, Wizard};

/// The confirmation screen.
#[component]
pub fn Confirm() -> impl IntoView {
    if let Some(redirect) = guard(Step::Confirm) {
        return redirect;
    }
    let wizard = Wizard::get();
    let navigate = use_navigate();
    let state = wizard.0.get_untracked();
    let office_number = OfficeNumber::parse(&state.office_number)
        .map(|n| n.to_string())
        .unwrap_or(state.office_number.clone());
    let prefecture = state
        .prefecture_code
        .as_deref()
        .and_then(|c| PrefectureCode::parse(c).ok())
        .map(|c| c.name())
        .unwrap_or_default();
    let errors = RwSignal::new(FormErrors::default());

    let submit = {
        let navigate = navigate.clone();
        Action::new_local(move |_: &()| {
            let navigate = navigate.clone();
            async move {
                let Some(applicant) = wizard.applicant() else {
                    navigate(Step::Apply.path(), Default::default());
                    return;
                };
                match applicant.submit().await {
                    Ok(submitted) => {
                        wizard
                            .0
                            .update(|s| s.reference_number = Some(submitted.reference_number));
                        navigate(Step::Done.path(), Default::default());
                    }
                    // Sent before (e.g. from another tab): show the result instead of an error.
                    Err(failure) if failure.code() == Some(ErrorCode::AlreadySubmitted) => {
                        if let Ok(view) = applicant.application().await {
                            wizard
                                .0
                                .update(|s| s.reference_number = view.reference_number);
                            navigate(Step::Done.path(), Default::default());
                        }
                    }
                    Err(failure) => errors.set(FormErrors {
                        general: Some(failure.message()),
                        fields: Vec::new(),
                    }),
                }
            }
        })
    };
    let pending = submit.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !pending.get_untracked() {
            submit.dispatch_local(());
        }
    };
    let go_back = move |_| {
        wizard.0.update(|s| s.restart_keeping_input());
        navigate(Step::Apply.path(), Default::default());
    };

    view! {
        <Page title="送信確認" step=4>
            <ErrorSummary errors=errors/>
            <p class="lead">
                "ログイン情報の再発行申請を行います。"<br/>
                "内容を確認し、【送信】ボタンを押してください。"
            </p>
            <dl class="summary" data-testid="confirm-summary">
                <div>
                    <dt>"事業所番号"</dt>
                    <dd>
                        <span data-testid="confirm-office-number">{office_number}</span>
                        <p class="warning">"※事業所番号にお間違えがないよう、十分ご注意ください。"</p>
                    </dd>
                </div>
                <div>
                    <dt>"事業所名"</dt>
                    <dd data-testid="confirm-office-name">{state.office_name.clone().unwrap_or_default()}</dd>
                </div>
                <div>
                    <dt>"通知先メールアドレス"</dt>
                    <dd data-testid="confirm-email">{state.code_sent_to.clone().unwrap_or_default()}</dd>
                </div>
                <div>
                    <dt>"請求先都道府県"</dt>
                    <dd data-testid="confirm-prefecture">{prefecture}</dd>
                </div>
            </dl>
            <form on:submit=on_submit novalidate>
                <div class="actions">
                    <button type="button" class="button secondary" data-testid="back" on:click=go_back>"戻る"</button>
                    <SubmitButton label="送信" busy_label="送信中…" pending=pending testid="submit"/>
                </div>
            </form>
        </Page>
    }
    .into_any()
}
