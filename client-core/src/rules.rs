//! The rules a change to a hamlet log must follow (DESIGN.md §5), as pure code.
//!
//! The same functions guard the local writes in `HamletLog` and judge, on the server,
//! the *effect* of a device's changes: the difference between the document before and
//! after the merge, read as patches. So an honest client never makes a change the
//! server refuses, and the server refuses anything else before it keeps a byte of it.
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

use std::collections::BTreeSet;

use automerge::{ChangeHash, Patch, PatchAction, Prop};

use crate::catalogue::is_code;
use crate::domain::{Author, Household, MAX_COUNT, MAX_FUTURE_MS, MAX_TEXT_CHARS, Outcome, Visit};
use crate::ids::{HouseholdId, VisitId};
use crate::log::{HamletLog, key};

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
    /// A volunteer changed a visit they did not log.
    #[error("visit {id} was logged by someone else; only they can correct it")]
    NotYourVisit {
        /// The visit.
        id: String,
    },
    /// A leader changed more than `voided` on someone else's visit.
    #[error("visit {id} was logged by someone else; a leader may only void it")]
    LeaderMayOnlyVoid {
        /// The visit.
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

fn invalid(path: String, reason: impl Into<String>) -> RuleViolation {
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

/// Checks that every visit `touched` made or re-timed in `after` happened on or after
/// `from_ms`, the day a commune started recording visits (its campaign's start): a
/// visit cannot be backdated into figures already reported. Visits whose time did not
/// change (a leader voiding an old one) are not judged again.
pub fn check_visits_from(
    before: &HamletLog,
    after: &HamletLog,
    touched: &Touched,
    from_ms: i64,
) -> Result<(), RuleViolation> {
    for id in &touched.visits {
        let Some(Ok(visit)) = after.visit_at(id, None) else { continue };
        let was = before.visit_at(id, None).and_then(Result::ok).map(|v| v.at);
        if visit.at < from_ms && was != Some(visit.at) {
            return Err(invalid(
                format!("visits/{id}/at"),
                format!(
                    "is before {}, when this commune started recording visits; check the device’s clock",
                    crate::coverage::vn_day(from_ms)
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a household's values; `now_ms` is `None` when its time was already in the
/// log (old entries are not re-judged against today's clock).
fn check_household_values(id: &HouseholdId, h: &Household, now_ms: Option<i64>) -> Result<(), RuleViolation> {
    let p = |f: &str| format!("households/{id}/{f}");
    check_text(p(key::LABEL), &h.label, true)?;
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
            return Err(invalid(p(key::TOPICS), format!("“{}” is not a topic code", short(t))));
        }
    }
    for (k, n) in &v.accounts {
        if !is_code(k) {
            return Err(invalid(p(key::ACCOUNTS), format!("“{}” is not an account-kind code", short(k))));
        }
        check_count(format!("{}/{k}", p(key::ACCOUNTS)), *n)?;
    }
    check_count(p(key::PEOPLE), v.people)?;
    if let Some(note) = &v.note {
        check_text(p(key::NOTE), note, false)?;
    }
    Ok(())
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
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

/// May `author` log this new visit?
pub fn check_visit_created(
    author: &Author,
    id: &VisitId,
    v: &Visit,
    now_ms: i64,
) -> Result<(), RuleViolation> {
    if v.by != author.user {
        return Err(RuleViolation::NotAsSelf { what: "visit", id: id.to_string() });
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
            return Err(RuleViolation::NotYourVisit { id: id.to_string() });
        }
        let only_voided = Visit { voided: before.voided, ..after.clone() } == *before;
        if !only_voided || !after.voided {
            return Err(RuleViolation::LeaderMayOnlyVoid { id: id.to_string() });
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

/// The households and visits a set of changes touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Households created or edited.
    pub households: BTreeSet<HouseholdId>,
    /// Visits created or edited.
    pub visits: BTreeSet<VisitId>,
}

impl Touched {
    /// Whether nothing was touched.
    pub fn is_empty(&self) -> bool {
        self.households.is_empty() && self.visits.is_empty()
    }

    /// Both sets together.
    pub fn with(mut self, other: Touched) -> Touched {
        self.households.extend(other.households);
        self.visits.extend(other.visits);
        self
    }
}

fn path_of(props: &[String]) -> String {
    props.iter().map(|p| short(p)).collect::<Vec<_>>().join("/")
}

/// Reads the patches between `before` and `after` as touched entities, refusing any
/// patch that lands outside the schema. This is schema-level only; `judge` adds the
/// per-entity rules.
pub fn touched(
    log: &HamletLog,
    before: &[ChangeHash],
    after: &[ChangeHash],
) -> Result<Touched, RuleViolation> {
    States::within(log, before, after).touched()
}

/// Like `touched`, but passes over what is outside the schema instead of refusing it:
/// for updating coverage from changes that were already accepted elsewhere.
pub fn touched_lenient(log: &HamletLog, before: &[ChangeHash], after: &[ChangeHash]) -> Touched {
    lenient(States::within(log, before, after))
}

/// Like `touched_lenient`, from the patches a merge logged.
pub fn touched_by_merge(before: &HamletLog, after: &HamletLog, patches: Vec<Patch>) -> Touched {
    lenient(States::apart(before, after, patches))
}

fn lenient(mut states: States<'_>) -> Touched {
    let mut t = Touched::default();
    for patch in states.patches() {
        let _ = touch(&states, &mut t, patch);
    }
    t
}

/// The two states a set of changes is judged between. Reading a state "as of heads"
/// makes Automerge compute a clock over the whole history for every read, so when both
/// the log before and the merged log are at hand (the server's case) each is read as
/// it is now, which costs nothing extra.
struct States<'a> {
    before: &'a HamletLog,
    before_heads: Option<&'a [ChangeHash]>,
    after: &'a HamletLog,
    after_heads: Option<&'a [ChangeHash]>,
    /// The patches from before to after, when the merge logged them.
    patches: Option<Vec<Patch>>,
}

impl<'a> States<'a> {
    /// Both states in one log, at two heads.
    fn within(log: &'a HamletLog, before: &'a [ChangeHash], after: &'a [ChangeHash]) -> Self {
        Self { before: log, before_heads: Some(before), after: log, after_heads: Some(after), patches: None }
    }

    /// The log before a merge and the merged log, each as it is now, with the patches
    /// the merge logged (Automerge's `diff` between heads scans the whole history).
    fn apart(before: &'a HamletLog, after: &'a HamletLog, patches: Vec<Patch>) -> Self {
        Self { before, before_heads: None, after, after_heads: None, patches: Some(patches) }
    }

    fn patches(&mut self) -> Vec<Patch> {
        match self.patches.take() {
            Some(p) => p,
            None => {
                let before = self.before_heads.unwrap_or_default();
                let after =
                    self.after_heads.map(<[ChangeHash]>::to_vec).unwrap_or_else(|| self.after.heads());
                self.after.doc().diff(before, &after)
            }
        }
    }

    fn touched(&mut self) -> Result<Touched, RuleViolation> {
        let mut t = Touched::default();
        for patch in self.patches() {
            touch(self, &mut t, patch)?;
        }
        Ok(t)
    }
}

/// Records what one patch touched, or the schema rule it breaks.
fn touch(states: &States<'_>, t: &mut Touched, patch: Patch) -> Result<(), RuleViolation> {
    let (log, before) = (states.before, states.before_heads);
    {
        let mut props: Vec<String> = Vec::with_capacity(patch.path.len() + 1);
        for (_, prop) in &patch.path {
            match prop {
                Prop::Map(k) => props.push(k.clone()),
                Prop::Seq(i) => props.push(i.to_string()),
            }
        }
        let (leaf, deleted) = match &patch.action {
            PatchAction::PutMap { key, .. } => (key.clone(), false),
            PatchAction::DeleteMap { key } => (key.clone(), true),
            // Conflict markers and mark changes carry no new values of their own;
            // everything else (lists, text, counters) has no place in the schema.
            PatchAction::Conflict { .. } => return Ok(()),
            _ => {
                return Err(RuleViolation::OutsideSchema { path: path_of(&props) });
            }
        };
        props.push(leaf);
        let path = path_of(&props);
        let refs: Vec<&str> = props.iter().map(String::as_str).collect();
        match refs.as_slice() {
            [key::HOUSEHOLDS, id] | [key::VISITS, id] => {
                let is_household = refs[0] == key::HOUSEHOLDS;
                if deleted {
                    return Err(RuleViolation::Deleted { path });
                }
                let existed = if is_household {
                    log.has_household_key(id, before)
                } else {
                    log.has_visit_key(id, before)
                };
                if existed {
                    return Err(RuleViolation::Immutable { path });
                }
                insert_id(t, is_household, id, &path)?;
            }
            [key::HOUSEHOLDS, id, field] => {
                if !key::HOUSEHOLD_FIELDS.contains(field) {
                    return Err(RuleViolation::OutsideSchema { path });
                }
                if deleted && !matches!(*field, key::HEAD | key::MEMBERS) {
                    return Err(RuleViolation::Deleted { path });
                }
                insert_id(t, true, id, &path)?;
            }
            [key::VISITS, id, field] => {
                if !key::VISIT_FIELDS.contains(field) {
                    return Err(RuleViolation::OutsideSchema { path });
                }
                if deleted && *field != key::NOTE {
                    return Err(RuleViolation::Deleted { path });
                }
                insert_id(t, false, id, &path)?;
            }
            [key::VISITS, id, key::TOPICS | key::ACCOUNTS, _code] => {
                insert_id(t, false, id, &path)?;
            }
            _ => return Err(RuleViolation::OutsideSchema { path }),
        }
    }
    Ok(())
}

fn insert_id(t: &mut Touched, household: bool, id: &str, path: &str) -> Result<(), RuleViolation> {
    let bad = || invalid(path.to_owned(), "the key is not a valid id");
    if household {
        t.households.insert(HouseholdId::parse(id).map_err(|_| bad())?);
    } else {
        t.visits.insert(VisitId::parse(id).map_err(|_| bad())?);
    }
    Ok(())
}

/// Judges the effect of the changes between `before` and `after`, all made by
/// `author`. Returns what they touched, or the first rule they break.
///
/// The server calls this on a fork holding the merged result, before it commits.
pub fn judge(
    log: &HamletLog,
    before: &[ChangeHash],
    after: &[ChangeHash],
    author: &Author,
    now_ms: i64,
) -> Result<Touched, RuleViolation> {
    judge_states(States::within(log, before, after), Touched::default(), author, now_ms)
}

/// Judges a merge given the log before it, the merged log, the patches the merge
/// logged, and the entries its ops wrote to (`schema::check_changes`, which sees what
/// the patches do not: ops that lost a conflict): the same rules as `judge`, without
/// any history lookups, so the cost follows the size of the merge and not of the log.
/// This is what the server runs.
pub fn judge_merge(
    before: &HamletLog,
    after: &HamletLog,
    patches: Vec<Patch>,
    written: Touched,
    author: &Author,
    now_ms: i64,
) -> Result<Touched, RuleViolation> {
    judge_states(States::apart(before, after, patches), written, author, now_ms)
}

fn judge_states(
    mut s: States<'_>,
    written: Touched,
    author: &Author,
    now_ms: i64,
) -> Result<Touched, RuleViolation> {
    let t = s.touched()?.with(written);
    for id in &t.households {
        let after_h = match s.after.household_at(id, s.after_heads) {
            Some(Ok(h)) => h,
            Some(Err(reason)) => return Err(invalid(format!("households/{id}"), reason)),
            None => return Err(RuleViolation::Deleted { path: format!("households/{id}") }),
        };
        match s.before.household_at(id, s.before_heads) {
            None => check_household_created(author, id, &after_h, now_ms)?,
            Some(Ok(before_h)) => check_household_edited(author, id, &before_h, &after_h)?,
            // A malformed entry cannot be repaired by a device: only created whole.
            Some(Err(_)) => return Err(RuleViolation::Immutable { path: format!("households/{id}") }),
        }
    }
    for id in &t.visits {
        let after_v = match s.after.visit_at(id, s.after_heads) {
            Some(Ok(v)) => v,
            Some(Err(reason)) => return Err(invalid(format!("visits/{id}"), reason)),
            None => return Err(RuleViolation::Deleted { path: format!("visits/{id}") }),
        };
        match s.before.visit_at(id, s.before_heads) {
            None => {
                check_visit_created(author, id, &after_v, now_ms)?;
                if !matches!(s.after.household_at(&after_v.household, s.after_heads), Some(Ok(_))) {
                    return Err(RuleViolation::UnknownHousehold {
                        visit: id.to_string(),
                        household: after_v.household.to_string(),
                    });
                }
            }
            Some(Ok(before_v)) => check_visit_edited(author, id, &before_v, &after_v, now_ms)?,
            Some(Err(_)) => return Err(RuleViolation::Immutable { path: format!("visits/{id}") }),
        }
    }
    Ok(t)
}
