//! The form's main button: shows a busy label and cannot be pressed again while its request
//! runs (no double submission).

use leptos::prelude::*;

/// A submit button bound to a pending signal.
#[component]
pub fn SubmitButton(
    /// The label, e.g. 次へ or 送信.
    label: &'static str,
    /// The label while the request runs.
    busy_label: &'static str,
    /// Whether a request runs.
    #[prop(into)]
    pending: Signal<bool>,
    /// Also disable (not busy) while this is true, e.g. during a re-send.
    #[prop(into, optional)]
    blocked: Option<Signal<bool>>,
    /// `data-testid`.
    #[prop(default = "next")]
    testid: &'static str,
) -> impl IntoView {
    let disabled = move || pending.get() || blocked.is_some_and(|b| b.get());
    view! {
        <button type="submit" class="button" data-testid=testid
            disabled=disabled aria-busy=move || pending.get().then_some("true")>
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}
