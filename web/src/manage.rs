//! The management pages: assignments and targets, people, the catalogue, the audit
//! log, devices, the enrolment code with its QR, and the administrators' page. Every
//! form carries the CSRF token, and a form that did not validate comes back with each
//! message next to its field and the values typed.

use maud::{Markup, PreEscaped, html};
use tungnha_client_core::Role;
use tungnha_client_core::catalogue::Entry;

use crate::layout::{Chrome, FormErrors, csrf_field, field_error, invalid, notice, page, url_part};

/// A person as a list or select shows them.
#[derive(Debug, Clone)]
pub struct PersonRef {
    /// Username.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// One hamlet on the assignments page.
#[derive(Debug, Clone)]
pub struct AssignHamlet {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Target households.
    pub target: u64,
    /// The team covering it (id, name), if one does.
    pub team: Option<(String, String)>,
    /// That team's members, who hold it through the team.
    pub via_team: Vec<PersonRef>,
    /// Who is assigned to it on their own (help across teams).
    pub members: Vec<PersonRef>,
    /// A one-stop counter (no target, no team: people on counter duty).
    pub counter: bool,
}

/// The assignments page of a commune.
#[derive(Debug, Clone)]
pub struct AssignmentsPage {
    /// Commune id.
    pub commune_id: String,
    /// Its hamlets.
    pub hamlets: Vec<AssignHamlet>,
    /// Active volunteers and leaders who can be assigned.
    pub people: Vec<PersonRef>,
    /// The hamlet whose form failed, with its errors.
    pub failed: Option<(String, FormErrors)>,
    /// The value typed into the failed target field.
    pub target_typed: String,
    /// A notice after success.
    pub notice: Option<&'static str>,
}

/// Renders the assignments page.
pub fn assignments(chrome: &Chrome, view: &AssignmentsPage) -> Markup {
    let t = chrome.t();
    let lang = chrome.lang;
    let action = format!("/communes/{}/assignments", url_part(&view.commune_id));
    let targets = format!("/communes/{}/targets", url_part(&view.commune_id));
    let none = FormErrors::new();
    page(
        chrome,
        t.assignments_title,
        html! {
            h1 { (t.assignments_title) }
            p.muted { (t.assignment_note) }
            (notice(view.notice))
            @for h in &view.hamlets {
                @let errors = match &view.failed { Some((id, e)) if *id == h.id => e, _ => &none };
                @let slug = h.id.replace('.', "-");
                section.panel data-hamlet=(h.id) aria-labelledby={ "h-" (slug) } {
                    h2 id={ "h-" (slug) } {
                        @if h.counter { span.muted { (t.counter) " · " } }
                        a href={ "/hamlets/" (url_part(&h.id)) } { (h.name) }
                    }
                    (field_error(errors, "hamlet"))
                    @if !h.counter {
                    form.inline method="post" action=(targets) {
                        (csrf_field(chrome))
                        input type="hidden" name="hamlet" value=(h.id);
                        div {
                            label for={ "target-" (slug) } { (t.target) }
                            @let value = if errors.contains_key("target") { view.target_typed.clone() } else { h.target.to_string() };
                            input id={ "target-" (slug) } type="number" name="target" min="0" max="100000" step="1"
                                value=(value) aria-invalid=(invalid(errors, "target"));
                            (field_error(errors, "target"))
                        }
                        button.secondary type="submit" { (t.save_target) }
                    }
                    p.team-of {
                        (t.covering_team) ": "
                        @match &h.team {
                            Some((id, name)) => a href={ "/communes/" (url_part(&view.commune_id)) "/teams/" (url_part(id)) } { (name) },
                            None => span.muted { (t.no_team) },
                        }
                    }
                    }
                    h3 { (if h.counter { t.counter_duty } else { t.assigned_people }) }
                    @if !h.via_team.is_empty() {
                        ul.plain.via-team {
                            @for m in &h.via_team {
                                li { (m.name) " (" (m.id) ", " (lang.role(m.role)) ") · " span.muted { (t.via_team) " " (h.team.as_ref().map(|(_, n)| n.as_str()).unwrap_or_default()) } }
                            }
                        }
                    }
                    @if h.members.is_empty() && h.via_team.is_empty() {
                        p.muted { (t.nobody_assigned) }
                    } @else {
                        ul.plain.own {
                            @for m in &h.members {
                                li {
                                    (m.name) " (" (m.id) ", " (lang.role(m.role)) ") · " span.muted { (t.own_assignment) } " "
                                    form.inline method="post" action=(action) {
                                        (csrf_field(chrome))
                                        input type="hidden" name="op" value="unassign";
                                        input type="hidden" name="hamlet" value=(h.id);
                                        input type="hidden" name="user" value=(m.id);
                                        button.link type="submit" { (t.unassign) }
                                    }
                                }
                            }
                        }
                    }
                    form.inline method="post" action=(action) {
                        (csrf_field(chrome))
                        input type="hidden" name="op" value="assign";
                        input type="hidden" name="hamlet" value=(h.id);
                        div {
                            label for={ "user-" (slug) } { (t.person) }
                            select id={ "user-" (slug) } name="user" aria-invalid=(invalid(errors, "user")) {
                                option value="" { (t.choose) }
                                @for p in view.people.iter().filter(|p| !h.members.iter().any(|m| m.id == p.id)) {
                                    option value=(p.id) { (p.name) " (" (p.id) ", " (lang.role(p.role)) ")" }
                                }
                            }
                            (field_error(errors, "user"))
                        }
                        button type="submit" { (t.assign) }
                    }
                }
            }
            @let errors = match &view.failed { Some((id, e)) if id == "counter" => e, _ => &none };
            section.panel #counters aria-labelledby="h-counters" {
                h2 #h-counters { (t.counters_title) }
                p.muted { (t.counter_note) }
                form.inline method="post" action={ "/communes/" (url_part(&view.commune_id)) "/counters" } {
                    (csrf_field(chrome))
                    div {
                        label for="counter-name" { (t.counter_name) }
                        input #counter-name name="name" required maxlength="200" aria-invalid=(invalid(errors, "name"));
                        (field_error(errors, "name"))
                    }
                    button type="submit" { (t.add_counter) }
                }
            }
        },
    )
}

