//! The error summary at the top of a form: takes focus when it appears, names each problem,
//! and links to its field.

use leptos::html;
use leptos::prelude::*;
use reissue_shared::FieldError;

/// The id of a field's input; error summaries link to it.
pub fn field_id(field: &str) -> String {
    format!("field-{}", field.replace('_', "-"))
}

/// Errors shown on one form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    /// Per-field errors, in screen order.
    pub fields: Vec<FieldError>,
    /// A problem that belongs to no field (ledger outcome, network, rate limit).
    pub general: Option<String>,
}

impl From<&crate::api::ApiFailure> for FormErrors {
    /// Field errors where the server named fields, otherwise its message for the summary.
    fn from(failure: &crate::api::ApiFailure) -> Self {
        let fields = failure.field_errors();
        Self {
            general: fields.is_empty().then(|| failure.message()),
            fields,
        }
    }
}

impl FormErrors {
    /// The problems a form's own check found.
    pub fn of_fields(fields: Vec<FieldError>) -> Self {
        Self {
            fields,
            general: None,
        }
    }

    /// No errors.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_none()
    }

    /// The first message for `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    }
}

/// The message for `field` in `errors`, for the field's [`TextField`](super::field::TextField).
pub fn field_error(errors: RwSignal<FormErrors>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || errors.with(|e| e.for_field(field)))
}

/// Shows in `errors` what a form's own check found; when it found nothing, clears them and
/// answers `true`: the request may go.
pub fn passes_check(errors: RwSignal<FormErrors>, checked: Result<(), Vec<FieldError>>) -> bool {
    let passed = checked.is_ok();
    errors.set(match checked {
        Ok(()) => FormErrors::default(),
        Err(fields) => FormErrors::of_fields(fields),
    });
    passed
}

/// The summary; renders nothing while there are no errors.
#[component]
pub fn ErrorSummary(errors: RwSignal<FormErrors>) -> impl IntoView {
    let node = NodeRef::<html::Div>::new();
    // Move focus to the summary whenever new errors appear, so a screen reader reads them and
    // a keyboard user starts from there.
    Effect::new(move |_| {
        if !errors.with(FormErrors::is_empty) {
            if let Some(element) = node.get() {
                let _ = element.focus();
            }
        }
    });
    view! {
        <Show when=move || !errors.with(FormErrors::is_empty)>
            <div class="error-summary" role="alert" tabindex="-1" node_ref=node data-testid="error-summary"
                aria-labelledby="error-summary-title">
                <h2 id="error-summary-title">
                    {move || if errors.with(|e| e.fields.is_empty()) {
                        "手続きを続けられませんでした"
                    } else {
                        "入力内容をご確認ください"
                    }}
                </h2>
                <ul>
                    {move || errors.with(|e| e.general.clone()).map(|message| view! {
                        <li data-testid="error-general">{message}</li>
                    })}
                    {move || errors.with(|e| e.fields.clone()).into_iter().map(|error| {
                        let href = format!("#{}", field_id(&error.field));
                        view! { <li><a href=href>{error.message}</a></li> }
                    }).collect_view()}
                </ul>
            </div>
        </Show>
    }
}
