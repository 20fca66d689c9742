//! What dashboards, exports and the API read, as domain data (pages and files shape it
//! for people):
//! - a commune's and a hamlet's figures, from the materialised coverage only, so their
//!   cost follows the number of hamlets and the days drawn, never the visits;
//! - periods and day series (the last 30 days, or a chosen period of at most
//!   `MAX_PERIOD_DAYS`), from each hamlet's day records;
//! - a hamlet's households with their latest visit, one household's story, and the
//!   households to visit again, from that hamlet's cached log.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tungnha_client_core::coverage::{HouseholdStatus, share, to_cover};
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::{CommuneId, Coverage, HamletId, Household, HouseholdId, ProvinceId, UserId, Visit};

use crate::cache::lock;
use crate::records::{Commune, Hamlet, Province, User};
use crate::service::{ServiceError, access};
use crate::state::AppState;
use crate::store::{CommuneTotals, DayFigures, DaysOf, Store};

/// One hamlet's figures in the API.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HamletReport {
    /// The hamlet and its figures (per volunteer and per day included).
    #[serde(flatten)]
    pub hamlet: HamletCoverage,
    /// Households whose latest visit asks for another.
    pub follow_ups: Vec<HouseholdId>,
}

/// `GET /api/v1/communes/{id}/coverage`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// One row per team.
    pub teams: Vec<TeamCoverage>,
}

/// One team in the commune report of API v1.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamCoverage {
    /// Id.
    pub id: tungnha_client_core::TeamId,
    /// Name.
    pub name: String,
    /// Its leaders (usernames).
    pub leaders: Vec<UserId>,
    /// Members, leaders included.
    pub members: u64,
    /// Members who synced in the last 7 days.
    pub active_members: u64,
    /// The hamlets it covers.
    pub hamlets: Vec<HamletId>,
    /// Sum of its hamlets' targets.
    pub target_households: u64,
    /// Sum of its hamlets' households to cover.
    pub to_cover: u64,
    /// covered / to_cover.
    pub ratio: f64,
    /// Its hamlets' summed figures (no day series, no per-volunteer figures).
    pub totals: Coverage,
}

impl TeamCoverage {
    /// A team's row.
    pub fn new(f: crate::service::teams::TeamFigures) -> Self {
        let mut totals = f.coverage;
        totals.per_volunteer.clear();
        TeamCoverage {
            ratio: share(totals.covered, f.to_cover),
            id: f.team.id,
            name: f.team.name,
            leaders: f.team.leaders,
            members: f.members,
            active_members: f.active,
            hamlets: f.team.hamlets,
            target_households: f.target,
            to_cover: f.to_cover,
            totals,
        }
    }
}

/// A commune's hamlets with their headline figures (no day series), and the sums over
/// them: what the commune report, dashboard and export start from.
#[derive(Debug, Default)]
pub struct CommuneFigures {
    /// Each hamlet with its figures.
    pub hamlets: Vec<(Hamlet, Coverage)>,
    /// Each one-stop counter with its figures (its walk-ins), apart from the hamlets.
    pub counters: Vec<(Hamlet, Coverage)>,
    /// The sums over the hamlets.
    pub totals: Coverage,
    /// Sum of the hamlets' targets.
    pub target: u64,
    /// Sum of the hamlets' households to cover.
    pub to_cover: u64,
}

/// The figures of every hamlet of a commune, summed: headline figures only (a
/// dashboard reads just the days it draws, so its cost follows the number of hamlets,
/// not the campaign's days), or with every day (`with_days`, for exports).
pub fn commune_figures(
    store: &dyn Store,
    commune: &CommuneId,
    with_days: bool,
) -> Result<CommuneFigures, ServiceError> {
    let mut out = CommuneFigures::default();
    for h in store.hamlets_of(commune)? {
        let coverage = if with_days { store.coverage(&h.id)? } else { store.coverage_headline(&h.id)? };
        out.totals.absorb(&coverage);
        out.target += h.target_households;
        out.to_cover += to_cover(h.target_households, coverage.registered);
        if h.is_counter() {
            out.counters.push((h, coverage));
        } else {
            out.hamlets.push((h, coverage));
        }
    }
    Ok(out)
}

