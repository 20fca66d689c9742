//! The JSON shapes of the server's HTTP API v1, shared by the server that writes them
//! and the clients that read them. Pure data: no IO.

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::domain::Role;
use crate::ids::{CommuneId, DeviceId, HamletId, UserId};

/// A user as the API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Id (the username).
    pub id: UserId,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// `POST /api/v1/enrol` request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The single-use code the leader gave.
    pub code: String,
    /// What the owner calls the device.
    pub device_name: String,
}

/// `POST /api/v1/enrol` answer: what an enrolled device receives.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The device's id.
    pub device_id: DeviceId,
    /// The secret the device presents from now on; the server keeps only its hash.
    pub token: String,
    /// The Automerge actor every change of this device must carry, hex.
    pub actor_id: String,
    /// Whose device it is.
    pub user: UserView,
}

/// A hamlet as a device sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HamletView {
    /// Id, also its log's name.
    pub id: HamletId,
    /// Code within the commune.
    pub code: String,
    /// Name.
    pub name: String,
    /// Commune id.
    pub commune: CommuneId,
    /// The day the commune started recording visits, ms since epoch: the server refuses
    /// visits before it. Absent: since 2020.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_from: Option<i64>,
    /// A one-stop counter of the commune, where walk-ins are logged, not a hamlet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counter: bool,
}

/// Someone who logged visits in a device's hamlets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    /// Id (the username).
    pub id: UserId,
    /// Full name.
    pub name: String,
}

/// One outcome with its label.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeView {
    /// Code.
    pub code: String,
    /// Vietnamese label.
    pub label: String,
}

/// The catalogue a device records with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueView {
    /// Topics and account kinds.
    #[serde(flatten)]
    pub catalogue: Catalogue,
    /// Outcomes.
    pub outcomes: Vec<OutcomeView>,
}

/// `GET /api/v1/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Who.
    pub user: UserView,
    /// Their hamlets.
    pub hamlets: Vec<HamletView>,
    /// Who has logged visits in those hamlets, by id with their names, so a device can
    /// say who came to a household.
    #[serde(default)]
    pub people: Vec<PersonView>,
    /// What they record.
    pub catalogue: CatalogueView,
}

/// The JSON body of every API error.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, machine-readable code (`foreign_actor`, `rule_violation`, …).
    pub code: String,
    /// For people.
    pub message: String,
    /// The rule broken, for `rule_violation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The field at fault, for `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