/// One person on the people page.
#[derive(Debug, Clone)]
pub struct PersonLine {
    /// Who.
    pub person: PersonRef,
    /// Whether they can sign in and sync.
    pub active: bool,
    /// Whether they have a web password.
    pub has_password: bool,
    /// Names of their hamlets.
    pub hamlets: Vec<String>,
}

/// The values of the new-person form.
#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    /// Username.
    pub username: String,
    /// Full name.
    pub name: String,
    /// Role code.
    pub role: String,
}

/// The people page of a commune.
#[derive(Debug, Clone)]
pub struct PeoplePage {
    /// Commune id.
    pub commune_id: String,
    /// Everyone in the commune.
    pub people: Vec<PersonLine>,
    /// The new-person form as typed.
    pub form: NewPerson,
    /// Its errors.
    pub errors: FormErrors,
    /// The person whose password form failed, with its errors.
    pub password_failed: Option<(String, FormErrors)>,
    /// A notice after success.
    pub notice: Option<&'static str>,
}

/// The roles an official may give.
pub const GIVABLE_ROLES: [Role; 3] = [Role::Volunteer, Role::Leader, Role::Official];

/// Renders the people page.
pub fn people(chrome: &Chrome, view: &PeoplePage) -> Markup {
    let t = chrome.t();
    let lang = chrome.lang;
    let base = format!("/communes/{}/people", url_part(&view.commune_id));
    let none = FormErrors::new();
    page(
        chrome,
        t.people_title,
        html! {
            h1 { (t.people_title) }
            (notice(view.notice))
            div.scroll { table #people {
                thead { tr {
                    th scope="col" { (t.full_name) }
                    th scope="col" { (t.username) }
                    th scope="col" { (t.role) }
                    th scope="col" { (t.hamlets) }
                    th scope="col" { (t.status) }
                    th scope="col" { (t.reset_password) }
                } }
                tbody {
                    @for p in &view.people {
                        @let errors = match &view.password_failed { Some((id, e)) if *id == p.person.id => e, _ => &none };
                        tr data-user=(p.person.id) {
                            td { (p.person.name) }
                            td { (p.person.id) }
                            td { (lang.role(p.person.role)) }
                            td { (p.hamlets.join(", ")) }
                            td {
                                @if p.active { span.chip.covered { (t.active) } } @else { span.chip.off { (t.deactivated) } }
                                form.inline method="post" action={ (base) "/" (url_part(&p.person.id)) "/active" } {
                                    (csrf_field(chrome))
                                    input type="hidden" name="active" value=(if p.active { "false" } else { "true" });
                                    button.link type="submit" { (if p.active { t.deactivate } else { t.reactivate }) }
                                }
                            }
                            td {
                                @if !p.has_password { span.muted { (t.no_web_password) } br; }
                                // One password box at a time, opened on the row that needs it.
                                details.reset open[!errors.is_empty()] {
                                    summary { (t.reset_password) }
                                    form.inline method="post" action={ (base) "/" (url_part(&p.person.id)) "/password" } {
                                        (csrf_field(chrome))
                                        label.muted for={ "pw-" (p.person.id) } { (t.new_password) }
                                        input id={ "pw-" (p.person.id) } type="password" name="password" autocomplete="new-password"
                                            aria-invalid=(invalid(errors, "password"));
                                        button.secondary type="submit" { (t.reset_password) }
                                        (field_error(errors, "password"))
                                    }
                                }
                            }
                        }
                    }
                }
            } }
            div.panel {
                h2 { (t.add_person) }
                form.stack method="post" action=(base) {
                    (csrf_field(chrome))
                    div {
                        label for="new-name" { (t.full_name) }
                        input #new-name name="name" value=(view.form.name) aria-invalid=(invalid(&view.errors, "name"));
                        (field_error(&view.errors, "name"))
                    }
                    div {
                        label for="new-username" { (t.username) }
                        input #new-username name="username" autocapitalize="none" value=(view.form.username)
                            aria-invalid=(invalid(&view.errors, "username"));
                        (field_error(&view.errors, "username"))
                    }
                    div {
                        label for="new-role" { (t.role) }
                        select #new-role name="role" aria-invalid=(invalid(&view.errors, "role")) {
                            @for r in GIVABLE_ROLES {
                                option value=(r.code()) selected[view.form.role == r.code()] { (lang.role(r)) }
                            }
                        }
                        (field_error(&view.errors, "role"))
                    }
                    div {
                        label for="new-password" { (t.new_password) }
                        input #new-password type="password" name="password" autocomplete="new-password"
                            aria-invalid=(invalid(&view.errors, "password"));
                        (field_error(&view.errors, "password"))
                    }
                    button type="submit" { (t.create) }
                }
            }
        },
    )
}

