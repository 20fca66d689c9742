//! The replica core of Từng Nhà, run by every participant: phones' native clients, the
//! volunteer CLI, and the sync server.
//!
//! Its centre does no IO: domain types ([`domain`], [`ids`], [`catalogue`]), the typed
//! hamlet log ([`log`]), the rules every change must follow ([`rules`]), coverage
//! ([`coverage`]), the sync session with its wire format ([`sync`]) and the API's JSON
//! shapes ([`api`]). Around it, behind features, sit the device's durable local store
//! (`store`), the HTTP transport (`http`) and a whole enrolled device (`device`), which
//! is what the volunteer CLI runs.

pub mod api;
pub mod catalogue;
pub mod collate;
pub mod coverage;
pub mod domain;
pub mod ids;
pub mod log;
pub mod rules;
pub mod schema;
pub mod sync;

#[cfg(feature = "store")]
pub mod store;

#[cfg(feature = "http")]
pub mod transport;

#[cfg(feature = "device")]
pub mod device;

pub use automerge::{ActorId, ChangeHash};
pub use coverage::{Coverage, CoverageLedger, HouseholdStatus};
pub use domain::{Author, Household, HouseholdForm, Outcome, Role, Visit, VisitForm};
pub use ids::{CommuneId, DeviceId, HamletId, HouseholdId, UserId, VisitId};
pub use log::{HamletLog, LogError};
