//! Reports upward: an Excel workbook (sheets: summary, hamlets, teams, volunteers,
//! days, and households for one hamlet; a province's: summary, communes, teams, the
//! online-filing rate by month and level, days)
//! and CSV, for a province, a commune or one hamlet. Both formats are
//! written from the same `Table`s, so they always hold the same numbers as each other
//! and as the dashboards (the same materialized coverage). Every export is audited.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use tungnha_client_core::Coverage;
use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::coverage::{share, to_cover};
use tungnha_client_core::domain::vn_day;
use tungnha_web::Texts;

use super::pages::{accounts_by_kind, household_lines, managed_commune};
use super::{PageError, Viewer, visible_hamlet};
use crate::AppState;
use crate::records::{Commune, Hamlet};
use crate::service::audit;
use crate::service::reports::{self, CommuneFigures};

/// One cell of a report.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Int(u64),
    /// A share, shown as a percentage.
    Ratio(f64),
    /// A day, "YYYY-MM-DD".
    Day(String),
}

/// One sheet of a report (one CSV file).
#[derive(Debug, Clone)]
struct Table {
    name: String,
    header: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

/// The summary sheet of a hamlet or a commune: `to_cover` is the hamlet's, or the sum
/// of the commune's hamlets' (`coverage::to_cover`), as on the dashboards; accounts by
/// kind under the catalogue's labels.
fn summary(
    t: &Texts,
    title: &str,
    c: &Coverage,
    (target, to_cover): (u64, u64),
    catalogue: &Catalogue,
    now: i64,
) -> Table {
    let mut rows = vec![
        vec![Cell::Text(title.to_owned()), Cell::Text(String::new())],
        vec![Cell::Text(t.exported_on.into()), Cell::Day(vn_day(now))],
        vec![Cell::Text(t.target.into()), Cell::Int(target)],
        vec![Cell::Text(t.registered.into()), Cell::Int(c.registered)],
        vec![Cell::Text(t.to_cover.into()), Cell::Int(to_cover)],
        vec![Cell::Text(t.covered.into()), Cell::Int(c.covered)],
        vec![Cell::Text(t.attempted.into()), Cell::Int(c.attempted)],
        vec![Cell::Text(t.coverage.into()), Cell::Ratio(share(c.covered, to_cover))],
        vec![Cell::Text(t.visits.into()), Cell::Int(c.visits)],
        vec![Cell::Text(t.accounts.into()), Cell::Int(c.accounts.values().sum())],
        vec![Cell::Text(t.people_helped.into()), Cell::Int(c.people)],
        vec![Cell::Text(t.follow_ups.into()), Cell::Int(c.follow_ups)],
        vec![Cell::Text(t.dr_filed.into()), Cell::Int(c.filed)],
    ];
    for (kind, n) in accounts_by_kind(catalogue, c) {
        rows.push(vec![Cell::Text(format!("{}: {kind}", t.accounts)), Cell::Int(n)]);
    }
    // Walk-ins at the counters: their own lines, never in the coverage above.
    if !c.walkins.is_zero() {
        let w = &c.walkins;
        rows.push(vec![Cell::Text(t.walkins.into()), Cell::Int(w.count)]);
        rows.push(vec![Cell::Text(t.walkin_people.into()), Cell::Int(w.people)]);
        rows.push(vec![Cell::Text(t.walkin_accounts.into()), Cell::Int(w.accounts_total())]);
        rows.push(vec![Cell::Text(t.walkin_filed.into()), Cell::Int(w.filed)]);
    }
    Table { name: t.sheet_summary.into(), header: vec![t.detail, ""], rows }
}

/// The hamlets sheet; with a period (its days, "YYYY-MM-DD"), two more columns: visits
/// and households first covered in it, from the day series.
fn hamlets(t: &Texts, rows: &[(Hamlet, Coverage)], period: Option<&[String]>) -> Table {
    let mut table = hamlets_all_time(t, rows);
    if let Some(days) = period {
        table.header.extend([t.period_visits, t.period_covered]);
        for (row, (_, c)) in table.rows.iter_mut().zip(rows) {
            let sum = |series: &std::collections::BTreeMap<String, u64>| {
                days.iter().filter_map(|d| series.get(d)).sum::<u64>()
            };
            row.extend([Cell::Int(sum(&c.per_day)), Cell::Int(sum(&c.covered_per_day))]);
        }
    }
    table
}

fn hamlets_all_time(t: &Texts, rows: &[(Hamlet, Coverage)]) -> Table {
    Table {
        name: t.hamlets.into(),
        header: vec![
            t.code,
            t.hamlet,
            t.target,
            t.registered,
            t.to_cover,
            t.covered,
            t.attempted,
            t.coverage,
            t.visits,
            t.accounts,
            t.people_helped,
            t.follow_ups,
            t.last_activity,
        ],
        rows: rows
            .iter()
            .map(|(h, c)| {
                vec![
                    Cell::Text(h.code.clone()),
                    Cell::Text(h.name.clone()),
                    Cell::Int(h.target_households),
                    Cell::Int(c.registered),
                    Cell::Int(to_cover(h.target_households, c.registered)),
                    Cell::Int(c.covered),
                    Cell::Int(c.attempted),
                    Cell::Ratio(c.ratio(h.target_households)),
                    Cell::Int(c.visits),
                    Cell::Int(c.accounts.values().sum()),
                    Cell::Int(c.people),
                    Cell::Int(c.follow_ups),
                    c.per_day
                        .keys()
                        .next_back()
                        .map(|d| Cell::Day(d.clone()))
                        .unwrap_or(Cell::Text(String::new())),
                ]
            })
            .collect(),
    }
}

fn volunteers(state: &AppState, t: &Texts, c: &Coverage) -> Result<Table, PageError> {
    let names = reports::names(state.store(), c.per_volunteer.keys())?;
    Ok(Table {
        name: t.volunteer.into(),
        header: vec![t.full_name, t.username, t.visits, t.covering_visits, t.accounts, t.people_helped],
        rows: c
            .per_volunteer
            .iter()
            .map(|(id, f)| {
                vec![
                    Cell::Text(names.get(id).cloned().unwrap_or_default()),
                    Cell::Text(id.to_string()),
                    Cell::Int(f.visits),
                    Cell::Int(f.covering_visits),
                    Cell::Int(f.accounts),
                    Cell::Int(f.people),
                ]
            })
            .collect(),
    })
}

/// The online-filing sheet of a province report: per month, its agencies, its
/// communes summed, the whole province, then each commune, beside the teams' help.
fn filing_sheet(t: &Texts, f: &crate::service::filing::ProvinceFiling) -> Table {
    use crate::service::filing::MonthRow;
    let row = |unit: &str, m: &MonthRow| {
        let (received, online) = match m.recorded {
            Some((r, o)) => (Cell::Int(r), Cell::Int(o)),
            None => (Cell::Text(String::new()), Cell::Text(String::new())),
        };
        vec![
            Cell::Text(unit.to_owned()),
            Cell::Text(m.month.clone()),
            received,
            online,
            m.rate().map_or(Cell::Text(String::new()), Cell::Ratio),
            Cell::Int(m.helped_filed),
            Cell::Int(m.helped_accounts),
        ]
    };
    let mut rows = Vec::new();
    for (unit, months) in
        [(t.fl_level_province, &f.agencies), (t.fl_level_communes, &f.communes_sum), (t.fl_level_all, &f.all)]
    {
        rows.extend(months.iter().map(|m| row(unit, m)));
    }
    for (c, months) in &f.communes {
        rows.extend(
            months.iter().filter(|m| m.recorded.is_some() || m.helped_filed > 0).map(|m| row(&c.name, m)),
        );
    }
    Table {
        name: t.fl_latest.into(),
        header: vec![
            t.fl_unit,
            t.field_month,
            t.fl_received,
            t.fl_online,
            t.fl_rate,
            t.fl_helped,
            t.fl_accounts,
        ],
        rows,
    }
}

fn days(t: &Texts, c: &Coverage) -> Table {
    let all: BTreeSet<&String> = c.per_day.keys().chain(c.covered_per_day.keys()).collect();
    Table {
        name: t.sheet_days.into(),
        header: vec![t.when, t.visits, t.newly_covered],
        rows: all
            .into_iter()
            .map(|d| {
                vec![
                    Cell::Day(d.clone()),
                    Cell::Int(c.per_day.get(d).copied().unwrap_or(0)),
                    Cell::Int(c.covered_per_day.get(d).copied().unwrap_or(0)),
                ]
            })
            .collect(),
    }
}

fn households(
    state: &AppState,
    t: &Texts,
    lang: tungnha_web::Lang,
    hamlet: &Hamlet,
) -> Result<Table, PageError> {
    let rows = household_lines(state, hamlet)?
        .into_iter()
        .map(|h| {
            vec![
                Cell::Text(tungnha_web::layout::household_label(t, &h.label).to_owned()),
                Cell::Text(h.head.unwrap_or_default()),
                Cell::Text(lang.status(h.status).into()),
                h.last_visit.map(|at| Cell::Day(vn_day(at))).unwrap_or(Cell::Text(String::new())),
            ]
        })
        .collect();
    Ok(Table { name: t.households.into(), header: vec![t.household, t.head, t.status, t.last_visit], rows })
}

fn xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for table in tables {
        let ws = wb.add_worksheet();
        ws.set_name(&table.name)?;
        for (col, title) in table.header.iter().enumerate() {
            ws.write_string_with_format(0, col as u16, *title, &bold)?;
            ws.set_column_width(col as u16, if col < 2 { 28 } else { 16 })?;
        }
        for (i, row) in table.rows.iter().enumerate() {
            let r = i as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                let c = col as u16;
                match cell {
                    Cell::Text(s) => ws.write_string(r, c, s)?,
                    Cell::Int(n) => ws.write_number(r, c, *n as f64)?,
                    Cell::Ratio(x) => ws.write_number_with_format(r, c, *x, &percent)?,
                    Cell::Day(d) => match ExcelDateTime::parse_from_str(d) {
                        Ok(day) => ws.write_datetime_with_format(r, c, &day, &date)?,
                        Err(_) => ws.write_string(r, c, d)?,
                    },
                };
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}

/// A table as CSV in the viewer's language's conventions, which are the ones the
/// spreadsheet on their computer expects: in Vietnamese, fields separated by `;` and a
/// decimal comma (Excel set to Vietnamese splits on `,` otherwise, and reads 0.3289 as
/// text); in English, `,` and a decimal point. Numbers carry no thousands separator.
fn csv(table: &Table, lang: tungnha_web::Lang) -> Result<Vec<u8>, PageError> {
    let internal = |e: csv::Error| PageError::internal(e);
    let (delimiter, decimal) = match lang {
        tungnha_web::Lang::Vi => (b';', ","),
        tungnha_web::Lang::En => (b',', "."),
    };
    // A byte-order mark, so Excel opens the UTF-8 file with its diacritics intact.
    let mut out = csv::WriterBuilder::new().delimiter(delimiter).from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(&table.header).map_err(internal)?;
    for row in &table.rows {
        out.write_record(row.iter().map(|cell| match cell {
            Cell::Text(s) => inert(s),
            Cell::Int(n) => n.to_string(),
            Cell::Ratio(x) => format!("{x:.4}").replace('.', decimal),
            Cell::Day(d) => lang.day(d),
        }))
        .map_err(internal)?;
    }
    out.into_inner().map_err(PageError::internal)
}

/// A text cell a spreadsheet will not read as a formula (OWASP's rule for CSV
/// injection): text volunteers typed that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading apostrophe, which Excel shows as plain text.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

fn download(bytes: Vec<u8>, content_type: &'static str, filename: String) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}
/// The teams sheet: each team with its people and its hamlets' figures; a province's
/// names each team's commune first.
fn teams_sheet(
    state: &AppState,
    t: &Texts,
    rows: &[(Option<&Commune>, crate::service::teams::TeamFigures)],
) -> Result<Table, PageError> {
    let leaders = reports::names(state.store(), rows.iter().flat_map(|(_, f)| &f.team.leaders))?;
    let with_commune = rows.iter().any(|(c, _)| c.is_some());
    let mut header = if with_commune { vec![t.commune] } else { Vec::new() };
    header.extend([
        t.team_name,
        t.team_leaders,
        t.team_members,
        t.active_7d,
        t.team_hamlets,
        t.target,
        t.to_cover,
        t.covered,
        t.coverage,
        t.visits,
        t.accounts,
        t.people_helped,
    ]);
    let rows = rows
        .iter()
        .map(|(commune, f)| {
            let c = &f.coverage;
            let mut row: Vec<Cell> = commune.iter().map(|c| Cell::Text(c.name.clone())).collect();
            let names: Vec<&str> =
                f.team.leaders.iter().filter_map(|l| leaders.get(l).map(String::as_str)).collect();
            let hamlets: Vec<&str> = f.team.hamlets.iter().map(|h| h.as_str()).collect();
            row.extend([
                Cell::Text(f.team.name.clone()),
                Cell::Text(names.join(", ")),
                Cell::Int(f.members),
                Cell::Int(f.active),
                Cell::Text(hamlets.join(" ")),
                Cell::Int(f.target),
                Cell::Int(f.to_cover),
                Cell::Int(c.covered),
                Cell::Ratio(share(c.covered, f.to_cover)),
                Cell::Int(c.visits),
                Cell::Int(c.accounts.values().sum()),
                Cell::Int(c.people),
            ]);
            row
        })
        .collect();
    Ok(Table { name: t.nav_teams.into(), header, rows })
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";

/// The commune's tables: summary, hamlets (with the period's columns if one was
/// chosen), teams, volunteers, days.
fn commune_tables(
    state: &AppState,
    t: &Texts,
    commune: &Commune,
    data: &CommuneFigures,
    now: i64,
    period: Option<&[String]>,
) -> Result<Vec<Table>, PageError> {
    let teams: Vec<_> = crate::service::teams::team_figures(state.store(), &commune.id, &data.hamlets, now)?
        .into_iter()
        .map(|f| (None, f))
        .collect();
    Ok(vec![
        summary(t, &commune.name, &data.totals, (data.target, data.to_cover), &commune.catalogue, now),
        hamlets(t, &data.hamlets, period),
        teams_sheet(state, t, &teams)?,
        volunteers(state, t, &data.totals)?,
        days(t, &data.totals),
    ])
}

fn audit_export(state: &AppState, viewer: &Viewer, commune: &Commune, what: String) -> Result<(), PageError> {
    let by = viewer.user()?.id.to_string();
    audit::audit(state.store(), &by, Some(&commune.id), "export", what)?;
    Ok(())
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: a period, as the dashboard chose it.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// A campaign's number: its coverage per hamlet becomes a column.
    #[serde(default)]
    campaign: String,
}

/// Adds a campaign's coverage per hamlet to the hamlets sheet, as the dashboard shows it.
fn with_campaign(
    t: &Texts,
    table: &mut Table,
    rows: &[(Hamlet, Coverage)],
    figures: &[crate::service::campaigns::CampaignHamlet],
) {
    table.header.push(t.campaign_covered);
    for (row, (h, _)) in table.rows.iter_mut().zip(rows) {
        let covered = figures.iter().find(|f| f.hamlet == h.id).map_or(0, |f| f.covered);
        row.push(Cell::Int(covered));
    }
}

async fn commune_export(
    state: AppState,
    viewer: Viewer,
    id: String,
    excel: bool,
    q: PeriodQuery,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            // A period that cannot be read is refused, not silently dropped.
            let period = reports::period_days(&q.from, &q.to).map_err(|_| PageError::NotFound)?;
            let now = crate::now_ms();
            let data = reports::commune_figures(state.store(), &commune.id, true)?;
            let mut tables = commune_tables(&state, v.lang.texts(), &commune, &data, now, period.as_deref())?;
            let mut stem = match &period {
                Some(days) => format!(
                    "tungnha-{}-{}-{}",
                    commune.id,
                    days.first().map_or("", String::as_str),
                    days.last().map_or("", String::as_str)
                ),
                None => format!("tungnha-{}-{}", commune.id, vn_day(now)),
            };
            if !q.campaign.is_empty() {
                // A campaign that is not the commune's is refused, like a bad period.
                let campaign = crate::service::campaigns::chosen(state.store(), &commune, &q.campaign)?
                    .ok_or(PageError::NotFound)?;
                let figures = crate::service::campaigns::figures(&state, &campaign)?;
                with_campaign(v.lang.texts(), &mut tables[1], &data.hamlets, &figures);
                stem.push_str(&format!("-dot-{}", campaign.number));
            }
            let response = if excel {
                let bytes = xlsx(&tables).map_err(PageError::internal)?;
                download(bytes, XLSX, format!("{stem}.xlsx"))
            } else {
                download(csv(&tables[1], v.lang)?, CSV, format!("{stem}.csv"))
            };
            let kind = if excel { "xlsx" } else { "csv" };
            audit_export(&state, v, &commune, format!("{kind} {}", commune.id))?;
            Ok(response)
        })
        .await
}

pub(crate) async fn commune_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    commune_export(state, viewer, id, true, q).await
}

pub(crate) async fn commune_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    commune_export(state, viewer, id, false, q).await
}

