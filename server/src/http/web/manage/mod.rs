//! The management pages and their forms: assignments and targets, people, the
//! catalogue and the audit log (officials); enrolment codes (leaders); devices and
//! revocation (leaders and officials); communes and officials (administrators).
//!
//! Each POST checks the CSRF token, then the role and scope, then the input. Bad input
//! re-renders the form (422) with the message next to its field and changes nothing;
//! success redirects back (303) with `?saved=1`, so a reload does not post again. Every
//! change goes through `admin`, which writes the audit log.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tungnha_client_core::catalogue::{Catalogue, Entry, is_code};
use tungnha_client_core::collate;
use tungnha_client_core::coverage::vn_day;
use tungnha_client_core::domain::{CommuneKind, MAX_TEXT_CHARS};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{CommuneId, DeviceId, HamletId, Role, UserId};
use tungnha_web::FormErrors;
use tungnha_web::layout::url_part;
use tungnha_web::manage::{
    AdminPage, AssignHamlet, AssignmentsPage, AuditLine, CataloguePage, CommuneLine, DeviceLine,
    EnrolCodePage, GIVABLE_ROLES, NewPerson, PeoplePage, PersonLine, PersonRef,
};

use super::pages::{managed_commune, team_page};
use super::{Form, PageError, Viewer, see_other};
use crate::AppState;
use crate::records::{Commune, User};
use crate::service::ServiceError;
use crate::service::{accounts, enrolment, organisation};

/// How long a leader's enrolment code works.
pub const ENROL_CODE_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// How many audit entries the audit view shows.
pub const AUDIT_SHOWN: usize = 500;

#[derive(Debug, Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    saved: String,
}

impl SavedQuery {
    fn notice(&self, viewer: &Viewer) -> Option<&'static str> {
        (!self.saved.is_empty()).then_some(viewer.lang.texts().saved)
    }
}

fn unprocessable(markup: maud::Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, markup).into_response()
}

fn person_ref(u: &User) -> PersonRef {
    PersonRef { id: u.id.to_string(), name: u.name.clone(), role: u.role }
}

fn users_of(state: &AppState, commune: &CommuneId) -> Result<Vec<User>, PageError> {
    let mut users: Vec<User> = state.store.users_of(commune)?;
    users.sort_by(|a, b| a.role.cmp(&b.role).then_with(|| collate::compare(&a.name, &b.name)));
    Ok(users)
}

/// What is wrong with a name or label typed into a form, in the viewer's words: too
/// long, or holding characters `rules::text_fault` refuses (control characters,
/// characters that reorder text).
fn text_problem(t: &tungnha_web::Texts, text: &str) -> Option<&'static str> {
    text_fault(text, false)
        .map(|_| if text.chars().count() > MAX_TEXT_CHARS { t.err_too_long } else { t.err_characters })
}

/// A person of `commune` whom the viewer may manage, by username.
fn managed_person(
    v: &Viewer,
    state: &AppState,
    commune: &CommuneId,
    username: &str,
) -> Result<User, PageError> {
    let me = v.user()?;
    let target = user_in(state, commune, username)?.ok_or(PageError::NotFound)?;
    if crate::service::access::may_manage_person(me, &target) {
        Ok(target)
    } else {
        Err(PageError::Forbidden)
    }
}

/// A user of `commune` by username, if there is one.
fn user_in(state: &AppState, commune: &CommuneId, username: &str) -> Result<Option<User>, PageError> {
    let Ok(id) = UserId::parse(username.trim()) else { return Ok(None) };
    Ok(state.store.user(&id)?.filter(|u| u.commune.as_ref() == Some(commune)))
}

/// A hamlet of `commune` by id, if there is one.
fn hamlet_in(
    state: &AppState,
    commune: &CommuneId,
    id: &str,
) -> Result<Option<crate::records::Hamlet>, PageError> {
    let Ok(id) = HamletId::parse(id.trim()) else { return Ok(None) };
    Ok(state.store.hamlet(&id)?.filter(|h| &h.commune == commune))
}

