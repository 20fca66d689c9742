//! The online-filing rate: each month's administrative dossiers received and filed
//! online, per commune and for the province's own agencies, as the public-service
//! portal counts them, recorded by officials (a form, or the portal's monthly CSV:
//! `month,commune,total,online`), and read beside the dossiers and accounts the teams
//! helped with in the same months (from the materialised day records).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::{CommuneId, ProvinceId, Role};

use crate::records::{Commune, FilingLevel, FilingMonth, User};
use crate::service::ServiceError;
use crate::service::access;
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::service::imports::{RowError, cell, read_csv};
use crate::store::{DayFigures, Store};

/// The most dossiers one level may report in a month: far above any province's.
pub const MAX_DOSSIERS: u64 = 10_000_000;
/// The most rows one import may hold (a province's communes over several years).
pub const MAX_ROWS: usize = 20_000;
/// How many months the pages show, ending with the current one.
pub const MONTHS_SHOWN: usize = 12;

/// A month typed by a person (`YYYY-MM`), from January 2020 to the current month in
/// Vietnam; the reason in words otherwise.
pub fn month_of(text: &str, now_ms: i64) -> Result<String, String> {
    let text = text.trim();
    let parsed = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
        .map_err(|_| format!("“{}” is not a month (YYYY-MM)", text.chars().take(20).collect::<String>()))?;
    let month = format!("{:04}-{:02}", parsed.year(), parsed.month());
    let this = vn_day(now_ms)[..7].to_owned();
    if month.as_str() < "2020-01" || month > this {
        return Err(format!("the month must be between 2020-01 and this month ({this})"));
    }
    Ok(month)
}

/// Checks a month's two counts; the reason in words otherwise.
fn counts_fault(received: u64, online: u64) -> Option<String> {
    if received > MAX_DOSSIERS {
        Some(format!("more than {MAX_DOSSIERS} dossiers in a month is a slip"))
    } else if online > received {
        Some("more dossiers filed online than received".into())
    } else {
        None
    }
}

/// Whether `user` (`None`: the admin command line) may record `level`'s statistics.
fn may_record(store: &dyn Store, user: Option<&User>, level: &FilingLevel) -> Result<bool, ServiceError> {
    let Some(user) = user else { return Ok(true) };
    Ok(access::may_record_filing(store, user, level)?)
}

/// Records one month of one level, replacing what was recorded for it before.
pub fn record(
    store: &dyn Store,
    user: Option<&User>,
    level: FilingLevel,
    month: &str,
    (received, online): (u64, u64),
    now_ms: i64,
) -> Result<FilingMonth, ServiceError> {
    if !may_record(store, user, &level)? {
        return Err(ServiceError::Forbidden("only its officials record a level's dossiers".into()));
    }
    let month = month_of(month, now_ms).map_err(|reason| invalid(Field::Month, reason))?;
    if let Some(reason) = counts_fault(received, online) {
        return Err(invalid(Field::Dossiers, reason));
    }
    let by = user.map_or(crate::service::audit::CLI.to_owned(), |u| u.id.to_string());
    let entry = FilingMonth { level: level.clone(), month, received, online, by: by.clone(), at: now_ms };
    store.put_filings(std::slice::from_ref(&entry))?;
    let commune = match &level {
        FilingLevel::Commune(c) => Some(c),
        FilingLevel::Province(_) => None,
    };
    let what = format!("{} {}: {online}/{received}", level.key(), entry.month);
    audit(store, &by, commune, "filing", what)?;
    Ok(entry)
}

/// The level a row's code names: a commune, or a province (its own agencies).
fn level_named(store: &dyn Store, code: &str) -> Result<Option<FilingLevel>, ServiceError> {
    if let Ok(id) = CommuneId::parse(code)
        && store.commune(&id)?.is_some()
    {
        return Ok(Some(FilingLevel::Commune(id)));
    }
    if let Ok(id) = ProvinceId::parse(code)
        && store.province(&id)?.is_some()
    {
        return Ok(Some(FilingLevel::Province(id)));
    }
    Ok(None)
}

