//! The teams views: the table of a commune's teams with their figures (on the commune
//! dashboard and the teams page), the teams page with its form to create one, and one
//! team's page (rename, dissolve, leaders, members, hamlets).

use maud::{Markup, html};

use crate::dashboard::Figures;
use crate::i18n::Lang;
use crate::layout::{Chrome, FormErrors, csrf_field, field_error, invalid, meter, notice, page, url_part};
use crate::manage::PersonRef;

/// One team with its figures.
#[derive(Debug, Clone)]
pub struct TeamLine {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its leaders' names.
    pub leaders: Vec<String>,
    /// Members, leaders included.
    pub members: u64,
    /// Members who synced in the last 7 days.
    pub active: u64,
    /// The names of the hamlets it covers.
    pub hamlets: Vec<String>,
    /// Its hamlets' figures, summed.
    pub figures: Figures,
}

/// The table of a commune's teams; each name links to the team's page when `link`
/// names the commune (for those who manage it).
pub fn teams_table(lang: Lang, rows: &[TeamLine], link: Option<&str>) -> Markup {
    let t = lang.texts();
    html! {
        @if rows.is_empty() {
            p #no-teams { (t.no_teams) }
        } @else {
            div.scroll { table #teams {
                thead { tr {
                    th scope="col" { (t.team_name) }
                    th scope="col" { (t.team_leaders) }
                    th.num scope="col" { (t.team_members) }
                    th.num scope="col" { (t.active_7d) }
                    th scope="col" { (t.team_hamlets) }
                    th scope="col" { (t.coverage) }
                    th.num scope="col" { (t.covered) }
                    th.num scope="col" { (t.to_cover) }
                    th.num scope="col" { (t.visits) }
                    th.num scope="col" { (t.accounts) }
                } }
                tbody {
                    @for row in rows {
                        tr data-team=(row.id) {
                            td {
                                @match link {
                                    Some(c) => a href={ "/communes/" (url_part(c)) "/teams/" (url_part(&row.id)) } { (row.name) },
                                    None => (row.name),
                                }
                            }
                            td { (row.leaders.join(", ")) }
                            td.num data-team-figure="members" { (lang.int(row.members)) }
                            td.num data-team-figure="active" { (lang.int(row.active)) }
                            td { (row.hamlets.join(", ")) }
                            td { (meter(lang, row.figures.ratio)) }
                            td.num data-team-figure="covered" { (lang.int(row.figures.covered)) }
                            td.num data-team-figure="to_cover" { (lang.int(row.figures.to_cover)) }
                            td.num data-team-figure="visits" { (lang.int(row.figures.visits)) }
                            td.num data-team-figure="accounts" { (lang.int(row.figures.accounts)) }
                        }
                    }
                }
            } }
        }
    }
}

/// A commune's teams page.
#[derive(Debug, Clone)]
pub struct TeamsPage {
    /// Commune id.
    pub commune_id: String,
    /// Its teams.
    pub teams: Vec<TeamLine>,
    /// The name typed into the form that failed.
    pub typed: String,
    /// Its errors.
    pub errors: FormErrors,
    /// A notice after success.
    pub notice: Option<&'static str>,
}

/// Renders the teams page.
pub fn teams(chrome: &Chrome, view: &TeamsPage) -> Markup {
    let t = chrome.t();
    let action = format!("/communes/{}/teams", url_part(&view.commune_id));
    page(
        chrome,
        t.teams_title,
        html! {
            h1 { (t.teams_title) }
            p.muted { (t.teams_note) }
            (notice(view.notice))
            (teams_table(chrome.lang, &view.teams, Some(&view.commune_id)))
            section.panel aria-labelledby="new-team" {
                h2 #new-team { (t.new_team) }
                form.inline method="post" action=(action) {
                    (csrf_field(chrome))
                    div {
                        label for="team-name" { (t.team_name) }
                        input #team-name name="name" required maxlength="200" value=(view.typed)
                            aria-invalid=(invalid(&view.errors, "name"));
                        (field_error(&view.errors, "name"))
                    }
                    button type="submit" { (t.create_team) }
                }
            }
        },
    )
}

/// One member of a team, as its page lists them.
#[derive(Debug, Clone)]
pub struct MemberLine {
    /// The person.
    pub person: PersonRef,
    /// Whether they lead the team.
    pub leader: bool,
}

