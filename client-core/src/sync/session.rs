//! The sync session: what to send, what to accept, and how to fold in the answer.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, Change, ChangeHash, PatchLog, ReadDoc};

use super::chunk::{self, ChangeBudget, ChunkRefusal};
use super::envelope::{DocMessage, Envelope, EnvelopeError, KeyMessage, Payload};
use crate::check::{self, Check};
use crate::domain::Author;
use crate::ids::HamletId;
use crate::judge::{self, BeforeEntries, Touched};
use crate::log::{HamletLog, LogError};
use crate::rules::RuleViolation;
use crate::sealed::{KeyEntry, Keyring};

/// Why a sync exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The envelope itself could not be read.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A change chunk could not be read.
    #[error("a change for hamlet {doc} is damaged: {reason}")]
    BadChange {
        /// The document.
        doc: HamletId,
        /// Why.
        reason: String,
    },
    /// A change was made under an actor this device was not given.
    #[error("a change for hamlet {doc} was made under actor {actor}, not this device’s")]
    ForeignActor {
        /// The document.
        doc: HamletId,
        /// The actor found.
        actor: String,
    },
    /// Changes depend on changes the receiver does not have; resend from its heads.
    #[error("changes for hamlet {doc} depend on changes the other side lacks; sync again")]
    MissingDeps {
        /// The document.
        doc: HamletId,
    },
    /// The merged result breaks a rule.
    #[error("hamlet {doc}: {violation}")]
    Refused {
        /// The document.
        doc: HamletId,
        /// The rule.
        violation: RuleViolation,
    },
    /// A snapshot or merged document is not a readable hamlet log.
    #[error("hamlet {doc}: {source}")]
    Log {
        /// The document.
        doc: HamletId,
        /// What is wrong.
        source: Box<LogError>,
    },
}

/// The changes in `log` that a peer holding `their_heads` lacks, as raw chunks.
fn changes_since(log: &HamletLog, their_heads: &[ChangeHash]) -> Vec<Vec<u8>> {
    log.doc().get_changes(their_heads).iter().map(|c| c.raw_bytes().to_vec()).collect()
}

/// Raw bytes of changes a responder kept as they arrived, by hash (`reply_from_kept`).
pub type Kept<'a> = &'a dyn Fn(&ChangeHash) -> Option<Vec<u8>>;

/// `changes_since`, taking each change's raw bytes from `kept` when it has them all.
/// Automerge rebuilds a change by walking the ops of the log around it, which costs
/// far more than the lookup; listing which changes are missing reads only the change
/// graph. One change `kept` lacks sends the whole answer down the rebuilding path.
fn changes_since_kept(log: &HamletLog, their_heads: &[ChangeHash], kept: Kept<'_>) -> Vec<Vec<u8>> {
    let missing = log.doc().get_changes_meta(their_heads);
    let mut out = Vec::with_capacity(missing.len());
    for meta in &missing {
        match kept(&meta.hash) {
            Some(bytes) => out.push(bytes),
            None => return changes_since(log, their_heads),
        }
    }
    out
}

/// What the requester sends for one document: its heads and every change since the
/// heads it knows the peer holds. Seal the log first (`seal`), so nothing unsquashed
/// leaves.
pub fn outgoing(doc: &HamletId, log: &HamletLog, shared: &[ChangeHash]) -> DocMessage {
    DocMessage {
        doc: doc.clone(),
        heads: log.heads(),
        payload: Payload::Changes(changes_since(log, shared)),
        keys: KeyMessage { seq: log.keys().seq(), keys: log.keys().unsent(), erased: Vec::new() },
    }
}

/// What the responder answers for one document, given the requester's heads: nothing
/// if both hold the same; the whole document if the requester holds none of it;
/// otherwise its heads and the changes the requester lacks.
pub fn reply_for(doc: &HamletId, log: &HamletLog, their_heads: &[ChangeHash]) -> Option<DocMessage> {
    reply_with(doc, log, their_heads, None)
}

/// `reply_for`, with the raw bytes of changes the responder kept as they arrived
/// (see `Merged::new_changes`): a server answering a crowd of devices in one hamlet
/// sends each the others' changes from there instead of rebuilding them from the log.
/// The answer is the same either way.
pub fn reply_from_kept(
    doc: &HamletId,
    log: &HamletLog,
    their_heads: &[ChangeHash],
    kept: Kept<'_>,
) -> Option<DocMessage> {
    reply_with(doc, log, their_heads, Some(kept))
}

