//! The sign-in page and the error pages (403, 404, invalid form, server error).

use maud::{Markup, html};

use crate::layout::{Chrome, csrf_field, page};

/// The sign-in page.
#[derive(Debug, Clone, Default)]
pub struct LoginPage {
    /// The username typed, kept after a failed attempt.
    pub username: String,
    /// Why the last attempt failed.
    pub error: Option<&'static str>,
    /// Where to go after signing in.
    pub next: String,
    /// Whether the server runs the demo (then the demo accounts are shown).
    pub demo: bool,
}

/// Renders the sign-in page.
pub fn login(chrome: &Chrome, view: &LoginPage) -> Markup {
    let t = chrome.t();
    page(
        chrome,
        t.login_title,
        html! {
            div.login.panel {
                h1 { (t.login_title) }
                p.muted { (t.motto) }
                @if let Some(e) = view.error { p.alert role="alert" { (e) } }
                form.stack method="post" action="/login" {
                    (csrf_field(chrome))
                    input type="hidden" name="next" value=(view.next);
                    div {
                        label for="username" { (t.username) }
                        input #username name="username" autocomplete="username" autocapitalize="none" required value=(view.username);
                    }
                    div {
                        label for="password" { (t.password) }
                        input #password type="password" name="password" autocomplete="current-password" required;
                    }
                    button type="submit" { (t.login_button) }
                }
                @if view.demo { p.muted { (t.demo_hint) } }
            }
        },
    )
}

/// Which error page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 403: signed in, but this page is not theirs.
    Forbidden,
    /// 404: no such page or record.
    NotFound,
    /// 403: a form without a valid CSRF token.
    BadForm,
    /// 422: a change the rules refuse.
    Refused,
    /// 422: a field that is not acceptable (its label, in the page's language).
    Invalid(&'static str),
    /// 500.
    Server,
}

/// Renders an error page.
pub fn error(chrome: &Chrome, kind: ErrorKind) -> Markup {
    let t = chrome.t();
    let (title, text) = match kind {
        ErrorKind::Forbidden => (t.forbidden_title, t.forbidden_text),
        ErrorKind::NotFound => (t.not_found_title, t.not_found_text),
        ErrorKind::BadForm => (t.bad_form_title, t.csrf_text),
        ErrorKind::Refused => (t.refused_title, t.refused_text),
        ErrorKind::Invalid(_) => (t.invalid_title, t.invalid_text),
        ErrorKind::Server => (t.server_error_title, t.server_error_text),
    };
    let field = match kind {
        ErrorKind::Invalid(field) => Some(field),
        _ => None,
    };
    page(
        chrome,
        title,
        html! {
            div.panel {
                h1 { (title) }
                p { (text) @if let Some(field) = field { " " strong.field { (field) } } }
                p { a href="/" { (t.go_home) } }
            }
        },
    )
}

/// A volunteer's start page on the website: what they use instead (the phone app), and
/// how to start with it.
pub fn volunteer_home(chrome: &Chrome) -> Markup {
    let t = chrome.t();
    let name = chrome.user.as_ref().map(|u| u.name.as_str()).unwrap_or_default();
    page(
        chrome,
        t.volunteer_home_title,
        html! {
            div.panel #volunteer-home {
                h1 { (t.volunteer_home_title) " " (name) }
                p { (t.volunteer_home_text) }
                ol {
                    li { (t.volunteer_home_step1) }
                    li { (t.volunteer_home_step2) }
                }
                p { a.button href="/app" { (t.volunteer_home_open) } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn login_keeps_the_username_escaped_and_shows_the_error() {
        let chrome = Chrome { lang: Lang::Vi, csrf: "c1".into(), path: "/login".into(), user: None };
        let view = LoginPage {
            username: "<b>lan".into(),
            error: Some(Lang::Vi.texts().login_failed),
            next: "/team".into(),
            demo: true,
        };
        let html = login(&chrome, &view).into_string();
        assert!(html.contains("value=\"&lt;b&gt;lan\""));
        assert!(html.contains("Tên đăng nhập hoặc mật khẩu không đúng."));
        assert!(html.contains("name=\"csrf\" value=\"c1\""));
        assert!(html.contains("tungnha-demo"));
        // Nobody is signed in: no navigation, no sign-out.
        assert!(!html.contains("action=\"/logout\""));
    }

    #[test]
    fn the_forbidden_page_says_so_in_the_chosen_language() {
        let chrome = Chrome { lang: Lang::En, csrf: String::new(), path: "/".into(), user: None };
        assert!(error(&chrome, ErrorKind::Forbidden).into_string().contains("Access denied"));
        let chrome = Chrome { lang: Lang::Vi, ..chrome };
        assert!(error(&chrome, ErrorKind::Forbidden).into_string().contains("Không có quyền truy cập"));
    }
}
