//! The reviewers' console's router (`/admin…`): its own binary and Trunk entry
//! (`web/console.html`), so the office app's bundle carries none of it. The server serves the
//! console's page for `/admin` and `/admin/…` and the office app's for the rest.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::not_found::NotFound;
use crate::pages::{admin, admin_federation, admin_mfa};

/// The console app.
#[component]
pub fn Console() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/admin") view=admin::Queue/>
                <Route path=path!("/admin/login") view=admin::AdminLogin/>
                <Route path=path!("/admin/mfa") view=admin_mfa::MfaEnrolmentPage/>
                <Route path=path!("/admin/applications/:id") view=admin::Detail/>
                <Route path=path!("/admin/settings") view=admin_federation::Settings/>
                <Route path=path!("/admin/dispatch-register") view=admin_federation::DispatchRegisterPage/>
            </Routes>
        </Router>
    }
}
