//! The day's report ("Báo cáo hôm nay") of a team, a commune or a province: the short
//! text leaders and officials post in their Zalo group every evening (`text`), the same
//! as an image card (`card_svg`, which the server rasterises to PNG), and the page that
//! shows both with a copy button and a choice of day (`page`).

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::layout::{Chrome, page, url_part};

/// One day's figures of a team, a commune or a province.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayReportView {
    /// Whose: "Tổ công nghệ số khu phố 1", "Phường Hòa Bình", a province's name.
    pub title: String,
    /// Where a team belongs (its commune's name).
    pub place: Option<String>,
    /// The page's path without query (`/communes/p-1/day`); the card is at `<path>.png`.
    pub path: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The day before, and the day after unless the day is today.
    pub prev: String,
    /// The day after, if it is not in the future.
    pub next: Option<String>,
    /// Non-voided visits that day.
    pub visits: u64,
    /// Of those, visits that guided someone.
    pub guided: u64,
    /// People helped that day.
    pub people: u64,
    /// Accounts created that day, per kind, labelled.
    pub accounts: Vec<(String, u64)>,
    /// Dossiers filed online that day.
    pub filed: u64,
    /// Households first covered that day.
    pub covered: u64,
    /// Households covered to the end of the day.
    pub covered_to_date: u64,
    /// Households to cover.
    pub to_cover: u64,
    /// Accounts created to the end of the day, all kinds.
    pub accounts_to_date: u64,
    /// Dossiers filed online to the end of the day.
    pub filed_to_date: u64,
    /// That day at the one-stop counters, when the report has a line for them (a
    /// commune's and a province's always, a team's when it helped walk-ins).
    pub walkins: Option<WalkInDay>,
    /// The campaign running that day (a commune's report): its name, households
    /// covered in it to the end of the day, and households it is to cover.
    pub campaign: Option<(String, u64, u64)>,
}

/// One day at the counters: walk-ins, people, accounts created, dossiers filed online.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkInDay {
    /// Walk-ins.
    pub count: u64,
    /// People helped.
    pub people: u64,
    /// Accounts created.
    pub accounts: u64,
    /// Dossiers filed online.
    pub filed: u64,
}

impl DayReportView {
    /// Accounts of every kind created that day.
    pub fn accounts_total(&self) -> u64 {
        self.accounts.iter().map(|(_, n)| n).sum()
    }

    fn ratio(&self) -> f64 {
        tungnha_client_core::coverage::share(self.covered_to_date, self.to_cover)
    }

    /// The heading: "BÁO CÁO NGÀY 02/12/2026".
    fn heading(&self, lang: Lang) -> String {
        format!("{} {}", lang.texts().day_report_of.to_uppercase(), lang.day(&self.day))
    }

    fn whose(&self) -> String {
        match &self.place {
            Some(place) => format!("{} – {place}", self.title),
            None => self.title.clone(),
        }
    }

    /// The lines of the report, in order: what the text and the card both show.
    fn lines(&self, lang: Lang) -> Vec<String> {
        let t = lang.texts();
        let mut accounts = format!("{}: {}", t.dr_accounts, lang.int(self.accounts_total()));
        if !self.accounts.is_empty() {
            let kinds: Vec<String> =
                self.accounts.iter().map(|(label, n)| format!("{label}: {}", lang.int(*n))).collect();
            accounts.push_str(&format!(" ({})", kinds.join(", ")));
        }
        let mut lines = vec![
            format!(
                "{}: {} ({}: {})",
                t.dr_visits,
                lang.int(self.visits),
                t.dr_guided,
                lang.int(self.guided)
            ),
            format!("{}: {}", t.dr_people, lang.int(self.people)),
            accounts,
            format!("{}: {}", t.dr_filed, lang.int(self.filed)),
            format!("{}: {}", t.dr_covered, lang.int(self.covered)),
        ];
        if let Some(w) = &self.walkins {
            lines.push(format!(
                "{}: {} {}, {} {}, {} {}, {} {}",
                t.dr_walkins,
                lang.int(w.count),
                t.dr_times,
                lang.int(w.people),
                t.dr_persons,
                lang.int(w.accounts),
                t.dr_accounts_short,
                lang.int(w.filed),
                t.dr_filed_short,
            ));
        }
        lines
    }

    /// The campaign running that day, one line: its coverage in it so far.
    fn campaign_line(&self, lang: Lang) -> Option<String> {
        let t = lang.texts();
        let (name, covered, to_cover) = self.campaign.as_ref()?;
        let ratio = if *to_cover == 0 { 0.0 } else { *covered as f64 / *to_cover as f64 };
        Some(format!(
            "{name}: {} {}/{} {} ({}).",
            t.campaign_covered.to_lowercase(),
            lang.int(*covered),
            lang.int(*to_cover),
            t.dr_households,
            lang.percent(ratio),
        ))
    }

