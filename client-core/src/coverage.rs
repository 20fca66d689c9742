//! Coverage: how far a hamlet's team has got, computed the same way on phone and server.
//!
//! - A household is *covered* when it has a non-voided visit with outcome `guided` or
//!   `already_done`, *attempted* when it has any non-voided visit, and a *follow-up*
//!   when its latest non-voided visit is `not_home` or `revisit`.
//! - Only listed, non-retired households count towards these; visits to retired
//!   households still count as work done (visits, accounts, people).
//! - Days are Asia/Ho_Chi_Minh calendar days.
//!
//! - Walk-ins at a one-stop counter (a counter's log) are their own line
//!   (`WalkInFigures`, and per day in `DayWork`): never households, never coverage.
//!
//! `Coverage::compute` folds a whole log in one pass. `CoverageLedger` keeps the same
//! figures up to date from the entities a merge touched, at a cost proportional to the
//! merge, not the log; a property test holds the two equal.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::{Household, LogView, Outcome, Visit, WalkIn, vn_day};
use crate::ids::{HouseholdId, UserId, VisitId, WalkInId};
use crate::judge::Touched;

/// One volunteer's figures in a hamlet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerFigures {
    /// Non-voided visits logged.
    pub visits: u64,
    /// Of those, visits that covered their household (guided or already done).
    pub covering_visits: u64,
    /// Accounts created, all kinds together.
    pub accounts: u64,
    /// People helped.
    pub people: u64,
    /// Dossiers filed online with their help.
    #[serde(default)]
    pub filed: u64,
    /// Walk-ins they helped at a counter.
    #[serde(default)]
    pub walkins: u64,
}

impl VolunteerFigures {
    fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// One day's door-to-door work beyond its visits: what the day's report tells.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayWork {
    /// Non-voided visits whose outcome was `guided`.
    #[serde(default)]
    pub guided: u64,
    /// People helped.
    #[serde(default)]
    pub people: u64,
    /// Dossiers filed online.
    #[serde(default)]
    pub filed: u64,
    /// Accounts created, per account-kind code.
    #[serde(default)]
    pub accounts: BTreeMap<String, u64>,
    /// Walk-ins helped at a counter (their own line, never coverage).
    #[serde(default)]
    pub walkins: u64,
    /// People those walk-ins were.
    #[serde(default)]
    pub walkin_people: u64,
    /// Accounts created for them, all kinds.
    #[serde(default)]
    pub walkin_accounts: u64,
    /// Dossiers filed online for them.
    #[serde(default)]
    pub walkin_filed: u64,
}

impl DayWork {
    /// Nothing done.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `other` (`sign` = 1) or takes it away (`sign` = -1), never below zero.
    pub fn add(&mut self, other: &DayWork, sign: i64) {
        let scale = |n| scaled(n, sign);
        bump(&mut self.guided, scale(other.guided));
        bump(&mut self.people, scale(other.people));
        bump(&mut self.filed, scale(other.filed));
        for (k, n) in &other.accounts {
            bump_map(&mut self.accounts, k, scale(*n));
        }
        bump(&mut self.walkins, scale(other.walkins));
        bump(&mut self.walkin_people, scale(other.walkin_people));
        bump(&mut self.walkin_accounts, scale(other.walkin_accounts));
        bump(&mut self.walkin_filed, scale(other.walkin_filed));
    }

    /// Accounts of every kind together.
    pub fn accounts_total(&self) -> u64 {
        self.accounts.values().sum()
    }
}

/// Walk-ins helped at one-stop counters: their own line, apart from door-to-door work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkInFigures {
    /// Non-voided walk-ins.
    #[serde(default)]
    pub count: u64,
    /// People helped.
    #[serde(default)]
    pub people: u64,
    /// Dossiers filed online.
    #[serde(default)]
    pub filed: u64,
    /// Accounts created, per account-kind code.
    #[serde(default)]
    pub accounts: BTreeMap<String, u64>,
}

