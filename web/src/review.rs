//! The review of households listed in the field: a hamlet's leader (or an official)
//! sees the households volunteers added that nobody has confirmed, and confirms the
//! real ones or removes the rest from the list, several at a time.

use maud::{Markup, html};
use tungnha_client_core::coverage::HouseholdStatus;

use crate::layout::{Chrome, chip, csrf_field, household_label, notice, page, url_part};

/// One household awaiting review.
#[derive(Debug, Clone)]
pub struct ReviewLine {
    /// Its id.
    pub id: String,
    /// House number or alley.
    pub label: String,
    /// Head of household.
    pub head: Option<String>,
    /// Members.
    pub members: Option<u32>,
    /// Who added it, by name.
    pub added_by: String,
    /// When, ms since epoch.
    pub added_at: i64,
    /// Visits to it, not voided.
    pub visits: usize,
    /// Where it stands.
    pub status: HouseholdStatus,
}

/// A hamlet's review page.
#[derive(Debug, Clone)]
pub struct ReviewPage {
    /// The hamlet's id.
    pub hamlet_id: String,
    /// Its name.
    pub hamlet_name: String,
    /// Households awaiting review, newest first.
    pub awaiting: Vec<ReviewLine>,
    /// Households listed in the field and confirmed before.
    pub confirmed_before: usize,
    /// What the last decision did.
    pub notice: Option<&'static str>,
    /// Why the last decision was refused.
    pub error: Option<&'static str>,
}

/// Renders a hamlet's review page.
pub fn review(chrome: &Chrome, view: &ReviewPage) -> Markup {
    let lang = chrome.lang;
    let t = chrome.t();
    let base = format!("/hamlets/{}", url_part(&view.hamlet_id));
    page(
        chrome,
        t.review_title,
        html! {
            p.muted { a href=(base) { (view.hamlet_name) } }
            h1 { (t.review_title) }
            p { (t.review_intro) }
            (notice(view.notice))
            @if let Some(e) = view.error { p.alert role="alert" { (e) } }
            @if view.awaiting.is_empty() {
                p #review-empty { (t.review_none) }
            } @else {
                form #review method="post" action={ (base) "/review" } {
                    (csrf_field(chrome))
                    div.scroll { table {
                        thead { tr {
                            th scope="col" { (t.review_select) }
                            th scope="col" { (t.household) }
                            th scope="col" { (t.head) }
                            th scope="col" { (t.review_added_by) }
                            th scope="col" { (t.review_added_at) }
                            th scope="col" { (t.review_visits) }
                            th scope="col" { (t.status) }
                        } }
                        tbody {
                            @for h in &view.awaiting {
                                tr {
                                    td { input type="checkbox" name="household" value=(h.id) id={ "h-" (h.id) }; }
                                    td { label for={ "h-" (h.id) } { (household_label(t, &h.label)) } }
                                    td { (h.head.as_deref().unwrap_or("")) }
                                    td { (h.added_by) }
                                    td { (lang.time(h.added_at)) }
                                    td.num { (lang.int(h.visits as u64)) }
                                    td { (chip(lang, h.status)) }
                                }
                            }
                        }
                    } }
                    div.toolbar {
                        button type="submit" name="action" value="confirm" { (t.review_confirm) }
                        button.danger type="submit" name="action" value="retire" { (t.review_retire) }
                    }
                }
            }
            p.muted { (t.review_confirmed_before) ": " (lang.int(view.confirmed_before as u64)) }
        },
    )
}