    /// The running totals, one line.
    fn to_date(&self, lang: Lang) -> String {
        let t = lang.texts();
        format!(
            "{}: {} {}/{} {} ({}), {} {}, {} {}.",
            t.dr_to_date,
            t.dr_coverage.to_lowercase(),
            lang.int(self.covered_to_date),
            lang.int(self.to_cover),
            t.dr_households,
            lang.percent(self.ratio()),
            lang.int(self.accounts_to_date),
            t.dr_accounts_short,
            lang.int(self.filed_to_date),
            t.dr_filed_short,
        )
    }
}

/// The report as text, in the shape people post in Zalo groups.
pub fn text(lang: Lang, view: &DayReportView) -> String {
    let mut out = format!("{}\n{}\n", view.heading(lang), view.whose());
    for line in view.lines(lang) {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&view.to_date(lang));
    if let Some(line) = view.campaign_line(lang) {
        out.push_str(&format!("\n{line}"));
    }
    out
}

/// Width of the card, in CSS pixels (the server renders it at twice that).
pub const CARD_WIDTH: u32 = 540;

/// Wraps text to lines of at most `max` characters, at spaces.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The report as an image card (SVG, text in Noto Sans), to be rasterised to PNG.
/// Every value goes through maud, which escapes it.
pub fn card_svg(lang: Lang, view: &DayReportView) -> String {
    let t = lang.texts();
    // (x, baseline, text, size, bold), top to bottom.
    let mut rows: Vec<(u32, u32, String, u32, bool)> = Vec::new();
    let mut y = 112;
    let mut put = |x: u32, text: String, size: u32, bold: bool| {
        y += size + 12;
        rows.push((x, y, text, size, bold));
    };
    for part in wrap(&view.whose(), 34) {
        put(40, part, 26, true);
    }
    for line in view.lines(lang) {
        for (i, part) in wrap(&line, 42).into_iter().enumerate() {
            // A line that wraps goes on under its text, past the bullet.
            if i == 0 { put(40, format!("• {part}"), 22, false) } else { put(58, part, 22, false) }
        }
    }
    let bar_y = y + 28;
    y = bar_y + 14;
    let mut totals = Vec::new();
    let campaign = view.campaign_line(lang);
    for part in [Some(view.to_date(lang)), campaign].into_iter().flatten().flat_map(|l| wrap(&l, 46)) {
        y += 32;
        totals.push((y, part));
    }
    let height = y + 60;
    let bar = 460.0 * view.ratio().clamp(0.0, 1.0);
    let markup = html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(CARD_WIDTH) height=(height)
            viewBox={ "0 0 " (CARD_WIDTH) " " (height) } font-family="Noto Sans, DejaVu Sans, sans-serif" {
            rect width="100%" height="100%" fill="#ffffff" {}
            rect width="100%" height="96" fill="#0b5cad" {}
            text x="40" y="44" font-size="18" fill="#dbe9ff" { (t.app_name) }
            text x="40" y="78" font-size="26" font-weight="bold" fill="#ffffff" { (view.heading(lang)) }
            @for (x, y, text, size, bold) in &rows {
                text x=(x) y=(y) font-size=(size) fill="#1b1b1b" font-weight=(if *bold { "bold" } else { "normal" }) {
                    (text)
                }
            }
            rect x="40" y=(bar_y) width="460" height="14" rx="7" fill="#e3e8ef" {}
            rect x="40" y=(bar_y) width=(format!("{bar:.1}")) height="14" rx="7" fill="#1e8e3e" {}
            @for (y, part) in &totals {
                text x="40" y=(y) font-size="20" fill="#1b1b1b" { (part) }
            }
            text x="40" y=(height - 24) font-size="16" fill="#5f6b7a" { (t.motto) }
        }
    };
    markup.into_string()
}