impl WalkInFigures {
    /// Nothing recorded.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `other` (`sign` = 1) or takes it away (`sign` = -1), never below zero.
    pub fn add(&mut self, other: &WalkInFigures, sign: i64) {
        let scale = |n| scaled(n, sign);
        bump(&mut self.count, scale(other.count));
        bump(&mut self.people, scale(other.people));
        bump(&mut self.filed, scale(other.filed));
        for (k, n) in &other.accounts {
            bump_map(&mut self.accounts, k, scale(*n));
        }
    }

    /// Accounts of every kind together.
    pub fn accounts_total(&self) -> u64 {
        self.accounts.values().sum()
    }
}

/// The coverage figures of one hamlet (or, summed, of a commune).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Listed households that are not retired.
    pub registered: u64,
    /// Of those, households covered.
    pub covered: u64,
    /// Of those, households with any non-voided visit.
    pub attempted: u64,
    /// Of those, households whose latest visit asks for another.
    pub follow_ups: u64,
    /// Non-voided visits.
    pub visits: u64,
    /// People helped.
    pub people: u64,
    /// Accounts created, per account-kind code.
    pub accounts: BTreeMap<String, u64>,
    /// Non-voided visits per Asia/Ho_Chi_Minh day ("YYYY-MM-DD").
    pub per_day: BTreeMap<String, u64>,
    /// Figures per volunteer.
    pub per_volunteer: BTreeMap<UserId, VolunteerFigures>,
    /// Counted households per Asia/Ho_Chi_Minh day of their first covering visit: the
    /// running sum is coverage over time.
    #[serde(default)]
    pub covered_per_day: BTreeMap<String, u64>,
    /// Dossiers filed online.
    #[serde(default)]
    pub filed: u64,
    /// The rest of each day's work (guided, people, dossiers, accounts, walk-ins), per
    /// Asia/Ho_Chi_Minh day.
    #[serde(default)]
    pub work_per_day: BTreeMap<String, DayWork>,
    /// Walk-ins at one-stop counters (a counter's log; summed, a commune's counters).
    #[serde(default, skip_serializing_if = "WalkInFigures::is_zero")]
    pub walkins: WalkInFigures,
}

/// Where a household stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    /// No non-voided visit yet (chưa thăm).
    NotVisited,
    /// Latest visit was not home or asked to come back (cần quay lại).
    FollowUp,
    /// Visited, not covered, nothing pending (declined).
    Attempted,
    /// Covered (đã bao phủ).
    Covered,
}

/// A household's status and, when covered, the time of its first covering visit.
type Standing = (HouseholdStatus, Option<i64>);

/// A household's status and first covering time, given its non-voided visits.
fn standing_of<'a>(visits: impl Iterator<Item = (i64, &'a VisitId, Outcome)>) -> Standing {
    let mut any = false;
    let mut first_cover: Option<i64> = None;
    let mut latest: Option<(i64, &VisitId, Outcome)> = None;
    for (at, id, outcome) in visits {
        any = true;
        if outcome.covers() {
            first_cover = Some(first_cover.map_or(at, |f| f.min(at)));
        }
        if latest.is_none_or(|(lat, lid, _)| (at, id) > (lat, lid)) {
            latest = Some((at, id, outcome));
        }
    }
    let status = match latest {
        _ if first_cover.is_some() => HouseholdStatus::Covered,
        Some((_, _, o)) if o.needs_follow_up() => HouseholdStatus::FollowUp,
        _ if any => HouseholdStatus::Attempted,
        _ => HouseholdStatus::NotVisited,
    };
    (status, first_cover)
}

/// The households a hamlet is to cover: its target, or as many as it lists when that is
/// more (DESIGN.md: coverage = covered / max(target, registered)). A commune's, a
/// team's or a province's is the sum over its hamlets, so a report's rows add up to
/// its total and its coverage is `share(Σ covered, Σ to_cover)`.
pub fn to_cover(target_households: u64, registered: u64) -> u64 {
    target_households.max(registered)
}

