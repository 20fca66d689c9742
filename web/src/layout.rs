//! The page shell every view shares (head, header with navigation, language switch and
//! sign-out) and small pieces used across pages: figure cards, the coverage meter, the
//! status chip, the CSRF field and field errors.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tungnha_client_core::Role;
use tungnha_client_core::coverage::HouseholdStatus;

use crate::i18n::{Lang, Texts};

/// Who is signed in, as the header shows them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Their full name.
    pub name: String,
    /// Their role, which decides the navigation.
    pub role: Role,
    /// Their commune's id, for officials' links.
    pub commune: Option<String>,
    /// Their province's id, for province officers' links.
    pub province: Option<String>,
}

/// What every page needs besides its own view-model.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The language to render in.
    pub lang: Lang,
    /// The session's CSRF token, put into every form.
    pub csrf: String,
    /// The current path and query, so the language switch comes back here.
    pub path: String,
    /// Who is signed in, if anyone.
    pub user: Option<SignedIn>,
}

impl Chrome {
    /// The texts of the page's language.
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }
}

/// Messages for the fields of a form that did not validate, by field name.
pub type FormErrors = BTreeMap<&'static str, &'static str>;

/// Everything but RFC 3986's unreserved characters.
const URL_PART: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a value for a URL's path segment or query.
pub fn url_part(value: &str) -> String {
    utf8_percent_encode(value, URL_PART).to_string()
}

fn nav(chrome: &Chrome, user: &SignedIn) -> Vec<(String, &'static str)> {
    let t = chrome.t();
    match (user.role, &user.commune) {
        (Role::Official, Some(c)) => {
            let c = url_part(c);
            vec![
                (format!("/communes/{c}"), t.nav_dashboard),
                (format!("/communes/{c}/teams"), t.nav_teams),
                (format!("/communes/{c}/assignments"), t.nav_assignments),
                (format!("/communes/{c}/people"), t.nav_people),
                (format!("/communes/{c}/campaigns"), t.nav_campaigns),
                (format!("/communes/{c}/catalogue"), t.nav_catalogue),
                ("/devices".to_owned(), t.nav_devices),
                (format!("/communes/{c}/audit"), t.nav_audit),
            ]
        }
        (Role::Leader, _) => vec![("/team".to_owned(), t.nav_team), ("/devices".to_owned(), t.nav_devices)],
        (Role::ProvinceOfficer, _) => match &user.province {
            Some(p) => vec![(format!("/provinces/{}", url_part(p)), t.nav_province)],
            None => Vec::new(),
        },
        (Role::Admin, _) => vec![("/admin".to_owned(), t.nav_admin)],
        _ => Vec::new(),
    }
}

/// Renders a whole page around `body`.
pub fn page(chrome: &Chrome, title: &str, body: Markup) -> Markup {
    let t = chrome.t();
    let other = match chrome.lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    html! {
        (DOCTYPE)
        html lang=(chrome.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t.app_name) }
                link rel="stylesheet" href="/static/app.css";
                link rel="icon" href="/static/icon.svg" type="image/svg+xml";
                script src="/static/web.js" defer {}
            }
            body {
                a.skip href="#content" { (t.skip_to_content) }
                header.top { div.bar {
                    a.brand href="/" { (t.app_name) }
                    @if let Some(user) = &chrome.user {
                        nav aria-label=(t.app_name) {
                            @for (href, label) in nav(chrome, user) {
                                @if chrome.path == href || chrome.path.starts_with(&format!("{href}?")) {
                                    a href=(href) aria-current="page" { (label) }
                                } @else {
                                    a href=(href) { (label) }
                                }
                            }
                        }
                    }
                    a lang=(other.code()) href={ "/lang/" (other.code()) "?next=" (url_part(&chrome.path)) } {
                        (t.switch_to_other)
                    }
                    @if let Some(user) = &chrome.user {
                        span.who { (user.name) " · " (chrome.lang.role(user.role)) }
                        form.inline method="post" action="/logout" {
                            (csrf_field(chrome))
                            button.link type="submit" { (t.logout) }
                        }
                    }
                } }
                main id="content" { (body) }
            }
        }
    }
}

/// The hidden CSRF field every state-changing form carries.
pub fn csrf_field(chrome: &Chrome) -> Markup {
    html! { input type="hidden" name="csrf" value=(chrome.csrf); }
}

/// A coverage bar alone.
pub fn bar(ratio: f64) -> Markup {
    let width = format!("width:{:.1}%", (ratio.clamp(0.0, 1.0) * 100.0));
    html! { div.track role="presentation" { div.fill style=(width) {} } }
}

/// A coverage bar with its percentage.
pub fn meter(lang: Lang, ratio: f64) -> Markup {
    html! { div.meter { (bar(ratio)) span { (lang.percent(ratio)) } } }
}

/// A household's label, or that its personal data was erased: a label is never empty
/// otherwise (the rules refuse one), so an empty one is an erased household's.
pub fn household_label<'a>(t: &'a Texts, label: &'a str) -> &'a str {
    if label.is_empty() { t.erased_household } else { label }
}

/// A household's status as a coloured chip.
pub fn chip(lang: Lang, status: HouseholdStatus) -> Markup {
    let class = match status {
        HouseholdStatus::NotVisited => "chip not_visited",
        HouseholdStatus::FollowUp => "chip follow_up",
        HouseholdStatus::Attempted => "chip attempted",
        HouseholdStatus::Covered => "chip covered",
    };
    html! { span class=(class) { (lang.status(status)) } }
}

/// A form field's error message, if it has one.
pub fn field_error(errors: &FormErrors, field: &str) -> Markup {
    html! {
        @if let Some(msg) = errors.get(field) {
            p.field-error id={ "err-" (field) } role="alert" { (msg) }
        }
    }
}

/// Whether a field has an error, for `aria-invalid`.
pub fn invalid(errors: &FormErrors, field: &str) -> &'static str {
    if errors.contains_key(field) { "true" } else { "false" }
}

/// A notice after a successful action.
pub fn notice(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { p.notice role="status" { (m) } } }
}
