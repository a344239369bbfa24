//! Entry point of the browser app: mounts the router into `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(reissue_web::app::App);
}