/// Coverage: `covered` of `to_cover`, 0 when there is nothing to cover.
pub fn share(covered: u64, to_cover: u64) -> f64 {
    if to_cover == 0 { 0.0 } else { covered as f64 / to_cover as f64 }
}

impl Coverage {
    /// Computes a hamlet's coverage from its whole log, in one pass.
    pub fn compute(log: &impl LogView) -> Coverage {
        let households = log.all_households();
        let visits = log.all_visits();
        let mut c = Coverage::default();
        // A household listed twice and merged counts its visits towards the one kept.
        let merged: BTreeMap<&HouseholdId, &HouseholdId> =
            households.iter().filter_map(|(id, h)| h.merged_into.as_ref().map(|into| (id, into))).collect();
        let mut by_household: BTreeMap<&HouseholdId, Vec<(i64, &VisitId, Outcome)>> = BTreeMap::new();
        for (id, v) in visits.iter().filter(|(_, v)| !v.voided) {
            c.add_visit(v, 1);
            let counted = merged.get(&v.household).copied().unwrap_or(&v.household);
            by_household.entry(counted).or_default().push((v.at, id, v.outcome));
        }
        for (id, _) in households.iter().filter(|(_, h)| !h.retired) {
            let standing = standing_of(by_household.remove(id).unwrap_or_default().into_iter());
            c.add_household_status(standing, 1);
        }
        for w in log.all_walkins().values().filter(|w| !w.voided) {
            c.add_walkin(w, 1);
        }
        c
    }

    /// A hamlet's share of households covered: covered / `to_cover`.
    pub fn ratio(&self, target_households: u64) -> f64 {
        share(self.covered, to_cover(target_households, self.registered))
    }

    /// Adds another hamlet's figures into these (a commune is the sum of its hamlets).
    pub fn absorb(&mut self, other: &Coverage) {
        self.registered += other.registered;
        self.covered += other.covered;
        self.attempted += other.attempted;
        self.follow_ups += other.follow_ups;
        self.visits += other.visits;
        self.people += other.people;
        self.filed += other.filed;
        self.walkins.add(&other.walkins, 1);
        for (d, w) in &other.work_per_day {
            self.work_per_day.entry(d.clone()).or_default().add(w, 1);
        }
        for (k, n) in &other.accounts {
            *self.accounts.entry(k.clone()).or_default() += n;
        }
        for (d, n) in &other.per_day {
            *self.per_day.entry(d.clone()).or_default() += n;
        }
        for (d, n) in &other.covered_per_day {
            *self.covered_per_day.entry(d.clone()).or_default() += n;
        }
        for (u, f) in &other.per_volunteer {
            let e = self.per_volunteer.entry(u.clone()).or_default();
            e.visits += f.visits;
            e.covering_visits += f.covering_visits;
            e.accounts += f.accounts;
            e.people += f.people;
            e.filed += f.filed;
            e.walkins += f.walkins;
        }
    }

