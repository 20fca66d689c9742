//! The hamlet log's schema (version 2), in one place: its keys, every field of a
//! household, a visit and a walk-in with what it holds and what may happen to it, and
//! the hydrate functions that read an entry into its domain record. The writer (`log`),
//! the op check (`check`) and the judge (`judge`) all ask here.
//!
//! ```text
//! { schema: 2, hamlet: "<hamlet id>",
//!   households: { <household id>: { label🔒, head🔒?, members?, created_by, created_at,
//!                                   retired, merged_into? } },
//!   visits:     { <visit id>: { household, by, at, outcome, topics: {code: true},
//!                               accounts: {code: n}, people, filed?, note🔒?, voided } },
//!   walkins:    { <walk-in id>: { by, at, people, topics: {code: true}, accounts: {code: n},
//!                                 filed?, note?, voided } } }   (a counter's log only)
//! ```
//!
//! A one-stop counter's log has the same genesis plus the `walkins` map, and holds
//! walk-ins only; a hamlet's has no `walkins` map, and holds households and visits.
//!
//! 🔒 marks a household's personal fields (version 2): sealed under the household's
//! own key (`sealed`), stored as bytes, opened while reading when this replica holds
//! the key. A household whose key is gone reads as erased (`Household::erased`): no
//! label, head or notes, and everything else as before, so coverage never needs a key.
//!
//! Maps are keyed by id and never lists, so concurrent offline logging merges without
//! conflict. Reads are tolerant: unknown fields are ignored (a newer app may add
//! some), and an entry that does not read is skipped with a reason.

use std::collections::BTreeMap;

use automerge::ScalarValue;
use automerge::hydrate::{Map as HMap, Value as HValue};

use crate::domain::{Household, Outcome, Visit, WalkIn};
use crate::ids::{HamletId, HouseholdId, UserId, VisitId};
use crate::sealed::{self, Keyring, Sealed};

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = 2;

/// The keys of the document.
pub mod key {
    #![allow(missing_docs)]
    pub const SCHEMA: &str = "schema";
    pub const HAMLET: &str = "hamlet";
    pub const HOUSEHOLDS: &str = "households";
    pub const VISITS: &str = "visits";
    pub const WALKINS: &str = "walkins";
    pub const GENERATION: &str = "generation";
    pub const LABEL: &str = "label";
    pub const HEAD: &str = "head";
    pub const MEMBERS: &str = "members";
    pub const CREATED_BY: &str = "created_by";
    pub const CREATED_AT: &str = "created_at";
    pub const RETIRED: &str = "retired";
    pub const MERGED_INTO: &str = "merged_into";
    pub const HOUSEHOLD: &str = "household";
    pub const BY: &str = "by";
    pub const AT: &str = "at";
    pub const OUTCOME: &str = "outcome";
    pub const TOPICS: &str = "topics";
    pub const ACCOUNTS: &str = "accounts";
    pub const PEOPLE: &str = "people";
    pub const FILED: &str = "filed";
    pub const NOTE: &str = "note";
    pub const VOIDED: &str = "voided";
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text for people; `required`: never empty.
    Text {
        /// Whether it may be empty.
        required: bool,
    },
    /// A household's personal text, sealed under its key (`sealed`): bytes of at most
    /// `MAX_SEALED_BYTES`.
    Sealed {
        /// Whether the text inside may be empty.
        required: bool,
    },
    /// A count from 0 to `domain::MAX_COUNT`.
    Count,
    /// A time, ms since epoch.
    Time,
    /// True or false.
    Flag,
    /// The author's user id.
    Author,
    /// Another household's id.
    Household,
    /// An outcome code.
    Outcome,
    /// A map of codes marked `true`.
    Codes,
    /// A map of codes to counts.
    Counts,
}

/// One field of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its key.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// It may be left out, and deleted later.
    pub optional: bool,
    /// It is written once, when the entry is made, and never changes.
    pub immutable: bool,
}

