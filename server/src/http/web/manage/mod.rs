//! The management pages and their forms: assignments and targets, teams, people, the
//! catalogue and the audit log (officials); enrolment codes (leaders); devices and
//! revocation (leaders and officials); communes and officials (administrators); the
//! monthly dossier statistics (officials and province officers).
//!
//! Each POST checks the CSRF token, then the role and scope, then the input. Bad input
//! re-renders the form (422) with the message next to its field and changes nothing;
//! success redirects back (303) with `?saved=1`, so a reload does not post again. Every
//! change goes through a service, which writes the audit log.
//!
//! One file per subject: `assignments`, `teams`, `people`, `catalogue`, `audit`, `devices`,
//! `filing`, `campaigns`, `admin`; the helpers they share are here.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tungnha_client_core::catalogue::{Catalogue, Entry, is_code};
use tungnha_client_core::collate;
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::domain::{CommuneKind, MAX_TEXT_CHARS};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{CommuneId, DeviceId, HamletId, ProvinceId, Role, UserId};
use tungnha_web::FormErrors;
use tungnha_web::layout::url_part;
use tungnha_web::manage::{
    AdminPage, ApiTokenLine, AssignHamlet, AssignmentsPage, AuditLine, CataloguePage, CommuneLine,
    DeviceLine, EnrolCodePage, GIVABLE_ROLES, NewPerson, PeoplePage, PersonLine, PersonRef, ProvinceLine,
};

use super::pages::{managed_commune, team_page};
use super::{Form, PageError, PageResult, Viewer, see_other};
use crate::AppState;
use crate::records::{Commune, User};
use crate::service::ServiceError;
use crate::service::{accounts, enrolment, erasure, organisation};

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

/// What is wrong with a name a form requires (a person's, a team's, a commune's), in
/// the viewer's words: missing, or `text_problem`'s.
fn required_name_problem(t: &tungnha_web::Texts, name: &str) -> Option<&'static str> {
    if name.trim().is_empty() { Some(t.err_required) } else { text_problem(t, name) }
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

mod admin;
mod assignments;
mod audit;
mod campaigns;
mod catalogue;
mod devices;
mod filing;
mod people;
mod teams;

pub(crate) use admin::{
    add_commune, add_official, add_province, add_province_officer, admin, attach_commune, issue_api_token,
    revoke_api_token,
};
pub(crate) use assignments::{add_counter, assign, assignments, set_target};
pub(crate) use audit::audit;
pub(crate) use campaigns::{
    campaign_chip, campaign_line, campaigns_page, close_campaign, open_campaign, roll_over_hamlet,
};
pub(crate) use catalogue::{catalogue, save_catalogue, save_retention, save_visits_from};
pub(crate) use devices::{devices, enrol, revoke};
pub(crate) use filing::{
    commune_filing, import_commune_months, import_province_months, province_filing, record_commune_month,
    record_province_month,
};
pub(crate) use people::{add_person, people, reset_password, set_active};
pub(crate) use teams::{add_team, change_team, team, teams};
