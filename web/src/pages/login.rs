//! 【ログイン】 (manual step 4): ユーザID, パスワード, and the link for lost passwords. A login
//! with the temporary password from the notice leads to the new-password screen.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::account::OfficeLoginRequest;

use crate::api;
use crate::components::error_summary::{ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::office;

/// The login screen.
#[component]
pub fn Login() -> impl IntoView {
    let navigate = use_navigate();
    let user_id = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let log_in = Action::new_local(move |request: &OfficeLoginRequest| {
        let request = request.clone();
        let navigate = navigate.clone();
        async move {
            match api::office_login(&request).await {
                Ok(session) => {
                    let next = if session.password_change_required {
                        "/account/password"
                    } else {
                        "/account"
                    };
                    office::save(&session);
                    navigate(next, Default::default());
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let pending = log_in.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let request = OfficeLoginRequest {
            user_id: user_id.get_untracked(),
            password: password.get_untracked(),
        };
        let mut missing = Vec::new();
        if request.user_id.trim().is_empty() {
            missing.push(reissue_shared::FieldError::new(
                "user_id",
                reissue_shared::FieldErrorCode::Required,
                "ユーザIDを入力してください。",
            ));
        }
        if request.password.is_empty() {
            missing.push(reissue_shared::FieldError::new(
                "password",
                reissue_shared::FieldErrorCode::Required,
                "パスワードを入力してください。",
            ));
        }
        if missing.is_empty() {
            errors.set(FormErrors::default());
            log_in.dispatch_local(request);
        } else {
            errors.set(FormErrors {
                fields: missing,
                general: None,
            });
        }
    };
    let error_of =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.for_field(field)));
    view! {
        <Page title="ログイン">
            <ErrorSummary errors=errors/>
            <form on:submit=on_submit novalidate>
                <TextField name="user_id" label="ユーザID" value=user_id error=error_of("user_id")
                    autocomplete="username" width="input-medium"/>
                <TextField name="password" label="パスワード" value=password error=error_of("password")
                    input_type="password" autocomplete="current-password" width="input-medium"/>
                <div class="actions">
                    <SubmitButton label="ログイン" busy_label="確認中…" pending=pending testid="login-submit"/>
                </div>
            </form>
            <p class="lost-link">
                <a href="/lost" data-testid="lost-link">"パスワード等を紛失した方はこちら"</a>
            </p>
        </Page>
    }
}
