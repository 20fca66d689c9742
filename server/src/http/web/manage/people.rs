//! The people of a commune: adding volunteers, leaders and officials, resetting a
//! password, deactivating and reactivating (officials for their volunteers and
//! leaders; administrators for anyone).

use super::*;

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
pub(super) fn check_new_account(
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
    if let Some(problem) = required_name_problem(t, name) {
        errors.insert("name", problem);
    }
    if (password_required || !password.is_empty()) && password.chars().count() < accounts::MIN_PASSWORD_CHARS
    {
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
            if form.password.chars().count() < accounts::MIN_PASSWORD_CHARS {
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
