//! The federation's own pages in the console: its prefecture's settings (都道府県の設定, saved
//! by supervisors) and the dispatch register (発送簿) of posted notices.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::Redirect;

use reissue_shared::federation::{DispatchRegister, PrefectureSettings, PrefectureSettingsView};
use reissue_shared::japan_time::{date_time, in_japan};
use reissue_shared::ParseInput;

use crate::api::ReviewerApi;
use crate::components::error_summary::{field_error, passes_check, ErrorSummary, FormErrors};
use crate::components::field::TextField;
use crate::components::layout::Page;
use crate::components::submit_button::SubmitButton;
use crate::pages::admin::console_reviewer;

/// 都道府県の設定: what every reviewer of the prefecture works with; supervisors change it.
#[component]
pub fn Settings() -> impl IntoView {
    let Some(client) = console_reviewer() else {
        return view! { <Redirect path="/admin/login"/> }.into_any();
    };
    let loaded = RwSignal::new(None::<PrefectureSettingsView>);
    let errors = RwSignal::new(FormErrors::default());
    let saved = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let helpdesk = RwSignal::new(String::new());
    let envelope_required = RwSignal::new(false);
    let instructions = RwSignal::new(String::new());
    let callback_required = RwSignal::new(false);
    let target_days = RwSignal::new(String::new());
    let fill = move |view: &PrefectureSettingsView| {
        let s = &view.settings;
        name.set(s.federation_name.clone());
        address.set(s.federation_address.clone());
        phone.set(s.federation_phone.clone());
        helpdesk.set(s.helpdesk_phone.clone());
        envelope_required.set(s.return_envelope_required);
        instructions.set(s.envelope_instructions.clone());
        callback_required.set(s.callback_required);
        target_days.set(s.review_target_business_days.to_string());
    };
    {
        let client = client.clone();
        leptos::task::spawn_local(async move {
            match client.prefecture_settings().await {
                Ok(view) => {
                    fill(&view);
                    loaded.set(Some(view));
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        });
    }
    let save = Action::new_local(move |body: &PrefectureSettings| {
        let (client, body): (ReviewerApi, PrefectureSettings) = (client.clone(), body.clone());
        async move {
            match client.save_prefecture_settings(&body).await {
                Ok(view) => {
                    errors.set(FormErrors::default());
                    fill(&view);
                    loaded.set(Some(view));
                    saved.set(true);
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let body = PrefectureSettings {
            federation_name: name.get_untracked(),
            federation_address: address.get_untracked(),
            federation_phone: phone.get_untracked(),
            helpdesk_phone: helpdesk.get_untracked(),
            return_envelope_required: envelope_required.get_untracked(),
            envelope_instructions: instructions.get_untracked(),
            callback_required: callback_required.get_untracked(),
            // A number the field cannot hold is refused by the range check, with its message.
            review_target_business_days: target_days.get_untracked().trim().parse().unwrap_or(0),
        };
        if passes_check(errors, body.parse().map(drop)) && !save.pending().get_untracked() {
            save.dispatch_local(body);
        }
    };
    let pending = save.pending();
    let editable = move || loaded.get().is_some_and(|view| view.editable);
    view! {
        <Page title="都道府県の設定">
            <p><a href="/admin">"一覧へ戻る"</a></p>
            <ErrorSummary errors=errors/>
            {move || loaded.get().map(|view| view! {
                <p data-testid="settings-prefecture">{view.prefecture_name.clone()} "の国保連合会の設定です。通知書・メール・審査の手順に使われます。"</p>
                <p>{match (&view.updated_at, &view.updated_by) {
                    (Some(at), Some(by)) => format!("最終更新: {} {}", date_time(*at), by),
                    _ => "まだ設定されていません（標準の値を使っています）。".to_owned(),
                }}</p>
                {(!view.editable).then(|| view! {
                    <p class="warning" data-testid="settings-read-only">"設定を変更できるのは審査責任者だけです。"</p>
                })}
            })}
            <form on:submit=on_submit novalidate data-testid="settings-form">
                <fieldset disabled=move || !editable()>
                    <TextField name="federation_name" label="国保連合会の名称（通知書とメールの差出人）" value=name error=field_error(errors, "federation_name")/>
                    <TextField name="federation_address" label="国保連合会の住所（通知書に印刷します）" value=address error=field_error(errors, "federation_address")
                        hint="例: 〒102-0072 東京都千代田区飯田橋3-5-1"/>
                    <TextField name="federation_phone" label="国保連合会の電話番号" value=phone error=field_error(errors, "federation_phone")
                        hint="例: 03-1234-5678" inputmode="tel" width="input-medium"/>
                    <TextField name="helpdesk_phone" label="ヘルプデスクの電話番号（メールの末尾）" value=helpdesk error=field_error(errors, "helpdesk_phone")
                        hint="マニュアルの番号は 0570-059-402 です。" inputmode="tel" width="input-medium"/>
                    <div class="field">
                        <label class="checkbox">
                            <input type="checkbox" name="return_envelope_required" data-testid="input-return_envelope_required"
                                prop:checked=move || envelope_required.get()
                                on:change=move |ev| envelope_required.set(event_target_checked(&ev))/>
                            " 通知書は返信用封筒が届いてから郵送する（届くまで承認を確定できません）"
                        </label>
                    </div>
                    <div class="field">
                        <label for="field-envelope-instructions">"返信用封筒の案内文（依頼のメールに記載します）"</label>
                        <p class="hint" id="field-envelope-instructions-hint">"送ってほしいもの（切手の額、封筒の大きさ、宛先）を書いてください。"</p>
                        {move || field_error(errors, "envelope_instructions").get().map(|message| view! {
                            <p class="error-message" id="field-envelope-instructions-error" data-testid="error-envelope_instructions"><span class="visually-hidden">"エラー: "</span>{message}</p>
                        })}
                        <textarea id="field-envelope-instructions" name="envelope_instructions" rows="5" data-testid="input-envelope_instructions"
                            aria-describedby="field-envelope-instructions-hint"
                            aria-invalid=move || field_error(errors, "envelope_instructions").get().is_some().to_string()
                            prop:value=move || instructions.get()
                            on:input=move |ev| instructions.set(event_target_value(&ev))></textarea>
                    </div>
                    <div class="field">
                        <label class="checkbox">
                            <input type="checkbox" name="callback_required" data-testid="input-callback_required"
                                prop:checked=move || callback_required.get()
                                on:change=move |ev| callback_required.set(event_target_checked(&ev))/>
                            " 承認の前に、事業所台帳の電話番号へ電話して事業所と話せたことの記録を求める"
                        </label>
                    </div>
                    <TextField name="review_target_business_days" label="審査の目標日数（営業日）" value=target_days error=field_error(errors, "review_target_business_days")
                        hint="送信から審査結果までの目標です（1〜60）。一覧で、これを過ぎた申請に印がつきます。" inputmode="numeric" maxlength=2 width="input-short"/>
                    <div class="actions">
                        <SubmitButton label="保存する" busy_label="保存中…" pending=pending testid="settings-save"/>
                    </div>
                    <p role="status">{move || saved.get().then(|| view! { <span class="success" data-testid="settings-saved">"設定を保存しました。"</span> })}</p>
                </fieldset>
            </form>
        </Page>
    }
    .into_any()
}

/// Today in Japan, `YYYY-MM-DD`.
fn japan_today() -> time::Date {
    let now = time::OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    in_japan(now).date()
}

/// `data:` URL of a file's bytes, for a download link.
fn data_url(mime: &str, bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 32);
    out.push_str("data:");
    out.push_str(mime);
    out.push_str(";base64,");
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// 発送簿: the notices posted in a range of days, with their registered-post numbers, and the
/// same as a CSV file (UTF-8 or Shift_JIS).
#[component]
pub fn DispatchRegisterPage() -> impl IntoView {
    let Some(client) = console_reviewer() else {
        return view! { <Redirect path="/admin/login"/> }.into_any();
    };
    let today = japan_today();
    let to = RwSignal::new(today.to_string());
    let from = RwSignal::new((today - time::Duration::days(30)).to_string());
    let errors = RwSignal::new(FormErrors::default());
    let register = RwSignal::new(None::<DispatchRegister>);
    let download = RwSignal::new(None::<(String, String)>);
    let load = {
        let client = client.clone();
        Action::new_local(move |(): &()| {
            let client = client.clone();
            async move {
                download.set(None);
                match client
                    .dispatch_register(&from.get_untracked(), &to.get_untracked())
                    .await
                {
                    Ok(found) => {
                        errors.set(FormErrors::default());
                        register.set(Some(found));
                    }
                    Err(failure) => errors.set(FormErrors::from(&failure)),
                }
            }
        })
    };
    load.dispatch_local(());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        load.dispatch_local(());
    };
    let prepare_csv = move |encoding: &'static str| {
        let client = client.clone();
        leptos::task::spawn_local(async move {
            let (from, to) = (from.get_untracked(), to.get_untracked());
            match client.dispatch_csv(&from, &to, encoding).await {
                Ok(bytes) => {
                    let charset = if encoding == "shift_jis" {
                        "Shift_JIS"
                    } else {
                        "utf-8"
                    };
                    let name = format!("dispatch-register-{from}-{to}-{encoding}.csv");
                    download.set(Some((
                        data_url(&format!("text/csv;charset={charset}"), &bytes),
                        name,
                    )));
                }
                Err(failure) => errors.set(FormErrors::from(&failure)),
            }
        });
    };
    let csv_utf8 = {
        let prepare_csv = prepare_csv.clone();
        move |_| prepare_csv("utf-8")
    };
    let csv_sjis = move |_| prepare_csv("shift_jis");
    let pending = load.pending();
    view! {
        <Page title="発送簿">
            <p><a href="/admin">"一覧へ戻る"</a></p>
            <p>"郵送済にした通知書の記録です（発送日・宛先・書留の追跡番号）。"</p>
            <ErrorSummary errors=errors/>
            <form class="search" on:submit=on_submit novalidate data-testid="dispatch-form">
                <TextField name="from" label="開始日" value=from error=field_error(errors, "from") input_type="date" width="input-medium"/>
                <TextField name="to" label="終了日" value=to error=field_error(errors, "to") input_type="date" width="input-medium"/>
                <div class="actions">
                    <SubmitButton label="表示する" busy_label="読み込み中…" pending=pending testid="dispatch-show"/>
                </div>
            </form>
            {move || register.get().map(|register| view! {
                <p data-testid="dispatch-count">{register.from.clone()} " 〜 " {register.to.clone()} "：" {register.items.len()} " 件"</p>
                <table class="queue" data-testid="dispatch-table">
                    <thead><tr><th scope="col">"発送日"</th><th scope="col">"受付番号"</th><th scope="col">"事業所番号"</th><th scope="col">"宛先"</th><th scope="col">"追跡番号"</th><th scope="col">"発送者"</th></tr></thead>
                    <tbody>
                        {register.items.iter().map(|item| view! {
                            <tr data-testid="dispatch-row">
                                <td>{item.mailed_on.clone()}</td>
                                <td><a href=format!("/admin/applications/{}", item.application_id)>{item.reference_number.clone()}</a></td>
                                <td>{item.office_number.clone()}</td>
                                <td class="address">{item.mailed_to.clone()}</td>
                                <td data-testid="dispatch-tracking">{item.tracking_number.clone().unwrap_or_else(|| "（なし）".to_owned())}</td>
                                <td>{item.mailed_by.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <div class="actions">
                <button type="button" class="button secondary" data-testid="dispatch-csv" on:click=csv_utf8>"CSVを作る（UTF-8）"</button>
                <button type="button" class="button secondary" data-testid="dispatch-csv-sjis" on:click=csv_sjis>"CSVを作る（Shift_JIS）"</button>
            </div>
            {move || download.get().map(|(href, name)| view! {
                <p><a href=href download=name.clone() data-testid="dispatch-download">{format!("{name} をダウンロード")}</a></p>
            })}
        </Page>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::data_url;

    #[test]
    fn data_urls_are_base64() {
        assert_eq!(data_url("text/csv", b""), "data:text/csv;base64,");
        assert_eq!(data_url("text/csv", b"M"), "data:text/csv;base64,TQ==");
        assert_eq!(data_url("text/csv", b"Ma"), "data:text/csv;base64,TWE=");
        assert_eq!(data_url("text/csv", b"Man"), "data:text/csv;base64,TWFu");
    }
}
