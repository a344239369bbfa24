//! The step indicator on every wizard screen (manual: 1 パスワード等を紛失した方 … 5 終了),
//! the current step marked in bold and with `aria-current="step"`.

use leptos::prelude::*;

/// The manual's five steps.
pub const STEPS: [&str; 5] = [
    "パスワード等を紛失した方",
    "ログイン情報再発行申請",
    "確認コード入力",
    "送信確認",
    "終了",
];

/// The indicator; `current` is 1–5.
#[component]
pub fn StepIndicator(current: u8) -> impl IntoView {
    let items = STEPS
        .iter()
        .enumerate()
        .map(|(index, label)| {
            let number = index as u8 + 1;
            let state = match number.cmp(&current) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "todo",
            };
            let is_current = number == current;
            view! {
                <li class=state aria-current=is_current.then_some("step") data-testid=format!("step-{number}")>
                    <span class="step-number" aria-hidden="true">{number}</span>
                    {if is_current {
                        view! { <strong>{*label}</strong> }.into_any()
                    } else {
                        view! { <span>{*label}</span> }.into_any()
                    }}
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="steps" aria-label="手続きの流れ">
            <ol>{items}</ol>
        </nav>
    }
}
