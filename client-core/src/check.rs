//! Every op of every incoming change, checked against the hamlet-log schema before the
//! merge.
//!
//! Judging the merged result (`judge::judge_merge`) sees only what a merge makes
//! visible. But Automerge stores and relays every op: one that loses a conflict, or
//! sits inside an object nobody can see (a second `households` map put concurrently
//! with the genesis one), is kept forever and sent to every phone, and produces no
//! patch to judge. So before anything is merged, `check_changes` decodes each new
//! change and places each of its ops by the *identity* of the object it writes to
//! (never by key names, which a rival object can share):
//!
//! - the root: no op at all (only the genesis change writes there);
//! - the genesis `households` and `visits` maps of a hamlet's log, and `walkins` of a
//!   counter's: only a new map under a fresh, valid id (nothing in the other kind's);
//! - a household, visit or walk-in entry: only the fields of `schema`'s tables, each a
//!   scalar of its kind and size, deleting only optional fields, writing immutable ones
//!   (`by`, `household`, `created_by`, `created_at`) once, when the entry is made; `by`
//!   and `created_by` name the author;
//! - a visit's or walk-in's `topics` and `accounts`: codes to `true` and codes to counts;
//! - a household's sealed fields (`label`, `head`, a visit's `note`): bytes no longer
//!   than a sealed text can be, which, where this replica holds the household's key,
//!   open with it in their place and hold a text the rules allow. A server refuses one
//!   for a household it holds no key for, unless that household was erased (what a
//!   phone wrote offline before it learnt of the erasure is sealed under a key nobody
//!   holds any more).
//!
//! Lists, text, counters and marks have no place anywhere. Each entry an op writes to
//! is returned as touched, so the per-entity rules (who may edit what) run on it even
//! when its visible state did not change.

use std::collections::{BTreeSet, HashMap};

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{ActorId, Change, ObjId as ExId, ObjType, Prop, ReadDoc, ScalarValue};

use crate::catalogue::is_code;
use crate::domain::{Author, MAX_COUNT, Outcome};
use crate::ids::{HouseholdId, UserId, VisitId, WalkInId};
use crate::judge::Touched;
use crate::log::HamletLog;
use crate::rules::{self, RuleViolation};
use crate::schema::{self, Field, Kind, MAX_SEALED_BYTES, key, shown};
use crate::sealed::{self, Keyring, Sealed};

/// Longest change message or trailing extra bytes a change may carry. Từng Nhà's
/// clients write neither; a little room is left for newer Automerge versions.
pub const MAX_CHANGE_EXTRAS: usize = 256;

/// What the ops are checked for: the author's rights too, when a server judges one
/// device's changes; the schema alone, when a device takes in what its server relays.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    /// Changes all made by this author, received at `now_ms`.
    Author(&'a Author, i64),
    /// Changes by anyone, already accepted by the server.
    Relayed,
}

/// Checks every op of `changes` (the changes new to `log`, all of whose dependencies
/// are in `log` or among `changes`) against the schema, opening sealed fields with the
/// log's keys. Returns the entries they write to, or the first rule an op breaks.
pub fn check_changes(
    log: &HamletLog,
    changes: &[Change],
    check: Check<'_>,
) -> Result<Touched, RuleViolation> {
    check_changes_keyed(log, log.keys(), changes, check)
}

