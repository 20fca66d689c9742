//! The coverage pages: the start page that sends each role home, the commune
//! dashboard, a hamlet's page, a household's history and a leader's team page.
//!
//! Dashboards read the materialized coverage only (one record per hamlet), so their
//! cost follows the number of hamlets, never the number of visits. Hamlet and
//! household pages list households, so they read that hamlet's log from the cache.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::collate;
use tungnha_client_core::domain::CommuneKind;
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::{CommuneId, Coverage, HamletId, HouseholdId, ProvinceId, Role, UserId};
use tungnha_web::dashboard::{
    Band, CommuneDashboard, CounterLine, CounterPage, Figures, FollowUpLine, HamletLine, HamletPage,
    HouseholdLine, HouseholdPage, People, Period, ProvinceDashboard, ProvinceFilter, STATUS_FILTERS, Sort,
    TeamPage, VisitLine, VolunteerLine, WalkInLine,
};

use tungnha_web::layout::url_part;
use tungnha_web::teams::TeamLine;

use super::{DoneQuery, PageError, PageResult, Viewer, see_other, visible_hamlet};
use crate::AppState;
use crate::records::{Commune, FilingLevel, Hamlet, Province};
use crate::service::reports::{self, CHART_DAYS};
use crate::service::{access, teams};
use crate::store::DayFigures;

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

/// The commune whose id is in the path, if the viewer may manage it (checked before
/// the commune is looked up, so nobody learns which communes exist).
pub(crate) fn managed_commune(state: &AppState, viewer: &Viewer, id: &str) -> Result<Commune, PageError> {
    let id = CommuneId::parse(id).map_err(|_| PageError::NotFound)?;
    viewer.official_of(&id)?;
    state.store.commune(&id)?.ok_or(PageError::NotFound)
}

/// The commune whose id is in the path, if the viewer may read its figures: those who
/// manage it, and the officers of its province (for whom a commune that does not
/// exist and one of another province look the same).
pub(crate) fn readable_commune(state: &AppState, viewer: &Viewer, id: &str) -> Result<Commune, PageError> {
    let user = viewer.user()?;
    let parsed = CommuneId::parse(id).map_err(|_| PageError::NotFound)?;
    if access::may_see_commune(user, &parsed) {
        return state.store.commune(&parsed)?.ok_or(PageError::NotFound);
    }
    match state.store.commune(&parsed)? {
        Some(c) if access::may_read_commune(user, &c) => Ok(c),
        _ => Err(PageError::Forbidden),
    }
}

/// The province whose id is in the path, if the viewer may read its figures (its
/// officers, administrators), checked before it is looked up.
pub(crate) fn readable_province(state: &AppState, viewer: &Viewer, id: &str) -> Result<Province, PageError> {
    let user = viewer.user()?;
    let parsed = ProvinceId::parse(id).map_err(|_| PageError::NotFound)?;
    if !access::may_see_province(user, &parsed) {
        return Err(PageError::Forbidden);
    }
    state.store.province(&parsed)?.ok_or(PageError::NotFound)
}

pub(crate) fn hamlet_line(h: &Hamlet, c: &Coverage, last_activity: Option<String>) -> HamletLine {
    HamletLine {
        id: h.id.to_string(),
        name: h.name.clone(),
        figures: Figures::of(c, h.target_households),
        last_activity,
        in_period: None,
        in_campaign: None,
        people: None,
    }
}

/// Accounts per kind, labelled from the catalogue (a code no longer listed shows as is).
pub(crate) fn accounts_by_kind(catalogue: &Catalogue, c: &Coverage) -> Vec<(String, u64)> {
    c.accounts.iter().map(|(code, n)| (catalogue.account_label(code), *n)).collect()
}

