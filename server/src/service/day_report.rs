//! The day's report ("Báo cáo hôm nay"): one Asia/Ho_Chi_Minh day of door-to-door work
//! of a team, a commune or a province, and the running totals to the end of that day,
//! as leaders and officials post them in their Zalo groups every evening.
//!
//! It reads the same materialised records the dashboards draw: the headline figures
//! (one per hamlet of a team, one per commune otherwise) and the day records from the
//! chosen day on. The totals to a past day are today's totals less the days after it,
//! so no visit is ever read and the figures equal the dashboard's for that day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use tungnha_client_core::coverage::{DayWork, to_cover};
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::{CommuneId, Coverage, TeamId};

use crate::records::{Commune, Province, Team};
use crate::service::ServiceError;
use crate::service::error::{Field, invalid};
use crate::store::{DayFigures, Store};

/// Whose day it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// A team of a commune.
    Team(Team, Commune),
    /// A commune.
    Commune(Commune),
    /// A province.
    Province(Province),
}

/// The figures from the start to the end of the chosen day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToDate {
    /// Households covered.
    pub covered: u64,
    /// Households to cover (today's: targets keep no history).
    pub to_cover: u64,
    /// Non-voided visits.
    pub visits: u64,
    /// People helped.
    pub people: u64,
    /// Dossiers filed online.
    pub filed: u64,
    /// Accounts created, per kind.
    pub accounts: BTreeMap<String, u64>,
}

/// One day's report.
#[derive(Debug, Clone, PartialEq)]
pub struct DayReport {
    /// Whose.
    pub scope: Scope,
    /// The day, `YYYY-MM-DD` (Asia/Ho_Chi_Minh).
    pub day: String,
    /// That day's figures.
    pub figures: DayFigures,
    /// The running totals to the end of that day.
    pub to_date: ToDate,
}

/// A day asked for (`YYYY-MM-DD`), or today in Vietnam when none was.
pub fn chosen_day(asked: &str, now_ms: i64) -> Result<String, ServiceError> {
    let asked = asked.trim();
    if asked.is_empty() {
        return Ok(vn_day(now_ms));
    }
    NaiveDate::parse_from_str(asked, "%Y-%m-%d").map(|d| d.to_string()).map_err(|_| {
        invalid(
            Field::Day,
            format!("“{}” is not a day (YYYY-MM-DD)", asked.chars().take(20).collect::<String>()),
        )
    })
}

/// A commune's day.
pub fn of_commune(store: &dyn Store, commune: Commune, day: &str) -> Result<DayReport, ServiceError> {
    let totals = store.commune_totals(&commune.id)?;
    let days = store.commune_days_from(&commune.id, day)?;
    Ok(report(Scope::Commune(commune), day, &totals.coverage, totals.to_cover, days))
}

/// A province's day: the sum of its communes' totals, and its own day records.
pub fn of_province(store: &dyn Store, province: Province, day: &str) -> Result<DayReport, ServiceError> {
    let mut totals = Coverage::default();
    let mut to_cover = 0;
    for c in store.communes_of(&province.id)? {
        let t = store.commune_totals(&c.id)?;
        totals.absorb(&t.coverage);
        to_cover += t.to_cover;
    }
    let days = store.province_days_from(&province.id, day)?;
    Ok(report(Scope::Province(province), day, &totals, to_cover, days))
}

/// A team's day: the sum over its hamlets (its cost follows the team's hamlets).
pub fn of_team(
    store: &dyn Store,
    team: Team,
    commune: Commune,
    day: &str,
) -> Result<DayReport, ServiceError> {
    let mut totals = Coverage::default();
    let mut cover = 0;
    let mut days: BTreeMap<String, DayFigures> = BTreeMap::new();
    for id in &team.hamlets {
        let Some(h) = store.hamlet(id)? else { continue };
        let c = store.coverage_headline(&h.id)?;
        cover += to_cover(h.target_households, c.registered);
        totals.absorb(&c);
        for (d, f) in store.coverage_days_from(&h.id, day)? {
            days.entry(d).or_default().add(&f);
        }
    }
    Ok(report(Scope::Team(team, commune), day, &totals, cover, days.into_iter().collect()))
}

/// The report from the totals as of now and the day records from `day` on.
fn report(
    scope: Scope,
    day: &str,
    totals: &Coverage,
    to_cover: u64,
    days: Vec<(String, DayFigures)>,
) -> DayReport {
    let mut figures = DayFigures::default();
    let mut later = DayFigures::default();
    for (d, f) in days {
        if d == day {
            figures = f;
        } else if d.as_str() > day {
            later.add(&f);
        }
    }
    let mut accounts = DayWork { accounts: totals.accounts.clone(), ..DayWork::default() };
    accounts.add(&DayWork { accounts: later.work.accounts, ..DayWork::default() }, -1);
    let to_date = ToDate {
        covered: totals.covered.saturating_sub(later.covered),
        to_cover,
        visits: totals.visits.saturating_sub(later.visits),
        people: totals.people.saturating_sub(later.work.people),
        filed: totals.filed.saturating_sub(later.work.filed),
        accounts: accounts.accounts,
    };
    DayReport { scope, day: day.to_owned(), figures, to_date }
}

/// The team in a path, if it is `commune`'s.
pub fn team_of(store: &dyn Store, commune: &CommuneId, id: &str) -> Result<Option<Team>, ServiceError> {
    let Ok(id) = TeamId::parse(id) else { return Ok(None) };
    Ok(store.team(&id)?.filter(|t| &t.commune == commune))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_past_day_counts_to_its_end_and_not_after() {
        let mut totals = Coverage { covered: 10, visits: 30, people: 40, filed: 6, ..Coverage::default() };
        totals.accounts.insert("vneid_l1".into(), 9);
        let day = |visits, covered, filed, accounts: u64| DayFigures {
            visits,
            covered,
            work: DayWork {
                filed,
                people: visits,
                accounts: [("vneid_l1".to_owned(), accounts)].into(),
                ..DayWork::default()
            },
        };
        let days =
            vec![("2026-12-01".to_owned(), day(5, 2, 1, 2)), ("2026-12-02".to_owned(), day(4, 1, 2, 3))];
        let commune = Commune {
            erase_after_days: None,
            id: CommuneId::parse("p-1").expect("id"),
            name: "Phường 1".into(),
            kind: tungnha_client_core::domain::CommuneKind::Phuong,
            province: None,
            catalogue: Default::default(),
            visits_from: None,
        };
        let r = report(Scope::Commune(commune), "2026-12-01", &totals, 20, days);
        assert_eq!(r.figures.visits, 5);
        assert_eq!(r.figures.work.filed, 1);
        assert_eq!(r.to_date.covered, 9, "the next day's first covering is not yet counted");
        assert_eq!(r.to_date.visits, 26);
        assert_eq!(r.to_date.people, 36);
        assert_eq!(r.to_date.filed, 4);
        assert_eq!(r.to_date.accounts.get("vneid_l1"), Some(&6));
        assert_eq!(r.to_date.to_cover, 20);
        assert!(matches!(chosen_day("2026-13-01", 0), Err(ServiceError::Invalid(_))));
        assert_eq!(chosen_day(" 2026-12-01 ", 0).ok().as_deref(), Some("2026-12-01"));
    }
}
