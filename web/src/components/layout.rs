//! The frame of every screen: the system name, the screen title, the clock, and for wizard
//! screens the step indicator.

use leptos::prelude::*;

use super::clock::Clock;
use super::steps::StepIndicator;

/// Removes the frame that `index.html` and `console.html` show while the app loads (`#loading`:
/// the system name and a line saying the screen is on its way, instead of a blank page on a
/// slow line). Called just before the app mounts, in the same task, so the browser never
/// paints the page with neither, and the app's own frame takes the same place.
pub fn remove_loading_frame() {
    if let Some(frame) = document().get_element_by_id("loading") {
        frame.remove();
    }
}

/// A screen. `step` (1–5) adds the wizard's step indicator.
#[component]
pub fn Page(
    /// The screen's name, e.g. ログイン情報再発行申請.
    title: &'static str,
    /// The wizard step, if this is a wizard screen.
    #[prop(optional)]
    step: Option<u8>,
    children: Children,
) -> impl IntoView {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{title} | 電子請求受付システム"));
    }
    view! {
        <header class="site-header">
            <div class="site-header-inner">
                <p class="site-name">"電子請求受付システム"</p>
                <Clock/>
            </div>
        </header>
        <main class="page" id="main">
            <h1 data-testid="page-title">{title}</h1>
            {step.map(|current| view! { <StepIndicator current=current/> })}
            {children()}
        </main>
        <footer class="site-footer">
            <p>"お問い合わせ: ヘルプデスク 0570-059-402"</p>
        </footer>
    }
}
