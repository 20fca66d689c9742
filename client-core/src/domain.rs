//! The domain's vocabulary: outcomes, kinds of commune and hamlet, roles, and the typed
//! records a hamlet log holds (households and visits).
//!
//! Inside the program these are enums and structs; the strings (`guided`, `khu_pho`, …)
//! appear only at the edges, in documents and on the wire, through `code()`/`from_code()`.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone};
use chrono_tz::Asia::Ho_Chi_Minh;
use serde::{Deserialize, Serialize};

use crate::ids::{HouseholdId, UserId, VisitId, WalkInId};

/// Largest count a visit or household may carry (accounts of one kind, people helped,
/// household members). A household of more than fifty is a data-entry slip.
pub const MAX_COUNT: u32 = 50;
/// Longest household label, head name or visit note, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest topic or account-kind code, in bytes.
pub const MAX_CODE_LEN: usize = 32;
/// How far in the future a visit's time may lie: phone clocks drift, but not by days.
pub const MAX_FUTURE_MS: i64 = 24 * 60 * 60 * 1000;

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the order forms show them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code written in documents and on the wire.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// Parses a code; `None` for anything unknown.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum!(
    /// What came of a visit to a household.
    Outcome {
        /// The volunteer guided someone in the household.
        Guided = "guided",
        /// The household already uses the services on its own.
        AlreadyDone = "already_done",
        /// Nobody was home.
        NotHome = "not_home",
        /// The household declined help.
        Declined = "declined",
        /// The household asked the volunteer to come back.
        Revisit = "revisit",
    }
);

impl Outcome {
    /// Whether a visit with this outcome covers its household.
    pub fn covers(self) -> bool {
        matches!(self, Outcome::Guided | Outcome::AlreadyDone)
    }

    /// Whether a household whose latest visit has this outcome needs another visit.
    pub fn needs_follow_up(self) -> bool {
        matches!(self, Outcome::NotHome | Outcome::Revisit)
    }
}

code_enum!(
    /// The kind of a commune-level unit since the 2025 reform.
    CommuneKind {
        /// Xã: a rural commune.
        Xa = "xa",
        /// Phường: an urban ward.
        Phuong = "phuong",
        /// Đặc khu: a special zone (islands).
        DacKhu = "dac_khu",
    }
);

code_enum!(
    /// The kind of a village-level unit.
    HamletKind {
        /// Thôn: a village, in the north and centre.
        Thon = "thon",
        /// Ấp: a hamlet, in the south.
        Ap = "ap",
        /// Bản: a village of an ethnic minority, in the mountains.
        Ban = "ban",
        /// Khu phố: an urban quarter.
        KhuPho = "khu_pho",
        /// Tổ dân phố: an urban residential group.
        ToDanPho = "to_dan_pho",
        /// Quầy: not a village-level unit but one of the commune's one-stop counters
        /// (bộ phận tiếp nhận và trả kết quả), where walk-ins are helped. Its log holds
        /// walk-ins, and people on counter duty are assigned to it like to a hamlet.
        Counter = "quay",
    }
);

impl HamletKind {
    /// Whether the place is a one-stop counter, whose log holds walk-ins.
    pub fn is_counter(self) -> bool {
        self == HamletKind::Counter
    }
}

code_enum!(
    /// What a user may do.
    Role {
        /// A Youth Union volunteer who visits households.
        Volunteer = "volunteer",
        /// A team leader: sees the team's coverage, enrols and revokes devices.
        Leader = "leader",
        /// A commune official: manages hamlets, teams, assignments, reports.
        Official = "official",
        /// A province officer (cán bộ tỉnh): reads the figures of every commune of one
        /// province, and no household's data.
        ProvinceOfficer = "province_officer",
        /// A system administrator: creates provinces, communes and officials.
        Admin = "admin",
    }
);

impl Role {
    /// Whether this role has a leader's powers over the hamlet logs it can write to:
    /// voiding any visit and editing any household.
    pub fn leads(self) -> bool {
        matches!(self, Role::Leader | Role::Official | Role::Admin)
    }