pub(crate) fn volunteer_lines(state: &AppState, c: &Coverage) -> Result<Vec<VolunteerLine>, PageError> {
    let names = reports::names(state.store(), c.per_volunteer.keys())?;
    let mut lines: Vec<VolunteerLine> = c
        .per_volunteer
        .iter()
        .map(|(id, f)| VolunteerLine { name: names.get(id).cloned().unwrap_or_default(), figures: *f })
        .collect();
    lines.sort_by(|a, b| {
        b.figures.visits.cmp(&a.figures.visits).then_with(|| collate::compare(&a.name, &b.name))
    });
    Ok(lines)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SortQuery {
    #[serde(default)]
    sort: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    campaign: String,
}

/// Builds the commune dashboard's view-model: each hamlet's headline figures and only
/// the days the charts draw, so its cost follows the number of hamlets. With a
/// campaign chosen (its number), each hamlet's coverage in it too.
pub(crate) fn commune_dashboard(
    state: &AppState,
    commune: Commune,
    sort: Sort,
    now: i64,
    period: Option<Vec<String>>,
    campaign: &str,
) -> Result<CommuneDashboard, PageError> {
    let data = reports::commune_figures(state.store(), &commune.id, false)?;
    let today = vn_day(now);
    let all = state.store.campaigns_of(&commune.id)?;
    let chips = all.iter().rev().map(|c| super::manage::campaign_chip(&commune, c, &today)).collect();
    let campaign_figures = match crate::service::campaigns::chosen(state.store(), &commune, campaign)? {
        Some(c) => Some(super::manage::campaign_line(state, &commune, &c, now)?),
        None => None,
    };
    let chosen = period.is_some();
    let window = period.unwrap_or_else(|| reports::last_days(now, CHART_DAYS));
    let from = window.first().cloned().unwrap_or_default();
    let to = window.last().cloned().unwrap_or_default();
    let mut all_days: BTreeMap<String, DayFigures> = BTreeMap::new();
    let mut hamlets = Vec::new();
    for (h, c) in &data.hamlets {
        let mut days = BTreeMap::new();
        reports::add_days(state.store(), &h.id, &from, &mut days)?;
        let mut line = hamlet_line(h, c, state.store.last_visit_day(&h.id)?);
        if chosen {
            line.in_period = Some(reports::sum_days(&days, &from, &to));
        }
        if let Some((_, per_hamlet)) = &campaign_figures {
            line.in_campaign = per_hamlet.iter().find(|f| f.hamlet == h.id).map(|f| (f.covered, f.to_cover));
        }
        hamlets.push(line);
        for (d, f) in days {
            all_days.entry(d).or_default().add(&f);
        }
    }
    sort.apply(&mut hamlets);
    let (visits_per_day, covered_by_day) = reports::series(data.totals.covered, &all_days, &window);
    let filing = crate::service::filing::latest_rate(
        state.store(),
        &[crate::records::FilingLevel::Commune(commune.id.clone())],
    )?;
    let counters = data
        .counters
        .iter()
        .map(|(h, c)| CounterLine { id: h.id.to_string(), name: h.name.clone(), figures: c.walkins.clone() })
        .collect();
    Ok(CommuneDashboard {
        filing,
        walkins: data.totals.walkins.clone(),
        counters,
        teams: team_lines(state, &commune.id, &data.hamlets, now)?,
        read_only: false,
        id: commune.id.to_string(),
        name: commune.name.clone(),
        figures: Figures::of_sum(&data.totals, data.target, data.to_cover),
        accounts_by_kind: accounts_by_kind(&commune.catalogue, &data.totals),
        hamlets,
        sort,
        visits_per_day,
        covered_by_day,
        period: chosen.then_some(Period { from, to }),
        bad_period: false,
        today,
        campaigns: chips,
        campaign: campaign_figures.map(|(line, _)| line),
    })
}

/// A commune's teams with their figures, from its hamlets' headline figures
/// (`hamlets`, as `reports::commune_figures` read them).
pub(crate) fn team_lines(
    state: &AppState,
    commune: &CommuneId,
    hamlets: &[(Hamlet, Coverage)],
    now: i64,
) -> Result<Vec<TeamLine>, PageError> {
    let figures = teams::team_figures(state.store(), commune, hamlets, now)?;
    let hamlet_names: BTreeMap<&HamletId, &str> =
        hamlets.iter().map(|(h, _)| (&h.id, h.name.as_str())).collect();
    let leaders = reports::names(state.store(), figures.iter().flat_map(|f| &f.team.leaders))?;
    Ok(figures
        .into_iter()
        .map(|f| TeamLine {
            leaders: f.team.leaders.iter().filter_map(|l| leaders.get(l).cloned()).collect(),
            hamlets: f
                .team
                .hamlets
                .iter()
                .filter_map(|h| hamlet_names.get(h).map(|n| (*n).to_owned()))
                .collect(),
            members: f.members,
            active: f.active,
            figures: Figures::of_sum(&f.coverage, f.target, f.to_cover),
            id: f.team.id.to_string(),
            name: f.team.name,
        })
        .collect())
}

pub(crate) async fn commune(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SortQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = readable_commune(&state, v, &id)?;
            let read_only = !crate::service::access::may_see_commune(v.user()?, &commune.id);
            let period = reports::period_days(&q.from, &q.to);
            let mut view = commune_dashboard(
                &state,
                commune,
                Sort::from_code(&q.sort),
                crate::now_ms(),
                period.clone().unwrap_or(None),
                &q.campaign,
            )?;
            view.bad_period = period.is_err();
            view.read_only = read_only;
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
    #[serde(default)]
    done: String,
}

/// Every household of a hamlet with its status and latest visit, ordered by label.
pub(crate) fn household_lines(state: &AppState, hamlet: &Hamlet) -> Result<Vec<HouseholdLine>, PageError> {
    let mut lines: Vec<HouseholdLine> = reports::households(state, &hamlet.id)?
        .into_iter()
        .map(|row| HouseholdLine {
            status: row.status,
            last_visit: row.last_visit,
            id: row.id.to_string(),
            label: row.household.label,
            head: row.household.head,
        })
        .collect();
    // Vietnamese order, "Số 2" before "Số 10", as people number houses.
    lines.sort_by(|a, b| collate::compare(&a.label, &b.label).then_with(|| a.id.cmp(&b.id)));
    Ok(lines)
}

/// How many walk-ins a counter's page lists.
const WALKINS_SHOWN: usize = 200;

/// A one-stop counter's page: its walk-ins' figures and the latest walk-ins.
fn counter_page(state: &AppState, v: &Viewer, counter: &Hamlet, catalogue: &Catalogue) -> PageResult {
    let coverage = state.store.coverage_headline(&counter.id)?;
    let walkins = reports::walkins(state, &counter.id, WALKINS_SHOWN)?;
    let names = reports::names(state.store(), walkins.iter().map(|(_, w)| &w.by))?;
    let view = CounterPage {
        name: counter.name.clone(),
        figures: coverage.walkins,
        walkins: walkins
            .into_iter()
            .map(|(_, w)| WalkInLine {
                at: w.at,
                by: names.get(&w.by).cloned().unwrap_or_else(|| w.by.to_string()),
                people: u64::from(w.people),
                topics: w.topics.iter().map(|code| catalogue.topic_label(code)).collect(),
                accounts: w.accounts.values().map(|n| u64::from(*n)).sum(),
                filed: u64::from(w.filed),
                note: w.note,
                voided: w.voided,
            })
            .collect(),
    };
    Ok(tungnha_web::dashboard::counter(&v.chrome(), &view).into_response())
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
            if hamlet.is_counter() {
                return counter_page(&state, v, &hamlet, &commune.catalogue);
            }
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
            let period = reports::period_days(&q.from, &q.to);
            let window = period.clone().ok().flatten().unwrap_or_else(|| reports::last_days(now, CHART_DAYS));
            let mut days = BTreeMap::new();
            reports::add_days(
                state.store(),
                &hamlet.id,
                window.first().map_or("", String::as_str),
                &mut days,
            )?;
            let (visits_per_day, _) = reports::series(coverage.covered, &days, &window);
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
                volunteers: volunteer_lines(&state, &coverage)?,
                households,
                total_households: total,
                filter,
                query: q.q,
                visits_per_day,
                awaiting_review: crate::service::review::awaiting(&state, &hamlet, false)?.0.len(),
                period: chosen,
                bad_period: period.is_err(),
                today: vn_day(now),
                may_compact: access::may_run_campaigns(v.user()?, &hamlet.commune),
                notice: match q.done.as_str() {
                    "rolled" => Some(v.lang.texts().compacted),
                    "nothing" => Some(v.lang.texts().compact_nothing),
                    _ => None,
                },
            };
            Ok(tungnha_web::dashboard::hamlet(&v.chrome(), &view).into_response())
        })
        .await
}