/// `check_changes`, opening sealed fields with `keys` (the log's and those arriving
/// with the changes).
pub fn check_changes_keyed(
    log: &HamletLog,
    keys: &Keyring,
    changes: &[Change],
    check: Check<'_>,
) -> Result<Touched, RuleViolation> {
    let mut decoded = Vec::with_capacity(changes.len());
    for change in changes {
        // Decoding walks the change's actor table, which Automerge indexes without
        // checking; a change that fails there is refused, not allowed to panic.
        let expanded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| change.decode()))
            .map_err(|_| outside("a change whose ops name actors it does not list".into()))?;
        decoded.push((change, expanded));
    }
    // Every actor a change lists besides its own must be one the log knows or one of
    // these changes' authors: Automerge looks each up while applying and panics on a
    // stranger (the fuzzer found it).
    // A set, and each stranger looked up once: a whole log sent to a new device holds
    // tens of thousands of changes, nearly all naming the genesis actor.
    let mut known: BTreeSet<&ActorId> = changes.iter().map(Change::actor_id).collect();
    for change in changes {
        for other in change.other_actor_ids() {
            if known.contains(other) {
                continue;
            }
            if log.doc().import_obj(&format!("1@{other}")).is_err() {
                return Err(outside(format!("a change naming actor {other}, who wrote nothing here")));
            }
            known.insert(other);
        }
    }
    sequence_numbers(log, changes)?;
    let mut places = Places::new(log);
    for (change, expanded) in &decoded {
        if change.message().map_or(0, str::len) > MAX_CHANGE_EXTRAS
            || change.extra_bytes().len() > MAX_CHANGE_EXTRAS
        {
            return Err(outside("a change's message or extra bytes".into()));
        }
        // Automerge never makes an empty change, and applying a forged one can make it
        // panic (the fuzzer found one).
        if change.is_empty() {
            return Err(outside("a change with no operations".into()));
        }
        for (i, op) in expanded.operations.iter().enumerate() {
            if let OpType::Make(typ) = op.action {
                let id = (change.start_op().get() + i as u64, change.actor_id().clone());
                places.made.insert(id, (op.obj.clone(), op.key.clone(), typ));
            }
        }
    }
    let mut checker = Checker {
        log,
        check,
        places,
        touched: Touched::default(),
        made_keys: BTreeSet::new(),
        sealed: Vec::new(),
        visit_households: HashMap::new(),
        keys,
    };
    for (_, expanded) in &decoded {
        for op in &expanded.operations {
            checker.op(op)?;
        }
    }
    checker.open_sealed()?;
    Ok(checker.touched)
}

/// Automerge numbers each actor's changes 1, 2, 3… and asserts while applying that a
/// new one is the next (the fuzzer found a skip that took the thread down). Each
/// actor's changes here must carry the numbers that follow the log's, with no gap.
fn sequence_numbers(log: &HamletLog, changes: &[Change]) -> Result<(), RuleViolation> {
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by(|a, b| (a.actor_id(), a.seq()).cmp(&(b.actor_id(), b.seq())));
    // Read once, and only when an actor the log knows sends more: a device's own
    // earlier changes are in the log on every sync but its first.
    let mut written: Option<Vec<automerge::ChangeMetadata<'_>>> = None;
    let mut next: HashMap<&ActorId, u64> = HashMap::new();
    for change in sorted {
        let actor = change.actor_id();
        let expected = match next.get(actor) {
            Some(n) => *n,
            None if log.doc().import_obj(&format!("1@{actor}")).is_err() => 1,
            None => {
                let meta = written.get_or_insert_with(|| log.doc().get_changes_meta(&[]));
                meta.iter().filter(|m| m.actor.as_ref() == actor).count() as u64 + 1
            }
        };
        if change.seq() != expected {
            return Err(outside(format!("a change numbered {} where {expected} comes next", change.seq())));
        }
        next.insert(actor, expected + 1);
    }
    Ok(())
}

/// An entry that holds `topics` and `accounts`: a visit or a walk-in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    Visit(VisitId),
    WalkIn(WalkInId),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Visit(id) => write!(f, "{}/{id}", key::VISITS),
            Owner::WalkIn(id) => write!(f, "{}/{id}", key::WALKINS),
        }
    }
}

/// Where an object sits in the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Root,
    Households,
    Visits,
    WalkIns,
    /// A household entry; `new` when this batch made it.
    Household {
        id: HouseholdId,
        new: bool,
    },
    /// A visit entry; `new` when this batch made it.
    Visit {
        id: VisitId,
        new: bool,
    },
    /// A walk-in entry; `new` when this batch made it.
    WalkIn {
        id: WalkInId,
        new: bool,
    },
    Topics(Owner),
    Accounts(Owner),
}

