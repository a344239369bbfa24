//! After login: the new-password screen (required after the temporary password) and the
//! logged-in page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use reissue_shared::account::{ChangePasswordRequest, SecurityEmailRequest};

use crate::components::error_summary::{field_error, passes_check, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::office;

/// 新しいパスワードの設定.
#[component]
pub fn ChangePassword() -> impl IntoView {
    let Some(client) = office::load() else {
        return view! { <Redirect path="/login"/> }.into_any();
    };
    let navigate = use_navigate();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let user_id = client.session().user_id.clone();
    let required = client.session().password_change_required;
    let change = Action::new_local(move |request: &ChangePasswordRequest| {
        let request = request.clone();
        let client = client.clone();
        let navigate = navigate.clone();
        async move {
            match client.change_password(&request).await {
                Ok(changed) => {
                    office::save(&changed);
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
            current_password: current.get_untracked().into(),
            new_password: new_password.get_untracked().into(),
        };
        if passes_check(
            errors,
            request.check(&user_id, &confirmation.get_untracked()),
        ) {
            change.dispatch_local(request);
        }
    };
    view! {
        <Page title="パスワード変更">
            <ErrorSummary errors=errors/>
            {required.then(|| view! {
                <p class="notice" data-testid="change-required">
                    "仮パスワードでログインしました。仮パスワードは郵送の途中で第三者の目に触れるおそれがあるため、新しいパスワードを設定してください。"
                </p>
            })}
            <form on:submit=on_submit novalidate>
                <TextField name="current_password" label="現在のパスワード" value=current error=field_error(errors, "current_password")
                    hint="仮パスワードでログインした場合は、仮パスワードを入力してください。"
                    input_type="password" autocomplete="current-password" width="input-medium"/>
                <TextField name="new_password" label="新しいパスワード" value=new_password error=field_error(errors, "new_password")
                    hint="10文字以上で、ユーザIDを含まないもの。"
                    input_type="password" autocomplete="new-password" width="input-medium"/>
                <TextField name="new_password_confirmation" label="新しいパスワード（確認用）" value=confirmation
                    error=field_error(errors, "new_password_confirmation") input_type="password" autocomplete="new-password" width="input-medium"/>
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
    let Some(client) = office::load() else {
        return view! { <Redirect path="/login"/> }.into_any();
    };
    let session = client.session().clone();
    if session.password_change_required {
        return view! { <Redirect path="/account/password"/> }.into_any();
    }
    let navigate = use_navigate();
    let logout = {
        let client = client.clone();
        move |_| {
            let (client, navigate) = (client.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                // The session ends on the server; the browser forgets it whatever the answer
                // (an already ended session is as good as logged out).
                let _ = client.logout().await;
                office::clear();
                navigate("/login", Default::default());
            });
        }
    };
    view! {
        <Page title="ログイン中">
            <p data-testid="logged-in">
                <strong>{session.office_name.clone().unwrap_or_default()}</strong>
                " としてログインしています（ユーザID: " {session.user_id.clone()} "）。"
            </p>
            <div class="notes">
                <p>"パスワードを忘れたときにご自身で再設定できるよう、"
                    <a href="/account/security-email" data-testid="to-security-email">"セキュリティ用メールアドレスを登録"</a>
                    "しておくことをおすすめします。"</p>
            </div>
            <p class="actions">
                <a class="button secondary" href="/account/password" data-testid="to-change-password">"パスワード変更"</a>
                <button type="button" class="button secondary" data-testid="logout" on:click=logout>"ログアウト"</button>
            </p>
        </Page>
    }
    .into_any()
}

/// セキュリティ用メールアドレスの登録: the address twice, then the 6-digit code from the mail.
#[component]
pub fn SecurityEmail() -> impl IntoView {
    let Some(client) = office::load() else {
        return view! { <Redirect path="/login"/> }.into_any();
    };
    let email = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let current = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let sent_to = RwSignal::new(None::<String>);
    let registered = RwSignal::new(None::<String>);
    let errors = RwSignal::new(FormErrors::default());
    let submit = Action::new_local(move |_: &()| {
        let client = client.clone();
        async move {
            let outcome = if sent_to.get_untracked().is_none() {
                let request = SecurityEmailRequest {
                    email: email.get_untracked(),
                    email_confirmation: confirmation.get_untracked(),
                    current_password: current.get_untracked().into(),
                };
                client
                    .register_security_email(&request)
                    .await
                    .map(|sent| sent_to.set(Some(sent.email)))
            } else {
                client
                    .confirm_security_email(&code.get_untracked())
                    .await
                    .map(|done| registered.set(Some(done.email)))
            };
            match outcome {
                Ok(()) => errors.set(FormErrors::default()),
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let pending = submit.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !pending.get_untracked() {
            submit.dispatch_local(());
        }
    };
    view! {
        <Page title="セキュリティ用メールアドレス登録">
            <ErrorSummary errors=errors/>
            {move || match (registered.get(), sent_to.get()) {
                (Some(address), _) => view! {
                    <p class="notice" role="status" data-testid="security-email-registered">
                        "セキュリティ用メールアドレス " {address} " を登録しました。"
                    </p>
                    <p><a href="/account">"戻る"</a></p>
                }.into_any(),
                (None, Some(address)) => view! {
                    <form on:submit=on_submit novalidate>
                        <p class="lead">"確認コードを " <strong class="address">{address}</strong> " 宛に送信しました。メール本文に記載された6桁の数字を半角で入力してください。確認コードの有効期間は10分です。"</p>
                        <TextField name="code" label="確認コード" value=code error=field_error(errors, "code") inputmode="numeric" autocomplete="one-time-code" maxlength=10 width="input-short"/>
                        <div class="actions"><SubmitButton label="登録する" busy_label="確認中…" pending=pending/></div>
                    </form>
                }.into_any(),
                (None, None) => view! {
                    <form on:submit=on_submit novalidate>
                        <TextField name="email" label="セキュリティ用メールアドレス" value=email error=field_error(errors, "email") input_type="email" autocomplete="email"/>
                        <TextField name="email_confirmation" label="セキュリティ用メールアドレス（確認用）" value=confirmation error=field_error(errors, "email_confirmation") input_type="email" autocomplete="email"/>
                        <TextField name="current_password" label="現在のパスワード" value=current error=field_error(errors, "current_password")
                            hint="ご本人の確認のためです。登録済みのアドレスを変更した場合は、変更前のアドレスにもお知らせします。"
                            input_type="password" autocomplete="current-password" width="input-medium"/>
                        <div class="actions">
                            <a class="button secondary" href="/account">"戻る"</a>
                            <SubmitButton label="次へ" busy_label="送信中…" pending=pending/>
                        </div>
                    </form>
                }.into_any(),
            }}
        </Page>
    }
    .into_any()
}
