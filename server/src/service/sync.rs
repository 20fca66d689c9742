//! The server's side of `POST /api/v1/sync`: check everything, merge in place, judge,
//! make it durable in one write, then answer (DESIGN.md §4–5, docs/PROTOCOL.md).
//!
//! Order matters and is the point of this module:
//! 1. decode the envelope and every change chunk, and check every change's actor and
//!    every hamlet's assignment, before anything is applied;
//! 2. lock the logs involved, in hamlet-id order (no deadlocks), and merge into each
//!    cached log in place (every op checked and what it writes to read first; no copy
//!    of a log whose history may be years long), judging the result with client-core's
//!    rules for the device's user;
//! 3. only if every log passed: write the new changes, coverage, sync states and the
//!    device's record in one store transaction, durable before it returns;
//! 4. only then keep the changes to answer with, and build the answer.
//!
//! A refused request therefore merges nothing, anywhere: a log changed in place
//! before the refusal, or before a failed write, is loaded again from the store. This is blocking work, run on
//! a blocking thread by the handler.
//!
//! A device holding one hamlet (most do) does steps 2–4 in a batch: its sync is
//! queued on the hamlet (`AppState::waiting`), and whoever takes the hamlet's lock next
//! merges every sync queued by then in order, each judged for its own author; a sync
//! refused keeps nothing (when its changes were applied first, the log is loaded again
//! and the others merged again without it), and the rest are made durable in one
//! transaction and one flush, each answered on its own.
//!
//! Household keys travel beside the changes (client-core `sealed`): a device's request
//! carries the keys of households it listed, which open their sealed fields while the
//! changes are checked and are stored, numbered, with the log; every answer carries
//! the key events (keys stored, households erased) after the last the device applied.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::MutexGuard;

use tungnha_client_core::sealed::KeyEntry;
use tungnha_client_core::sync::{self, Change, DocMessage, Envelope, KeyMessage, SyncError};
use tungnha_client_core::{ActorId, Author, ChangeHash, HamletId, HamletLog, LogError, UserId, WithHistory};

use crate::AppState;
use crate::cache::{CachedLog, SharedLog, lock};
use crate::records::{Device, User};
use crate::service::{ServiceError, access};
use crate::store::{DeviceSync, Listing, LogWrite, StoreError, SyncCommit};

/// What a sync did, for the handler's metrics.
#[derive(Debug)]
pub struct Synced {
    /// The answer envelope, encoded.
    pub reply: Vec<u8>,
    /// Changes merged.
    pub merged: usize,
}

fn sync_error(e: SyncError) -> ServiceError {
    match e {
        SyncError::Envelope(e) => ServiceError::BadEnvelope(e.to_string()),
        SyncError::BadChange { .. } | SyncError::Log { .. } => ServiceError::BadEnvelope(e.to_string()),
        SyncError::ForeignActor { .. } => ServiceError::ForeignActor(e.to_string()),
        SyncError::Refused { violation, doc } => ServiceError::RuleViolation {
            rule: violation.rule(),
            message: format!("hamlet {doc}: {violation}"),
        },
        SyncError::MissingDeps { .. } => ServiceError::Internal(e.to_string()),
    }
}

/// Runs one sync for `device`, owned by `user`.
pub fn run(
    state: &AppState,
    device: Device,
    user: &User,
    body: &[u8],
    now: i64,
) -> Result<Synced, ServiceError> {
    let wipe = |kept: bool, merged: usize| Synced {
        reply: Envelope { wipe: true, kept, ..Envelope::default() }.encode(),
        merged,
    };
    if device.revoked_at.is_some() {
        // A device handed back sends what it holds once, before it wipes itself: its
        // request is merged and committed like any other, then answered with `wipe`.
        // Whatever stops that (a refusal, an unassignment since) still ends in a wipe.
        let until = device.final_upload_until.filter(|until| now <= *until && user.active);
        if until.is_none() {
            return Ok(wipe(false, 0));
        }
        return match merge_and_commit(state, device, user, body, now) {
            Ok(synced) => Ok(wipe(true, synced.merged)),
            // The server's own failure: the device keeps its work and tries again.
            Err(e) if e.is_internal() => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "a revoked device's final upload was refused");
                Ok(wipe(false, 0))
            }
        };
    }
    if !user.active {
        return Err(ServiceError::Forbidden("this account is deactivated".into()));
    }
    merge_and_commit(state, device, user, body, now)
}

