//! The replica core of Từng Nhà, run by every participant: phones' native clients, the
//! volunteer CLI, and the sync server.
//!
//! Its centre does no IO. Its modules form a DAG, each using only those before it:
//! domain types ([`ids`], [`domain`], [`catalogue`], [`collate`]); a household's
//! personal fields sealed under its own key ([`sealed`]); the schema of a hamlet log,
//! its fields and how an entry reads ([`schema`]); the rules on domain
//! records ([`rules`]); the typed hamlet log ([`log`]); the judge of what changes did
//! ([`judge`]) and the op-level check of incoming changes ([`check`]); coverage over a
//! read-only view of a log ([`coverage`]); the sync session with its wire format
//! ([`sync`]) and the API's JSON shapes ([`api`]). Around it, behind features, sit the device's durable local store
//! (`store`), the HTTP transport (`http`) and a whole enrolled device (`device`), which
//! is what the volunteer CLI runs.

pub mod api;
pub mod catalogue;
pub mod check;
pub mod collate;
pub mod coverage;
pub mod domain;
pub mod ids;
pub mod judge;
pub mod log;
pub mod rules;
pub mod schema;
pub mod sealed;
pub mod sync;

#[cfg(feature = "sled")]
pub mod keyfile;
#[cfg(feature = "sled")]
pub mod sled_open;

#[cfg(feature = "store")]
pub mod store;

#[cfg(feature = "http")]
pub mod transport;

#[cfg(feature = "device")]
pub mod device;

pub use automerge::{ActorId, ChangeHash};
pub use coverage::{Coverage, CoverageLedger, History, HouseholdStatus, WithHistory};
pub use domain::{
    Author, Household, HouseholdForm, LogView, Outcome, Role, Visit, VisitForm, WalkIn, WalkInForm,
};
pub use ids::{CommuneId, DeviceId, HamletId, HouseholdId, ProvinceId, TeamId, UserId, VisitId, WalkInId};
pub use log::{HamletLog, LogError};
