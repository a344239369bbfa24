//! The browser apps (Leptos, client-side rendered), two binaries over this library: the office
//! app (`app`, `src/main.rs`: the portal, the login screen, the lost password screen, the
//! account pages and the five-step reissue wizard of the federation's manual) and the
//! reviewers' console (`console`, `src/bin/console.rs`), each its own wasm. Both talk to
//! the REST API through the typed client in `api`, and check fields with the same `shared`
//! rules as the server, so the messages match.

pub mod api;
pub mod app;
pub mod components;
pub mod console;
pub mod office;
pub mod pages;
pub mod wizard;
