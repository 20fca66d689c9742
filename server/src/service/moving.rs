//! `admin move`: copies a whole store into an empty one of another engine (a sled data
//! directory into PostgreSQL, when a province outgrows one machine), through the
//! `Store` trait only. What is moved: provinces, communes, hamlets and their logs (one
//! snapshot each, their figures recomputed from it), people and assignments, teams,
//! devices (their tokens keep working), read-only API tokens, reviews, last syncs,
//! monthly dossier statistics and the audit log, oldest first. What is not: web sessions (people sign in again),
//! unused enrolment codes (make new ones), each device's last announced heads (the
//! next sync announces them again) and today's listing allowance.

use tungnha_client_core::Coverage;

use crate::records::FilingLevel;
use crate::service::ServiceError;
use crate::service::error::{Field, invalid};
use crate::store::{LogWrite, Store};

/// What `move_store` copied.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moved {
    /// Provinces.
    pub provinces: usize,
    /// Communes.
    pub communes: usize,
    /// Hamlets, each with its log.
    pub hamlets: usize,
    /// People.
    pub users: usize,
    /// Teams.
    pub teams: usize,
    /// Devices.
    pub devices: usize,
    /// Audit events.
    pub audit_events: usize,
}

/// Copies everything `from` holds into `to`, which must be empty.
pub fn move_store(from: &dyn Store, to: &dyn Store) -> Result<Moved, ServiceError> {
    if !to.is_empty()? {
        return Err(invalid(Field::File, "the destination is not empty: move into a new, empty database"));
    }
    let mut moved = Moved::default();
    for p in from.all_provinces()? {
        to.put_province(&p)?;
        moved.provinces += 1;
    }
    let communes = from.all_communes()?;
    for c in &communes {
        to.put_commune(c)?;
        for campaign in from.campaigns_of(&c.id)? {
            to.put_campaign(&campaign)?;
        }
        moved.communes += 1;
    }
    let users = from.all_users()?;
    to.put_users(&users)?;
    moved.users = users.len();
    for h in from.all_hamlets()? {
        to.put_hamlets(std::slice::from_ref(&h))?;
        if let Some(log) = from.load_log(&h.id)? {
            let base = to.log_version(&h.id)?;
            // Rolled-over logs and the history first: the coverage below counts it.
            let history = from.history(&h.id)?;
            let mut archived = Vec::new();
            for generation in from.archived_generations(&h.id)? {
                archived.extend(from.archived_log(&h.id, generation)?.map(|bytes| (generation, bytes)));
            }
            if !archived.is_empty() || !history.is_empty() {
                to.put_archive(&h.id, &archived, &history)?;
            }
            let coverage =
                Coverage::compute(&tungnha_client_core::WithHistory { history: &history, live: &log });
            // Keys and erasures go with their log, under the same event numbers.
            let keys = log.keys();
            to.commit_log(&LogWrite {
                hamlet: &h.id,
                log: &log,
                changes: None,
                coverage,
                before: None,
                base,
                new_keys: keys.keys().map(|(h, k, seq)| (h.clone(), k.clone(), seq)).collect(),
                erased: keys.erased().map(|(h, seq)| (h.clone(), seq)).collect(),
            })?;
        }
        to.put_reviews(&h.id, &from.reviewed(&h.id)?)?;
        moved.hamlets += 1;
    }
    for u in &users {
        for h in from.assignments_of(&u.id)? {
            to.assign(&u.id, &h)?;
        }
        for d in from.devices_of(&u.id)? {
            to.put_new_device(&d)?;
            moved.devices += 1;
        }
    }
    let provinces = from.all_provinces()?;
    let levels = communes
        .iter()
        .map(|c| FilingLevel::Commune(c.id.clone()))
        .chain(provinces.iter().map(|p| FilingLevel::Province(p.id.clone())));
    for level in levels {
        to.put_filings(&from.filings(&level)?)?;
    }
    for c in &communes {
        for t in from.teams_of(&c.id)? {
            to.put_team(&t)?;
            moved.teams += 1;
        }
        for (user, at) in from.last_syncs(&c.id)? {
            to.put_last_sync(&c.id, &user, at)?;
        }
    }
    for t in from.api_tokens()? {
        to.put_api_token(&t)?;
    }
    let mut events = from.audit_events(usize::MAX)?;
    events.reverse();
    for e in &events {
        to.audit(e)?;
    }
    moved.audit_events = events.len();
    Ok(moved)
}

/// Where two stores' figures differ: each hamlet's coverage (with its days) and its
/// household keys and erasures, and each commune's totals, by name. Empty when a move
/// kept every figure and key.
pub fn differences(a: &dyn Store, b: &dyn Store) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for h in a.all_hamlets()? {
        let keys =
            |s: &dyn Store| -> Result<_, ServiceError> { Ok(s.load_log(&h.id)?.map(|l| l.keys().clone())) };
        if a.coverage(&h.id)? != b.coverage(&h.id)? || keys(a)? != keys(b)? {
            out.push(format!("hamlet {}", h.id));
        }
    }
    for c in a.all_communes()? {
        if a.commune_totals(&c.id)? != b.commune_totals(&c.id)?
            || a.commune_members(&c.id)? != b.commune_members(&c.id)?
            || a.filings(&FilingLevel::Commune(c.id.clone()))?
                != b.filings(&FilingLevel::Commune(c.id.clone()))?
        {
            out.push(format!("commune {}", c.id));
        }
    }
    Ok(out)
}
