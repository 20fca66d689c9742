//! The online-filing page of a commune or a province: each month's dossiers received
//! and filed online (as the public-service portal counts them) beside the dossiers
//! and accounts the teams helped with, as a table and a chart; for a province, per
//! level (its agencies, its communes, all) and per commune; and, for those who record
//! them, a form for one month and an import of the portal's monthly CSV.

use maud::{Markup, html};

use crate::chart::{RateMonth, rate_months};
use crate::i18n::Lang;
use crate::layout::{Chrome, FormErrors, csrf_field, field_error, invalid, notice, page};

/// One month of one level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthLine {
    /// `YYYY-MM`.
    pub month: String,
    /// Dossiers received and filed online, when recorded.
    pub recorded: Option<(u64, u64)>,
    /// Dossiers the teams helped file online that month.
    pub helped_filed: u64,
    /// Accounts the teams helped create that month.
    pub helped_accounts: u64,
}

impl MonthLine {
    fn rate(&self) -> Option<f64> {
        self.recorded.filter(|(r, _)| *r > 0).map(|(r, o)| o as f64 / r as f64)
    }
}

/// "11/2026" for "2026-11".
pub fn month_shown(month: &str) -> String {
    match month.split_once('-') {
        Some((y, m)) => format!("{m}/{y}"),
        None => month.to_owned(),
    }
}

/// What was typed into the month form.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// `YYYY-MM`.
    pub month: String,
    /// Dossiers received.
    pub received: String,
    /// Filed online.
    pub online: String,
}

