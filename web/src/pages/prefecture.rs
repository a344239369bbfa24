//! 【請求先都道府県選択】 (manual step 7): the billing prefecture, pre-selected from the office
//! number's first two digits. 次へ checks the ledger and mails the code.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::{OfficeNumber, PrefectureCode};

use super::guard;
use crate::components::error_summary::{field_id, ErrorSummary, FormErrors};
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::wizard::{Step, Wizard};

/// The prefecture choice.
#[component]
pub fn ChoosePrefecture() -> impl IntoView {
    if let Some(redirect) = guard(Step::Prefecture) {
        return redirect;
    }
    let wizard = Wizard::get();
    let navigate = use_navigate();
    let state = wizard.0.get_untracked();
    let preselected = state.prefecture_code.clone().unwrap_or_else(|| {
        OfficeNumber::parse(&state.office_number)
            .map(|n| n.prefecture().as_str().to_owned())
            .unwrap_or_default()
    });
    let selected = RwSignal::new(preselected);
    let errors = RwSignal::new(FormErrors::default());

    let choose = Action::new_local(move |code: &String| {
        let code = code.clone();
        let navigate = navigate.clone();
        async move {
            let Some(applicant) = wizard.applicant() else {
                navigate(Step::Apply.path(), Default::default());
                return;
            };
            match applicant.choose_prefecture(&code).await {
                Ok(sent) => {
                    wizard.0.update(|s| {
                        s.prefecture_code = Some(code.clone());
                        s.code_sent_to = Some(sent.email);
                    });
                    navigate(Step::Code.path(), Default::default());
                }
                Err(failure) => {
                    wizard.0.update(|s| s.forget_application_if_gone(&failure));
                    errors.set(FormErrors::from(&failure));
                }
            }
        }
    });
    let pending = choose.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        match PrefectureCode::parse(&selected.get_untracked()) {
            Ok(code) => {
                errors.set(FormErrors::default());
                choose.dispatch_local(code.as_str().to_owned());
            }
            Err(error) => errors.set(FormErrors::of_fields(vec![error])),
        }
    };
    let error = move || errors.with(|e| e.for_field("prefecture_code"));
    let id = field_id("prefecture_code");
    let options = PrefectureCode::all()
        .map(|code| {
            let value = code.as_str();
            view! { <option value=value selected=move || selected.get() == value>{code.name()}</option> }
        })
        .collect_view();
    view! {
        <Page title="請求先都道府県選択" step=2>
            <ErrorSummary errors=errors/>
            <p class="lead">
                "ログイン情報の再発行申請を行います。"<br/>
                "請求先都道府県を選択し、【次へ】ボタンを押してください。"
            </p>
            <form on:submit=on_submit novalidate>
                <div class="field" class:field-error=move || error().is_some()>
                    <label for=id.clone()>"請求先都道府県"</label>
                    {move || error().map(|message| view! {
                        <p class="error-message" id="field-prefecture-code-error" data-testid="error-prefecture_code">
                            <span class="visually-hidden">"エラー: "</span>{message}
                        </p>
                    })}
                    <select id=id.clone() name="prefecture_code" class="input-medium" data-testid="input-prefecture_code"
                        aria-invalid=move || error().is_some().then_some("true")
                        aria-describedby=move || error().map(|_| "field-prefecture-code-error")
                        on:change=move |ev| selected.set(event_target_value(&ev))>
                        <option value="" selected=move || selected.get().is_empty()>"選択してください"</option>
                        {options}
                    </select>
                </div>
                <div class="actions">
                    <a class="button secondary" href=Step::Apply.path() data-testid="back">"戻る"</a>
                    <SubmitButton label="次へ" busy_label="送信中…" pending=pending testid="next"/>
                </div>
            </form>
        </Page>
    }
    .into_any()
}
