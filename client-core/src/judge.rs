//! The judge: reads what a set of changes did to a hamlet log (the entries they
//! touched, from the patches between two states) and holds each touched entry's
//! before and after against the rules for the author.
//!
//! `judge` compares two heads of one log; `judge_merge` compares the log before a merge
//! with the merged log as they are, from the patches the merge logged, with no history
//! lookups (Automerge's `diff` between heads scans the whole history), so its cost
//! follows the merge, not the log; `judge_applied`, what the server runs, does the same
//! for changes applied to the log in place, reading the state before from the entries
//! the changes write to, read just before (`BeforeEntries`), so no copy of the log is
//! made. `check_visits_from` applies a commune's first day to what a merge made or
//! re-timed.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ChangeHash, Patch, PatchAction, Prop};

use crate::domain::{Author, Household, Visit, WalkIn};
use crate::ids::{HouseholdId, VisitId, WalkInId};
use crate::log::HamletLog;
use crate::rules::{
    RuleViolation, check_household_created, check_household_edited, check_visit_created, check_visit_day,
    check_visit_edited, check_walkin_created, check_walkin_edited, invalid,
};
use crate::schema::{self, key, shown};

/// Checks that every visit `touched` made or re-timed in `after` happened on or after
/// `from_ms`, the day the hamlet's commune started recording visits
/// (`rules::check_visit_day`).
pub fn check_visits_from(
    before: &dyn Before,
    after: &HamletLog,
    touched: &Touched,
    from_ms: i64,
) -> Result<(), RuleViolation> {
    for id in &touched.visits {
        let Some(Ok(visit)) = after.visit_at(id, None) else { continue };
        let was = before.visit(id).and_then(Result::ok).map(|v| v.at);
        check_visit_day(id, &visit, was, from_ms)?;
    }
    Ok(())
}

/// What a judge reads of a log's state before a merge: its entries (`None`: absent,
/// `Some(Err)`: present but unreadable).
pub trait Before {
    /// A household as it was.
    fn household(&self, id: &HouseholdId) -> Option<Result<Household, String>>;
    /// A visit as it was.
    fn visit(&self, id: &VisitId) -> Option<Result<Visit, String>>;
    /// A walk-in as it was.
    fn walkin(&self, id: &WalkInId) -> Option<Result<WalkIn, String>>;
}

/// A log as of some heads (`None`: as it is now).
pub struct LogAt<'a> {
    /// The log.
    pub log: &'a HamletLog,
    /// The heads.
    pub heads: Option<&'a [ChangeHash]>,
}

impl Before for LogAt<'_> {
    fn household(&self, id: &HouseholdId) -> Option<Result<Household, String>> {
        self.log.household_at(id, self.heads)
    }
    fn visit(&self, id: &VisitId) -> Option<Result<Visit, String>> {
        self.log.visit_at(id, self.heads)
    }
    fn walkin(&self, id: &WalkInId) -> Option<Result<WalkIn, String>> {
        self.log.walkin_at(id, self.heads)
    }
}

/// The entries a batch of changes writes to, read from the log just before the
/// changes are applied to it in place: the state `judge_applied` judges them from.
#[derive(Debug, Clone, Default)]
pub struct BeforeEntries {
    households: BTreeMap<HouseholdId, Option<Result<Household, String>>>,
    visits: BTreeMap<VisitId, Option<Result<Visit, String>>>,
    walkins: BTreeMap<WalkInId, Option<Result<WalkIn, String>>>,
}

/// What an entry read before a merge is, when it was not read: refused as unreadable,
/// never taken for absent (that would let a change pass as a creation).
fn unread<T>() -> Option<Result<T, String>> {
    Some(Err("it was not read before the merge".into()))
}