/// The commune report, with its teams' members active since `now` − 7 days.
pub fn commune_report(
    store: &dyn Store,
    commune: &CommuneId,
    now: i64,
) -> Result<CommuneReport, ServiceError> {
    let c = store.commune(commune)?.ok_or_else(|| ServiceError::NotFound(format!("commune {commune}")))?;
    let figures = commune_figures(store, commune, false)?;
    let teams = crate::service::teams::team_figures(store, commune, &figures.hamlets, now)?
        .into_iter()
        .map(TeamCoverage::new)
        .collect();
    Ok(CommuneReport {
        teams,
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

// ---- a province ----

/// A commune's (or a province's) teams and their people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct People {
    /// Teams.
    pub teams: u64,
    /// Their distinct members.
    pub members: u64,
    /// Of those, who synced in the last `teams::ACTIVE_DAYS` days.
    pub active_members: u64,
}

impl People {
    /// A commune's, from its `CommuneMembers` record and its last syncs: two reads,
    /// whatever the number of teams.
    pub fn of_commune(store: &dyn Store, commune: &CommuneId, now: i64) -> Result<Self, ServiceError> {
        let m = store.commune_members(commune)?;
        let last = store.last_syncs(commune)?;
        Ok(People {
            teams: m.teams,
            members: m.members.len() as u64,
            active_members: crate::service::teams::active_among(&m.members, &last, now),
        })
    }

    /// Adds another's.
    pub fn absorb(&mut self, other: &People) {
        self.teams += other.teams;
        self.members += other.members;
        self.active_members += other.active_members;
    }
}

/// One commune of a province, with its totals and its recent days.
#[derive(Debug, Clone)]
pub struct CommuneRow {
    /// The commune.
    pub commune: Commune,
    /// Its totals.
    pub totals: CommuneTotals,
    /// Its teams and their people.
    pub people: People,
    /// Its days of the last week.
    pub days: BTreeMap<String, DayFigures>,
    /// The last day any of its hamlets had a visit.
    pub last_day: Option<String>,
}

/// A province's figures: one row per commune from its materialised totals (so the
/// cost follows the number of communes, never hamlets or visits), and the sums.
#[derive(Debug, Clone)]
pub struct ProvinceFigures {
    /// The province.
    pub province: Province,
    /// Its communes.
    pub communes: Vec<CommuneRow>,
    /// The sums over its communes.
    pub totals: CommuneTotals,
    /// Its communes' teams and people, summed.
    pub people: People,
    /// The province's days within the chart's window.
    pub days: BTreeMap<String, DayFigures>,
}

/// A province's figures, for someone who may see them: the province's days from
/// `chart_from` on, and each commune's from `recent_from` on (its last week), and its
/// teams' people active since `now` − 7 days. Every read is one record (or one short
/// range) per commune or per day drawn, whatever the visits or the teams.
pub fn province_figures(
    store: &dyn Store,
    user: &User,
    province: &ProvinceId,
    chart_from: &str,
    recent_from: &str,
    now: i64,
) -> Result<ProvinceFigures, ServiceError> {
    if !access::may_see_province(user, province) {
        return Err(ServiceError::Forbidden("only the province's officers may see its figures".into()));
    }
    read_province(store, province, chart_from, recent_from, now)
}

/// A province's figures, for a caller that asked `access` already (a signed-in
/// officer through `province_figures`, or an API token of the province).
pub fn read_province(
    store: &dyn Store,
    province: &ProvinceId,
    chart_from: &str,
    recent_from: &str,
    now: i64,
) -> Result<ProvinceFigures, ServiceError> {
    let record =
        store.province(province)?.ok_or_else(|| ServiceError::NotFound(format!("province {province}")))?;
    let mut totals = CommuneTotals::default();
    let mut people = People::default();
    let mut communes = Vec::new();
    for commune in store.communes_of(province)? {
        let p = People::of_commune(store, &commune.id, now)?;
        people.absorb(&p);
        let t = store.commune_totals(&commune.id)?;
        totals.coverage.absorb(&t.coverage);
        totals.hamlets += t.hamlets;
        totals.target += t.target;
        totals.to_cover += t.to_cover;
        let days: BTreeMap<String, DayFigures> =
            store.day_counts_from(DaysOf::Commune(&commune.id), recent_from)?.into_iter().collect();
        let last_day = match days.iter().rev().find(|(_, f)| f.visits > 0) {
            Some((d, _)) => Some(d.clone()),
            None => store.commune_last_day(&commune.id)?,
        };
        communes.push(CommuneRow { commune, totals: t, people: p, days, last_day });
    }
    let days = store.day_counts_from(DaysOf::Province(province), chart_from)?.into_iter().collect();
    Ok(ProvinceFigures { province: record, communes, totals, people, days })
}

/// One commune in the province report of API v1.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommuneCoverage {
    /// Id.
    pub id: CommuneId,
    /// Name.
    pub name: String,
    /// Xã, phường or đặc khu.
    pub kind: tungnha_client_core::domain::CommuneKind,
    /// Its hamlets.
    pub hamlets: u64,
    /// Sum of its hamlets' targets.
    pub target_households: u64,
    /// Sum of its hamlets' households to cover.
    pub to_cover: u64,
    /// covered / to_cover.
    pub ratio: f64,
    /// Its hamlets' summed figures (no day series, no per-volunteer figures).
    pub totals: Coverage,
    /// Its teams and their people.
    #[serde(flatten)]
    pub people: People,
    /// The last day one of its hamlets had a visit.
    pub last_activity: Option<String>,
}

/// `GET /api/v1/provinces/{id}/coverage`: what the province's operations centre pulls.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProvinceReport {
    /// Id.
    pub id: ProvinceId,
    /// Name.
    pub name: String,
    /// Sum of its communes' targets.
    pub target_households: u64,
    /// Sum of its communes' households to cover.
    pub to_cover: u64,
    /// covered / to_cover, over the province.
    pub ratio: f64,
    /// The sums over its communes.
    pub totals: Coverage,
    /// Its communes' teams and their people, summed.
    #[serde(flatten)]
    pub people: People,
    /// Visits per day over the last 30 days ("YYYY-MM-DD" → visits).
    pub visits_per_day: BTreeMap<String, u64>,
    /// One entry per commune.
    pub communes: Vec<CommuneCoverage>,
}

