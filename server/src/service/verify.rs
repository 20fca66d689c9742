//! `verify`: every hamlet's stored coverage held against a full recompute from its
//! log (the invariant the incremental ledger keeps), every commune's totals against
//! the sum of its hamlets, every province's days against the sum of its communes', and
//! every commune's team members against its teams (the invariants the store keeps with
//! each write).

use std::collections::BTreeMap;

use tungnha_client_core::coverage::to_cover;
use tungnha_client_core::{CommuneId, Coverage, ProvinceId};

use crate::service::ServiceError;
use crate::store::{CommuneMembers, CommuneTotals, DayFigures, Store, add_day_to};

/// One difference `verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// A hamlet's stored figures differ from its log's.
    Hamlet {
        /// The hamlet.
        hamlet: String,
        /// The stored figures.
        stored: Coverage,
        /// The figures recomputed from the log.
        recomputed: Coverage,
    },
    /// A province's stored days differ from its communes' sum.
    Province {
        /// The province.
        province: String,
        /// The stored days.
        stored: Vec<(String, DayFigures)>,
        /// The sum of its communes' stored days.
        summed: Vec<(String, DayFigures)>,
    },
    /// A commune's stored team members differ from its teams'.
    Members {
        /// The commune.
        commune: String,
        /// The stored record.
        stored: CommuneMembers,
        /// Worked out from its teams.
        recomputed: CommuneMembers,
    },
    /// A commune's stored totals (with its day series) differ from its hamlets' sum.
    Commune {
        /// The commune.
        commune: String,
        /// The stored totals.
        stored: CommuneTotals,
        /// The sum of its hamlets, recomputed from their logs.
        recomputed: CommuneTotals,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Hamlet { hamlet, stored, recomputed } => {
                write!(f, "hamlet {hamlet}: stored {stored:?}\n    recomputed {recomputed:?}")
            }
            Difference::Commune { commune, stored, recomputed } => {
                write!(f, "commune {commune}: stored {stored:?}\n    recomputed {recomputed:?}")
            }
            Difference::Members { commune, stored, recomputed } => {
                write!(f, "commune {commune}: stored team members {stored:?}\n    its teams' {recomputed:?}")
            }
            Difference::Province { province, stored, summed } => {
                write!(f, "province {province}: stored days {stored:?}\n    its communes' {summed:?}")
            }
        }
    }
}

/// A commune's totals with its day series inside, so that both compare at once.
fn with_days(mut totals: CommuneTotals, days: Vec<(String, DayFigures)>) -> CommuneTotals {
    for (day, f) in days {
        add_day_to(&mut totals.coverage, day, f);
    }
    totals
}

/// Recomputes every hamlet's coverage from its log and compares it with the stored
/// one, then every commune's totals with the sum of its hamlets. Returns how many
/// hamlets were checked, and the differences.
pub fn verify(store: &dyn Store) -> Result<(usize, Vec<Difference>), ServiceError> {
    let mut checked = 0;
    let mut differences = Vec::new();
    let mut sums: BTreeMap<CommuneId, CommuneTotals> = BTreeMap::new();
    for h in store.all_hamlets()? {
        let stored = store.coverage(&h.id)?;
        let recomputed = match store.load_log(&h.id)? {
            Some(log) => crate::service::rollover::all_time_coverage(store, &h.id, &log)?,
            None => Coverage::default(),
        };
        checked += 1;
        let sum = sums.entry(h.commune.clone()).or_default();
        let mut part = recomputed.clone();
        part.per_volunteer.clear();
        sum.coverage.absorb(&part);
        sum.hamlets += u64::from(!h.is_counter());
        sum.target += h.target_households;
        sum.to_cover += to_cover(h.target_households, recomputed.registered);
        if stored != recomputed {
            differences.push(Difference::Hamlet { hamlet: h.id.to_string(), stored, recomputed });
        }
    }
    let mut provinces: BTreeMap<ProvinceId, BTreeMap<String, DayFigures>> = BTreeMap::new();
    for c in store.all_communes()? {
        if let Some(p) = &c.province {
            let days = provinces.entry(p.clone()).or_default();
            for (day, f) in store.commune_days_from(&c.id, "")? {
                days.entry(day).or_default().add(&f);
            }
        }
        let teams = store.teams_of(&c.id)?;
        let mut members: Vec<_> = teams.iter().flat_map(|t| t.members.iter().cloned()).collect();
        members.sort();
        members.dedup();
        let recomputed = CommuneMembers { teams: teams.len() as u64, members };
        let stored = store.commune_members(&c.id)?;
        if stored != recomputed {
            differences.push(Difference::Members { commune: c.id.to_string(), stored, recomputed });
        }
        let recomputed = sums.remove(&c.id).unwrap_or_default();
        let stored = with_days(store.commune_totals(&c.id)?, store.commune_days_from(&c.id, "")?);
        if stored != recomputed {
            differences.push(Difference::Commune { commune: c.id.to_string(), stored, recomputed });
        }
    }
    for p in store.all_provinces()? {
        let stored = store.province_days_from(&p.id, "")?;
        let summed: Vec<(String, DayFigures)> =
            provinces.remove(&p.id).unwrap_or_default().into_iter().collect();
        if stored != summed {
            differences.push(Difference::Province { province: p.id.to_string(), stored, summed });
        }
    }
    Ok((checked, differences))
}
