//! `HamletLog`: the typed face of one hamlet's Automerge document, laid out as
//! `schema` says.
//!
//! Every write is one Automerge change under the replica's actor, checked
//! first against the same rules the server applies (`crate::rules`), so an honest
//! client never makes a change the server would refuse. Reads are tolerant: unknown
//! fields are ignored (a newer app may add some) and malformed entries are skipped with
//! a reason. Nothing here panics on any document.

use std::collections::BTreeMap;

use automerge::hydrate::{Map as HMap, Value as HValue};
use automerge::transaction::Transactable;
use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, PatchAction, ROOT, ReadDoc, ScalarValue, Value,
};

use crate::domain::{
    Author, Household, HouseholdForm, LogView, Outcome, Visit, VisitForm, WalkIn, WalkInForm,
};
use crate::ids::{HamletId, HouseholdId, VisitId, WalkInId};
use crate::rules::{self, RuleViolation};
use crate::schema::{Opener, SCHEMA_VERSION, key, read_household, read_visit, read_walkin, shown};
use crate::sealed::{self, HouseholdKey, Keyring, Sealed};

/// The actor of the genesis change. Every replica makes the same genesis change for a
/// hamlet, byte for byte, so logs created apart share their root objects and merge.
const GENESIS_ACTOR: [u8; 16] = [0; 16];
/// The op counters of the genesis change's `households` and `visits` maps (after
/// `schema` and `hamlet`): every log's root maps are these objects.
const GENESIS_HOUSEHOLDS_OP: u64 = 3;
const GENESIS_VISITS_OP: u64 = 4;
/// The op counter of a counter log's genesis `walkins` map (after `visits`).
const GENESIS_WALKINS_OP: u64 = 5;

/// What can go wrong with a hamlet log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The bytes are not an Automerge document.
    #[error("the hamlet log could not be read: {0}")]
    Corrupt(Box<automerge::AutomergeError>),
    /// The document is Automerge but not a hamlet log this code understands.
    #[error("this is not a hamlet log: {0}")]
    NotAHamletLog(&'static str),
    /// The write would break a rule; nothing was written.
    #[error(transparent)]
    Refused(#[from] RuleViolation),
    /// The household is not in this hamlet log.
    #[error("household {0} is not in this hamlet’s list")]
    UnknownHousehold(HouseholdId),
    /// The visit is not in this hamlet log.
    #[error("visit {0} is not in this hamlet log")]
    UnknownVisit(VisitId),
    /// The walk-in is not in this counter's log.
    #[error("walk-in {0} is not in this counter's log")]
    UnknownWalkIn(WalkInId),
    /// Walk-ins are logged at a counter, households and visits in a hamlet.
    #[error("{0}")]
    WrongPlace(&'static str),
    /// The household's personal data was erased: its label, head and notes cannot be
    /// written (a visit without a note still can).
    #[error("household {0}’s personal data was erased; its label, head and notes cannot be written")]
    Erased(HouseholdId),
}

impl From<automerge::AutomergeError> for LogError {
    fn from(e: automerge::AutomergeError) -> Self {
        LogError::Corrupt(Box::new(e))
    }
}

/// An entry that could not be read, and why. Returned beside the entries that could.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entry's key in its map.
    pub key: String,
    /// Why it could not be read.
    pub reason: String,
}

/// The readable entries of one map of the log, and the ones that were skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entries<K: Ord, T> {
    /// Entries that follow the schema.
    pub ok: BTreeMap<K, T>,
    /// Entries that do not, with the reason.
    pub skipped: Vec<Skipped>,
}

/// One hamlet's log of households and visits, or one one-stop counter's log of
/// walk-ins (`is_counter`).
#[derive(Debug, Clone)]
pub struct HamletLog {
    doc: Automerge,
    /// The hamlet this log is of (its genesis `hamlet`): part of every sealed field's
    /// associated data.
    hamlet: HamletId,
    households: ObjId,
    visits: ObjId,
    /// A counter's genesis `walkins` map; `None` in a hamlet's log.
    walkins: Option<ObjId>,
    /// Which of the hamlet's successive logs this is: 0 for the first, one more at
    /// every rollover (`successor`). Written by the genesis change, so the logs of two
    /// generations never share a change and never merge.
    generation: u64,
    /// The keys of its households this replica holds (never in the document).
    keys: Keyring,
}

impl HamletLog {
    /// The log of a hamlet as it starts: the same genesis change on every replica.
    pub fn genesis(hamlet: &HamletId) -> Self {
        Self::genesis_of(hamlet, false)
    }

    /// The log of a one-stop counter as it starts: a hamlet's genesis and a `walkins`
    /// map, the same on every replica.
    pub fn counter_genesis(counter: &HamletId) -> Self {
        Self::genesis_of(counter, true)
    }

    /// A hamlet's (`counter` false) or a counter's genesis.
    pub fn genesis_of(hamlet: &HamletId, counter: bool) -> Self {
        Self::genesis_at(hamlet, counter, 0)
    }