impl BeforeEntries {
    /// Reads, as they are now, the entries `written` names (`check::check_changes`
    /// lists every entry an op of the batch writes to).
    pub fn read(log: &HamletLog, written: &Touched) -> Self {
        Self {
            households: written
                .households
                .iter()
                .map(|id| (id.clone(), log.household_at(id, None)))
                .collect(),
            visits: written.visits.iter().map(|id| (id.clone(), log.visit_at(id, None))).collect(),
            walkins: written.walkins.iter().map(|id| (id.clone(), log.walkin_at(id, None))).collect(),
        }
    }
}

impl Before for BeforeEntries {
    fn household(&self, id: &HouseholdId) -> Option<Result<Household, String>> {
        self.households.get(id).cloned().unwrap_or_else(unread)
    }
    fn visit(&self, id: &VisitId) -> Option<Result<Visit, String>> {
        self.visits.get(id).cloned().unwrap_or_else(unread)
    }
    fn walkin(&self, id: &WalkInId) -> Option<Result<WalkIn, String>> {
        self.walkins.get(id).cloned().unwrap_or_else(unread)
    }
}

/// The households, visits and walk-ins a set of changes touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Households created or edited.
    pub households: BTreeSet<HouseholdId>,
    /// Visits created or edited.
    pub visits: BTreeSet<VisitId>,
    /// Walk-ins created or edited (a counter's log).
    pub walkins: BTreeSet<WalkInId>,
}

impl Touched {
    /// Whether nothing was touched.
    pub fn is_empty(&self) -> bool {
        self.households.is_empty() && self.visits.is_empty() && self.walkins.is_empty()
    }

    /// Both sets together.
    pub fn with(mut self, other: Touched) -> Touched {
        self.households.extend(other.households);
        self.visits.extend(other.visits);
        self.walkins.extend(other.walkins);
        self
    }
}

fn path_of(props: &[String]) -> String {
    props.iter().map(|p| shown(p)).collect::<Vec<_>>().join("/")
}

/// The entities touched between two heads of one log, passing over what is outside
/// the schema instead of refusing it:
/// for updating coverage from changes that were already accepted elsewhere.
pub fn touched_lenient(log: &HamletLog, before: &[ChangeHash], after: &[ChangeHash]) -> Touched {
    let at = LogAt { log, heads: Some(before) };
    lenient(States::within(&at, log, before, after))
}

/// Like `touched_lenient`, from the patches a merge logged.
pub fn touched_by_merge(before: &HamletLog, after: &HamletLog, patches: Vec<Patch>) -> Touched {
    lenient(States::apart(&LogAt { log: before, heads: None }, after, patches))
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
    before: &'a dyn Before,
    /// The heads before, to diff from when no patches were logged.
    before_heads: Option<&'a [ChangeHash]>,
    after: &'a HamletLog,
    after_heads: Option<&'a [ChangeHash]>,
    /// The patches from before to after, when the merge logged them.
    patches: Option<Vec<Patch>>,
}

impl<'a> States<'a> {
    /// Both states in one log, at two heads (`at` reads the first).
    fn within(
        at: &'a LogAt<'a>,
        log: &'a HamletLog,
        before: &'a [ChangeHash],
        after: &'a [ChangeHash],
    ) -> Self {
        Self { before: at, before_heads: Some(before), after: log, after_heads: Some(after), patches: None }
    }

