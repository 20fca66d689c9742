//! Small SVG charts drawn on the server: visits per day as bars and coverage over time
//! as a line. No script and no chart library, so they print and work offline.

use maud::{Markup, html};

use crate::i18n::Lang;

const W: f64 = 600.0;
const H: f64 = 180.0;
const PAD_LEFT: f64 = 36.0;
const PAD_BOTTOM: f64 = 20.0;

fn scale_max(values: &[u64]) -> u64 {
    values.iter().copied().max().unwrap_or(0).max(1)
}

fn axis(lang: Lang, max: u64, first: Option<&str>, last: Option<&str>) -> Markup {
    html! {
        line.axis x1=(PAD_LEFT) y1=(H - PAD_BOTTOM) x2=(W) y2=(H - PAD_BOTTOM) {}
        text x="0" y="12" { (lang.int(max)) }
        text x="0" y=(H - PAD_BOTTOM) { "0" }
        @if let Some(d) = first { text x=(PAD_LEFT) y=(H - 4.0) { (lang.day(d)) } }
        @if let Some(d) = last { text x=(W - 60.0) y=(H - 4.0) { (lang.day(d)) } }
    }
}

/// Bars, one per day ("YYYY-MM-DD", count), oldest first.
pub fn bars(lang: Lang, title: &str, days: &[(String, u64)]) -> Markup {
    let values: Vec<u64> = days.iter().map(|(_, n)| *n).collect();
    let max = scale_max(&values);
    let slot = (W - PAD_LEFT) / days.len().max(1) as f64;
    let plot = H - PAD_BOTTOM - 4.0;
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            title { (title) }
            @for (i, (day, n)) in days.iter().enumerate() {
                @let h = plot * (*n as f64) / max as f64;
                rect.bar x=(format!("{:.1}", PAD_LEFT + i as f64 * slot + 1.0)) y=(format!("{:.1}", H - PAD_BOTTOM - h))
                    width=(format!("{:.1}", (slot - 2.0).max(1.0))) height=(format!("{:.1}", h)) {
                    title { (lang.day(day)) ": " (lang.int(*n)) }
                }
            }
            (axis(lang, max, days.first().map(|d| d.0.as_str()), days.last().map(|d| d.0.as_str())))
        }
    }
}

/// A line through (day, value) points, oldest first.
pub fn line(lang: Lang, title: &str, points: &[(String, u64)]) -> Markup {
    let values: Vec<u64> = points.iter().map(|(_, n)| *n).collect();
    let max = scale_max(&values);
    let step = (W - PAD_LEFT) / (points.len().saturating_sub(1).max(1)) as f64;
    let plot = H - PAD_BOTTOM - 4.0;
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, n))| {
            format!(
                "{:.1},{:.1}",
                PAD_LEFT + i as f64 * step,
                H - PAD_BOTTOM - plot * (*n as f64) / max as f64
            )
        })
        .collect();
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            title { (title) }
            polyline.line points=(path.join(" ")) {}
            (axis(lang, max, points.first().map(|d| d.0.as_str()), points.last().map(|d| d.0.as_str())))
        }
    }
}

/// One month of the online-filing chart: its label, the share filed online (when
/// recorded) and the dossiers the teams helped file.
#[derive(Debug, Clone, PartialEq)]
pub struct RateMonth {
    /// "11/2026".
    pub label: String,
    /// Filed online of received, when recorded.
    pub rate: Option<f64>,
    /// Dossiers filed online with the teams' help.
    pub helped: u64,
}

/// The online share per month as bars (0–100 %), and the dossiers the teams helped
/// file as a line on its own scale (its largest value at the right), oldest first.
pub fn rate_months(lang: Lang, title: &str, helped_title: &str, months: &[RateMonth]) -> Markup {
    let slot = (W - PAD_LEFT - 40.0) / months.len().max(1) as f64;
    let plot = H - PAD_BOTTOM - 4.0;
    let max = scale_max(&months.iter().map(|m| m.helped).collect::<Vec<_>>());
    let x = |i: usize| PAD_LEFT + i as f64 * slot;
    let helped: Vec<String> = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!("{:.1},{:.1}", x(i) + slot / 2.0, H - PAD_BOTTOM - plot * m.helped as f64 / max as f64)
        })
        .collect();
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            title { (title) }
            @for (i, m) in months.iter().enumerate() {
                @if let Some(rate) = m.rate {
                    @let h = plot * rate.clamp(0.0, 1.0);
                    rect.bar x=(format!("{:.1}", x(i) + 2.0)) y=(format!("{:.1}", H - PAD_BOTTOM - h))
                        width=(format!("{:.1}", (slot - 4.0).max(1.0))) height=(format!("{:.1}", h)) {
                        title { (m.label) ": " (lang.percent(rate)) }
                    }
                }
                @if i % 2 == 0 || months.len() <= 6 {
                    text x=(format!("{:.1}", x(i) + 2.0)) y=(H - 4.0) { (m.label) }
                }
            }
            polyline.line points=(helped.join(" ")) {
                title { (helped_title) }
            }
            line.axis x1=(PAD_LEFT) y1=(H - PAD_BOTTOM) x2=(W - 40.0) y2=(H - PAD_BOTTOM) {}
            text x="0" y="12" { "100%" }
            text x="0" y=(H - PAD_BOTTOM) { "0" }
            text x=(W - 36.0) y="12" { (lang.int(max)) }
        }
    }
}
