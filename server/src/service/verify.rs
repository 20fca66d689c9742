//! `verify`: every hamlet's stored coverage held against a full recompute from its
//! log (the invariant the incremental ledger keeps), and every commune's totals
//! against the sum of its hamlets (the invariant the store keeps with each write).

use std::collections::BTreeMap;

use tungnha_client_core::coverage::to_cover;
use tungnha_client_core::{CommuneId, Coverage};

use crate::service::ServiceError;
use crate::store::{CommuneTotals, Store};

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
        }
    }
}

/// A commune's totals with its day series inside, so that both compare at once.
fn with_days(mut totals: CommuneTotals, days: Vec<(String, crate::store::DayFigures)>) -> CommuneTotals {
    for (day, f) in days {
        if f.visits > 0 {
            totals.coverage.per_day.insert(day.clone(), f.visits);
        }
        if f.covered > 0 {
            totals.coverage.covered_per_day.insert(day, f.covered);
        }
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
            Some(log) => Coverage::compute(&log),
            None => Coverage::default(),
        };
        checked += 1;
        let sum = sums.entry(h.commune.clone()).or_default();
        let mut part = recomputed.clone();
        part.per_volunteer.clear();
        sum.coverage.absorb(&part);
        sum.hamlets += 1;
        sum.target += h.target_households;
        sum.to_cover += to_cover(h.target_households, recomputed.registered);
        if stored != recomputed {
            differences.push(Difference::Hamlet { hamlet: h.id.to_string(), stored, recomputed });
        }
    }
    for c in store.all_communes()? {
        let recomputed = sums.remove(&c.id).unwrap_or_default();
        let stored = with_days(store.commune_totals(&c.id)?, store.commune_days_from(&c.id, "")?);
        if stored != recomputed {
            differences.push(Difference::Commune { commune: c.id.to_string(), stored, recomputed });
        }
    }
    Ok((checked, differences))
}
