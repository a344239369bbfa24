//! 申請状況照会: an office that has sent its application enters the 受付番号 of 【終了】 and
//! its 通知先メールアドレス and sees where the application stands: its status, when it was
//! sent and decided, when the notice was posted, and why it was rejected.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use reissue_shared::japan_time::date_time;
use reissue_shared::status_inquiry::{ApplicationStatusAnswer, StatusInquiryRequest};
use reissue_shared::ApplicationStatus;

use crate::api::UnauthorizedApi;
use crate::components::error_summary::{field_error, passes_check, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::wizard::Wizard;

/// The status inquiry screen.
#[component]
pub fn StatusInquiry() -> impl IntoView {
    // Coming from 【終了】 in the same tab, the number is known already.
    let known = Wizard::get()
        .0
        .with_untracked(|s| s.reference_number.clone())
        .unwrap_or_default();
    let reference_number = RwSignal::new(known);
    let email = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let answer = RwSignal::new(None::<ApplicationStatusAnswer>);
    let inquire = Action::new_local(move |request: &StatusInquiryRequest| {
        let request = request.clone();
        async move {
            match UnauthorizedApi.application_status(&request).await {
                Ok(found) => {
                    errors.set(FormErrors::default());
                    answer.set(Some(found));
                }
                Err(failure) => {
                    answer.set(None);
                    errors.set(FormErrors::from(&failure));
                }
            }
        }
    });
    let pending = inquire.pending();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let request = StatusInquiryRequest {
            reference_number: reference_number.get_untracked(),
            email: email.get_untracked(),
        };
        if passes_check(errors, request.check()) {
            inquire.dispatch_local(request);
        } else {
            answer.set(None);
        }
    };
    view! {
        <Page title="申請状況照会">
            <ErrorSummary errors=errors/>
            <p class="lead">
                "ログイン情報再発行申請の審査状況を確認できます。"<br/>
                "申請完了時に表示された受付番号と、申請時に入力した通知先メールアドレスを入力し、【照会】ボタンを押してください。"
            </p>
            <form on:submit=on_submit novalidate>
                <TextField name="reference_number" label="受付番号" value=reference_number
                    error=field_error(errors, "reference_number")
                    hint="申請完了画面（終了）に表示された「K7MX-3HPA」のような英数字8文字です。"
                    maxlength=20 width="input-medium"/>
                <TextField name="email" label="通知先メールアドレス" value=email
                    error=field_error(errors, "email") input_type="email" autocomplete="email"
                    hint="申請時に入力したメールアドレスを入力してください。"/>
                <div class="actions">
                    <a class="button secondary" href="/lost" data-testid="back">"戻る"</a>
                    <SubmitButton label="照会" busy_label="照会中…" pending=pending/>
                </div>
            </form>
            <div aria-live="polite" data-testid="status-answer-region">
                {move || answer.get().map(answer_view)}
            </div>
        </Page>
    }
}

/// What the federation has done with the application: one row per known fact (one view type
/// for all of them keeps the bundle small).
fn answer_view(answer: ApplicationStatusAnswer) -> impl IntoView {
    let mut rows = vec![
        ("審査状況", answer.status_label, "status-label"),
        (
            "申請日時",
            date_time(answer.submitted_at),
            "status-submitted-at",
        ),
    ];
    if let Some(at) = answer.decided_at {
        rows.push((
            decided_label(answer.status),
            date_time(at),
            "status-decided-at",
        ));
    }
    if let Some(day) = answer.notice_mailed_on {
        rows.push((
            "通知書の郵送日",
            day.replace('-', "/"),
            "status-notice-mailed-on",
        ));
    }
    if let Some(reason) = answer.rejection_reason {
        rows.push(("却下の理由", reason, "status-rejection-reason"));
    }
    let next = what_next(answer.status);
    view! {
        <section class="status-answer" aria-labelledby="status-answer-title" data-testid="status-answer">
            <h2 id="status-answer-title">"照会結果"</h2>
            <dl class="summary">
                {rows.into_iter().map(|(label, value, testid)| view! {
                    <div><dt>{label}</dt><dd data-testid=testid>{value}</dd></div>
                }).collect_view()}
            </dl>
            {next.map(|text| view! { <p class="notice" data-testid="status-next">{text}</p> })}
        </section>
    }
}

/// How the row of `decided_at` is named for the status.
fn decided_label(status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::Rejected => "却下日時",
        ApplicationStatus::Withdrawn => "取下げ日時",
        _ => "承認日時",
    }
}

/// What the office can expect or do now.
fn what_next(status: ApplicationStatus) -> Option<&'static str> {
    match status {
        ApplicationStatus::Submitted
        | ApplicationStatus::InReview
        | ApplicationStatus::AwaitingConfirmation => Some(
            "国保連合会での審査が完了するまでお待ちください。審査が完了すると、通知先メールアドレスに「ログイン情報再発行申請結果通知」が届きます。",
        ),
        ApplicationStatus::Approved => Some(
            "事業所台帳に登録されている住所に[電子請求ログイン情報再発行通知書]が郵送されます。届いたら、記載された仮パスワードでログインしてください。",
        ),
        ApplicationStatus::Rejected => Some(
            "却下の理由をご確認のうえ、必要な場合は、あらためて申請するか国保連合会へお問い合わせください。",
        ),
        ApplicationStatus::Withdrawn => Some("この申請は取り下げられました。必要な場合は、あらためて申請してください。"),
        ApplicationStatus::AwaitingPrefecture
        | ApplicationStatus::CodeSent
        | ApplicationStatus::Verified
        | ApplicationStatus::Expired => None,
    }
}