    /// Takes away what `absorb` added (a sum's part that changed or left), never
    /// below zero; entries that reach zero leave their maps.
    pub fn withdraw(&mut self, other: &Coverage) {
        self.registered = self.registered.saturating_sub(other.registered);
        self.covered = self.covered.saturating_sub(other.covered);
        self.attempted = self.attempted.saturating_sub(other.attempted);
        self.follow_ups = self.follow_ups.saturating_sub(other.follow_ups);
        self.visits = self.visits.saturating_sub(other.visits);
        self.people = self.people.saturating_sub(other.people);
        self.filed = self.filed.saturating_sub(other.filed);
        self.walkins.add(&other.walkins, -1);
        for (d, w) in &other.work_per_day {
            if let Some(e) = self.work_per_day.get_mut(d) {
                e.add(w, -1);
                if e.is_zero() {
                    self.work_per_day.remove(d);
                }
            }
        }
        fn take(map: &mut BTreeMap<String, u64>, other: &BTreeMap<String, u64>) {
            for (k, n) in other {
                if let Some(v) = map.get_mut(k) {
                    *v = v.saturating_sub(*n);
                    if *v == 0 {
                        map.remove(k);
                    }
                }
            }
        }
        take(&mut self.accounts, &other.accounts);
        take(&mut self.per_day, &other.per_day);
        take(&mut self.covered_per_day, &other.covered_per_day);
        for (u, f) in &other.per_volunteer {
            if let Some(e) = self.per_volunteer.get_mut(u) {
                e.visits = e.visits.saturating_sub(f.visits);
                e.covering_visits = e.covering_visits.saturating_sub(f.covering_visits);
                e.accounts = e.accounts.saturating_sub(f.accounts);
                e.people = e.people.saturating_sub(f.people);
                e.filed = e.filed.saturating_sub(f.filed);
                e.walkins = e.walkins.saturating_sub(f.walkins);
                if *e == VolunteerFigures::default() {
                    self.per_volunteer.remove(u);
                }
            }
        }
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) a non-voided visit's own figures.
    fn add_visit(&mut self, v: &Visit, sign: i64) {
        let accounts: u64 = v.accounts.values().map(|n| u64::from(*n)).sum();
        bump(&mut self.visits, sign);
        bump(&mut self.people, sign * i64::from(v.people));
        bump(&mut self.filed, sign * i64::from(v.filed));
        for (k, n) in &v.accounts {
            bump_map(&mut self.accounts, k, sign * i64::from(*n));
        }
        let day = vn_day(v.at);
        let work = DayWork {
            guided: u64::from(v.outcome == Outcome::Guided),
            people: u64::from(v.people),
            filed: u64::from(v.filed),
            accounts: v.accounts.iter().map(|(k, n)| (k.clone(), u64::from(*n))).collect(),
            ..DayWork::default()
        };
        let e = self.work_per_day.entry(day.clone()).or_default();
        e.add(&work, sign);
        if e.is_zero() {
            self.work_per_day.remove(&day);
        }
        bump_map(&mut self.per_day, &day, sign);
        let f = self.per_volunteer.entry(v.by.clone()).or_default();
        bump(&mut f.visits, sign);
        bump(&mut f.covering_visits, if v.outcome.covers() { sign } else { 0 });
        bump(&mut f.accounts, sign * i64::try_from(accounts).unwrap_or(i64::MAX));
        bump(&mut f.people, sign * i64::from(v.people));
        bump(&mut f.filed, sign * i64::from(v.filed));
        if f.is_zero() {
            self.per_volunteer.remove(&v.by);
        }
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) a non-voided walk-in's figures.
    fn add_walkin(&mut self, w: &WalkIn, sign: i64) {
        let accounts: BTreeMap<String, u64> =
            w.accounts.iter().map(|(k, n)| (k.clone(), u64::from(*n))).collect();
        let total: u64 = accounts.values().sum();
        let figures =
            WalkInFigures { count: 1, people: u64::from(w.people), filed: u64::from(w.filed), accounts };
        self.walkins.add(&figures, sign);
        let day = vn_day(w.at);
        let work = DayWork {
            walkins: 1,
            walkin_people: u64::from(w.people),
            walkin_accounts: total,
            walkin_filed: u64::from(w.filed),
            ..DayWork::default()
        };
        let e = self.work_per_day.entry(day.clone()).or_default();
        e.add(&work, sign);
        if e.is_zero() {
            self.work_per_day.remove(&day);
        }
        let f = self.per_volunteer.entry(w.by.clone()).or_default();
        bump(&mut f.walkins, sign);
        if f.is_zero() {
            self.per_volunteer.remove(&w.by);
        }
    }

    /// Adds or removes a listed, non-retired household of the given standing.
    fn add_household_status(&mut self, (status, first_cover): Standing, sign: i64) {
        bump(&mut self.registered, sign);
        if let Some(at) = first_cover {
            bump_map(&mut self.covered_per_day, &vn_day(at), sign);
        }
        match status {
            HouseholdStatus::NotVisited => {}
            HouseholdStatus::Attempted => bump(&mut self.attempted, sign),
            HouseholdStatus::FollowUp => {
                bump(&mut self.attempted, sign);
                bump(&mut self.follow_ups, sign);
            }
            HouseholdStatus::Covered => {
                bump(&mut self.attempted, sign);
                bump(&mut self.covered, sign);
            }
        }
    }
}

