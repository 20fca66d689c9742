//! What the server does, in the domain's words, with no HTTP and no storage engine:
//! every operation takes the `AppState` (or only the `Store`), asks `access` whether
//! the principal may, and returns a `ServiceError` that keeps its cause.
//!
//! - `access`: who may see or change what, answered in one place.
//! - `sync`: a device's sync, and writes made on the web into a live log.
//! - `api_tokens`: read-only API tokens for a province's own systems.
//! - `accounts`: people, passwords, activation, sign-in throttling.
//! - `organisation`: communes, hamlets, assignments, targets, the catalogue.
//! - `imports`: CSV imports (all or nothing) and offline rewrites of a log.
//! - `enrolment`: enrolment codes, enrolling a device, revoking one.
//! - `teams`: teams, their leaders, members and hamlets, and their figures.
//! - `review`: a leader's review of households listed in the field.
//! - `campaigns`: a commune's campaigns, opened and closed, and their figures.
//! - `rollover`: a hamlet's log rolled over to a successor (campaigns, compaction).
//! - `reports`: figures for dashboards, exports and the API.
//! - `day_report`: the day's report of a team, a commune or a province.
//! - `filing`: monthly dossier statistics and the online-filing rate.
//! - `moving`: copying a whole store into another engine (`admin move`).
//! - `audit`, `verify`, `demo`.

pub mod access;
pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod campaigns;
pub mod day_report;
pub mod demo;
pub mod enrolment;
pub mod erasure;
pub mod error;
pub mod filing;
pub mod imports;
pub mod moving;
pub mod organisation;
pub mod reports;
pub mod review;
pub mod rollover;
pub mod sync;
pub mod teams;
pub mod verify;

pub use error::{Invalid, ServiceError};