    /// Most households someone in this role may list in the field in one day
    /// (Asia/Ho_Chi_Minh): far more than a day's walk finds missing, far fewer than it
    /// takes to swamp a hamlet's coverage with made-up houses. Officials list whole
    /// hamlets by import, which this does not bound.
    pub fn households_per_day(self) -> u64 {
        match self {
            Role::Volunteer => 100,
            Role::Leader | Role::Official | Role::Admin => 400,
            // Reads figures only: never writes to a hamlet log.
            Role::ProvinceOfficer => 0,
        }
    }
}

/// Who is making a change: the user behind the device, and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// The user, as recorded in `by` and `created_by`.
    pub user: UserId,
    /// Their role, which decides what they may change.
    pub role: Role,
}

/// A household as the hamlet log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// The house number or alley, as people say it ("Số 12, hẻm 3").
    pub label: String,
    /// A display name for the head of the household.
    pub head: Option<String>,
    /// How many people live there.
    pub members: Option<u32>,
    /// Who listed it.
    pub created_by: UserId,
    /// When it was listed, ms since epoch (UTC).
    pub created_at: i64,
    /// Merged into another entry, or the house no longer exists.
    pub retired: bool,
    /// Listed twice: the entry this one was merged into (retired), whose status its
    /// visits count towards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<HouseholdId>,
    /// Its personal data was erased (this replica holds no key for it): `label` is
    /// empty, `head` and its visits' notes are `None`. It still counts in coverage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

/// A visit as the hamlet log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// The household visited.
    pub household: HouseholdId,
    /// The volunteer who visited.
    pub by: UserId,
    /// When, ms since epoch (UTC).
    pub at: i64,
    /// What came of it.
    pub outcome: Outcome,
    /// Topic codes guided.
    pub topics: Vec<String>,
    /// Accounts created, per account-kind code.
    pub accounts: BTreeMap<String, u32>,
    /// People helped.
    pub people: u32,
    /// Administrative dossiers filed online with the volunteer's help (0 in logs
    /// written before the field existed).
    #[serde(default)]
    pub filed: u32,
    /// A short note.
    pub note: Option<String>,
    /// Logged by mistake; counts for nothing.
    pub voided: bool,
}

/// Someone helped at a one-stop counter (bộ phận tiếp nhận và trả kết quả), as a
/// counter's log holds it: never a household, never counted in coverage, and with no
/// name, phone or ID number of the person helped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkIn {
    /// Who helped.
    pub by: UserId,
    /// When, ms since epoch (UTC).
    pub at: i64,
    /// People helped (one at least).
    pub people: u32,
    /// Topic codes guided.
    pub topics: Vec<String>,
    /// Accounts created, per account-kind code.
    pub accounts: BTreeMap<String, u32>,
    /// Dossiers filed online.
    #[serde(default)]
    pub filed: u32,
    /// A short note.
    pub note: Option<String>,
    /// Logged by mistake; counts for nothing.
    pub voided: bool,
}

/// What a volunteer fills in when logging a walk-in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WalkInForm {
    /// People helped.
    pub people: u32,
    /// Topic codes guided.
    pub topics: Vec<String>,
    /// Accounts created, per account-kind code.
    pub accounts: BTreeMap<String, u32>,
    /// Dossiers filed online.
    #[serde(default)]
    pub filed: u32,
    /// A short note.
    pub note: Option<String>,
}

/// What a volunteer fills in when logging a visit; the log adds who and the id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VisitForm {
    /// Topic codes guided.
    pub topics: Vec<String>,
    /// Accounts created, per account-kind code.
    pub accounts: BTreeMap<String, u32>,
    /// People helped.
    pub people: u32,
    /// Dossiers filed online with the volunteer's help.
    #[serde(default)]
    pub filed: u32,
    /// A short note.
    pub note: Option<String>,
}

/// What a volunteer fills in when listing a household.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HouseholdForm {
    /// The house number or alley.
    pub label: String,
    /// A display name for the head of the household.
    pub head: Option<String>,
    /// How many people live there.
    pub members: Option<u32>,
}

// ---- time ----