/// A count as a signed delta: `n` added (`sign` = 1) or taken away (`sign` = -1).
fn scaled(n: u64, sign: i64) -> i64 {
    sign.saturating_mul(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Adds a signed delta to a counter, saturating at zero (a ledger never goes below).
fn bump(n: &mut u64, delta: i64) {
    *n = n.saturating_add_signed(delta);
}

/// Bumps a counter in a map, dropping it at zero so that equal figures compare equal.
fn bump_map(map: &mut BTreeMap<String, u64>, key: &str, delta: i64) {
    let e = map.entry(key.to_owned()).or_default();
    bump(e, delta);
    if *e == 0 {
        map.remove(key);
    }
}

/// The visits and walk-ins of a hamlet's earlier logs (rolled over at the end of
/// campaigns), as the server keeps them beside the live log for all-time figures and
/// history. Visit notes are left out: they were sealed under their household's key,
/// and stay only in the archived logs, sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Every readable visit of the earlier logs, voided or not.
    pub visits: BTreeMap<VisitId, Visit>,
    /// Every readable walk-in of the earlier logs (a counter's).
    pub walkins: BTreeMap<WalkInId, WalkIn>,
}

impl History {
    /// Adds the visits and walk-ins of a log that is being rolled over, those made
    /// before `until` when given (the rest stay in the successor). Returns how many
    /// visits and walk-ins it added.
    pub fn add(&mut self, log: &impl LogView, until: Option<i64>) -> (usize, usize) {
        let before = |at: i64| until.is_none_or(|until| at < until);
        let mut added = (0, 0);
        for (id, mut visit) in log.all_visits().into_iter().filter(|(_, v)| before(v.at)) {
            visit.note = None;
            self.visits.insert(id, visit);
            added.0 += 1;
        }
        for (id, walkin) in log.all_walkins().into_iter().filter(|(_, w)| before(w.at)) {
            self.walkins.insert(id, walkin);
            added.1 += 1;
        }
        added
    }

    /// Whether it holds nothing (a hamlet never rolled over).
    pub fn is_empty(&self) -> bool {
        self.visits.is_empty() && self.walkins.is_empty()
    }
}

/// A live log seen with its hamlet's history: households are the live log's, visits
/// and walk-ins both, the live one winning where an id is in both (a device that
/// carried a visit the server already had over to the successor): counted once.
#[derive(Debug, Clone, Copy)]
pub struct WithHistory<'a, L> {
    /// The earlier logs' visits and walk-ins.
    pub history: &'a History,
    /// The live log.
    pub live: &'a L,
}

impl<L: LogView> LogView for WithHistory<'_, L> {
    fn all_households(&self) -> BTreeMap<HouseholdId, Household> {
        self.live.all_households()
    }

    fn all_visits(&self) -> BTreeMap<VisitId, Visit> {
        let mut all = self.history.visits.clone();
        all.extend(self.live.all_visits());
        all
    }

    fn household(&self, id: &HouseholdId) -> Option<Household> {
        self.live.household(id)
    }

    fn visit(&self, id: &VisitId) -> Option<Visit> {
        self.live.visit(id).or_else(|| self.history.visits.get(id).cloned())
    }

    fn all_walkins(&self) -> BTreeMap<WalkInId, WalkIn> {
        let mut all = self.history.walkins.clone();
        all.extend(self.live.all_walkins());
        all
    }

    fn walkin(&self, id: &WalkInId) -> Option<WalkIn> {
        self.live.walkin(id).or_else(|| self.history.walkins.get(id).cloned())
    }
}