/// The catalogue page of a commune.
#[derive(Debug, Clone)]
pub struct CataloguePage {
    /// Commune id.
    pub commune_id: String,
    /// Topics.
    pub topics: Vec<Entry>,
    /// Account kinds.
    pub account_kinds: Vec<Entry>,
    /// The list whose form failed ("topics" or "account_kinds"), with its errors.
    pub failed: Option<(&'static str, FormErrors)>,
    /// The new entry typed into the failed form: (code, label).
    pub typed: (String, String),
    /// A notice after success.
    pub notice: Option<&'static str>,
    /// The day the commune started recording visits (`YYYY-MM-DD`), or empty; what was
    /// typed when its form failed.
    pub visits_from: String,
    /// The retention period in days, as stored or typed (empty: none).
    pub retention: String,
}

/// Renders the catalogue page.
pub fn catalogue(chrome: &Chrome, view: &CataloguePage) -> Markup {
    let t = chrome.t();
    let action = format!("/communes/{}/catalogue", url_part(&view.commune_id));
    let none = FormErrors::new();
    let list = |name: &'static str, title: &str, entries: &[Entry]| {
        let (errors, typed) = match &view.failed {
            Some((n, e)) if *n == name => (e, view.typed.clone()),
            _ => (&none, Default::default()),
        };
        html! {
            section.panel id=(name) {
                h2 { (title) }
                form.stack method="post" action=(action) {
                    (csrf_field(chrome))
                    input type="hidden" name="list" value=(name);
                    table {
                        thead { tr { th scope="col" { (t.code) } th scope="col" { (t.label) } } }
                        tbody {
                            @for e in entries {
                                tr {
                                    td { code { (e.code) } }
                                    td {
                                        input.wide name={ "label." (e.code) } value=(e.label) aria-label={ (t.label) " " (e.code) }
                                            aria-invalid=(invalid(errors, "labels"));
                                    }
                                }
                            }
                        }
                    }
                    (field_error(errors, "labels"))
                    button type="submit" { (t.save_labels) }
                }
                // Adding an entry is its own form: its button saves nothing above it.
                form.stack method="post" action=(action) {
                    (csrf_field(chrome))
                    input type="hidden" name="list" value=(name);
                    h3 { (t.add_entry) }
                    div {
                        label for={ (name) "-code" } { (t.code) }
                        input id={ (name) "-code" } name="new_code" value=(typed.0) autocapitalize="none"
                            aria-invalid=(invalid(errors, "new_code"));
                        (field_error(errors, "new_code"))
                    }
                    div {
                        label for={ (name) "-label" } { (t.label) }
                        input.wide id={ (name) "-label" } name="new_label" value=(typed.1) aria-invalid=(invalid(errors, "new_label"));
                        (field_error(errors, "new_label"))
                    }
                    button type="submit" { (t.add_entry_button) }
                }
            }
        }
    };
    page(
        chrome,
        t.catalogue_title,
        html! {
            h1 { (t.catalogue_title) }
            p.muted { (t.catalogue_note) }
            (notice(view.notice))
            (list("topics", t.topics, &view.topics))
            (list("account_kinds", t.account_kinds, &view.account_kinds))
            @let errors = match &view.failed { Some(("visits_from", e)) => e, _ => &none };
            section.panel #visits-from {
                h2 { (t.visits_from) }
                p.muted { (t.visits_from_note) }
                form.stack method="post" action={ "/communes/" (url_part(&view.commune_id)) "/visits-from" } {
                    (csrf_field(chrome))
                    div {
                        label for="visits-from-day" { (t.visits_from_day) }
                        input #visits-from-day type="date" name="visits_from" value=(view.visits_from)
                            min="2020-01-01" aria-invalid=(invalid(errors, "visits_from"));
                        (field_error(errors, "visits_from"))
                    }
                    button type="submit" { (t.save) }
                }
            }
            @let errors = match &view.failed { Some(("retention", e)) => e, _ => &none };
            section.panel #retention {
                h2 { (t.retention_title) }
                p.muted { (t.retention_explain) }
                form.stack method="post" action={ "/communes/" (url_part(&view.commune_id)) "/retention" } {
                    (csrf_field(chrome))
                    div {
                        label for="retention-days" { (t.retention_days) }
                        input #retention-days type="number" name="retention" min="30" max="3650" inputmode="numeric"
                            value=(view.retention) aria-invalid=(invalid(errors, "retention"));
                        (field_error(errors, "retention"))
                    }
                    button type="submit" { (t.save) }
                }
            }
        },
    )
}