fn reply_with(
    doc: &HamletId,
    log: &HamletLog,
    their_heads: &[ChangeHash],
    kept: Option<Kept<'_>>,
) -> Option<DocMessage> {
    let heads = log.heads();
    if their_heads.is_empty() {
        let payload = Payload::Snapshot(log.save());
        return Some(DocMessage { doc: doc.clone(), heads, payload, keys: KeyMessage::default() });
    }
    let mut theirs = their_heads.to_vec();
    theirs.sort_unstable();
    if theirs == heads {
        return None;
    }
    let changes = match kept {
        Some(kept) => changes_since_kept(log, their_heads, kept),
        None => changes_since(log, their_heads),
    };
    Some(DocMessage {
        doc: doc.clone(),
        heads,
        payload: Payload::Changes(changes),
        keys: KeyMessage::default(),
    })
}

/// Reads the change chunks of a message without applying anything, so that they can
/// be inspected first. Each chunk's cost is charged to `budget` (shared by the whole
/// envelope) before Automerge parses it.
pub fn decode_changes(msg: &DocMessage, budget: &mut ChangeBudget) -> Result<Vec<Change>, SyncError> {
    let bad = |reason: String| SyncError::BadChange { doc: msg.doc.clone(), reason };
    match &msg.payload {
        Payload::Changes(chunks) => chunks
            .iter()
            .map(|raw| {
                chunk::charge(raw, budget).map_err(|e: ChunkRefusal| bad(e.to_string()))?;
                // Automerge 0.12 unwraps some conversions while it parses; the scan
                // refuses every case found so far, and a panic left is refused too.
                std::panic::catch_unwind(|| Change::try_from(raw.as_slice()))
                    .map_err(|_| bad("Automerge could not read it".into()))?
                    .map_err(|e| bad(e.to_string()))
            })
            .collect(),
        Payload::Snapshot(_) => Err(SyncError::BadChange {
            doc: msg.doc.clone(),
            reason: "a whole document was sent where changes were expected".into(),
        }),
    }
}

/// Refuses any change not made under `actor`: a device writes only as itself.
pub fn check_actor(doc: &HamletId, changes: &[Change], actor: &ActorId) -> Result<(), SyncError> {
    match changes.iter().find(|c| c.actor_id() != actor) {
        Some(c) => Err(SyncError::ForeignActor { doc: doc.clone(), actor: c.actor_id().to_hex_string() }),
        None => Ok(()),
    }
}

/// A merge that was accepted.
#[derive(Debug)]
pub struct Merged {
    /// The merged copy of the log.
    pub log: HamletLog,
    /// What the new changes touched, for updating coverage.
    pub touched: Touched,
    /// The changes that were new to the log, with their raw bytes, in the order they
    /// were applied. Their concatenation is what the merge added, in the form
    /// `HamletLog::load_chunks` reads: a server stores it as is, and answers other
    /// devices from it (`reply_from_kept`).
    pub new_changes: Vec<(ChangeHash, Vec<u8>)>,
}

/// Merges `changes` into a copy of `log` and returns the copy, only if the result is
/// complete (no missing dependencies) and, when `judge` names an author, follows the
/// rules for that author; `Ok(None)` when nothing was new. `log` itself is never
/// changed, so a caller merging several documents can keep all or none.
///
/// This is blocking work proportional to the document's size (the copy); callers on an
/// async executor run it on a blocking thread.
pub fn merge_checked(
    doc: &HamletId,
    log: &HamletLog,
    changes: Vec<Change>,
    judge: Option<(&Author, i64)>,
) -> Result<Option<Merged>, SyncError> {
    merge_checked_keyed(doc, log, changes, &[], judge)
}