async fn hamlet_export(state: AppState, viewer: Viewer, id: String, excel: bool) -> Response {
    viewer
        .run(move |v| {
            let hamlet = visible_hamlet(&state, v, &id)?;
            let commune = state.store.commune(&hamlet.commune)?.ok_or(PageError::NotFound)?;
            let t = v.lang.texts();
            let now = crate::now_ms();
            let coverage = state.store.coverage(&hamlet.id)?;
            let stem = format!("tungnha-{}-{}", hamlet.id, vn_day(now));
            let list = households(&state, t, v.lang, &hamlet)?;
            let response = if excel {
                let tables = vec![
                    summary(
                        t,
                        &hamlet.name,
                        &coverage,
                        (hamlet.target_households, to_cover(hamlet.target_households, coverage.registered)),
                        &commune.catalogue,
                        now,
                    ),
                    hamlets(t, &[(hamlet.clone(), coverage.clone())], None),
                    volunteers(&state, t, &coverage)?,
                    days(t, &coverage),
                    list,
                ];
                download(xlsx(&tables).map_err(PageError::internal)?, XLSX, format!("{stem}.xlsx"))
            } else {
                download(csv(&list, v.lang)?, CSV, format!("{stem}.csv"))
            };
            let kind = if excel { "xlsx" } else { "csv" };
            audit_export(&state, v, &commune, format!("{kind} {}", hamlet.id))?;
            Ok(response)
        })
        .await
}