const fn field(name: &'static str, kind: Kind, optional: bool, immutable: bool) -> Field {
    Field { name, kind, optional, immutable }
}

/// Every field a household entry may hold.
pub const HOUSEHOLD_FIELDS: &[Field] = &[
    field(key::LABEL, Kind::Sealed { required: true }, false, false),
    field(key::HEAD, Kind::Sealed { required: false }, true, false),
    field(key::MEMBERS, Kind::Count, true, false),
    field(key::CREATED_BY, Kind::Author, false, true),
    field(key::CREATED_AT, Kind::Time, false, true),
    field(key::RETIRED, Kind::Flag, false, false),
    field(key::MERGED_INTO, Kind::Household, false, false),
];

/// Every field a visit entry may hold.
pub const VISIT_FIELDS: &[Field] = &[
    field(key::HOUSEHOLD, Kind::Household, false, true),
    field(key::BY, Kind::Author, false, true),
    field(key::AT, Kind::Time, false, false),
    field(key::OUTCOME, Kind::Outcome, false, false),
    field(key::TOPICS, Kind::Codes, false, false),
    field(key::ACCOUNTS, Kind::Counts, false, false),
    field(key::PEOPLE, Kind::Count, false, false),
    // Dossiers filed online with the volunteer's help; written only when some were,
    // so logs from before it read as none.
    field(key::FILED, Kind::Count, true, false),
    // Sealed under the visited household's key: a note may name people.
    field(key::NOTE, Kind::Sealed { required: false }, true, false),
    field(key::VOIDED, Kind::Flag, false, false),
];

/// Every field a walk-in entry may hold. A walk-in names no household, so its note
/// is plain text; the counter's form asks for no name, phone or ID number.
pub const WALKIN_FIELDS: &[Field] = &[
    field(key::BY, Kind::Author, false, true),
    field(key::AT, Kind::Time, false, false),
    field(key::PEOPLE, Kind::Count, false, false),
    field(key::TOPICS, Kind::Codes, false, false),
    field(key::ACCOUNTS, Kind::Counts, false, false),
    field(key::FILED, Kind::Count, true, false),
    field(key::NOTE, Kind::Text { required: false }, true, false),
    field(key::VOIDED, Kind::Flag, false, false),
];

/// A walk-in field by key.
pub fn walkin_field(name: &str) -> Option<&'static Field> {
    WALKIN_FIELDS.iter().find(|f| f.name == name)
}

/// A household field by key.
pub fn household_field(name: &str) -> Option<&'static Field> {
    HOUSEHOLD_FIELDS.iter().find(|f| f.name == name)
}

/// A visit field by key.
pub fn visit_field(name: &str) -> Option<&'static Field> {
    VISIT_FIELDS.iter().find(|f| f.name == name)
}

/// The most bytes a sealed field may hold: the longest text in UTF-8 (four bytes a
/// character at most) and the seal around it.
pub const MAX_SEALED_BYTES: usize = crate::domain::MAX_TEXT_CHARS * 4 + sealed::SEALED_OVERHEAD;

/// What opens sealed fields while reading: the hamlet and the keys this replica holds.
#[derive(Debug, Clone, Copy)]
pub struct Opener<'a> {
    /// The hamlet the log is of (part of each field's associated data).
    pub hamlet: &'a HamletId,
    /// The household keys held.
    pub keys: &'a Keyring,
}

/// A sealed field as read.
enum Opened {
    /// The text inside.
    Open(String),
    /// No key here: the household was erased (or its key has not arrived).
    Shut,
}

