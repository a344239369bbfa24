//! The wizard's state: one struct, provided as context and saved to `sessionStorage` on every
//! change, so a reload or the browser's back and forward buttons keep what was entered. The
//! token lives only in `sessionStorage` (never `localStorage`): it dies with the tab.

use gloo_storage::{SessionStorage, Storage};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::ApplicantApi;

const STORAGE_KEY: &str = "reissue-wizard";

/// The screens of the flow, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Step {
    /// 【パスワード等を紛失した方】
    Lost,
    /// 【ログイン情報再発行申請】
    Apply,
    /// 【請求先都道府県選択】
    Prefecture,
    /// 【確認コード入力】
    Code,
    /// 【送信確認】
    Confirm,
    /// 【終了】
    Done,
}

impl Step {
    /// The route of the screen.
    pub fn path(self) -> &'static str {
        match self {
            Self::Lost => "/lost",
            Self::Apply => "/reissue/apply",
            Self::Prefecture => "/reissue/prefecture",
            Self::Code => "/reissue/code",
            Self::Confirm => "/reissue/confirm",
            Self::Done => "/reissue/done",
        }
    }

    /// Its number in the step indicator (1–5).
    pub fn indicator(self) -> u8 {
        match self {
            Self::Lost => 1,
            Self::Apply | Self::Prefecture => 2,
            Self::Code => 3,
            Self::Confirm => 4,
            Self::Done => 5,
        }
    }
}

/// Everything the wizard knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardState {
    /// 事業所番号 as typed.
    pub office_number: String,
    /// 通知先メールアドレス as typed.
    pub email: String,
    /// 通知先メールアドレス（確認用） as typed.
    pub email_confirmation: String,
    /// The created application's client; saved as its `application_id` and `token`.
    #[serde(flatten)]
    pub applicant: Option<ApplicantApi>,
    /// The chosen prefecture code.
    pub prefecture_code: Option<String>,
    /// Where the code went (after the prefecture step).
    pub code_sent_to: Option<String>,
    /// What 【送信確認】 shows (after a right code).
    pub office_name: Option<String>,
    /// 受付番号 (after 送信).
    pub reference_number: Option<String>,
}

impl WizardState {
    /// The furthest screen this state allows; a later URL leads back here.
    pub fn furthest_step(&self) -> Step {
        if self.reference_number.is_some() {
            Step::Done
        } else if self.office_name.is_some() {
            Step::Confirm
        } else if self.code_sent_to.is_some() {
            Step::Code
        } else if self.applicant.is_some() {
            Step::Prefecture
        } else {
            Step::Apply
        }
    }

    /// Forgets the application but keeps what was typed (戻る on the code screen re-applies
    /// with the fields prefilled).
    pub fn restart_keeping_input(&mut self) {
        *self = Self {
            office_number: std::mem::take(&mut self.office_number),
            email: std::mem::take(&mut self.email),
            email_confirmation: std::mem::take(&mut self.email_confirmation),
            ..Self::default()
        };
    }

    /// After a failed call: when the application is gone, start again with the input kept.
    pub fn forget_application_if_gone(&mut self, failure: &crate::api::ApiFailure) {
        if failure.application_is_gone() {
            self.restart_keeping_input();
        }
    }

    fn load() -> Self {
        SessionStorage::get(STORAGE_KEY).unwrap_or_default()
    }

    fn save(&self) {
        // A full or disabled storage only costs the reload feature; the flow goes on.
        let _ = SessionStorage::set(STORAGE_KEY, self);
    }
}

/// The wizard state as a signal in context.
#[derive(Clone, Copy)]
pub struct Wizard(pub RwSignal<WizardState>);

impl Wizard {
    /// Loads the saved state and saves every later change.
    pub fn provide() -> Self {
        let state = RwSignal::new(WizardState::load());
        Effect::new(move |_| state.with(WizardState::save));
        let wizard = Self(state);
        provide_context(wizard);
        wizard
    }

    /// The wizard of the current app.
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// The application's client, once the application is created.
    pub fn applicant(self) -> Option<ApplicantApi> {
        self.0.with_untracked(|state| state.applicant.clone())
    }
}