/// One team's page.
#[derive(Debug, Clone)]
pub struct TeamEditPage {
    /// Commune id.
    pub commune_id: String,
    /// Team id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its members, leaders first.
    pub members: Vec<MemberLine>,
    /// The hamlets it covers (id, name).
    pub hamlets: Vec<(String, String)>,
    /// People of the commune who may join (active volunteers and leaders not in it).
    pub candidates: Vec<PersonRef>,
    /// The commune's hamlets no team covers (id, name).
    pub free_hamlets: Vec<(String, String)>,
    /// The form that failed (`rename`, `member_add`, `hamlet_add`) with its errors.
    pub failed: Option<(&'static str, FormErrors)>,
    /// The name typed into a failed rename.
    pub typed: String,
    /// A notice after success.
    pub notice: Option<&'static str>,
}

/// Renders one team's page.
pub fn team_edit(chrome: &Chrome, view: &TeamEditPage) -> Markup {
    let t = chrome.t();
    let lang = chrome.lang;
    let action = format!("/communes/{}/teams/{}", url_part(&view.commune_id), url_part(&view.id));
    let none = FormErrors::new();
    let errors = |form: &str| match &view.failed {
        Some((f, e)) if *f == form => e,
        _ => &none,
    };
    let op = |op: &str| html! { (csrf_field(chrome)) input type="hidden" name="op" value=(op); };
    page(
        chrome,
        &view.name,
        html! {
            p { a href={ "/communes/" (url_part(&view.commune_id)) "/teams" } { "← " (t.teams_title) } }
            h1 { (view.name) }
            p { a.button.secondary #day-report href={ "/communes/" (url_part(&view.commune_id)) "/teams/" (url_part(&view.id)) "/day" } { (t.day_report) } }
            (notice(view.notice))
            section.panel aria-labelledby="team-members" {
                h2 #team-members { (t.team_members) }
                @if view.members.is_empty() {
                    p.muted { (t.no_members) }
                } @else {
                    ul.plain #members {
                        @for m in &view.members {
                            li data-member=(m.person.id) {
                                (m.person.name) " (" (m.person.id) ", " (lang.role(m.person.role)) ")"
                                @if m.leader { " · " strong { (t.leader_mark) } }
                                " "
                                @if m.person.role == tungnha_client_core::Role::Leader {
                                    form.inline method="post" action=(action) {
                                        (op("lead"))
                                        input type="hidden" name="user" value=(m.person.id);
                                        @if !m.leader { input type="hidden" name="lead" value="1"; }
                                        button.link type="submit" { (if m.leader { t.unmake_leader } else { t.make_leader }) }
                                    }
                                    " "
                                }
                                form.inline method="post" action=(action) {
                                    (op("member_remove"))
                                    input type="hidden" name="user" value=(m.person.id);
                                    button.link type="submit" { (t.remove_member) }
                                }
                            }
                        }
                    }
                }
                @let e = errors("member_add");
                form.inline method="post" action=(action) {
                    (op("member_add"))
                    div {
                        label for="member" { (t.add_member) }
                        select #member name="user" aria-invalid=(invalid(e, "user")) {
                            option value="" { (t.choose) }
                            @for p in &view.candidates {
                                option value=(p.id) { (p.name) " (" (p.id) ", " (lang.role(p.role)) ")" }
                            }
                        }
                        (field_error(e, "user"))
                    }
                    label.check { input type="checkbox" name="lead" value="1"; " " (t.as_leader) }
                    button type="submit" { (t.add_member) }
                }
            }
            section.panel aria-labelledby="team-hamlets" {
                h2 #team-hamlets { (t.team_hamlets) }
                @if view.hamlets.is_empty() {
                    p.muted { (t.no_team_hamlets) }
                } @else {
                    ul.plain #hamlets {
                        @for (id, name) in &view.hamlets {
                            li data-hamlet=(id) {
                                (name) " "
                                form.inline method="post" action=(action) {
                                    (op("hamlet_remove"))
                                    input type="hidden" name="hamlet" value=(id);
                                    button.link type="submit" { (t.take_hamlet) }
                                }
                            }
                        }
                    }
                }
                @let e = errors("hamlet_add");
                form.inline method="post" action=(action) {
                    (op("hamlet_add"))
                    div {
                        label for="give-hamlet" { (t.hamlet) }
                        select #give-hamlet name="hamlet" aria-invalid=(invalid(e, "hamlet")) {
                            option value="" { (t.choose) }
                            @for (id, name) in &view.free_hamlets {
                                option value=(id) { (name) }
                            }
                        }
                        (field_error(e, "hamlet"))
                    }
                    button type="submit" { (t.give_hamlet) }
                }
            }
            section.panel aria-labelledby="team-settings" {
                h2 #team-settings { (t.rename) }
                @let e = errors("rename");
                form.inline method="post" action=(action) {
                    (op("rename"))
                    div {
                        label for="team-name" { (t.team_name) }
                        @let typed = if e.is_empty() { &view.name } else { &view.typed };
                        input #team-name name="name" required maxlength="200" value=(typed)
                            aria-invalid=(invalid(e, "name"));
                        (field_error(e, "name"))
                    }
                    button.secondary type="submit" { (t.rename) }
                }
                p.muted { (t.dissolve_note) }
                form.inline method="post" action=(action) {
                    (op("dissolve"))
                    button.danger type="submit" { (t.dissolve) }
                }
            }
        },
    )
}
