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
