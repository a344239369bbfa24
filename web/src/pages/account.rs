//! After login: the new-password screen (required after the temporary password) and the
//! logged-in page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use reissue_shared::account::ChangePasswordRequest;
use reissue_shared::password::check_new_password;
use reissue_shared::{FieldError, FieldErrorCode};

use crate::api;
use crate::components::error_summary::{ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::office;

/// 新しいパスワードの設定.
#[component]
pub fn ChangePassword() -> impl IntoView {
    let Some(session) = office::load() else {
        return view! { <Redirect path="/login"/> }.into_any();
    };
    let navigate = use_navigate();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let token = session.access_token.clone();
    let user_id = session.user_id.clone();
    let change = Action::new_local(move |request: &ChangePasswordRequest| {
        let request = request.clone();
        let token = token.clone();
        let navigate = navigate.clone();
        async move {
            match api::change_password(&token, &request).await {
                Ok(session) => {
                    office::save(&session);
                    navigate("/account", Default::default());
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let pending = change.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let request = ChangePasswordRequest {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
        };
        let mut fields = Vec::new();
        if request.current_password.is_empty() {
            fields.push(FieldError::new(
                "current_password",
                FieldErrorCode::Required,
                "現在のパスワード（仮パスワード）を入力してください。",
            ));
        }
        if let Err(error) = check_new_password(&request.new_password, &user_id, None) {
            fields.push(error);
        } else if request.new_password != confirmation.get_untracked() {
            fields.push(FieldError::new(
                "new_password_confirmation",
                FieldErrorCode::Mismatch,
                "新しいパスワード（確認用）が新しいパスワードと一致しません。",
            ));
        }
        if fields.is_empty() {
            errors.set(FormErrors::default());
            change.dispatch_local(request);
        } else {
            errors.set(FormErrors {
                fields,
                general: None,
            });
        }
    };
    let error_of =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.for_field(field)));
    let required = session.password_change_required;
    view! {
        <Page title="パスワード変更">
            <ErrorSummary errors=errors/>
            {required.then(|| view! {
                <p class="notice" data-testid="change-required">
                    "仮パスワードでログインしました。仮パスワードは郵送の途中で第三者の目に触れるおそれがあるため、新しいパスワードを設定してください。"
                </p>
            })}
            <form on:submit=on_submit novalidate>
                <TextField name="current_password" label="現在のパスワード" value=current error=error_of("current_password")
                    hint="仮パスワードでログインした場合は、仮パスワードを入力してください。"
                    input_type="password" autocomplete="current-password" width="input-medium"/>
                <TextField name="new_password" label="新しいパスワード" value=new_password error=error_of("new_password")
                    hint="10文字以上で、ユーザIDを含まないもの。"
                    input_type="password" autocomplete="new-password" width="input-medium"/>
                <TextField name="new_password_confirmation" label="新しいパスワード（確認用）" value=confirmation
                    error=error_of("new_password_confirmation") input_type="password" autocomplete="new-password" width="input-medium"/>
                <div class="actions">
                    <SubmitButton label="変更する" busy_label="変更中…" pending=pending testid="change-password"/>
                </div>
            </form>
        </Page>
    }
    .into_any()
}

/// The logged-in page.
#[component]
pub fn Account() -> impl IntoView {
    let Some(session) = office::load() else {
        return view! { <Redirect path="/login"/> }.into_any();
    };
    if session.password_change_required {
        return view! { <Redirect path="/account/password"/> }.into_any();
    }
    let navigate = use_navigate();
    let logout = move |_| {
        office::clear();
        navigate("/login", Default::default());
    };
    view! {
        <Page title="ログイン中">
            <p data-testid="logged-in">
                <strong>{session.office_name.clone().unwrap_or_default()}</strong>
                " としてログインしています（ユーザID: " {session.user_id.clone()} "）。"
            </p>
            <div class="notes">
                <p>"パスワードを忘れたときにご自身で再設定できるよう、セキュリティ用メールアドレスを登録しておくことをおすすめします（登録画面は準備中です）。"</p>
            </div>
            <p class="actions">
                <a class="button secondary" href="/account/password" data-testid="to-change-password">"パスワード変更"</a>
                <button type="button" class="button secondary" data-testid="logout" on:click=logout>"ログアウト"</button>
            </p>
        </Page>
    }
    .into_any()
}
