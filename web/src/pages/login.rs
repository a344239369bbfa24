//! 【ログイン】 (manual step 4): ユーザID, パスワード, and the link for lost passwords. A login
//! with the temporary password from the notice leads to the new-password screen.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use reissue_shared::account::OfficeLoginRequest;

use crate::api::UnauthorizedApi;
use crate::components::error_summary::{passes_check, FormErrors};
use crate::components::layout::Page;
use crate::components::login_form::LoginForm;
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
            match UnauthorizedApi.office_login(&request).await {
                Ok(client) => {
                    let next = if client.session().password_change_required {
                        "/account/password"
                    } else {
                        "/account"
                    };
                    office::save(&client);
                    navigate(next, Default::default());
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let pending = log_in.pending();
    let on_submit = Callback::new(move |()| {
        if pending.get_untracked() {
            return;
        }
        let request = OfficeLoginRequest {
            user_id: user_id.get_untracked(),
            password: password.get_untracked().into(),
        };
        if passes_check(errors, request.check()) {
            log_in.dispatch_local(request);
        }
    });
    view! {
        <Page title="ログイン">
            <LoginForm id_name="user_id" id_label="ユーザID" id=user_id password=password errors=errors
                pending=pending testid="login-submit" on_submit=on_submit/>
            <p class="lost-link">
                <a href="/lost" data-testid="lost-link">"パスワード等を紛失した方はこちら"</a>
            </p>
        </Page>
    }
}