impl ProvinceReport {
    /// The report of a province's figures.
    pub fn new(f: ProvinceFigures) -> Self {
        let t = &f.totals;
        ProvinceReport {
            id: f.province.id,
            name: f.province.name,
            target_households: t.target,
            to_cover: t.to_cover,
            ratio: share(t.coverage.covered, t.to_cover),
            totals: t.coverage.clone(),
            people: f.people,
            visits_per_day: f
                .days
                .iter()
                .filter(|(_, d)| d.visits > 0)
                .map(|(day, d)| (day.clone(), d.visits))
                .collect(),
            communes: f
                .communes
                .into_iter()
                .map(|row| CommuneCoverage {
                    ratio: share(row.totals.coverage.covered, row.totals.to_cover),
                    id: row.commune.id,
                    name: row.commune.name,
                    kind: row.commune.kind,
                    hamlets: row.totals.hamlets,
                    target_households: row.totals.target,
                    to_cover: row.totals.to_cover,
                    totals: row.totals.coverage,
                    people: row.people,
                    last_activity: row.last_day,
                })
                .collect(),
        }
    }
}

// ---- periods and day series ----

/// How many days the dashboards' charts cover.
pub const CHART_DAYS: usize = 30;

/// Longest period a report covers.
pub const MAX_PERIOD_DAYS: u64 = 366;

/// A period that cannot be read, or is longer than `MAX_PERIOD_DAYS`, or ends before
/// it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPeriod;

/// The `n` Asia/Ho_Chi_Minh days ending today, oldest first ("YYYY-MM-DD").
pub fn last_days(now_ms: i64, n: usize) -> Vec<String> {
    let today = NaiveDate::parse_from_str(&vn_day(now_ms), "%Y-%m-%d").unwrap_or_default();
    (0..n)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back as u64)))
        .map(|d| d.to_string())
        .collect()
}

/// The days of a period asked for ("YYYY-MM-DD" to "YYYY-MM-DD", inclusive): `None`
/// when none was asked.
pub fn period_days(from: &str, to: &str) -> Result<Option<Vec<String>>, BadPeriod> {
    if from.is_empty() && to.is_empty() {
        return Ok(None);
    }
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| BadPeriod);
    let (first, last) = (day(from)?, day(to)?);
    let span = (last - first).num_days();
    if span < 0 || span as u64 >= MAX_PERIOD_DAYS {
        return Err(BadPeriod);
    }
    Ok(Some(first.iter_days().take(span as usize + 1).map(|d| d.to_string()).collect()))
}

/// A figure per day, oldest first ("YYYY-MM-DD", n).
pub type DaySeries = Vec<(String, u64)>;

/// Visits per day over `window`, and households covered by the end of each of its
/// days, from the days on and after the window's first (`days`, summed over the
/// hamlets wanted) and the households covered now.
pub fn series(
    covered_now: u64,
    days: &BTreeMap<String, DayFigures>,
    window: &[String],
) -> (DaySeries, DaySeries) {
    let visits = window.iter().map(|d| (d.clone(), days.get(d).map_or(0, |f| f.visits))).collect();
    let covered = window
        .iter()
        .map(|d| {
            let later: u64 = days
                .range::<String, _>((std::ops::Bound::Excluded(d), std::ops::Bound::Unbounded))
                .map(|(_, f)| f.covered)
                .sum();
            (d.clone(), covered_now.saturating_sub(later))
        })
        .collect();
    (visits, covered)
}