/// One entry of the audit log.
#[derive(Debug, Clone)]
pub struct AuditLine {
    /// When, ms since epoch.
    pub at: i64,
    /// Who.
    pub by: String,
    /// The action's code.
    pub action: String,
    /// Details.
    pub detail: String,
}

/// Renders the audit log, newest first.
pub fn audit(chrome: &Chrome, events: &[AuditLine]) -> Markup {
    let t = chrome.t();
    page(
        chrome,
        t.audit_title,
        html! {
            h1 { (t.audit_title) }
            @if events.is_empty() {
                p { (t.no_events) }
            } @else {
                div.scroll { table #audit {
                    thead { tr {
                        th scope="col" { (t.when) } th scope="col" { (t.done_by) }
                        th scope="col" { (t.action) } th scope="col" { (t.detail) }
                    } }
                    tbody {
                        @for e in events {
                            tr {
                                td { (chrome.lang.time(e.at)) }
                                td { (e.by) }
                                td data-action=(e.action) {
                                    @match t.audit_actions.iter().find(|(code, _)| *code == e.action) {
                                        Some((_, label)) => (label),
                                        None => code { (e.action) },
                                    }
                                }
                                td { (e.detail) }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// One device on the devices page.
#[derive(Debug, Clone)]
pub struct DeviceLine {
    /// Id.
    pub id: String,
    /// What its owner called it.
    pub name: String,
    /// Its owner's name.
    pub owner: String,
    /// When it enrolled.
    pub enrolled_at: i64,
    /// When it last synced.
    pub last_sync_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// Revoked, until when it may still send its unsent work once.
    pub final_upload_until: Option<i64>,
}

/// Renders the devices of a team or commune.
pub fn devices(chrome: &Chrome, devices: &[DeviceLine], notice_text: Option<&'static str>) -> Markup {
    let t = chrome.t();
    let lang = chrome.lang;
    // A leader sees the team's devices; an official the whole commune's.
    let title = match chrome.user.as_ref().map(|u| u.role) {
        Some(Role::Official | Role::Admin) => t.devices_title_commune,
        _ => t.devices_title,
    };
    page(
        chrome,
        title,
        html! {
            h1 { (title) }
            (notice(notice_text))
            @if devices.is_empty() {
                p { (t.no_devices) }
            } @else {
                div.scroll { table #devices {
                    thead { tr {
                        th scope="col" { (t.device) } th scope="col" { (t.owner) }
                        th scope="col" { (t.enrolled_at) } th scope="col" { (t.last_sync) } th scope="col" { (t.status) }
                    } }
                    tbody {
                        @for d in devices {
                            tr data-device=(d.id) {
                                td { (d.name) }
                                td { (d.owner) }
                                td { (lang.time(d.enrolled_at)) }
                                td { (d.last_sync_at.map(|at| lang.time(at)).unwrap_or_else(|| t.never.to_owned())) }
                                td {
                                    @if let Some(at) = d.revoked_at {
                                        span.chip.off { (t.revoked) } " " (lang.time(at))
                                        @if let Some(until) = d.final_upload_until {
                                            br; span.muted.final-upload { (t.revoke_waiting) " " (lang.time(until)) }
                                        }
                                    } @else {
                                        form.inline method="post" action={ "/devices/" (url_part(&d.id)) "/revoke" }
                                            data-confirm=(t.revoke_confirm) {
                                            (csrf_field(chrome))
                                            label.check { input type="checkbox" name="lost" value="1"; " " (t.revoke_lost) }
                                            button.danger type="submit" { (t.revoke) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// The page showing a fresh enrolment code.
#[derive(Debug, Clone)]
pub struct EnrolCodePage {
    /// Whose device it enrols.
    pub member: String,
    /// The code, as typed.
    pub code: String,
    /// The link the QR holds.
    pub link: String,
    /// The QR code as SVG, drawn by the server from `link`.
    pub qr_svg: String,
    /// When it stops working.
    pub expires_at: i64,
}

/// Renders an enrolment code with its QR.
pub fn enrol_code(chrome: &Chrome, view: &EnrolCodePage) -> Markup {
    let t = chrome.t();
    page(
        chrome,
        t.enrol_code_title,
        html! {
            h1 { (t.enrol_code_title) ": " (view.member) }
            div.panel {
                // The SVG is drawn by the server's QR encoder from a link it built from
                // its own code alphabet and origin: no user text reaches it.
                div.qr { (PreEscaped(&view.qr_svg)) }
                p { (t.enrol_code_text) ": " span.code #enrol-code { (view.code) } }
                p { (t.enrol_link) ": " a #enrol-link href=(view.link) { (view.link) } }
                p { (t.expires) " " (chrome.lang.time(view.expires_at)) ". " (t.single_use) }
                p { a href="/team" { "← " (t.nav_team) } }
            }
        },
    )
}

/// One commune on the administrators' page.
#[derive(Debug, Clone)]
pub struct CommuneLine {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its province's name, if it has one.
    pub province: Option<String>,
    /// Its officials.
    pub officials: Vec<PersonRef>,
    /// How many hamlets it has.
    pub hamlets: usize,
}

/// One province on the administrators' page.
#[derive(Debug, Clone)]
pub struct ProvinceLine {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// How many communes it has.
    pub communes: usize,
}

/// A read-only API token, as the administrators' page lists it.
#[derive(Debug, Clone)]
pub struct ApiTokenLine {
    /// Its id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The province's name.
    pub province: String,
    /// When it was issued, ms since epoch.
    pub created_at: i64,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// The administrators' page.
#[derive(Debug, Clone, Default)]
pub struct AdminPage {
    /// Every province.
    pub provinces: Vec<ProvinceLine>,
    /// The new-province form as typed: (code, name).
    pub province_form: (String, String),
    /// Its errors.
    pub province_errors: FormErrors,
    /// Every commune.
    pub communes: Vec<CommuneLine>,
    /// The kinds a commune can have: (code, label).
    pub kinds: Vec<(String, String)>,
    /// The new-commune form as typed: (code, name, kind, province).
    pub commune_form: (String, String, String, String),
    /// Its errors.
    pub commune_errors: FormErrors,
    /// The new-official form as typed: (commune, username, name).
    pub official_form: (String, String, String),
    /// Its errors.
    pub official_errors: FormErrors,
    /// The new-province-officer form as typed: (province, username, name).
    pub officer_form: (String, String, String),
    /// Its errors.
    pub officer_errors: FormErrors,
    /// The attach form's errors.
    pub attach_errors: FormErrors,
    /// Every API token issued.
    pub api_tokens: Vec<ApiTokenLine>,
    /// The new-token form as typed: (province, name).
    pub token_form: (String, String),
    /// Its errors.
    pub token_errors: FormErrors,
    /// A notice after success.
    pub notice: Option<&'static str>,
}

/// Renders the administrators' page.
pub fn admin(chrome: &Chrome, view: &AdminPage) -> Markup {
    let t = chrome.t();
    page(
        chrome,
        t.admin_title,
        html! {
            h1 { (t.admin_title) }
            (notice(view.notice))
            h2 { (t.provinces) }
            div.scroll { table #provinces {
                thead { tr { th { (t.province_code) } th { (t.province_name) } th.num { (t.communes) } } }
                tbody {
                    @for p in &view.provinces {
                        tr {
                            td { code { (p.id) } }
                            td { a href={ "/provinces/" (url_part(&p.id)) } { (p.name) } }
                            td.num { (chrome.lang.int(p.communes as u64)) }
                        }
                    }
                }
            } }
            div.panel {
                h2 { (t.add_province) }
                form.stack method="post" action="/admin/provinces" {
                    (csrf_field(chrome))
                    div {
                        label for="p-code" { (t.province_code) }
                        input #p-code name="code" value=(view.province_form.0) aria-invalid=(invalid(&view.province_errors, "code"));
                        (field_error(&view.province_errors, "code"))
                    }
                    div {
                        label for="p-name" { (t.province_name) }
                        input #p-name name="name" value=(view.province_form.1) aria-invalid=(invalid(&view.province_errors, "name"));
                        (field_error(&view.province_errors, "name"))
                    }
                    button type="submit" { (t.add_province) }
                }
            }
            h2 { (t.communes) }
            div.scroll { table #communes {
                thead { tr { th { (t.commune_code) } th { (t.commune_name) } th { (t.province) } th.num { (t.hamlets) } th { (t.officials) } } }
                tbody {
                    @for c in &view.communes {
                        tr {
                            td { code { (c.id) } }
                            td { a href={ "/communes/" (url_part(&c.id)) } { (c.name) } }
                            td { (c.province.as_deref().unwrap_or("—")) }
                            td.num { (chrome.lang.int(c.hamlets as u64)) }
                            td { (c.officials.iter().map(|o| format!("{} ({})", o.name, o.id)).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            } }
            div.charts {
                div.panel {
                    h2 { (t.add_commune) }
                    form.stack method="post" action="/admin/communes" {
                        (csrf_field(chrome))
                        div {
                            label for="c-code" { (t.commune_code) }
                            input #c-code name="code" value=(view.commune_form.0) aria-invalid=(invalid(&view.commune_errors, "code"));
                            (field_error(&view.commune_errors, "code"))
                        }
                        div {
                            label for="c-name" { (t.commune_name) }
                            input #c-name name="name" value=(view.commune_form.1) aria-invalid=(invalid(&view.commune_errors, "name"));
                            (field_error(&view.commune_errors, "name"))
                        }
                        div {
                            label for="c-kind" { (t.commune_kind) }
                            select #c-kind name="kind" {
                                @for (code, label) in &view.kinds { option value=(code) selected[view.commune_form.2 == *code] { (label) } }
                            }
                        }
                        div {
                            label for="c-province" { (t.province) }
                            select #c-province name="province" aria-invalid=(invalid(&view.commune_errors, "province")) {
                                option value="" { (t.no_province) }
                                @for p in &view.provinces { option value=(p.id) selected[view.commune_form.3 == p.id] { (p.name) } }
                            }
                            (field_error(&view.commune_errors, "province"))
                        }
                        button type="submit" { (t.add_commune) }
                    }
                }
                div.panel {
                    h2 { (t.attach_commune) }
                    form.stack method="post" action="/admin/communes/attach" {
                        (csrf_field(chrome))
                        div {
                            label for="a-commune" { (t.commune) }
                            select #a-commune name="commune" aria-invalid=(invalid(&view.attach_errors, "commune")) {
                                option value="" { (t.choose) }
                                @for c in &view.communes { option value=(c.id) { (c.name) " (" (c.id) ")" } }
                            }
                            (field_error(&view.attach_errors, "commune"))
                        }
                        div {
                            label for="a-province" { (t.province) }
                            select #a-province name="province" aria-invalid=(invalid(&view.attach_errors, "province")) {
                                option value="" { (t.choose) }
                                @for p in &view.provinces { option value=(p.id) { (p.name) } }
                            }
                            (field_error(&view.attach_errors, "province"))
                        }
                        button type="submit" { (t.attach) }
                    }
                }
                (manager_form(chrome, view, Manager::Official))
                (manager_form(chrome, view, Manager::ProvinceOfficer))
            }
            h2 #api-tokens { (t.api_tokens_title) }
            p.muted { (t.api_tokens_note) " " a href="/api/v1/openapi.json" { (t.api_description) } }
            @if view.api_tokens.is_empty() {
                p { (t.no_api_tokens) }
            } @else {
                div.scroll { table #tokens {
                    thead { tr { th { (t.token_name) } th { (t.province) } th { (t.issued_on) } th { (t.status) } th {} } }
                    tbody {
                        @for k in &view.api_tokens {
                            tr data-token=(k.id) {
                                td { (k.name) }
                                td { (k.province) }
                                td { (chrome.lang.time(k.created_at)) }
                                td { (if k.revoked { t.token_revoked } else { t.token_active }) }
                                td {
                                    @if !k.revoked {
                                        form.inline method="post" action={ "/admin/api-tokens/" (url_part(&k.id)) "/revoke" } {
                                            (csrf_field(chrome))
                                            button.danger type="submit" { (t.revoke_token) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            div.panel {
                h2 { (t.issue_token) }
                form.stack method="post" action="/admin/api-tokens" {
                    (csrf_field(chrome))
                    div {
                        label for="k-province" { (t.province) }
                        select #k-province name="province" aria-invalid=(invalid(&view.token_errors, "province")) {
                            option value="" { (t.choose) }
                            @for p in &view.provinces { option value=(p.id) selected[view.token_form.0 == p.id] { (p.name) } }
                        }
                        (field_error(&view.token_errors, "province"))
                    }
                    div {
                        label for="k-name" { (t.token_name) }
                        input #k-name name="name" value=(view.token_form.1) aria-invalid=(invalid(&view.token_errors, "name"));
                        (field_error(&view.token_errors, "name"))
                    }
                    button type="submit" { (t.issue_token) }
                }
            }
        },
    )
}

/// The page that shows a newly issued API token, the one time it is shown.
pub fn api_token_issued(chrome: &Chrome, name: &str, province: &str, token: &str) -> Markup {
    let t = chrome.t();
    page(
        chrome,
        t.api_tokens_title,
        html! {
            h1 { (t.api_tokens_title) }
            p { strong { (name) } " · " (province) }
            p.notice role="status" { (t.token_shown_once) }
            p { code #api-token { (token) } }
            p.muted { (t.token_for) " " code { "GET /api/v1/provinces/" (province) "/coverage" } " · " code { "Authorization: Bearer …" } }
            p { a href="/admin#api-tokens" { "← " (t.api_tokens_title) } }
        },
    )
}

/// Who a manager form adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    /// A commune's official.
    Official,
    /// A province's officer.
    ProvinceOfficer,
}

/// The form that adds an official (to a commune) or a province officer (to a province).
fn manager_form(chrome: &Chrome, view: &AdminPage, kind: Manager) -> Markup {
    let t = chrome.t();
    let (title, action, scope_name, scope_label, prefix, form, errors) = match kind {
        Manager::Official => (
            t.add_official,
            "/admin/officials",
            "commune",
            t.commune,
            "o",
            &view.official_form,
            &view.official_errors,
        ),
        Manager::ProvinceOfficer => (
            t.add_province_officer,
            "/admin/province-officers",
            "province",
            t.province,
            "po",
            &view.officer_form,
            &view.officer_errors,
        ),
    };
    let scopes: Vec<(&str, &str)> = match kind {
        Manager::Official => view.communes.iter().map(|c| (c.id.as_str(), c.name.as_str())).collect(),
        Manager::ProvinceOfficer => view.provinces.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect(),
    };
    let id = |field: &str| format!("{prefix}-{field}");
    html! {
        div.panel {
            h2 { (title) }
            form.stack method="post" action=(action) {
                (csrf_field(chrome))
                div {
                    label for=(id(scope_name)) { (scope_label) }
                    select id=(id(scope_name)) name=(scope_name) aria-invalid=(invalid(errors, scope_name)) {
                        @for (value, name) in &scopes { option value=(value) selected[form.0 == *value] { (name) } }
                    }
                    (field_error(errors, scope_name))
                }
                div {
                    label for=(id("username")) { (t.username) }
                    input id=(id("username")) name="username" value=(form.1) aria-invalid=(invalid(errors, "username"));
                    (field_error(errors, "username"))
                }
                div {
                    label for=(id("name")) { (t.full_name) }
                    input id=(id("name")) name="name" value=(form.2) aria-invalid=(invalid(errors, "name"));
                    (field_error(errors, "name"))
                }
                div {
                    label for=(id("password")) { (t.password) }
                    input id=(id("password")) type="password" name="password" autocomplete="new-password"
                        aria-invalid=(invalid(errors, "password"));
                    (field_error(errors, "password"))
                }
                button type="submit" { (title) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::layout::SignedIn;

    fn chrome() -> Chrome {
        Chrome {
            lang: Lang::Vi,
            csrf: "tok".into(),
            path: "/".into(),
            user: Some(SignedIn {
                name: "Cán bộ".into(),
                role: Role::Official,
                commune: Some("x".into()),
                province: None,
            }),
        }
    }

    #[test]
    fn a_failed_target_keeps_what_was_typed_next_to_its_message() {
        let view = AssignmentsPage {
            commune_id: "x".into(),
            hamlets: vec![AssignHamlet {
                id: "x.a".into(),
                name: "Thôn A".into(),
                target: 300,
                team: None,
                via_team: Vec::new(),
                members: vec![PersonRef { id: "tnv1".into(), name: "Lan".into(), role: Role::Volunteer }],
                counter: false,
            }],
            people: vec![
                PersonRef { id: "tnv1".into(), name: "Lan".into(), role: Role::Volunteer },
                PersonRef { id: "tnv2".into(), name: "Bảo".into(), role: Role::Volunteer },
            ],
            failed: Some(("x.a".into(), FormErrors::from([("target", Lang::Vi.texts().err_target)]))),
            target_typed: "-5".into(),
            notice: None,
        };
        let html = assignments(&chrome(), &view).into_string();
        assert!(html.contains("value=\"-5\""), "{html}");
        assert!(html.contains("Chỉ tiêu phải là số nguyên"));
        // Already-assigned people are not offered again.
        assert!(html.contains("<option value=\"tnv2\">"));
        assert!(!html.contains("<option value=\"tnv1\">"));
        assert_eq!(
            html.matches("name=\"csrf\" value=\"tok\"").count(),
            5,
            "logout, target, unassign, assign, add a counter"
        );
    }

    #[test]
    fn the_enrolment_page_shows_code_link_and_qr() {
        let view = EnrolCodePage {
            member: "Trần <Thị> Lan".into(),
            code: "ABCD234567".into(),
            link: "http://127.0.0.1:1/app/enrol?code=ABCD234567".into(),
            qr_svg: "<svg id=\"qr\"></svg>".into(),
            expires_at: 1_795_887_000_000,
        };
        let html = enrol_code(&chrome(), &view).into_string();
        assert!(html.contains("<svg id=\"qr\"></svg>"));
        assert!(html.contains("ABCD234567"));
        assert!(html.contains("Trần &lt;Thị&gt; Lan"));
        assert!(html.contains("href=\"http://127.0.0.1:1/app/enrol?code=ABCD234567\""));
    }

    #[test]
    fn the_catalogue_form_keeps_codes_fixed_and_labels_editable() {
        let view = CataloguePage {
            commune_id: "x".into(),
            topics: vec![Entry { code: "vneid".into(), label: "Định danh <điện tử>".into() }],
            account_kinds: Vec::new(),
            failed: Some(("topics", FormErrors::from([("new_code", Lang::Vi.texts().err_code)]))),
            typed: ("Bad Code".into(), "Nhãn".into()),
            notice: None,
            visits_from: "2026-09-01".into(),
            retention: String::new(),
        };
        let html = catalogue(&chrome(), &view).into_string();
        assert!(html.contains("name=\"label.vneid\" value=\"Định danh &lt;điện tử&gt;\""));
        assert!(html.contains("value=\"Bad Code\""));
        assert!(html.contains("Mã gồm 1–32 ký tự"));
        assert!(html.contains("name=\"visits_from\" value=\"2026-09-01\""), "the day the commune set");
        assert!(!html.contains("Ngày phải từ"), "the day's form did not fail");
    }
}
