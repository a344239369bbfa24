//! The office app's router: one route per screen of the manual. The reviewers' console is a
//! separate app (`console`), served for `/admin…`; a link between the two is a full page load.
//!
//! The paths are matched here, in one `match`, rather than by a `<Routes>` of thirteen
//! `<Route>`s: Leptos' router compiles its matching and view switching once per route (a
//! nested tuple type), which made it the largest part of the office app's bundle. The router
//! still does everything else (links, `use_navigate`, `<Redirect>`, the history); `Screens`
//! tells it, as `<Routes>` did, when a followed link's screen is there.

use leptos::prelude::*;
use leptos_router::components::Router;
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};

use crate::pages::not_found::NotFound;
use crate::pages::{
    account, apply, code, confirm, done, login, lost, portal, prefecture, reset, status_inquiry,
};
use crate::wizard::Wizard;

/// The office app.
#[component]
pub fn App() -> impl IntoView {
    Wizard::provide();
    view! {
        <Router>
            <Screens/>
        </Router>
    }
}

/// The screen of the current path; a new path replaces it (and ends the old screen's effects).
#[component]
fn Screens() -> impl IntoView {
    let pathname = use_location().pathname;
    let browser_url = use_context::<BrowserUrl>();
    move || {
        let path = pathname.get();
        let view = untrack(|| screen(&path));
        // What <Routes> does once the new screen is built: the address bar and the history
        // take a followed link's URL (a `use_navigate` sets them itself).
        if let Some(browser_url) = &browser_url {
            browser_url.ready_to_complete();
        }
        view
    }
}

/// The screen of `path`. As with Leptos' routes, one trailing slash is forgiven.
fn screen(path: &str) -> AnyView {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    match path {
        "/" => view! { <portal::Portal/> }.into_any(),
        "/login" => view! { <login::Login/> }.into_any(),
        "/account" => view! { <account::Account/> }.into_any(),
        "/account/password" => view! { <account::ChangePassword/> }.into_any(),
        "/account/security-email" => view! { <account::SecurityEmail/> }.into_any(),
        "/lost" => view! { <lost::Lost/> }.into_any(),
        "/reset" => view! { <reset::Reset/> }.into_any(),
        "/status-inquiry" => view! { <status_inquiry::StatusInquiry/> }.into_any(),
        "/reissue/apply" => view! { <apply::Apply/> }.into_any(),
        "/reissue/prefecture" => view! { <prefecture::ChoosePrefecture/> }.into_any(),
        "/reissue/code" => view! { <code::EnterCode/> }.into_any(),
        "/reissue/confirm" => view! { <confirm::Confirm/> }.into_any(),
        "/reissue/done" => view! { <done::Done/> }.into_any(),
        _ => view! { <NotFound/> }.into_any(),
    }
}