/// Coverage kept up to date incrementally, with the per-entity state that needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageLedger {
    /// Listed households and whether each is retired.
    households: BTreeMap<HouseholdId, bool>,
    /// Every readable visit, voided or not.
    visits: BTreeMap<VisitId, Visit>,
    /// Every readable walk-in, voided or not.
    #[serde(default)]
    walkins: BTreeMap<WalkInId, WalkIn>,
    /// Per household, its non-voided visits' time and outcome by visit id: what one
    /// household's status is recomputed from, without a lookup in `visits` per visit
    /// (a hamlet with years of visits has hundreds per household).
    by_household: BTreeMap<HouseholdId, BTreeMap<VisitId, (i64, Outcome)>>,
    /// Households merged into another (listed twice): the one each counts towards.
    merged: BTreeMap<HouseholdId, HouseholdId>,
    /// The other way: per household kept, the ones merged into it.
    absorbed: BTreeMap<HouseholdId, BTreeSet<HouseholdId>>,
    /// The figures.
    coverage: Coverage,
}

impl CoverageLedger {
    /// Builds the ledger of a whole log.
    pub fn from_log(log: &impl LogView) -> Self {
        let mut ledger = Self::default();
        let all = Touched {
            households: log.all_households().into_keys().collect(),
            visits: log.all_visits().into_keys().collect(),
            walkins: log.all_walkins().into_keys().collect(),
        };
        ledger.apply(log, &all);
        ledger
    }

    /// The figures.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// Brings the ledger up to date with `log` for the entities a merge touched.
    /// Costs O(touched × log(n)), whatever the size of the log.
    pub fn apply(&mut self, log: &impl LogView, touched: &Touched) {
        let new_visits: BTreeMap<&VisitId, Option<Visit>> =
            touched.visits.iter().map(|id| (id, log.visit(id))).collect();
        let new_households: BTreeMap<&HouseholdId, Option<Household>> =
            touched.households.iter().map(|id| (id, log.household(id))).collect();
        let mut affected: BTreeSet<HouseholdId> = touched.households.clone();
        for (id, new) in &new_visits {
            affected.extend(self.visits.get(*id).map(|v| v.household.clone()));
            affected.extend(new.as_ref().map(|v| v.household.clone()));
        }
        // What those count towards, as merged before and after.
        let targets: Vec<HouseholdId> = affected
            .iter()
            .filter_map(|h| self.merged.get(h).cloned())
            .chain(new_households.values().filter_map(|h| h.as_ref()?.merged_into.clone()))
            .collect();
        affected.extend(targets);
        for h in &affected {
            if let Some(status) = self.counted_status(h) {
                self.coverage.add_household_status(status, -1);
            }
        }
        for (id, new) in new_visits {
            if let Some(old) = self.visits.remove(id) {
                if !old.voided {
                    self.coverage.add_visit(&old, -1);
                }
                if let Some(set) = self.by_household.get_mut(&old.household) {
                    set.remove(id);
                    if set.is_empty() {
                        self.by_household.remove(&old.household);
                    }
                }
            }
            if let Some(v) = new {
                if !v.voided {
                    self.coverage.add_visit(&v, 1);
                }
                if !v.voided {
                    self.by_household
                        .entry(v.household.clone())
                        .or_default()
                        .insert(id.clone(), (v.at, v.outcome));
                }
                self.visits.insert(id.clone(), v);
            }
        }
        for (id, new) in new_households {
            if let Some(into) = self.merged.remove(id)
                && let Some(set) = self.absorbed.get_mut(&into)
            {
                set.remove(id);
                if set.is_empty() {
                    self.absorbed.remove(&into);
                }
            }
            match new {
                Some(h) => {
                    if let Some(into) = h.merged_into {
                        self.absorbed.entry(into.clone()).or_default().insert(id.clone());
                        self.merged.insert(id.clone(), into);
                    }
                    self.households.insert(id.clone(), h.retired)
                }
                None => self.households.remove(id),
            };
        }
        for h in &affected {
            if let Some(status) = self.counted_status(h) {
                self.coverage.add_household_status(status, 1);
            }
        }
        for id in &touched.walkins {
            if let Some(old) = self.walkins.remove(id)
                && !old.voided
            {
                self.coverage.add_walkin(&old, -1);
            }
            if let Some(w) = log.walkin(id) {
                if !w.voided {
                    self.coverage.add_walkin(&w, 1);
                }
                self.walkins.insert(id.clone(), w);
            }
        }
    }