/// Imports the portal's monthly statistics (`month,commune,total,online`), all or
/// nothing: every row is checked first (a month, a code `user` may record, counts
/// that add up), every problem reported at once.
pub fn import(
    store: &dyn Store,
    user: Option<&User>,
    bytes: &[u8],
    now_ms: i64,
) -> Result<Vec<FilingMonth>, ServiceError> {
    let csv = read_csv(bytes, &["month", "commune", "total", "online"], &[]);
    let mut errors = csv.errors;
    if csv.rows.len() > MAX_ROWS {
        errors.push(RowError {
            line: 1,
            column: String::new(),
            reason: format!("{} rows; at most {MAX_ROWS} at once", csv.rows.len()),
        });
        return Err(ServiceError::Import(errors));
    }
    let by = user.map_or(crate::service::audit::CLI.to_owned(), |u| u.id.to_string());
    let mut seen: BTreeMap<(FilingLevel, String), u64> = BTreeMap::new();
    let mut out = Vec::new();
    for (line, cells) in &csv.rows {
        let err = |column: &str, reason: String| RowError { line: *line, column: column.into(), reason };
        let month = month_of(cell(cells, "month"), now_ms).map_err(|r| err("month", r));
        let code = cell(cells, "commune");
        let level = match level_named(store, code)? {
            Some(level) if may_record(store, user, &level)? => Ok(level),
            Some(_) => Err(err("commune", format!("“{code}” is not yours to record"))),
            None => Err(err("commune", format!("no commune or province has the code “{}”", shown(code)))),
        };
        let count = |column: &str| {
            let text = cell(cells, column);
            text.replace(['.', ' '], "")
                .parse::<u64>()
                .map_err(|_| err(column, format!("“{}” is not a count", shown(text))))
        };
        let (received, online) = (count("total"), count("online"));
        match (month, level, received, online) {
            (Ok(month), Ok(level), Ok(received), Ok(online)) => {
                if let Some(reason) = counts_fault(received, online) {
                    errors.push(err("online", reason));
                } else if let Some(first) = seen.insert((level.clone(), month.clone()), *line) {
                    errors.push(err("month", format!("this month is already on line {first}")));
                } else {
                    out.push(FilingMonth { level, month, received, online, by: by.clone(), at: now_ms });
                }
            }
            (month, level, received, online) => {
                errors.extend(month.err());
                errors.extend(level.err());
                errors.extend(received.err());
                errors.extend(online.err());
            }
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Import(errors));
    }
    store.put_filings(&out)?;
    let commune = match user.and_then(|u| u.commune.as_ref()) {
        Some(c) if user.is_some_and(|u| u.role == Role::Official) => Some(c),
        _ => None,
    };
    audit(store, &by, commune, "filing_import", format!("{} months", out.len()))?;
    Ok(out)
}

/// The latest month any of `levels` recorded, with the share filed online summed over
/// those that recorded it: a dashboard's card. Reads the levels' records only.
pub fn latest_rate(store: &dyn Store, levels: &[FilingLevel]) -> Result<Option<(String, f64)>, ServiceError> {
    let mut by_month: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for level in levels {
        for f in store.filings(level)? {
            let e = by_month.entry(f.month).or_default();
            e.0 += f.received;
            e.1 += f.online;
        }
    }
    Ok(by_month
        .into_iter()
        .rev()
        .find(|(_, (received, _))| *received > 0)
        .map(|(month, (received, online))| (month, online as f64 / received as f64)))
}

/// What a cell held, shortened to be shown back.
fn shown(text: &str) -> String {
    text.chars().take(40).collect()
}

/// One month: what the portal counted (when recorded) beside what the teams helped with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Dossiers received and filed online, when recorded.
    pub recorded: Option<(u64, u64)>,
    /// Dossiers the teams helped file online that month.
    pub helped_filed: u64,
    /// Accounts the teams helped create that month.
    pub helped_accounts: u64,
}

impl MonthRow {
    /// The share filed online, when recorded and not zero received.
    pub fn rate(&self) -> Option<f64> {
        self.recorded.filter(|(r, _)| *r > 0).map(|(r, o)| o as f64 / r as f64)
    }
}