/// `merge_checked` with household keys that arrived with the changes: they open the
/// sealed fields of the households the changes list, and the merged copy holds them
/// (not yet numbered: `Keyring::number_new`). A key for a household erased here is
/// not taken; one the log already holds is kept as it is.
pub fn merge_checked_keyed(
    doc: &HamletId,
    log: &HamletLog,
    changes: Vec<Change>,
    keys: &[KeyEntry],
    judge: Option<(&Author, i64)>,
) -> Result<Option<Merged>, SyncError> {
    let Some(checked) = checked(doc, log, changes, keys, judge)? else { return Ok(None) };
    let Checked { changes, ring, written, new_changes } = checked;
    let mut merged = log.clone();
    if let Some(ring) = ring {
        *merged.keys_mut() = ring;
    }
    let mut patch_log = PatchLog::active();
    apply(doc, &mut merged, changes, Some(&mut patch_log))?;
    let patches = merged.doc().make_patches(&mut patch_log);
    let touched = match judge {
        Some((author, now_ms)) => judge::judge_merge(log, &merged, patches, written, author, now_ms)
            .map_err(|violation| SyncError::Refused { doc: doc.clone(), violation })?,
        None => judge::touched_by_merge(log, &merged, patches).with(written),
    };
    Ok(Some(Merged { log: merged, touched, new_changes }))
}

/// Changes merged into a log in place and judged (`merge_in_place_checked`).
#[derive(Debug)]
pub struct Applied {
    /// What the new changes touched, for updating coverage.
    pub touched: Touched,
    /// The changes that were new to the log, with their raw bytes, in the order they
    /// were applied (as in `Merged::new_changes`).
    pub new_changes: Vec<(ChangeHash, Vec<u8>)>,
    /// The entries they wrote to, as they were before.
    pub before: BeforeEntries,
}

/// Why an in-place merge was refused, and whether it had already changed the log
/// (which the caller must then restore: from its store, for a server).
#[derive(Debug)]
pub struct NotApplied {
    /// Why.
    pub error: SyncError,
    /// The log was changed before the refusal.
    pub spoiled: bool,
}

/// `merge_checked_keyed` for the author `judge` names, applied to `log` itself: no
/// copy of the log is made and no patches are logged (making them walks the paths of
/// a big log), so its cost follows the changes more than the history. Every op is
/// checked against the schema and the entries they write to are read before anything
/// is applied; the judge then holds every entry an op wrote to (not only those whose
/// visible state changed) against the rules. A refusal after that leaves `log`
/// changed (`spoiled`).
pub fn merge_in_place_checked(
    doc: &HamletId,
    log: &mut HamletLog,
    changes: Vec<Change>,
    keys: &[KeyEntry],
    judge: (&Author, i64),
) -> Result<Option<Applied>, NotApplied> {
    let clean = |error| NotApplied { error, spoiled: false };
    let Some(checked) = checked(doc, log, changes, keys, Some(judge)).map_err(clean)? else {
        return Ok(None);
    };
    let Checked { changes, ring, written, new_changes } = checked;
    let before = BeforeEntries::read(log, &written);
    if let Some(ring) = ring {
        *log.keys_mut() = ring;
    }
    let spoiled = |error| NotApplied { error, spoiled: true };
    apply(doc, log, changes, None).map_err(spoiled)?;
    let (author, now_ms) = judge;
    let touched = judge::judge_applied(&before, log, written, author, now_ms)
        .map_err(|violation| spoiled(SyncError::Refused { doc: doc.clone(), violation }))?;
    Ok(Some(Applied { touched, new_changes, before }))
}

/// Changes checked and ready to apply.
struct Checked {
    changes: Vec<Change>,
    /// The log's keyring with the keys that arrived, when some did.
    ring: Option<Keyring>,
    /// The entries the changes' ops write to.
    written: Touched,
    new_changes: Vec<(ChangeHash, Vec<u8>)>,
}