/// The communes sheet of a province report: one row per commune from its totals, with
/// its last 7 days.
fn communes(
    t: &Texts,
    lang: tungnha_web::Lang,
    figures: &reports::ProvinceFigures,
    week: &[String],
) -> Table {
    let (from, to) = (week.first().map_or("", String::as_str), week.last().map_or("", String::as_str));
    Table {
        name: t.communes.into(),
        header: vec![
            t.code,
            t.commune,
            t.commune_kind,
            t.hamlets,
            t.teams_count,
            t.team_members,
            t.active_7d,
            t.target,
            t.registered,
            t.to_cover,
            t.covered,
            t.coverage,
            t.visits,
            t.visits_7d,
            t.accounts,
            t.people_helped,
            t.dr_filed,
            t.walkins,
            t.walkin_people,
            t.last_activity,
        ],
        rows: figures
            .communes
            .iter()
            .map(|row| {
                let c = &row.totals.coverage;
                vec![
                    Cell::Text(row.commune.id.to_string()),
                    Cell::Text(row.commune.name.clone()),
                    Cell::Text(lang.commune_kind(row.commune.kind).into()),
                    Cell::Int(row.totals.hamlets),
                    Cell::Int(row.people.teams),
                    Cell::Int(row.people.members),
                    Cell::Int(row.people.active_members),
                    Cell::Int(row.totals.target),
                    Cell::Int(c.registered),
                    Cell::Int(row.totals.to_cover),
                    Cell::Int(c.covered),
                    Cell::Ratio(share(c.covered, row.totals.to_cover)),
                    Cell::Int(c.visits),
                    Cell::Int(reports::sum_days(&row.days, from, to).0),
                    Cell::Int(c.accounts.values().sum()),
                    Cell::Int(c.people),
                    Cell::Int(c.filed),
                    Cell::Int(c.walkins.count),
                    Cell::Int(c.walkins.people),
                    row.last_day.clone().map(Cell::Day).unwrap_or(Cell::Text(String::new())),
                ]
            })
            .collect(),
    }
}

