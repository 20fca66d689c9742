//! A commune's campaigns (đợt, chiến dịch): each with its days, topics in focus,
//! target and coverage in the campaign; a form to open one while none is, and a
//! button to close the one that is (which rolls every hamlet's log over). A campaign
//! chosen on the dashboard shows its own coverage beside the all-time figures.

use maud::{Markup, html};
use tungnha_client_core::catalogue::Entry;

use crate::i18n::Lang;
use crate::layout::{
    Chrome, FormErrors, bar, csrf_field, field_error, invalid, meter, notice, page, url_part,
};

/// One campaign, as listed and as a dashboard shows it when chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignLine {
    /// Its number in the commune.
    pub number: u32,
    /// Its name.
    pub name: String,
    /// First day (`YYYY-MM-DD`).
    pub starts: String,
    /// Its last day so far: the day it closed, or today.
    pub last_day: String,
    /// Its planned end, if set.
    pub ends: Option<String>,
    /// Topics in focus, labelled.
    pub topics: Vec<String>,
    /// Households it means to cover.
    pub target: Option<u64>,
    /// Still open.
    pub open: bool,
    /// Households covered during it, over households to cover (its target when set).
    pub covered: u64,
    /// Households to cover.
    pub to_cover: u64,
}

impl CampaignLine {
    /// Its coverage.
    pub fn ratio(&self) -> f64 {
        if self.to_cover == 0 { 0.0 } else { self.covered as f64 / self.to_cover as f64 }
    }

    /// Its dashboard link's query: its days and its number.
    pub fn query(&self) -> String {
        format!("?from={}&to={}&campaign={}", self.starts, self.last_day, self.number)
    }
}

/// What was typed into the form to open a campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignTyped {
    /// Name.
    pub name: String,
    /// First day.
    pub starts: String,
    /// Planned end.
    pub ends: String,
    /// Topic codes ticked.
    pub topics: Vec<String>,
    /// Target.
    pub target: String,
}

/// The campaigns page.
#[derive(Debug, Clone, Default)]
pub struct CampaignsPage {
    /// The commune's id.
    pub commune_id: String,
    /// Its name.
    pub commune_name: String,
    /// Its campaigns, newest first.
    pub campaigns: Vec<CampaignLine>,
    /// The commune's topics, to tick.
    pub topics: Vec<Entry>,
    /// The open form's errors, when it failed.
    pub errors: FormErrors,
    /// What was typed, when it failed.
    pub typed: CampaignTyped,
    /// A notice after success.
    pub notice: Option<&'static str>,
}

