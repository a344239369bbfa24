//! The router: one route per screen of the manual.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Page;
use crate::pages::{
    account, admin, admin_mfa, apply, code, confirm, done, login, lost, portal, prefecture, reset,
};
use crate::wizard::Wizard;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    Wizard::provide();
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=portal::Portal/>
                <Route path=path!("/login") view=login::Login/>
                <Route path=path!("/account") view=account::Account/>
                <Route path=path!("/admin") view=admin::Queue/>
                <Route path=path!("/admin/login") view=admin::AdminLogin/>
                <Route path=path!("/admin/mfa") view=admin_mfa::MfaEnrolmentPage/>
                <Route path=path!("/admin/applications/:id") view=admin::Detail/>
                <Route path=path!("/account/password") view=account::ChangePassword/>
                <Route path=path!("/account/security-email") view=account::SecurityEmail/>
                <Route path=path!("/lost") view=lost::Lost/>
                <Route path=path!("/reset") view=reset::Reset/>
                <Route path=path!("/reissue/apply") view=apply::Apply/>
                <Route path=path!("/reissue/prefecture") view=prefecture::ChoosePrefecture/>
                <Route path=path!("/reissue/code") view=code::EnterCode/>
                <Route path=path!("/reissue/confirm") view=confirm::Confirm/>
                <Route path=path!("/reissue/done") view=done::Done/>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <Page title="ページが見つかりません">
            <p>"お探しのページは見つかりませんでした。"</p>
            <p><a href="/">"電子請求受付システム総合窓口へ"</a></p>
        </Page>
    }
}
