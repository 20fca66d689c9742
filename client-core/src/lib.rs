//! The replica core of Từng Nhà, run by every participant: phones' native clients, the
//! volunteer CLI, and the sync server.
//!
//! Its centre does no IO: domain types ([`domain`], [`ids`], [`catalogue`]), the typed
//! hamlet log ([`log`]), the rules every change must follow ([`rules`]), coverage
//! ([`coverage`]) and the sync session with its wire format ([`sync`]). Around it, behind
//! the `store` feature, sits the device's durable local store ([`store`]).

pub mod catalogue;
pub mod coverage;
pub mod domain;
pub mod ids;
pub mod log;
pub mod rules;
pub mod sync;

#[cfg(feature = "store")]
pub mod store;

pub use automerge::{ActorId, ChangeHash};
pub use coverage::{Coverage, CoverageLedger, HouseholdStatus};
pub use domain::{Author, Household, HouseholdForm, Outcome, Role, Visit, VisitForm};
pub use ids::{CommuneId, DeviceId, HamletId, HouseholdId, UserId, VisitId};
pub use log::{HamletLog, LogError};