/// How many times a sync merges again when another server instance wrote one of its
/// logs between this one catching up and committing.
const STALE_RETRIES: usize = 3;

/// The sync proper, merged again (on the log as now stored) when another instance
/// wrote one of its logs meanwhile.
fn merge_and_commit(
    state: &AppState,
    device: Device,
    user: &User,
    body: &[u8],
    now: i64,
) -> Result<Synced, ServiceError> {
    let mut attempts = 0;
    loop {
        match merge_once(state, device.clone(), user, body, now) {
            Err(ServiceError::Store(StoreError::Stale(hamlet))) if attempts < STALE_RETRIES => {
                attempts += 1;
                tracing::info!(%hamlet, attempts, "a log moved on another instance meanwhile; merging again");
            }
            other => return other,
        }
    }
}

/// One attempt at the sync proper, for a device allowed to sync: check everything,
/// then merge, commit and answer: in a batch with the other syncs queued on the same
/// hamlet (`batched`) when the device holds one hamlet, as most do; under every
/// hamlet's lock in id order otherwise.
fn merge_once(
    state: &AppState,
    device: Device,
    user: &User,
    body: &[u8],
    now: i64,
) -> Result<Synced, ServiceError> {
    let request = Envelope::decode_within(body, sync::MAX_REQUEST_BODY_BYTES)
        .map_err(|e| ServiceError::BadEnvelope(e.to_string()))?;
    let actor =
        ActorId::try_from(device.actor.as_str()).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let author = Author { user: user.id.clone(), role: user.role };
    let assigned: BTreeSet<HamletId> =
        device.scope(access::hamlets_of(state.store(), &user.id)?).into_iter().collect();

    // 1. Everything is checked before anything is applied.
    let mut incoming: Incoming = BTreeMap::new();
    let mut drop = Vec::new();
    let mut budget = sync::ChangeBudget::request();
    for mut msg in request.docs {
        let changes = sync::decode_changes(&msg, &mut budget).map_err(sync_error)?;
        if !assigned.contains(&msg.doc) {
            if !changes.is_empty() {
                return Err(ServiceError::NotAssigned(msg.doc.to_string()));
            }
            drop.push(msg.doc.clone());
            continue;
        }
        sync::check_actor(&msg.doc, &changes, &actor).map_err(sync_error)?;
        // Decoded: the raw chunks are kept once, in the changes.
        msg.payload = sync::Payload::Changes(Vec::new());
        if let Some((twice, _)) = incoming.insert(msg.doc.clone(), (msg, changes)) {
            return Err(ServiceError::BadEnvelope(format!("hamlet {} appears twice", twice.doc)));
        }
    }
    if let (1, Some(hamlet)) = (assigned.len(), assigned.first()) {
        let (asked, changes) = match incoming.remove(hamlet) {
            Some((msg, changes)) => (Some(msg), changes),
            None => (None, Vec::new()),
        };
        let (answer, done) = std::sync::mpsc::sync_channel(1);
        let job = Job { device, user: user.clone(), author, now, asked, changes, drop, answer };
        return batched(state, hamlet, job, &done);
    }

    // 2. Lock every log involved, in order, and merge into each in place.
    let mut shared: Vec<(HamletId, SharedLog)> = Vec::new();
    for hamlet in &assigned {
        match state.logs.get(state.store(), hamlet)? {
            Some(entry) => shared.push((hamlet.clone(), entry)),
            None => tracing::warn!(%hamlet, "assigned hamlet has no log"),
        }
    }
    let mut guards: Vec<(HamletId, MutexGuard<'_, CachedLog>)> =
        shared.iter().map(|(h, e)| (h.clone(), lock(e))).collect();
    // Another instance on the same database may have written a log since we cached it.
    for (hamlet, entry) in &mut guards {
        entry.catch_up(state.store(), hamlet)?;
    }
    // Logs changed in place: should anything refuse the request or fail before it is
    // durable, they are restored from the store, so a refused request keeps nothing.
    let mut spoiled = BTreeSet::new();
    let merged =
        merge_and_commit_locked(state, &device, user, &author, now, &mut guards, &mut incoming, &mut spoiled);
    let (applied, merged_changes) = match merged {
        Ok(done) => done,
        Err(e) => {
            for (hamlet, entry) in &mut guards {
                if spoiled.contains(hamlet)
                    && let Err(restore) = entry.reload(state.store(), hamlet)
                {
                    tracing::error!(%hamlet, error = %restore, "a refused merge's log could not be restored");
                }
            }
            return Err(e);
        }
    };

    // 4. Durable: keep the changes to answer teammates with, and answer.
    let mut reply = Envelope { drop, ..Envelope::default() };
    for (hamlet, entry) in &mut guards {
        if let Some(a) = applied.get(hamlet) {
            entry.version += 1;
            for (hash, bytes) in &a.new_changes {
                entry.kept.keep(*hash, bytes.clone());
            }
        }
        reply.docs.extend(answer_for(hamlet, entry, incoming.get(hamlet).map(|(msg, _)| msg)));
    }
    Ok(Synced { reply: reply.encode(), merged: merged_changes })
}

/// The answer's entry for one hamlet, from its durable log: the whole log (with every
/// key event) to a device that starts holding it or still holds the log it succeeded;
/// otherwise what the device lacks, and the key events after its last.
fn answer_for(hamlet: &HamletId, entry: &mut CachedLog, asked: Option<&DocMessage>) -> Option<DocMessage> {
    let their_heads = asked.map(|msg| msg.heads.as_slice()).unwrap_or_default();
    // A device still holding the log this one succeeded (the hamlet rolled over)
    // names heads the live log never had: it gets the successor whole, and carries
    // what it wrote on the old log over to it (client-core `HamletLog::carry_over`).
    let on_old_log = entry.log.generation() > 0
        && their_heads.iter().any(|h| entry.log.doc().get_change_meta_by_hash(h).is_none());
    if their_heads.is_empty() || on_old_log {
        // A device that starts holding this log gets it whole, from the cache, with
        // every key.
        let bytes = entry.snapshot();
        return Some(DocMessage {
            doc: hamlet.clone(),
            heads: entry.log.heads(),
            payload: sync::Payload::Snapshot(bytes.as_ref().clone()),
            keys: key_events(&entry.log, 0),
        });
    }
    let kept = &entry.kept;
    let their_seq = asked.map_or(0, |msg| msg.keys.seq);
    let keys = key_events(&entry.log, their_seq);
    // The device sent keys, or lacks key events: it hears back even when its heads
    // are the server's.
    let owed = asked.is_some_and(|msg| !msg.keys.keys.is_empty()) || keys.seq != their_seq;
    match sync::reply_from_kept(hamlet, &entry.log, their_heads, &|h| kept.get(h)) {
        Some(doc) => Some(DocMessage { keys, ..doc }),
        None if owed => Some(DocMessage {
            doc: hamlet.clone(),
            heads: entry.log.heads(),
            payload: sync::Payload::Changes(Vec::new()),
            keys,
        }),
        None => None,
    }
}

/// A sync of a device holding one hamlet, waiting to be merged in a batch with the
/// others queued on that hamlet's log meanwhile.
struct Job {
    device: Device,
    user: User,
    author: Author,
    now: i64,
    /// The request's entry for the hamlet (`None`: it did not list it yet).
    asked: Option<DocMessage>,
    changes: Vec<Change>,
    /// Hamlets the device must stop holding.
    drop: Vec<HamletId>,
    /// Where its own answer goes.
    answer: std::sync::mpsc::SyncSender<Result<Synced, ServiceError>>,
}

/// Queues `job` on its hamlet and waits for its answer. Whoever takes the hamlet's lock
/// next takes up every sync queued by then and merges, judges and commits them together
/// (one transaction, one flush), each with its own answer, so a busy hamlet's syncs do
/// not each pay for a write while the others wait on its lock.
fn batched(
    state: &AppState,
    hamlet: &HamletId,
    job: Job,
    done: &std::sync::mpsc::Receiver<Result<Synced, ServiceError>>,
) -> Result<Synced, ServiceError> {
    let Some(entry) = state.logs.get(state.store(), hamlet)? else {
        tracing::warn!(%hamlet, "assigned hamlet has no log");
        return Ok(Synced { reply: Envelope { drop: job.drop, ..Envelope::default() }.encode(), merged: 0 });
    };
    state.waiting.push(hamlet, Box::new(job));
    loop {
        let answered = |done: &std::sync::mpsc::Receiver<_>| match done.try_recv() {
            Ok(answer) => Some(answer),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            // Whoever held it failed without answering (a panic): say so.
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                Some(Err(ServiceError::Internal("the batch this sync was merged in failed".into())))
            }
        };
        if let Some(answer) = answered(done) {
            return answer;
        }
        let mut guard = lock(&entry);
        // Taken up and answered by the holder before us.
        if let Some(answer) = answered(done) {
            return answer;
        }
        let jobs: Vec<Job> = state
            .waiting
            .take(hamlet)
            .into_iter()
            .filter_map(|w| w.downcast::<Job>().ok())
            .map(|j| *j)
            .collect();
        run_batch(state, hamlet, &mut guard, jobs);
    }
}