/// Back to the assignments page, at the hamlet just changed.
fn assignments_saved(commune: &str, hamlet: &HamletId) -> Response {
    see_other(&format!(
        "/communes/{}/assignments?saved=1#h-{}",
        url_part(commune),
        hamlet.as_str().replace('.', "-")
    ))
}

// ---- assignments and targets ----

fn assignments_page(
    state: &AppState,
    commune: &Commune,
    failed: Option<(String, FormErrors)>,
    target_typed: String,
    notice: Option<&'static str>,
) -> Result<AssignmentsPage, PageError> {
    let users: BTreeMap<UserId, User> =
        users_of(state, &commune.id)?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let mut hamlets = Vec::new();
    for h in state.store.hamlets_of(&commune.id)? {
        let members =
            state.store.people_of(&h.id)?.iter().filter_map(|u| users.get(u)).map(person_ref).collect();
        hamlets.push(AssignHamlet {
            members,
            id: h.id.to_string(),
            name: h.name,
            target: h.target_households,
        });
    }
    let people = users
        .values()
        .filter(|u| u.active && matches!(u.role, Role::Volunteer | Role::Leader))
        .map(person_ref)
        .collect();
    Ok(AssignmentsPage { commune_id: commune.id.to_string(), hamlets, people, failed, target_typed, notice })
}

pub(crate) async fn assignments(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let view = assignments_page(&state, &commune, None, String::new(), q.notice(v))?;
            Ok(tungnha_web::manage::assignments(&v.chrome(), &view).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    hamlet: String,
    #[serde(default)]
    user: String,
}

pub(crate) async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let t = v.lang.texts();
            let mut errors = FormErrors::new();
            let hamlet = hamlet_in(&state, &commune.id, &form.hamlet)?;
            if hamlet.is_none() {
                errors.insert("hamlet", t.err_unknown_hamlet);
            }
            let user = user_in(&state, &commune.id, &form.user)?;
            match &user {
                _ if form.user.trim().is_empty() => errors.insert("user", t.err_required),
                None => errors.insert("user", t.err_unknown_person),
                Some(_) => None,
            };
            let (Some(hamlet), Some(user), true) = (hamlet, user, errors.is_empty()) else {
                let view =
                    assignments_page(&state, &commune, Some((form.hamlet, errors)), String::new(), None)?;
                return Ok(unprocessable(tungnha_web::manage::assignments(&v.chrome(), &view)));
            };
            match form.op.as_str() {
                "unassign" => {
                    organisation::unassign(state.store(), &by, user.id.as_str(), hamlet.id.as_str())?
                }
                _ => organisation::assign(state.store(), &by, user.id.as_str(), hamlet.id.as_str())?,
            }
            Ok(assignments_saved(&id, &hamlet.id))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct TargetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    hamlet: String,
    #[serde(default)]
    target: String,
}

pub(crate) async fn set_target(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TargetForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let t = v.lang.texts();
            let mut errors = FormErrors::new();
            let hamlet = hamlet_in(&state, &commune.id, &form.hamlet)?;
            if hamlet.is_none() {
                errors.insert("hamlet", t.err_unknown_hamlet);
            }
            let target = form.target.trim().parse::<u64>().ok().filter(|n| *n <= organisation::MAX_TARGET);
            if target.is_none() {
                errors.insert("target", t.err_target);
            }
            let (Some(hamlet), Some(target)) = (hamlet, target) else {
                let view =
                    assignments_page(&state, &commune, Some((form.hamlet, errors)), form.target, None)?;
                return Ok(unprocessable(tungnha_web::manage::assignments(&v.chrome(), &view)));
            };
            organisation::set_target(state.store(), &by, &hamlet.id, target)?;
            Ok(assignments_saved(&id, &hamlet.id))
        })
        .await
}

// ---- people ----

