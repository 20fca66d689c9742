//! The coverage pages: the commune dashboard (officials), a hamlet's page with its
//! volunteers and households, one household's visit history, and a leader's team page
//! with the follow-up list for the next round.

use chrono::Datelike;
use maud::{Markup, html};
use tungnha_client_core::Outcome;
use tungnha_client_core::coverage::{HouseholdStatus, VolunteerFigures, WalkInFigures, share, to_cover};
use tungnha_client_core::domain::CommuneKind;
use tungnha_client_core::{Coverage, collate};

use crate::chart;
use crate::i18n::Lang;
use crate::layout::{
    Chrome, FormErrors, bar, chip, csrf_field, field_error, household_label, invalid, meter, notice, page,
    url_part,
};

/// The headline figures of a hamlet or a commune.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Households the commune expects to reach.
    pub target: u64,
    /// Listed, non-retired households.
    pub registered: u64,
    /// Households to cover: max(target, registered) for a hamlet, the sum of its
    /// hamlets' for a commune (`coverage::to_cover`).
    pub to_cover: u64,
    /// Of those, covered.
    pub covered: u64,
    /// Of those, reached at all.
    pub attempted: u64,
    /// Of those, needing a revisit.
    pub follow_ups: u64,
    /// Non-voided visits.
    pub visits: u64,
    /// People helped.
    pub people: u64,
    /// Accounts created, all kinds.
    pub accounts: u64,
    /// Dossiers filed online with the teams' help.
    pub filed: u64,
    /// Walk-ins at the counters (a commune's or a province's; never coverage).
    pub walkins: u64,
    /// covered / to_cover.
    pub ratio: f64,
}

impl Figures {
    /// A hamlet's figures against its target.
    pub fn of(c: &Coverage, target: u64) -> Self {
        Self::of_sum(c, target, to_cover(target, c.registered))
    }

    /// Figures summed over hamlets: their coverage, targets and households to cover.
    pub fn of_sum(c: &Coverage, target: u64, to_cover: u64) -> Self {
        Self {
            target,
            registered: c.registered,
            to_cover,
            covered: c.covered,
            attempted: c.attempted,
            follow_ups: c.follow_ups,
            visits: c.visits,
            people: c.people,
            accounts: c.accounts.values().sum(),
            filed: c.filed,
            walkins: c.walkins.count,
            ratio: share(c.covered, to_cover),
        }
    }
}

/// One hamlet's row on a dashboard.
#[derive(Debug, Clone)]
pub struct HamletLine {
    /// Id, for its link.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its figures.
    pub figures: Figures,
    /// The last day with a visit ("YYYY-MM-DD").
    pub last_activity: Option<String>,
    /// In the chosen period, if one was: visits, and households first covered.
    pub in_period: Option<(u64, u64)>,
    /// In the chosen campaign, if one was: households covered during it, of those to
    /// cover.
    pub in_campaign: Option<(u64, u64)>,
    /// A commune's teams and their people (a province's rows).
    pub people: Option<People>,
}

/// A commune's or a province's teams and their people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct People {
    /// Teams.
    pub teams: u64,
    /// Their distinct members.
    pub members: u64,
    /// Of those, who synced in the last 7 days.
    pub active: u64,
}

/// A period chosen for a report: first and last day, inclusive ("YYYY-MM-DD").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
}

/// How the hamlets of a dashboard are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// By name.
    #[default]
    Name,
    /// Lowest coverage first: where help is needed.
    Coverage,
    /// Most follow-ups first.
    FollowUps,
    /// Least recently active first.
    Activity,
}

impl Sort {
    /// Every order, as the dashboard offers them.
    pub const ALL: [Sort; 4] = [Sort::Name, Sort::Coverage, Sort::FollowUps, Sort::Activity];

    /// From a `sort` query value; by name for anything else.
    pub fn from_code(code: &str) -> Self {
        Self::ALL.into_iter().find(|s| s.code() == code).unwrap_or_default()
    }

    /// The query value.
    pub fn code(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Coverage => "coverage",
            Sort::FollowUps => "follow_ups",
            Sort::Activity => "activity",
        }
    }
}

