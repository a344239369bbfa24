//! The form of both logins, the office's 【ログイン】 and the reviewers' 審査担当者ログイン: an
//! ID, a password and ログイン, with the error summary above.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::error_summary::{field_error, ErrorSummary, FormErrors};
use super::field::TextField;
use super::submit_button::SubmitButton;

/// A login form; `on_submit` checks and sends what was typed.
#[component]
pub fn LoginForm(
    /// The request member of the ID, e.g. `user_id`.
    id_name: &'static str,
    /// The ID's label, as the screen names it.
    id_label: &'static str,
    /// The ID as typed.
    id: RwSignal<String>,
    /// The password as typed.
    password: RwSignal<String>,
    /// The form's errors.
    errors: RwSignal<FormErrors>,
    /// Whether the login runs.
    #[prop(into)]
    pending: Signal<bool>,
    /// `data-testid` of the button.
    testid: &'static str,
    /// Called on ログイン.
    on_submit: Callback<()>,
) -> impl IntoView {
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        on_submit.run(());
    };
    view! {
        <ErrorSummary errors=errors/>
        <form on:submit=submit novalidate>
            <TextField name=id_name label=id_label value=id error=field_error(errors, id_name)
                autocomplete="username" width="input-medium"/>
            <TextField name="password" label="パスワード" value=password error=field_error(errors, "password")
                input_type="password" autocomplete="current-password" width="input-medium"/>
            <div class="actions">
                <SubmitButton label="ログイン" busy_label="確認中…" pending=pending testid=testid/>
            </div>
        </form>
    }
}