fn people_page(
    state: &AppState,
    commune: &Commune,
    form: NewPerson,
    errors: FormErrors,
    password_failed: Option<(String, FormErrors)>,
    notice: Option<&'static str>,
) -> Result<PeoplePage, PageError> {
    let hamlet_names: BTreeMap<HamletId, String> =
        state.store.hamlets_of(&commune.id)?.into_iter().map(|h| (h.id, h.name)).collect();
    let mut people = Vec::new();
    for u in users_of(state, &commune.id)? {
        let hamlets =
            state.store.assignments_of(&u.id)?.iter().filter_map(|h| hamlet_names.get(h)).cloned().collect();
        people.push(PersonLine {
            person: person_ref(&u),
            active: u.active,
            has_password: u.password_hash != accounts::NO_PASSWORD,
            hamlets,
        });
    }
    Ok(PeoplePage { commune_id: commune.id.to_string(), people, form, errors, password_failed, notice })
}

pub(crate) async fn people(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let view =
                people_page(&state, &commune, NewPerson::default(), FormErrors::new(), None, q.notice(v))?;
            Ok(tungnha_web::manage::people(&v.chrome(), &view).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// Checks a new account's username, name and password; the messages by field.
fn check_new_account(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
    name: &str,
    password: &str,
    password_required: bool,
    errors: &mut FormErrors,
) -> Result<(), PageError> {
    let t = viewer.lang.texts();
    match accounts::check_username(username) {
        Err(_) => {
            errors.insert("username", if username.is_empty() { t.err_required } else { t.err_username });
        }
        Ok(id) if state.store.user(&id)?.is_some() => {
            errors.insert("username", t.err_username_taken);
        }
        Ok(_) => {}
    }
    if name.trim().is_empty() {
        errors.insert("name", t.err_required);
    } else if let Some(problem) = text_problem(t, name) {
        errors.insert("name", problem);
    }
    if (password_required || !password.is_empty()) && password.chars().count() < 8 {
        errors.insert("password", t.err_password_short);
    }
    Ok(())
}

pub(crate) async fn add_person(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let username = form.username.trim().to_owned();
            let role = Role::from_code(&form.role).filter(|r| GIVABLE_ROLES.contains(r));
            let mut errors = FormErrors::new();
            // Volunteers may have no web password: they work from enrolled phones.
            let required = role != Some(Role::Volunteer);
            check_new_account(&state, v, &username, &form.name, &form.password, required, &mut errors)?;
            if role.is_none() {
                errors.insert("role", v.lang.texts().err_role);
            }
            let Some(role) = role.filter(|_| errors.is_empty()) else {
                let typed = NewPerson { username, name: form.name, role: form.role };
                let view = people_page(&state, &commune, typed, errors, None, None)?;
                return Ok(unprocessable(tungnha_web::manage::people(&v.chrome(), &view)));
            };
            let password = (!form.password.is_empty()).then_some(form.password.as_str());
            accounts::user_add(
                state.store(),
                &by,
                &username,
                role,
                Some(commune.id.as_str()),
                Some(form.name.trim()),
                password,
            )?;
            Ok(see_other(&format!("/communes/{}/people?saved=1", url_part(&id))))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, user)): Path<(String, String)>,
    Form(form): Form<PasswordForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let target = managed_person(v, &state, &commune.id, &user)?;
            if form.password.chars().count() < 8 {
                let errors = FormErrors::from([("password", v.lang.texts().err_password_short)]);
                let view = people_page(
                    &state,
                    &commune,
                    NewPerson::default(),
                    FormErrors::new(),
                    Some((user, errors)),
                    None,
                )?;
                return Ok(unprocessable(tungnha_web::manage::people(&v.chrome(), &view)));
            }
            accounts::set_password(state.store(), &by, &target.id, &form.password)?;
            Ok(see_other(&format!("/communes/{}/people?saved=1", url_part(&id))))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

pub(crate) async fn set_active(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, user)): Path<(String, String)>,
    Form(form): Form<ActiveForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let me = v.user()?;
            let target = managed_person(v, &state, &commune.id, &user)?;
            // An official cannot lock themself out by mistake.
            if target.id == me.id {
                return Err(PageError::Forbidden);
            }
            accounts::set_active(state.store(), me.id.as_str(), &target.id, form.active == "true")?;
            Ok(see_other(&format!("/communes/{}/people?saved=1", url_part(&id))))
        })
        .await
}

// ---- catalogue ----

