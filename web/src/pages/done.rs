//! 【終了】 (manual step 11): 申請を完了しました, the reference number, and what happens next.

use leptos::prelude::*;

use super::guard;
use crate::components::layout::Page;
use crate::wizard::{Step, Wizard, WizardState};

/// The completion screen.
#[component]
pub fn Done() -> impl IntoView {
    if let Some(redirect) = guard(Step::Done) {
        return redirect;
    }
    let wizard = Wizard::get();
    let reference = wizard
        .0
        .with_untracked(|s| s.reference_number.clone().unwrap_or_default());
    let copied = RwSignal::new(false);
    let copy = {
        let reference = reference.clone();
        move |_| {
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().clipboard().write_text(&reference);
                copied.set(true);
            }
        }
    };
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let finish = move |_| wizard.0.set(WizardState::default());

    view! {
        <Page title="終了" step=5>
            <div class="panel-success" data-testid="done-panel">
                <p class="done-message">"ログイン情報の再発行申請を完了しました。"</p>
                <p class="reference-label" id="reference-label">"受付番号"</p>
                <p class="reference" aria-labelledby="reference-label" data-testid="reference-number">{reference}</p>
                <p class="hint">"お問い合わせの際は、この受付番号をお伝えください。"</p>
            </div>
            <p class="actions no-print">
                <button type="button" class="button secondary" data-testid="copy" on:click=copy>"受付番号をコピー"</button>
                <button type="button" class="button secondary" data-testid="print" on:click=print>"印刷"</button>
            </p>
            <p class="notice" role="status">{move || copied.get().then_some("受付番号をコピーしました。")}</p>
            <div class="notes" data-testid="done-notes">
                <p>"※ 国保連合会での審査が必要となるため、ログイン情報の再発行までに時間を要します。"</p>
                <p>"※ 国保連合会での審査が完了すると、登録した通知先メールアドレスに「ログイン情報再発行申請結果通知」が通知されるので、審査結果を確認してください。"<br/>
                "承認された場合、事業所台帳に登録されている住所に[電子請求ログイン情報再発行通知書]が郵送されますので、内容を確認し、ログインしてください。"</p>
                <p>"※ [電子請求ログイン情報再発行通知書]に記載された仮パスワードでログインするまでは、現在のパスワードでもログインすることができます。"</p>
            </div>
            <p class="no-print">
                <a href="/status-inquiry" data-testid="status-inquiry-link">"審査の状況は、受付番号と通知先メールアドレスで確認できます（申請状況照会）"</a>
            </p>
            <p class="no-print">
                <a class="button" href="/login" data-testid="finish" on:click=finish>"ログイン画面へ"</a>
            </p>
        </Page>
    }
    .into_any()
}