/// The last `n` months, oldest first, ending with the current one in Vietnam.
pub fn last_months(now_ms: i64, n: usize) -> Vec<String> {
    let today = NaiveDate::parse_from_str(&vn_day(now_ms), "%Y-%m-%d").unwrap_or_default();
    let (mut y, mut m) = (today.year(), today.month());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    }
    out.reverse();
    out
}

/// The rows of `months` from a level's records and its day records (from the first
/// month's first day on).
fn rows(months: &[String], recorded: Vec<FilingMonth>, days: Vec<(String, DayFigures)>) -> Vec<MonthRow> {
    let mut by_month: BTreeMap<&str, MonthRow> =
        months.iter().map(|m| (m.as_str(), MonthRow { month: m.clone(), ..MonthRow::default() })).collect();
    for f in recorded {
        if let Some(row) = by_month.get_mut(f.month.as_str()) {
            row.recorded = Some((f.received, f.online));
        }
    }
    for (day, f) in days {
        if let Some(row) = day.get(..7).and_then(|m| by_month.get_mut(m)) {
            row.helped_filed += f.work.filed;
            row.helped_accounts += f.work.accounts_total();
        }
    }
    by_month.into_values().collect()
}

/// A commune's months.
pub fn commune_months(
    store: &dyn Store,
    commune: &CommuneId,
    months: &[String],
) -> Result<Vec<MonthRow>, ServiceError> {
    let from = months.first().map(|m| format!("{m}-01")).unwrap_or_default();
    let recorded = store.filings(&FilingLevel::Commune(commune.clone()))?;
    Ok(rows(months, recorded, store.commune_days_from(commune, &from)?))
}

/// A province's months: its agencies', each commune's, and the sums per level.
#[derive(Debug, Clone, Default)]
pub struct ProvinceFiling {
    /// The province's own agencies (the teams' help: the whole province's).
    pub agencies: Vec<MonthRow>,
    /// Each commune.
    pub communes: Vec<(Commune, Vec<MonthRow>)>,
    /// The communes summed (a month counts what the communes that recorded it say).
    pub communes_sum: Vec<MonthRow>,
    /// Agencies and communes together.
    pub all: Vec<MonthRow>,
}

/// Adds `b`'s recorded counts into `a`'s.
fn add_recorded(a: &mut MonthRow, b: &MonthRow) {
    if let Some((r, o)) = b.recorded {
        let (ar, ao) = a.recorded.unwrap_or((0, 0));
        a.recorded = Some((ar + r, ao + o));
    }
}

