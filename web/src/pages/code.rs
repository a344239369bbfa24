//! 【確認コード入力】 (manual steps 8–9): the 4 digits from the mail, the manual's checklist for
//! a mail that does not arrive, re-sending, and 戻る to correct the address.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::VerificationCode;

use super::guard;
use crate::api;
use crate::components::error_summary::{ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::wizard::{Step, Wizard};

/// The code screen.
#[component]
pub fn EnterCode() -> impl IntoView {
    if let Some(redirect) = guard(Step::Code) {
        return redirect;
    }
    let wizard = Wizard::get();
    let navigate = use_navigate();
    let sent_to = wizard
        .0
        .with_untracked(|s| s.code_sent_to.clone().unwrap_or_default());
    let code = RwSignal::new(String::new());
    // Inline messages follow the field; the summary changes only on 次へ or a server answer.
    let errors = RwSignal::new(FormErrors::default());
    let summary = RwSignal::new(FormErrors::default());
    let status = RwSignal::new(None::<String>);

    let show_failure = move |failure: api::ApiFailure| {
        wizard.0.update(|s| s.forget_application_if_gone(&failure));
        let shown = FormErrors::from(&failure);
        errors.set(shown.clone());
        summary.set(shown);
    };

    let verify = {
        let navigate = navigate.clone();
        Action::new_local(move |entered: &String| {
            let entered = entered.clone();
            let navigate = navigate.clone();
            async move {
                let Some(applicant) = wizard.applicant() else {
                    navigate(Step::Apply.path(), Default::default());
                    return;
                };
                match applicant.verify(&entered).await {
                    Ok(verified) => {
                        wizard
                            .0
                            .update(|s| s.office_name = Some(verified.office_name));
                        navigate(Step::Confirm.path(), Default::default());
                    }
                    Err(failure) => show_failure(failure),
                }
            }
        })
    };
    let resend = Action::new_local(move |_: &()| async move {
        let Some(applicant) = wizard.applicant() else {
            return;
        };
        match applicant.resend_code().await {
            Ok(sent) => {
                errors.set(FormErrors::default());
                summary.set(FormErrors::default());
                code.set(String::new());
                status.set(Some(format!(
                    "確認コードを {} 宛に再送信しました。新しい確認コードを入力してください（以前の確認コードは使えません）。",
                    sent.email
                )));
            }
            Err(failure) => {
                status.set(None);
                show_failure(failure);
            }
        }
    });
    let pending = Signal::derive(move || verify.pending().get() || resend.pending().get());

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        match VerificationCode::parse_application_code(&code.get_untracked()) {
            Ok(parsed) => {
                errors.set(FormErrors::default());
                summary.set(FormErrors::default());
                status.set(None);
                verify.dispatch_local(parsed.as_str().to_owned());
            }
            Err(error) => {
                let shown = FormErrors::of_fields(vec![error]);
                errors.set(shown.clone());
                summary.set(shown);
            }
        }
    };
    let check_code = move |on_blur: bool| {
        let value = code.get_untracked();
        let error = VerificationCode::parse_application_code(&value).err();
        let shown = errors.with_untracked(|e| e.for_field("code").is_some());
        if error.is_none() && shown {
            errors.update(|e| e.fields.retain(|f| f.field != "code"));
        } else if let (Some(error), true, false) = (error, on_blur, value.trim().is_empty()) {
            errors.update(|e| {
                e.fields.retain(|f| f.field != "code");
                e.fields.push(error);
            });
        }
    };
    let go_back = move |_| {
        // 戻る: correct the address and apply again, with what was typed kept.
        wizard.0.update(|s| s.restart_keeping_input());
        navigate(Step::Apply.path(), Default::default());
    };
    let code_error = Signal::derive(move || errors.with(|e| e.for_field("code")));

    view! {
        <Page title="確認コード入力" step=3>
            <ErrorSummary errors=summary/>
            <p class="lead" data-testid="code-sent-to">
                "入力されたメールアドレスに誤りがないことを確認するため、確認コードを "
                <strong class="address">{sent_to}</strong>
                " 宛に送信しました。メール本文に記載された4桁の数字を半角で入力し、【次へ】ボタンを押してください。"
            </p>
            {move || status.get().map(|text| view! { <p class="notice" role="status" data-testid="resend-status">{text}</p> })}
            <form on:submit=on_submit novalidate>
                <TextField name="code" label="確認コード" value=code error=code_error on_blur=Callback::new(move |_| check_code(true))
                    on_input=Callback::new(move |_| check_code(false))
                    inputmode="numeric" autocomplete="one-time-code" maxlength=8 width="input-short"/>
                <div class="actions">
                    <button type="button" class="button secondary" data-testid="back" on:click=go_back>"戻る"</button>
                    <SubmitButton label="次へ" busy_label="確認中…" pending=verify.pending()
                        blocked=resend.pending()/>
                </div>
            </form>
            <div class="notes" data-testid="code-notes">
                <p>"※ メールが届くまで数分程度かかる場合があります。"<br/>
                "確認コードの有効期間は30分です。"<br/>
                "しばらく待ってもメールが届かない場合、入力されたメールアドレスに誤りがある可能性があります。その場合、【戻る】ボタンを押して、再度ログイン情報再発行申請を行ってください。"<br/>
                "また、入力されたメールアドレスに誤りがない場合、以下の原因が考えられます。"</p>
                <ul>
                    <li>"受信制限の設定をしている。"</li>
                    <li>"迷惑メールフォルダ等に移動している。"</li>
                    <li>"メールの受信フォルダ・メールボックス等が容量オーバーになっている。"</li>
                    <li>"プロバイダの通信状態で受信が遅れている。"</li>
                </ul>
            </div>
            <p>
                <button type="button" class="button secondary" data-testid="resend"
                    disabled=move || pending.get()
                    on:click=move |_| { resend.dispatch_local(()); }>
                    {move || if resend.pending().get() { "再送信中…" } else { "確認コードを再送信" }}
                </button>
            </p>
        </Page>
    }
    .into_any()
}