/// The catalogue page of `commune` as stored, with no form failed.
fn catalogue_view(commune: Commune, notice: Option<&'static str>) -> CataloguePage {
    CataloguePage {
        commune_id: commune.id.to_string(),
        topics: commune.catalogue.topics,
        account_kinds: commune.catalogue.account_kinds,
        failed: None,
        typed: Default::default(),
        notice,
        visits_from: commune.visits_from.map(vn_day).unwrap_or_default(),
    }
}

pub(crate) async fn catalogue(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let view = catalogue_view(commune, q.notice(v));
            Ok(tungnha_web::manage::catalogue(&v.chrome(), &view).into_response())
        })
        .await
}

/// Applies a catalogue form (labels by `label.<code>`, and maybe a new entry) to one
/// list, collecting the messages by field.
fn edit_list(
    viewer: &Viewer,
    list: &mut Vec<Entry>,
    fields: &BTreeMap<String, String>,
    errors: &mut FormErrors,
) -> (String, String) {
    let t = viewer.lang.texts();
    for e in list.iter_mut() {
        if let Some(label) = fields.get(&format!("label.{}", e.code)) {
            let label = label.trim();
            if label.is_empty() {
                errors.insert("labels", t.err_required);
            } else if let Some(problem) = text_problem(t, label) {
                errors.insert("labels", problem);
            } else {
                e.label = label.to_owned();
            }
        }
    }
    let code = fields.get("new_code").map(|s| s.trim().to_owned()).unwrap_or_default();
    let label = fields.get("new_label").map(|s| s.trim().to_owned()).unwrap_or_default();
    match (code.is_empty(), label.is_empty()) {
        (true, true) => {}
        (true, false) => {
            errors.insert("new_code", t.err_required);
        }
        (false, _) if !is_code(&code) => {
            errors.insert("new_code", t.err_code);
        }
        (false, _) if list.iter().any(|e| e.code == code) => {
            errors.insert("new_code", t.err_code_taken);
        }
        (false, true) => {
            errors.insert("new_label", t.err_required);
        }
        (false, false) if text_problem(t, &label).is_some() => {
            errors.insert("new_label", text_problem(t, &label).unwrap_or(t.err_too_long));
        }
        (false, false) => list.push(Entry { code: code.clone(), label: label.clone() }),
    }
    (code, label)
}

pub(crate) async fn save_catalogue(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    viewer
        .run(move |v| {
            let fields: BTreeMap<String, String> = fields.into_iter().collect();
            v.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or(""))?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let mut catalogue: Catalogue = commune.catalogue.clone();
            let (name, list) = match fields.get("list").map(String::as_str) {
                Some("account_kinds") => ("account_kinds", &mut catalogue.account_kinds),
                Some("topics") => ("topics", &mut catalogue.topics),
                _ => return Err(PageError::NotFound),
            };
            let mut errors = FormErrors::new();
            let typed = edit_list(v, list, &fields, &mut errors);
            if !errors.is_empty() {
                let view =
                    CataloguePage { failed: Some((name, errors)), typed, ..catalogue_view(commune, None) };
                return Ok(unprocessable(tungnha_web::manage::catalogue(&v.chrome(), &view)));
            }
            organisation::set_catalogue(state.store(), &by, &commune.id, catalogue)?;
            Ok(see_other(&format!("/communes/{}/catalogue?saved=1#{name}", url_part(&id))))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct VisitsFromForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    visits_from: String,
}

pub(crate) async fn save_visits_from(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<VisitsFromForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let Ok(from) = organisation::visits_from_day(&form.visits_from, crate::now_ms()) else {
                let mut errors = FormErrors::new();
                errors.insert("visits_from", v.lang.texts().err_visits_from);
                let view = CataloguePage {
                    failed: Some(("visits_from", errors)),
                    visits_from: form.visits_from.chars().take(20).collect(),
                    ..catalogue_view(commune, None)
                };
                return Ok(unprocessable(tungnha_web::manage::catalogue(&v.chrome(), &view)));
            };
            organisation::set_visits_from(state.store(), &by, &commune.id, from)?;
            Ok(see_other(&format!("/communes/{}/catalogue?saved=1#visits-from", url_part(&id))))
        })
        .await
}