/// The changes new to `log`, all of whose dependencies are at hand, with every op
/// placed in the schema (and, when `judge` names an author, checked for them) and
/// every sealed value opened with the log's keys and those that arrived.
fn checked(
    doc: &HamletId,
    log: &HamletLog,
    changes: Vec<Change>,
    keys: &[KeyEntry],
    judge: Option<(&Author, i64)>,
) -> Result<Option<Checked>, SyncError> {
    let known = |h: &ChangeHash| log.doc().get_change_meta_by_hash(h).is_some();
    let changes: Vec<Change> = changes.into_iter().filter(|c| !known(&c.hash())).collect();
    if changes.is_empty() {
        return Ok(None);
    }
    // Every dependency must be at hand before the ops are placed in the schema (an op
    // may write into an object its dependencies made).
    let arriving: BTreeSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    if changes.iter().flat_map(Change::deps).any(|d| !known(d) && !arriving.contains(d)) {
        return Err(SyncError::MissingDeps { doc: doc.clone() });
    }
    let check = match judge {
        Some((author, now_ms)) => Check::Author(author, now_ms),
        None => Check::Relayed,
    };
    // The log's keyring is copied only when keys arrived (a household listed).
    let fresh: Vec<&KeyEntry> =
        keys.iter().filter(|(h, _)| log.keys().key(h).is_none() && !log.keys().is_erased(h)).collect();
    let ring = (!fresh.is_empty()).then(|| {
        let mut ring = log.keys().clone();
        for (h, k) in fresh {
            ring.insert_new(h.clone(), k.clone());
        }
        ring
    });
    let written = check::check_changes_keyed(log, ring.as_ref().unwrap_or(log.keys()), &changes, check)
        .map_err(|violation| SyncError::Refused { doc: doc.clone(), violation })?;
    let new_changes = changes.iter().map(|c| (c.hash(), c.raw_bytes().to_vec())).collect();
    Ok(Some(Checked { changes, ring, written, new_changes }))
}

/// Applies checked changes to `log`, logging their patches into `patch_log` if given.
fn apply(
    doc: &HamletId,
    log: &mut HamletLog,
    changes: Vec<Change>,
    patch_log: Option<&mut PatchLog>,
) -> Result<(), SyncError> {
    // Automerge 0.12 panics on some hostile changes while applying them (the fuzzer
    // found one naming an actor it then cannot look up). A panic here is caught and
    // refused like any other damaged change; the caller throws away (or restores) the
    // log it was applied to.
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match patch_log {
        Some(patch_log) => log.doc_mut().apply_changes_log_patches(changes, patch_log),
        None => log.doc_mut().apply_changes(changes),
    }));
    match applied {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(SyncError::BadChange { doc: doc.clone(), reason: e.to_string() }),
        Err(_) => {
            return Err(SyncError::BadChange {
                doc: doc.clone(),
                reason: "Automerge could not apply it".into(),
            });
        }
    }
    if !log.doc().get_missing_deps(&[]).is_empty() {
        return Err(SyncError::MissingDeps { doc: doc.clone() });
    }
    Ok(())
}

/// `merge_checked`, keeping the result in place.
fn merge_in_place(doc: &HamletId, log: &mut HamletLog, changes: Vec<Change>) -> Result<Touched, SyncError> {
    match merge_checked(doc, log, changes, None)? {
        Some(merged) => {
            *log = merged.log;
            Ok(merged.touched)
        }
        None => Ok(Touched::default()),
    }
}

/// What absorbing one document's answer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Absorbed {
    /// Changes applied.
    pub changes: usize,
    /// What they touched, for updating coverage.
    pub touched: Touched,
    /// The log arrived whole: figures kept about it must be rebuilt from it.
    pub whole: bool,
}

/// Folds a responder's answer for one held document into the requester's log, and
/// records the responder's heads as shared. `sealed` moves along when nothing local
/// was waiting, so the next local run squashes cleanly.
pub fn absorb_doc(
    log: &mut HamletLog,
    sealed: &mut Vec<ChangeHash>,
    shared: &mut Vec<ChangeHash>,
    msg: &DocMessage,
) -> Result<Absorbed, SyncError> {
    let nothing_local = log.doc().get_changes(sealed).is_empty();
    let changes = match &msg.payload {
        Payload::Changes(_) => decode_changes(msg, &mut ChangeBudget::reply())?,
        Payload::Snapshot(bytes) => {
            // An answer with the whole document: take the changes it holds.
            let other = HamletLog::load(bytes)
                .map_err(|e| SyncError::Log { doc: msg.doc.clone(), source: Box::new(e) })?;
            other.doc().get_changes(&[])
        }
    };
    let count = changes.len();
    let touched = merge_in_place(&msg.doc, log, changes)?;
    *shared = msg.heads.iter().filter(|h| log.doc().get_change_meta_by_hash(h).is_some()).copied().collect();
    if nothing_local {
        *sealed = log.heads();
    }
    Ok(Absorbed { changes: count, touched, whole: false })
}

/// Loads a whole log sent by a peer, checking every op of every change in it against
/// the schema as if they had arrived one by one onto the genesis log. This reads the
/// whole history once; it happens when a device starts holding a hamlet.
pub fn load_checked(doc: &HamletId, bytes: &[u8]) -> Result<HamletLog, SyncError> {
    load_checked_with(doc, bytes, Keyring::default())
}

