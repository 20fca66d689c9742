//! The rules a change to a hamlet log must follow (DESIGN.md §5), as pure functions on
//! domain records: no document, no patches.
//!
//! The same functions guard the local writes in `HamletLog` and, through `judge`, the
//! *effect* of a device's changes on the server (each entry's state before and after
//! the merge). So an honest client never makes a change the server refuses, and the
//! server refuses anything else before it keeps a byte of it.
//!
//! - A visit is created only with `by` = its author.
//! - A volunteer corrects or voids only their own visits; a leader (or official) may
//!   also void any visit, and nothing more on others' visits.
//! - Anyone may list a household, as its `created_by`; a volunteer edits only the
//!   households they listed, a leader any.
//! - `by`, `household`, `created_by` and `created_at` never change; nothing is deleted
//!   but optional fields; nothing is written outside the schema.
//! - Values have the right types and ranges: counts 0..=50, texts up to 200 characters,
//!   well-formed codes, times from 2020 to one day in the future.

use crate::catalogue::is_code;
use crate::domain::{Author, Household, MAX_COUNT, MAX_FUTURE_MS, MAX_TEXT_CHARS, Outcome, Visit, WalkIn};
use crate::ids::{HouseholdId, VisitId, WalkInId};
use crate::schema::{key, shown};

/// The earliest time a visit or household may carry: 2020-01-01T00:00:00Z.
pub const MIN_TIME_MS: i64 = 1_577_836_800_000;

/// A broken rule, named so that the server can report it with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    /// Something was written where the schema has no place for it.
    #[error("“{path}” is outside the hamlet-log schema")]
    OutsideSchema {
        /// Where, as a slash-separated path.
        path: String,
    },
    /// A value has the wrong type or is out of range.
    #[error("{path}: {reason}")]
    InvalidValue {
        /// Where, as a slash-separated path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A visit or household was recorded in someone else's name.
    #[error("{what} {id} is recorded in someone else’s name; record it as yourself")]
    NotAsSelf {
        /// "visit" or "household".
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A volunteer changed a visit or walk-in they did not log.
    #[error("{id} was logged by someone else; only they can correct it")]
    NotYourVisit {
        /// What, and its id ("visit abc…", "walk-in abc…").
        id: String,
    },
    /// A leader changed more than `voided` on someone else's visit or walk-in.
    #[error("{id} was logged by someone else; a leader may only void it")]
    LeaderMayOnlyVoid {
        /// What, and its id.
        id: String,
    },
    /// A volunteer changed a household they did not list.
    #[error("household {id} was listed by someone else; ask your team leader to change it")]
    NotYourHousehold {
        /// The household.
        id: String,
    },
    /// A field that never changes was changed.
    #[error("“{path}” cannot be changed once written")]
    Immutable {
        /// Where, as a slash-separated path.
        path: String,
    },
    /// Something was deleted that is only ever retired or voided.
    #[error("“{path}” cannot be deleted; retire households and void visits instead")]
    Deleted {
        /// Where, as a slash-separated path.
        path: String,
    },
    /// More households listed in one day than the author's role allows.
    #[error("at most {limit} households may be added in one day; the leader can list more, or try tomorrow")]
    TooManyHouseholds {
        /// The day's allowance.
        limit: u64,
    },
    /// A visit names a household that is not in the hamlet's list.
    #[error("visit {visit} is for household {household}, which is not in this hamlet’s list")]
    UnknownHousehold {
        /// The visit.
        visit: String,
        /// The household it names.
        household: String,
    },
}

impl RuleViolation {
    /// A stable, machine-readable name of the rule, for error codes and metrics.
    pub fn rule(&self) -> &'static str {
        match self {
            RuleViolation::OutsideSchema { .. } => "outside_schema",
            RuleViolation::InvalidValue { .. } => "invalid_value",
            RuleViolation::NotAsSelf { .. } => "not_as_self",
            RuleViolation::NotYourVisit { .. } => "not_your_visit",
            RuleViolation::LeaderMayOnlyVoid { .. } => "leader_may_only_void",
            RuleViolation::NotYourHousehold { .. } => "not_your_household",
            RuleViolation::Immutable { .. } => "immutable",
            RuleViolation::Deleted { .. } => "deleted",
            RuleViolation::UnknownHousehold { .. } => "unknown_household",
            RuleViolation::TooManyHouseholds { .. } => "too_many_households",
        }
    }
}