// ---- audit ----

pub(crate) async fn audit(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let events: Vec<AuditLine> = state
                .store
                .audit_events_of(&commune.id, AUDIT_SHOWN)?
                .into_iter()
                .map(|e| AuditLine { at: e.at, by: e.by, action: e.action, detail: e.detail })
                .collect();
            Ok(tungnha_web::manage::audit(&v.chrome(), &events).into_response())
        })
        .await
}

// ---- enrolment, devices ----

#[derive(Debug, Deserialize)]
pub(crate) struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
}

/// The origin devices reach this server at: the configured public URL, else as the
/// browser reached it.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.public_url() {
        return url.to_owned();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.config().secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Draws a QR code of `text` as SVG.
fn qr_svg(text: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(PageError::internal)?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).quiet_zone(true).build())
}

pub(crate) async fn enrol(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let leader = v.with_role(&[Role::Leader])?;
            let member = organisation::team_of(state.store(), &leader.id)?
                .into_iter()
                .find(|u| u.id.as_str() == form.user.trim());
            let Some(member) = member else {
                let t = v.lang.texts();
                let mut view = team_page(&state, &leader.id, None)?;
                view.errors.insert(
                    "user",
                    if form.user.trim().is_empty() { t.err_choose_member } else { t.err_unknown_person },
                );
                return Ok(unprocessable(tungnha_web::dashboard::team(&v.chrome(), &view)));
            };
            // The device reaches only the hamlets the member shares with the leader,
            // whatever else the member is assigned to.
            let within = state.store.assignments_of(&leader.id)?;
            let code = enrolment::mint_code(
                state.store(),
                leader.id.as_str(),
                member.id.as_str(),
                ENROL_CODE_TTL_MS,
                Some(within),
            )?;
            let link = format!("{}/app/enrol?code={code}", origin(&state, &headers));
            let view = EnrolCodePage {
                member: member.name,
                qr_svg: qr_svg(&link)?,
                code,
                link,
                expires_at: crate::now_ms() + ENROL_CODE_TTL_MS,
            };
            // The code is a secret until used: never cached.
            Ok(([(header::CACHE_CONTROL, "no-store")], tungnha_web::manage::enrol_code(&v.chrome(), &view))
                .into_response())
        })
        .await
}

/// The users whose devices the viewer manages: a leader's team, an official's commune,
/// everyone for an administrator.
fn device_owners(state: &AppState, user: &User) -> Result<BTreeMap<UserId, String>, PageError> {
    let users: Vec<User> = match (user.role, &user.commune) {
        (Role::Admin, _) => state.store.all_users()?,
        (Role::Official, Some(c)) => users_of(state, c)?,
        (Role::Leader, _) => organisation::team_of(state.store(), &user.id)?,
        _ => return Err(PageError::Forbidden),
    };
    Ok(users.into_iter().map(|u| (u.id, u.name)).collect())
}

pub(crate) async fn devices(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let user = v.user()?;
            let owners = device_owners(&state, user)?;
            let mut lines: Vec<DeviceLine> = Vec::new();
            for (owner, name) in &owners {
                lines.extend(state.store.devices_of(owner)?.into_iter().map(|d| DeviceLine {
                    id: d.id.to_string(),
                    name: d.name,
                    owner: name.clone(),
                    enrolled_at: d.enrolled_at,
                    last_sync_at: d.last_sync_at,
                    revoked_at: d.revoked_at,
                    final_upload_until: d.final_upload_until,
                }));
            }
            lines.sort_by(|a, b| {
                a.revoked_at
                    .is_some()
                    .cmp(&b.revoked_at.is_some())
                    .then_with(|| collate::compare(&a.owner, &b.owner))
                    .then_with(|| a.enrolled_at.cmp(&b.enrolled_at))
            });
            Ok(tungnha_web::manage::devices(&v.chrome(), &lines, q.notice(v)).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevokeForm {
    #[serde(default)]
    csrf: String,
    /// Ticked: the phone is lost or stolen, so it may not send its unsent work.
    #[serde(default)]
    lost: Option<String>,
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let user = v.user()?;
            let id = DeviceId::parse(&id).map_err(|_| PageError::NotFound)?;
            crate::service::enrolment::revoke_device(state.store(), user, &id, form.lost.is_some())?;
            Ok(see_other("/devices?saved=1"))
        })
        .await
}