/// The page: the text with a copy button, the card, and a choice of day.
pub fn page_of(chrome: &Chrome, view: &DayReportView) -> Markup {
    let lang = chrome.lang;
    let t = lang.texts();
    let title = format!("{} · {}", t.day_report, view.title);
    let card = format!("{}.png?day={}", view.path, url_part(&view.day));
    let report = text(lang, view);
    let body = html! {
        h1 { (t.day_report_of) " " (lang.day(&view.day)) }
        p.muted { (view.whose()) }
        form.inline method="get" action=(view.path) {
            label for="day" { (t.field_day) }
            input #day type="date" name="day" value=(view.day) required;
            button type="submit" { (t.dr_show) }
        }
        p {
            a #day-prev href={ (view.path) "?day=" (url_part(&view.prev)) } { (t.dr_prev) }
            @if let Some(next) = &view.next {
                " · "
                a #day-next href={ (view.path) "?day=" (url_part(next)) } { (t.dr_next) }
            }
        }
        @if view.visits == 0 && view.covered == 0 {
            p #day-none { (t.dr_none) }
        }
        table #day-figures {
            tbody {
                tr { th scope="row" { (t.dr_visits) } td.num data-figure="day_visits" { (lang.int(view.visits)) } }
                tr { th scope="row" { (t.dr_guided) } td.num data-figure="day_guided" { (lang.int(view.guided)) } }
                tr { th scope="row" { (t.dr_people) } td.num data-figure="day_people" { (lang.int(view.people)) } }
                tr { th scope="row" { (t.dr_accounts) } td.num data-figure="day_accounts" { (lang.int(view.accounts_total())) } }
                tr { th scope="row" { (t.dr_filed) } td.num data-figure="day_filed" { (lang.int(view.filed)) } }
                tr { th scope="row" { (t.dr_covered) } td.num data-figure="day_covered" { (lang.int(view.covered)) } }
                @if let Some(w) = &view.walkins {
                    tr { th scope="row" { (t.walkins) } td.num data-figure="day_walkins" { (lang.int(w.count)) } }
                    tr { th scope="row" { (t.walkin_people) } td.num data-figure="day_walkin_people" { (lang.int(w.people)) } }
                }
                tr {
                    th scope="row" { (t.dr_to_date) }
                    td.num { span data-figure="covered_to_date" { (lang.int(view.covered_to_date)) } "/" span data-figure="to_cover" { (lang.int(view.to_cover)) } }
                }
            }
        }
        h2 { (t.dr_text) }
        textarea #report-text readonly rows="9" { (report) }
        p { button #copy-report type="button" data-copy="#report-text" data-copied=(t.dr_copied) { (t.dr_copy) } }
        h2 { (t.dr_image) }
        p { img #report-card src=(card) alt=(report) width=(CARD_WIDTH); }
        p { a #download-card href=(card) download={ "bao-cao-" (view.day) ".png" } { (t.dr_download) } }
    };
    page(chrome, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> DayReportView {
        DayReportView {
            title: "Tổ công nghệ số khu phố 1".into(),
            place: Some("Phường Hòa Bình".into()),
            path: "/communes/p-1/teams/p-1.to-1/day".into(),
            day: "2026-12-02".into(),
            prev: "2026-12-01".into(),
            next: None,
            visits: 35,
            guided: 20,
            people: 41,
            accounts: vec![("VNeID mức 1".into(), 10), ("Tài khoản Cổng dịch vụ công".into(), 8)],
            filed: 5,
            covered: 12,
            covered_to_date: 230,
            to_cover: 350,
            accounts_to_date: 1234,
            filed_to_date: 88,
            walkins: None,
            campaign: None,
        }
    }

    #[test]
    fn the_text_reads_as_people_post_it() {
        let text = text(Lang::Vi, &view());
        assert!(
            text.starts_with("BÁO CÁO NGÀY 02/12/2026\nTổ công nghệ số khu phố 1 – Phường Hòa Bình\n"),
            "{text}"
        );
        assert!(text.contains("- Lượt đến hộ: 35 (trong đó hướng dẫn: 20)"), "{text}");
        assert!(
            text.contains("- Tài khoản đã tạo: 18 (VNeID mức 1: 10, Tài khoản Cổng dịch vụ công: 8)"),
            "{text}"
        );
        assert!(text.contains("- Hồ sơ nộp trực tuyến: 5"), "{text}");
        assert!(
            text.ends_with("bao phủ 230/350 hộ (65,7%), 1.234 tài khoản, 88 hồ sơ trực tuyến."),
            "{text}"
        );
        assert!(!text.contains("Tại quầy"), "no counter line for a team that helped no walk-in");
        let mut v = view();
        v.walkins = Some(WalkInDay { count: 12, people: 15, accounts: 8, filed: 5 });
        let with = super::text(Lang::Vi, &v);
        assert!(with.contains("- Tại quầy: 12 lượt, 15 người, 8 tài khoản, 5 hồ sơ trực tuyến\n"), "{with}");
        let en = super::text(Lang::En, &view());
        assert!(en.contains("Household visits: 35 (of which guided: 20)"), "{en}");
        // A commune's report in a campaign ends with the campaign's own coverage.
        v.campaign = Some(("Đợt <VNeID>".into(), 120, 400));
        let campaign = super::text(Lang::Vi, &v);
        assert!(campaign.ends_with("\nĐợt <VNeID>: bao phủ trong đợt 120/400 hộ (30,0%)."), "{campaign}");
        let svg = card_svg(Lang::Vi, &v);
        assert!(svg.contains("Đợt &lt;VNeID&gt;: bao phủ trong đợt"), "the card has it too, escaped: {svg}");
    }

    #[test]
    fn the_card_escapes_and_wraps_what_it_is_given() {
        let mut v = view();
        v.title = "Tổ <b>&".into();
        let svg = card_svg(Lang::Vi, &v);
        assert!(svg.contains("Tổ &lt;b&gt;&amp;"), "{svg}");
        assert!(!svg.contains("<b>"));
        for line in wrap(&"chữ ".repeat(40), 44) {
            assert!(line.chars().count() <= 44);
        }
    }
}
