//! The screen of an unknown path, in either app.

use leptos::prelude::*;

use crate::components::layout::Page;

/// ページが見つかりません. The link is `rel="external"`: in the console, `/` belongs to the
/// office app, so the router must not take it (a full page load; in the office app it costs
/// one reload of a page nobody stays on).
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Page title="ページが見つかりません">
            <p>"お探しのページは見つかりませんでした。"</p>
            <p><a href="/" rel="external" data-testid="to-portal">"電子請求受付システム総合窓口へ"</a></p>
        </Page>
    }
}