    /// The genesis of a hamlet's (or counter's) log of `generation`: generation 0 is
    /// the first log's, byte for byte as it always was; a successor's genesis ends
    /// with `generation` = n, so its changes are its own.
    pub fn genesis_at(hamlet: &HamletId, counter: bool, generation: u64) -> Self {
        let mut doc = Automerge::new().with_actor(ActorId::from(GENESIS_ACTOR.as_slice()));
        let mut tx = doc.transaction();
        // Writes into a fresh transaction on a fresh document cannot fail: they touch
        // nothing that exists. (This is no input from anyone; the never-panic rule is
        // about documents received.)
        #[allow(clippy::expect_used)]
        let (households, visits, walkins) = {
            tx.put(ROOT, key::SCHEMA, SCHEMA_VERSION).expect("fresh document");
            tx.put(ROOT, key::HAMLET, hamlet.as_str()).expect("fresh document");
            let households = tx.put_object(ROOT, key::HOUSEHOLDS, ObjType::Map).expect("fresh document");
            let visits = tx.put_object(ROOT, key::VISITS, ObjType::Map).expect("fresh document");
            let walkins =
                counter.then(|| tx.put_object(ROOT, key::WALKINS, ObjType::Map).expect("fresh document"));
            if generation > 0 {
                tx.put(ROOT, key::GENERATION, generation).expect("fresh document");
            }
            (households, visits, walkins)
        };
        tx.commit();
        // Devices write under their own actor; an unused random one is harmless, and
        // callers set the real one with `set_actor`.
        doc.set_actor(ActorId::random());
        Self {
            doc,
            hamlet: hamlet.clone(),
            households,
            visits,
            walkins,
            generation,
            keys: Keyring::default(),
        }
    }