/// The page.
#[derive(Debug, Clone, Default)]
pub struct FilingPage {
    /// The commune's or province's name.
    pub name: String,
    /// The page's path; the forms post to it and to `<path>/import`.
    pub path: String,
    /// Whether the viewer records this level's months.
    pub editable: bool,
    /// The level's own months (the commune's, or the province's agencies').
    pub months: Vec<MonthLine>,
    /// A province's levels: agencies, communes, all.
    pub levels: Vec<(&'static str, Vec<MonthLine>)>,
    /// A province's communes.
    pub communes: Vec<(String, Vec<MonthLine>)>,
    /// The month form as typed, and its errors.
    pub typed: Typed,
    /// Errors of the month form, by field.
    pub errors: FormErrors,
    /// The import's text as pasted, when it was refused.
    pub csv: String,
    /// The import's bad rows, in words.
    pub import_errors: Vec<String>,
    /// A notice after a save.
    pub notice: Option<&'static str>,
    /// Whose months the form records, when that is not the page's own name (a
    /// province's form records its agencies').
    pub form_level: Option<&'static str>,
}

fn rate_cell(lang: Lang, line: &MonthLine) -> Markup {
    html! { td.num data-figure="rate" { (line.rate().map_or("–".to_owned(), |r| lang.percent(r))) } }
}

fn months_table(lang: Lang, id: &str, lines: &[MonthLine]) -> Markup {
    let t = lang.texts();
    html! {
        div.scroll { table id=(id) {
            thead { tr {
                th scope="col" { (t.field_month) }
                th.num scope="col" { (t.fl_received) }
                th.num scope="col" { (t.fl_online) }
                th.num scope="col" { (t.fl_rate) }
                th.num scope="col" { (t.fl_helped) }
                th.num scope="col" { (t.fl_accounts) }
            } }
            tbody {
                @for line in lines.iter().rev() {
                    tr data-month=(line.month) {
                        th scope="row" { (month_shown(&line.month)) }
                        td.num data-figure="received" { (line.recorded.map_or("–".to_owned(), |(r, _)| lang.int(r))) }
                        td.num data-figure="online" { (line.recorded.map_or("–".to_owned(), |(_, o)| lang.int(o))) }
                        (rate_cell(lang, line))
                        td.num data-figure="helped" { (lang.int(line.helped_filed)) }
                        td.num data-figure="helped_accounts" { (lang.int(line.helped_accounts)) }
                    }
                }
            }
        } }
    }
}

/// A province's levels side by side: each month's share for its agencies and its
/// communes, then the whole province's counts, share and the teams' help.
fn levels_table(lang: Lang, levels: &[(&'static str, Vec<MonthLine>)]) -> Markup {
    let t = lang.texts();
    let (Some((agencies_label, agencies)), Some((communes_label, communes)), Some((_, all))) =
        (levels.first(), levels.get(1), levels.get(2))
    else {
        return html! {};
    };
    html! {
        div.scroll { table #filing-levels {
            thead { tr {
                th scope="col" { (t.field_month) }
                th.num scope="col" { (t.fl_rate) " · " (agencies_label) }
                th.num scope="col" { (t.fl_rate) " · " (communes_label) }
                th.num scope="col" { (t.fl_received) }
                th.num scope="col" { (t.fl_online) }
                th.num scope="col" { (t.fl_rate) " · " (t.fl_level_all) }
                th.num scope="col" { (t.fl_helped) }
                th.num scope="col" { (t.fl_accounts) }
            } }
            tbody {
                @for ((a, c), line) in agencies.iter().zip(communes).zip(all).rev() {
                    tr data-month=(line.month) {
                        th scope="row" { (month_shown(&line.month)) }
                        td.num data-figure="rate_agencies" { (a.rate().map_or("–".to_owned(), |r| lang.percent(r))) }
                        td.num data-figure="rate_communes" { (c.rate().map_or("–".to_owned(), |r| lang.percent(r))) }
                        td.num data-figure="received" { (line.recorded.map_or("–".to_owned(), |(r, _)| lang.int(r))) }
                        td.num data-figure="online" { (line.recorded.map_or("–".to_owned(), |(_, o)| lang.int(o))) }
                        (rate_cell(lang, line))
                        td.num data-figure="helped" { (lang.int(line.helped_filed)) }
                        td.num data-figure="helped_accounts" { (lang.int(line.helped_accounts)) }
                    }
                }
            }
        } }
    }
}

fn chart(lang: Lang, lines: &[MonthLine]) -> Markup {
    let t = lang.texts();
    let months: Vec<RateMonth> = lines
        .iter()
        .map(|l| RateMonth { label: month_shown(&l.month), rate: l.rate(), helped: l.helped_filed })
        .collect();
    rate_months(lang, t.fl_chart, t.fl_helped, &months)
}

/// The page.
pub fn filing(chrome: &Chrome, view: &FilingPage) -> Markup {
    let lang = chrome.lang;
    let t = lang.texts();
    let title = format!("{} · {}", t.filing_title, view.name);
    let body = html! {
        h1 { (t.filing_title) }
        p.muted { (view.name) }
        (notice(view.notice))
        p.note { (t.filing_note) }
        div.panel {
            h2 { (t.fl_chart) }
            (chart(lang, view.levels.last().map_or(&view.months, |(_, all)| all)))
        }
        @if view.levels.is_empty() {
            (months_table(lang, "filing-months", &view.months))
        } @else {
            (levels_table(lang, &view.levels))
        }
        @if !view.communes.is_empty() {
            h2 { (t.fl_by_commune) }
            div.scroll { table #filing-by-commune {
                thead { tr {
                    th scope="col" { (t.commune) }
                    @for line in view.communes[0].1.iter().rev().take(3) { th.num scope="col" { (month_shown(&line.month)) } }
                } }
                tbody {
                    @for (name, lines) in &view.communes {
                        tr { th scope="row" { (name) } @for line in lines.iter().rev().take(3) { (rate_cell(lang, line)) } }
                    }
                }
            } }
        }
        @if view.editable {
            h2 { (t.fl_record) @if let Some(level) = view.form_level { " · " (level) } }
            form.stack #filing-form method="post" action=(view.path) {
                (csrf_field(chrome))
                label for="month" { (t.field_month) }
                input #month type="month" name="month" value=(view.typed.month) required aria-invalid=(invalid(&view.errors, "month"));
                (field_error(&view.errors, "month"))
                label for="received" { (t.fl_received) }
                input #received type="number" name="received" min="0" inputmode="numeric" value=(view.typed.received) required aria-invalid=(invalid(&view.errors, "received"));
                (field_error(&view.errors, "received"))
                label for="online" { (t.fl_online) }
                input #online type="number" name="online" min="0" inputmode="numeric" value=(view.typed.online) required aria-invalid=(invalid(&view.errors, "online"));
                (field_error(&view.errors, "online"))
                button type="submit" { (t.fl_save) }
            }
            h2 { (t.fl_import) }
            form.stack #filing-import method="post" action={ (view.path) "/import" } {
                (csrf_field(chrome))
                p.muted { (t.fl_import_help) }
                @if !view.import_errors.is_empty() {
                    div.errors role="alert" {
                        p { (t.fl_rows_refused) }
                        ul #import-errors { @for e in &view.import_errors { li { (e) } } }
                    }
                }
                label for="csv-file" { (t.fl_file) }
                input #csv-file type="file" accept=".csv,text/csv,text/plain" data-fills="#csv";
                textarea #csv name="csv" rows="8" spellcheck="false" { (view.csv) }
                button type="submit" { (t.fl_import_button) }
            }
        }
    };
    page(chrome, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_show_their_share_and_the_teams_help() {
        let chrome = Chrome { lang: Lang::Vi, csrf: "c".into(), path: "/".into(), user: None };
        let view = FilingPage {
            name: "Phường Một".into(),
            path: "/communes/p-1/filing".into(),
            editable: true,
            months: vec![
                MonthLine { month: "2026-10".into(), recorded: None, helped_filed: 3, helped_accounts: 9 },
                MonthLine {
                    month: "2026-11".into(),
                    recorded: Some((1200, 588)),
                    helped_filed: 7,
                    helped_accounts: 20,
                },
            ],
            ..FilingPage::default()
        };
        let html = filing(&chrome, &view).into_string();
        assert!(html.contains("<tr data-month=\"2026-11\"><th scope=\"row\">11/2026</th><td class=\"num\" data-figure=\"received\">1.200</td>"), "{html}");
        assert!(html.contains(">49,0%<"), "the share, in Vietnamese");
        assert!(html.contains("action=\"/communes/p-1/filing/import\""));
        assert!(html.contains("<title>11/2026: 49,0%</title>"), "the chart's bar says its month");
    }
}
