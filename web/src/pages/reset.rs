//! The security-e-mail reset (the first choice of 【パスワード等を紛失した方】): ユーザID and
//! セキュリティ用メールアドレス, the 6-digit code from the mail, and a new password, on one
//! screen that moves through its three parts.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::account::{PasswordResetRequest, PasswordResetStarted};
use reissue_shared::code::SECURITY_CODE_DIGITS;
use reissue_shared::password::check_new_password;
use reissue_shared::{FieldError, FieldErrorCode, VerificationCode};

use crate::api;
use crate::components::error_summary::{ErrorSummary, FormErrors};
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
    let reset = RwSignal::new(None::<PasswordResetStarted>);
    let user_id = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());

    let step = Action::new_local(move |which: &Part| {
        let which = *which;
        let navigate = navigate.clone();
        async move {
            let outcome = match which {
                Part::Identify => {
                    let request = PasswordResetRequest {
                        user_id: user_id.get_untracked(),
                        security_email: email.get_untracked(),
                    };
                    api::start_reset(&request).await.map(|started| {
                        reset.set(Some(started));
                        part.set(Part::Code);
                    })
                }
                Part::Code => match reset.get_untracked() {
                    Some(started) => api::verify_reset(&started, &code.get_untracked())
                        .await
                        .map(|()| part.set(Part::Password)),
                    None => {
                        part.set(Part::Identify);
                        Ok(())
                    }
                },
                Part::Password => match reset.get_untracked() {
                    Some(started) => api::finish_reset(&started, &new_password.get_untracked())
                        .await
                        .map(|session| {
                            office::save(&session);
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
        let mut fields = Vec::new();
        match current {
            Part::Identify => {
                if user_id.get_untracked().trim().is_empty() {
                    fields.push(FieldError::new(
                        "user_id",
                        FieldErrorCode::Required,
                        "ユーザIDを入力してください。",
                    ));
                }
                if let Err(error) = reissue_shared::EmailAddress::parse(
                    &email.get_untracked(),
                    "security_email",
                    "セキュリティ用メールアドレス",
                ) {
                    fields.push(error);
                }
            }
            Part::Code => {
                if let Err(error) =
                    VerificationCode::parse(&code.get_untracked(), SECURITY_CODE_DIGITS)
                {
                    fields.push(error);
                }
            }
            Part::Password => {
                if let Err(error) = check_new_password(
                    &new_password.get_untracked(),
                    &user_id.get_untracked(),
                    None,
                ) {
                    fields.push(error);
                }
            }
        }
        if fields.is_empty() {
            step.dispatch_local(current);
        } else {
            errors.set(FormErrors {
                fields,
                general: None,
            });
        }
    };
    let error_of =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.for_field(field)));
    view! {
        <Page title="パスワード再設定" step=1>
            <ErrorSummary errors=errors/>
            <form on:submit=on_submit novalidate>
                {move || match part.get() {
                    Part::Identify => view! {
                        <p class="lead">"ユーザIDと、登録済みのセキュリティ用メールアドレスを入力し、【次へ】ボタンを押してください。"</p>
                        <TextField name="user_id" label="ユーザID" value=user_id error=error_of("user_id") autocomplete="username" width="input-medium"/>
                        <TextField name="security_email" label="セキュリティ用メールアドレス" value=email error=error_of("security_email") input_type="email" autocomplete="email"/>
                    }.into_any(),
                    Part::Code => view! {
                        <p class="lead" data-testid="reset-code-sent">"入力されたユーザIDとセキュリティ用メールアドレスが登録内容と一致する場合、確認コードを送信しました。メール本文に記載された6桁の数字を半角で入力し、【次へ】ボタンを押してください。確認コードの有効期間は10分です。"</p>
                        <TextField name="code" label="確認コード" value=code error=error_of("code") inputmode="numeric" autocomplete="one-time-code" maxlength=10 width="input-short"/>
                    }.into_any(),
                    Part::Password => view! {
                        <p class="lead">"新しいパスワードを入力してください（10文字以上、ユーザIDを含まないもの）。"</p>
                        <TextField name="new_password" label="新しいパスワード" value=new_password error=error_of("new_password") input_type="password" autocomplete="new-password" width="input-medium"/>
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
