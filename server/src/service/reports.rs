//! Figures for people: the commune report and a hamlet's report (API v1, dashboards and
//! exports read them), from the materialised coverage only, so their cost follows the
//! number of hamlets and the days drawn, never the number of visits.

use serde::{Deserialize, Serialize};
use tungnha_client_core::coverage::{share, to_cover};
use tungnha_client_core::{CommuneId, Coverage, HamletId, HouseholdId};

use crate::cache::lock;
use crate::records::{Hamlet, User};
use crate::service::{ServiceError, access};
use crate::state::AppState;
use crate::store::Store;

/// One hamlet's figures in the API.
#[derive(Debug, Serialize, Deserialize)]
pub struct HamletCoverage {
    /// Id.
    pub id: HamletId,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Target households.
    pub target_households: u64,
    /// covered / max(target, registered).
    pub ratio: f64,
    /// The figures.
    pub coverage: Coverage,
}

impl HamletCoverage {
    /// A hamlet's row.
    pub fn new(h: &Hamlet, coverage: Coverage) -> Self {
        HamletCoverage {
            id: h.id.clone(),
            code: h.code.clone(),
            name: h.name.clone(),
            target_households: h.target_households,
            ratio: coverage.ratio(h.target_households),
            coverage,
        }
    }
}

/// `GET /api/v1/hamlets/{id}/coverage`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HamletReport {
    /// The hamlet and its figures (per volunteer and per day included).
    #[serde(flatten)]
    pub hamlet: HamletCoverage,
    /// Households whose latest visit asks for another.
    pub follow_ups: Vec<HouseholdId>,
}

/// `GET /api/v1/communes/{id}/coverage`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommuneReport {
    /// Id.
    pub id: CommuneId,
    /// Name.
    pub name: String,
    /// Sum of the hamlets' targets.
    pub target_households: u64,
    /// Sum of the hamlets' households to cover (`coverage::to_cover`).
    pub to_cover: u64,
    /// covered / to_cover, over the commune.
    pub ratio: f64,
    /// The sums over its hamlets (without day series: see each hamlet's report).
    pub totals: Coverage,
    /// One row per hamlet.
    pub hamlets: Vec<HamletCoverage>,
}

/// A commune's hamlets with their headline figures (no day series), and the sums over
/// them: what the commune report, dashboard and export start from.
#[derive(Debug, Default)]
pub struct CommuneFigures {
    /// Each hamlet with its figures.
    pub hamlets: Vec<(Hamlet, Coverage)>,
    /// The sums over the hamlets.
    pub totals: Coverage,
    /// Sum of the hamlets' targets.
    pub target: u64,
    /// Sum of the hamlets' households to cover.
    pub to_cover: u64,
}

/// The headline figures of every hamlet of a commune, summed.
pub fn commune_figures(store: &dyn Store, commune: &CommuneId) -> Result<CommuneFigures, ServiceError> {
    let mut out = CommuneFigures::default();
    for h in store.hamlets_of(commune)? {
        // Headline figures only: day series are on each hamlet's own report, so the
        // cost of this follows the number of hamlets, not the campaign's days.
        let coverage = store.coverage_headline(&h.id)?;
        out.totals.absorb(&coverage);
        out.target += h.target_households;
        out.to_cover += to_cover(h.target_households, coverage.registered);
        out.hamlets.push((h, coverage));
    }
    Ok(out)
}

/// The commune report.
pub fn commune_report(store: &dyn Store, commune: &CommuneId) -> Result<CommuneReport, ServiceError> {
    let c = store.commune(commune)?.ok_or_else(|| ServiceError::NotFound(format!("commune {commune}")))?;
    let figures = commune_figures(store, commune)?;
    Ok(CommuneReport {
        id: c.id,
        name: c.name,
        target_households: figures.target,
        to_cover: figures.to_cover,
        ratio: share(figures.totals.covered, figures.to_cover),
        totals: figures.totals,
        hamlets: figures
            .hamlets
            .into_iter()
            .map(|(h, mut coverage)| {
                coverage.per_volunteer.clear();
                HamletCoverage::new(&h, coverage)
            })
            .collect(),
    })
}

/// A hamlet's report for `user`, if they may see it: its figures with the day series,
/// and the households to visit again (from the cached ledger).
pub fn hamlet_report(state: &AppState, user: &User, id: &HamletId) -> Result<HamletReport, ServiceError> {
    let store = state.store();
    let hamlet = store.hamlet(id)?.ok_or_else(|| ServiceError::NotFound(format!("hamlet {id}")))?;
    if !access::may_see_hamlet(store, user, &hamlet)? {
        return Err(ServiceError::Forbidden("you may not see this hamlet’s figures".into()));
    }
    let follow_ups = match state.logs.get(store, id)? {
        Some(entry) => lock(&entry).ledger.follow_ups(),
        None => Vec::new(),
    };
    Ok(HamletReport { hamlet: HamletCoverage::new(&hamlet, store.coverage(id)?), follow_ups })
}