/// Visits and households first covered over the days `from` to `to` of a series.
pub fn sum_days(days: &BTreeMap<String, DayFigures>, from: &str, to: &str) -> (u64, u64) {
    days.range::<str, _>((std::ops::Bound::Included(from), std::ops::Bound::Included(to)))
        .fold((0, 0), |(v, n), (_, f)| (v + f.visits, n + f.covered))
}

/// A hamlet's days from `from` on, added into `into`.
pub fn add_days(
    store: &dyn Store,
    hamlet: &HamletId,
    from: &str,
    into: &mut BTreeMap<String, DayFigures>,
) -> Result<(), ServiceError> {
    for (day, f) in store.day_counts_from(DaysOf::Hamlet(hamlet), from)? {
        into.entry(day).or_default().add(&f);
    }
    Ok(())
}

/// A hamlet's visits and households first covered over the days of a period.
pub fn period_figures(
    store: &dyn Store,
    hamlet: &HamletId,
    days: &[String],
) -> Result<(u64, u64), ServiceError> {
    let (Some(from), Some(to)) = (days.first(), days.last()) else { return Ok((0, 0)) };
    let mut series = BTreeMap::new();
    add_days(store, hamlet, from, &mut series)?;
    Ok(sum_days(&series, from, to))
}

// ---- people ----

/// Names of users by id, for people-facing tables (the id when unknown).
pub fn names<'a>(
    store: &dyn Store,
    ids: impl IntoIterator<Item = &'a UserId>,
) -> Result<BTreeMap<UserId, String>, ServiceError> {
    let mut out = BTreeMap::new();
    for id in ids {
        let name = store.user(id)?.map_or_else(|| id.to_string(), |u| u.name);
        out.insert(id.clone(), name);
    }
    Ok(out)
}

// ---- households, from a hamlet's log ----

/// The latest visit (not voided) to each household `wanted` picks.
fn latest_visits(
    log: &impl tungnha_client_core::domain::LogView,
    wanted: impl Fn(&HouseholdId) -> bool,
) -> BTreeMap<HouseholdId, Visit> {
    let mut last: BTreeMap<HouseholdId, Visit> = BTreeMap::new();
    for v in log.all_visits().into_values().filter(|v| !v.voided && wanted(&v.household)) {
        match last.get(&v.household) {
            Some(seen) if seen.at >= v.at => {}
            _ => {
                last.insert(v.household.clone(), v);
            }
        }
    }
    last
}

/// A household of a hamlet's list, with its status and latest visit.
#[derive(Debug, Clone)]
pub struct HouseholdRow {
    /// Its id.
    pub id: HouseholdId,
    /// The household.
    pub household: Household,
    /// Its status.
    pub status: HouseholdStatus,
    /// When it was last visited.
    pub last_visit: Option<i64>,
}

/// Every household of a hamlet still on its list, with its status and latest visit,
/// in id order.
pub fn households(state: &AppState, hamlet: &HamletId) -> Result<Vec<HouseholdRow>, ServiceError> {
    let Some(entry) = state.logs.get(state.store(), hamlet)? else { return Ok(Vec::new()) };
    let doc = lock(&entry);
    let last = latest_visits(&doc.view(), |_| true);
    Ok(doc
        .log
        .households()
        .ok
        .into_iter()
        .filter(|(_, h)| !h.retired)
        .map(|(id, household)| HouseholdRow {
            status: doc.ledger.status(&id),
            last_visit: last.get(&id).map(|v| v.at),
            id,
            household,
        })
        .collect())
}

/// A counter's walk-ins, newest first (`limit` at most), from its cached log.
pub fn walkins(
    state: &AppState,
    counter: &HamletId,
    limit: usize,
) -> Result<Vec<(tungnha_client_core::WalkInId, tungnha_client_core::WalkIn)>, ServiceError> {
    let Some(entry) = state.logs.get(state.store(), counter)? else { return Ok(Vec::new()) };
    let doc = lock(&entry);
    let mut all: Vec<_> = doc.all_walkins().into_iter().collect();
    all.sort_by(|a, b| (b.1.at, &b.0).cmp(&(a.1.at, &a.0)));
    all.truncate(limit);
    Ok(all)
}

