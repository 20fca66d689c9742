//! The records the server owns (DESIGN.md §3): provinces, communes, hamlets, teams,
//! users, devices, enrolment codes, API tokens, monthly dossier statistics and the
//! audit log. They change online, through the server, so they
//! need no CRDT; they live in the store.

use serde::{Deserialize, Serialize};
use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::domain::{CommuneKind, HamletKind};
use tungnha_client_core::{CommuneId, DeviceId, HamletId, ProvinceId, Role, TeamId, UserId};

/// A province (tỉnh, thành phố trực thuộc trung ương): the level above communes since
/// the 2025 reform, which runs and reports the programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Province {
    /// Its id, which is also its code.
    pub id: ProvinceId,
    /// Its name ("Tỉnh Hòa An").
    pub name: String,
}

/// A commune-level unit (xã, phường, đặc khu).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commune {
    /// Its id, which is also its code.
    pub id: CommuneId,
    /// Its name ("Phường Hòa Bình").
    pub name: String,
    /// Xã, phường or đặc khu.
    pub kind: CommuneKind,
    /// The topics and account kinds it records.
    pub catalogue: Catalogue,
    /// The day it started recording visits (its campaign's start), ms since epoch at
    /// midnight in Vietnam: visits before it are refused. None: since 2020.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_from: Option<i64>,
    /// The province it belongs to (none for communes set up before provinces existed,
    /// until an administrator attaches them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceId>,
    /// Its retention period: households are erased (their personal data) this many
    /// days after their last visit. None: kept until erased on request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erase_after_days: Option<u32>,
}

/// A hamlet (thôn, ấp, bản, khu phố, tổ dân phố).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hamlet {
    /// `<commune>.<code>`: unique across the server, and the name of its log.
    pub id: HamletId,
    /// Its code within the commune.
    pub code: String,
    /// Its name ("Khu phố 3").
    pub name: String,
    /// Its kind.
    pub kind: HamletKind,
    /// The commune it belongs to.
    pub commune: CommuneId,
    /// How many households the commune expects the team to reach.
    pub target_households: u64,
}

impl Hamlet {
    /// Whether this is one of the commune's one-stop counters (its kind is
    /// `HamletKind::Counter`): its log holds walk-ins, never households.
    pub fn is_counter(&self) -> bool {
        self.kind.is_counter()
    }
}

/// A community digital-technology team (tổ công nghệ số cộng đồng) of one commune:
/// its people and the hamlets it covers. Every member's devices hold the team's
/// hamlets; its leaders manage its members' enrolment and devices, and only for what
/// members reach through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    /// `<commune>.<slug>`.
    pub id: TeamId,
    /// The commune it belongs to.
    pub commune: CommuneId,
    /// Its name ("Tổ CNSCĐ khu phố Bình Minh").
    pub name: String,
    /// Its leaders (tổ trưởng), each a member too.
    pub leaders: Vec<UserId>,
    /// Its members, leaders included, in the order they joined.
    pub members: Vec<UserId>,
    /// The hamlets it covers; a hamlet belongs to at most one team.
    pub hamlets: Vec<HamletId>,
}

impl Team {
    /// Whether `user` is one of its members.
    pub fn has_member(&self, user: &UserId) -> bool {
        self.members.contains(user)
    }

    /// Whether `user` leads it.
    pub fn is_led_by(&self, user: &UserId) -> bool {
        self.leaders.contains(user)
    }
}

/// A campaign (đợt, chiến dịch) of one commune: a drive with a name, its days, the
/// topics in focus and optionally a target. At most one is open at a time; closing it
/// rolls every hamlet's log over (`service::rollover`), so its visits leave the logs
/// devices hold and stay in the server's history. Its coverage counts the households
/// covered by a visit during its days: one covered in an earlier campaign is not
/// covered in this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    /// Its number in the commune, from 1.
    pub number: u32,
    /// The commune.
    pub commune: CommuneId,
    /// Its name ("Đợt cao điểm VNeID quý IV").
    pub name: String,
    /// Its first day (Vietnam, `YYYY-MM-DD`).
    pub starts: String,
    /// The day it is planned to end, if set.
    #[serde(default)]
    pub ends: Option<String>,
    /// The topics in focus (codes of the commune's catalogue).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Households it means to cover, if set.
    #[serde(default)]
    pub target: Option<u64>,
    /// Who opened it, and when (ms).
    pub opened_by: String,
    /// When it was opened.
    pub opened_at: i64,
    /// When it was closed, if it was (ms).
    #[serde(default)]
    pub closed_at: Option<i64>,
    /// Who closed it.
    #[serde(default)]
    pub closed_by: Option<String>,
}