    /// Wraps a document, checking that its root has the hamlet-log shape.
    pub fn from_automerge(doc: Automerge) -> Result<Self, LogError> {
        match doc.get(ROOT, key::SCHEMA)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Int(v) if *v == SCHEMA_VERSION => {}
                ScalarValue::Uint(v) if *v == SCHEMA_VERSION as u64 => {}
                ScalarValue::Int(v) if *v < SCHEMA_VERSION => {
                    return Err(LogError::NotAHamletLog(
                        "it was written before households' personal data was sealed (schema 1); it cannot be read",
                    ));
                }
                ScalarValue::Int(_) | ScalarValue::Uint(_) => {
                    return Err(LogError::NotAHamletLog(
                        "it was written by a newer version of Từng Nhà; update the app",
                    ));
                }
                _ => return Err(LogError::NotAHamletLog("its schema version is not a number")),
            },
            _ => return Err(LogError::NotAHamletLog("it has no schema version")),
        }
        let hamlet = match doc.get(ROOT, key::HAMLET)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Str(id) => HamletId::parse(id).ok(),
                _ => None,
            },
            _ => None,
        }
        .ok_or(LogError::NotAHamletLog("it names no valid hamlet"))?;
        let households = map_at(&doc, &ROOT, key::HOUSEHOLDS, None)
            .ok_or(LogError::NotAHamletLog("it has no households map"))?;
        let visits =
            map_at(&doc, &ROOT, key::VISITS, None).ok_or(LogError::NotAHamletLog("it has no visits map"))?;
        // The root maps are the genesis change's own: a rival map put at the same key
        // (and winning the conflict) would hide every household behind one of its own.
        let genesis = ActorId::from(GENESIS_ACTOR.as_slice());
        let is_genesis =
            |obj: &ObjId, counter: u64| matches!(obj, ObjId::Id(c, a, _) if *c == counter && *a == genesis);
        if !is_genesis(&households, GENESIS_HOUSEHOLDS_OP) || !is_genesis(&visits, GENESIS_VISITS_OP) {
            return Err(LogError::NotAHamletLog("its households or visits map is not the genesis one"));
        }
        // A counter's log: its genesis made the walk-ins map with the others.
        let walkins = match doc.get(ROOT, key::WALKINS)? {
            None => None,
            Some(_) => match map_at(&doc, &ROOT, key::WALKINS, None) {
                Some(w) if is_genesis(&w, GENESIS_WALKINS_OP) => Some(w),
                _ => return Err(LogError::NotAHamletLog("its walk-ins map is not the genesis one")),
            },
        };
        // A successor's generation, written by its genesis change (devices cannot
        // write on the root: `check`).
        let generation = match doc.get(ROOT, key::GENERATION)? {
            None => 0,
            Some((Value::Scalar(s), id)) => match (s.as_ref(), &id) {
                (ScalarValue::Uint(n), ObjId::Id(_, a, _)) if *n > 0 && *a == genesis => *n,
                _ => return Err(LogError::NotAHamletLog("its generation is not its genesis's number")),
            },
            Some(_) => return Err(LogError::NotAHamletLog("its generation is not a number")),
        };
        Ok(Self { doc, hamlet, households, visits, walkins, generation, keys: Keyring::default() })
    }

    /// Which of its hamlet's successive logs this is (0: the first).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The log that succeeds this one at a rollover (the end of a campaign, or a
    /// compaction): a genesis of the next generation and one change under `actor` that
    /// lists every household as it is now, field for field (sealed values as they are:
    /// their associated data names the hamlet and household, not the log), with this
    /// log's keys. Visits and walk-ins stay behind, in this log, except those made at
    /// or after `keep_since` (a compaction during a campaign keeps the campaign's).
    pub fn successor(&self, actor: ActorId, keep_since: Option<i64>) -> Result<HamletLog, LogError> {
        let mut next = Self::genesis_at(&self.hamlet, self.is_counter(), self.generation + 1);
        next.set_actor(actor);
        let entries = |map: &ObjId, keep: &dyn Fn(&str) -> bool| -> Vec<(String, ObjId)> {
            self.doc
                .keys(map)
                .filter(|id| keep(id))
                .filter_map(|id| match self.doc.get(map, id.as_str()) {
                    Ok(Some((Value::Object(ObjType::Map), obj))) => Some((id, obj)),
                    _ => None,
                })
                .collect()
        };
        let mut copied = vec![(next.households.clone(), entries(&self.households, &|_| true))];
        if let Some(since) = keep_since {
            let visits = self.visits().ok;
            let kept = |id: &str| {
                VisitId::parse(id).ok().and_then(|v| visits.get(&v)).is_some_and(|v| v.at >= since)
            };
            copied.push((next.visits.clone(), entries(&self.visits, &kept)));
            if let (Some(from), Some(to)) = (&self.walkins, &next.walkins) {
                let walkins = self.walkins().ok;
                let kept = |id: &str| {
                    WalkInId::parse(id).ok().and_then(|w| walkins.get(&w)).is_some_and(|w| w.at >= since)
                };
                copied.push((to.clone(), entries(from, &kept)));
            }
        }
        if copied.iter().any(|(_, entries)| !entries.is_empty()) {
            let mut tx = next.doc.transaction();
            for (target, entries) in &copied {
                for (id, obj) in entries {
                    let to = tx.put_object(target, id.as_str(), ObjType::Map)?;
                    copy_map(&self.doc, obj, &mut tx, &to)?;
                }
            }
            tx.commit();
        }
        Ok(next.with_keys(self.keys.clone()))
    }

    /// Carries the changes `old` (this log's predecessor) holds after `since` onto
    /// this log, as new changes under this replica's actor with the same ids: what a
    /// device wrote on the old log and the server never confirmed. Only what differs
    /// is written: an entry the successor has already is not made again, and a field
    /// that already holds the value is not written (an immutable field is written once).
    /// Returns whether anything was written.
    pub fn carry_over(&mut self, old: &HamletLog, since: &[ChangeHash]) -> Result<bool, LogError> {
        let since: Vec<ChangeHash> =
            since.iter().filter(|h| old.doc.get_change_meta_by_hash(h).is_some()).copied().collect();
        let mut patches = old.doc.diff(&since, &old.doc.get_heads());
        // Parents before children: an entry exists before its fields are written.
        patches.sort_by_key(|p| p.path.len());
        let mut tx = self.doc.transaction();
        let mut wrote = false;
        'patch: for patch in patches {
            // Nothing on the root: only inside the households, visits or walk-ins maps.
            if patch.path.is_empty() {
                continue;
            }
            let mut obj = ROOT;
            for (_, prop) in &patch.path {
                obj = match tx.get(&obj, prop.clone())? {
                    Some((Value::Object(_), id)) => id,
                    _ => continue 'patch,
                };
            }
            let present = |key: &str| tx.get(&obj, key).map(|v| v.map(|(value, _)| value));
            match patch.action {
                PatchAction::PutMap { key, value: (Value::Object(kind), _), .. }
                    if present(&key)?.is_none() =>
                {
                    tx.put_object(&obj, key, kind)?;
                    wrote = true;
                }
                PatchAction::PutMap { key, value: (Value::Scalar(s), _), .. } if !matches!(present(&key)?, Some(Value::Scalar(now)) if now == s) =>
                {
                    tx.put(&obj, key, s.into_owned())?;
                    wrote = true;
                }
                PatchAction::DeleteMap { key } if present(&key)?.is_some() => {
                    tx.delete(&obj, key)?;
                    wrote = true;
                }
                _ => {}
            }
        }
        if wrote {
            tx.commit();
        } else {
            tx.rollback();
        }
        Ok(wrote)
    }

    /// The hamlet (or counter) this log is of.
    pub fn hamlet(&self) -> &HamletId {
        &self.hamlet
    }

    /// The household keys this replica holds for this log.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The household keys, to take in what a sync or the store brings.
    pub fn keys_mut(&mut self) -> &mut Keyring {
        &mut self.keys
    }

    /// This log holding `keys`.
    pub fn with_keys(mut self, keys: Keyring) -> Self {
        self.keys = keys;
        self
    }

    fn opener(&self) -> Opener<'_> {
        Opener { hamlet: &self.hamlet, keys: &self.keys }
    }

    /// Whether this is a one-stop counter's log (walk-ins), not a hamlet's.
    pub fn is_counter(&self) -> bool {
        self.walkins.is_some()
    }

    /// The genesis `walkins` map of a counter's log.
    pub(crate) fn walkins_obj(&self) -> Option<&ObjId> {
        self.walkins.as_ref()
    }

    /// Loads a log from saved bytes (a snapshot, optionally followed by changes).
    pub fn load(bytes: &[u8]) -> Result<Self, LogError> {
        Self::from_automerge(Automerge::load(bytes)?)
    }

    /// Loads a log from stored chunks, in order: a snapshot, then saved changes.
    pub fn load_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, LogError> {
        let mut doc = Automerge::new();
        for chunk in chunks {
            doc.load_incremental(chunk)?;
        }
        Self::from_automerge(doc)
    }

    /// The underlying document, for sync and storage.
    pub fn doc(&self) -> &Automerge {
        &self.doc
    }

    /// The genesis `households` map.
    pub(crate) fn households_obj(&self) -> &ObjId {
        &self.households
    }

    /// The genesis `visits` map.
    pub(crate) fn visits_obj(&self) -> &ObjId {
        &self.visits
    }

    /// The underlying document, mutably, for applying received changes.
    pub(crate) fn doc_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    /// Replaces the underlying document (after a squash); the root objects are the
    /// genesis ones in both, so the cached object ids stay valid.
    pub(crate) fn replace_doc(&mut self, doc: Automerge) -> Result<(), LogError> {
        let keys = std::mem::take(&mut self.keys);
        *self = Self::from_automerge(doc)?.with_keys(keys);
        Ok(())
    }

    /// Sets the actor this replica writes under (the server assigns it at enrolment).
    pub fn set_actor(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    /// The document's current heads.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Saves the whole log compactly.
    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    // ---- reads ----

    /// Every household, as of now.
    pub fn households(&self) -> Entries<HouseholdId, Household> {
        let o = self.opener();
        self.read_map(&self.households, None, |id: &HouseholdId, m| read_household(id, m, o))
    }

    /// Every visit, as of now.
    pub fn visits(&self) -> Entries<VisitId, Visit> {
        let o = self.opener();
        self.read_map(&self.visits, None, |id: &VisitId, m| read_visit(id, m, o))
    }

    /// Every walk-in, as of now (none in a hamlet's log).
    pub fn walkins(&self) -> Entries<WalkInId, WalkIn> {
        match &self.walkins {
            Some(w) => self.read_map(w, None, |_: &WalkInId, m| read_walkin(m)),
            None => Entries { ok: BTreeMap::new(), skipped: Vec::new() },
        }
    }

    /// One walk-in as of `heads` (`None`: now); `None` if it is not there.
    pub fn walkin_at(&self, id: &WalkInId, heads: Option<&[ChangeHash]>) -> Option<Result<WalkIn, String>> {
        let map = self.walkins.as_ref()?;
        Some(self.entry_at(map, id.as_str(), heads)?.and_then(|m| read_walkin(&m)))
    }

    /// Whether a key exists in the walk-ins map (readable or not), as of `heads`.
    pub(crate) fn has_walkin_key(&self, id: &str, heads: Option<&[ChangeHash]>) -> bool {
        self.walkins.as_ref().is_some_and(|w| View { doc: &self.doc, heads }.get(w, id).is_some())
    }

    /// One household as of `heads` (`None`: now); `Ok(None)` if it is not there.
    pub fn household_at(
        &self,
        id: &HouseholdId,
        heads: Option<&[ChangeHash]>,
    ) -> Option<Result<Household, String>> {
        Some(
            self.entry_at(&self.households, id.as_str(), heads)?
                .and_then(|m| read_household(id, &m, self.opener())),
        )
    }

    /// One visit as of `heads` (`None`: now); `None` if it is not there.
    pub fn visit_at(&self, id: &VisitId, heads: Option<&[ChangeHash]>) -> Option<Result<Visit, String>> {
        Some(self.entry_at(&self.visits, id.as_str(), heads)?.and_then(|m| read_visit(id, &m, self.opener())))
    }

    /// The household a visit in the log is to (its immutable `household`), read alone.
    pub(crate) fn visit_household(&self, id: &VisitId) -> Option<HouseholdId> {
        let obj = map_at(&self.doc, &self.visits, id.as_str(), None)?;
        match self.doc.get(&obj, key::HOUSEHOLD).ok()?? {
            (Value::Scalar(s), _) => match s.as_ref() {
                ScalarValue::Str(h) => HouseholdId::parse(h).ok(),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a key exists in the households map (readable or not), as of `heads`.
    pub(crate) fn has_household_key(&self, id: &str, heads: Option<&[ChangeHash]>) -> bool {
        View { doc: &self.doc, heads }.get(&self.households, id).is_some()
    }

    /// Whether a key exists in the visits map (readable or not), as of `heads`.
    pub(crate) fn has_visit_key(&self, id: &str, heads: Option<&[ChangeHash]>) -> bool {
        View { doc: &self.doc, heads }.get(&self.visits, id).is_some()
    }

    /// Reads every entry of one of the root maps. The map is hydrated in one pass,
    /// which costs far less than reading field by field on a big log.
    fn read_map<K, T>(
        &self,
        map: &ObjId,
        heads: Option<&[ChangeHash]>,
        read: impl Fn(&K, &HMap) -> Result<T, String>,
    ) -> Entries<K, T>
    where
        K: Ord + TryFrom<String>,
    {
        let mut ok = BTreeMap::new();
        let mut skipped = Vec::new();
        let Ok(HValue::Map(entries)) = ReadDoc::hydrate(&self.doc, map, heads) else {
            return Entries { ok, skipped };
        };
        for (name, entry) in entries.iter() {
            let Ok(id) = K::try_from(name.clone()) else {
                skipped.push(Skipped { key: shown(name), reason: "its key is not a valid id".into() });
                continue;
            };
            let parsed = match &entry.value {
                HValue::Map(fields) => read(&id, fields),
                _ => Err("it is not a map".to_owned()),
            };
            match parsed {
                Ok(entry) => {
                    ok.insert(id, entry);
                }
                Err(reason) => skipped.push(Skipped { key: shown(name), reason }),
            }
        }
        skipped.sort_by(|a, b| a.key.cmp(&b.key));
        Entries { ok, skipped }
    }

    /// Hydrates one entry of a root map as of `heads`; `None` if it is not there.
    fn entry_at(&self, map: &ObjId, id: &str, heads: Option<&[ChangeHash]>) -> Option<Result<HMap, String>> {
        let obj = map_at(&self.doc, map, id, heads);
        if obj.is_none() {
            // Present but not a map is malformed; absent is absent.
            return (View { doc: &self.doc, heads }).get(map, id).map(|_| Err("it is not a map".to_owned()));
        }
        match ReadDoc::hydrate(&self.doc, obj?, heads) {
            Ok(HValue::Map(fields)) => Some(Ok(fields)),
            Ok(_) => Some(Err("it is not a map".to_owned())),
            Err(e) => Some(Err(e.to_string())),
        }
    }

    // ---- writes ----

    /// Lists a household the team found missing; returns its new id. At most
    /// `Role::households_per_day` a day per author: the server counts what arrives per
    /// day of receipt, and the device counts what it listed today, so an honest phone
    /// is stopped here first, with a reason.
    pub fn add_household(
        &mut self,
        author: &Author,
        form: &HouseholdForm,
        now_ms: i64,
    ) -> Result<HouseholdId, LogError> {
        let today = crate::domain::vn_day(now_ms);
        let limit = author.role.households_per_day();
        let listed = self
            .households()
            .ok
            .values()
            .filter(|h| h.created_by == author.user && crate::domain::vn_day(h.created_at) == today)
            .count() as u64;
        if listed >= limit {
            return Err(LogError::Refused(RuleViolation::TooManyHouseholds { limit }));
        }
        let mut ids = self.list_households(author, std::slice::from_ref(form), now_ms)?;
        ids.pop().ok_or(LogError::NotAHamletLog("no household was listed"))
    }

    /// Lists many households in one change, with no daily bound: an official's import
    /// of a hamlet's list, which goes through the command line, not a device's sync.
    pub fn import_households(
        &mut self,
        author: &Author,
        forms: &[HouseholdForm],
        now_ms: i64,
    ) -> Result<Vec<HouseholdId>, LogError> {
        self.list_households(author, forms, now_ms)
    }

    fn list_households(
        &mut self,
        author: &Author,
        forms: &[HouseholdForm],
        now_ms: i64,
    ) -> Result<Vec<HouseholdId>, LogError> {
        if self.is_counter() {
            return Err(LogError::WrongPlace("households are listed in a hamlet, not at a counter"));
        }
        let mut listed = Vec::with_capacity(forms.len());
        for form in forms {
            let id = HouseholdId::fresh();
            let household = Household {
                label: form.label.trim().to_owned(),
                head: clean_opt(&form.head),
                members: form.members,
                created_by: author.user.clone(),
                created_at: now_ms,
                retired: false,
                merged_into: None,
                erased: false,
            };
            rules::check_household_created(author, &id, &household, now_ms)?;
            listed.push((id, household, HouseholdKey::fresh()));
        }
        let households = self.households.clone();
        let hamlet = self.hamlet.clone();
        let mut tx = self.doc.transaction();
        for (id, household, k) in &listed {
            let seal = |what, text: &str| ScalarValue::Bytes(sealed::seal(k, &hamlet, id, what, text));
            let obj = tx.put_object(&households, id.as_str(), ObjType::Map)?;
            tx.put(&obj, key::LABEL, seal(Sealed::Label, &household.label))?;
            if let Some(head) = &household.head {
                tx.put(&obj, key::HEAD, seal(Sealed::Head, head))?;
            }
            if let Some(members) = household.members {
                tx.put(&obj, key::MEMBERS, i64::from(members))?;
            }
            tx.put(&obj, key::CREATED_BY, household.created_by.as_str())?;
            tx.put(&obj, key::CREATED_AT, household.created_at)?;
            tx.put(&obj, key::RETIRED, false)?;
        }
        tx.commit();
        // Held before anything of the change is sent or stored with it.
        Ok(listed
            .into_iter()
            .map(|(id, _, k)| {
                self.keys.insert_new(id.clone(), k);
                id
            })
            .collect())
    }

    /// The key of a household whose personal fields are being written, or why not.
    fn key_to_write(&self, household: &HouseholdId) -> Result<HouseholdKey, LogError> {
        self.keys.key(household).cloned().ok_or_else(|| LogError::Erased(household.clone()))
    }

    /// Corrects a household's label, head or member count.
    pub fn edit_household(
        &mut self,
        author: &Author,
        id: &HouseholdId,
        form: &HouseholdForm,
    ) -> Result<(), LogError> {
        let before = self.existing_household(id)?;
        let after = Household {
            label: form.label.trim().to_owned(),
            head: clean_opt(&form.head),
            members: form.members,
            ..before.clone()
        };
        self.write_household(author, id, &before, &after)
    }

    /// Merges a household listed twice into the entry that stays: it is retired, and its
    /// visits count towards `into`'s status from then on. A leader's decision.
    pub fn merge_household(
        &mut self,
        author: &Author,
        id: &HouseholdId,
        into: &HouseholdId,
    ) -> Result<(), LogError> {
        let before = self.existing_household(id)?;
        let target = self.existing_household(into)?;
        if id == into || target.retired || target.merged_into.is_some() {
            return Err(LogError::Refused(RuleViolation::InvalidValue {
                path: format!("households/{id}/{}", key::MERGED_INTO),
                reason: "must name another household still on the list".into(),
            }));
        }
        let after = Household { retired: true, merged_into: Some(into.clone()), ..before.clone() };
        self.write_household(author, id, &before, &after)
    }

    /// Retires a household: a duplicate, or a house that no longer exists.
    pub fn retire_household(&mut self, author: &Author, id: &HouseholdId) -> Result<(), LogError> {
        let before = self.existing_household(id)?;
        let after = Household { retired: true, ..before.clone() };
        self.write_household(author, id, &before, &after)
    }

    /// Logs a visit to a listed household; returns the visit's new id.
    pub fn log_visit(
        &mut self,
        author: &Author,
        household: &HouseholdId,
        outcome: Outcome,
        form: &VisitForm,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<VisitId, LogError> {
        if self.is_counter() {
            return Err(LogError::WrongPlace("visits are logged in a hamlet; log a walk-in at a counter"));
        }
        self.existing_household(household)?;
        let id = VisitId::fresh();
        let visit = Visit {
            household: household.clone(),
            by: author.user.clone(),
            at: at_ms,
            outcome,
            topics: sorted_unique(&form.topics),
            accounts: form.accounts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect(),
            people: form.people,
            filed: form.filed,
            note: clean_opt(&form.note),
            voided: false,
        };
        // Listed: `existing_household` said so above.
        rules::check_visit_created(author, &id, &visit, true, now_ms)?;
        let note = match &visit.note {
            Some(note) => {
                let k = self.key_to_write(household)?;
                Some(ScalarValue::Bytes(sealed::seal(&k, &self.hamlet, household, Sealed::Note(&id), note)))
            }
            None => None,
        };
        let visits = self.visits.clone();
        let mut tx = self.doc.transaction();
        let obj = tx.put_object(&visits, id.as_str(), ObjType::Map)?;
        tx.put(&obj, key::HOUSEHOLD, visit.household.as_str())?;
        tx.put(&obj, key::BY, visit.by.as_str())?;
        tx.put(&obj, key::AT, visit.at)?;
        tx.put(&obj, key::OUTCOME, visit.outcome.code())?;
        let topics = tx.put_object(&obj, key::TOPICS, ObjType::Map)?;
        for t in &visit.topics {
            tx.put(&topics, t.as_str(), true)?;
        }
        let accounts = tx.put_object(&obj, key::ACCOUNTS, ObjType::Map)?;
        for (k, n) in &visit.accounts {
            tx.put(&accounts, k.as_str(), i64::from(*n))?;
        }
        tx.put(&obj, key::PEOPLE, i64::from(visit.people))?;
        if visit.filed > 0 {
            tx.put(&obj, key::FILED, i64::from(visit.filed))?;
        }
        if let Some(note) = note {
            tx.put(&obj, key::NOTE, note)?;
        }
        tx.put(&obj, key::VOIDED, false)?;
        tx.commit();
        Ok(id)
    }

    /// Corrects a visit's outcome and details; only fields that change are written.
    pub fn correct_visit(
        &mut self,
        author: &Author,
        id: &VisitId,
        outcome: Outcome,
        form: &VisitForm,
        now_ms: i64,
    ) -> Result<(), LogError> {
        let before = self.existing_visit(id)?;
        let after = Visit {
            outcome,
            topics: sorted_unique(&form.topics),
            accounts: form.accounts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect(),
            people: form.people,
            filed: form.filed,
            note: clean_opt(&form.note),
            ..before.clone()
        };
        self.write_visit(author, id, &before, &after, now_ms)
    }

    /// Voids a visit logged by mistake. A volunteer voids their own; a leader any.
    pub fn void_visit(&mut self, author: &Author, id: &VisitId, now_ms: i64) -> Result<(), LogError> {
        let before = self.existing_visit(id)?;
        let after = Visit { voided: true, ..before.clone() };
        self.write_visit(author, id, &before, &after, now_ms)
    }

    /// Logs someone helped at this counter; returns the walk-in's new id.
    pub fn log_walkin(
        &mut self,
        author: &Author,
        form: &WalkInForm,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<WalkInId, LogError> {
        let walkins = self.walkins.clone().ok_or(LogError::WrongPlace("walk-ins are logged at a counter"))?;
        let id = WalkInId::fresh();
        let walkin = WalkIn {
            by: author.user.clone(),
            at: at_ms,
            people: form.people,
            topics: sorted_unique(&form.topics),
            accounts: form.accounts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect(),
            filed: form.filed,
            note: clean_opt(&form.note),
            voided: false,
        };
        rules::check_walkin_created(author, &id, &walkin, now_ms)?;
        let mut tx = self.doc.transaction();
        let obj = tx.put_object(&walkins, id.as_str(), ObjType::Map)?;
        tx.put(&obj, key::BY, walkin.by.as_str())?;
        tx.put(&obj, key::AT, walkin.at)?;
        tx.put(&obj, key::PEOPLE, i64::from(walkin.people))?;
        let topics = tx.put_object(&obj, key::TOPICS, ObjType::Map)?;
        for t in &walkin.topics {
            tx.put(&topics, t.as_str(), true)?;
        }
        let accounts = tx.put_object(&obj, key::ACCOUNTS, ObjType::Map)?;
        for (k, n) in &walkin.accounts {
            tx.put(&accounts, k.as_str(), i64::from(*n))?;
        }
        if walkin.filed > 0 {
            tx.put(&obj, key::FILED, i64::from(walkin.filed))?;
        }
        if let Some(note) = &walkin.note {
            tx.put(&obj, key::NOTE, note.as_str())?;
        }
        tx.put(&obj, key::VOIDED, false)?;
        tx.commit();
        Ok(id)
    }

    /// Voids a walk-in logged by mistake. A volunteer voids their own; a leader any.
    pub fn void_walkin(&mut self, author: &Author, id: &WalkInId, now_ms: i64) -> Result<(), LogError> {
        let before = match self.walkin_at(id, None) {
            Some(Ok(w)) => w,
            _ => return Err(LogError::UnknownWalkIn(id.clone())),
        };
        let after = WalkIn { voided: true, ..before.clone() };
        rules::check_walkin_edited(author, id, &before, &after, now_ms)?;
        if before.voided {
            return Ok(());
        }
        let obj = self
            .walkins
            .as_ref()
            .and_then(|w| map_at(&self.doc, w, id.as_str(), None))
            .ok_or_else(|| LogError::UnknownWalkIn(id.clone()))?;
        let mut tx = self.doc.transaction();
        tx.put(&obj, key::VOIDED, true)?;
        tx.commit();
        Ok(())
    }

    fn existing_household(&self, id: &HouseholdId) -> Result<Household, LogError> {
        match self.household_at(id, None) {
            Some(Ok(h)) => Ok(h),
            _ => Err(LogError::UnknownHousehold(id.clone())),
        }
    }

    fn existing_visit(&self, id: &VisitId) -> Result<Visit, LogError> {
        match self.visit_at(id, None) {
            Some(Ok(v)) => Ok(v),
            _ => Err(LogError::UnknownVisit(id.clone())),
        }
    }

    fn write_household(
        &mut self,
        author: &Author,
        id: &HouseholdId,
        before: &Household,
        after: &Household,
    ) -> Result<(), LogError> {
        rules::check_household_edited(author, id, before, after)?;
        if before == after {
            return Ok(());
        }
        let obj = map_at(&self.doc, &self.households, id.as_str(), None)
            .ok_or_else(|| LogError::UnknownHousehold(id.clone()))?;
        let personal = before.label != after.label || before.head != after.head;
        let k = if personal { Some(self.key_to_write(id)?) } else { None };
        let hamlet = &self.hamlet;
        let seal = |what, text: &str| k.as_ref().map(|k| sealed::seal(k, hamlet, id, what, text));
        let mut tx = self.doc.transaction();
        if before.label != after.label
            && let Some(b) = seal(Sealed::Label, &after.label)
        {
            tx.put(&obj, key::LABEL, ScalarValue::Bytes(b))?;
        }
        if before.head != after.head {
            match after.head.as_deref().and_then(|h| seal(Sealed::Head, h)) {
                Some(b) => tx.put(&obj, key::HEAD, ScalarValue::Bytes(b))?,
                None => tx.delete(&obj, key::HEAD)?,
            }
        }
        if before.members != after.members {
            match after.members {
                Some(m) => tx.put(&obj, key::MEMBERS, i64::from(m))?,
                None => tx.delete(&obj, key::MEMBERS)?,
            }
        }
        if before.retired != after.retired {
            tx.put(&obj, key::RETIRED, after.retired)?;
        }
        if let (None, Some(into)) = (&before.merged_into, &after.merged_into) {
            tx.put(&obj, key::MERGED_INTO, into.as_str())?;
        }
        tx.commit();
        Ok(())
    }

    fn write_visit(
        &mut self,
        author: &Author,
        id: &VisitId,
        before: &Visit,
        after: &Visit,
        now_ms: i64,
    ) -> Result<(), LogError> {
        rules::check_visit_edited(author, id, before, after, now_ms)?;
        if before == after {
            return Ok(());
        }
        let obj = map_at(&self.doc, &self.visits, id.as_str(), None)
            .ok_or_else(|| LogError::UnknownVisit(id.clone()))?;
        let note = match (&after.note, before.note != after.note) {
            (Some(note), true) => {
                let k = self.key_to_write(&after.household)?;
                Some(ScalarValue::Bytes(sealed::seal(
                    &k,
                    &self.hamlet,
                    &after.household,
                    Sealed::Note(id),
                    note,
                )))
            }
            _ => None,
        };
        let topics = map_at(&self.doc, &obj, key::TOPICS, None);
        let accounts = map_at(&self.doc, &obj, key::ACCOUNTS, None);
        let mut tx = self.doc.transaction();
        if before.outcome != after.outcome {
            tx.put(&obj, key::OUTCOME, after.outcome.code())?;
        }
        if before.topics != after.topics {
            let topics = match topics {
                Some(t) => t,
                None => tx.put_object(&obj, key::TOPICS, ObjType::Map)?,
            };
            for t in before.topics.iter().filter(|t| !after.topics.contains(t)) {
                tx.delete(&topics, t.as_str())?;
            }
            for t in after.topics.iter().filter(|t| !before.topics.contains(t)) {
                tx.put(&topics, t.as_str(), true)?;
            }
        }
        if before.accounts != after.accounts {
            let accounts = match accounts {
                Some(a) => a,
                None => tx.put_object(&obj, key::ACCOUNTS, ObjType::Map)?,
            };
            for k in before.accounts.keys().filter(|k| !after.accounts.contains_key(*k)) {
                tx.delete(&accounts, k.as_str())?;
            }
            for (k, n) in after.accounts.iter().filter(|(k, n)| before.accounts.get(*k) != Some(n)) {
                tx.put(&accounts, k.as_str(), i64::from(*n))?;
            }
        }
        if before.people != after.people {
            tx.put(&obj, key::PEOPLE, i64::from(after.people))?;
        }
        if before.filed != after.filed {
            match after.filed {
                0 => tx.delete(&obj, key::FILED)?,
                n => tx.put(&obj, key::FILED, i64::from(n))?,
            }
        }
        if before.note != after.note {
            match note {
                Some(b) => tx.put(&obj, key::NOTE, b)?,
                None => tx.delete(&obj, key::NOTE)?,
            }
        }
        if before.voided != after.voided {
            tx.put(&obj, key::VOIDED, after.voided)?;
        }
        tx.commit();
        Ok(())
    }
}

fn clean_opt(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn sorted_unique(codes: &[String]) -> Vec<String> {
    let mut v = codes.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

// ---- reading helpers: a document seen as of some heads ----

/// A document as of some heads (`None`: its current state).
pub(crate) struct View<'a> {
    pub(crate) doc: &'a Automerge,
    pub(crate) heads: Option<&'a [ChangeHash]>,
}

impl View<'_> {
    pub(crate) fn get(&self, obj: &ObjId, prop: &str) -> Option<(Value<'static>, ObjId)> {
        let got = match self.heads {
            Some(h) => self.doc.get_at(obj, prop, h),
            None => self.doc.get(obj, prop),
        };
        got.ok().flatten().map(|(v, id)| (v.into_owned(), id))
    }
}

/// Copies the map `from` of `doc` into the map `to` a transaction writes: scalars as
/// they are, maps inside it likewise (what a successor's households are made of).
fn copy_map(
    doc: &Automerge,
    from: &ObjId,
    tx: &mut automerge::transaction::Transaction<'_>,
    to: &ObjId,
) -> Result<(), automerge::AutomergeError> {
    for key in doc.keys(from) {
        match doc.get(from, key.as_str())? {
            Some((Value::Scalar(s), _)) => {
                tx.put(to, key.as_str(), s.into_owned())?;
            }
            Some((Value::Object(ObjType::Map), inner)) => {
                let child = tx.put_object(to, key.as_str(), ObjType::Map)?;
                copy_map(doc, &inner, tx, &child)?;
            }
            // The schema has no other objects in an entry (`check` refuses them).
            Some((Value::Object(_), _)) | None => {}
        }
    }
    Ok(())
}

fn map_at(doc: &Automerge, obj: &ObjId, prop: &str, heads: Option<&[ChangeHash]>) -> Option<ObjId> {
    match (View { doc, heads }).get(obj, prop)? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

impl LogView for HamletLog {
    fn all_households(&self) -> BTreeMap<HouseholdId, Household> {
        self.households().ok
    }

    fn all_visits(&self) -> BTreeMap<VisitId, Visit> {
        self.visits().ok
    }

    fn household(&self, id: &HouseholdId) -> Option<Household> {
        self.household_at(id, None).and_then(Result::ok)
    }

    fn visit(&self, id: &VisitId) -> Option<Visit> {
        self.visit_at(id, None).and_then(Result::ok)
    }

    fn all_walkins(&self) -> BTreeMap<WalkInId, WalkIn> {
        self.walkins().ok
    }

    fn walkin(&self, id: &WalkInId) -> Option<WalkIn> {
        self.walkin_at(id, None).and_then(Result::ok)
    }
}