/// Why one sync of a batch was refused, and whether its changes were applied first
/// (the log must then be restored and the others merged again).
struct Refused {
    error: ServiceError,
    spoiled: bool,
}

/// Merges one sync of a batch into the log in place: its keys, its changes checked and
/// judged for its author, the commune's first day, and the person's day's allowance of
/// households with what earlier syncs of the batch listed (`listed`).
fn merge_job(
    state: &AppState,
    hamlet: &HamletId,
    entry: &mut CachedLog,
    job: &Job,
    listed: &mut BTreeMap<(UserId, String), u64>,
) -> Result<(Option<sync::Applied>, Option<Listing>), Refused> {
    let clean = |error| Refused { error, spoiled: false };
    let spoiled = |error| Refused { error, spoiled: true };
    let keys = match &job.asked {
        Some(msg) => keys_arriving(hamlet, &entry.log, &msg.keys.keys).map_err(clean)?,
        None => Vec::new(),
    };
    let applied = match sync::merge_in_place_checked(
        hamlet,
        &mut entry.log,
        job.changes.clone(),
        &keys,
        (&job.author, job.now),
    ) {
        Ok(Some(a)) => a,
        Ok(None) => return Ok((None, None)),
        // It depends on what we lack: the answer's heads make the device resend.
        Err(sync::NotApplied { error: SyncError::MissingDeps { .. }, spoiled: false }) => {
            return Ok((None, None));
        }
        Err(refused) => return Err(Refused { error: sync_error(refused.error), spoiled: refused.spoiled }),
    };
    keep_keys_of_own_households(hamlet, &mut entry.log, &keys, &job.user.id).map_err(spoiled)?;
    check_visits_from(state, hamlet, &applied.before, &entry.log, &applied.touched).map_err(spoiled)?;
    use tungnha_client_core::judge::Before;
    let count = applied.touched.households.iter().filter(|id| applied.before.household(id).is_none()).count();
    if count == 0 {
        return Ok((Some(applied), None));
    }
    let listing = Listing {
        user: job.user.id.clone(),
        day: tungnha_client_core::domain::vn_day(job.now),
        count: count as u64,
        limit: job.user.role.households_per_day(),
    };
    let earlier = listed.entry((listing.user.clone(), listing.day.clone())).or_default();
    let already = state.store.listed(&listing.user, &listing.day).map_err(|e| spoiled(e.into()))? + *earlier;
    if already + listing.count > listing.limit {
        return Err(spoiled(StoreError::TooManyListed { already, limit: listing.limit }.into()));
    }
    *earlier += listing.count;
    Ok((Some(applied), Some(listing)))
}