/// `load_checked` with the household keys that came with the log: every sealed field
/// they open must open, and hold a text the rules allow.
pub fn load_checked_with(doc: &HamletId, bytes: &[u8], keys: Keyring) -> Result<HamletLog, SyncError> {
    let log = HamletLog::load(bytes).map_err(|e| SyncError::Log { doc: doc.clone(), source: Box::new(e) })?;
    // A counter's log starts from a counter's genesis; which one the log says.
    let genesis = HamletLog::genesis_at(doc, log.is_counter(), log.generation()).with_keys(keys);
    let changes = log.doc().get_changes(&genesis.heads());
    check::check_changes(&genesis, &changes, Check::Relayed)
        .map_err(|violation| SyncError::Refused { doc: doc.clone(), violation })?;
    Ok(log.with_keys(genesis.keys().clone()))
}

/// Takes in the household keys of an answer: erased households' keys are deleted,
/// new keys kept, and the answer's event number becomes the last applied.
pub fn take_keys(keys: &mut Keyring, msg: &KeyMessage) {
    for h in &msg.erased {
        keys.erase(h.clone(), msg.seq);
    }
    for (h, k) in &msg.keys {
        keys.insert(h.clone(), k.clone(), msg.seq);
    }
    keys.set_seq(msg.seq);
}

/// Takes up a held hamlet's successor log, when the peer sends one whole (the hamlet
/// rolled over at the end of a campaign): what this replica wrote on the old log and
/// the peer never confirmed is carried onto the successor as new changes with the same
/// ids (`HamletLog::carry_over`), to be sent in the next round, and the old log is let
/// go. `None` when the log sent is of the same generation (merged as usual).
fn roll_over(
    peer: &str,
    held: &mut Held,
    msg: &DocMessage,
    bytes: &[u8],
) -> Result<Option<Absorbed>, SyncError> {
    let mut keys = held.log.keys().clone();
    take_keys(&mut keys, &msg.keys);
    let mut next = load_checked_with(&msg.doc, bytes, keys)?;
    if next.generation() <= held.log.generation() {
        return Ok(None);
    }
    let actor = held.log.doc().get_actor().clone();
    next.set_actor(actor);
    let arrived = next.heads();
    let confirmed = held.shared.get(peer).cloned().unwrap_or_default();
    next.carry_over(&held.log, &confirmed)
        .map_err(|e| SyncError::Log { doc: msg.doc.clone(), source: Box::new(e) })?;
    held.log = next;
    held.base = None;
    // What was carried over is a local run after the successor's heads, sent next round.
    held.sealed = arrived.clone();
    held.shared = BTreeMap::from([(
        peer.to_owned(),
        msg.heads.iter().filter(|h| arrived.contains(h)).copied().collect(),
    )]);
    held.requested.clear();
    Ok(Some(Absorbed { whole: true, ..Absorbed::default() }))
}

/// Names a peer a replica syncs with ("server" for a device).
pub type PeerId = String;

/// Per peer, the heads of one document that peer is known to hold.
pub type SharedHeads = BTreeMap<PeerId, Vec<ChangeHash>>;

/// One document a replica holds, with its local sync bookkeeping.
#[derive(Debug, Clone)]
struct Held {
    log: HamletLog,
    /// Heads after which local changes have never left this replica.
    sealed: Vec<ChangeHash>,
    /// Per peer, the heads that peer is known to hold.
    shared: BTreeMap<PeerId, Vec<ChangeHash>>,
    /// Per peer, the heads sent in the request awaiting its answer.
    requested: BTreeMap<PeerId, Vec<ChangeHash>>,
    /// A copy of the document as of `sealed`, taken (a cheap clone) just before the
    /// first local write after it, so that sealing squashes the local run onto it
    /// instead of forking the document at `sealed` (which replays the whole history).
    base: Option<automerge::Automerge>,
}

impl Held {
    fn new(log: HamletLog, sealed: Vec<ChangeHash>, shared: SharedHeads) -> Self {
        Held { log, sealed, shared, requested: BTreeMap::new(), base: None }
    }

