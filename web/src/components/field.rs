//! A labelled text field with its hint and its error, linked by `aria-describedby`.

use leptos::prelude::*;

use super::error_summary::field_id;

/// One text input.
#[component]
pub fn TextField(
    /// The request member, e.g. `office_number`.
    name: &'static str,
    /// The label, as the manual names the field.
    label: &'static str,
    /// The value.
    value: RwSignal<String>,
    /// The current error, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// Called when the field loses focus (to check it).
    #[prop(optional)]
    on_blur: Option<Callback<()>>,
    /// Called after each change (to clear an error once the value is right).
    #[prop(optional)]
    on_input: Option<Callback<()>>,
    /// A hint under the label.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// `type` of the input.
    #[prop(default = "text")]
    input_type: &'static str,
    /// `autocomplete`.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// `inputmode`.
    #[prop(optional)]
    inputmode: Option<&'static str>,
    /// `maxlength`.
    #[prop(optional)]
    maxlength: Option<u32>,
    /// CSS width class.
    #[prop(default = "input-wide")]
    width: &'static str,
) -> impl IntoView {
    let id = field_id(name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let has_error = move || error.get().is_some();
    view! {
        <div class="field" class:field-error=has_error>
            <label for=id.clone()>{label}</label>
            {hint.map(|text| view! { <p class="hint" id=hint_id.clone()>{text}</p> })}
            {move || error.get().map(|message| view! {
                <p class="error-message" id=error_id.clone() data-testid=format!("error-{name}")>
                    <span class="visually-hidden">"エラー: "</span>{message}
                </p>
            })}
            <input
                id=id.clone()
                name=name
                type=input_type
                class=width
                autocomplete=autocomplete
                inputmode=inputmode
                maxlength=maxlength
                spellcheck="false"
                aria-invalid=move || has_error().then_some("true")
                aria-describedby=described_by
                data-testid=format!("input-{name}")
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(callback) = on_input {
                        callback.run(());
                    }
                }
                on:blur=move |_| {
                    if let Some(callback) = on_blur {
                        callback.run(());
                    }
                }
            />
        </div>
    }
}
