//! Entry point of the office app: mounts its router into `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    reissue_web::components::layout::remove_loading_frame();
    leptos::mount::mount_to_body(reissue_web::app::App);
}