pub(crate) fn invalid(path: String, reason: impl Into<String>) -> RuleViolation {
    RuleViolation::InvalidValue { path, reason: reason.into() }
}

pub(crate) fn check_text(path: String, text: &str, required: bool) -> Result<(), RuleViolation> {
    match text_fault(text, required) {
        Some(reason) => Err(invalid(path, reason)),
        None => Ok(()),
    }
}

/// Whether a character reorders the text around it (bidirectional embeddings,
/// overrides and isolates, U+202A–U+202E and U+2066–U+2069): an address with U+202E in it
/// would show other than it is stored.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What is wrong with a label, name or note, if anything: empty when required, longer
/// than `MAX_TEXT_CHARS`, or holding control or text-reordering characters. Imports and
/// forms use it too, so every way in refuses the same text.
pub fn text_fault(text: &str, required: bool) -> Option<String> {
    if required && text.trim().is_empty() {
        return Some("must not be empty".into());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Some(format!("is longer than {MAX_TEXT_CHARS} characters"));
    }
    if text.chars().any(|c| c.is_control()) {
        return Some("holds control characters".into());
    }
    if text.chars().any(is_bidi_control) {
        return Some("holds characters that reorder text (U+202A–U+202E, U+2066–U+2069)".into());
    }
    None
}

pub(crate) fn check_count(path: String, n: u32) -> Result<(), RuleViolation> {
    if n > MAX_COUNT {
        return Err(invalid(path, format!("must be between 0 and {MAX_COUNT}")));
    }
    Ok(())
}

pub(crate) fn check_time(path: String, at: i64, now_ms: i64) -> Result<(), RuleViolation> {
    if at < MIN_TIME_MS {
        return Err(invalid(path, "is before 2020"));
    }
    if at > now_ms.saturating_add(MAX_FUTURE_MS) {
        return Err(invalid(path, "is more than a day in the future; check the phone’s clock"));
    }
    Ok(())
}

/// Checks that a visit made or re-timed (`was_at`: its time before, if it existed)
/// happened on or after `from_ms`, the day a commune started recording visits (its
/// campaign's start): a visit cannot be backdated into figures already reported. A
/// visit whose time did not change (a leader voiding an old one) is not judged again.
pub fn check_visit_day(
    id: &VisitId,
    visit: &Visit,
    was_at: Option<i64>,
    from_ms: i64,
) -> Result<(), RuleViolation> {
    if visit.at < from_ms && was_at != Some(visit.at) {
        return Err(invalid(
            format!("visits/{id}/at"),
            format!(
                "is before {}, when this commune started recording visits; check the device’s clock",
                crate::domain::vn_day(from_ms)
            ),
        ));
    }
    Ok(())
}

/// Checks a household's values; `now_ms` is `None` when its time was already in the
/// log (old entries are not re-judged against today's clock).
fn check_household_values(id: &HouseholdId, h: &Household, now_ms: Option<i64>) -> Result<(), RuleViolation> {
    let p = |f: &str| format!("households/{id}/{f}");
    // An erased household's texts are gone (no key opens them): nothing to check.
    if !h.erased {
        check_text(p(key::LABEL), &h.label, true)?;
    }
    if let Some(head) = &h.head {
        check_text(p(key::HEAD), head, false)?;
    }
    if let Some(m) = h.members {
        check_count(p(key::MEMBERS), m)?;
    }
    match now_ms {
        Some(now) => check_time(p(key::CREATED_AT), h.created_at, now),
        None => Ok(()),
    }
}

