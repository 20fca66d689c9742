//! The coverage pages: the start page that sends each role home, the commune
//! dashboard, a hamlet's page, a household's history and a leader's team page.
//!
//! Dashboards read the materialized coverage only (one record per hamlet), so their
//! cost follows the number of hamlets, never the number of visits. Hamlet and
//! household pages list households, so they read that hamlet's log from the cache.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::collate;
use tungnha_client_core::coverage::vn_day;
use tungnha_client_core::{CommuneId, Coverage, HouseholdId, Role, UserId};
use tungnha_web::dashboard::{
    CommuneDashboard, Figures, FollowUpLine, HamletLine, HamletPage, HouseholdLine, HouseholdPage, Period,
    STATUS_FILTERS, Sort, TeamPage, VisitLine, VolunteerLine,
};

use super::{PageError, Viewer, see_other, visible_hamlet};
use crate::AppState;
use crate::records::{Commune, Hamlet};
use crate::service::organisation;
use crate::store::DayFigures;

/// How many days the dashboards' charts cover.
pub const CHART_DAYS: usize = 30;

pub(crate) async fn home(viewer: Viewer) -> Response {
    match viewer.user() {
        // A volunteer's work is on the phone: this page says so and opens the app.
        Ok(user) if user.role == Role::Volunteer => {
            tungnha_web::auth::volunteer_home(&viewer.chrome()).into_response()
        }
        Ok(user) => see_other(&super::session::home_of(user)),
        Err(_) => see_other("/login"),
    }
}

/// A commune's hamlets with their materialized coverage, and the sums.
pub(crate) struct CommuneData {
    pub commune: Commune,
    pub rows: Vec<(Hamlet, Coverage)>,
    pub totals: Coverage,
    pub target: u64,
    /// The sum of the hamlets' households to cover (`coverage::to_cover`).
    pub to_cover: u64,
}

/// Reads a commune's figures: one coverage record per hamlet, with every day when
/// `with_days` (exports), without (dashboards, which read only the days they draw).
pub(crate) fn commune_data(
    state: &AppState,
    commune: Commune,
    with_days: bool,
) -> Result<CommuneData, PageError> {
    let mut totals = Coverage::default();
    let (mut target, mut to_cover) = (0, 0);
    let mut rows = Vec::new();
    for h in state.store.hamlets_of(&commune.id)? {
        let c =
            if with_days { state.store.coverage(&h.id)? } else { state.store.coverage_headline(&h.id)? };
        totals.absorb(&c);
        target += h.target_households;
        to_cover += tungnha_client_core::coverage::to_cover(h.target_households, c.registered);
        rows.push((h, c));
    }
    Ok(CommuneData { commune, rows, totals, target, to_cover })
}

/// The commune whose id is in the path, if the viewer may manage it (checked before
/// the commune is looked up, so nobody learns which communes exist).
pub(crate) fn managed_commune(state: &AppState, viewer: &Viewer, id: &str) -> Result<Commune, PageError> {
    let id = CommuneId::parse(id).map_err(|_| PageError::NotFound)?;
    viewer.official_of(&id)?;
    state.store.commune(&id)?.ok_or(PageError::NotFound)
}

pub(crate) fn hamlet_line(h: &Hamlet, c: &Coverage, last_activity: Option<String>) -> HamletLine {
    HamletLine {
        id: h.id.to_string(),
        name: h.name.clone(),
        figures: Figures::of(c, h.target_households),
        last_activity,
        in_period: None,
    }
}

/// The `n` Asia/Ho_Chi_Minh days ending today, oldest first ("YYYY-MM-DD").
pub(crate) fn last_days(now_ms: i64, n: usize) -> Vec<String> {
    let today = NaiveDate::parse_from_str(&vn_day(now_ms), "%Y-%m-%d").unwrap_or_default();
    (0..n)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back as u64)))
        .map(|d| d.to_string())
        .collect()
}

/// A figure per day, oldest first ("YYYY-MM-DD", n).
pub(crate) type DaySeries = Vec<(String, u64)>;