/// The same error for each sync of a batch that failed as a whole: a stale log is
/// merged again by each; anything else is the server's failure.
fn for_each(e: &ServiceError) -> ServiceError {
    match e {
        ServiceError::Store(StoreError::Stale(h)) => ServiceError::Store(StoreError::Stale(h.clone())),
        other => ServiceError::Internal(other.to_string()),
    }
}

/// Merges, judges and commits a batch of syncs of one hamlet, under its lock, and
/// answers each. A sync refused keeps nothing (one refused after its changes were
/// applied has the log reloaded and the others merged again without it); the others
/// are committed together.
fn run_batch(state: &AppState, hamlet: &HamletId, entry: &mut CachedLog, jobs: Vec<Job>) {
    let fail_all = |jobs: Vec<Job>, e: &ServiceError| {
        for job in jobs {
            let _ = job.answer.send(Err(for_each(e)));
        }
    };
    if let Err(e) = entry.catch_up(state.store(), hamlet) {
        fail_all(jobs, &e.into());
        return;
    }
    let mut pending = jobs;
    let mut refused: Vec<(Job, ServiceError)> = Vec::new();
    // Merge in order; restart without a sync that spoiled the log.
    let merged = loop {
        let mut listed = BTreeMap::new();
        let mut merged: Vec<(Job, Option<sync::Applied>, Option<Listing>)> = Vec::new();
        let mut rest = std::mem::take(&mut pending).into_iter();
        let mut restart = false;
        for job in rest.by_ref() {
            match merge_job(state, hamlet, entry, &job, &mut listed) {
                Ok((applied, listing)) => merged.push((job, applied, listing)),
                Err(Refused { error, spoiled }) => {
                    refused.push((job, error));
                    if spoiled {
                        restart = true;
                        break;
                    }
                }
            }
        }
        if !restart {
            break merged;
        }
        pending = merged.into_iter().map(|(job, _, _)| job).chain(rest).collect();
        if let Err(e) = entry.reload(state.store(), hamlet) {
            tracing::error!(%hamlet, error = %e, "a refused merge's log could not be restored");
            fail_all(pending, &e.into());
            for (job, error) in refused {
                let _ = job.answer.send(Err(error));
            }
            return;
        }
    };
    for (job, error) in refused {
        let _ = job.answer.send(Err(error));
    }
    if merged.is_empty() {
        return;
    }
    let changed = merged.iter().any(|(_, applied, _)| applied.is_some());
    let before = entry.ledger.coverage().clone();
    for (_, applied, _) in &merged {
        if let Some(a) = applied {
            entry.apply_to_ledger(&a.touched);
        }
    }
    let new_changes: Vec<(ChangeHash, Vec<u8>)> = merged
        .iter()
        .filter_map(|(_, a, _)| a.as_ref())
        .flat_map(|a| a.new_changes.iter().cloned())
        .collect();
    let new_keys = entry.log.keys_mut().number_new();
    let committed = {
        let writes: Vec<LogWrite<'_>> = if changed {
            vec![log_write(
                hamlet,
                &entry.log,
                entry.version,
                entry.ledger.coverage(),
                &new_changes,
                before,
                new_keys,
            )]
        } else {
            Vec::new()
        };
        let states: Vec<Vec<(HamletId, Vec<ChangeHash>)>> = merged
            .iter()
            .map(|(job, _, _)| job.asked.iter().map(|msg| (hamlet.clone(), msg.heads.clone())).collect())
            .collect();
        let syncs: Vec<DeviceSync<'_>> = merged
            .iter()
            .zip(&states)
            .map(|((job, _, listing), states)| DeviceSync {
                device: &job.device.id,
                user: &job.user.id,
                commune: job.user.commune.as_ref(),
                states,
                listing: listing.as_ref(),
            })
            .collect();
        let now = merged.iter().map(|(job, _, _)| job.now).max().unwrap_or_default();
        state.store.commit_sync(&SyncCommit { logs: &writes, syncs: &syncs, now })
    };
    if let Err(e) = committed {
        if changed && let Err(restore) = entry.reload(state.store(), hamlet) {
            tracing::error!(%hamlet, error = %restore, "a failed commit's log could not be restored");
        }
        let jobs: Vec<Job> = merged.into_iter().map(|(job, _, _)| job).collect();
        if matches!(e, StoreError::TooManyListed { .. }) && jobs.len() > 1 {
            // Someone of the batch listed on another instance meanwhile: which one,
            // the batch cannot tell. Each again, alone.
            for job in jobs {
                run_batch(state, hamlet, entry, vec![job]);
            }
        } else {
            fail_all(jobs, &e.into());
        }
        return;
    }
    crate::failpoint::after_commit();
    // Durable: keep the changes to answer teammates with, and answer each.
    if changed {
        entry.version += 1;
        for (hash, bytes) in new_changes {
            entry.kept.keep(hash, bytes);
        }
    }
    for (job, applied, _) in merged {
        let merged = if applied.is_some() { job.changes.len() } else { 0 };
        let reply = Envelope {
            docs: answer_for(hamlet, entry, job.asked.as_ref()).into_iter().collect(),
            drop: job.drop.clone(),
            ..Envelope::default()
        };
        let _ = job.answer.send(Ok(Synced { reply: reply.encode(), merged }));
    }
}

