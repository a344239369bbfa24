//! 【ログイン情報再発行申請】 (manual step 6): 事業所番号 and 通知先メールアドレス twice.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::dto::CreateApplicationRequest;
use reissue_shared::email::{EmailAddress, NOTICE_EMAIL};
use reissue_shared::{OfficeNumber, ParseInput};

use super::guard;
use crate::api::UnauthorizedApi;
use crate::components::error_summary::{field_error, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::wizard::{Step, Wizard};

/// The application form.
#[component]
pub fn Apply() -> impl IntoView {
    if let Some(redirect) = guard(Step::Apply) {
        return redirect;
    }
    let wizard = Wizard::get();
    let navigate = use_navigate();
    let initial = wizard.0.get_untracked();
    let office_number = RwSignal::new(initial.office_number);
    let email = RwSignal::new(initial.email);
    let email_confirmation = RwSignal::new(initial.email_confirmation);
    // Inline messages follow the fields as they are checked; the summary changes only on 次へ,
    // so nothing above the button moves while the person is about to press it.
    let errors = RwSignal::new(FormErrors::default());
    let summary = RwSignal::new(FormErrors::default());

    let request = move || CreateApplicationRequest {
        office_number: office_number.get_untracked(),
        email: email.get_untracked(),
        email_confirmation: email_confirmation.get_untracked(),
    };
    // Checks one field with the shared rule; other fields keep their state. On blur a problem is
    // shown; while typing, only a message that is no longer true is removed.
    let check_field = move |field: &'static str, on_blur: bool| {
        let message = match field {
            "office_number" => OfficeNumber::parse(&office_number.get_untracked()).err(),
            "email" => EmailAddress::parse(
                &email.get_untracked(),
                NOTICE_EMAIL.field,
                NOTICE_EMAIL.label,
            )
            .err(),
            _ => match EmailAddress::parse_confirmed(
                &email.get_untracked(),
                &email_confirmation.get_untracked(),
                NOTICE_EMAIL,
            ) {
                Ok(_) => None,
                Err(list) => list.into_iter().find(|e| e.field == "email_confirmation"),
            },
        };
        let shown = errors.with_untracked(|e| e.for_field(field).is_some());
        if message.is_none() && shown {
            errors.update(|e| e.fields.retain(|f| f.field != field));
        } else if let (Some(error), true) = (message, on_blur) {
            errors.update(|e| {
                e.fields.retain(|f| f.field != field);
                e.fields.push(error);
                e.fields.sort_by_key(|f| field_order(&f.field));
            });
        }
    };

    let create = Action::new_local(move |body: &CreateApplicationRequest| {
        let body = body.clone();
        let navigate = navigate.clone();
        async move {
            match UnauthorizedApi.create_application(&body).await {
                Ok(applicant) => {
                    wizard.0.update(|state| {
                        state.office_number = body.office_number.clone();
                        state.email = body.email.clone();
                        state.email_confirmation = body.email_confirmation.clone();
                        state.restart_keeping_input();
                        state.applicant = Some(applicant);
                    });
                    navigate(Step::Prefecture.path(), Default::default());
                }
                Err(failure) => {
                    let shown = FormErrors::from(&failure);
                    errors.set(shown.clone());
                    summary.set(shown);
                }
            }
        }
    });
    let pending = create.pending();

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let body = request();
        match body.parse() {
            Ok(_) => {
                errors.set(FormErrors::default());
                summary.set(FormErrors::default());
                create.dispatch_local(body);
            }
            Err(fields) => {
                let shown = FormErrors::of_fields(fields);
                errors.set(shown.clone());
                summary.set(shown);
            }
        }
    };

    view! {
        <Page title="ログイン情報再発行申請" step=2>
            <ErrorSummary errors=summary/>
            <p class="lead">
                "ログイン情報の再発行申請を行います。"<br/>
                "事業所番号と、申請状況等を知照するための任意のメールアドレスを入力し、【次へ】ボタンを押してください。"
            </p>
            <form on:submit=on_submit novalidate>
                <TextField name="office_number" label="事業所番号" value=office_number
                    error=field_error(errors, "office_number") on_blur=Callback::new(move |_| check_field("office_number", true))
                    on_input=Callback::new(move |_| check_field("office_number", false))
                    hint="半角数字10桁（例: 1311111111）" inputmode="numeric" maxlength=20 width="input-medium"/>
                <TextField name="email" label="通知先メールアドレス" value=email
                    error=field_error(errors, "email") on_blur=Callback::new(move |_| check_field("email", true))
                    on_input=Callback::new(move |_| check_field("email", false))
                    input_type="email" autocomplete="email"/>
                <TextField name="email_confirmation" label="通知先メールアドレス（確認用）" value=email_confirmation
                    error=field_error(errors, "email_confirmation") on_blur=Callback::new(move |_| check_field("email_confirmation", true))
                    on_input=Callback::new(move |_| check_field("email_confirmation", false))
                    hint="確認のため、もう一度入力してください。" input_type="email" autocomplete="email"/>
                <div class="notes" data-testid="apply-notes">
                    <p>"※ 国保連合会より、通知先メールアドレスや事業所台帳に登録された電話番号等へ、ログイン情報の再発行に関する連絡が行われる場合があります。"</p>
                    <p>"※ 国保連合会により申請が承認されると、事業所台帳に登録された住所へユーザIDおよびログイン用パスワードが記載された「ログイン情報再発行通知書」が郵送されます。"<br/>
                    "なお、国保連合会から返信用封筒の事前送付等を依頼される場合がありますので、国保連合会の案内（ホームページ等）に従って対応してください。"</p>
                    <p>"※ 介護事業所のログイン情報のみ再発行を申請できます。"<br/>
                    "代理人のログイン情報を紛失した場合、国保連合会へお問い合わせください。"</p>
                </div>
                <div class="actions">
                    <a class="button secondary" href=Step::Lost.path() data-testid="back">"戻る"</a>
                    <SubmitButton label="次へ" busy_label="送信中…" pending=pending testid="next"/>
                </div>
            </form>
        </Page>
    }
    .into_any()
}

/// Screen order of the fields, for the summary.
pub fn field_order(field: &str) -> usize {
    ["office_number", "email", "email_confirmation"]
        .iter()
        .position(|f| *f == field)
        .unwrap_or(usize::MAX)
}
