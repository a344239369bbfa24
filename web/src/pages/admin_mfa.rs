//! 二段階認証の設定 (/admin/mfa): a reviewer's first login enrols an authenticator app. The
//! page shows the QR code and the secret, takes the app's first code, then shows the ten
//! recovery codes once, with a print button.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use reissue_shared::mfa::TotpCode;

use super::admin::{enrolling_reviewer, save_reviewer};
use crate::components::error_summary::{field_error, passes_check, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;

/// The secret in groups of four, as it is typed into an app by hand.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// 二段階認証の設定.
#[component]
pub fn MfaEnrolmentPage() -> impl IntoView {
    let Some(client) = enrolling_reviewer() else {
        return view! { <Redirect path="/admin/login"/> }.into_any();
    };
    let navigate = use_navigate();
    let enrolment = {
        let client = client.clone();
        LocalResource::new(move || {
            let client = client.clone();
            async move { client.start_mfa_enrolment().await }
        })
    };
    let code = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let recovery_codes = RwSignal::new(None::<Vec<String>>);
    let confirm = Action::new_local(move |code: &String| {
        let (client, code) = (client.clone(), code.clone());
        async move {
            match client.confirm_mfa_enrolment(&code).await {
                Ok((console, codes)) => {
                    save_reviewer(&console);
                    errors.set(FormErrors::default());
                    recovery_codes.set(Some(codes));
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let pending = confirm.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = code.get_untracked();
        let checked = TotpCode::parse(&typed, "totp_code")
            .map(drop)
            .map_err(|e| vec![e]);
        if passes_check(errors, checked) && !pending.get_untracked() {
            confirm.dispatch_local(typed);
        }
    };
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let to_console = move |_| navigate("/admin", Default::default());
    view! {
        <Page title="二段階認証の設定">
            {move || match recovery_codes.get() {
                Some(codes) => view! {
                    <div class="panel-success" data-testid="mfa-enrolled">
                        <p>"認証アプリを登録しました。次回からは、パスワードと認証アプリの確認コードでログインします。"</p>
                    </div>
                    <h2>"リカバリーコード"</h2>
                    <p>"スマートフォンをなくしたときなど、認証アプリを使えないときに、確認コードの代わりに使えます。"
                        "それぞれ1回だけ使えます。"<strong>"この画面を閉じると二度と表示されません。"</strong>
                        "印刷するか書き写して、他人の目に触れない場所に保管してください。"</p>
                    <ol class="recovery-codes" data-testid="recovery-codes">
                        {codes.into_iter().map(|code| view! { <li>{code}</li> }).collect_view()}
                    </ol>
                    <p class="actions">
                        <button type="button" class="button secondary" data-testid="print-recovery-codes" on:click=print>"印刷する"</button>
                        <button type="button" class="button" data-testid="to-console" on:click=to_console.clone()>"保管しました。審査画面へ進む"</button>
                    </p>
                }.into_any(),
                None => view! {
                    <ErrorSummary errors=errors/>
                    <p class="lead">"審査画面を使うには、パスワードに加えて、スマートフォンの認証アプリ（Google Authenticator、Microsoft Authenticator など）に表示される確認コードが必要です。初回だけ、次の手順で認証アプリを登録してください。"</p>
                    <Suspense fallback=|| view! { <p role="status">"準備しています…"</p> }>
                        {move || enrolment.get().map(|answer| match answer {
                            Ok(enrolment) => view! {
                                <ol>
                                    <li>
                                        <p>"認証アプリで、この二次元コードを読み取ってください。"</p>
                                        <div class="qr-code" role="img" aria-label="認証アプリに登録するための二次元コード"
                                            data-testid="mfa-qr" inner_html=enrolment.qr_svg.clone()></div>
                                    </li>
                                    <li>
                                        <p>"読み取れない場合は、アプリに次のキーを入力してください（種類は「時間ベース」）。"</p>
                                        <p class="secret" data-testid="mfa-secret" data-secret=enrolment.secret.expose().to_owned()>
                                            {grouped(enrolment.secret.expose())}
                                        </p>
                                    </li>
                                    <li>
                                        <p>"アプリに表示された6桁の確認コードを入力して、【登録する】を押してください。"</p>
                                    </li>
                                </ol>
                            }.into_any(),
                            Err(failure) => view! {
                                <p class="error-message" role="alert">{failure.message()}</p>
                                <p><a href="/admin/login">"ログイン画面へ戻る"</a></p>
                            }.into_any(),
                        })}
                    </Suspense>
                    <form on:submit=on_submit novalidate>
                        <TextField name="totp_code" label="確認コード" value=code error=field_error(errors, "totp_code")
                            inputmode="numeric" autocomplete="one-time-code" maxlength=10 width="input-short"/>
                        <div class="actions">
                            <SubmitButton label="登録する" busy_label="確認中…" pending=pending testid="mfa-confirm"/>
                        </div>
                    </form>
                }.into_any(),
            }}
        </Page>
    }
    .into_any()
}