/// Incoming changes by hamlet: the request's entry and its decoded changes.
type Incoming = BTreeMap<HamletId, (DocMessage, Vec<Change>)>;

/// Steps 2–3 of a sync, under the logs' locks: merge each hamlet's changes into its
/// cached log in place (`sync::merge_in_place_checked`), check what only the server
/// knows (the commune's first day, the day's listing allowance), move the ledgers,
/// and commit everything in one durable write. Every hamlet whose cached log was
/// changed is named in `spoiled`, so that a caller handed an error restores it.
/// Returns what was applied, by hamlet, and how many changes were merged.
#[allow(clippy::too_many_arguments)]
fn merge_and_commit_locked(
    state: &AppState,
    device: &Device,
    user: &User,
    author: &Author,
    now: i64,
    guards: &mut [(HamletId, MutexGuard<'_, CachedLog>)],
    incoming: &mut Incoming,
    spoiled: &mut BTreeSet<HamletId>,
) -> Result<(BTreeMap<HamletId, sync::Applied>, usize), ServiceError> {
    let mut applied: BTreeMap<HamletId, sync::Applied> = BTreeMap::new();
    let mut merged_changes = 0;
    for (hamlet, entry) in guards.iter_mut() {
        let Some((msg, changes)) = incoming.get_mut(hamlet) else { continue };
        let count = changes.len();
        let keys = keys_arriving(hamlet, &entry.log, &msg.keys.keys)?;
        let merged = sync::merge_in_place_checked(
            hamlet,
            &mut entry.log,
            std::mem::take(changes),
            &keys,
            (author, now),
        );
        match merged {
            Ok(Some(a)) => {
                spoiled.insert(hamlet.clone());
                keep_keys_of_own_households(hamlet, &mut entry.log, &keys, &user.id)?;
                merged_changes += count;
                applied.insert(hamlet.clone(), a);
            }
            Ok(None) => {}
            Err(refused) => {
                if refused.spoiled {
                    spoiled.insert(hamlet.clone());
                }
                match refused.error {
                    // It depends on what we lack: the answer's heads make the device
                    // resend from there.
                    SyncError::MissingDeps { .. } if !refused.spoiled => {}
                    other => return Err(sync_error(other)),
                }
            }
        }
    }

    // Visits before the commune started recording are refused, whatever the device's
    // clock says (a visit backdated into figures already reported).
    for (hamlet, entry) in guards.iter() {
        if let Some(a) = applied.get(hamlet) {
            check_visits_from(state, hamlet, &a.before, &entry.log, &a.touched)?;
        }
    }

    // Households new to their logs count against the user's day, whatever day the
    // device says it listed them.
    let listed: usize = applied
        .values()
        .map(|a| {
            use tungnha_client_core::judge::Before;
            a.touched.households.iter().filter(|id| a.before.household(id).is_none()).count()
        })
        .sum();
    let listing = (listed > 0).then(|| Listing {
        user: user.id.clone(),
        day: tungnha_client_core::domain::vn_day(now),
        count: listed as u64,
        limit: user.role.households_per_day(),
    });
    // Refused here, before anything moves, when it is plainly over; the transaction
    // checks again, for two phones of one person syncing at once.
    if let Some(l) = &listing {
        let already = state.store.listed(&l.user, &l.day)?;
        if already + l.count > l.limit {
            return Err(StoreError::TooManyListed { already, limit: l.limit }.into());
        }
    }

    // 3. One durable write for everything. Ledgers move forward in place (we hold the
    //    locks); should the write fail, the caller restores every spoiled log and its
    //    ledger from the store.
    let mut befores = Vec::new();
    for (hamlet, entry) in guards.iter_mut() {
        if let Some(a) = applied.get(hamlet) {
            let e: &mut CachedLog = entry;
            let before = e.ledger.coverage().clone();
            e.apply_to_ledger(&a.touched);
            befores.push((hamlet.clone(), before, e.log.keys_mut().number_new()));
        }
    }
    let writes: Vec<LogWrite<'_>> = befores
        .into_iter()
        .filter_map(|(hamlet, before, new_keys)| {
            let (h, entry) = guards.iter().find(|(h, _)| *h == hamlet)?;
            let a = applied.get(&hamlet)?;
            Some(log_write(
                h,
                &entry.log,
                entry.version,
                entry.ledger.coverage(),
                &a.new_changes,
                before,
                new_keys,
            ))
        })
        .collect();
    let states: Vec<(HamletId, Vec<ChangeHash>)> =
        incoming.iter().map(|(h, (msg, _))| (h.clone(), msg.heads.clone())).collect();
    let sync = DeviceSync {
        device: &device.id,
        user: &user.id,
        commune: user.commune.as_ref(),
        states: &states,
        listing: listing.as_ref(),
    };
    state.store.commit_sync(&SyncCommit { logs: &writes, syncs: std::slice::from_ref(&sync), now })?;
    crate::failpoint::after_commit();
    Ok((applied, merged_changes))
}

/// The keys a request brings for a hamlet that may open what it lists: not those of
/// households erased here (what a phone offline during the erasure still held), nor
/// those the log holds already; a different key for a household that has one is
/// refused.
fn keys_arriving(
    hamlet: &HamletId,
    log: &HamletLog,
    keys: &[KeyEntry],
) -> Result<Vec<KeyEntry>, ServiceError> {
    let mut out = Vec::new();
    for (household, key) in keys {
        let ring = log.keys();
        if ring.is_erased(household) {
            continue;
        }
        match ring.key(household) {
            Some(held) if held == key => {}
            Some(_) => {
                return Err(ServiceError::RuleViolation {
                    rule: "invalid_value",
                    message: format!("hamlet {hamlet}: household {household} already has another key"),
                });
            }
            None => out.push((household.clone(), key.clone())),
        }
    }
    Ok(out)
}

/// A key arriving is kept only for a household the merged log holds, listed by the
/// device's own user; one for a household not there yet (its change depends on
/// something the server lacks) is left for the device to send again.
fn keep_keys_of_own_households(
    hamlet: &HamletId,
    log: &mut HamletLog,
    keys: &[KeyEntry],
    user: &UserId,
) -> Result<(), ServiceError> {
    for (household, _) in keys {
        match log.household_at(household, None) {
            None => log.keys_mut().forget_new(household),
            Some(Ok(h)) if &h.created_by == user => {}
            Some(_) => {
                return Err(ServiceError::RuleViolation {
                    rule: "not_your_household",
                    message: format!(
                        "hamlet {hamlet}: a key for household {household}, which you did not list"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The key events of a log after event `seq`, as an answer carries them.
fn key_events(log: &HamletLog, seq: u64) -> KeyMessage {
    let (keys, erased) = log.keys().since(seq);
    KeyMessage { seq: log.keys().seq(), keys, erased }
}

/// The durable write of one merged log: the new changes as they arrived (what the
/// merge added, without asking the log to rebuild them), the log after (for the store
/// to compact when it chooses), the coverage before and after, and the keys numbered.
fn log_write<'a>(
    hamlet: &'a HamletId,
    log: &'a HamletLog,
    base: u64,
    coverage: &tungnha_client_core::Coverage,
    new_changes: &[(ChangeHash, Vec<u8>)],
    before: tungnha_client_core::Coverage,
    new_keys: Vec<(tungnha_client_core::HouseholdId, tungnha_client_core::sealed::HouseholdKey, u64)>,
) -> LogWrite<'a> {
    LogWrite {
        hamlet,
        log,
        changes: Some(new_changes.iter().flat_map(|(_, b)| b).copied().collect()),
        coverage: coverage.clone(),
        before: Some(before),
        base,
        new_keys,
        erased: Vec::new(),
    }
}

/// Writes to one hamlet log on behalf of someone signed in on the web (a leader
/// retiring households listed in error): `write` runs on a copy under a fresh actor,
/// what it wrote is judged by the same rules as a device's changes for `author`, and
/// `commit` makes it durable (with whatever else belongs in the same transaction, such
/// as the audit event) before the copy is swapped in. Every device of the hamlet
/// receives it at its next sync. `commit` gets `None` when `write` changed nothing.
pub fn write_on_web<T>(
    state: &AppState,
    author: &Author,
    hamlet: &HamletId,
    now: i64,
    write: impl FnOnce(&mut HamletLog) -> Result<T, LogError>,
    commit: impl FnOnce(Option<&LogWrite<'_>>) -> Result<(), StoreError>,
) -> Result<T, ServiceError> {
    let entry = state
        .logs
        .get(state.store(), hamlet)?
        .ok_or_else(|| ServiceError::NotFound(format!("hamlet {hamlet}")))?;
    let mut guard = lock(&entry);
    guard.catch_up(state.store(), hamlet)?;
    let mut copy = guard.log.clone();
    copy.set_actor(ActorId::random());
    let before = copy.heads();
    let out = write(&mut copy).map_err(|e| match e {
        LogError::Refused(violation) => ServiceError::RuleViolation {
            rule: violation.rule(),
            message: format!("hamlet {hamlet}: {violation}"),
        },
        other => ServiceError::BadRequest(other.to_string()),
    })?;
    let changes = copy.doc().get_changes(&before);
    let keys = copy.keys().unsent();
    let merged = sync::merge_checked_keyed(hamlet, &guard.log, changes, &keys, Some((author, now)))
        .map_err(sync_error)?;
    let Some(mut m) = merged else {
        commit(None)?;
        return Ok(out);
    };
    let was = tungnha_client_core::judge::LogAt { log: &guard.log, heads: None };
    check_visits_from(state, hamlet, &was, &m.log, &m.touched)?;
    let new_keys = m.log.keys_mut().number_new();
    let before = guard.ledger.coverage().clone();
    let g: &mut CachedLog = &mut guard;
    g.ledger.apply(&WithHistory { history: &g.history, live: &m.log }, &m.touched);
    let write =
        log_write(hamlet, &m.log, guard.version, guard.ledger.coverage(), &m.new_changes, before, new_keys);
    if let Err(e) = commit(Some(&write)) {
        guard.rebuild_ledger();
        return Err(e.into());
    }
    // Durable: the copy becomes the cached log (the stored log's version moved by one).
    guard.log = m.log;
    guard.version += 1;
    for (hash, bytes) in m.new_changes {
        guard.kept.keep(hash, bytes);
    }
    Ok(out)
}

/// Refuses a merge that makes or re-times a visit before the day the hamlet's commune
/// started recording visits (`Commune::visits_from`), if it set one.
fn check_visits_from(
    state: &AppState,
    hamlet: &HamletId,
    before: &dyn tungnha_client_core::judge::Before,
    after: &HamletLog,
    touched: &tungnha_client_core::judge::Touched,
) -> Result<(), ServiceError> {
    if touched.visits.is_empty() {
        return Ok(());
    }
    let Some(record) = state.store.hamlet(hamlet)? else { return Ok(()) };
    let Some(from) = state.store.commune(&record.commune)?.and_then(|c| c.visits_from) else { return Ok(()) };
    tungnha_client_core::judge::check_visits_from(before, after, touched, from)
        .map_err(|violation| sync_error(SyncError::Refused { doc: hamlet.clone(), violation }))
}