/// One household's story: the household, its status, its visits and those of any
/// household merged into it (newest first), and the entries it could be merged into.
#[derive(Debug, Clone)]
pub struct HouseholdStory {
    /// The household.
    pub household: Household,
    /// Its status.
    pub status: HouseholdStatus,
    /// Its visits, newest first.
    pub visits: Vec<Visit>,
    /// Other households still listed, by id and label.
    pub merge_targets: Vec<(HouseholdId, String)>,
}

/// A household's story, if the hamlet lists it.
pub fn household_story(
    state: &AppState,
    hamlet: &HamletId,
    id: &HouseholdId,
) -> Result<Option<HouseholdStory>, ServiceError> {
    let Some(entry) = state.logs.get(state.store(), hamlet)? else { return Ok(None) };
    let doc = lock(&entry);
    let Some(household) = doc.log.household_at(id, None).and_then(Result::ok) else { return Ok(None) };
    let households = doc.log.households().ok;
    let counted: BTreeSet<&HouseholdId> = households
        .iter()
        .filter(|(_, other)| other.merged_into.as_ref() == Some(id))
        .map(|(other, _)| other)
        .chain([id])
        .collect();
    let mut visits: Vec<Visit> =
        doc.all_visits().into_values().filter(|v| counted.contains(&v.household)).collect();
    visits.sort_by_key(|v| std::cmp::Reverse(v.at));
    let merge_targets = households
        .iter()
        .filter(|(other, h)| *other != id && !h.retired && h.merged_into.is_none())
        .map(|(other, h)| (other.clone(), h.label.clone()))
        .collect();
    Ok(Some(HouseholdStory { household, status: doc.ledger.status(id), visits, merge_targets }))
}

/// A household to visit again, with its latest visit.
#[derive(Debug, Clone)]
pub struct FollowUp {
    /// Its id.
    pub id: HouseholdId,
    /// The household.
    pub household: Household,
    /// Its latest visit.
    pub last: Option<Visit>,
}

/// The households of a hamlet whose latest visit asks for another, in id order.
pub fn follow_ups(state: &AppState, hamlet: &HamletId) -> Result<Vec<FollowUp>, ServiceError> {
    let Some(entry) = state.logs.get(state.store(), hamlet)? else { return Ok(Vec::new()) };
    let doc = lock(&entry);
    let due: BTreeSet<HouseholdId> = doc.ledger.follow_ups().into_iter().collect();
    let mut last = latest_visits(&doc.view(), |h| due.contains(h));
    Ok(doc
        .log
        .households()
        .ok
        .into_iter()
        .filter(|(id, _)| due.contains(id))
        .map(|(id, household)| FollowUp { last: last.remove(&id), id, household })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_days_end_today_in_vietnam() {
        // 2026-11-28T17:30Z is already 29 November in Hà Nội.
        let days = last_days(1_795_887_000_000, 3);
        assert_eq!(days, ["2026-11-27", "2026-11-28", "2026-11-29"]);
    }

    #[test]
    fn coverage_over_time_counts_back_from_what_is_covered_now() {
        // 45 covered now: 5 first covered on the 28th, none on the 29th, 2 on the 30th
        // (a visit dated tomorrow by a drifting clock); 40 before the window.
        let mut days = BTreeMap::new();
        days.insert("2026-11-28".to_owned(), DayFigures { visits: 0, covered: 5, ..Default::default() });
        days.insert("2026-11-29".to_owned(), DayFigures { visits: 7, covered: 0, ..Default::default() });
        days.insert("2026-11-30".to_owned(), DayFigures { visits: 2, covered: 2, ..Default::default() });
        let window = vec!["2026-11-28".to_owned(), "2026-11-29".to_owned()];
        let (visits, covered) = series(47, &days, &window);
        assert_eq!(visits, [("2026-11-28".to_owned(), 0), ("2026-11-29".to_owned(), 7)]);
        assert_eq!(covered, [("2026-11-28".to_owned(), 45), ("2026-11-29".to_owned(), 45)]);
    }

    #[test]
    fn a_period_is_read_whole_or_refused() {
        assert_eq!(period_days("", ""), Ok(None));
        assert_eq!(period_days("2026-11-01", "2026-11-03").map(|d| d.map(|d| d.len())), Ok(Some(3)));
        assert_eq!(period_days("2026-11-03", "2026-11-01"), Err(BadPeriod));
        assert_eq!(period_days("2025-01-01", "2026-01-01").map(|d| d.map(|d| d.len())), Ok(Some(366)));
        assert_eq!(period_days("2024-01-01", "2025-01-01"), Err(BadPeriod), "367 days is too long");
        assert_eq!(period_days("hôm qua", "2026-11-01"), Err(BadPeriod));
    }
}