/// A sort's column label; `name` labels the rows' names (hamlet or commune).
fn sort_label(sort: Sort, lang: Lang, name: &'static str) -> &'static str {
    let t = lang.texts();
    {
        match sort {
            Sort::Name => name,
            Sort::Coverage => t.coverage,
            Sort::FollowUps => t.follow_ups,
            Sort::Activity => t.last_activity,
        }
    }
}

impl Sort {
    /// Orders hamlet rows.
    pub fn apply(self, rows: &mut [HamletLine]) {
        match self {
            Sort::Name => rows.sort_by(|a, b| collate::compare(&a.name, &b.name)),
            Sort::Coverage => rows.sort_by(|a, b| a.figures.ratio.total_cmp(&b.figures.ratio)),
            Sort::FollowUps => rows.sort_by_key(|r| std::cmp::Reverse(r.figures.follow_ups)),
            Sort::Activity => rows.sort_by(|a, b| a.last_activity.cmp(&b.last_activity)),
        }
    }
}

/// The commune dashboard.
#[derive(Debug, Clone)]
pub struct CommuneDashboard {
    /// Commune id.
    pub id: String,
    /// Commune name.
    pub name: String,
    /// The commune's figures (sums over its hamlets).
    pub figures: Figures,
    /// Accounts created per kind, labelled.
    pub accounts_by_kind: Vec<(String, u64)>,
    /// One row per hamlet, already in `sort` order.
    pub hamlets: Vec<HamletLine>,
    /// The order of the rows.
    pub sort: Sort,
    /// Visits per day over the last 30 days, oldest first, every day present.
    pub visits_per_day: Vec<(String, u64)>,
    /// Households covered by the end of each of those days.
    pub covered_by_day: Vec<(String, u64)>,
    /// The period the charts and the period columns cover; `None`: the last 30 days.
    pub period: Option<Period>,
    /// The period asked for could not be read (shown, and the last 30 days used).
    pub bad_period: bool,
    /// Today in Vietnam ("YYYY-MM-DD"), for the period shortcuts.
    pub today: String,
    /// Read by a province officer: figures only, no links to households, no exports.
    pub read_only: bool,
    /// Its teams with their figures.
    pub teams: Vec<crate::teams::TeamLine>,
    /// The latest month with its online share recorded (`YYYY-MM`, share), if any.
    pub filing: Option<(String, f64)>,
    /// Walk-ins at the commune's counters, summed.
    pub walkins: WalkInFigures,
    /// Each counter with its walk-ins.
    pub counters: Vec<CounterLine>,
    /// The commune's campaigns, newest first (shortcuts to their days).
    pub campaigns: Vec<crate::campaigns::CampaignLine>,
    /// The campaign chosen, with its coverage.
    pub campaign: Option<crate::campaigns::CampaignLine>,
}

/// The period form and shortcuts above a dashboard.
fn period_form(lang: Lang, base: &str, period: Option<&Period>, bad_period: bool, today: &str) -> Markup {
    let t = lang.texts();
    let (from, to) = period.map(|p| (p.from.as_str(), p.to.as_str())).unwrap_or(("", ""));
    let shortcut = |label: &str, (from, to): (String, String)| {
        html! { a.chip href={ (base) "?from=" (from) "&to=" (to) } { (label) } }
    };
    let day = |d: chrono::NaiveDate| d.to_string();
    let today_d = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap_or_default();
    let month_start = today_d.with_day(1).unwrap_or(today_d);
    let last_month_end = month_start.pred_opt().unwrap_or(month_start);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    let week_start = today_d - chrono::Days::new(6);
    html! {
        form.toolbar #period method="get" action=(base) {
            div { label for="from" { (t.period_from) } input #from type="date" name="from" value=(from); }
            div { label for="to" { (t.period_to) } input #to type="date" name="to" value=(to); }
            button type="submit" { (t.period_show) }
            div.chips {
                (shortcut(t.period_week, (day(week_start), day(today_d))))
                (shortcut(t.period_this_month, (day(month_start), day(today_d))))
                (shortcut(t.period_last_month, (day(last_month_start), day(last_month_end))))
                a.chip href=(base) { (t.last_30_days) }
            }
        }
        @if bad_period { p.alert role="alert" { (t.err_period) } }
    }
}

fn figure_cards(lang: Lang, f: &Figures) -> Markup {
    let t = lang.texts();
    html! {
        div.cards {
            div.card data-total="ratio" {
                div.figure { (lang.percent(f.ratio)) }
                div.what { (t.coverage) " = " (t.covered_short) " ÷ " (t.to_cover_short) }
                (bar(f.ratio))
            }
            (total(&lang.int(f.covered), t.covered, "covered"))
            (total(&lang.int(f.to_cover), t.to_cover, "to_cover"))
            (total(&lang.int(f.target), t.target, "target"))
            (total(&lang.int(f.registered), t.registered, "registered"))
            (total(&lang.int(f.attempted), t.attempted, "attempted"))
            (total(&lang.int(f.visits), t.visits, "visits"))
            (total(&lang.int(f.accounts), t.accounts, "accounts"))
            (total(&lang.int(f.people), t.people_helped, "people"))
            (total(&lang.int(f.filed), t.dr_filed, "filed"))
            (total(&lang.int(f.follow_ups), t.follow_ups, "follow_ups"))
        }
        p.muted.note { (t.to_cover_note) }
    }
}

/// A total's card, named for the column it sums (`data-total`).
fn total(figure: &str, what: &str, name: &str) -> Markup {
    html! { div.card data-total=(name) { div.figure { (figure) } div.what { (what) } } }
}

fn accounts_table(lang: Lang, rows: &[(String, u64)]) -> Markup {
    let t = lang.texts();
    html! {
        @if !rows.is_empty() {
            div.panel {
                h2 { (t.accounts_by_kind) }
                table { tbody {
                    @for (label, n) in rows { tr { td { (label) } td.num { (lang.int(*n)) } } }
                } }
            }
        }
    }
}

/// The hamlets table of a dashboard; `sort_base` is the page's path when sortable.
/// What the rows of a dashboard's table are, and where each row's name leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// Hamlets, each linking to its page.
    Hamlets,
    /// Hamlets, for a reader who may not open them (a province officer).
    HamletsUnlinked,
    /// Communes, each linking to its dashboard.
    Communes,
}

fn hamlets_table(lang: Lang, rows: &[HamletLine], sort: Option<(Sort, &str)>) -> Markup {
    rows_table(lang, rows, sort, Rows::Hamlets)
}

fn rows_table(lang: Lang, rows: &[HamletLine], sort: Option<(Sort, &str)>, kind: Rows) -> Markup {
    let t = lang.texts();
    // The communes of a province show their last 7 days where hamlets show a period.
    let (period_visits, period_covered) = if kind == Rows::Communes {
        (t.visits_7d, t.covered_7d)
    } else {
        (t.period_visits, t.period_covered)
    };
    let (table_id, link) = match kind {
        Rows::Hamlets => ("hamlets", Some("/hamlets/")),
        Rows::HamletsUnlinked => ("hamlets", None),
        Rows::Communes => ("communes", Some("/communes/")),
    };
    let name_label = if kind == Rows::Communes { t.commune } else { t.hamlet };
    let head = |s: Sort, class: &'static str| {
        html! {
            th class=(class) scope="col" {
                @match sort {
                    Some((current, base)) if current != s => a href={ (base) "?sort=" (s.code()) } { (sort_label(s, lang, name_label)) },
                    Some(_) => span aria-sort="ascending" { (sort_label(s, lang, name_label)) " ▾" },
                    None => (sort_label(s, lang, name_label)),
                }
            }
        }
    };
    html! {
        @if rows.is_empty() {
            p { (t.no_hamlets) }
        } @else {
            div.scroll { table id=(table_id) {
                thead { tr {
                    (head(Sort::Name, ""))
                    (head(Sort::Coverage, ""))
                    @if kind == Rows::Communes {
                        th.num scope="col" { (t.teams_count) }
                        th.num scope="col" { (t.members_active) }
                    }
                    th.num scope="col" { (t.covered) }
                    th.num scope="col" { (t.to_cover) }
                    th.num scope="col" { (t.visits) }
                    th.num scope="col" { (t.accounts) }
                    th.num scope="col" { (t.people_helped) }
                    @if kind == Rows::Communes { th.num scope="col" { (t.walkins) } }
                    (head(Sort::FollowUps, "num"))
                    (head(Sort::Activity, ""))
                    @if rows.iter().any(|r| r.in_period.is_some()) {
                        th.num scope="col" { (period_visits) }
                        th.num scope="col" { (period_covered) }
                    }
                    @if rows.iter().any(|r| r.in_campaign.is_some()) {
                        th scope="col" { (t.campaign_covered) }
                    }
                } }
                tbody {
                    @for row in rows {
                        tr data-hamlet=[(kind != Rows::Communes).then_some(&row.id)] data-commune=[(kind == Rows::Communes).then_some(&row.id)] {
                            td {
                                @match link {
                                    Some(link) => a href={ (link) (url_part(&row.id)) } { (row.name) },
                                    None => (row.name),
                                }
                            }
                            td { (meter(lang, row.figures.ratio)) }
                            @if kind == Rows::Communes {
                                @let p = row.people.unwrap_or_default();
                                td.num data-figure="teams" { (lang.int(p.teams)) }
                                td.num data-figure="members" { (lang.int(p.members)) " (" span data-figure="active" { (lang.int(p.active)) } ")" }
                            }
                            td.num data-figure="covered" { (lang.int(row.figures.covered)) }
                            td.num data-figure="to_cover" { (lang.int(row.figures.to_cover)) }
                            td.num data-figure="visits" { (lang.int(row.figures.visits)) }
                            td.num data-figure="accounts" { (lang.int(row.figures.accounts)) }
                            td.num data-figure="people" { (lang.int(row.figures.people)) }
                            @if kind == Rows::Communes {
                                td.num data-figure="walkins" { (lang.int(row.figures.walkins)) }
                            }
                            td.num data-figure="follow_ups" { (lang.int(row.figures.follow_ups)) }
                            td { (row.last_activity.as_deref().map(|d| lang.day(d)).unwrap_or_else(|| t.never.to_owned())) }
                            @if let Some((visits, covered)) = row.in_period {
                                td.num data-figure="period_visits" { (lang.int(visits)) }
                                td.num data-figure="period_covered" { (lang.int(covered)) }
                            }
                            @if let Some((covered, to_cover)) = row.in_campaign {
                                td data-figure="campaign_covered" {
                                    (meter(lang, if to_cover == 0 { 0.0 } else { covered as f64 / to_cover as f64 }))
                                    " " (lang.int(covered)) " / " (lang.int(to_cover))
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// Renders the commune dashboard.
pub fn commune(chrome: &Chrome, view: &CommuneDashboard) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let base = format!("/communes/{}", url_part(&view.id));
    page(
        chrome,
        &view.name,
        html! {
            h1 { (view.name) }
            @let query = match (&view.period, &view.campaign) {
                (Some(p), Some(c)) => format!("?from={}&to={}&campaign={}", p.from, p.to, c.number),
                (Some(p), None) => format!("?from={}&to={}", p.from, p.to),
                (None, Some(c)) => format!("?campaign={}", c.number),
                (None, None) => String::new(),
            };
            @let span = match &view.period {
                Some(p) => format!("{}–{}", lang.day(&p.from), lang.day(&p.to)),
                None => t.last_30_days.to_owned(),
            };
            @if view.read_only {
                p.muted.note #figures-only { (t.figures_only) }
            }
            div.toolbar {
                a.button.secondary #day-report href={ (base) "/day" } { (t.day_report) }
                a.button.secondary #filing-link href={ (base) "/filing" } { (t.filing_title) }
                @if !view.read_only {
                    a.button.secondary href={ (base) "/export.xlsx" (query) } download { (t.export_excel) }
                    a.button.secondary href={ (base) "/export.csv" (query) } download { (t.export_csv) }
                }
            }
            (period_form(lang, &base, view.period.as_ref(), view.bad_period, &view.today))
            (crate::campaigns::chips(&base, &view.campaigns))
            @if let Some(c) = &view.campaign { (crate::campaigns::chosen_panel(lang, c)) }
            section #totals aria-label=(t.coverage) {
                h2.muted #all-time { (t.all_time) }
                (figure_cards(lang, &view.figures))
                div.cards { (filing_card(lang, &base, &view.filing)) }
            }
            (walkins_section(lang, &view.walkins, &view.counters, !view.read_only))
            div.charts {
                div.panel {
                    h2 { (t.visits_per_day) " · " span.muted #period-span { (span) } }
                    (chart::bars(lang, t.visits_per_day, &view.visits_per_day))
                }
                div.panel {
                    h2 { (t.coverage_over_time) " · " span.muted { (span) } }
                    (chart::line(lang, t.coverage_over_time, &view.covered_by_day))
                }
            }
            h2 { (t.hamlets) }
            @let rows = if view.read_only { Rows::HamletsUnlinked } else { Rows::Hamlets };
            (rows_table(lang, &view.hamlets, Some((view.sort, &base)), rows))
            section #teams-section aria-labelledby="teams-heading" {
                h2 #teams-heading { (t.teams_title) }
                (crate::teams::teams_table(lang, &view.teams, (!view.read_only).then_some(view.id.as_str())))
            }
            (accounts_table(lang, &view.accounts_by_kind))
        },
    )
}

/// Which communes a province dashboard shows, by coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Band {
    /// Every commune.
    #[default]
    All,
    /// Below 50 %.
    Low,
    /// From 50 % to below 80 %.
    Mid,
    /// 80 % or more.
    High,
}

impl Band {
    /// Every band, as the filter offers them.
    pub const ALL: [Band; 4] = [Band::All, Band::Low, Band::Mid, Band::High];

    /// From a `band` query value; every commune for anything else.
    pub fn from_code(code: &str) -> Self {
        Self::ALL.into_iter().find(|b| b.code() == code).unwrap_or_default()
    }

    /// The query value.
    pub fn code(self) -> &'static str {
        match self {
            Band::All => "",
            Band::Low => "low",
            Band::Mid => "mid",
            Band::High => "high",
        }
    }

    /// Whether a coverage ratio falls in the band.
    pub fn holds(self, ratio: f64) -> bool {
        match self {
            Band::All => true,
            Band::Low => ratio < 0.5,
            Band::Mid => (0.5..0.8).contains(&ratio),
            Band::High => ratio >= 0.8,
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        let t = lang.texts();
        match self {
            Band::All => t.band_all,
            Band::Low => t.band_low,
            Band::Mid => t.band_mid,
            Band::High => t.band_high,
        }
    }
}

/// The filters of a province dashboard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProvinceFilter {
    /// By coverage.
    pub band: Band,
    /// Only communes with no visit in the last 7 days.
    pub idle: bool,
    /// Only communes of one kind.
    pub kind: Option<CommuneKind>,
}

/// The province dashboard.
#[derive(Debug, Clone)]
pub struct ProvinceDashboard {
    /// Province id.
    pub id: String,
    /// Province name.
    pub name: String,
    /// The province's figures (sums over its communes).
    pub figures: Figures,
    /// How many communes it has.
    pub communes: usize,
    /// Its communes' teams and people, summed.
    pub people: People,
    /// Visits over the last 7 days.
    pub visits_7d: u64,
    /// Accounts created per kind, labelled.
    pub accounts_by_kind: Vec<(String, u64)>,
    /// One row per commune shown (`in_period`: its last 7 days), in `sort` order.
    pub rows: Vec<HamletLine>,
    /// The order of the rows.
    pub sort: Sort,
    /// The filters applied.
    pub filter: ProvinceFilter,
    /// Visits per day over the last 30 days, oldest first.
    pub visits_per_day: Vec<(String, u64)>,
    /// Households covered by the end of each of those days.
    pub covered_by_day: Vec<(String, u64)>,
    /// The latest month with the province's online share recorded (all levels), if any.
    pub filing: Option<(String, f64)>,
    /// Walk-ins at its communes' counters, summed.
    pub walkins: WalkInFigures,
}

/// One one-stop counter with its walk-ins.
#[derive(Debug, Clone)]
pub struct CounterLine {
    /// Id (its log's).
    pub id: String,
    /// Name.
    pub name: String,
    /// Its walk-ins.
    pub figures: WalkInFigures,
}

/// Walk-ins at the counters, their own line: cards, and each counter when given (each
/// linking to its page when `link`).
fn walkins_section(lang: Lang, sum: &WalkInFigures, counters: &[CounterLine], link: bool) -> Markup {
    let t = lang.texts();
    html! {
        section.panel #walkins aria-labelledby="h-walkins" {
            h2 #h-walkins { (t.counters_title) }
            div.cards {
                (total(&lang.int(sum.count), t.walkins, "walkins"))
                (total(&lang.int(sum.people), t.walkin_people, "walkin_people"))
                (total(&lang.int(sum.accounts_total()), t.walkin_accounts, "walkin_accounts"))
                (total(&lang.int(sum.filed), t.walkin_filed, "walkin_filed"))
            }
            @if !counters.is_empty() {
                div.scroll { table #counters-table {
                    thead { tr {
                        th scope="col" { (t.counter) }
                        th.num scope="col" { (t.walkins) }
                        th.num scope="col" { (t.walkin_people) }
                        th.num scope="col" { (t.walkin_accounts) }
                        th.num scope="col" { (t.walkin_filed) }
                    } }
                    tbody {
                        @for c in counters {
                            tr data-counter=(c.id) {
                                th scope="row" {
                                    @if link { a href={ "/hamlets/" (url_part(&c.id)) } { (c.name) } } @else { (c.name) }
                                }
                                td.num data-figure="walkins" { (lang.int(c.figures.count)) }
                                td.num data-figure="walkin_people" { (lang.int(c.figures.people)) }
                                td.num data-figure="walkin_accounts" { (lang.int(c.figures.accounts_total())) }
                                td.num data-figure="walkin_filed" { (lang.int(c.figures.filed)) }
                            }
                        }
                    }
                } }
            } @else if sum.is_zero() {
                p.muted { (t.no_counters) }
            }
        }
    }
}

/// The card of the latest online-filing share, linking to its page.
fn filing_card(lang: Lang, base: &str, filing: &Option<(String, f64)>) -> Markup {
    let t = lang.texts();
    html! {
        a.card data-total="filing_rate" href={ (base) "/filing" } {
            @match filing {
                Some((month, rate)) => {
                    div.figure { (lang.percent(*rate)) }
                    div.what { (t.fl_latest) " · " (crate::filing::month_shown(month)) }
                }
                None => {
                    div.figure { "–" }
                    div.what { (t.fl_latest) }
                }
            }
        }
    }
}

/// Renders the province dashboard.
pub fn province(chrome: &Chrome, view: &ProvinceDashboard) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let base = format!("/provinces/{}", url_part(&view.id));
    page(
        chrome,
        &view.name,
        html! {
            h1 { (view.name) }
            div.toolbar {
                a.button.secondary #day-report href={ (base) "/day" } { (t.day_report) }
                a.button.secondary #filing-link href={ (base) "/filing" } { (t.filing_title) }
                a.button.secondary href={ (base) "/export.xlsx" } download { (t.export_excel) }
                a.button.secondary href={ (base) "/export.csv" } download { (t.export_csv) }
            }
            section #totals aria-label=(t.coverage) {
                div.cards {
                    (total(&lang.int(view.communes as u64), t.communes, "communes"))
                    (total(&lang.int(view.people.teams), t.teams_count, "teams"))
                    (total(&lang.int(view.people.members), t.team_members, "members"))
                    (total(&lang.int(view.people.active), t.active_members_7d, "active_members"))
                    (total(&lang.int(view.visits_7d), t.visits_7d, "visits_7d"))
                    (filing_card(lang, &base, &view.filing))
                }
                (figure_cards(lang, &view.figures))
            }
            (walkins_section(lang, &view.walkins, &[], false))
            div.charts {
                div.panel {
                    h2 { (t.visits_per_day) " · " span.muted { (t.last_30_days) } }
                    (chart::bars(lang, t.visits_per_day, &view.visits_per_day))
                }
                div.panel {
                    h2 { (t.coverage_over_time) " · " span.muted { (t.last_30_days) } }
                    (chart::line(lang, t.coverage_over_time, &view.covered_by_day))
                }
            }
            h2 { (t.communes) }
            form.filters method="get" action=(base) {
                input type="hidden" name="sort" value=(view.sort.code());
                label { (t.filter_band) " "
                    select name="band" {
                        @for b in Band::ALL {
                            option value=(b.code()) selected[b == view.filter.band] { (b.label(lang)) }
                        }
                    }
                }
                label { (t.commune_kind) " "
                    select name="kind" {
                        option value="" selected[view.filter.kind.is_none()] { (t.filter_kind_all) }
                        @for k in CommuneKind::ALL {
                            option value=(k.code()) selected[view.filter.kind == Some(*k)] { (lang.commune_kind(*k)) }
                        }
                    }
                }
                label.check { input type="checkbox" name="idle" value="1" checked[view.filter.idle]; " " (t.filter_idle) }
                button type="submit" { (t.filter_apply) }
            }
            @if view.communes == 0 {
                p { (t.no_communes) }
            } @else {
                p.muted #shown { (lang.int(view.rows.len() as u64)) " / " (lang.int(view.communes as u64)) " " (t.communes_shown) }
                (rows_table(lang, &view.rows, Some((view.sort, &base)), Rows::Communes))
            }
            (accounts_table(lang, &view.accounts_by_kind))
        },
    )
}

/// One volunteer's line of progress.
#[derive(Debug, Clone)]
pub struct VolunteerLine {
    /// Their name.
    pub name: String,
    /// Their figures.
    pub figures: VolunteerFigures,
}

fn volunteers_table(lang: Lang, rows: &[VolunteerLine]) -> Markup {
    let t = lang.texts();
    html! {
        @if !rows.is_empty() {
            div.scroll { table #volunteers {
                thead { tr {
                    th scope="col" { (t.volunteer) }
                    th.num scope="col" { (t.visits) }
                    th.num scope="col" { (t.covering_visits) }
                    th.num scope="col" { (t.accounts) }
                    th.num scope="col" { (t.people_helped) }
                } }
                tbody {
                    @for v in rows {
                        tr {
                            td { (v.name) }
                            td.num { (lang.int(v.figures.visits)) }
                            td.num { (lang.int(v.figures.covering_visits)) }
                            td.num { (lang.int(v.figures.accounts)) }
                            td.num { (lang.int(v.figures.people)) }
                        }
                    }
                }
            } }
        }
    }
}

/// One household's line on a hamlet page.
#[derive(Debug, Clone)]
pub struct HouseholdLine {
    /// Id, for its link.
    pub id: String,
    /// House number or alley.
    pub label: String,
    /// Head of household's display name.
    pub head: Option<String>,
    /// Where it stands.
    pub status: HouseholdStatus,
    /// Its latest non-voided visit, ms since epoch.
    pub last_visit: Option<i64>,
}

/// One walk-in as a counter's page lists it.
#[derive(Debug, Clone)]
pub struct WalkInLine {
    /// When, ms since epoch.
    pub at: i64,
    /// Who helped (their name).
    pub by: String,
    /// People helped.
    pub people: u64,
    /// Topics, labelled.
    pub topics: Vec<String>,
    /// Accounts created, all kinds.
    pub accounts: u64,
    /// Dossiers filed online.
    pub filed: u64,
    /// The note.
    pub note: Option<String>,
    /// Logged by mistake.
    pub voided: bool,
}

/// A one-stop counter's page: its walk-ins, newest first.
#[derive(Debug, Clone)]
pub struct CounterPage {
    /// Name.
    pub name: String,
    /// Its figures.
    pub figures: WalkInFigures,
    /// Its latest walk-ins.
    pub walkins: Vec<WalkInLine>,
}

/// Renders a counter's page.
pub fn counter(chrome: &Chrome, view: &CounterPage) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    page(
        chrome,
        &view.name,
        html! {
            h1 { span.muted { (t.counter) " · " } (view.name) }
            p.muted { (t.counter_note) }
            (walkins_section(lang, &view.figures, &[], false))
            div.scroll { table #walkins-list {
                thead { tr {
                    th scope="col" { (t.when) }
                    th scope="col" { (t.walkin_by) }
                    th.num scope="col" { (t.walkin_people) }
                    th scope="col" { (t.topics) }
                    th.num scope="col" { (t.accounts) }
                    th.num scope="col" { (t.dr_filed) }
                    th scope="col" { (t.note) }
                } }
                tbody {
                    @for w in &view.walkins {
                        tr data-walkin class=[w.voided.then_some("voided")] {
                            td { (lang.time(w.at)) }
                            td { (w.by) }
                            td.num { (lang.int(w.people)) }
                            td { (w.topics.join(", ")) }
                            td.num { (lang.int(w.accounts)) }
                            td.num { (lang.int(w.filed)) }
                            td { (w.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
        },
    )
}

/// A hamlet's page.
#[derive(Debug, Clone)]
pub struct HamletPage {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The commune's name.
    pub commune_name: String,
    /// Its figures.
    pub figures: Figures,
    /// Accounts per kind, labelled.
    pub accounts_by_kind: Vec<(String, u64)>,
    /// Each volunteer's progress.
    pub volunteers: Vec<VolunteerLine>,
    /// The households shown (after filter and search).
    pub households: Vec<HouseholdLine>,
    /// How many households the hamlet lists in all.
    pub total_households: usize,
    /// The status filter, if any.
    pub filter: Option<HouseholdStatus>,
    /// The label search.
    pub query: String,
    /// Visits per day over the last 30 days.
    pub visits_per_day: Vec<(String, u64)>,
    /// Households listed in the field that nobody has confirmed or removed yet.
    pub awaiting_review: usize,
    /// The period the chart covers, if one was chosen (else the last 30 days).
    pub period: Option<Period>,
    /// The period asked for could not be read.
    pub bad_period: bool,
    /// Today in Vietnam ("YYYY-MM-DD").
    pub today: String,
    /// The viewer may roll the hamlet's log over (its commune's officials).
    pub may_compact: bool,
    /// A notice after rolling it over (or finding nothing to roll over).
    pub notice: Option<&'static str>,
}

/// The status filters a hamlet page offers, with their query codes.
pub const STATUS_FILTERS: [(HouseholdStatus, &str); 4] = [
    (HouseholdStatus::NotVisited, "not_visited"),
    (HouseholdStatus::FollowUp, "follow_up"),
    (HouseholdStatus::Attempted, "attempted"),
    (HouseholdStatus::Covered, "covered"),
];

/// Renders a hamlet's page.
pub fn hamlet(chrome: &Chrome, view: &HamletPage) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let base = format!("/hamlets/{}", url_part(&view.id));
    page(
        chrome,
        &view.name,
        html! {
            p.muted { (view.commune_name) }
            h1 { (view.name) }
            (notice(view.notice))
            div.toolbar {
                a.button.secondary href={ (base) "/export.xlsx" } download { (t.export_excel) }
                a.button.secondary href={ (base) "/export.csv" } download { (t.export_csv) }
            }
            @if view.awaiting_review > 0 {
                p.notice #awaiting-review {
                    a href={ (base) "/review" } { (lang.int(view.awaiting_review as u64)) " " (t.review_awaiting) }
                }
            }
            (period_form(lang, &base, view.period.as_ref(), view.bad_period, &view.today))
            section #totals aria-label=(t.coverage) { (figure_cards(lang, &view.figures)) }
            div.charts {
                div.panel {
                    h2 {
                        (t.visits_per_day) " · "
                        span.muted {
                            @match &view.period {
                                Some(p) => { (lang.day(&p.from)) "–" (lang.day(&p.to)) },
                                None => (t.last_30_days),
                            }
                        }
                    }
                    (chart::bars(lang, t.visits_per_day, &view.visits_per_day))
                }
                (accounts_table(lang, &view.accounts_by_kind))
            }
            h2 { (t.volunteers_progress) }
            (volunteers_table(lang, &view.volunteers))
            h2 #households { (t.households) }
            form.toolbar method="get" action=(base) role="search" {
                div {
                    label for="status" { (t.status) }
                    select #status name="status" {
                        option value="" selected[view.filter.is_none()] { (t.all) }
                        @for (s, code) in STATUS_FILTERS {
                            option value=(code) selected[view.filter == Some(s)] { (lang.status(s)) }
                        }
                    }
                }
                div {
                    label for="q" { (t.search_label) }
                    input #q type="search" name="q" value=(view.query);
                }
                button type="submit" { (t.search) }
            }
            p.muted { (t.shown_of) " " span #shown-count { (lang.int(view.households.len() as u64)) } " / " (lang.int(view.total_households as u64)) }
            @if view.households.is_empty() {
                p { (t.no_households) }
            } @else {
                div.scroll { table #household-list data-filter-from="#q" data-filter-count="#shown-count" {
                    thead { tr {
                        th scope="col" { (t.household) }
                        th scope="col" { (t.head) }
                        th scope="col" { (t.status) }
                        th scope="col" { (t.last_visit) }
                    } }
                    tbody {
                        @for h in &view.households {
                            tr data-search=(collate::fold(&format!("{} {}", h.label, h.head.as_deref().unwrap_or("")))) {
                                td { a href={ (base) "/households/" (url_part(&h.id)) } { (household_label(t, &h.label)) } }
                                td { (h.head.as_deref().unwrap_or("")) }
                                td { (chip(lang, h.status)) }
                                td { (h.last_visit.map(|at| lang.time(at)).unwrap_or_default()) }
                            }
                        }
                    }
                } }
            }
            @if view.may_compact {
                section.panel #compact {
                    h2 { (t.compact_title) }
                    p.muted { (t.compact_explain) }
                    form method="post" action={ (base) "/rollover" } data-confirm=(t.compact_confirm) {
                        (csrf_field(chrome))
                        button.secondary type="submit" { (t.compact_button) }
                    }
                }
            }
        },
    )
}

/// One visit in a household's history.
#[derive(Debug, Clone)]
pub struct VisitLine {
    /// When, ms since epoch.
    pub at: i64,
    /// Who, by name.
    pub by: String,
    /// What came of it.
    pub outcome: Outcome,
    /// Topics guided, labelled.
    pub topics: Vec<String>,
    /// Accounts created, labelled, with counts.
    pub accounts: Vec<(String, u32)>,
    /// People helped.
    pub people: u32,
    /// The volunteer's note.
    pub note: Option<String>,
    /// Whether it was voided.
    pub voided: bool,
}

/// A household's page: who they are and every visit.
#[derive(Debug, Clone)]
pub struct HouseholdPage {
    /// The hamlet's id.
    pub hamlet_id: String,
    /// The hamlet's name.
    pub hamlet_name: String,
    /// House number or alley.
    pub label: String,
    /// Head of household.
    pub head: Option<String>,
    /// Members.
    pub members: Option<u32>,
    /// Whether it left the list.
    pub retired: bool,
    /// Where it stands.
    pub status: HouseholdStatus,
    /// Its visits, newest first.
    pub visits: Vec<VisitLine>,
    /// The household's id.
    pub id: String,
    /// Other households on the list it may be merged into (listed twice): id, label.
    pub merge_targets: Vec<(String, String)>,
    /// The viewer may erase its personal data and export what is stored about it (an
    /// official of its commune).
    pub may_erase: bool,
    /// What was just done, if anything.
    pub notice: Option<&'static str>,
    /// Why the erasure form was refused, if it was, and the reason typed.
    pub erase_error: Option<(FormErrors, String)>,
}

/// Renders a household's page.
pub fn household(chrome: &Chrome, view: &HouseholdPage) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let label = household_label(t, &view.label);
    page(
        chrome,
        label,
        html! {
            p { a href={ "/hamlets/" (url_part(&view.hamlet_id)) "#households" } { "← " (view.hamlet_name) } }
            h1 { (label) " " (chip(lang, view.status)) }
            @if let Some(message) = view.notice { p.notice.ok role="status" { (message) } }
            ul.plain {
                @if let Some(head) = &view.head { li { (t.head) ": " (head) } }
                @if let Some(m) = view.members { li { (t.members) ": " (m) } }
                @if view.retired { li { span.chip.off { (t.retired) } } }
            }
            @if !view.retired && !view.merge_targets.is_empty() {
                details.panel #merge {
                    summary { (t.merge_title) }
                    p.muted { (t.merge_note) }
                    form.inline method="post"
                        action={ "/hamlets/" (url_part(&view.hamlet_id)) "/households/" (url_part(&view.id)) "/merge" }
                        data-confirm=(t.merge_confirm) {
                        (csrf_field(chrome))
                        label for="into" { (t.merge_into) }
                        select #into name="into" {
                            @for (id, label) in &view.merge_targets {
                                option value=(id) { (household_label(t, label)) " · " (id) }
                            }
                        }
                        button.danger type="submit" { (t.merge_button) }
                    }
                }
            }
            @if view.may_erase {
                (erase_panel(chrome, view))
            }
            h2 { (t.visit_history) }
            @if view.visits.is_empty() {
                p { (t.no_visits) }
            } @else {
                div.scroll { table #visits {
                    thead { tr {
                        th scope="col" { (t.when) }
                        th scope="col" { (t.by) }
                        th scope="col" { (t.outcome) }
                        th scope="col" { (t.topics) }
                        th scope="col" { (t.accounts) }
                        th.num scope="col" { (t.people_helped) }
                        th scope="col" { (t.note) }
                    } }
                    tbody {
                        @for v in &view.visits {
                            tr {
                                td { (lang.time(v.at)) @if v.voided { " " span.chip.off { (t.voided) } } }
                                td { (v.by) }
                                td { (lang.outcome(v.outcome)) }
                                td { (v.topics.join(", ")) }
                                td { @for (label, n) in &v.accounts { (label) ": " (n) br; } }
                                td.num { (v.people) }
                                td { (v.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// An official's panel on a household's page: export everything stored about it, and
/// erase its personal data (unless it is erased already).
fn erase_panel(chrome: &Chrome, view: &HouseholdPage) -> Markup {
    let t = chrome.t();
    let base = format!("/hamlets/{}/households/{}", url_part(&view.hamlet_id), url_part(&view.id));
    let (errors, typed) = match &view.erase_error {
        Some((errors, typed)) => (errors.clone(), typed.as_str()),
        None => (FormErrors::new(), ""),
    };
    html! {
        p { a.button.secondary #export-household href={ (base) "/export.json" } download { (t.export_household) } }
        @if !view.label.is_empty() {
            details.panel #erase open[view.erase_error.is_some()] {
                summary { (t.erase_title) }
                p.muted { (t.erase_explain) }
                form.stack method="post" action={ (base) "/erase" } data-confirm=(t.erase_explain) {
                    (csrf_field(chrome))
                    label for="reason" { (t.erase_reason) }
                    input #reason name="reason" required maxlength="200" value=(typed)
                        aria-invalid=(invalid(&errors, "reason"));
                    (field_error(&errors, "reason"))
                    button.danger type="submit" { (t.erase_button) }
                }
            }
        }
    }
}

/// One household on a leader's follow-up list.
#[derive(Debug, Clone)]
pub struct FollowUpLine {
    /// The hamlet's id.
    pub hamlet_id: String,
    /// The hamlet's name.
    pub hamlet_name: String,
    /// The household's id.
    pub household_id: String,
    /// House number or alley.
    pub label: String,
    /// Head of household.
    pub head: Option<String>,
    /// The latest visit: when, and what came of it.
    pub last: Option<(i64, Outcome)>,
    /// Who made it, by name, and the note they left ("Hẹn chiều mai").
    pub last_by: String,
    /// The latest visit's note.
    pub last_note: Option<String>,
}

/// A leader's team page.
#[derive(Debug, Clone)]
pub struct TeamPage {
    /// The teams the leader leads: each name, and where its day's report is.
    pub teams: Vec<(String, String)>,
    /// The hamlets the leader works in.
    pub hamlets: Vec<HamletLine>,
    /// Members' progress, over those hamlets.
    pub members: Vec<VolunteerLine>,
    /// Households to revisit.
    pub follow_ups: Vec<FollowUpLine>,
    /// Members a device can be enrolled for: (username, name).
    pub enrollable: Vec<(String, String)>,
    /// Errors of the enrolment form.
    pub errors: FormErrors,
    /// The period the hamlets' period columns cover, if one was chosen.
    pub period: Option<Period>,
    /// The period asked for could not be read.
    pub bad_period: bool,
    /// Today in Vietnam ("YYYY-MM-DD").
    pub today: String,
}

/// Renders a leader's team page.
pub fn team(chrome: &Chrome, view: &TeamPage) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    page(
        chrome,
        t.team_title,
        html! {
            h1 { (t.team_title) }
            @if !view.teams.is_empty() {
                ul.lead #led-teams {
                    @for (name, day) in &view.teams {
                        li { (name) " · " a.day-report href=(day) { (t.day_report) } }
                    }
                }
            }
            (period_form(lang, "/team", view.period.as_ref(), view.bad_period, &view.today))
            (hamlets_table(lang, &view.hamlets, None))
            h2 { (t.members_progress) }
            (volunteers_table(lang, &view.members))
            div.panel #enrol {
                h2 { (t.enrol_title) }
                p.muted { (t.enrol_note) }
                form.inline method="post" action="/team/enrol" {
                    (csrf_field(chrome))
                    div {
                        label for="member" { (t.enrol_for) }
                        select #member name="user" aria-invalid=(invalid(&view.errors, "user")) {
                            option value="" { (t.choose) }
                            @for (id, name) in &view.enrollable { option value=(id) { (name) " (" (id) ")" } }
                        }
                        (field_error(&view.errors, "user"))
                    }
                    button type="submit" { (t.make_code) }
                }
            }
            h2 { (t.follow_up_list) }
            p.muted { (t.follow_up_note) }
            @if !view.follow_ups.is_empty() {
                p { a.button.secondary href="/team/follow-ups/print" { (t.print_follow_ups) } }
            }
            @if view.follow_ups.is_empty() {
                p { (t.no_follow_ups) }
            } @else {
                div.scroll { table #follow-ups {
                    thead { tr {
                        th scope="col" { (t.hamlet) }
                        th scope="col" { (t.household) }
                        th scope="col" { (t.head) }
                        th scope="col" { (t.last_visit) }
                    } }
                    tbody {
                        @for f in &view.follow_ups {
                            tr {
                                td { (f.hamlet_name) }
                                td { a href={ "/hamlets/" (url_part(&f.hamlet_id)) "/households/" (url_part(&f.household_id)) } { (household_label(t, &f.label)) } }
                                td { (f.head.as_deref().unwrap_or("")) }
                                td {
                                    @if let Some((at, o)) = f.last { (lang.time(at)) " · " (lang.outcome(o)) " · " (f.last_by) }
                                    @if let Some(note) = &f.last_note { br; span.muted { "“" (note) "”" } }
                                }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// The follow-up list on paper, for teams that still walk with it: A4, one page per
/// volunteer (whoever made each household's latest visit), with a blank column for
/// what comes of the next one.
pub fn follow_ups_print(chrome: &Chrome, lines: &[FollowUpLine]) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let mut by: Vec<&str> = lines.iter().map(|f| f.last_by.as_str()).collect();
    by.sort_by(|a, b| collate::compare(a, b));
    by.dedup();
    page(
        chrome,
        t.follow_up_list,
        html! {
            p.no-print.notice { (t.print_hint) }
            @for who in &by {
                section.print-page data-volunteer=(who) {
                    h1 { (t.follow_up_list) }
                    p { strong { (who) } }
                    table.print {
                        thead { tr {
                            th scope="col" { (t.hamlet) }
                            th scope="col" { (t.household) }
                            th scope="col" { (t.head) }
                            th scope="col" { (t.last_visit) }
                            th scope="col" { (t.next_visit) }
                        } }
                        tbody {
                            @for f in lines.iter().filter(|f| f.last_by == *who) {
                                tr {
                                    td { (f.hamlet_name) }
                                    td { (household_label(t, &f.label)) }
                                    td { (f.head.as_deref().unwrap_or("")) }
                                    td {
                                        @if let Some((at, o)) = f.last { (lang.time(at)) " · " (lang.outcome(o)) }
                                        @if let Some(note) = &f.last_note { br; "“" (note) "”" }
                                    }
                                    td.blank {}
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::SignedIn;
    use tungnha_client_core::Role;

    fn chrome(lang: Lang) -> Chrome {
        Chrome {
            lang,
            csrf: "tok".into(),
            path: "/communes/x".into(),
            user: Some(SignedIn {
                name: "Lê Thị Thu".into(),
                role: Role::Official,
                commune: Some("x".into()),
                province: None,
            }),
        }
    }

    fn line(
        id: &str,
        name: &str,
        covered: u64,
        target: u64,
        follow_ups: u64,
        last: Option<&str>,
    ) -> HamletLine {
        let c = Coverage {
            registered: target,
            covered,
            attempted: covered,
            follow_ups,
            visits: 1234,
            ..Coverage::default()
        };
        HamletLine {
            id: id.into(),
            name: name.into(),
            figures: Figures::of(&c, target),
            last_activity: last.map(Into::into),
            in_period: None,
            in_campaign: None,
            people: None,
        }
    }

    fn dashboard() -> CommuneDashboard {
        let c = Coverage {
            registered: 700,
            covered: 350,
            attempted: 400,
            visits: 2468,
            people: 1500,
            ..Coverage::default()
        };
        CommuneDashboard {
            walkins: WalkInFigures::default(),
            counters: Vec::new(),
            filing: Some(("2026-11".into(), 0.49)),
            id: "x".into(),
            name: "Phường <Hòa Bình>".into(),
            figures: Figures::of(&c, 1000),
            accounts_by_kind: vec![("VNeID mức 2".into(), 1234)],
            hamlets: vec![line("x.a", "Khu phố <script>alert(1)</script>", 100, 400, 3, Some("2026-11-29"))],
            sort: Sort::Name,
            visits_per_day: vec![("2026-11-28".into(), 5), ("2026-11-29".into(), 10)],
            covered_by_day: vec![("2026-11-28".into(), 300), ("2026-11-29".into(), 350)],
            period: None,
            bad_period: false,
            today: "2026-11-29".into(),
            read_only: false,
            teams: vec![crate::teams::TeamLine {
                id: "x.to".into(),
                name: "Tổ <script>alert(2)</script>".into(),
                leaders: vec!["Hải".into()],
                members: 5,
                active: 3,
                hamlets: vec!["Khu phố 1".into()],
                figures: Figures::of(&c, 400),
            }],
            campaigns: Vec::new(),
            campaign: None,
        }
    }

    #[test]
    fn the_commune_dashboard_shows_vietnamese_figures_and_escapes_names() {
        let html = commune(&chrome(Lang::Vi), &dashboard()).into_string();
        assert!(html.contains("lang=\"vi\""));
        assert!(html.contains("Khu phố &lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("Tổ &lt;script&gt;alert(2)&lt;/script&gt;"), "{html}");
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("Phường &lt;Hòa Bình&gt;"));
        // 350 / max(1000, 700) = 35%, Vietnamese decimal comma and thousands dot.
        assert!(html.contains("35,0%"));
        assert!(html.contains("2.468"));
        assert!(html.contains("Tỷ lệ bao phủ"));
        assert!(html.contains("29/11/2026"));
        assert!(html.contains("href=\"/communes/x/export.xlsx\""));
        assert!(html.contains("<svg class=\"chart\""));
    }

    #[test]
    fn a_chosen_campaign_shows_its_own_coverage_beside_the_all_time_figures() {
        let campaign = crate::campaigns::CampaignLine {
            number: 2,
            name: "Đợt <VNeID>".into(),
            starts: "2026-10-01".into(),
            last_day: "2026-11-29".into(),
            open: true,
            covered: 120,
            to_cover: 400,
            ..Default::default()
        };
        let mut view = dashboard();
        view.hamlets[0].in_campaign = Some((30, 400));
        view.campaigns = vec![campaign.clone()];
        let plain = commune(&chrome(Lang::Vi), &view).into_string();
        assert!(!plain.contains("id=\"campaign\""), "no campaign panel until one is chosen");
        assert!(
            plain.contains("href=\"/communes/x?from=2026-10-01&amp;to=2026-11-29&amp;campaign=2\""),
            "{plain}"
        );
        view.campaign = Some(campaign);
        let html = commune(&chrome(Lang::Vi), &view).into_string();
        assert!(html.contains("Đợt &lt;VNeID&gt;"), "escaped");
        assert!(html.contains("Bao phủ trong đợt"));
        assert!(html.contains("30,0%"), "the campaign's 120 of 400");
        assert!(html.contains("data-figure=\"campaign_covered\""), "the hamlet's campaign column");
        assert!(html.contains("Mọi thời gian"), "the all-time cards say so");
    }

    #[test]
    fn the_english_dashboard_uses_english_texts_and_formats() {
        let html = commune(&chrome(Lang::En), &dashboard()).into_string();
        assert!(html.contains("lang=\"en\""));
        assert!(html.contains("Coverage"));
        assert!(html.contains("2,468"));
        assert!(html.contains("35.0%"));
        assert!(!html.contains("Tỷ lệ bao phủ"));
        // The switch offers Vietnamese back, and returns to this page.
        assert!(html.contains("href=\"/lang/vi?next=%2Fcommunes%2Fx\""));
    }

    #[test]
    fn sorting_puts_the_hamlets_that_need_help_first() {
        let mut rows = vec![
            line("a", "A", 90, 100, 0, Some("2026-11-20")),
            line("b", "B", 10, 100, 7, Some("2026-11-29")),
            line("c", "C", 50, 100, 2, None),
        ];
        Sort::Coverage.apply(&mut rows);
        assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["b", "c", "a"]);
        Sort::FollowUps.apply(&mut rows);
        assert_eq!(rows[0].id, "b");
        Sort::Activity.apply(&mut rows);
        assert_eq!(rows[0].id, "c");
        assert_eq!(Sort::from_code("coverage"), Sort::Coverage);
        assert_eq!(Sort::from_code("<bad>"), Sort::Name);
    }

    #[test]
    fn a_hamlet_page_lists_households_with_status_chips_and_escaped_labels() {
        let view = HamletPage {
            id: "x.a".into(),
            name: "Khu phố 1".into(),
            commune_name: "Phường X".into(),
            figures: Figures::default(),
            accounts_by_kind: Vec::new(),
            volunteers: vec![VolunteerLine {
                name: "Trần Thị Lan".into(),
                figures: VolunteerFigures {
                    visits: 3,
                    covering_visits: 2,
                    accounts: 4,
                    people: 5,
                    filed: 0,
                    walkins: 0,
                },
            }],
            households: vec![HouseholdLine {
                id: "hh1".into(),
                label: "<script>x</script>".into(),
                head: Some("Nguyễn Văn Hùng".into()),
                status: HouseholdStatus::FollowUp,
                last_visit: Some(1_795_887_000_000),
            }],
            total_households: 10,
            filter: Some(HouseholdStatus::FollowUp),
            query: "\"><b>".into(),
            visits_per_day: Vec::new(),
            awaiting_review: 0,
            period: None,
            bad_period: false,
            today: "2026-11-29".into(),
            may_compact: false,
            notice: None,
        };
        let html = hamlet(&chrome(Lang::Vi), &view).into_string();
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>x"));
        assert!(html.contains("value=\"&quot;&gt;&lt;b&gt;\""), "the search box escapes its value");
        assert!(html.contains("chip follow_up\">Cần quay lại"));
        assert!(html.contains("<option value=\"follow_up\" selected>"));
        assert!(html.contains("Trần Thị Lan"));
        assert!(html.contains("29/11/2026 00:30"));
        assert!(html.contains("href=\"/hamlets/x.a/households/hh1\""));
    }

    #[test]
    fn the_team_page_offers_enrolment_with_a_csrf_token() {
        let view = TeamPage {
            teams: vec![("Tổ CNSCĐ khu phố 1".into(), "/communes/x/teams/x.to-1/day".into())],
            hamlets: Vec::new(),
            members: Vec::new(),
            follow_ups: Vec::new(),
            enrollable: vec![("tnv1".into(), "Trần Thị Lan".into())],
            errors: FormErrors::from([("user", "Vui lòng nhập mục này.")]),
            period: Some(Period { from: "2026-11-01".into(), to: "2026-11-30".into() }),
            bad_period: false,
            today: "2026-12-02".into(),
        };
        let html = team(&chrome(Lang::Vi), &view).into_string();
        assert!(html.contains("action=\"/team/enrol\""));
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(html.contains("Vui lòng nhập mục này."));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("Không có hộ nào cần quay lại."));
        assert!(html.contains("name=\"from\" value=\"2026-11-01\""), "the period chosen is kept in its form");
        assert!(html.contains("href=\"/team?from=2026-11-01&amp;to=2026-11-30\""), "last month's shortcut");
    }
}
