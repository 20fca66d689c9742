//! The teams pages (officials and administrators): a commune's teams with their
//! figures and a form to create one; one team's page to rename or dissolve it, choose
//! its leaders, add and take out members, and give or take back hamlets.

use tungnha_client_core::TeamId;
use tungnha_web::teams::{MemberLine, TeamEditPage, TeamsPage};

use super::*;
use crate::records::Team;
use crate::service::teams;

/// The teams page, with the create form's `typed` name and `errors`.
fn teams_page(
    state: &AppState,
    commune: &Commune,
    typed: String,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Result<TeamsPage, PageError> {
    let data = crate::service::reports::commune_figures(state.store(), &commune.id, false)?;
    let teams = super::super::pages::team_lines(state, &commune.id, &data.hamlets, crate::now_ms())?;
    Ok(TeamsPage { commune_id: commune.id.to_string(), teams, typed, errors, notice })
}

pub(crate) async fn teams(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let view = teams_page(&state, &commune, String::new(), FormErrors::new(), q.notice(v))?;
            Ok(tungnha_web::teams::teams(&v.chrome(), &view).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    lead: Option<String>,
    #[serde(default)]
    hamlet: String,
}

/// What is wrong with a team name typed into a form, in the viewer's words.
fn name_problem(
    state: &AppState,
    t: &tungnha_web::Texts,
    commune: &CommuneId,
    name: &str,
    except: Option<&TeamId>,
) -> Result<Option<&'static str>, PageError> {
    if let Some(problem) = required_name_problem(t, name) {
        return Ok(Some(problem));
    }
    let teams = state.store.teams_of(commune)?;
    Ok(teams::same_name(&teams, name, except).map(|_| t.err_team_name_taken))
}

pub(crate) async fn add_team(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TeamForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            if let Some(problem) = name_problem(&state, v.lang.texts(), &commune.id, &form.name, None)? {
                let mut errors = FormErrors::new();
                errors.insert("name", problem);
                let view = teams_page(&state, &commune, form.name, errors, None)?;
                return Ok(unprocessable(tungnha_web::teams::teams(&v.chrome(), &view)));
            }
            let team = teams::team_add(state.store(), &by, &commune.id, &form.name)?;
            Ok(team_saved(&commune.id, &team.id))
        })
        .await
}

/// Back to a team's page after a change.
fn team_saved(commune: &CommuneId, team: &TeamId) -> Response {
    see_other(&format!("/communes/{}/teams/{}?saved=1", url_part(commune.as_str()), url_part(team.as_str())))
}

/// The team in the path, if it is one of `commune`'s.
fn team_in(state: &AppState, commune: &CommuneId, id: &str) -> Result<Team, PageError> {
    let id = TeamId::parse(id).map_err(|_| PageError::NotFound)?;
    state.store.team(&id)?.filter(|t| &t.commune == commune).ok_or(PageError::NotFound)
}

/// One team's page, with a failed form and what was typed into it.
fn team_page(
    state: &AppState,
    team: &Team,
    failed: Option<(&'static str, FormErrors)>,
    typed: String,
    notice: Option<&'static str>,
) -> Result<TeamEditPage, PageError> {
    let users: BTreeMap<UserId, User> =
        users_of(state, &team.commune)?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let mut members: Vec<MemberLine> = team
        .members
        .iter()
        .filter_map(|m| users.get(m))
        .map(|u| MemberLine { person: person_ref(u), leader: team.is_led_by(&u.id) })
        .collect();
    members.sort_by(|a, b| {
        b.leader.cmp(&a.leader).then_with(|| collate::compare(&a.person.name, &b.person.name))
    });
    let candidates = users
        .values()
        .filter(|u| u.active && matches!(u.role, Role::Volunteer | Role::Leader) && !team.has_member(&u.id))
        .map(person_ref)
        .collect();
    let covered: std::collections::BTreeSet<HamletId> =
        state.store.teams_of(&team.commune)?.into_iter().flat_map(|t| t.hamlets).collect();
    let mut hamlets = Vec::new();
    let mut free_hamlets = Vec::new();
    for h in state.store.hamlets_of(&team.commune)? {
        if team.hamlets.contains(&h.id) {
            hamlets.push((h.id.to_string(), h.name));
        } else if !covered.contains(&h.id) {
            free_hamlets.push((h.id.to_string(), h.name));
        }
    }
    Ok(TeamEditPage {
        commune_id: team.commune.to_string(),
        id: team.id.to_string(),
        name: team.name.clone(),
        members,
        hamlets,
        candidates,
        free_hamlets,
        failed,
        typed,
        notice,
    })
}

pub(crate) async fn team(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, team)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let team = team_in(&state, &commune.id, &team)?;
            let view = team_page(&state, &team, None, String::new(), q.notice(v))?;
            Ok(tungnha_web::teams::team_edit(&v.chrome(), &view).into_response())
        })
        .await
}