impl Opener<'_> {
    /// Reads sealed field `what` of `household`: `None` if absent, `Shut` without its
    /// key, an error if it is not a sealed value or does not open with the key held.
    fn read(
        &self,
        household: &HouseholdId,
        what: Sealed<'_>,
        field: &str,
        v: Option<ScalarValue>,
    ) -> Result<Option<Opened>, String> {
        match v {
            None => Ok(None),
            Some(ScalarValue::Bytes(b)) => match self.keys.key(household) {
                None => Ok(Some(Opened::Shut)),
                Some(k) => sealed::open(k, self.hamlet, household, what, &b)
                    .map(|t| Some(Opened::Open(t)))
                    .map_err(|e| format!("“{field}”: {e}")),
            },
            Some(_) => Err(format!("“{field}” is not sealed")),
        }
    }
}

/// What arrived, shortened to be shown back in an error (a hostile value cannot flood
/// a log or a screen).
pub fn shown(s: &str) -> String {
    s.chars().take(40).collect()
}

// ---- hydrate: entries read into records ----

/// A field's scalar value, or `None` if absent; an object where a scalar belongs is an error.
fn scalar(map: &HMap, field: &str) -> Result<Option<ScalarValue>, String> {
    match map.get(field) {
        None => Ok(None),
        Some(HValue::Scalar(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("“{field}” is an object, not a value")),
    }
}

fn req<T>(field: &str, v: Option<T>) -> Result<T, String> {
    v.ok_or_else(|| format!("“{field}” is missing"))
}

fn as_string(field: &str, v: Option<ScalarValue>) -> Result<Option<String>, String> {
    match v {
        None => Ok(None),
        Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(format!("“{field}” is not text")),
    }
}

fn as_int(field: &str, v: Option<ScalarValue>) -> Result<Option<i64>, String> {
    match v {
        None => Ok(None),
        Some(ScalarValue::Int(n)) => Ok(Some(n)),
        Some(ScalarValue::Uint(n)) => {
            i64::try_from(n).map(Some).map_err(|_| format!("“{field}” is too large"))
        }
        Some(_) => Err(format!("“{field}” is not a number")),
    }
}

fn as_count(field: &str, v: Option<ScalarValue>) -> Result<Option<u32>, String> {
    match as_int(field, v)? {
        None => Ok(None),
        Some(n) => u32::try_from(n).map(Some).map_err(|_| format!("“{field}” is not a count (0 or more)")),
    }
}

fn as_bool(field: &str, v: Option<ScalarValue>) -> Result<Option<bool>, String> {
    match v {
        None => Ok(None),
        Some(ScalarValue::Boolean(b)) => Ok(Some(b)),
        Some(_) => Err(format!("“{field}” is not true or false")),
    }
}

fn as_user(field: &str, v: Option<ScalarValue>) -> Result<UserId, String> {
    let s = req(field, as_string(field, v)?)?;
    UserId::parse(&s).map_err(|e| format!("“{field}”: {e}"))
}

/// Reads a household entry (hydrated) into its record, opening its label and head
/// with its key; without the key it reads as erased.
pub fn read_household(id: &HouseholdId, map: &HMap, o: Opener<'_>) -> Result<Household, String> {
    let f = |k| scalar(map, k);
    let (label, erased) = match req(key::LABEL, o.read(id, Sealed::Label, key::LABEL, f(key::LABEL)?)?)? {
        Opened::Open(label) => (label, false),
        Opened::Shut => (String::new(), true),
    };
    let head = match o.read(id, Sealed::Head, key::HEAD, f(key::HEAD)?)? {
        Some(Opened::Open(head)) => Some(head),
        _ => None,
    };
    Ok(Household {
        label,
        head,
        erased,
        members: as_count(key::MEMBERS, f(key::MEMBERS)?)?,
        created_by: as_user(key::CREATED_BY, f(key::CREATED_BY)?)?,
        created_at: req(key::CREATED_AT, as_int(key::CREATED_AT, f(key::CREATED_AT)?)?)?,
        retired: as_bool(key::RETIRED, f(key::RETIRED)?)?.unwrap_or(false),
        merged_into: as_string(key::MERGED_INTO, f(key::MERGED_INTO)?)?
            .map(|id| HouseholdId::parse(&id).map_err(|e| format!("“merged_into”: {e}")))
            .transpose()?,
    })
}

/// An entry's topics (codes marked true, sorted) and accounts (codes to counts).
fn topics_and_accounts(map: &HMap) -> Result<(Vec<String>, BTreeMap<String, u32>), String> {
    let mut topics = Vec::new();
    let mut accounts = BTreeMap::new();
    match map.get(key::TOPICS) {
        None => {}
        Some(HValue::Map(codes)) => {
            for (code, v) in codes.iter() {
                match &v.value {
                    HValue::Scalar(ScalarValue::Boolean(true)) => topics.push(code.clone()),
                    _ => return Err(format!("topic “{}” is not marked true", shown(code))),
                }
            }
            topics.sort_unstable();
        }
        Some(_) => return Err("“topics” is not a map".into()),
    }
    match map.get(key::ACCOUNTS) {
        None => {}
        Some(HValue::Map(counts)) => {
            for (code, v) in counts.iter() {
                let n = match &v.value {
                    HValue::Scalar(s) => as_count("accounts", Some(s.clone()))?,
                    _ => None,
                };
                let n = n.ok_or_else(|| format!("account count “{}” is not a count", shown(code)))?;
                accounts.insert(code.clone(), n);
            }
        }
        Some(_) => return Err("“accounts” is not a map".into()),
    }
    Ok((topics, accounts))
}

/// Reads a walk-in entry (hydrated) into its record.
pub fn read_walkin(map: &HMap) -> Result<WalkIn, String> {
    let f = |k| scalar(map, k);
    let (topics, accounts) = topics_and_accounts(map)?;
    Ok(WalkIn {
        by: as_user(key::BY, f(key::BY)?)?,
        at: req(key::AT, as_int(key::AT, f(key::AT)?)?)?,
        people: as_count(key::PEOPLE, f(key::PEOPLE)?)?.unwrap_or(0),
        topics,
        accounts,
        filed: as_count(key::FILED, f(key::FILED)?)?.unwrap_or(0),
        note: as_string(key::NOTE, f(key::NOTE)?)?,
        voided: as_bool(key::VOIDED, f(key::VOIDED)?)?.unwrap_or(false),
    })
}

/// Reads a visit entry (hydrated) into its record, opening its note with the visited
/// household's key; without it the note reads as none.
pub fn read_visit(id: &VisitId, map: &HMap, o: Opener<'_>) -> Result<Visit, String> {
    let f = |k| scalar(map, k);
    let household = req(key::HOUSEHOLD, as_string(key::HOUSEHOLD, f(key::HOUSEHOLD)?)?)?;
    let household = HouseholdId::parse(&household).map_err(|e| format!("“household”: {e}"))?;
    let outcome = req(key::OUTCOME, as_string(key::OUTCOME, f(key::OUTCOME)?)?)?;
    let outcome =
        Outcome::from_code(&outcome).ok_or_else(|| format!("unknown outcome “{}”", shown(&outcome)))?;
    let (topics, accounts) = topics_and_accounts(map)?;
    let note = match o.read(&household, Sealed::Note(id), key::NOTE, f(key::NOTE)?)? {
        Some(Opened::Open(note)) => Some(note),
        _ => None,
    };
    Ok(Visit {
        household,
        by: as_user(key::BY, f(key::BY)?)?,
        at: req(key::AT, as_int(key::AT, f(key::AT)?)?)?,
        outcome,
        topics,
        accounts,
        people: as_count(key::PEOPLE, f(key::PEOPLE)?)?.unwrap_or(0),
        filed: as_count(key::FILED, f(key::FILED)?)?.unwrap_or(0),
        note,
        voided: as_bool(key::VOIDED, f(key::VOIDED)?)?.unwrap_or(false),
    })
}
