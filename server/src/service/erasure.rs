//! A household's personal data under the Law on Personal Data Protection (Law
//! 91/2025/QH15): erased on request or after the commune's retention period, and
//! everything stored about it exported for the person who asks.
//!
//! Erasing is crypto-shredding (client-core `sealed`): the household's key is deleted
//! in the same transaction as a numbered tombstone and the audit event naming who and
//! why (`Store::erase_household`); every device deletes its copy of the key at its
//! next sync. What the CRDT history keeps of the label, the head and the notes is
//! ciphertext no key opens any more. The household stays on the list and in coverage,
//! shown as erased ("Hộ đã xóa thông tin").

use serde::Serialize;
use tungnha_client_core::domain::{vn_day, vn_time};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{CommuneId, HamletId, HouseholdId, HouseholdStatus};

use crate::AppState;
use crate::cache::{SharedLog, lock};
use crate::records::{AuditEvent, Hamlet};
use crate::service::ServiceError;
use crate::service::error::{Field, invalid};
use crate::store::Erasure;

/// Who the audit log names for what housekeeping does (the retention period).
pub const HOUSEKEEPING: &str = "housekeeping";
/// The longest retention period a commune may set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3_650;
/// The shortest: a month, so that a household is never erased between two rounds.
pub const MIN_RETENTION_DAYS: u32 = 30;
const DAY_MS: i64 = 86_400_000;

/// A hamlet's record and its cached log.
fn hamlet_and_log(state: &AppState, hamlet: &HamletId) -> Result<(Hamlet, SharedLog), ServiceError> {
    let missing = || ServiceError::NotFound(format!("hamlet {hamlet}"));
    let record = state.store.hamlet(hamlet)?.ok_or_else(missing)?;
    let entry = state.logs.get(state.store(), hamlet)?.ok_or_else(missing)?;
    Ok((record, entry))
}

/// Erases one household's personal data; `by` (a user id, `admin-cli` or
/// `housekeeping`) and `reason` go into the audit event. Erasing twice is refused.
pub fn erase(
    state: &AppState,
    by: &str,
    hamlet: &HamletId,
    household: &HouseholdId,
    reason: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let reason = reason.trim();
    if let Some(fault) = text_fault(reason, true) {
        return Err(invalid(Field::Reason, format!("the reason {fault}")));
    }
    let (record, entry) = hamlet_and_log(state, hamlet)?;
    let mut guard = lock(&entry);
    guard.catch_up(state.store(), hamlet)?;
    if guard.log.household_at(household, None).is_none() {
        return Err(ServiceError::NotFound(format!("household {household}")));
    }
    if guard.log.keys().is_erased(household) {
        return Err(invalid(
            Field::Household,
            format!("household {household}’s personal data is erased already"),
        ));
    }
    let mut keys = guard.log.keys().clone();
    let seq = keys.seq() + 1;
    keys.erase(household.clone(), seq);
    let event = AuditEvent {
        at: now,
        by: by.into(),
        commune: Some(record.commune.clone()),
        action: "household_erase".into(),
        detail: format!("{hamlet} / {household}: {reason}"),
    };
    state.store.erase_household(&Erasure {
        hamlet,
        household,
        seq,
        keys: &keys,
        base: guard.version,
        event: &event,
    })?;
    *guard.log.keys_mut() = keys;
    guard.version += 1;
    Ok(())
}

/// Everything stored about one household, as the person it concerns may ask to see.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdExport {
    /// When the export was made (Vietnam time).
    pub exported_at: String,
    /// The commune and hamlet.
    pub commune: CommuneId,
    /// The hamlet's id.
    pub hamlet: HamletId,
    /// The hamlet's name.
    pub hamlet_name: String,
    /// The household's id.
    pub household: HouseholdId,
    /// Its personal data was erased: label, head and notes are gone.
    pub erased: bool,
    /// Its label (address), unless erased.
    pub label: Option<String>,
    /// Its head's name, if any and not erased.
    pub head: Option<String>,
    /// How many live there, if known.
    pub members: Option<u32>,
    /// Who listed it, and when.
    pub listed_by: String,
    /// When (Vietnam time).
    pub listed_at: String,
    /// Taken off the list (a duplicate, or gone).
    pub retired: bool,
    /// Merged into another entry.
    pub merged_into: Option<HouseholdId>,
    /// Its status in coverage.
    pub status: String,
    /// Every visit to it, oldest first.
    pub visits: Vec<VisitExport>,
    /// Every audit event naming it.
    pub audit: Vec<AuditEvent>,
}

/// One visit, as exported.
#[derive(Debug, Clone, Serialize)]
pub struct VisitExport {
    /// Its id.
    pub id: String,
    /// The day (Vietnam).
    pub day: String,
    /// The time (Vietnam).
    pub time: String,
    /// Who visited.
    pub by: String,
    /// What came of it.
    pub outcome: String,
    /// Topics guided.
    pub topics: Vec<String>,
    /// Accounts created, per kind.
    pub accounts: std::collections::BTreeMap<String, u32>,
    /// People helped.
    pub people: u32,
    /// Dossiers filed online.
    pub filed: u32,
    /// The note, unless erased.
    pub note: Option<String>,
    /// Logged by mistake.
    pub voided: bool,
}