async fn province_export(state: AppState, viewer: Viewer, id: String, excel: bool) -> Response {
    viewer
        .run(move |v| {
            let user = v.user()?;
            let id = tungnha_client_core::ProvinceId::parse(&id).map_err(|_| PageError::NotFound)?;
            let t = v.lang.texts();
            let now = crate::now_ms();
            let window = reports::last_days(now, reports::CHART_DAYS);
            let week = &window[window.len().saturating_sub(7)..];
            let figures = reports::province_figures(
                state.store(),
                user,
                &id,
                window.first().map_or("", String::as_str),
                week.first().map_or("", String::as_str),
                now,
            )?;
            let stem = format!("tungnha-{}-{}", figures.province.id, vn_day(now));
            let list = communes(t, v.lang, &figures, week);
            let response = if excel {
                let totals = &figures.totals;
                let mut with_days = totals.coverage.clone();
                for (day, f) in &figures.days {
                    with_days.per_day.insert(day.clone(), f.visits);
                    with_days.covered_per_day.insert(day.clone(), f.covered);
                }
                let mut head = summary(
                    t,
                    &figures.province.name,
                    &totals.coverage,
                    (totals.target, totals.to_cover),
                    &Catalogue::default(),
                    now,
                );
                let p = &figures.people;
                head.rows.splice(
                    2..2,
                    [
                        vec![Cell::Text(t.teams_count.into()), Cell::Int(p.teams)],
                        vec![Cell::Text(t.team_members.into()), Cell::Int(p.members)],
                        vec![Cell::Text(t.active_members_7d.into()), Cell::Int(p.active_members)],
                    ],
                );
                // Each commune's teams, from its hamlets' headline figures: an export
                // reads every hamlet once, as a commune's does.
                let mut teams = Vec::new();
                for row in &figures.communes {
                    let data = reports::commune_figures(state.store(), &row.commune.id, false)?;
                    for f in crate::service::teams::team_figures(
                        state.store(),
                        &row.commune.id,
                        &data.hamlets,
                        now,
                    )? {
                        teams.push((Some(&row.commune), f));
                    }
                }
                let months = crate::service::filing::last_months(now, crate::service::filing::MONTHS_SHOWN);
                let filing =
                    crate::service::filing::province_months(state.store(), &figures.province.id, &months)?;
                let tables = vec![
                    head,
                    list,
                    teams_sheet(&state, t, &teams)?,
                    filing_sheet(t, &filing),
                    days(t, &with_days),
                ];
                download(xlsx(&tables).map_err(PageError::internal)?, XLSX, format!("{stem}.xlsx"))
            } else {
                download(csv(&list, v.lang)?, CSV, format!("{stem}.csv"))
            };
            let kind = if excel { "xlsx" } else { "csv" };
            audit::audit(
                state.store(),
                user.id.as_str(),
                None,
                "export",
                format!("{kind} {}", figures.province.id),
            )?;
            Ok(response)
        })
        .await
}