    /// A campaign's coverage: the listed households (not retired) with a visit that
    /// covers them from `from_ms` until before `until_ms`, and how many are listed.
    /// A household covered before the campaign is not covered in it.
    pub fn covered_between(&self, from_ms: i64, until_ms: i64) -> (u64, u64) {
        let mut covered = 0;
        let mut listed = 0;
        for (household, retired) in &self.households {
            if *retired {
                continue;
            }
            listed += 1;
            let merged = self.absorbed.get(household).into_iter().flatten();
            let covers = std::iter::once(household)
                .chain(merged)
                .filter_map(|h| self.by_household.get(h))
                .flat_map(|visits| visits.values())
                .any(|(at, outcome)| (from_ms..until_ms).contains(at) && outcome.covers());
            covered += u64::from(covers);
        }
        (covered, listed)
    }

    /// A household's status, whether or not it counts towards coverage.
    pub fn status(&self, household: &HouseholdId) -> HouseholdStatus {
        self.standing(household).0
    }

    /// A household's standing from its own visits and those of households merged into it.
    fn standing(&self, household: &HouseholdId) -> Standing {
        let merged = self.absorbed.get(household).into_iter().flatten();
        let visits = std::iter::once(household)
            .chain(merged)
            .filter_map(|h| self.by_household.get(h))
            .flatten()
            .map(|(id, (at, outcome))| (*at, id, *outcome));
        standing_of(visits)
    }

    /// The standing of a listed, non-retired household; `None` for others.
    fn counted_status(&self, household: &HouseholdId) -> Option<Standing> {
        match self.households.get(household) {
            Some(false) => Some(self.standing(household)),
            _ => None,
        }
    }

    /// The status of every listed, non-retired household.
    pub fn statuses(&self) -> BTreeMap<HouseholdId, HouseholdStatus> {
        self.households
            .iter()
            .filter(|(_, retired)| !**retired)
            .map(|(id, _)| (id.clone(), self.status(id)))
            .collect()
    }