type OpKey = (u64, ActorId);

/// Finds the place of objects made in the batch or already in the log.
struct Places<'a> {
    log: &'a HamletLog,
    households: ExId,
    visits: ExId,
    walkins: Option<ExId>,
    /// Objects the batch makes: their parent object, key and type.
    made: HashMap<OpKey, (ObjectId, Key, ObjType)>,
    known: HashMap<OpKey, Place>,
}

impl<'a> Places<'a> {
    fn new(log: &'a HamletLog) -> Self {
        Self {
            log,
            households: log.households_obj().clone(),
            visits: log.visits_obj().clone(),
            walkins: log.walkins_obj().cloned(),
            made: HashMap::new(),
            known: HashMap::new(),
        }
    }

    fn of(&mut self, obj: &ObjectId, depth: u8) -> Result<Place, RuleViolation> {
        let ObjectId::Id(op) = obj else { return Ok(Place::Root) };
        let id: OpKey = (op.counter(), op.actor().clone());
        if let Some(place) = self.known.get(&id) {
            return Ok(place.clone());
        }
        let place = if same(&self.households, &id) {
            Place::Households
        } else if same(&self.visits, &id) {
            Place::Visits
        } else if self.walkins.as_ref().is_some_and(|w| same(w, &id)) {
            Place::WalkIns
        } else if let Some((parent, key, typ)) = self.made.get(&id).cloned() {
            // Objects nest three deep at most (visits/<id>/topics); anything deeper,
            // or made inside itself, is outside the schema.
            if depth > 3 {
                return Err(outside("an object nested too deep".into()));
            }
            let parent = self.of(&parent, depth + 1)?;
            let Key::Map(name) = key else { return Err(outside(format!("{} (a list)", show(&parent)))) };
            placed_in(&parent, &name, typ, true)?
        } else {
            self.existing(&id)?
        };
        self.known.insert(id, place.clone());
        Ok(place)
    }

    /// The place of an object already in the log, from its parents there.
    fn existing(&self, id: &OpKey) -> Result<Place, RuleViolation> {
        let doc = self.log.doc();
        let lacks = || outside(format!("an object ({}@{}) this hamlet log lacks", id.0, id.1));
        let obj = doc.import_obj(&format!("{}@{}", id.0, id.1)).map_err(|_| lacks())?;
        let typ = doc.object_type(&obj).map_err(|_| lacks())?;
        let parents: Vec<(ExId, Prop)> =
            doc.parents(&obj).map_err(|_| lacks())?.take(3).map(|p| (p.obj, p.prop)).collect();
        let name = |i: usize| match parents.get(i) {
            Some((_, Prop::Map(k))) => Some(k.as_str()),
            _ => None,
        };
        let parent_is = |i: usize, of: &ExId| parents.get(i).is_some_and(|(p, _)| p == of);
        let in_walkins = |i: usize| self.walkins.as_ref().is_some_and(|w| parent_is(i, w));
        let owner = if parent_is(1, &self.visits) {
            name(1).and_then(|k| VisitId::parse(k).ok()).map(Owner::Visit)
        } else if in_walkins(1) {
            name(1).and_then(|k| WalkInId::parse(k).ok()).map(Owner::WalkIn)
        } else {
            None
        };
        let place = if parent_is(0, &self.households) {
            name(0).and_then(|k| HouseholdId::parse(k).ok()).map(|id| Place::Household { id, new: false })
        } else if parent_is(0, &self.visits) {
            name(0).and_then(|k| VisitId::parse(k).ok()).map(|id| Place::Visit { id, new: false })
        } else if in_walkins(0) {
            name(0).and_then(|k| WalkInId::parse(k).ok()).map(|id| Place::WalkIn { id, new: false })
        } else if let Some(owner) = owner {
            match name(0) {
                Some(key::TOPICS) => Some(Place::Topics(owner)),
                Some(key::ACCOUNTS) => Some(Place::Accounts(owner)),
                _ => None,
            }
        } else {
            None
        };
        match place {
            Some(place) if typ == ObjType::Map => Ok(place),
            _ => Err(outside(format!("an object ({}@{}) outside the schema", id.0, id.1))),
        }
    }
}