/// Checks a visit's values; `now_ms` is `None` when its time was already in the log.
fn check_visit_values(id: &VisitId, v: &Visit, now_ms: Option<i64>) -> Result<(), RuleViolation> {
    let p = |f: &str| format!("visits/{id}/{f}");
    if let Some(now) = now_ms {
        check_time(p(key::AT), v.at, now)?;
    }
    for t in &v.topics {
        if !is_code(t) {
            return Err(invalid(p(key::TOPICS), format!("“{}” is not a topic code", shown(t))));
        }
    }
    for (k, n) in &v.accounts {
        if !is_code(k) {
            return Err(invalid(p(key::ACCOUNTS), format!("“{}” is not an account-kind code", shown(k))));
        }
        check_count(format!("{}/{k}", p(key::ACCOUNTS)), *n)?;
    }
    check_count(p(key::PEOPLE), v.people)?;
    check_count(p(key::FILED), v.filed)?;
    if let Some(note) = &v.note {
        check_text(p(key::NOTE), note, false)?;
    }
    Ok(())
}

/// A visit marked guided (`Outcome::Guided`, which covers the household) says what was
/// guided or whom: at least one topic or one person helped. Voided visits count for
/// nothing and are not judged.
fn check_guided(id: &VisitId, v: &Visit) -> Result<(), RuleViolation> {
    if v.outcome == Outcome::Guided && !v.voided && v.topics.is_empty() && v.people == 0 {
        return Err(invalid(
            format!("visits/{id}/{}", key::PEOPLE),
            "a guided visit names at least one topic or one person helped",
        ));
    }
    Ok(())
}

/// Checks a walk-in's values; `now_ms` is `None` when its time was already in the log.
fn check_walkin_values(id: &WalkInId, w: &WalkIn, now_ms: Option<i64>) -> Result<(), RuleViolation> {
    let p = |f: &str| format!("walkins/{id}/{f}");
    if let Some(now) = now_ms {
        check_time(p(key::AT), w.at, now)?;
    }
    for t in &w.topics {
        if !is_code(t) {
            return Err(invalid(p(key::TOPICS), format!("“{}” is not a topic code", shown(t))));
        }
    }
    for (k, n) in &w.accounts {
        if !is_code(k) {
            return Err(invalid(p(key::ACCOUNTS), format!("“{}” is not an account-kind code", shown(k))));
        }
        check_count(format!("{}/{k}", p(key::ACCOUNTS)), *n)?;
    }
    check_count(p(key::PEOPLE), w.people)?;
    check_count(p(key::FILED), w.filed)?;
    if let Some(note) = &w.note {
        check_text(p(key::NOTE), note, false)?;
    }
    // Someone came to the counter: a walk-in helped one person at least.
    if w.people == 0 && !w.voided {
        return Err(invalid(p(key::PEOPLE), "a walk-in helped one person at least"));
    }
    Ok(())
}

/// May `author` log this new walk-in?
pub fn check_walkin_created(
    author: &Author,
    id: &WalkInId,
    w: &WalkIn,
    now_ms: i64,
) -> Result<(), RuleViolation> {
    if w.by != author.user {
        return Err(RuleViolation::NotAsSelf { what: "walk-in", id: id.to_string() });
    }
    check_walkin_values(id, w, Some(now_ms))
}

/// May `author` change this walk-in from `before` to `after`? As with visits: its
/// author corrects it, someone who leads may only void it.
pub fn check_walkin_edited(
    author: &Author,
    id: &WalkInId,
    before: &WalkIn,
    after: &WalkIn,
    now_ms: i64,
) -> Result<(), RuleViolation> {
    if before.by != after.by {
        return Err(RuleViolation::Immutable { path: format!("walkins/{id}/{}", key::BY) });
    }
    if before.by != author.user {
        if !author.role.leads() {
            return Err(RuleViolation::NotYourVisit { id: format!("walk-in {id}") });
        }
        let only_voided = WalkIn { voided: before.voided, ..after.clone() } == *before;
        if !only_voided || !after.voided {
            return Err(RuleViolation::LeaderMayOnlyVoid { id: format!("walk-in {id}") });
        }
    }
    check_walkin_values(id, after, (before.at != after.at).then_some(now_ms))
}

