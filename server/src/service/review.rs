//! A hamlet's review of households listed in the field.
//!
//! A volunteer may list a household the official's list lacks (up to a day's
//! allowance), and each one counts towards the hamlet's target. Whoever may see the
//! hamlet's households (its leaders, the commune's officials, administrators) sees
//! those nobody has reviewed (`awaiting`), and confirms the real ones or retires the
//! rest, several at a time (`decide`); a household listed twice is merged into the
//! entry kept (`merge`). Retiring and merging write to the hamlet log through
//! `sync::write_on_web`, judged by the same rules as a device's changes; each decision
//! lands in one durable write with its audit event. Callers have checked that the
//! user may see the hamlet (`access::may_see_hamlet`).

use std::collections::{BTreeMap, BTreeSet};

use tungnha_client_core::coverage::HouseholdStatus;
use tungnha_client_core::{Author, Household, HouseholdId};

use crate::AppState;
use crate::cache::lock;
use crate::records::{AuditEvent, Hamlet, User};
use crate::service::ServiceError;
use crate::service::imports::importer;
use crate::store::{Review, ReviewCommit};

/// Ids an audit event names before it says how many more there were.
const AUDIT_IDS: usize = 20;

/// A household awaiting review, with its visits and status.
pub struct Awaiting {
    /// The household's id.
    pub id: HouseholdId,
    /// The household.
    pub household: Household,
    /// Its visits (counted only when asked for).
    pub visits: usize,
    /// Its status.
    pub status: HouseholdStatus,
}

/// The households of `hamlet` listed in the field (by anyone but an import), neither
/// retired nor confirmed, newest first; and how many were confirmed before. Reads the
/// households only (a hamlet page counts them, a decision checks them); with
/// `with_visits`, each one's visits too, for the review page.
pub fn awaiting(
    state: &AppState,
    hamlet: &Hamlet,
    with_visits: bool,
) -> Result<(Vec<Awaiting>, usize), ServiceError> {
    let reviewed = state.store.reviewed(&hamlet.id)?;
    let Some(entry) = state.logs.get(state.store(), &hamlet.id)? else {
        return Ok((Vec::new(), reviewed.len()));
    };
    let importer = importer().user;
    let doc = lock(&entry);
    let mut visits: BTreeMap<HouseholdId, usize> = BTreeMap::new();
    if with_visits {
        for v in doc.all_visits().into_values().filter(|v| !v.voided) {
            *visits.entry(v.household).or_default() += 1;
        }
    }
    let mut out: Vec<Awaiting> = doc
        .log
        .households()
        .ok
        .into_iter()
        .filter(|(id, h)| h.created_by != importer && !h.retired && !reviewed.contains_key(id))
        .map(|(id, household)| Awaiting {
            visits: visits.get(&id).copied().unwrap_or(0),
            status: doc.ledger.status(&id),
            id,
            household,
        })
        .collect();
    out.sort_by(|a, b| b.household.created_at.cmp(&a.household.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok((out, reviewed.len()))
}

/// What a review decides for the households chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// They are real: confirmed.
    Confirm,
    /// They were listed in error: retired.
    Retire,
}

/// What became of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// Done, durably, with its audit event.
    Done,
    /// Some household chosen is no longer awaiting review (a colleague dealt with it a
    /// moment ago, or an import listed it): nothing was done.
    NotAwaiting,
}

/// Confirms or retires households of `hamlet` awaiting review, for `user`.
pub fn decide(
    state: &AppState,
    user: &User,
    hamlet: &Hamlet,
    chosen: &[HouseholdId],
    decision: Decision,
) -> Result<Decided, ServiceError> {
    let (awaiting, _) = awaiting(state, hamlet, false)?;
    let open: BTreeSet<&HouseholdId> = awaiting.iter().map(|a| &a.id).collect();
    if !chosen.iter().all(|c| open.contains(c)) {
        return Ok(Decided::NotAwaiting);
    }
    let now = crate::now_ms();
    let mut named: Vec<&str> = chosen.iter().take(AUDIT_IDS).map(HouseholdId::as_str).collect();
    let more = chosen.len().saturating_sub(AUDIT_IDS);
    let more_text = format!("+{more}");
    if more > 0 {
        named.push(&more_text);
    }
    let action = match decision {
        Decision::Confirm => "households_confirmed",
        Decision::Retire => "households_retired",
    };
    let event = AuditEvent {
        at: now,
        by: user.id.to_string(),
        commune: Some(hamlet.commune.clone()),
        action: action.into(),
        detail: format!("{} · {}: {}", chosen.len(), hamlet.id, named.join(", ")),
    };
    let review = Review { by: user.id.clone(), at: now };
    let store = state.store();
    match decision {
        Decision::Confirm => store.commit_review(&ReviewCommit {
            hamlet: &hamlet.id,
            confirmed: chosen,
            review: &review,
            log: None,
            event: &event,
        })?,
        Decision::Retire => {
            let author = Author { user: user.id.clone(), role: user.role };
            crate::service::sync::write_on_web(
                state,
                &author,
                &hamlet.id,
                now,
                |log| chosen.iter().try_for_each(|id| log.retire_household(&author, id)),
                |log| {
                    store.commit_review(&ReviewCommit {
                        hamlet: &hamlet.id,
                        confirmed: &[],
                        review: &review,
                        log,
                        event: &event,
                    })
                },
            )?;
        }
    }
    Ok(Decided::Done)
}

/// Merges `twice`, a household listed twice, into `into`, the entry kept (a leader's
/// or official's decision: the rules refuse it for anyone else).
pub fn merge(
    state: &AppState,
    user: &User,
    hamlet: &Hamlet,
    twice: &HouseholdId,
    into: &HouseholdId,
) -> Result<(), ServiceError> {
    let author = Author { user: user.id.clone(), role: user.role };
    let now = crate::now_ms();
    let event = AuditEvent {
        at: now,
        by: user.id.to_string(),
        commune: Some(hamlet.commune.clone()),
        action: "household_merged".into(),
        detail: format!("{} · {twice} → {into}", hamlet.id),
    };
    let review = Review { by: author.user.clone(), at: now };
    crate::service::sync::write_on_web(
        state,
        &author,
        &hamlet.id,
        now,
        |log| log.merge_household(&author, twice, into),
        |log| match log {
            Some(w) => state.store.commit_review(&ReviewCommit {
                hamlet: &hamlet.id,
                confirmed: &[],
                review: &review,
                log: Some(w),
                event: &event,
            }),
            None => Ok(()),
        },
    )
}