fn same(obj: &ExId, id: &OpKey) -> bool {
    matches!(obj, ExId::Id(counter, actor, _) if *counter == id.0 && *actor == id.1)
}

/// The place of a new object of type `typ` made at `name` inside `parent`.
fn placed_in(parent: &Place, name: &str, typ: ObjType, new: bool) -> Result<Place, RuleViolation> {
    let path = || path_in(parent, name);
    if typ != ObjType::Map {
        return Err(outside(path()));
    }
    match parent {
        Place::Households => HouseholdId::parse(name)
            .map(|id| Place::Household { id, new })
            .map_err(|_| invalid(path(), "the key is not a valid id")),
        Place::Visits => VisitId::parse(name)
            .map(|id| Place::Visit { id, new })
            .map_err(|_| invalid(path(), "the key is not a valid id")),
        Place::WalkIns => WalkInId::parse(name)
            .map(|id| Place::WalkIn { id, new })
            .map_err(|_| invalid(path(), "the key is not a valid id")),
        Place::Visit { id, .. } if name == key::TOPICS => Ok(Place::Topics(Owner::Visit(id.clone()))),
        Place::Visit { id, .. } if name == key::ACCOUNTS => Ok(Place::Accounts(Owner::Visit(id.clone()))),
        Place::WalkIn { id, .. } if name == key::TOPICS => Ok(Place::Topics(Owner::WalkIn(id.clone()))),
        Place::WalkIn { id, .. } if name == key::ACCOUNTS => Ok(Place::Accounts(Owner::WalkIn(id.clone()))),
        _ => Err(outside(path())),
    }
}

/// Where a key of an object is, as the rules name paths (`visits/<id>/people`).
fn path_in(place: &Place, name: &str) -> String {
    match place {
        Place::Root => shown(name),
        _ => format!("{}/{}", show(place), shown(name)),
    }
}

fn show(place: &Place) -> String {
    match place {
        Place::Root => String::new(),
        Place::Households => key::HOUSEHOLDS.into(),
        Place::Visits => key::VISITS.into(),
        Place::WalkIns => key::WALKINS.into(),
        Place::Household { id, .. } => format!("{}/{id}", key::HOUSEHOLDS),
        Place::Visit { id, .. } => format!("{}/{id}", key::VISITS),
        Place::WalkIn { id, .. } => format!("{}/{id}", key::WALKINS),
        Place::Topics(owner) => format!("{owner}/{}", key::TOPICS),
        Place::Accounts(owner) => format!("{owner}/{}", key::ACCOUNTS),
    }
}

fn outside(path: String) -> RuleViolation {
    RuleViolation::OutsideSchema { path }
}

fn invalid(path: String, reason: impl Into<String>) -> RuleViolation {
    RuleViolation::InvalidValue { path, reason: reason.into() }
}

/// A sealed value an op writes, opened once every op is placed.
struct SealedOp {
    /// The household whose field it is, or the visit whose note it is.
    of: SealedOf,
    bytes: Vec<u8>,
    required: bool,
    path: String,
}