impl Campaign {
    /// Its last day: the day it closed, or `today` while it is open.
    pub fn last_day(&self, today: &str) -> String {
        self.closed_at.map_or_else(|| today.to_owned(), tungnha_client_core::domain::vn_day)
    }

    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A person who uses Từng Nhà.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The username, which is also the id written into hamlet logs.
    pub id: UserId,
    /// Full name, for people.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Their commune (none for administrators and province officers).
    pub commune: Option<CommuneId>,
    /// A province officer's province (none for everyone else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceId>,
    /// argon2id hash of their password.
    pub password_hash: String,
    /// Deactivated users can neither log in nor sync.
    pub active: bool,
}

impl User {
    /// How the API shows a person.
    pub fn view(&self) -> tungnha_client_core::api::UserView {
        tungnha_client_core::api::UserView { id: self.id.clone(), name: self.name.clone(), role: self.role }
    }
}

/// An enrolled phone or CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Its id.
    pub id: DeviceId,
    /// Whose it is.
    pub user: UserId,
    /// What its owner called it ("Điện thoại của Lan").
    pub name: String,
    /// The Automerge actor it must write under, hex.
    pub actor: String,
    /// SHA-256 of its token, hex. The token itself is never stored.
    pub token_hash: String,
    /// When it enrolled, ms since epoch.
    pub enrolled_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Revoked, it may still send its unsent work once, until then (ms since epoch);
    /// `None` once it has, or when it was revoked as lost or stolen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_upload_until: Option<i64>,
    /// When it last synced.
    pub last_sync_at: Option<i64>,
    /// The hamlets it may ever hold, when the code it enrolled with was scoped (a
    /// leader's code reaches only the leader's hamlets); `None`: all its user's.
    #[serde(default)]
    pub within: Option<Vec<HamletId>>,
}

impl Device {
    /// Of `assigned` (its user's hamlets), the ones this device may hold.
    pub fn scope(&self, assigned: Vec<HamletId>) -> Vec<HamletId> {
        match &self.within {
            Some(within) => assigned.into_iter().filter(|h| within.contains(h)).collect(),
            None => assigned,
        }
    }
}

/// A single-use enrolment code, stored under the hash of the code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolCode {
    /// The user the enrolled device will belong to.
    pub user: UserId,
    /// When it stops working, ms since epoch.
    pub expires_at: i64,
    /// The hamlets the enrolled device may ever hold; `None`: all its user's.
    #[serde(default)]
    pub within: Option<Vec<HamletId>>,
}

/// A read-only API token an administrator issued for a province's own system (its
/// intelligent operations centre): it reads that province's figures through API v1 and
/// nothing else. The token itself is shown once and stored only as its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Its id (not the token).
    pub id: String,
    /// What it is for ("IOC Tỉnh Hòa An").
    pub name: String,
    /// The province whose figures it reads.
    pub province: ProvinceId,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// When it was issued, ms since epoch.
    pub created_at: i64,
    /// Who issued it.
    pub created_by: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Whose administrative dossiers a month's statistics count: a commune's, or its
/// province's own agencies' (the two levels the province measures).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "id", rename_all = "snake_case")]
pub enum FilingLevel {
    /// A commune (its one-stop counter).
    Commune(CommuneId),
    /// A province's departments and agencies.
    Province(ProvinceId),
}

impl FilingLevel {
    /// The key of its records: `c:<commune>` or `p:<province>`.
    pub fn key(&self) -> String {
        match self {
            FilingLevel::Commune(c) => format!("c:{c}"),
            FilingLevel::Province(p) => format!("p:{p}"),
        }
    }
}

/// One month of administrative dossiers at one level, as the public-service portal
/// counts them: how many were received, and how many of those were filed online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingMonth {
    /// Whose.
    pub level: FilingLevel,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Dossiers received.
    pub received: u64,
    /// Of those, filed online.
    pub online: u64,
    /// Who recorded it (a user id, or `admin-cli`).
    pub by: String,
    /// When, ms since epoch.
    pub at: i64,
}

/// One entry of the audit log of official actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When, ms since epoch.
    pub at: i64,
    /// Who: a user id, or `admin-cli` for the admin commands.
    pub by: String,
    /// The commune it concerns, if one: its officials see it in their audit view.
    #[serde(default)]
    pub commune: Option<CommuneId>,
    /// What, as a stable code (`assign`, `revoke`, `export`, …).
    pub action: String,
    /// Details for people.
    pub detail: String,
}
