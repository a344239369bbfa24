//! The browser app (Leptos, client-side rendered): the portal, the login screen, the lost
//! password screen and the five-step reissue wizard of the federation's manual. It talks to
//! the REST API through the typed client in `api`, and checks fields with the same `shared`
//! rules as the server, so the messages match.

pub mod api;
pub mod app;
pub mod components;
pub mod office;
pub mod pages;
pub mod wizard;