// ---- administration ----

fn admin_page(state: &AppState) -> Result<AdminPage, PageError> {
    let mut communes = Vec::new();
    for c in state.store.all_communes()? {
        communes.push(CommuneLine {
            officials: state
                .store
                .users_of(&c.id)?
                .iter()
                .filter(|u| u.role == Role::Official)
                .map(person_ref)
                .collect(),
            hamlets: state.store.hamlets_of(&c.id)?.len(),
            id: c.id.to_string(),
            name: c.name,
        });
    }
    Ok(AdminPage {
        communes,
        kinds: CommuneKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), commune_kind_label(*k).to_owned()))
            .collect(),
        ..AdminPage::default()
    })
}

fn commune_kind_label(kind: CommuneKind) -> &'static str {
    match kind {
        CommuneKind::Xa => "Xã",
        CommuneKind::Phuong => "Phường",
        CommuneKind::DacKhu => "Đặc khu",
    }
}

pub(crate) async fn admin(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            v.with_role(&[Role::Admin])?;
            let view = AdminPage { notice: q.notice(v), ..admin_page(&state)? };
            Ok(tungnha_web::manage::admin(&v.chrome(), &view).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct CommuneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

pub(crate) async fn add_commune(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CommuneForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let me = v.with_role(&[Role::Admin])?;
            let t = v.lang.texts();
            let code = form.code.trim().to_owned();
            let mut errors = FormErrors::new();
            match CommuneId::parse(&code) {
                Err(_) => {
                    errors.insert("code", if code.is_empty() { t.err_required } else { t.err_code });
                }
                Ok(_) if code.contains('.') => {
                    errors.insert("code", t.err_code);
                }
                Ok(id) if state.store.commune(&id)?.is_some() => {
                    errors.insert("code", t.err_commune_taken);
                }
                Ok(_) => {}
            }
            if form.name.trim().is_empty() {
                errors.insert("name", t.err_required);
            } else if let Some(problem) = text_problem(t, &form.name) {
                errors.insert("name", problem);
            }
            let kind = CommuneKind::from_code(&form.kind).unwrap_or(CommuneKind::Xa);
            if !errors.is_empty() {
                let view = AdminPage {
                    commune_form: (code, form.name, form.kind),
                    commune_errors: errors,
                    ..admin_page(&state)?
                };
                return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
            }
            match organisation::commune_add(state.store(), me.id.as_str(), &code, form.name.trim(), kind) {
                Ok(_) => Ok(see_other("/admin?saved=1")),
                // Left over: a code CommuneId accepts but the admin rules do not.
                Err(ServiceError::Invalid(_)) => {
                    let view = AdminPage {
                        commune_form: (code, form.name, form.kind),
                        commune_errors: FormErrors::from([("code", t.err_code)]),
                        ..admin_page(&state)?
                    };
                    Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct OfficialForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn add_official(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<OfficialForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let me = v.with_role(&[Role::Admin])?;
            let username = form.username.trim().to_owned();
            let mut errors = FormErrors::new();
            let commune =
                CommuneId::parse(&form.commune).ok().and_then(|c| state.store.commune(&c).ok().flatten());
            if commune.is_none() {
                errors.insert("commune", v.lang.texts().err_unknown_commune);
            }
            check_new_account(&state, v, &username, &form.name, &form.password, true, &mut errors)?;
            let Some(commune) = commune.filter(|_| errors.is_empty()) else {
                let view = AdminPage {
                    official_form: (form.commune, username, form.name),
                    official_errors: errors,
                    ..admin_page(&state)?
                };
                return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
            };
            accounts::user_add(
                state.store(),
                me.id.as_str(),
                &username,
                Role::Official,
                Some(commune.id.as_str()),
                Some(form.name.trim()),
                Some(&form.password),
            )?;
            Ok(see_other("/admin?saved=1"))
        })
        .await
}
