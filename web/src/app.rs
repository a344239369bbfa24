//! The office app's router: one route per screen of the manual. The reviewers' console is a
//! separate app (`console`), served for `/admin…`; a link between the two is a full page load.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

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
            <Routes fallback=NotFound>
                <Route path=path!("/") view=portal::Portal/>
                <Route path=path!("/login") view=login::Login/>
                <Route path=path!("/account") view=account::Account/>
                <Route path=path!("/account/password") view=account::ChangePassword/>
                <Route path=path!("/account/security-email") view=account::SecurityEmail/>
                <Route path=path!("/lost") view=lost::Lost/>
                <Route path=path!("/reset") view=reset::Reset/>
                <Route path=path!("/status-inquiry") view=status_inquiry::StatusInquiry/>
                <Route path=path!("/reissue/apply") view=apply::Apply/>
                <Route path=path!("/reissue/prefecture") view=prefecture::ChoosePrefecture/>
                <Route path=path!("/reissue/code") view=code::EnterCode/>
                <Route path=path!("/reissue/confirm") view=confirm::Confirm/>
                <Route path=path!("/reissue/done") view=done::Done/>
            </Routes>
        </Router>
    }
}