    /// Seals the log, squashing onto `base` when it is the document as of `sealed`.
    fn seal(&mut self) -> crate::sync::SealReport {
        crate::sync::squash::seal_onto(&mut self.log, &mut self.sealed, self.base.take())
    }
}

/// A replica: the hamlet logs one participant holds, written under one actor.
#[derive(Debug, Clone)]
pub struct Replica {
    actor: ActorId,
    docs: BTreeMap<HamletId, Held>,
}

impl Replica {
    /// An empty replica writing under `actor`.
    pub fn new(actor: ActorId) -> Self {
        Self { actor, docs: BTreeMap::new() }
    }

    /// The actor this replica writes under.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Starts holding a log (already-sealed: what it holds now counts as shared-able).
    pub fn hold(&mut self, doc: HamletId, mut log: HamletLog) {
        log.set_actor(self.actor.clone());
        let sealed = log.heads();
        self.docs.insert(doc, Held::new(log, sealed, BTreeMap::new()));
    }

    /// Restores a held log with its bookkeeping, as a store loads it.
    pub fn restore(
        &mut self,
        doc: HamletId,
        mut log: HamletLog,
        sealed: Vec<ChangeHash>,
        shared: SharedHeads,
    ) {
        log.set_actor(self.actor.clone());
        self.docs.insert(doc, Held::new(log, sealed, shared));
    }

    /// Stops holding a log.
    pub fn drop_doc(&mut self, doc: &HamletId) {
        self.docs.remove(doc);
    }

    /// The hamlets held.
    pub fn hamlets(&self) -> impl Iterator<Item = &HamletId> {
        self.docs.keys()
    }

    /// A held log.
    pub fn log(&self, doc: &HamletId) -> Option<&HamletLog> {
        self.docs.get(doc).map(|h| &h.log)
    }

    /// A held log, to write to. Before the first local write after the sealed heads,
    /// the document is copied as it is, for the next seal to squash onto.
    pub fn log_mut(&mut self, doc: &HamletId) -> Option<&mut HamletLog> {
        let held = self.docs.get_mut(doc)?;
        let at_sealed = |heads: &[ChangeHash]| {
            let (mut a, mut b) = (heads.to_vec(), held.sealed.clone());
            a.sort();
            b.sort();
            a == b
        };
        // Only while nothing local waits: then the document is as of `sealed`.
        if at_sealed(&held.log.heads()) && !held.base.as_ref().is_some_and(|b| at_sealed(&b.get_heads())) {
            held.base = Some(held.log.doc().clone());
        }
        Some(&mut held.log)
    }

    /// The bookkeeping of a held log: sealed heads and per-peer shared heads.
    pub fn bookkeeping(&self, doc: &HamletId) -> Option<(&[ChangeHash], &SharedHeads)> {
        self.docs.get(doc).map(|h| (h.sealed.as_slice(), &h.shared))
    }

    /// Local changes a peer has not yet confirmed, over all held logs.
    pub fn pending_for(&self, peer: &str) -> usize {
        self.docs
            .values()
            .map(|h| {
                let shared = h.shared.get(peer).map(Vec::as_slice).unwrap_or_default();
                h.log.doc().get_changes(shared).len()
            })
            .sum()
    }

    /// Whether another round with `peer` has something to carry.
    pub fn needs_round(&self, peer: &str) -> bool {
        self.docs.values().any(|h| {
            let shared = h.shared.get(peer).map(Vec::as_slice).unwrap_or_default();
            shared.is_empty() || !h.log.doc().get_changes(shared).is_empty()
        })
    }

    /// Seals every held log and builds the request for `peer`.
    pub fn request(&mut self, peer: &str) -> Envelope {
        let mut env = Envelope::default();
        for (id, held) in &mut self.docs {
            held.seal();
            let shared = held.shared.get(peer).map(Vec::as_slice).unwrap_or_default();
            let mut msg = outgoing(id, &held.log, shared);
            if shared.is_empty() {
                // Nothing is known to be shared yet: the peer may hold an older copy.
                // Send heads only and let its answer say what it has.
                msg.payload = Payload::Changes(Vec::new());
            }
            held.requested.insert(peer.to_owned(), msg.heads.clone());
            env.docs.push(msg);
        }
        env
    }