    /// Listed, non-retired households whose latest visit asks for another.
    pub fn follow_ups(&self) -> Vec<HouseholdId> {
        self.households
            .iter()
            .filter(|(id, retired)| !**retired && self.status(id) == HouseholdStatus::FollowUp)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_visit_decides_follow_up_unless_covered() {
        let a = VisitId::parse("aaaaaaaaaaaaaaaa").expect("valid id");
        let b = VisitId::parse("bbbbbbbbbbbbbbbb").expect("valid id");
        let s = |v: Vec<(i64, &VisitId, Outcome)>| standing_of(v.into_iter()).0;
        assert_eq!(s(vec![]), HouseholdStatus::NotVisited);
        assert_eq!(s(vec![(1, &a, Outcome::NotHome)]), HouseholdStatus::FollowUp);
        assert_eq!(
            s(vec![(1, &a, Outcome::NotHome), (2, &b, Outcome::Declined)]),
            HouseholdStatus::Attempted
        );
        assert_eq!(s(vec![(2, &a, Outcome::NotHome), (1, &b, Outcome::Declined)]), HouseholdStatus::FollowUp);
        assert_eq!(s(vec![(1, &a, Outcome::Guided), (2, &b, Outcome::Revisit)]), HouseholdStatus::Covered);
        // Same time: the larger id is "latest", so every replica agrees.
        assert_eq!(s(vec![(1, &a, Outcome::Declined), (1, &b, Outcome::Revisit)]), HouseholdStatus::FollowUp);
    }

    #[test]
    fn a_household_counts_as_covered_from_its_first_covering_visit() {
        let a = VisitId::parse("aaaaaaaaaaaaaaaa").expect("valid id");
        let b = VisitId::parse("bbbbbbbbbbbbbbbb").expect("valid id");
        let c = VisitId::parse("cccccccccccccccc").expect("valid id");
        let visits =
            vec![(30, &a, Outcome::Guided), (10, &b, Outcome::NotHome), (20, &c, Outcome::AlreadyDone)];
        assert_eq!(standing_of(visits.into_iter()), (HouseholdStatus::Covered, Some(20)));
        assert_eq!(
            standing_of(vec![(10, &b, Outcome::NotHome)].into_iter()),
            (HouseholdStatus::FollowUp, None)
        );
    }

    #[test]
    fn ratio_uses_the_larger_of_target_and_registered() {
        let c = Coverage { registered: 200, covered: 50, ..Coverage::default() };
        assert!((c.ratio(400) - 0.125).abs() < 1e-9);
        assert!((c.ratio(100) - 0.25).abs() < 1e-9);
        assert_eq!(Coverage::default().ratio(0), 0.0);
    }

    #[test]
    fn coverage_folds_plain_maps_and_the_ledger_follows_them() {
        let h = |label: &str| Household {
            label: label.into(),
            head: None,
            members: None,
            created_by: UserId::parse("lan").expect("id"),
            created_at: 1_800_000_000_000,
            retired: false,
            merged_into: None,
            erased: false,
        };
        let v = |household: &HouseholdId, at: i64, outcome: Outcome| Visit {
            household: household.clone(),
            by: UserId::parse("lan").expect("id"),
            at,
            outcome,
            topics: Vec::new(),
            accounts: BTreeMap::new(),
            people: 1,
            filed: 0,
            note: None,
            voided: false,
        };
        let (one, two) = (
            HouseholdId::parse("aaaaaaaaaaaaaaaa").expect("id"),
            HouseholdId::parse("bbbbbbbbbbbbbbbb").expect("id"),
        );
        let (first, second) = (
            VisitId::parse("cccccccccccccccc").expect("id"),
            VisitId::parse("dddddddddddddddd").expect("id"),
        );
        let mut maps = (BTreeMap::new(), BTreeMap::new());
        maps.0.insert(one.clone(), h("Số 1"));
        maps.0.insert(two.clone(), h("Số 2"));
        maps.1.insert(first.clone(), v(&one, 1_800_000_000_000, Outcome::NotHome));
        let mut ledger = CoverageLedger::from_log(&maps);
        let c = Coverage::compute(&maps);
        assert_eq!((c.registered, c.attempted, c.covered, c.visits), (2, 1, 0, 1));
        assert_eq!(ledger.coverage(), &c);
        assert_eq!(ledger.follow_ups(), vec![one.clone()]);

        // A second visit covers the first household: the ledger, told what was
        // touched, reaches what a fold of the whole maps gives.
        maps.1.insert(second.clone(), v(&one, 1_800_000_100_000, Outcome::Guided));
        let touched = Touched { visits: BTreeSet::from([second]), ..Touched::default() };
        ledger.apply(&maps, &touched);
        let c = Coverage::compute(&maps);
        assert_eq!(c.covered, 1);
        assert_eq!(ledger.coverage(), &c);
        assert_eq!(ledger.status(&one), HouseholdStatus::Covered);
        assert_eq!(ledger.status(&two), HouseholdStatus::NotVisited);
    }

    #[test]
    fn withdrawing_undoes_absorbing() {
        let mut a = Coverage { registered: 5, covered: 2, visits: 7, ..Coverage::default() };
        a.accounts.insert("vneid_l1".into(), 3);
        a.per_day.insert("2026-11-29".into(), 7);
        let mut b = Coverage { registered: 3, covered: 1, visits: 2, ..Coverage::default() };
        b.accounts.insert("vneid_l1".into(), 1);
        b.accounts.insert("dvc".into(), 2);
        b.per_day.insert("2026-11-30".into(), 2);
        let mut sum = a.clone();
        sum.absorb(&b);
        sum.withdraw(&b);
        assert_eq!(sum, a);
        sum.withdraw(&a);
        assert_eq!(sum, Coverage::default(), "nothing left, and no empty entries");
    }
}
