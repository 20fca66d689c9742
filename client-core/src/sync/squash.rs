//! Squashing a device's unsent local changes into one change before they first leave.
//!
//! The run of changes after the `sealed` heads is replaced by a single change with the
//! same effect, written on a copy of the document as of `sealed`: the copy a replica
//! took just before its first local write after `sealed` (`Replica::log_mut`: a clone
//! costs milliseconds where a fork at `sealed` replays the whole history), or, when it
//! has none, a fork. This is only done
//! when every change in the run is this replica's own (so nobody else has seen them,
//! and nothing of anyone else's depends on them), and the result is checked to read
//! exactly like the original before it replaces it. Anything unexpected leaves the
//! document as it was: squashing is an optimisation, never a risk.

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, PatchAction, ROOT, ReadDoc, Value};

use crate::log::HamletLog;

/// What sealing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealReport {
    /// Local changes that were waiting.
    pub pending: usize,
    /// Whether they were squashed into one.
    pub squashed: bool,
    /// Whether squashing had to fork the document at the sealed heads (no copy as of
    /// them was at hand).
    pub forked: bool,
}

/// Seals a log before anything of it is sent: squashes the unsent local run when it
/// can, and moves `sealed` to the current heads. Returns what it did. The run is
/// squashed onto `base` when it is the document as of `sealed` (a copy kept from
/// before the run): no fork of the document at `sealed`, whose cost follows the whole
/// history. Without it, the document is forked there.
pub fn seal_onto(log: &mut HamletLog, sealed: &mut Vec<ChangeHash>, base: Option<Automerge>) -> SealReport {
    let pending = log.doc().get_changes(sealed);
    let mine = log.doc().get_actor().clone();
    let all_mine = pending.iter().all(|c| c.actor_id() == &mine);
    let mut report = SealReport { pending: pending.len(), squashed: false, forked: false };
    if pending.len() >= 2 && all_mine {
        report.forked = !base.as_ref().is_some_and(|b| same_heads(b, sealed));
        if let Some(doc) = squashed(log.doc(), sealed, base) {
            report.squashed = log.replace_doc(doc).is_ok();
        }
    }
    *sealed = log.heads();
    report
}

/// Whether `doc` is as of exactly `heads`.
fn same_heads(doc: &Automerge, heads: &[ChangeHash]) -> bool {
    let (mut have, mut want) = (doc.get_heads(), heads.to_vec());
    have.sort();
    want.sort();
    have == want
}

/// The document at `sealed`: `base` when it is that, else a fork there.
fn at_sealed(doc: &Automerge, sealed: &[ChangeHash], base: Option<Automerge>) -> Option<Automerge> {
    match base {
        Some(base) if same_heads(&base, sealed) => Some(base),
        _ => doc.fork_at(sealed).ok(),
    }
}

/// The document with the changes after `sealed` rewritten as one, or `None` if that
/// cannot be done faithfully.
fn squashed(doc: &Automerge, sealed: &[ChangeHash], base: Option<Automerge>) -> Option<Automerge> {
    let mut patches = doc.diff(sealed, &doc.get_heads());
    // Parents before children: an object must exist before its fields are written.
    patches.sort_by_key(|p| p.path.len());
    let mut touched_roots: std::collections::BTreeSet<(String, String)> = std::collections::BTreeSet::new();
    for patch in &patches {
        let mut props = patch.path.iter().map(|(_, p)| p.to_string()).collect::<Vec<_>>();
        if let PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } = &patch.action {
            props.push(key.clone());
        }
        match props.as_slice() {
            [] => return None,
            [root] => touched_roots.insert((String::new(), root.clone())),
            [map, key, ..] => touched_roots.insert((map.clone(), key.clone())),
        };
    }
    let mut fork = at_sealed(doc, sealed, base)?;
    fork.set_actor(doc.get_actor().clone());
    let mut tx = fork.transaction();
    for patch in patches {
        let mut obj = ROOT;
        for (_, prop) in &patch.path {
            obj = match tx.get(&obj, prop.clone()).ok()?? {
                (Value::Object(_), id) => id,
                _ => return None,
            };
        }
        match patch.action {
            PatchAction::PutMap { key, value: (Value::Object(kind), _), .. } => {
                tx.put_object(&obj, key, kind).ok()?;
            }
            PatchAction::PutMap { key, value: (Value::Scalar(s), _), .. } => {
                tx.put(&obj, key, s.into_owned()).ok()?;
            }
            PatchAction::DeleteMap { key } => tx.delete(&obj, key).ok()?,
            PatchAction::Conflict { .. } => {}
            _ => return None,
        }
    }
    tx.commit();
    // Check the rewrite where it could differ: every top-level entry the run touched
    // (a household or visit, or a root key) must read the same in both documents.
    // Comparing whole documents would cost time proportional to the log on every sync.
    let same = touched_roots.iter().all(|(map, key)| entry(doc, map, key) == entry(&fork, map, key));
    same.then_some(fork)
}

/// A top-level entry (`households/<id>`, `visits/<id>`, or a root key when `map` is
/// empty), hydrated.
fn entry(doc: &Automerge, map: &str, key: &str) -> Option<automerge::hydrate::Value> {
    let parent = if map.is_empty() {
        ROOT
    } else {
        match doc.get(ROOT, map).ok()?? {
            (Value::Object(_), id) => id,
            _ => return None,
        }
    };
    match doc.get(&parent, key).ok()?? {
        (Value::Object(_), id) => ReadDoc::hydrate(doc, &id, None).ok(),
        (Value::Scalar(s), _) => Some(automerge::hydrate::Value::Scalar(s.into_owned())),
    }
}
