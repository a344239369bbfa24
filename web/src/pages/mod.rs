//! One component per screen, in the order of the manual.

pub mod account;
pub mod admin;
pub mod admin_federation;
pub mod admin_mfa;
pub mod apply;
pub mod code;
pub mod confirm;
pub mod done;
pub mod login;
pub mod lost;
pub mod not_found;
pub mod portal;
pub mod prefecture;
pub mod reset;
pub mod status_inquiry;

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::wizard::{Step, Wizard};

/// Wizard screens call this first: a screen the state does not allow yet (a later URL typed
/// directly, or a stale tab) leads to the furthest allowed one; after submission every wizard
/// screen leads to 【終了】, so the back button cannot send twice.
pub fn guard(step: Step) -> Option<AnyView> {
    let furthest = Wizard::get()
        .0
        .with_untracked(|state| state.furthest_step());
    let target = if furthest == Step::Done {
        Step::Done
    } else {
        furthest.min(step)
    };
    (target != step).then(|| view! { <Redirect path=target.path()/> }.into_any())
}