/// Milliseconds since the epoch, now, by this machine's clock (0 before 1970, the
/// largest value after the year 292 million).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The Asia/Ho_Chi_Minh calendar day of a time in ms since epoch, as "YYYY-MM-DD".
pub fn vn_day(at_ms: i64) -> String {
    match DateTime::from_timestamp_millis(at_ms) {
        Some(utc) => Ho_Chi_Minh.from_utc_datetime(&utc.naive_utc()).format("%Y-%m-%d").to_string(),
        None => "invalid".to_owned(),
    }
}

/// The first millisecond of an Asia/Ho_Chi_Minh calendar day ("YYYY-MM-DD"), or
/// `None` if it is not one.
pub fn vn_day_start(day: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let midnight = date.and_hms_opt(0, 0, 0)?;
    Ho_Chi_Minh.from_local_datetime(&midnight).single().map(|t| t.timestamp_millis())
}

/// A time in ms since epoch as people in Vietnam write it: "29/11/2026 10:00".
pub fn vn_time(at_ms: i64) -> String {
    match DateTime::from_timestamp_millis(at_ms) {
        Some(utc) => Ho_Chi_Minh.from_utc_datetime(&utc.naive_utc()).format("%d/%m/%Y %H:%M").to_string(),
        None => "?".to_owned(),
    }
}

/// A hamlet's households and visits, read-only: what coverage folds. `HamletLog`
/// implements it over its document; tests use plain maps.
pub trait LogView {
    /// Every household that reads.
    fn all_households(&self) -> BTreeMap<HouseholdId, Household>;
    /// Every visit that reads.
    fn all_visits(&self) -> BTreeMap<VisitId, Visit>;
    /// One household, if it is there and reads.
    fn household(&self, id: &HouseholdId) -> Option<Household>;
    /// One visit, if it is there and reads.
    fn visit(&self, id: &VisitId) -> Option<Visit>;
    /// Every walk-in that reads (a counter's log; none in a hamlet's).
    fn all_walkins(&self) -> BTreeMap<WalkInId, WalkIn> {
        BTreeMap::new()
    }
    /// One walk-in, if it is there and reads.
    fn walkin(&self, _id: &WalkInId) -> Option<WalkIn> {
        None
    }
}

impl LogView for (BTreeMap<HouseholdId, Household>, BTreeMap<VisitId, Visit>) {
    fn all_households(&self) -> BTreeMap<HouseholdId, Household> {
        self.0.clone()
    }

    fn all_visits(&self) -> BTreeMap<VisitId, Visit> {
        self.1.clone()
    }

    fn household(&self, id: &HouseholdId) -> Option<Household> {
        self.0.get(id).cloned()
    }

    fn visit(&self, id: &VisitId) -> Option<Visit> {
        self.1.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_code(o.code()), Some(*o));
        }
        for k in HamletKind::ALL {
            assert_eq!(HamletKind::from_code(k.code()), Some(*k));
        }
        for k in CommuneKind::ALL {
            assert_eq!(CommuneKind::from_code(k.code()), Some(*k));
        }
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(*r));
        }
        assert_eq!(Outcome::from_code("Guided"), None);
    }

    #[test]
    fn only_guided_and_already_done_cover() {
        let covering: Vec<_> = Outcome::ALL.iter().filter(|o| o.covers()).collect();
        assert_eq!(covering, [&Outcome::Guided, &Outcome::AlreadyDone]);
        let follow: Vec<_> = Outcome::ALL.iter().filter(|o| o.needs_follow_up()).collect();
        assert_eq!(follow, [&Outcome::NotHome, &Outcome::Revisit]);
    }

    #[test]
    fn days_follow_the_vietnamese_calendar() {
        // 2026-11-28T17:30Z is 00:30 on 29 November in Hà Nội.
        assert_eq!(vn_day(1_795_887_000_000), "2026-11-29");
        // 2026-11-28T16:59Z is 23:59 on 28 November in Hà Nội.
        assert_eq!(vn_day(1_795_885_140_000), "2026-11-28");
        assert_eq!(vn_time(1_795_887_000_000), "29/11/2026 00:30");
    }
}
