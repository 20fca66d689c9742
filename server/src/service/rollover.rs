//! A hamlet's log rolled over to a successor, so that what a sync costs stays what it
//! cost in the campaign's first week (client-core `HamletLog::successor`).
//!
//! The successor starts with every household as it is, and no visit; the old log is
//! archived whole under its generation, and its visits and walk-ins join the hamlet's
//! `History`, which the server counts beside the live log for all-time figures (a
//! visit in both, carried over by a device that had sent it before its answer was
//! lost, counts once). Household keys belong to the hamlet and stay as they are.
//! Devices get the successor at their next sync (the server answers heads it never
//! had with the whole log) and carry over what they wrote on the old log and the
//! server never confirmed. An official rolls a hamlet over by hand ("compact") or by
//! closing a campaign, which rolls every hamlet and counter of the commune.

use tungnha_client_core::{ActorId, Coverage, CoverageLedger, HamletId, HamletLog, WithHistory};

use crate::AppState;
use crate::cache::lock;
use crate::records::AuditEvent;
use crate::service::ServiceError;
use crate::store::{LogWrite, Rollover, Store, StoreError};

/// What a rollover did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolledOver {
    /// The successor's generation.
    pub generation: u64,
    /// Visits that left the live log for the history.
    pub visits: usize,
    /// Walk-ins that did (a counter's log).
    pub walkins: usize,
    /// Households carried over.
    pub households: usize,
}

/// Rolls `hamlet`'s log (or a counter's) over to its successor; `by` (a user id or
/// `admin-cli`) and `why` go into the audit event. Visits and walk-ins made at or after
/// `keep_since` stay in the successor (a compaction keeps the open campaign's). `None`
/// when nothing would move to the history.
pub fn roll_over(
    state: &AppState,
    by: &str,
    hamlet: &HamletId,
    why: &str,
    keep_since: Option<i64>,
    now: i64,
) -> Result<Option<RolledOver>, ServiceError> {
    let missing = || ServiceError::NotFound(format!("hamlet {hamlet}"));
    let record = state.store.hamlet(hamlet)?.ok_or_else(missing)?;
    let entry = state.logs.get(state.store(), hamlet)?.ok_or_else(missing)?;
    let mut guard = lock(&entry);
    guard.catch_up(state.store(), hamlet)?;
    let old = &guard.log;
    let mut history = guard.history.clone();
    let (visits, walkins) = history.add(old, keep_since);
    if (visits, walkins) == (0, 0) {
        return Ok(None);
    }
    let successor =
        old.successor(ActorId::random(), keep_since).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let ledger = CoverageLedger::from_log(&WithHistory { history: &history, live: &successor });
    let done = RolledOver {
        generation: successor.generation(),
        visits,
        walkins,
        households: successor.households().ok.len(),
    };
    let event = AuditEvent {
        at: now,
        by: by.into(),
        commune: Some(record.commune.clone()),
        action: "hamlet_rollover".into(),
        detail: format!(
            "{hamlet}: log {} → {} ({} visits, {} walk-ins to history; {} households carried over): {why}",
            old.generation(),
            done.generation,
            done.visits,
            done.walkins,
            done.households
        ),
    };
    let archived = old.save();
    state.store.roll_over(&Rollover {
        generation: old.generation(),
        archived: &archived,
        history: &history,
        write: LogWrite {
            hamlet,
            log: &successor,
            changes: None,
            coverage: ledger.coverage().clone(),
            before: Some(guard.ledger.coverage().clone()),
            base: guard.version,
            new_keys: Vec::new(),
            erased: Vec::new(),
        },
        event: &event,
    })?;
    let version = guard.version + 1;
    guard.roll_over(history, successor, ledger, version);
    Ok(Some(done))
}

/// A hamlet's all-time coverage: its live log with the history of its earlier logs
/// (what the server keeps up to date in its ledgers, worked out afresh).
pub fn all_time_coverage(
    store: &dyn Store,
    hamlet: &HamletId,
    log: &HamletLog,
) -> Result<Coverage, StoreError> {
    let history = store.history(hamlet)?;
    Ok(Coverage::compute(&WithHistory { history: &history, live: log }))
}