pub(crate) async fn province_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    province_export(state, viewer, id, true).await
}

pub(crate) async fn province_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    province_export(state, viewer, id, false).await
}

pub(crate) async fn hamlet_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    hamlet_export(state, viewer, id, true).await
}

pub(crate) async fn hamlet_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    hamlet_export(state, viewer, id, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_follows_the_conventions_of_the_viewers_language() {
        let table = Table {
            name: "t".into(),
            header: vec!["Thôn", "Tỷ lệ"],
            rows: vec![vec![Cell::Text("=Khu 1, 2".into()), Cell::Ratio(0.32891)]],
        };
        let vi = String::from_utf8(csv(&table, tungnha_web::Lang::Vi).expect("csv")).expect("utf-8");
        assert_eq!(vi, "\u{feff}Thôn;Tỷ lệ\n'=Khu 1, 2;0,3289\n");
        let en = String::from_utf8(csv(&table, tungnha_web::Lang::En).expect("csv")).expect("utf-8");
        assert_eq!(en, "\u{feff}Thôn,Tỷ lệ\n\"'=Khu 1, 2\",0.3289\n");
    }

    #[test]
    fn csv_cells_that_would_be_formulas_are_made_inert() {
        let table = Table {
            name: "t".into(),
            header: vec!["a"],
            rows: ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "Số 1, hẻm 2", ""]
                .iter()
                .map(|s| vec![Cell::Text((*s).to_owned())])
                .collect(),
        };
        let bytes = csv(&table, tungnha_web::Lang::Vi).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        let cells: Vec<&str> = text.trim_start_matches('\u{feff}').lines().skip(1).collect();
        assert_eq!(
            cells,
            ["\"'=HYPERLINK(\"\"http://x\"\")\"", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "Số 1, hẻm 2", "\"\""]
        );
    }
}
