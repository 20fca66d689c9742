//! `verify`: every hamlet's stored coverage held against a full recompute from its
//! log (the invariant the incremental ledger keeps).

use tungnha_client_core::Coverage;

use crate::service::ServiceError;
use crate::store::Store;

/// One difference `verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    /// The hamlet.
    pub hamlet: String,
    /// The stored figures.
    pub stored: Coverage,
    /// The figures recomputed from the log.
    pub recomputed: Coverage,
}

/// Recomputes every hamlet's coverage from its log and compares it with the stored one.
pub fn verify(store: &dyn Store) -> Result<(usize, Vec<Difference>), ServiceError> {
    let mut checked = 0;
    let mut differences = Vec::new();
    for h in store.all_hamlets()? {
        let stored = store.coverage(&h.id)?;
        let recomputed = match store.load_log(&h.id)? {
            Some(log) => Coverage::compute(&log),
            None => Coverage::default(),
        };
        checked += 1;
        if stored != recomputed {
            differences.push(Difference { hamlet: h.id.to_string(), stored, recomputed });
        }
    }
    Ok((checked, differences))
}
