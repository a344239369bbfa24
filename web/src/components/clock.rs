//! 時刻 HH:MM:SS in Japan time, ticking, whatever the browser's time zone (the manual shows it
//! in the header of every screen).

use std::time::Duration;

use leptos::prelude::*;
use reissue_shared::japan_time;

fn now_in_japan() -> String {
    japan_time::time_of_day(js_sys::Date::now())
}

/// The ticking clock.
#[component]
pub fn Clock() -> impl IntoView {
    let (time, set_time) = signal(now_in_japan());
    if let Ok(handle) = set_interval_with_handle(
        move || set_time.set(now_in_japan()),
        Duration::from_millis(1000),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <p class="clock">
            "時刻 "
            <time data-testid="clock">{time}</time>
        </p>
    }
}