enum SealedOf {
    Household(HouseholdId, &'static str),
    Note(VisitId),
}

struct Checker<'a> {
    log: &'a HamletLog,
    check: Check<'a>,
    places: Places<'a>,
    touched: Touched,
    /// Entries the batch makes (in which map, under which key), so that one is not
    /// made twice.
    made_keys: BTreeSet<(&'static str, String)>,
    /// Sealed values written, opened at the end (a note's household may be written
    /// after it).
    sealed: Vec<SealedOp>,
    /// The household of each visit the batch makes.
    visit_households: HashMap<VisitId, HouseholdId>,
    /// The household keys sealed fields are opened with.
    keys: &'a Keyring,
}

impl Checker<'_> {
    fn op(&mut self, op: &automerge::legacy::Op) -> Result<(), RuleViolation> {
        let place = self.places.of(&op.obj, 0)?;
        let Key::Map(name) = &op.key else {
            return Err(outside(format!("{} (a list position)", show(&place))));
        };
        let path = path_in(&place, name);
        if op.insert {
            return Err(outside(path));
        }
        match (&place, &op.action) {
            (Place::Root, _) => Err(outside(path)),
            // A counter's log holds walk-ins, never households or visits.
            (Place::Households | Place::Visits, OpType::Make(_)) if self.log.is_counter() => {
                Err(outside(path))
            }
            (Place::Households | Place::Visits | Place::WalkIns, OpType::Make(typ)) => {
                let (map, existed) = match place {
                    Place::Households => (key::HOUSEHOLDS, self.log.has_household_key(name, None)),
                    Place::Visits => (key::VISITS, self.log.has_visit_key(name, None)),
                    _ => (key::WALKINS, self.log.has_walkin_key(name, None)),
                };
                if existed || !op.pred.is_empty() || !self.made_keys.insert((map, name.to_string())) {
                    return Err(RuleViolation::Immutable { path });
                }
                match placed_in(&place, name, *typ, true)? {
                    Place::Household { id, .. } => self.touched.households.insert(id),
                    Place::Visit { id, .. } => self.touched.visits.insert(id),
                    Place::WalkIn { id, .. } => self.touched.walkins.insert(id),
                    _ => false,
                };
                Ok(())
            }
            (Place::Households | Place::Visits | Place::WalkIns, OpType::Delete) => {
                Err(RuleViolation::Deleted { path })
            }
            (Place::Households | Place::Visits | Place::WalkIns, _) => Err(outside(path)),
            (Place::Household { id, new }, action) => {
                self.touched.households.insert(id.clone());
                let spec = schema::household_field(name);
                self.field(spec, None, action, *new, path.clone())?;
                if let (Some(f), OpType::Put(ScalarValue::Bytes(b))) = (spec, action) {
                    self.keep_sealed(SealedOf::Household(id.clone(), f.name), f, b, path);
                }
                Ok(())
            }
            (Place::Visit { id, new }, action) => {
                self.touched.visits.insert(id.clone());
                let (owner, new) = (Owner::Visit(id.clone()), *new);
                let spec = schema::visit_field(name);
                self.field(spec, Some(&owner), action, new, path.clone())?;
                match (spec, action) {
                    (Some(f), OpType::Put(ScalarValue::Bytes(b))) => {
                        self.keep_sealed(SealedOf::Note(id.clone()), f, b, path);
                    }
                    (Some(f), OpType::Put(ScalarValue::Str(h))) if f.name == key::HOUSEHOLD => {
                        if let Ok(h) = HouseholdId::parse(h) {
                            self.visit_households.insert(id.clone(), h);
                        }
                    }
                    _ => {}
                }
                Ok(())
            }
            (Place::WalkIn { id, new }, action) => {
                self.touched.walkins.insert(id.clone());
                let (owner, new) = (Owner::WalkIn(id.clone()), *new);
                self.field(schema::walkin_field(name), Some(&owner), action, new, path)
            }
            (Place::Topics(owner), action) => {
                self.touch(owner);
                self.only_void_on_others(owner, false)?;
                code_key(name, &path)?;
                match action {
                    OpType::Delete | OpType::Put(ScalarValue::Boolean(true)) => Ok(()),
                    OpType::Put(_) => Err(invalid(path, "a topic is marked true or not at all")),
                    _ => Err(outside(path)),
                }
            }
            (Place::Accounts(owner), action) => {
                self.touch(owner);
                self.only_void_on_others(owner, false)?;
                code_key(name, &path)?;
                match action {
                    OpType::Delete => Ok(()),
                    OpType::Put(v) => count(v, &path),
                    _ => Err(outside(path)),
                }
            }
        }
    }

