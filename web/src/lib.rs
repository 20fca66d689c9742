//! Server-rendered views of Từng Nhà: pure functions from view-models to `maud::Markup`.
//!
//! Views know nothing of HTTP; the `server` crate builds the view-models and serves
//! the markup. Every text a person reads is Vietnamese first. maud escapes every
//! interpolated value, and no view bypasses that with user data.

use maud::{DOCTYPE, Markup, html};
use tungnha_client_core::Coverage;

/// One hamlet's row on the overview page.
#[derive(Debug, Clone)]
pub struct HamletRow {
    /// The hamlet's name, as people say it ("Khu phố 3").
    pub name: String,
    /// How many households the commune expects to reach.
    pub target_households: u64,
    /// Its coverage figures.
    pub coverage: Coverage,
}

/// The overview page: what this server holds.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// One row per hamlet.
    pub hamlets: Vec<HamletRow>,
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Từng Nhà" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}\
main{max-width:60rem;margin:0 auto;padding:1rem}\
table{border-collapse:collapse;width:100%;background:#fff}\
th,td{padding:.5rem;border-bottom:1px solid #dde1e6;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}";

/// Formats a share as a Vietnamese percentage ("12,5%").
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0).replace('.', ",")
}

/// Renders the overview page.
pub fn overview(view: &Overview) -> Markup {
    page(
        "Tổng quan",
        html! {
            h1 { "Từng Nhà" }
            p { "Đi từng ngõ, gõ từng nhà, hướng dẫn từng người." }
            @if view.hamlets.is_empty() {
                p { "Chưa có thôn, khu phố nào." }
            } @else {
                table {
                    thead { tr {
                        th { "Thôn / khu phố" }
                        th.num { "Số hộ" }
                        th.num { "Đã bao phủ" }
                        th.num { "Tỷ lệ" }
                        th.num { "Lượt thăm" }
                    } }
                    tbody {
                        @for row in &view.hamlets {
                            tr {
                                td { (row.name) }
                                td.num { (row.coverage.registered.max(row.target_households)) }
                                td.num { (row.coverage.covered) }
                                td.num { (percent(row.coverage.ratio(row.target_households))) }
                                td.num { (row.coverage.visits) }
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

    #[test]
    fn overview_lists_hamlets_and_escapes_names() {
        let view = Overview {
            hamlets: vec![HamletRow {
                name: "<script>alert(1)</script>".into(),
                target_households: 200,
                coverage: Coverage { registered: 180, covered: 45, visits: 60, ..Coverage::default() },
            }],
        };
        let html = overview(&view).into_string();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("22,5%"), "{html}");
        assert!(html.contains("lang=\"vi\""));
    }

    #[test]
    fn an_empty_overview_says_so_in_vietnamese() {
        let html = overview(&Overview::default()).into_string();
        assert!(html.contains("Chưa có thôn, khu phố nào."));
    }
}