/// A province's months; its cost follows its communes, never its visits.
pub fn province_months(
    store: &dyn Store,
    province: &ProvinceId,
    months: &[String],
) -> Result<ProvinceFiling, ServiceError> {
    let from = months.first().map(|m| format!("{m}-01")).unwrap_or_default();
    let recorded = store.filings(&FilingLevel::Province(province.clone()))?;
    let agencies = rows(months, recorded, store.province_days_from(province, &from)?);
    let mut communes_sum: Vec<MonthRow> =
        agencies.iter().map(|r| MonthRow { recorded: None, ..r.clone() }).collect();
    let mut communes = Vec::new();
    for c in store.communes_of(province)? {
        let months = commune_months(store, &c.id, months)?;
        for (sum, row) in communes_sum.iter_mut().zip(&months) {
            add_recorded(sum, row);
        }
        communes.push((c, months));
    }
    let mut all = communes_sum.clone();
    for (sum, row) in all.iter_mut().zip(&agencies) {
        add_recorded(sum, row);
    }
    Ok(ProvinceFiling { agencies, communes, communes_sum, all })
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-02 in Hà Nội.
    const NOW: i64 = 1_796_180_000_000;

    #[test]
    fn months_are_read_as_people_type_them_and_bounded() {
        assert_eq!(month_of("2026-11", NOW).as_deref(), Ok("2026-11"));
        assert_eq!(month_of(" 2026-1 ", NOW).as_deref(), Ok("2026-01"));
        assert!(month_of("2027-01", NOW).is_err(), "not a month still to come");
        assert!(month_of("2019-12", NOW).is_err());
        assert!(month_of("11/2026", NOW).is_err());
        assert_eq!(last_months(NOW, 3), ["2026-10", "2026-11", "2026-12"]);
        assert_eq!(counts_fault(10, 11).as_deref(), Some("more dossiers filed online than received"));
        assert_eq!(counts_fault(10, 10), None);
    }

    #[test]
    fn an_import_is_all_or_nothing_with_every_bad_row_named() {
        use crate::service::audit::CLI;
        use crate::service::organisation::{attach_commune, commune_add, province_add};
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::store::open(dir.path()).expect("open");
        let db = db.as_ref();
        province_add(db, CLI, "t-1", "Tỉnh Một").expect("province");
        commune_add(db, CLI, "p-1", "Phường Một", tungnha_client_core::domain::CommuneKind::Phuong)
            .expect("commune");
        attach_commune(db, CLI, "p-1", "t-1").expect("attached");
        let bad = "month;commune;total;online\n2026-11;p-1;200;98\n2026-13;p-1;1;1\n2026-10;x-9;5;1\n\
                   2026-10;p-1;5;6\n2026-11;p-1;1;1\n2026-09;t-1;nhiều;1\n";
        let Err(ServiceError::Import(rows)) = import(db, None, bad.as_bytes(), NOW) else {
            panic!("refused")
        };
        let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(
            found,
            [(3, "month"), (4, "commune"), (5, "online"), (6, "month"), (7, "total")],
            "{rows:?}"
        );
        assert!(
            db.filings(&FilingLevel::Commune(CommuneId::parse("p-1").expect("id"))).expect("read").is_empty()
        );
        // Too many rows: refused as a whole, before any row's code is looked up.
        let many = format!("month,commune,total,online\n{}", "2026-11,p-1,1,1\n".repeat(MAX_ROWS + 1));
        let Err(ServiceError::Import(rows)) = import(db, None, many.as_bytes(), NOW) else {
            panic!("refused")
        };
        assert_eq!(rows.len(), 1, "one error for the file, not one per row");
        assert!(rows[0].reason.contains("at most 20000"), "{rows:?}");
        // Pasted from Excel: tabs; a commune and the province's agencies.
        let good = "month\tcommune\ttotal\tonline\n2026-11\tp-1\t1.200\t588\n2026-11\tt-1\t300\t177\n";
        assert_eq!(import(db, None, good.as_bytes(), NOW).expect("imported").len(), 2);
        let months = province_months(db, &ProvinceId::parse("t-1").expect("id"), &["2026-11".to_owned()])
            .expect("read");
        assert_eq!(months.communes_sum[0].recorded, Some((1200, 588)));
        assert_eq!(months.agencies[0].recorded, Some((300, 177)));
        assert_eq!(months.all[0].recorded, Some((1500, 765)));
    }

    #[test]
    fn a_month_row_sums_the_teams_days_of_that_month() {
        let months = vec!["2026-11".to_owned(), "2026-12".to_owned()];
        let day = |filed| DayFigures {
            work: tungnha_client_core::coverage::DayWork { filed, ..Default::default() },
            ..DayFigures::default()
        };
        let days = vec![
            ("2026-11-30".to_owned(), day(2)),
            ("2026-12-01".to_owned(), day(3)),
            ("2026-12-02".to_owned(), day(1)),
        ];
        let recorded = vec![FilingMonth {
            level: FilingLevel::Commune(CommuneId::parse("p-1").expect("id")),
            month: "2026-11".into(),
            received: 200,
            online: 98,
            by: "canbo".into(),
            at: NOW,
        }];
        let rows = rows(&months, recorded, days);
        assert_eq!(rows[0].helped_filed, 2);
        assert_eq!(rows[1].helped_filed, 4);
        assert_eq!(rows[0].rate(), Some(0.49));
        assert_eq!(rows[1].rate(), None, "nothing recorded for December yet");
    }
}