    /// Keeps a sealed value (already held to its kind and size) to be opened.
    fn keep_sealed(&mut self, of: SealedOf, f: &Field, bytes: &[u8], path: String) {
        if let Kind::Sealed { required } = f.kind {
            self.sealed.push(SealedOp { of, bytes: bytes.to_vec(), required, path });
        }
    }

    /// Opens every sealed value written, with the keys this replica holds.
    fn open_sealed(&self) -> Result<(), RuleViolation> {
        let hamlet = self.log.hamlet();
        let keys = self.keys;
        for op in &self.sealed {
            let (household, what) = match &op.of {
                SealedOf::Household(h, name) => {
                    (h.clone(), if *name == key::LABEL { Sealed::Label } else { Sealed::Head })
                }
                SealedOf::Note(visit) => {
                    let h =
                        self.visit_households.get(visit).cloned().or_else(|| self.log.visit_household(visit));
                    let Some(h) = h else {
                        return Err(invalid(op.path.clone(), "a note of a visit to no household"));
                    };
                    (h, Sealed::Note(visit))
                }
            };
            match keys.key(&household) {
                Some(k) => {
                    let text = sealed::open(k, hamlet, &household, what, &op.bytes)
                        .map_err(|e| invalid(op.path.clone(), e.to_string()))?;
                    rules::check_text(op.path.clone(), &text, op.required)?;
                }
                // Nobody can open it any more: written before its writer learnt of the
                // erasure.
                None if keys.is_erased(&household) => {}
                None if matches!(self.check, Check::Author(..)) => {
                    return Err(invalid(
                        op.path.clone(),
                        format!("household {household}’s key was not sent with it"),
                    ));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Marks the visit or walk-in an op writes into as touched.
    fn touch(&mut self, owner: &Owner) {
        match owner {
            Owner::Visit(id) => self.touched.visits.insert(id.clone()),
            Owner::WalkIn(id) => self.touched.walkins.insert(id.clone()),
        };
    }

    /// An op on one field of an entry (`owner`: the visit or walk-in, when the entry is
    /// one; `None` for a household), held against the field's row of the schema.
    fn field(
        &self,
        spec: Option<&Field>,
        owner: Option<&Owner>,
        action: &OpType,
        new: bool,
        path: String,
    ) -> Result<(), RuleViolation> {
        let Some(f) = spec else { return Err(outside(path)) };
        if !new && f.immutable {
            return Err(RuleViolation::Immutable { path });
        }
        if let (Some(owner), false) = (owner, new) {
            self.only_void_on_others(owner, f.name == key::VOIDED)?;
        }
        let value = match action {
            OpType::Put(v) => v,
            OpType::Make(ObjType::Map) if matches!(f.kind, Kind::Codes | Kind::Counts) => return Ok(()),
            OpType::Delete if f.optional => return Ok(()),
            OpType::Delete => return Err(RuleViolation::Deleted { path }),
            _ => return Err(outside(path)),
        };
        let what = match owner {
            Some(Owner::Visit(_)) => "visit",
            Some(Owner::WalkIn(_)) => "walk-in",
            None => "household",
        };
        match f.kind {
            Kind::Text { required } => text(value, required, &path),
            Kind::Sealed { .. } => match value {
                ScalarValue::Bytes(b) if b.len() <= MAX_SEALED_BYTES => Ok(()),
                ScalarValue::Bytes(_) => Err(invalid(path, "is longer than a sealed text can be")),
                _ => Err(invalid(path, "is not sealed")),
            },
            Kind::Count => count(value, &path),
            Kind::Time => self.time(value, &path),
            Kind::Flag => boolean(value, &path),
            Kind::Author => self.as_author(value, what, &path),
            Kind::Household => match value {
                ScalarValue::Str(s) if HouseholdId::parse(s).is_ok() => Ok(()),
                _ => Err(invalid(path, "is not a household id")),
            },
            Kind::Outcome => match value {
                ScalarValue::Str(s) if Outcome::from_code(s).is_some() => Ok(()),
                _ => Err(invalid(path, "is not an outcome")),
            },
            Kind::Codes | Kind::Counts => Err(outside(path)),
        }
    }

    /// On a visit or walk-in someone else logged, an author who leads may only void
    /// it; one who does not may not touch it (`rules::check_visit_edited` and
    /// `check_walkin_edited` say the same of what becomes visible).
    fn only_void_on_others(&self, owner: &Owner, voiding: bool) -> Result<(), RuleViolation> {
        let Check::Author(author, _) = self.check else { return Ok(()) };
        let (logged_by, what) = match owner {
            Owner::Visit(id) => {
                (self.log.visit_at(id, None).and_then(Result::ok).map(|v| v.by), format!("visit {id}"))
            }
            Owner::WalkIn(id) => {
                (self.log.walkin_at(id, None).and_then(Result::ok).map(|w| w.by), format!("walk-in {id}"))
            }
        };
        // Made in this batch (its `by` is checked as the author's), or unreadable (the
        // per-entity rules refuse editing it).
        let Some(logged_by) = logged_by else { return Ok(()) };
        if logged_by == author.user {
            return Ok(());
        }
        if !author.role.leads() {
            return Err(RuleViolation::NotYourVisit { id: what });
        }
        if voiding {
            return Ok(());
        }
        Err(RuleViolation::LeaderMayOnlyVoid { id: what })
    }

    fn as_author(&self, value: &ScalarValue, what: &'static str, path: &str) -> Result<(), RuleViolation> {
        let ScalarValue::Str(s) = value else { return Err(invalid(path.to_owned(), "is not a user id")) };
        let user = UserId::parse(s).map_err(|_| invalid(path.to_owned(), "is not a user id"))?;
        match self.check {
            Check::Author(author, _) if author.user != user => {
                let id = path.split('/').nth(1).unwrap_or_default().to_owned();
                Err(RuleViolation::NotAsSelf { what, id })
            }
            _ => Ok(()),
        }
    }

    fn time(&self, value: &ScalarValue, path: &str) -> Result<(), RuleViolation> {
        let at = int(value).ok_or_else(|| invalid(path.to_owned(), "is not a time"))?;
        match self.check {
            Check::Author(_, now_ms) => rules::check_time(path.to_owned(), at, now_ms),
            Check::Relayed => Ok(()),
        }
    }
}

fn int(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int(n) => Some(*n),
        ScalarValue::Uint(n) => i64::try_from(*n).ok(),
        _ => None,
    }
}

fn code_key(name: &str, path: &str) -> Result<(), RuleViolation> {
    if is_code(name) { Ok(()) } else { Err(invalid(path.to_owned(), "the key is not a code")) }
}

fn count(value: &ScalarValue, path: &str) -> Result<(), RuleViolation> {
    match int(value).map(u32::try_from) {
        Some(Ok(n)) => rules::check_count(path.to_owned(), n),
        _ => Err(invalid(path.to_owned(), format!("must be between 0 and {MAX_COUNT}"))),
    }
}

fn boolean(value: &ScalarValue, path: &str) -> Result<(), RuleViolation> {
    match value {
        ScalarValue::Boolean(_) => Ok(()),
        _ => Err(invalid(path.to_owned(), "is not true or false")),
    }
}

fn text(value: &ScalarValue, required: bool, path: &str) -> Result<(), RuleViolation> {
    let ScalarValue::Str(s) = value else { return Err(invalid(path.to_owned(), "is not text")) };
    rules::check_text(path.to_owned(), s, required)
}