/// Visits per day over `window`, and households covered by the end of each of its
/// days, from the days on and after the window's first (`days`, summed over the
/// hamlets wanted) and the households covered now.
pub(crate) fn series(
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
fn sum_days(days: &BTreeMap<String, DayFigures>, from: &str, to: &str) -> (u64, u64) {
    days.range::<str, _>((std::ops::Bound::Included(from), std::ops::Bound::Included(to)))
        .fold((0, 0), |(v, n), (_, f)| (v + f.visits, n + f.covered))
}

/// A hamlet's visits and households first covered over the days of a period.
pub(crate) fn period_figures(
    state: &AppState,
    hamlet: &Hamlet,
    days: &[String],
) -> Result<(u64, u64), PageError> {
    let (Some(from), Some(to)) = (days.first(), days.last()) else { return Ok((0, 0)) };
    let mut series = BTreeMap::new();
    add_days(state, hamlet, from, &mut series)?;
    Ok(sum_days(&series, from, to))
}

/// A hamlet's days from `from` on, added into `into`.
pub(crate) fn add_days(
    state: &AppState,
    hamlet: &Hamlet,
    from: &str,
    into: &mut BTreeMap<String, DayFigures>,
) -> Result<(), PageError> {
    for (day, f) in state.store.coverage_days_from(&hamlet.id, from)? {
        let e = into.entry(day).or_default();
        e.visits += f.visits;
        e.covered += f.covered;
    }
    Ok(())
}

/// Accounts per kind, labelled from the catalogue (a code no longer listed shows as is).
pub(crate) fn accounts_by_kind(catalogue: &Catalogue, c: &Coverage) -> Vec<(String, u64)> {
    let label = |code: &str| {
        catalogue
            .account_kinds
            .iter()
            .find(|e| e.code == code)
            .map(|e| e.label.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    c.accounts.iter().map(|(code, n)| (label(code), *n)).collect()
}

/// Names of users by id, for people-facing tables (the id when unknown).
pub(crate) fn names<'a>(
    state: &AppState,
    ids: impl IntoIterator<Item = &'a UserId>,
) -> BTreeMap<UserId, String> {
    ids.into_iter()
        .map(|id| {
            let name = state.store.user(id).ok().flatten().map(|u| u.name).unwrap_or_else(|| id.to_string());
            (id.clone(), name)
        })
        .collect()
}

pub(crate) fn volunteer_lines(state: &AppState, c: &Coverage) -> Vec<VolunteerLine> {
    let names = names(state, c.per_volunteer.keys());
    let mut lines: Vec<VolunteerLine> = c
        .per_volunteer
        .iter()
        .map(|(id, f)| VolunteerLine { name: names.get(id).cloned().unwrap_or_default(), figures: *f })
        .collect();
    lines.sort_by(|a, b| {
        b.figures.visits.cmp(&a.figures.visits).then_with(|| collate::compare(&a.name, &b.name))
    });
    lines
}

#[derive(Debug, Deserialize)]
pub(crate) struct SortQuery {
    #[serde(default)]
    sort: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// Longest period a report covers.
pub const MAX_PERIOD_DAYS: u64 = 366;

/// The days of a period asked for in a query ("YYYY-MM-DD" to "YYYY-MM-DD", inclusive,
/// at most `MAX_PERIOD_DAYS`): `Ok(None)` when none was asked, `Err(())` when it cannot
/// be read.
pub(crate) fn period_days(from: &str, to: &str) -> Result<Option<Vec<String>>, ()> {
    if from.is_empty() && to.is_empty() {
        return Ok(None);
    }
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| ());
    let (first, last) = (day(from)?, day(to)?);
    let span = (last - first).num_days();
    if span < 0 || span as u64 >= MAX_PERIOD_DAYS {
        return Err(());
    }
    Ok(Some(first.iter_days().take(span as usize + 1).map(|d| d.to_string()).collect()))
}

/// Builds the commune dashboard's view-model: each hamlet's headline figures and only
/// the days the charts draw, so its cost follows the number of hamlets.
pub(crate) fn commune_dashboard(
    state: &AppState,
    commune: Commune,
    sort: Sort,
    now: i64,
    period: Option<Vec<String>>,
) -> Result<CommuneDashboard, PageError> {
    let data = commune_data(state, commune, false)?;
    let chosen = period.is_some();
    let window = period.unwrap_or_else(|| last_days(now, CHART_DAYS));
    let from = window.first().cloned().unwrap_or_default();
    let to = window.last().cloned().unwrap_or_default();
    let mut all_days = BTreeMap::new();
    let mut hamlets = Vec::new();
    for (h, c) in &data.rows {
        let mut days = BTreeMap::new();
        add_days(state, h, &from, &mut days)?;
        let mut line = hamlet_line(h, c, state.store.last_visit_day(&h.id)?);
        if chosen {
            line.in_period = Some(sum_days(&days, &from, &to));
        }
        hamlets.push(line);
        for (d, f) in days {
            let e: &mut DayFigures = all_days.entry(d).or_default();
            e.visits += f.visits;
            e.covered += f.covered;
        }
    }
    sort.apply(&mut hamlets);
    let (visits_per_day, covered_by_day) = series(data.totals.covered, &all_days, &window);
    Ok(CommuneDashboard {
        id: data.commune.id.to_string(),
        name: data.commune.name.clone(),
        figures: Figures::of_sum(&data.totals, data.target, data.to_cover),
        accounts_by_kind: accounts_by_kind(&data.commune.catalogue, &data.totals),
        hamlets,
        sort,
        visits_per_day,
        covered_by_day,
        period: chosen.then_some(Period { from, to }),
        bad_period: false,
        today: vn_day(now),
    })
}

pub(crate) async fn commune(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SortQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let period = period_days(&q.from, &q.to);
            let mut view = commune_dashboard(
                &state,
                commune,
                Sort::from_code(&q.sort),
                crate::now_ms(),
                period.clone().unwrap_or(None),
            )?;
            view.bad_period = period.is_err();
            Ok(tungnha_web::dashboard::commune(&v.chrome(), &view).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct HouseholdQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// Every household of a hamlet with its status and latest visit, ordered by label.
pub(crate) fn household_lines(state: &AppState, hamlet: &Hamlet) -> Result<Vec<HouseholdLine>, PageError> {
    let Some(entry) = state.logs.get(state.store(), &hamlet.id)? else { return Ok(Vec::new()) };
    let doc = crate::cache::lock(&entry);
    let mut last: BTreeMap<HouseholdId, i64> = BTreeMap::new();
    for v in doc.log.visits().ok.into_values().filter(|v| !v.voided) {
        let e = last.entry(v.household).or_insert(v.at);
        *e = (*e).max(v.at);
    }
    let mut lines: Vec<HouseholdLine> = doc
        .log
        .households()
        .ok
        .into_iter()
        .filter(|(_, h)| !h.retired)
        .map(|(id, h)| HouseholdLine {
            status: doc.ledger.status(&id),
            last_visit: last.get(&id).copied(),
            id: id.to_string(),
            label: h.label,
            head: h.head,
        })
        .collect();
    // Vietnamese order, "Số 2" before "Số 10", as people number houses.
    lines.sort_by(|a, b| collate::compare(&a.label, &b.label).then_with(|| a.id.cmp(&b.id)));
    Ok(lines)
}

pub(crate) async fn hamlet(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<HouseholdQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let hamlet = visible_hamlet(&state, v, &id)?;
            let commune = state.store.commune(&hamlet.commune)?.ok_or(PageError::NotFound)?;
            let coverage = state.store.coverage(&hamlet.id)?;
            let all = household_lines(&state, &hamlet)?;
            let filter = STATUS_FILTERS.iter().find(|(_, code)| *code == q.status).map(|(s, _)| *s);
            // Without diacritics, on the address and the head's name ("nguyen trai").
            let query = collate::fold(q.q.trim());
            let total = all.len();
            let households = all
                .into_iter()
                .filter(|h| filter.is_none_or(|f| h.status == f))
                .filter(|h| {
                    query.is_empty()
                        || collate::fold(&format!("{} {}", h.label, h.head.as_deref().unwrap_or("")))
                            .contains(&query)
                })
                .collect();
            let now = crate::now_ms();
            let period = period_days(&q.from, &q.to);
            let window = period.clone().ok().flatten().unwrap_or_else(|| last_days(now, CHART_DAYS));
            let mut days = BTreeMap::new();
            add_days(&state, &hamlet, window.first().map_or("", String::as_str), &mut days)?;
            let (visits_per_day, _) = series(coverage.covered, &days, &window);
            let chosen = period.as_ref().ok().and_then(|p| p.as_ref()).map(|_| Period {
                from: window.first().cloned().unwrap_or_default(),
                to: window.last().cloned().unwrap_or_default(),
            });
            let view = HamletPage {
                id: hamlet.id.to_string(),
                name: hamlet.name.clone(),
                commune_name: commune.name,
                figures: Figures::of(&coverage, hamlet.target_households),
                accounts_by_kind: accounts_by_kind(&commune.catalogue, &coverage),
                volunteers: volunteer_lines(&state, &coverage),
                households,
                total_households: total,
                filter,
                query: q.q,
                visits_per_day,
                awaiting_review: crate::service::review::awaiting(&state, &hamlet, false)?.0.len(),
                period: chosen,
                bad_period: period.is_err(),
                today: vn_day(now),
            };
            Ok(tungnha_web::dashboard::hamlet(&v.chrome(), &view).into_response())
        })
        .await
}

pub(crate) async fn household(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, household)): Path<(String, String)>,
) -> Response {
    viewer
        .run(move |v| {
            let hamlet = visible_hamlet(&state, v, &id)?;
            let hid = HouseholdId::parse(&household).map_err(|_| PageError::NotFound)?;
            let catalogue = state.store.commune(&hamlet.commune)?.map(|c| c.catalogue).unwrap_or_default();
            let entry = state.logs.get(state.store(), &hamlet.id)?.ok_or(PageError::NotFound)?;
            let (h, status, mut visits, mut merge_targets) = {
                let doc = crate::cache::lock(&entry);
                let h = doc.log.household_at(&hid, None).and_then(Result::ok).ok_or(PageError::NotFound)?;
                let households = doc.log.households().ok;
                // Its own visits and those of any household merged into it.
                let counted: BTreeSet<HouseholdId> = households
                    .iter()
                    .filter(|(_, other)| other.merged_into.as_ref() == Some(&hid))
                    .map(|(id, _)| id.clone())
                    .chain([hid.clone()])
                    .collect();
                let visits: Vec<_> =
                    doc.log.visits().ok.into_values().filter(|v| counted.contains(&v.household)).collect();
                let targets: Vec<(String, String)> = households
                    .into_iter()
                    .filter(|(id, other)| *id != hid && !other.retired && other.merged_into.is_none())
                    .map(|(id, other)| (id.to_string(), other.label))
                    .collect();
                (h, doc.ledger.status(&hid), visits, targets)
            };
            merge_targets.sort_by(|a, b| collate::compare(&a.1, &b.1));
            // Only those who lead may merge; others are not shown the form.
            if !v.user()?.role.leads() {
                merge_targets.clear();
            }
            visits.sort_by_key(|v| std::cmp::Reverse(v.at));
            let names = names(&state, visits.iter().map(|v| &v.by));
            let label = |list: &[tungnha_client_core::catalogue::Entry], code: &str| {
                list.iter()
                    .find(|e| e.code == code)
                    .map(|e| e.label.clone())
                    .unwrap_or_else(|| code.to_owned())
            };
            let view = HouseholdPage {
                id: hid.to_string(),
                merge_targets,
                hamlet_id: hamlet.id.to_string(),
                hamlet_name: hamlet.name,
                label: h.label,
                head: h.head,
                members: h.members,
                retired: h.retired,
                status,
                visits: visits
                    .into_iter()
                    .map(|vis| VisitLine {
                        at: vis.at,
                        by: names.get(&vis.by).cloned().unwrap_or_default(),
                        outcome: vis.outcome,
                        topics: vis.topics.iter().map(|t| label(&catalogue.topics, t)).collect(),
                        accounts: vis
                            .accounts
                            .iter()
                            .map(|(k, n)| (label(&catalogue.account_kinds, k), *n))
                            .collect(),
                        people: vis.people,
                        note: vis.note,
                        voided: vis.voided,
                    })
                    .collect(),
            };
            Ok(tungnha_web::dashboard::household(&v.chrome(), &view).into_response())
        })
        .await
}