/// May `author` list this new household?
pub fn check_household_created(
    author: &Author,
    id: &HouseholdId,
    h: &Household,
    now_ms: i64,
) -> Result<(), RuleViolation> {
    if h.created_by != author.user {
        return Err(RuleViolation::NotAsSelf { what: "household", id: id.to_string() });
    }
    check_household_values(id, h, Some(now_ms))
}

/// May `author` change this household from `before` to `after`?
pub fn check_household_edited(
    author: &Author,
    id: &HouseholdId,
    before: &Household,
    after: &Household,
) -> Result<(), RuleViolation> {
    if before.created_by != author.user && !author.role.leads() {
        return Err(RuleViolation::NotYourHousehold { id: id.to_string() });
    }
    if before.created_by != after.created_by {
        return Err(RuleViolation::Immutable { path: format!("households/{id}/{}", key::CREATED_BY) });
    }
    if before.created_at != after.created_at {
        return Err(RuleViolation::Immutable { path: format!("households/{id}/{}", key::CREATED_AT) });
    }
    // Merging a household into another is a leader's decision, made once, and retires it.
    if before.merged_into != after.merged_into {
        let path = format!("households/{id}/{}", key::MERGED_INTO);
        if before.merged_into.is_some() {
            return Err(RuleViolation::Immutable { path });
        }
        if !author.role.leads() {
            return Err(RuleViolation::NotYourHousehold { id: id.to_string() });
        }
        if !after.retired || after.merged_into.as_ref() == Some(id) {
            return Err(invalid(path, "a merged household is retired, into another one"));
        }
    }
    check_household_values(id, after, None)
}

/// May `author` log this new visit? `household_listed`: whether its household is on
/// the hamlet's list. Checked in the order the phone's mirror checks too: the author,
/// the household, then the values.
pub fn check_visit_created(
    author: &Author,
    id: &VisitId,
    v: &Visit,
    household_listed: bool,
    now_ms: i64,
) -> Result<(), RuleViolation> {
    if v.by != author.user {
        return Err(RuleViolation::NotAsSelf { what: "visit", id: id.to_string() });
    }
    if !household_listed {
        return Err(RuleViolation::UnknownHousehold {
            visit: id.to_string(),
            household: v.household.to_string(),
        });
    }
    check_visit_values(id, v, Some(now_ms))?;
    check_guided(id, v)
}

/// May `author` change this visit from `before` to `after`?
pub fn check_visit_edited(
    author: &Author,
    id: &VisitId,
    before: &Visit,
    after: &Visit,
    now_ms: i64,
) -> Result<(), RuleViolation> {
    if before.by != after.by {
        return Err(RuleViolation::Immutable { path: format!("visits/{id}/{}", key::BY) });
    }
    if before.household != after.household {
        return Err(RuleViolation::Immutable { path: format!("visits/{id}/{}", key::HOUSEHOLD) });
    }
    if before.by != author.user {
        if !author.role.leads() {
            return Err(RuleViolation::NotYourVisit { id: format!("visit {id}") });
        }
        let only_voided = Visit { voided: before.voided, ..after.clone() } == *before;
        if !only_voided || !after.voided {
            return Err(RuleViolation::LeaderMayOnlyVoid { id: format!("visit {id}") });
        }
    }
    let at_changed = before.at != after.at;
    check_visit_values(id, after, at_changed.then_some(now_ms))?;
    // Visits logged before the rule stand; a correction of what was guided is judged.
    if (before.outcome, &before.topics, before.people) != (after.outcome, &after.topics, after.people) {
        check_guided(id, after)?;
    }
    Ok(())
}