    /// The state before a merge and the merged log as it is now, with the patches the
    /// merge logged (Automerge's `diff` between heads scans the whole history).
    fn apart(before: &'a dyn Before, after: &'a HamletLog, patches: Vec<Patch>) -> Self {
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
    let before = states.before;
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
                    HouseholdId::parse(id).is_ok_and(|id| before.household(&id).is_some())
                } else {
                    VisitId::parse(id).is_ok_and(|id| before.visit(&id).is_some())
                };
                if existed {
                    return Err(RuleViolation::Immutable { path });
                }
                insert_id(t, is_household, id, &path)?;
            }
            [key::HOUSEHOLDS, id, field] => {
                if schema::household_field(field).is_none() {
                    return Err(RuleViolation::OutsideSchema { path });
                }
                if deleted && !schema::household_field(field).is_some_and(|f| f.optional) {
                    return Err(RuleViolation::Deleted { path });
                }
                insert_id(t, true, id, &path)?;
            }
            [key::VISITS, id, field] => {
                if schema::visit_field(field).is_none() {
                    return Err(RuleViolation::OutsideSchema { path });
                }
                if deleted && !schema::visit_field(field).is_some_and(|f| f.optional) {
                    return Err(RuleViolation::Deleted { path });
                }
                insert_id(t, false, id, &path)?;
            }
            [key::VISITS, id, key::TOPICS | key::ACCOUNTS, _code] => {
                insert_id(t, false, id, &path)?;
            }
            [key::WALKINS, id] => {
                if deleted {
                    return Err(RuleViolation::Deleted { path });
                }
                if WalkInId::parse(id).is_ok_and(|id| before.walkin(&id).is_some()) {
                    return Err(RuleViolation::Immutable { path });
                }
                insert_walkin(t, id, &path)?;
            }
            [key::WALKINS, id, field] => {
                let spec = schema::walkin_field(field)
                    .ok_or_else(|| RuleViolation::OutsideSchema { path: path.clone() })?;
                if deleted && !spec.optional {
                    return Err(RuleViolation::Deleted { path });
                }
                insert_walkin(t, id, &path)?;
            }
            [key::WALKINS, id, key::TOPICS | key::ACCOUNTS, _code] => {
                insert_walkin(t, id, &path)?;
            }
            _ => return Err(RuleViolation::OutsideSchema { path }),
        }
    }
    Ok(())
}

fn insert_walkin(t: &mut Touched, id: &str, path: &str) -> Result<(), RuleViolation> {
    let id = WalkInId::parse(id).map_err(|_| invalid(path.to_owned(), "the key is not a valid id"))?;
    t.walkins.insert(id);
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
    let at = LogAt { log, heads: Some(before) };
    judge_states(States::within(&at, log, before, after), Touched::default(), author, now_ms)
}

/// Judges a merge given the log before it, the merged log, the patches the merge
/// logged, and the entries its ops wrote to (`check::check_changes`, which sees what
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
    judge_states(States::apart(&LogAt { log: before, heads: None }, after, patches), written, author, now_ms)
}

/// Judges changes applied to `log` in place: `before` holds the entries they write
/// to as they were (`BeforeEntries::read`, just before applying), `written` every
/// entry an op of them wrote to (`check::check_changes`, which already refused every
/// op outside the schema, so no patches are needed to find what moved). The same rules
/// as `judge_merge`, on every entry written rather than only those whose visible
/// state changed, and no copy of the log.
pub fn judge_applied(
    before: &BeforeEntries,
    log: &HamletLog,
    written: Touched,
    author: &Author,
    now_ms: i64,
) -> Result<Touched, RuleViolation> {
    judge_states(States::apart(before, log, Vec::new()), written, author, now_ms)
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
        match s.before.household(id) {
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
        match s.before.visit(id) {
            None => {
                let listed = matches!(s.after.household_at(&after_v.household, s.after_heads), Some(Ok(_)));
                check_visit_created(author, id, &after_v, listed, now_ms)?;
            }
            Some(Ok(before_v)) => check_visit_edited(author, id, &before_v, &after_v, now_ms)?,
            Some(Err(_)) => return Err(RuleViolation::Immutable { path: format!("visits/{id}") }),
        }
    }
    for id in &t.walkins {
        let after_w = match s.after.walkin_at(id, s.after_heads) {
            Some(Ok(w)) => w,
            Some(Err(reason)) => return Err(invalid(format!("walkins/{id}"), reason)),
            None => return Err(RuleViolation::Deleted { path: format!("walkins/{id}") }),
        };
        match s.before.walkin(id) {
            None => check_walkin_created(author, id, &after_w, now_ms)?,
            Some(Ok(before_w)) => check_walkin_edited(author, id, &before_w, &after_w, now_ms)?,
            Some(Err(_)) => return Err(RuleViolation::Immutable { path: format!("walkins/{id}") }),
        }
    }
    Ok(t)
}
