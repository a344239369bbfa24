//! The reviewers' console (/admin): login, the queue of one's prefecture, and an application's
//! page with the ledger entry, notes, history and the actions.

use gloo_storage::{SessionStorage, Storage};
use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_params_map};

use reissue_shared::admin::{
    ApplicationDetail, ApplicationList, ApprovalView, ConfirmationRequest, DecisionRequest,
    LoginRequest, ReprintRequest, ReprintRequestView, TextRequest,
};
use reissue_shared::federation::{
    CallbackRequest, CallbackView, EnvelopeState, NoticeMailedRequest,
};
use reissue_shared::japan_time::date_time;
use reissue_shared::{ApplicationStatus, ErrorCode};

use crate::api::{ApiFailure, ReviewerApi, UnauthorizedApi};
use crate::components::error_summary::{field_error, passes_check, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::login_form::LoginForm;
use crate::components::submit_button::SubmitButton;

const STORAGE_KEY: &str = "reissue-admin";

/// The notice frames run no script (the notice has none, and anything injected into it must
/// not run beside the reviewer's token); same origin only so that 印刷する can call the
/// frame's `print()`, and modals so that the print dialog may open.
const NOTICE_SANDBOX: &str = "allow-same-origin allow-modals";

/// The client saved at login, if any.
fn reviewer() -> Option<ReviewerApi> {
    SessionStorage::get(STORAGE_KEY).ok()
}

/// Saves the reviewer's client (after a login or an enrolment).
pub fn save_reviewer(client: &ReviewerApi) {
    let _ = SessionStorage::set(STORAGE_KEY, client);
}

/// The saved client of a session that may only enrol the authenticator app, if that is what
/// is saved.
pub fn enrolling_reviewer() -> Option<ReviewerApi> {
    reviewer().filter(|client| client.session().mfa_enrolment_required)
}

/// The saved client of a console session: none after an enrolment-only login.
pub(crate) fn console_reviewer() -> Option<ReviewerApi> {
    reviewer().filter(|client| !client.session().mfa_enrolment_required)
}

/// What the console shows for a notification address that the retention period has erased
/// (`REISSUE_RETENTION_DAYS` after the application ended; its history stays).
const ERASED: &str = "（保存期間の経過により消去済み）";

/// 審査担当者ログイン: the login ID and password, then (once the authenticator app is
/// enrolled) its 確認コード, or a recovery code instead.
#[component]
pub fn AdminLogin() -> impl IntoView {
    let navigate = use_navigate();
    let login_id = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let totp_code = RwSignal::new(String::new());
    let recovery_code = RwSignal::new(String::new());
    // After the password was right: which second factor the form asks for.
    let code_step = RwSignal::new(false);
    let use_recovery = RwSignal::new(false);
    let errors = RwSignal::new(FormErrors::default());
    let log_in = Action::new_local(move |request: &LoginRequest| {
        let request = request.clone();
        let navigate = navigate.clone();
        async move {
            match UnauthorizedApi.admin_login(&request).await {
                Ok(client) => {
                    save_reviewer(&client);
                    if client.session().mfa_enrolment_required {
                        navigate("/admin/mfa", Default::default());
                    } else {
                        navigate("/admin", Default::default());
                    }
                }
                Err(failure) if failure.code() == Some(ErrorCode::MfaRequired) => {
                    errors.set(FormErrors::default());
                    code_step.set(true);
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let request = move || {
        let code_given = code_step.get_untracked();
        let recovery = code_given && use_recovery.get_untracked();
        LoginRequest {
            login_id: login_id.get_untracked(),
            password: password.get_untracked().into(),
            totp_code: (code_given && !recovery).then(|| totp_code.get_untracked()),
            recovery_code: recovery.then(|| recovery_code.get_untracked()),
        }
    };
    let on_submit = Callback::new(move |()| {
        let request = request();
        if passes_check(errors, request.check()) {
            log_in.dispatch_local(request);
        }
    });
    let on_code = move |ev: SubmitEvent| {
        ev.prevent_default();
        let request = request();
        let second = reissue_shared::mfa::SecondFactor::parse(
            request.totp_code.as_deref(),
            request.recovery_code.as_deref(),
        );
        let checked = match second {
            Ok(Some(_)) => Ok(()),
            Ok(None) if use_recovery.get_untracked() => {
                reissue_shared::mfa::RecoveryCode::parse("")
                    .map(drop)
                    .map_err(|e| vec![e])
            }
            Ok(None) => reissue_shared::mfa::TotpCode::parse("", "totp_code")
                .map(drop)
                .map_err(|e| vec![e]),
            Err(error) => Err(vec![error]),
        };
        if passes_check(errors, checked) && !log_in.pending().get_untracked() {
            log_in.dispatch_local(request);
        }
    };
    let pending = log_in.pending();
    view! {
        <Page title="審査担当者ログイン">
            {move || if code_step.get() {
                view! {
                    <ErrorSummary errors=errors/>
                    <p class="lead">"パスワードを確認しました。続けて、認証アプリの確認コードを入力してください。"</p>
                    <form on:submit=on_code novalidate data-testid="admin-code-form">
                        {move || if use_recovery.get() {
                            view! {
                                <TextField name="recovery_code" label="リカバリーコード" value=recovery_code error=field_error(errors, "recovery_code")
                                    hint="認証アプリを使えないときは、登録のときに保存したリカバリーコード（例: abcd-efgh-jkmn）を1つ入力してください。使ったコードは二度と使えません。"
                                    autocomplete="off" width="input-medium"/>
                            }.into_any()
                        } else {
                            view! {
                                <TextField name="totp_code" label="確認コード" value=totp_code error=field_error(errors, "totp_code")
                                    hint="スマートフォンの認証アプリに表示されている6桁の数字を入力してください。"
                                    inputmode="numeric" autocomplete="one-time-code" maxlength=10 width="input-short"/>
                            }.into_any()
                        }}
                        <div class="actions">
                            <SubmitButton label="ログイン" busy_label="確認中…" pending=pending testid="admin-code-submit"/>
                        </div>
                        <p>
                            <button type="button" class="link-button" data-testid="toggle-recovery"
                                on:click=move |_| { errors.set(FormErrors::default()); use_recovery.update(|r| *r = !*r); }>
                                {move || if use_recovery.get() { "認証アプリの確認コードを入力する" } else { "認証アプリを使えない場合（リカバリーコードを使う）" }}
                            </button>
                        </p>
                    </form>
                }.into_any()
            } else {
                view! {
                    <LoginForm id_name="login_id" id_label="ログインID" id=login_id password=password errors=errors
                        pending=pending testid="admin-login" on_submit=on_submit/>
                }.into_any()
            }}
        </Page>
    }
}

/// The queue.
#[component]
pub fn Queue() -> impl IntoView {
    if enrolling_reviewer().is_some() {
        return view! { <Redirect path="/admin/mfa"/> }.into_any();
    }
    let Some(client) = console_reviewer() else {
        return view! { <Redirect path="/admin/login"/> }.into_any();
    };
    let status = RwSignal::new(None::<ApplicationStatus>);
    let search = RwSignal::new(String::new());
    let applied_search = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let list = {
        let client = client.clone();
        LocalResource::new(move || {
            let client = client.clone();
            let status = status.get();
            let q = applied_search.get();
            let page = page.get();
            async move { client.applications(status, &q, page).await }
        })
    };
    let on_search = move |ev: SubmitEvent| {
        ev.prevent_default();
        page.set(1);
        applied_search.set(search.get_untracked());
    };
    let no_error = Signal::derive(|| None::<String>);
    let tabs = move |counts: &std::collections::BTreeMap<String, u64>| {
        let all: u64 = counts.values().sum();
        let mut tabs = vec![(None, "すべて".to_owned(), all)];
        for candidate in ApplicationStatus::ALL {
            tabs.push((
                Some(candidate),
                candidate.label().to_owned(),
                counts.get(candidate.as_str()).copied().unwrap_or(0),
            ));
        }
        tabs.into_iter()
            .map(|(value, label, count)| {
                let current = move || status.get() == value;
                view! {
                    <li>
                        <button type="button" class="tab" class:current=current aria-pressed=move || current().to_string()
                            data-testid=format!("tab-{}", value.map_or("all", ApplicationStatus::as_str))
                            on:click=move |_| { page.set(1); status.set(value); }>
                            {label} " (" {count} ")"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let rows = move |list: &ApplicationList| {
        list.items
            .iter()
            .map(|item| {
                let href = format!("/admin/applications/{}", item.id);
                view! {
                    <tr data-testid="queue-row">
                        <td><a href=href>{item.reference_number.clone().unwrap_or_else(|| "（未送信）".to_owned())}</a></td>
                        <td>{item.office_number.clone()}</td>
                        <td>{item.office_name.clone().unwrap_or_default()}
                            {(item.other_applications > 0).then(|| view! { <span class="flag">" 他の申請あり"</span> })}</td>
                        <td class="address">{if item.personal_data_erased { ERASED.to_owned() } else { item.email.clone() }}</td>
                        <td>{item.status_label.clone()}
                            {(item.envelope == EnvelopeState::Requested).then(|| view! { <span class="flag" data-testid="envelope-flag">" " {EnvelopeState::Requested.label()}</span> })}</td>
                        <td>{date_time(item.submitted_at.unwrap_or(item.created_at))}</td>
                        <td data-testid="queue-age">{item.business_days_waiting.map(|days| format!("{days}日"))}
                            {item.overdue.then(|| view! { <span class="flag overdue" data-testid="overdue">" 目標超過"</span> })}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let batch_html = RwSignal::new(None::<String>);
    let batch_error = RwSignal::new(None::<String>);
    let print_batch = {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            leptos::task::spawn_local(async move {
                match client.unposted_notices().await {
                    Ok(html) => batch_html.set(Some(html)),
                    Err(failure) => batch_error.set(Some(failure.message())),
                }
            });
        }
    };
    let batch_pdf = RwSignal::new(None::<String>);
    let make_batch_pdf = {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            leptos::task::spawn_local(async move {
                match client.unposted_notices_pdf().await {
                    Ok(url) => batch_pdf.set(Some(url)),
                    Err(failure) => batch_error.set(Some(failure.message())),
                }
            });
        }
    };
    let navigate = use_navigate();
    let reviewer = client.session().reviewer.clone();
    let logout = {
        let client = client.clone();
        move |_| {
            let (client, navigate) = (client.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                // The session ends on the server; the browser forgets it whatever the answer.
                let _ = client.logout().await;
                SessionStorage::delete(STORAGE_KEY);
                navigate("/admin/login", Default::default());
            });
        }
    };
    view! {
        <Page title="ログイン情報再発行申請 審査">
            <p>{reviewer.name.clone()} "（" {prefecture_name(&reviewer.prefecture_code)} "）"
                " " <button type="button" class="button secondary" data-testid="admin-logout" on:click=logout>"ログアウト"</button></p>
            <nav aria-label="審査の業務">
                <p>
                    <a href="/admin/dispatch-register" data-testid="link-dispatch">"発送簿"</a>
                    " ・ "
                    <a href="/admin/settings" data-testid="link-settings">"都道府県の設定"</a>
                </p>
            </nav>
            <p>
                <button type="button" class="button secondary" data-testid="print-batch" on:click=print_batch>"郵送待ちの通知書をまとめて表示"</button>
                " " <button type="button" class="button secondary" data-testid="print-batch-pdf" on:click=make_batch_pdf>"郵送待ちの通知書をPDFで作成"</button>
                {move || batch_pdf.get().map(|url| view! { " " <a href=url target="_blank" rel="noopener" data-testid="batch-pdf">"PDFを開く"</a> })}
            </p>
            {move || batch_error.get().map(|message| view! { <p class="error-message" role="alert">{message}</p> })}
            {move || batch_html.get().map(|html| view! {
                <iframe class="notice-frame" title="郵送待ちの電子請求ログイン情報再発行通知書" srcdoc=html sandbox=NOTICE_SANDBOX data-testid="batch-frame"></iframe>
            })}
            <form class="search" on:submit=on_search role="search">
                <TextField name="q" label="検索（受付番号・事業所番号・事業所名・メールアドレス）" value=search error=no_error width="input-medium"/>
                <button type="submit" class="button secondary" data-testid="search">"検索"</button>
            </form>
            <Suspense fallback=|| view! { <p>"読み込み中…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(list) => view! {
                        {ageing(&list.ageing)}
                        <ul class="tabs">{tabs(&list.counts)}</ul>
                        <p>{list.total} " 件"</p>
                        <table class="queue">
                            <thead><tr><th scope="col">"受付番号"</th><th scope="col">"事業所番号"</th><th scope="col">"事業所名"</th><th scope="col">"通知先メールアドレス"</th><th scope="col">"状態"</th><th scope="col">"申請日時"</th><th scope="col">"経過日数（営業日）"</th></tr></thead>
                            <tbody>{rows(&list)}</tbody>
                        </table>
                        <p class="actions">
                            <button type="button" class="button secondary" disabled=move || page.get() <= 1 on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>"前へ"</button>
                            <button type="button" class="button secondary" disabled=is_last_page(&list) on:click=move |_| page.update(|p| *p += 1)>"次へ"</button>
                        </p>
                    }.into_any(),
                    Err(failure) => view! { <p class="error-message" role="alert">{failure.message()}</p> }.into_any(),
                })}
            </Suspense>
        </Page>
    }
    .into_any()
}

/// The top of the queue: how long the applications waiting for the federation have waited.
fn ageing(ageing: &reissue_shared::admin::Ageing) -> impl IntoView {
    view! {
        <section aria-labelledby="ageing-title" class="ageing" data-testid="ageing">
            <h2 id="ageing-title">"審査を待っている申請の経過日数"</h2>
            <p>"目標: 送信から " {ageing.target_business_days} " 営業日以内（土日祝日と12月29日〜1月3日を除く）。"
                <strong data-testid="overdue-count">" 目標超過 " {ageing.overdue} " 件"</strong></p>
            <ul class="bands">
                {ageing.bands.iter().map(|band| view! {
                    <li data-testid="age-band">{band.label.clone()} ": " {band.count} " 件"</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

fn is_last_page(list: &ApplicationList) -> bool {
    u64::from(list.page) * u64::from(list.per_page) >= list.total
}

fn prefecture_name(code: &str) -> &'static str {
    reissue_shared::PrefectureCode::parse(code)
        .map(|p| p.name())
        .unwrap_or("")
}

/// What a button on an application's page asks the server to do.
#[derive(Debug, Clone)]
enum ReviewAction {
    /// 審査開始.
    StartReview,
    /// 承認 or 却下.
    Decide(DecisionRequest),
    /// 二次承認: confirm another reviewer's approval, or send it back with a reason.
    Confirm(ConfirmationRequest),
    /// Ask to print a posted notice again.
    RequestReprint(ReprintRequest),
    /// Confirm another reviewer's reprint request, or send it back with a reason.
    ConfirmReprint(ConfirmationRequest),
    /// 郵送済にする, with the registered post's number and day.
    MarkNoticeMailed(NoticeMailedRequest),
    /// 返信用封筒を依頼 (mails the prefecture's instructions).
    RequestEnvelope,
    /// 返信用封筒を受領.
    EnvelopeReceived,
    /// A call to the ledger's number.
    RecordCallback(CallbackRequest),
    /// 台帳の変更を確認しました.
    AcknowledgeLedgerChange,
    /// 取下げ.
    Withdraw(TextRequest),
    /// メモを追加.
    AddNote(TextRequest),
}

impl ReviewAction {
    async fn send(&self, client: &ReviewerApi, id: &str) -> Result<ApplicationDetail, ApiFailure> {
        match self {
            Self::StartReview => client.start_review(id).await,
            Self::Decide(body) => client.decide(id, body).await,
            Self::Confirm(body) => client.confirm(id, body).await,
            Self::RequestReprint(body) => client.request_reprint(id, body).await,
            Self::ConfirmReprint(body) => client.confirm_reprint(id, body).await,
            Self::MarkNoticeMailed(body) => client.mark_notice_mailed(id, body).await,
            Self::RequestEnvelope => client.request_envelope(id).await,
            Self::EnvelopeReceived => client.envelope_received(id).await,
            Self::RecordCallback(body) => client.record_callback(id, body).await,
            Self::AcknowledgeLedgerChange => client.acknowledge_ledger_change(id).await,
            Self::Withdraw(body) => client.withdraw(id, body).await,
            Self::AddNote(body) => client.add_note(id, body).await,
        }
    }
}

/// An application's page.
#[component]
pub fn Detail() -> impl IntoView {
    let Some(client) = console_reviewer() else {
        return view! { <Redirect path="/admin/login"/> }.into_any();
    };
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let detail = RwSignal::new(None::<Result<ApplicationDetail, ApiFailure>>);
    {
        let client = client.clone();
        leptos::task::spawn_local(async move {
            let result = client.application(&id()).await;
            detail.set(Some(result));
        });
    }
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let call_note = RwSignal::new(String::new());
    let tracking_number = RwSignal::new(String::new());
    let mailed_on = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let notice_html = RwSignal::new(None::<String>);
    let frame = NodeRef::<html::Iframe>::new();
    let act = {
        let client = client.clone();
        Action::new_local(move |action: &ReviewAction| {
            let (action, client) = (action.clone(), client.clone());
            async move {
                match action.send(&client, &id()).await {
                    Ok(updated) => {
                        errors.set(FormErrors::default());
                        reason.set(String::new());
                        note.set(String::new());
                        call_note.set(String::new());
                        detail.set(Some(Ok(updated)));
                    }
                    Err(failure) => errors.set(FormErrors::from(&failure)),
                }
            }
        })
    };
    let pending = act.pending();
    let notice_pdf = RwSignal::new(None::<String>);
    let make_pdf = {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            leptos::task::spawn_local(async move {
                match client.notice_pdf(&id()).await {
                    Ok(url) => notice_pdf.set(Some(url)),
                    Err(failure) => errors.set(FormErrors::from(&failure)),
                }
            });
        }
    };
    let print = move |_| {
        let client = client.clone();
        leptos::task::spawn_local(async move {
            match client.notice(&id()).await {
                Ok(html) => notice_html.set(Some(html)),
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        });
    };
    let print_frame = move |_| {
        if let Some(window) = frame.get().and_then(|f| f.content_window()) {
            let _ = window.print();
        }
    };
    let no_error = Signal::derive(|| None::<String>);
    let view_detail = move |d: ApplicationDetail| {
        let a = d.application.clone();
        let status = a.status;
        let ledger = d.ledger_entry.clone();
        view! {
            <dl class="summary" data-testid="admin-detail">
                <div><dt>"受付番号"</dt><dd data-testid="admin-reference">{a.reference_number.clone().unwrap_or_default()}</dd></div>
                <div><dt>"状態"</dt><dd data-testid="admin-status">{a.status_label.clone()}</dd></div>
                <div><dt>"事業所番号"</dt><dd>{a.office_number.clone()}</dd></div>
                <div><dt>"通知先メールアドレス"</dt><dd data-testid="detail-email">{if a.personal_data_erased { ERASED.to_owned() } else { a.email.clone() }}</dd></div>
                <div><dt>"申請日時"</dt><dd>{date_time(a.submitted_at.unwrap_or(a.created_at))}</dd></div>
                {a.business_days_waiting.map(|days| view! {
                    <div><dt>"経過日数"</dt><dd data-testid="detail-age">{days} " 営業日" {a.overdue.then_some("（目標超過）")}</dd></div>
                })}
                {d.decision_reason.clone().map(|r| view! { <div><dt>"理由"</dt><dd>{r}</dd></div> })}
            </dl>
            <h2>"事業所台帳"</h2>
            {match ledger {
                Some(entry) => view! {
                    <dl class="summary" data-testid="ledger-entry">
                        <div><dt>"事業所名"</dt><dd>{entry.office_name}</dd></div>
                        <div><dt>"種別"</dt><dd>{entry.kind}</dd></div>
                        <div><dt>"住所"</dt><dd>"〒" {entry.postal_code} " " {entry.address}</dd></div>
                        <div><dt>"電話番号"</dt><dd><a href=format!("tel:{}", entry.phone)>{entry.phone.clone()}</a></dd></div>
                    </dl>
                }.into_any(),
                None => view! { <p>"事業所台帳に登録がありません。"</p> }.into_any(),
            }}
            {d.ledger_change.clone().map(|change| ledger_change_section(&change, before_issue(status), act, pending))}
            {callbacks_section(&d, act, pending, call_note, errors)}
            {envelope_section(&d, act, pending)}
            {(!d.other_applications.is_empty()).then(|| view! {
                <p class="warning" data-testid="other-applications">"この事業所には他に " {d.other_applications.len()} " 件の申請があります。"</p>
            })}
            {d.approval.clone().map(|approval| approval_record(&approval, status))}
            <h2>"審査"</h2>
            <div class="actions">
                {(status == ApplicationStatus::Submitted).then(|| view! {
                    <button type="button" class="button" data-testid="start-review" disabled=move || pending.get()
                        on:click=move |_| { act.dispatch_local(ReviewAction::StartReview); }>"審査開始"</button>
                })}
                {(status == ApplicationStatus::InReview).then(|| view! {
                    <button type="button" class="button" data-testid="approve" disabled=move || pending.get()
                        on:click=move |_| { act.dispatch_local(ReviewAction::Decide(DecisionRequest { decision: "approved".to_owned(), reason: None })); }>"承認"</button>
                })}
                {(status == ApplicationStatus::Approved && !d.reprint_required).then(|| view! {
                    <button type="button" class="button" data-testid="print-notice" on:click=print.clone()>"通知書を印刷"</button>
                    <button type="button" class="button secondary" data-testid="notice-pdf" on:click=make_pdf.clone()>"通知書をPDFで作成"</button>
                    {move || notice_pdf.get().map(|url| view! { <a href=url target="_blank" rel="noopener" data-testid="notice-pdf-link">"PDFを開く"</a> })}
                })}
            </div>
            {(status == ApplicationStatus::Approved && d.notice_mailed_at.is_none()).then(|| view! {
                <h3>"郵送の記録"</h3>
                <TextField name="tracking_number" label="追跡番号（書留の控えの番号。任意）" value=tracking_number error=field_error(errors, "tracking_number")
                    hint="11〜13桁の数字です（例: 131-12-38385-2）。ハイフンは省略できます。" inputmode="numeric" maxlength=20 width="input-medium"/>
                <TextField name="mailed_on" label="発送日（空欄なら今日）" value=mailed_on error=field_error(errors, "mailed_on")
                    hint="例: 2026-12-07" input_type="date" width="input-medium"/>
                <div class="actions">
                    <button type="button" class="button secondary" data-testid="notice-mailed" disabled=move || pending.get()
                        on:click=move |_| {
                            let body = NoticeMailedRequest {
                                tracking_number: Some(tracking_number.get_untracked()).filter(|t| !t.trim().is_empty()),
                                mailed_on: Some(mailed_on.get_untracked()).filter(|t| !t.trim().is_empty()),
                            };
                            if passes_check(errors, reissue_shared::ParseInput::parse(&body).map(drop)) {
                                act.dispatch_local(ReviewAction::MarkNoticeMailed(body));
                            }
                        }>"郵送済にする"</button>
                </div>
            })}
            {d.notice_mailed_at.map(|at| {
                let day = d.notice_mailed_on.clone().unwrap_or_else(|| date_time(at));
                let number = d.notice_tracking_number.clone().map(|n| format!("（追跡番号 {n}）")).unwrap_or_default();
                view! { <p data-testid="notice-mailed-at">"通知書は " {day} " に郵送しました" {number} "。"</p> }
            })}
            {(status == ApplicationStatus::AwaitingConfirmation).then(|| {
                let mine = d.approval.as_ref().is_some_and(|a| a.approved_by_you);
                if mine {
                    view! {
                        <p data-testid="awaiting-other">"あなたが承認しました。同じ都道府県の別の審査担当者が確認すると、承認が確定し、仮パスワードと通知書が作られます。"</p>
                    }.into_any()
                } else {
                    view! {
                        <p>"別の審査担当者が承認しました。内容を確認して、承認を確定するか、理由を書いて差し戻してください。"</p>
                        <div class="actions">
                            <button type="button" class="button" data-testid="confirm-approval" disabled=move || pending.get()
                                on:click=move |_| { act.dispatch_local(ReviewAction::Confirm(ConfirmationRequest { confirm: Some(true), reason: None })); }>"承認を確定"</button>
                        </div>
                        <TextField name="reason" label="差し戻しの理由（履歴に残ります）" value=reason error=field_error(errors, "reason")/>
                        <div class="actions">
                            <button type="button" class="button secondary" data-testid="send-back" disabled=move || pending.get()
                                on:click=move |_| { act.dispatch_local(ReviewAction::Confirm(ConfirmationRequest { confirm: Some(false), reason: Some(reason.get_untracked()) })); }>"差し戻す"</button>
                        </div>
                    }.into_any()
                }
            })}
            {(status == ApplicationStatus::Approved && d.reprint_required && d.reprint_request.is_none()).then(|| view! {
                <p data-testid="reprint-needed">"通知書は郵送済です。もう一度印刷すると新しい仮パスワードが作られるため、再印刷を申請して、別の審査担当者の確認を受けてください。"</p>
                <TextField name="reason" label="再印刷の理由（履歴に残ります）" value=reason error=field_error(errors, "reason")/>
                <div class="actions">
                    <button type="button" class="button secondary" data-testid="request-reprint" disabled=move || pending.get()
                        on:click=move |_| { act.dispatch_local(ReviewAction::RequestReprint(ReprintRequest { reason: reason.get_untracked() })); }>"再印刷を申請"</button>
                </div>
            })}
            {d.reprint_request.clone().map(|request| reprint_request(&request, act, pending, reason, errors))}
            {matches!(status, ApplicationStatus::Submitted | ApplicationStatus::InReview).then(|| view! {
                <TextField name="reason" label="却下・取下げの理由（事業所への通知に記載されます）" value=reason error=no_error/>
                <div class="actions">
                    {(status == ApplicationStatus::InReview).then(|| view! {
                        <button type="button" class="button secondary" data-testid="reject" disabled=move || pending.get()
                            on:click=move |_| { act.dispatch_local(ReviewAction::Decide(DecisionRequest { decision: "rejected".to_owned(), reason: Some(reason.get_untracked()) })); }>"却下"</button>
                    })}
                    <button type="button" class="button secondary" data-testid="withdraw" disabled=move || pending.get()
                        on:click=move |_| { act.dispatch_local(ReviewAction::Withdraw(TextRequest { text: reason.get_untracked() })); }>"取下げ"</button>
                </div>
            })}
            <h2>"メモ"</h2>
            <ul data-testid="notes">
                {d.notes.iter().map(|n| view! { <li>{date_time(n.created_at)} " " {n.reviewer_name.clone()} ": " {n.text.clone()}</li> }).collect_view()}
            </ul>
            <TextField name="text" label="メモを追加（電話連絡の記録など）" value=note error=no_error/>
            <p><button type="button" class="button secondary" data-testid="add-note" disabled=move || pending.get()
                on:click=move |_| { act.dispatch_local(ReviewAction::AddNote(TextRequest { text: note.get_untracked() })); }>"メモを追加"</button></p>
            <h2>"履歴"</h2>
            <ol class="history" data-testid="history">
                {d.history.iter().map(|h| view! {
                    <li>{date_time(h.occurred_at)} " " <strong>{h.action_label.clone()}</strong> " " {h.actor_name.clone()}
                        {(!h.detail.is_empty()).then(|| format!("（{}）", h.detail))}</li>
                }).collect_view()}
            </ol>
        }
    };
    view! {
        <Page title="申請の詳細">
            <p><a href="/admin">"一覧へ戻る"</a></p>
            <ErrorSummary errors=errors/>
            {move || match detail.get() {
                None => view! { <p>"読み込み中…"</p> }.into_any(),
                Some(Ok(d)) => view_detail(d).into_any(),
                Some(Err(failure)) => view! { <p class="error-message" role="alert">{failure.message()}</p> }.into_any(),
            }}
            {move || notice_html.get().map(|html| view! {
                <h2>"電子請求ログイン情報再発行通知書"</h2>
                <p><button type="button" class="button" data-testid="print-frame" on:click=print_frame>"印刷する"</button></p>
                <iframe class="notice-frame" title="電子請求ログイン情報再発行通知書" srcdoc=html sandbox=NOTICE_SANDBOX node_ref=frame data-testid="notice-frame"></iframe>
            })}
        </Page>
    }
    .into_any()
}

/// Who approved and who confirmed, and when.
fn approval_record(approval: &ApprovalView, status: ApplicationStatus) -> impl IntoView {
    let confirmed_by = match (&approval.confirmed_by, status) {
        (Some(name), _) => name.clone(),
        (None, ApplicationStatus::AwaitingConfirmation) => "（確認待ち）".to_owned(),
        (None, _) => "なし（一人で承認）".to_owned(),
    };
    view! {
        <h2>"承認の記録"</h2>
        <dl class="summary" data-testid="approval">
            <div><dt>"承認した人"</dt><dd data-testid="approved-by">{approval.approved_by.clone()}</dd></div>
            <div><dt>"承認した日時"</dt><dd>{date_time(approval.approved_at)}</dd></div>
            <div><dt>"確認した人"</dt><dd data-testid="confirmed-by">{confirmed_by}</dd></div>
            {approval.confirmed_at.map(|at| view! { <div><dt>"確認した日時"</dt><dd>{date_time(at)}</dd></div> })}
        </dl>
    }
}

/// A reprint request waiting for a second reviewer: what was asked, and for another reviewer
/// the confirm and send-back controls.
fn reprint_request(
    request: &ReprintRequestView,
    act: Action<ReviewAction, ()>,
    pending: Memo<bool>,
    reason: RwSignal<String>,
    errors: RwSignal<FormErrors>,
) -> impl IntoView {
    let mine = request.requested_by_you;
    view! {
        <h2>"再印刷の申請"</h2>
        <dl class="summary" data-testid="reprint-request">
            <div><dt>"申請した人"</dt><dd>{request.requested_by.clone()}</dd></div>
            <div><dt>"申請した日時"</dt><dd>{date_time(request.requested_at)}</dd></div>
            <div><dt>"理由"</dt><dd>{request.reason.clone()}</dd></div>
        </dl>
        {if mine {
            view! { <p data-testid="reprint-awaiting-other">"あなたが申請しました。同じ都道府県の別の審査担当者の確認を待っています。"</p> }.into_any()
        } else {
            view! {
                <p>"確定すると新しい仮パスワードが作られ、前の仮パスワードは使えなくなります。事業所のセキュリティ用メールアドレス（登録がある場合）にもお知らせします。"</p>
                <div class="actions">
                    <button type="button" class="button" data-testid="confirm-reprint" disabled=move || pending.get()
                        on:click=move |_| { act.dispatch_local(ReviewAction::ConfirmReprint(ConfirmationRequest { confirm: Some(true), reason: None })); }>"再印刷を確定"</button>
                </div>
                <TextField name="reason" label="差し戻しの理由（履歴に残ります）" value=reason error=field_error(errors, "reason")/>
                <div class="actions">
                    <button type="button" class="button secondary" data-testid="send-back-reprint" disabled=move || pending.get()
                        on:click=move |_| { act.dispatch_local(ReviewAction::ConfirmReprint(ConfirmationRequest { confirm: Some(false), reason: Some(reason.get_untracked()) })); }>"差し戻す"</button>
                </div>
            }.into_any()
        }}
    }
}

/// Statuses in which the federation still works towards the notice: an envelope can be asked
/// for and a call recorded.
fn before_issue(status: ApplicationStatus) -> bool {
    matches!(
        status,
        ApplicationStatus::Submitted
            | ApplicationStatus::InReview
            | ApplicationStatus::AwaitingConfirmation
    )
}

/// Calls to the ledger's number: the record, and one click to add one (reached or not).
fn callbacks_section(
    d: &ApplicationDetail,
    act: Action<ReviewAction, ()>,
    pending: Memo<bool>,
    call_note: RwSignal<String>,
    errors: RwSignal<FormErrors>,
) -> impl IntoView {
    let can_call = before_issue(d.application.status) && d.ledger_entry.is_some();
    let required = d.checks.callback_required;
    let shown = can_call || !d.callbacks.is_empty() || required;
    let call = move |reached: bool| {
        let body = CallbackRequest {
            reached,
            note: call_note.get_untracked(),
        };
        if passes_check(errors, reissue_shared::ParseInput::parse(&body).map(drop)) {
            act.dispatch_local(ReviewAction::RecordCallback(body));
        }
    };
    shown.then(|| view! {
        <h2>"台帳の電話番号への確認"</h2>
        {required.then(|| if d.checks.callback_reached {
            view! { <p data-testid="callback-status">"事業所と電話で話せたことを記録済みです。"</p> }.into_any()
        } else {
            view! { <p class="warning" data-testid="callback-status">"この都道府県では、承認の前に事業所台帳の電話番号へ電話し、事業所と話せたことを記録する必要があります。"</p> }.into_any()
        })}
        <ul data-testid="callbacks">
            {d.callbacks.iter().map(callback_line).collect_view()}
        </ul>
        {can_call.then(|| view! {
            <TextField name="note" label="通話のメモ（任意）" value=call_note error=field_error(errors, "note")/>
            <div class="actions">
                <button type="button" class="button secondary" data-testid="callback-reached" disabled=move || pending.get()
                    on:click=move |_| call(true)>"電話がつながった"</button>
                <button type="button" class="button secondary" data-testid="callback-unreached" disabled=move || pending.get()
                    on:click=move |_| call(false)>"電話がつながらなかった"</button>
            </div>
        })}
    })
}

fn callback_line(call: &CallbackView) -> impl IntoView {
    let outcome = if call.reached {
        "つながった"
    } else {
        "つながらなかった"
    };
    view! {
        <li>{date_time(call.called_at)} " " {call.called_by.clone()} "：" {call.phone.clone()} " に電話、" {outcome}
            {(!call.note.is_empty()).then(|| format!("（{}）", call.note))}</li>
    }
}

/// The return envelope: where it stands, and the request and arrival buttons.
fn envelope_section(
    d: &ApplicationDetail,
    act: Action<ReviewAction, ()>,
    pending: Memo<bool>,
) -> impl IntoView {
    let envelope = d.application.envelope;
    let required = d.checks.return_envelope_required;
    let open = before_issue(d.application.status) && envelope != EnvelopeState::Received;
    let shown = required || envelope != EnvelopeState::None;
    let state = match envelope {
        EnvelopeState::None => "まだ依頼していません。",
        EnvelopeState::Requested => "返信用封筒待ち（依頼のメールを送りました）",
        EnvelopeState::Received => "返信用封筒を受け取りました。",
    };
    shown.then(|| view! {
        <h2>"返信用封筒"</h2>
        <p data-testid="envelope-state">{state}</p>
        {(required && envelope != EnvelopeState::Received).then(|| view! {
            <p class="warning">"この都道府県では、返信用封筒が届くまで承認を確定できません。"</p>
        })}
        {open.then(|| view! {
            <div class="actions">
                <button type="button" class="button secondary" data-testid="request-envelope" disabled=move || pending.get()
                    on:click=move |_| { act.dispatch_local(ReviewAction::RequestEnvelope); }>
                    {if envelope == EnvelopeState::Requested { "もう一度依頼する（メール送信）" } else { "返信用封筒を依頼する（メール送信）" }}</button>
                <button type="button" class="button secondary" data-testid="envelope-received" disabled=move || pending.get()
                    on:click=move |_| { act.dispatch_local(ReviewAction::EnvelopeReceived); }>"返信用封筒を受領"</button>
            </div>
        })}
    })
}

/// The office's ledger entry at the submission and now, side by side, and the acknowledgement
/// an approval waits for.
fn ledger_change_section(
    change: &reissue_shared::admin::LedgerChangeView,
    open: bool,
    act: Action<ReviewAction, ()>,
    pending: Memo<bool>,
) -> impl IntoView {
    let before = &change.before;
    let after = change.after.as_ref();
    let row = |label: &'static str, old: String, new: Option<String>| {
        let differs = new.as_ref() != Some(&old);
        view! {
            <tr class:changed=differs>
                <th scope="row">{label}</th>
                <td>{old}</td>
                <td>{new.unwrap_or_else(|| "（削除）".to_owned())}</td>
            </tr>
        }
    };
    view! {
        <section data-testid="ledger-change" aria-labelledby="ledger-change-title">
            <h2 id="ledger-change-title">"事業所台帳の変更"</h2>
            <p class="warning">{if after.is_some() {
                format!("申請の後（{}）に、この事業所の台帳の登録内容が変わりました。通知書の宛先を確認してください。", date_time(change.changed_at))
            } else {
                format!("申請の後（{}）に、この事業所は台帳から削除されました。承認できません。", date_time(change.changed_at))
            }}</p>
            <table class="queue">
                <thead><tr><th scope="col">"項目"</th><th scope="col">"申請のとき"</th><th scope="col">"いま"</th></tr></thead>
                <tbody>
                    {row("事業所名", before.office_name.clone(), after.map(|a| a.office_name.clone()))}
                    {row("住所", format!("〒{} {}", before.postal_code, before.address), after.map(|a| format!("〒{} {}", a.postal_code, a.address)))}
                    {row("電話番号", before.phone.clone(), after.map(|a| a.phone.clone()))}
                    {row("種別", before.kind.clone(), after.map(|a| a.kind.clone()))}
                </tbody>
            </table>
            {if change.acknowledged {
                view! { <p data-testid="ledger-change-acknowledged">"変更は確認済みです。"</p> }.into_any()
            } else if open && after.is_some() {
                view! {
                    <div class="actions">
                        <button type="button" class="button secondary" data-testid="acknowledge-ledger-change" disabled=move || pending.get()
                            on:click=move |_| { act.dispatch_local(ReviewAction::AcknowledgeLedgerChange); }>"台帳の変更を確認しました"</button>
                    </div>
                }.into_any()
            } else {
                ().into_any()
            }}
        </section>
    }
}
