//! 【電子請求受付システム総合窓口】 (manual step 3).

use leptos::prelude::*;

use crate::components::layout::Page;

/// The portal.
#[component]
pub fn Portal() -> impl IntoView {
    view! {
        <Page title="電子請求受付システム総合窓口">
            <p>"介護保険の請求を行う事業所向けの窓口です。"</p>
            <p>
                <a class="button" href="/login" data-testid="portal-login">"ログイン"</a>
            </p>
        </Page>
    }
}