pub(crate) async fn household(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, household)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let hamlet = visible_hamlet(&state, v, &id)?;
            let hid = HouseholdId::parse(&household).map_err(|_| PageError::NotFound)?;
            let notice = (q.done == "erased").then_some(v.lang.texts().erase_done);
            Ok(household_view(&state, v, &hamlet, &hid, notice, None)?.into_response())
        })
        .await
}

/// A household's page: its story, and for an official its erasure and export.
pub(crate) fn household_view(
    state: &AppState,
    v: &Viewer,
    hamlet: &Hamlet,
    hid: &HouseholdId,
    notice: Option<&'static str>,
    erase_error: Option<(tungnha_web::layout::FormErrors, String)>,
) -> Result<maud::Markup, PageError> {
    let catalogue = state.store.commune(&hamlet.commune)?.map(|c| c.catalogue).unwrap_or_default();
    let story = reports::household_story(state, &hamlet.id, hid)?.ok_or(PageError::NotFound)?;
    let mut merge_targets: Vec<(String, String)> =
        story.merge_targets.into_iter().map(|(id, label)| (id.to_string(), label)).collect();
    merge_targets.sort_by(|a, b| collate::compare(&a.1, &b.1));
    let user = v.user()?;
    // Only those who lead may merge; others are not shown the form.
    if !user.role.leads() {
        merge_targets.clear();
    }
    let names = reports::names(state.store(), story.visits.iter().map(|v| &v.by))?;
    let h = story.household;
    let (status, visits) = (story.status, story.visits);
    let view = HouseholdPage {
        id: hid.to_string(),
        merge_targets,
        hamlet_id: hamlet.id.to_string(),
        hamlet_name: hamlet.name.clone(),
        label: h.label,
        head: h.head,
        members: h.members,
        retired: h.retired,
        status,
        may_erase: access::may_erase_household(user, hamlet),
        notice,
        erase_error,
        visits: visits
            .into_iter()
            .map(|vis| VisitLine {
                at: vis.at,
                by: names.get(&vis.by).cloned().unwrap_or_default(),
                outcome: vis.outcome,
                topics: vis.topics.iter().map(|t| catalogue.topic_label(t)).collect(),
                accounts: vis.accounts.iter().map(|(k, n)| (catalogue.account_label(k), *n)).collect(),
                people: vis.people,
                note: vis.note,
                voided: vis.voided,
            })
            .collect(),
    };
    Ok(tungnha_web::dashboard::household(&v.chrome(), &view))
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
    for id in access::hamlets_of(state.store(), leader)? {
        let Some(h) = state.store.hamlet(&id)? else { continue };
        // Headline figures and the last active day, as on the commune dashboard.
        let c = state.store.coverage_headline(&id)?;
        sum.absorb(&c);
        let mut line = hamlet_line(&h, &c, state.store.last_visit_day(&id)?);
        if let Some(days) = &period {
            line.in_period = Some(reports::period_figures(state.store(), &h.id, days)?);
        }
        hamlets.push(line);
        let due = reports::follow_ups(state, &id)?;
        let names = reports::names(state.store(), due.iter().filter_map(|f| f.last.as_ref()).map(|v| &v.by))?;
        for f in due {
            follow_ups.push(FollowUpLine {
                hamlet_id: h.id.to_string(),
                hamlet_name: h.name.clone(),
                last: f.last.as_ref().map(|v| (v.at, v.outcome)),
                last_by: f.last.as_ref().and_then(|v| names.get(&v.by).cloned()).unwrap_or_default(),
                last_note: f.last.and_then(|v| v.note),
                household_id: f.id.to_string(),
                label: f.household.label,
                head: f.household.head,
            });
        }
    }
    Sort::Name.apply(&mut hamlets);
    follow_ups.sort_by(|a, b| {
        collate::compare(&a.hamlet_name, &b.hamlet_name).then_with(|| collate::compare(&a.label, &b.label))
    });
    let enrollable = access::members_led_by(state.store(), leader)?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect();
    // Each team the leader leads, with its day's report.
    let mut led: Vec<(String, String)> = state
        .store
        .teams_of_user(leader)?
        .into_iter()
        .filter(|t| t.is_led_by(leader))
        .map(|t| {
            let day =
                format!("/communes/{}/teams/{}/day", url_part(t.commune.as_str()), url_part(t.id.as_str()));
            (t.name, day)
        })
        .collect();
    led.sort_by(|a, b| collate::compare(&a.0, &b.0));
    Ok(TeamPage {
        teams: led,
        hamlets,
        members: volunteer_lines(state, &sum)?,
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
            let period = reports::period_days(&q.from, &q.to);
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

#[derive(Debug, Deserialize)]
pub(crate) struct ProvinceQuery {
    #[serde(default)]
    sort: String,
    #[serde(default)]
    band: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    idle: String,
}

/// The province dashboard: one row per commune from its materialised totals.
/// A commune's or province's teams and people, as a dashboard shows them.
fn people(p: &reports::People) -> People {
    People { teams: p.teams, members: p.members, active: p.active_members }
}

pub(crate) async fn province(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ProvinceQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let user = v.user()?;
            let id = ProvinceId::parse(&id).map_err(|_| PageError::NotFound)?;
            let now = crate::now_ms();
            let window = reports::last_days(now, CHART_DAYS);
            let week = &window[window.len().saturating_sub(7)..];
            let from = window.first().cloned().unwrap_or_default();
            let recent_from = week.first().cloned().unwrap_or_default();
            let figures = reports::province_figures(state.store(), user, &id, &from, &recent_from, now)?;
            let filter = ProvinceFilter {
                band: Band::from_code(&q.band),
                idle: !q.idle.is_empty(),
                kind: CommuneKind::from_code(&q.kind),
            };
            let (week_from, week_to) =
                (week.first().cloned().unwrap_or_default(), week.last().cloned().unwrap_or_default());
            let mut rows = Vec::new();
            for row in &figures.communes {
                let recent = reports::sum_days(&row.days, &week_from, &week_to);
                let f = Figures::of_sum(&row.totals.coverage, row.totals.target, row.totals.to_cover);
                let shown = filter.band.holds(f.ratio)
                    && (!filter.idle || recent.0 == 0)
                    && filter.kind.is_none_or(|k| k == row.commune.kind);
                if shown {
                    rows.push(HamletLine {
                        id: row.commune.id.to_string(),
                        name: row.commune.name.clone(),
                        figures: f,
                        last_activity: row.last_day.clone(),
                        in_period: Some(recent),
                        in_campaign: None,
                        people: Some(people(&row.people)),
                    });
                }
            }
            let sort = Sort::from_code(&q.sort);
            sort.apply(&mut rows);
            let t = &figures.totals;
            let (visits_per_day, covered_by_day) =
                reports::series(t.coverage.covered, &figures.days, &window);
            // Every level of the province: its agencies and each commune.
            let levels: Vec<FilingLevel> =
                std::iter::once(FilingLevel::Province(figures.province.id.clone()))
                    .chain(figures.communes.iter().map(|row| FilingLevel::Commune(row.commune.id.clone())))
                    .collect();
            let view = ProvinceDashboard {
                walkins: t.coverage.walkins.clone(),
                filing: crate::service::filing::latest_rate(state.store(), &levels)?,
                id: figures.province.id.to_string(),
                name: figures.province.name.clone(),
                figures: Figures::of_sum(&t.coverage, t.target, t.to_cover),
                communes: figures.communes.len(),
                people: people(&figures.people),
                visits_7d: reports::sum_days(&figures.days, &week_from, &week_to).0,
                accounts_by_kind: accounts_by_kind(&Catalogue::default(), &t.coverage),
                rows,
                sort,
                filter,
                visits_per_day,
                covered_by_day,
            };
            Ok(tungnha_web::dashboard::province(&v.chrome(), &view).into_response())
        })
        .await
}