/// Builds a leader's team page.
pub(crate) fn team_page(
    state: &AppState,
    leader: &UserId,
    period: Option<Vec<String>>,
) -> Result<TeamPage, PageError> {
    let mut hamlets = Vec::new();
    let mut sum = Coverage::default();
    let mut follow_ups = Vec::new();
    for id in state.store.assignments_of(leader)? {
        let Some(h) = state.store.hamlet(&id)? else { continue };
        // Headline figures and the last active day, as on the commune dashboard.
        let c = state.store.coverage_headline(&id)?;
        sum.absorb(&c);
        let mut line = hamlet_line(&h, &c, state.store.last_visit_day(&id)?);
        if let Some(days) = &period {
            line.in_period = Some(period_figures(state, &h, days)?);
        }
        hamlets.push(line);
        if let Some(entry) = state.logs.get(state.store(), &id)? {
            let doc = crate::cache::lock(&entry);
            let due: BTreeSet<HouseholdId> = doc.ledger.follow_ups().into_iter().collect();
            // The latest visit to each household due: when, its outcome, who, the note.
            let mut last: BTreeMap<HouseholdId, tungnha_client_core::Visit> = BTreeMap::new();
            for v in doc.log.visits().ok.into_values().filter(|v| !v.voided && due.contains(&v.household)) {
                match last.get(&v.household) {
                    Some(seen) if seen.at >= v.at => {}
                    _ => {
                        last.insert(v.household.clone(), v);
                    }
                }
            }
            let names = names(state, last.values().map(|v| &v.by));
            for (hid, household) in doc.log.households().ok.into_iter().filter(|(id, _)| due.contains(id)) {
                let latest = last.remove(&hid);
                follow_ups.push(FollowUpLine {
                    hamlet_id: h.id.to_string(),
                    hamlet_name: h.name.clone(),
                    last: latest.as_ref().map(|v| (v.at, v.outcome)),
                    last_by: latest.as_ref().and_then(|v| names.get(&v.by).cloned()).unwrap_or_default(),
                    last_note: latest.and_then(|v| v.note),
                    household_id: hid.to_string(),
                    label: household.label,
                    head: household.head,
                });
            }
        }
    }
    Sort::Name.apply(&mut hamlets);
    follow_ups.sort_by(|a, b| {
        collate::compare(&a.hamlet_name, &b.hamlet_name).then_with(|| collate::compare(&a.label, &b.label))
    });
    let enrollable = organisation::team_of(state.store(), leader)?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect();
    Ok(TeamPage {
        hamlets,
        members: volunteer_lines(state, &sum),
        follow_ups,
        enrollable,
        errors: Default::default(),
        period: period.map(|days| Period {
            from: days.first().cloned().unwrap_or_default(),
            to: days.last().cloned().unwrap_or_default(),
        }),
        bad_period: false,
        today: vn_day(crate::now_ms()),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct PeriodOnly {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub(crate) async fn team(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PeriodOnly>,
) -> Response {
    viewer
        .run(move |v| {
            let leader = v.with_role(&[Role::Leader])?;
            let period = period_days(&q.from, &q.to);
            let mut view = team_page(&state, &leader.id, period.clone().unwrap_or(None))?;
            view.bad_period = period.is_err();
            Ok(tungnha_web::dashboard::team(&v.chrome(), &view).into_response())
        })
        .await
}

pub(crate) async fn team_follow_ups_print(State(state): State<AppState>, viewer: Viewer) -> Response {
    viewer
        .run(move |v| {
            let leader = v.with_role(&[Role::Leader])?;
            let view = team_page(&state, &leader.id, None)?;
            Ok(tungnha_web::dashboard::follow_ups_print(&v.chrome(), &view.follow_ups).into_response())
        })
        .await
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
        days.insert("2026-11-28".to_owned(), DayFigures { visits: 0, covered: 5 });
        days.insert("2026-11-29".to_owned(), DayFigures { visits: 7, covered: 0 });
        days.insert("2026-11-30".to_owned(), DayFigures { visits: 2, covered: 2 });
        let window = vec!["2026-11-28".to_owned(), "2026-11-29".to_owned()];
        let (visits, covered) = series(47, &days, &window);
        assert_eq!(visits, [("2026-11-28".to_owned(), 0), ("2026-11-29".to_owned(), 7)]);
        assert_eq!(covered, [("2026-11-28".to_owned(), 45), ("2026-11-29".to_owned(), 45)]);
    }
}
