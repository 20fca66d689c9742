//! The assignments page: who works in which hamlet and where each access comes from
//! (the team covering it, or an assignment of their own), and each hamlet's target of
//! households (officials and administrators).

use super::*;

fn assignments_page(
    state: &AppState,
    commune: &Commune,
    failed: Option<(String, FormErrors)>,
    target_typed: String,
    notice: Option<&'static str>,
) -> Result<AssignmentsPage, PageError> {
    let users: BTreeMap<UserId, User> =
        users_of(state, &commune.id)?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let teams = state.store.teams_of(&commune.id)?;
    let mut hamlets = Vec::new();
    for h in state.store.hamlets_of(&commune.id)? {
        let members =
            state.store.people_of(&h.id)?.iter().filter_map(|u| users.get(u)).map(person_ref).collect();
        let team = teams.iter().find(|t| t.hamlets.contains(&h.id));
        hamlets.push(AssignHamlet {
            members,
            via_team: team
                .map(|t| t.members.iter().filter_map(|u| users.get(u)).map(person_ref).collect())
                .unwrap_or_default(),
            team: team.map(|t| (t.id.to_string(), t.name.clone())),
            counter: h.is_counter(),
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
pub(crate) struct CounterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// Adds a one-stop counter; a bad name re-renders the page with the reason.
pub(crate) async fn add_counter(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CounterForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let t = v.lang.texts();
            let problem = match required_name_problem(t, &form.name) {
                Some(problem) => problem,
                None => match organisation::counter_add(state.store(), &by, &commune.id, &form.name) {
                    Ok(counter) => return Ok(assignments_saved(&id, &counter.id)),
                    // The name is sound: its code is another place's.
                    Err(ServiceError::Invalid(_)) => t.err_counter_taken,
                    Err(e) => return Err(e.into()),
                },
            };
            let errors = FormErrors::from([("name", problem)]);
            let view =
                assignments_page(&state, &commune, Some(("counter".into(), errors)), String::new(), None)?;
            Ok(unprocessable(tungnha_web::manage::assignments(&v.chrome(), &view)))
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
