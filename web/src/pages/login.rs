//! 【ログイン】 (manual step 4): ユーザID, パスワード, and the link for lost passwords.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::field::TextField;
use crate::components::layout::Page;

/// The login screen.
#[component]
pub fn Login() -> impl IntoView {
    let user_id = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<&'static str>);
    let no_error = Signal::derive(|| None::<String>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        // Office accounts arrive with the federation's review; until then say so plainly.
        notice.set(Some(
            "現在、このサーバーではログインを受け付けていません。ログイン情報を紛失した場合は、下の「パスワード等を紛失した方はこちら」から再発行を申請してください。",
        ));
    };
    view! {
        <Page title="ログイン">
            <form on:submit=on_submit novalidate>
                <TextField name="user_id" label="ユーザID" value=user_id error=no_error
                    autocomplete="username" width="input-medium"/>
                <TextField name="password" label="パスワード" value=password error=no_error
                    input_type="password" autocomplete="current-password" width="input-medium"/>
                {move || notice.get().map(|text| view! {
                    <p class="notice" role="status" data-testid="login-notice">{text}</p>
                })}
                <div class="actions">
                    <button type="submit" class="button" data-testid="login-submit">"ログイン"</button>
                </div>
            </form>
            <p class="lost-link">
                <a href="/lost" data-testid="lost-link">"パスワード等を紛失した方はこちら"</a>
            </p>
        </Page>
    }
}