/// Audit events read to find those naming a household.
const AUDIT_SCAN: usize = 100_000;

/// Everything stored about one household of `hamlet`, for `by` (audited: the export
/// names the household, so a later export lists this one too).
pub fn export(
    state: &AppState,
    by: &str,
    hamlet: &HamletId,
    household: &HouseholdId,
    now: i64,
) -> Result<HouseholdExport, ServiceError> {
    let (record, entry) = hamlet_and_log(state, hamlet)?;
    let (h, status, mut visits) = {
        let guard = lock(&entry);
        let h = guard
            .log
            .household_at(household, None)
            .and_then(Result::ok)
            .ok_or_else(|| ServiceError::NotFound(format!("household {household}")))?;
        let visits: Vec<_> =
            guard.all_visits().into_iter().filter(|(_, v)| &v.household == household).collect();
        (h, guard.ledger.status(household), visits)
    };
    visits.sort_by_key(|(id, v)| (v.at, id.clone()));
    let detail = format!("{hamlet} / {household}");
    crate::service::audit::audit(state.store(), by, Some(&record.commune), "household_export", detail)?;
    let audit = state
        .store
        .audit_events_of(&record.commune, AUDIT_SCAN)?
        .into_iter()
        .filter(|e| e.detail.contains(household.as_str()))
        .rev()
        .collect();
    Ok(HouseholdExport {
        exported_at: format!("{} {}", vn_day(now), vn_time(now)),
        commune: record.commune,
        hamlet: hamlet.clone(),
        hamlet_name: record.name,
        household: household.clone(),
        erased: h.erased,
        label: (!h.erased).then_some(h.label),
        head: h.head,
        members: h.members,
        listed_by: h.created_by.to_string(),
        listed_at: format!("{} {}", vn_day(h.created_at), vn_time(h.created_at)),
        retired: h.retired,
        merged_into: h.merged_into,
        status: match status {
            HouseholdStatus::NotVisited => "not_visited",
            HouseholdStatus::FollowUp => "follow_up",
            HouseholdStatus::Attempted => "attempted",
            HouseholdStatus::Covered => "covered",
        }
        .into(),
        visits: visits
            .into_iter()
            .map(|(id, v)| VisitExport {
                id: id.to_string(),
                day: vn_day(v.at),
                time: vn_time(v.at),
                by: v.by.to_string(),
                outcome: v.outcome.code().into(),
                topics: v.topics,
                accounts: v.accounts,
                people: v.people,
                filed: v.filed,
                note: v.note,
                voided: v.voided,
            })
            .collect(),
        audit,
    })
}

/// Checks a retention period typed by an official: empty for none, or whole days
/// from `MIN_RETENTION_DAYS` to `MAX_RETENTION_DAYS`.
pub fn retention_days(text: &str) -> Result<Option<u32>, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&n) => Ok(Some(n)),
        _ => Err(invalid(
            Field::Duration,
            format!(
                "the retention period must be a number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}"
            ),
        )),
    }
}

/// Sets (or clears) a commune's retention period: households are erased that many
/// days after their last visit (or their listing, if never visited).
pub fn set_retention(
    store: &dyn crate::store::Store,
    by: &str,
    commune: &CommuneId,
    days: Option<u32>,
) -> Result<(), ServiceError> {
    let mut c = store
        .commune(commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    c.erase_after_days = days;
    store.put_commune(&c)?;
    let what = days.map_or_else(|| "—".to_owned(), |d| d.to_string());
    crate::service::audit::audit(store, by, Some(commune), "retention", format!("{commune}: {what}"))
}

/// Erases, in every commune with a retention period, the households whose last visit
/// (or listing) is older than it; returns how many. Housekeeping runs it.
pub fn apply_retention(state: &AppState, now: i64) -> Result<usize, ServiceError> {
    let mut erased = 0;
    for commune in state.store.all_communes()? {
        let Some(days) = commune.erase_after_days else { continue };
        let before = now - i64::from(days) * DAY_MS;
        for hamlet in state.store.hamlets_of(&commune.id)? {
            if hamlet.is_counter() {
                continue;
            }
            let due: Vec<HouseholdId> = {
                let Some(entry) = state.logs.get(state.store(), &hamlet.id)? else { continue };
                let guard = lock(&entry);
                let mut last: std::collections::BTreeMap<&HouseholdId, i64> =
                    std::collections::BTreeMap::new();
                // Every campaign's visits: one visited before a rollover is not idle.
                let visits = guard.all_visits();
                for v in visits.values() {
                    let at = last.entry(&v.household).or_insert(v.at);
                    *at = (*at).max(v.at);
                }
                guard
                    .log
                    .households()
                    .ok
                    .into_iter()
                    .filter(|(id, h)| {
                        !h.erased && last.get(id).copied().unwrap_or(h.created_at).max(h.created_at) < before
                    })
                    .map(|(id, _)| id)
                    .collect()
            };
            for household in due {
                let reason = format!("retention: {days} days after the last visit");
                erase(state, HOUSEKEEPING, &hamlet.id, &household, &reason, now)?;
                erased += 1;
            }
        }
    }
    if erased > 0 {
        state.store.compact_erased()?;
    }
    Ok(erased)
}