/// Renders the campaigns page.
pub fn campaigns(chrome: &Chrome, view: &CampaignsPage) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let base = format!("/communes/{}", url_part(&view.commune_id));
    let errors = &view.errors;
    let open = view.campaigns.iter().find(|c| c.open);
    page(
        chrome,
        t.campaigns_title,
        html! {
            h1 { (t.campaigns_title) " · " (view.commune_name) }
            p.muted { (t.campaigns_note) }
            (notice(view.notice))
            @if view.campaigns.is_empty() {
                p #no-campaigns { (t.campaign_none) }
            } @else {
                div.scroll { table #campaigns {
                    thead { tr {
                        th scope="col" { (t.campaign_name) }
                        th scope="col" { (t.campaign_days) }
                        th scope="col" { (t.campaign_topics) }
                        th.num scope="col" { (t.campaign_target) }
                        th scope="col" { (t.campaign_covered) }
                        th scope="col" { (t.campaign_state) }
                    } }
                    tbody {
                        @for c in &view.campaigns {
                            tr data-campaign=(c.number) {
                                td { a href={ (base) (c.query()) } { (c.number) ". " (c.name) } }
                                td { (lang.day(&c.starts)) " – " (lang.day(&c.last_day))
                                    @if let (true, Some(ends)) = (c.open, &c.ends) { br; span.muted { (t.campaign_ends) ": " (lang.day(ends)) } } }
                                td { (c.topics.join(", ")) }
                                td.num { (c.target.map(|n| lang.int(n)).unwrap_or_default()) }
                                td data-figure="campaign_covered" { (meter(lang, c.ratio())) " " (lang.int(c.covered)) " / " (lang.int(c.to_cover)) }
                                td { @if c.open { strong { (t.campaign_is_open) } } @else { (t.campaign_is_closed) } }
                            }
                        }
                    }
                } }
            }
            @if let Some(c) = open {
                section.panel #close-campaign {
                    form method="post" action={ (base) "/campaigns/" (c.number) "/close" } data-confirm=(t.campaign_close_confirm) {
                        (csrf_field(chrome))
                        (field_error(errors, "campaign"))
                        button.danger type="submit" { (t.campaign_close_button) ": " (c.name) }
                    }
                }
            } @else {
                section.panel #open-campaign {
                    h2 { (t.campaign_open_new) }
                    (field_error(errors, "campaign"))
                    form.stack method="post" action={ (base) "/campaigns" } {
                        (csrf_field(chrome))
                        div {
                            label for="campaign-name" { (t.campaign_name) }
                            input #campaign-name type="text" name="name" required maxlength="120" value=(view.typed.name)
                                aria-invalid=(invalid(errors, "name"));
                            (field_error(errors, "name"))
                        }
                        div.row {
                            div {
                                label for="campaign-starts" { (t.campaign_starts) }
                                input #campaign-starts type="date" name="starts" value=(view.typed.starts) aria-invalid=(invalid(errors, "day"));
                            }
                            div {
                                label for="campaign-ends" { (t.campaign_ends) }
                                input #campaign-ends type="date" name="ends" value=(view.typed.ends) aria-invalid=(invalid(errors, "day"));
                            }
                        }
                        (field_error(errors, "day"))
                        fieldset {
                            legend { (t.campaign_topics) }
                            @for topic in &view.topics {
                                label.check {
                                    input type="checkbox" name="topic" value=(topic.code) checked[view.typed.topics.contains(&topic.code)];
                                    " " (topic.label)
                                }
                            }
                            (field_error(errors, "catalogue"))
                        }
                        div {
                            label for="campaign-target" { (t.campaign_target) }
                            input #campaign-target type="number" name="target" min="1" inputmode="numeric" value=(view.typed.target)
                                aria-invalid=(invalid(errors, "target"));
                            (field_error(errors, "target"))
                        }
                        button type="submit" { (t.campaign_open_button) }
                    }
                }
            }
        },
    )
}

/// The campaign chosen on a dashboard: its coverage beside the all-time cards, and
/// what each figure counts.
pub fn chosen_panel(lang: Lang, c: &CampaignLine) -> Markup {
    let t = lang.texts();
    html! {
        section.panel #campaign data-campaign=(c.number) {
            h2 { (t.nav_campaigns) " " (c.number) ": " (c.name) " · " span.muted { (lang.day(&c.starts)) " – " (lang.day(&c.last_day)) } }
            div.cards {
                div.card data-total="campaign_ratio" {
                    div.figure { (lang.percent(c.ratio())) }
                    div.label { (t.campaign_covered) }
                    (bar(c.ratio()))
                }
                div.card data-total="campaign_covered" {
                    div.figure { (lang.int(c.covered)) " / " (lang.int(c.to_cover)) }
                    div.label { (t.covered) " / " (t.to_cover) }
                }
            }
            p.muted { (t.campaign_figures_note) }
        }
    }
}

/// The campaign shortcuts above a dashboard.
pub fn chips(base: &str, campaigns: &[CampaignLine]) -> Markup {
    html! {
        @if !campaigns.is_empty() {
            div.chips #campaign-chips {
                @for c in campaigns {
                    a.chip href={ (base) (c.query()) } { (c.number) ". " (c.name) }
                }
            }
        }
    }
}
