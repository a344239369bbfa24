//! The security-e-mail reset (the first choice of 【パスワード等を紛失した方】): ユーザID and
//! セキュリティ用メールアドレス, the 6-digit code from the mail, and a new password, on one
//! screen that moves through its three parts.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::account::PasswordResetRequest;
use reissue_shared::code::SECURITY_CODE_DIGITS;
use reissue_shared::password::check_new_password;
use reissue_shared::VerificationCode;

use crate::api::{ResetApi, UnauthorizedApi};
use crate::components::error_summary::{field_error, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::office;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Identify,
    Code,
    Password,
}

/// パスワード再設定.
#[component]
pub fn Reset() -> impl IntoView {
    let navigate = use_navigate();
    let part = RwSignal::new(Part::Identify);
    let reset = RwSignal::new(None::<ResetApi>);
    let user_id = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let identify = move || PasswordResetRequest {
        user_id: user_id.get_untracked(),
        security_email: email.get_untracked(),
    };

    let step = Action::new_local(move |which: &Part| {
        let which = *which;
        let navigate = navigate.clone();
        async move {
            let outcome = match which {
                Part::Identify => UnauthorizedApi
                    .start_reset(&identify())
                    .await
                    .map(|started| {
                        reset.set(Some(started));
                        part.set(Part::Code);
                    }),
                Part::Code => match reset.get_untracked() {
                    Some(started) => started
                        .verify(&code.get_untracked())
                        .await
                        .map(|()| part.set(Part::Password)),
                    None => {
                        part.set(Part::Identify);
                        Ok(())
                    }
                },
                Part::Password => match reset.get_untracked() {
                    Some(started) => started
                        .set_password(&new_password.get_untracked())
                        .await
                        .map(|client| {
                            office::save(&client);
                            navigate("/account", Default::default());
                        }),
                    None => {
                        part.set(Part::Identify);
                        Ok(())
                    }
                },
            };
            match outcome {
                Ok(()) => errors.set(FormErrors::default()),
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let pending = step.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let current = part.get_untracked();
        let checked = match current {
            Part::Identify => identify().check(),
            Part::Code => VerificationCode::parse(&code.get_untracked(), SECURITY_CODE_DIGITS)
                .map(drop)
                .map_err(|error| vec![error]),
            Part::Password => check_new_password(
                &new_password.get_untracked(),
                &user_id.get_untracked(),
                None,
            )
            .map_err(|error| vec![error]),
        };
        match checked {
            Ok(()) => {
                step.dispatch_local(current);
            }
            Err(fields) => errors.set(FormErrors::of_fields(fields)),
        }
    };
    view! {
        <Page title="パスワード再設定" step=1>
            <ErrorSummary errors=errors/>
            <form on:submit=on_submit novalidate>
                {move || match part.get() {
                    Part::Identify => view! {
                        <p class="lead">"ユーザIDと、登録済みのセキュリティ用メールアドレスを入力し、【次へ】ボタンを押してください。"</p>
                        <TextField name="user_id" label="ユーザID" value=user_id error=field_error(errors, "user_id") autocomplete="username" width="input-medium"/>
                        <TextField name="security_email" label="セキュリティ用メールアドレス" value=email error=field_error(errors, "security_email") input_type="email" autocomplete="email"/>
                    }.into_any(),
                    Part::Code => view! {
                        <p class="lead" data-testid="reset-code-sent">"入力されたユーザIDとセキュリティ用メールアドレスが登録内容と一致する場合、確認コードを送信しました。メール本文に記載された6桁の数字を半角で入力し、【次へ】ボタンを押してください。確認コードの有効期間は10分です。"</p>
                        <TextField name="code" label="確認コード" value=code error=field_error(errors, "code") inputmode="numeric" autocomplete="one-time-code" maxlength=10 width="input-short"/>
                    }.into_any(),
                    Part::Password => view! {
                        <p class="lead">"新しいパスワードを入力してください（10文字以上、ユーザIDを含まないもの）。"</p>
                        <TextField name="new_password" label="新しいパスワード" value=new_password error=field_error(errors, "new_password") input_type="password" autocomplete="new-password" width="input-medium"/>
                    }.into_any(),
                }}
                <div class="actions">
                    <a class="button secondary" href="/lost" data-testid="back">"戻る"</a>
                    <SubmitButton label="次へ" busy_label="確認中…" pending=pending/>
                </div>
            </form>
        </Page>
    }
}
