//! The Từng Nhà sync server as a library: `http::app(state)` builds the router and
//! `http::run(config, listen, shutdown, on_listening)` serves it, plain or over TLS;
//! tests serve `http::app` on port 0 themselves and stop it.
//!
//! Layers, from the top; a module imports only from the layers below it:
//! 1. `http`: axum. Routes (`http::routes`, the table every route is in), the API
//!    (`http::api`), the web (`http::web`), the phone app's files (`http::assets`),
//!    health and metrics (`http::ops`), and errors turned into responses.
//! 2. `service`: what the server does, with no HTTP and no storage engine: who may see
//!    or write what (`service::access`), the sync, accounts, organisation, imports,
//!    enrolment, review, audit, reports, verify, the demo.
//! 3. `state`: `AppState` (store, log cache, configuration, limiters), housekeeping,
//!    the clock.
//! 4. `cache`: the locked LRU cache of hamlet logs.
//! 5. `store`: the `Store` trait and its engines; the only code that names sled.
//! 6. `records`, `config`, `failpoint`, `memory`: plain data and process-wide helpers.
//!
//! It depends on client-core's IO-free centre only, and is the only crate that knows
//! HTTP routes.

pub mod cache;
pub mod config;
pub mod failpoint;
pub mod http;
mod memory;
pub mod records;
pub mod service;
pub mod state;
pub mod store;

pub use config::Config;
pub use state::{AppState, now_ms};