    /// Answers a peer's request as a responder: merges what it sent (for logs held
    /// here) and returns what it lacks. No rules are applied: this is for replicas
    /// that trust each other; the server judges every change itself.
    pub fn respond(&mut self, request: &Envelope) -> Result<Envelope, SyncError> {
        let mut reply = Envelope::default();
        let mut budget = ChangeBudget::request();
        for msg in &request.docs {
            let Some(held) = self.docs.get_mut(&msg.doc) else { continue };
            // Seal before anything of ours leaves in the answer.
            held.seal();
            for (h, k) in &msg.keys.keys {
                if held.log.keys().key(h).is_none() {
                    held.log.keys_mut().insert_new(h.clone(), k.clone());
                }
            }
            match merge_in_place(&msg.doc, &mut held.log, decode_changes(msg, &mut budget)?) {
                Ok(_) | Err(SyncError::MissingDeps { .. }) => {}
                Err(e) => return Err(e),
            }
            // What we just merged is theirs, not ours: keep `sealed` at our own run.
            held.sealed = held.log.heads();
            // Peers that trust each other share every key they hold (a request carries
            // all of a peer's, none of them numbered by a server): send what it lacks.
            let theirs: BTreeSet<&crate::ids::HouseholdId> = msg.keys.keys.iter().map(|(h, _)| h).collect();
            let keys: Vec<KeyEntry> = held
                .log
                .keys()
                .keys()
                .filter(|(h, _, _)| !theirs.contains(h))
                .map(|(h, k, _)| (h.clone(), k.clone()))
                .collect();
            let mut answer = reply_for(&msg.doc, &held.log, &msg.heads);
            if answer.is_none() && !keys.is_empty() {
                answer = Some(DocMessage {
                    doc: msg.doc.clone(),
                    heads: held.log.heads(),
                    payload: Payload::Changes(Vec::new()),
                    keys: KeyMessage::default(),
                });
            }
            reply.docs.extend(answer.map(|mut a| {
                a.keys.keys = keys;
                a
            }));
        }
        Ok(reply)
    }

    /// Folds in a peer's answer: applies changes, takes up new logs sent whole, drops
    /// logs the peer says to drop, and wipes everything if told to. Returns, per
    /// hamlet, what was applied.
    pub fn absorb(
        &mut self,
        peer: &str,
        reply: &Envelope,
    ) -> Result<BTreeMap<HamletId, Absorbed>, SyncError> {
        let mut out = BTreeMap::new();
        if reply.wipe {
            self.docs.clear();
            return Ok(out);
        }
        for msg in &reply.docs {
            let held = match self.docs.get_mut(&msg.doc) {
                Some(held) => held,
                None => {
                    let Payload::Snapshot(bytes) = &msg.payload else { continue };
                    let mut keys = Keyring::default();
                    take_keys(&mut keys, &msg.keys);
                    let log = load_checked_with(&msg.doc, bytes, keys)?;
                    let heads = log.heads();
                    self.hold(msg.doc.clone(), log);
                    if let Some(held) = self.docs.get_mut(&msg.doc) {
                        held.shared.insert(peer.to_owned(), heads);
                    }
                    // Listing a whole big log's changes or entries here would cost
                    // time proportional to it; callers that keep figures rebuild them.
                    out.insert(msg.doc.clone(), Absorbed { whole: true, ..Absorbed::default() });
                    continue;
                }
            };
            if let Payload::Snapshot(bytes) = &msg.payload
                && let Some(absorbed) = roll_over(peer, held, msg, bytes)?
            {
                out.insert(msg.doc.clone(), absorbed);
                continue;
            }
            // Keys first, so that what arrives sealed under them is checked open.
            take_keys(held.log.keys_mut(), &msg.keys);
            let shared = held.shared.entry(peer.to_owned()).or_default();
            let absorbed = absorb_doc(&mut held.log, &mut held.sealed, shared, msg)?;
            out.insert(msg.doc.clone(), absorbed);
        }
        // A log the request carried and the answer did not mention is held by the peer
        // exactly as it was sent (later local changes are not).
        let mentioned: Vec<&HamletId> = reply.docs.iter().map(|d| &d.doc).collect();
        for (id, held) in &mut self.docs {
            if let Some(sent) = held.requested.remove(peer)
                && !mentioned.contains(&id)
            {
                held.shared.insert(peer.to_owned(), sent);
            }
        }
        for doc in &reply.drop {
            self.docs.remove(doc);
        }
        Ok(out)
    }
}