pub(crate) async fn change_team(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, team)): Path<(String, String)>,
    Form(form): Form<TeamForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let team = team_in(&state, &commune.id, &team)?;
            let by = v.user()?.id.to_string();
            let t = v.lang.texts();
            let db = state.store();
            let refuse =
                |form_name: &'static str, field: &'static str, message: &'static str, typed: String| {
                    let mut errors = FormErrors::new();
                    errors.insert(field, message);
                    let view = team_page(&state, &team, Some((form_name, errors)), typed, None)?;
                    Ok(unprocessable(tungnha_web::teams::team_edit(&v.chrome(), &view)))
                };
            match form.op.as_str() {
                "rename" => {
                    if let Some(problem) = name_problem(&state, t, &commune.id, &form.name, Some(&team.id))? {
                        return refuse("rename", "name", problem, form.name);
                    }
                    teams::team_rename(db, &by, &team, &form.name)?;
                }
                "dissolve" => {
                    teams::team_dissolve(db, &by, &team)?;
                    return Ok(see_other(&format!("/communes/{}/teams?saved=1", url_part(&id))));
                }
                "member_add" | "lead" => {
                    let lead = form.lead.is_some();
                    match user_in(&state, &commune.id, &form.user)? {
                        None if form.user.trim().is_empty() => {
                            return refuse("member_add", "user", t.err_required, String::new());
                        }
                        Some(u)
                            if u.active
                                && (u.role == Role::Leader || (u.role == Role::Volunteer && !lead)) =>
                        {
                            teams::member_add(db, &by, &team, u.id.as_str(), lead)?;
                        }
                        Some(u) if u.active && u.role == Role::Volunteer => {
                            return refuse("member_add", "user", t.err_not_leader_role, String::new());
                        }
                        _ => return refuse("member_add", "user", t.err_unknown_person, String::new()),
                    }
                }
                "member_remove" => {
                    teams::member_remove(db, &by, &team, &form.user)?;
                }
                "hamlet_add" => {
                    let Some(hamlet) = hamlet_in(&state, &commune.id, &form.hamlet)? else {
                        return refuse("hamlet_add", "hamlet", t.err_unknown_hamlet, String::new());
                    };
                    if teams::covering(db, &hamlet.id, &commune.id)?.is_some_and(|other| other.id != team.id)
                    {
                        return refuse("hamlet_add", "hamlet", t.err_hamlet_taken, String::new());
                    }
                    teams::hamlet_add(db, &by, &team, hamlet.id.as_str())?;
                }
                "hamlet_remove" => {
                    teams::hamlet_remove(db, &by, &team, &form.hamlet)?;
                }
                // A form of no known kind: the page again, with nothing changed.
                _ => {
                    let view = team_page(&state, &team, None, String::new(), None)?;
                    return Ok(unprocessable(tungnha_web::teams::team_edit(&v.chrome(), &view)));
                }
            }
            Ok(team_saved(&commune.id, &team.id))
        })
        .await
}
