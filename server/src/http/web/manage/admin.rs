//! Administration: provinces, communes and their officials, a commune's province, and
//! the read-only API tokens of a province's systems (administrators).

use super::people::check_new_account;
use super::*;

fn admin_page(state: &AppState) -> Result<AdminPage, PageError> {
    let mut provinces = Vec::new();
    let mut names = BTreeMap::new();
    for p in state.store.all_provinces()? {
        provinces.push(ProvinceLine {
            id: p.id.to_string(),
            name: p.name.clone(),
            communes: state.store.communes_of(&p.id)?.len(),
        });
        names.insert(p.id, p.name);
    }
    let mut communes = Vec::new();
    for c in state.store.all_communes()? {
        communes.push(CommuneLine {
            province: c.province.as_ref().and_then(|p| names.get(p).cloned()),
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
    let mut api_tokens: Vec<ApiTokenLine> = state
        .store
        .api_tokens()?
        .into_iter()
        .map(|k| ApiTokenLine {
            province: names.get(&k.province).cloned().unwrap_or_else(|| k.province.to_string()),
            revoked: k.revoked_at.is_some(),
            id: k.id,
            name: k.name,
            created_at: k.created_at,
        })
        .collect();
    api_tokens.sort_by(|a, b| a.revoked.cmp(&b.revoked).then(b.created_at.cmp(&a.created_at)));
    Ok(AdminPage {
        api_tokens,
        provinces,
        communes,
        kinds: CommuneKind::ALL
            .iter()
            .map(|k| (k.code().to_owned(), commune_kind_label(*k).to_owned()))
            .collect(),
        ..AdminPage::default()
    })
}

/// The faults of a new province's or commune's code and name, as typed. `taken`: `None`
/// when the code does not read as an id, else whether it is someone's already (said
/// with `taken_text`).
fn code_and_name(
    t: &tungnha_web::Texts,
    code: &str,
    name: &str,
    taken: Option<bool>,
    taken_text: &'static str,
) -> FormErrors {
    let mut errors = FormErrors::new();
    if code.is_empty() {
        errors.insert("code", t.err_required);
    } else if taken.is_none() || code.contains('.') {
        errors.insert("code", t.err_code);
    } else if taken == Some(true) {
        errors.insert("code", taken_text);
    }
    if let Some(problem) = required_name_problem(t, name) {
        errors.insert("name", problem);
    }
    errors
}

/// The record a form's `field` names, found by `find` (`None` for text that names
/// none); otherwise the fault goes into `errors` under `field`: none named, or
/// `unknown`.
fn named<T>(
    t: &tungnha_web::Texts,
    (field, unknown): (&'static str, &'static str),
    text: &str,
    errors: &mut FormErrors,
    find: impl FnOnce(&str) -> Result<Option<T>, PageError>,
) -> Result<Option<T>, PageError> {
    let text = text.trim();
    let found = find(text)?;
    if found.is_none() {
        errors.insert(field, if text.is_empty() { t.err_required } else { unknown });
    }
    Ok(found)
}

/// The province a form names, if there is one (its fault in `errors` otherwise).
fn named_province(
    state: &AppState,
    t: &tungnha_web::Texts,
    text: &str,
    errors: &mut FormErrors,
) -> Result<Option<ProvinceId>, PageError> {
    named(t, ("province", t.err_unknown_province), text, errors, |s| match ProvinceId::parse(s) {
        Ok(p) => Ok(state.store.province(&p)?.map(|_| p)),
        Err(_) => Ok(None),
    })
}

/// The commune a form names, if there is one (its fault in `errors` otherwise).
fn named_commune(
    state: &AppState,
    t: &tungnha_web::Texts,
    text: &str,
    errors: &mut FormErrors,
) -> Result<Option<CommuneId>, PageError> {
    named(t, ("commune", t.err_unknown_commune), text, errors, |s| match CommuneId::parse(s) {
        Ok(c) => Ok(state.store.commune(&c)?.map(|_| c)),
        Err(_) => Ok(None),
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
    #[serde(default)]
    province: String,
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
            let taken = match CommuneId::parse(&code) {
                Ok(id) => Some(state.store.commune(&id)?.is_some()),
                Err(_) => None,
            };
            let mut errors = code_and_name(t, &code, &form.name, taken, t.err_commune_taken);
            let kind = CommuneKind::from_code(&form.kind).unwrap_or(CommuneKind::Xa);
            let province = form.province.trim().to_owned();
            if !province.is_empty() {
                named_province(&state, t, &province, &mut errors)?;
            }
            if !errors.is_empty() {
                let view = AdminPage {
                    commune_form: (code, form.name, form.kind, province),
                    commune_errors: errors,
                    ..admin_page(&state)?
                };
                return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
            }
            match organisation::commune_add(state.store(), me.id.as_str(), &code, form.name.trim(), kind) {
                Ok(c) => {
                    if !province.is_empty() {
                        organisation::attach_commune(
                            state.store(),
                            me.id.as_str(),
                            c.id.as_str(),
                            &province,
                        )?;
                    }
                    Ok(see_other("/admin?saved=1"))
                }
                // Left over: a code CommuneId accepts but the admin rules do not.
                Err(ServiceError::Invalid(_)) => {
                    let view = AdminPage {
                        commune_form: (code, form.name, form.kind, province),
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
pub(crate) struct ManagerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// Whom a manager form adds, and where.
enum Scope {
    /// An official of this commune.
    Commune(CommuneId),
    /// An officer of this province.
    Province(ProvinceId),
}

/// Adds an official (`province_officer` false) or a province officer from the
/// administrators' page; bad input re-renders the page with 422 and adds no one.
fn add_manager(state: &AppState, v: &Viewer, form: &ManagerForm, province_officer: bool) -> PageResult {
    v.check_csrf(&form.csrf)?;
    let me = v.with_role(&[Role::Admin])?;
    let t = v.lang.texts();
    let username = form.username.trim().to_owned();
    let mut errors = FormErrors::new();
    let scope = if province_officer {
        named_province(state, t, &form.province, &mut errors)?.map(Scope::Province)
    } else {
        named_commune(state, t, &form.commune, &mut errors)?.map(Scope::Commune)
    };
    check_new_account(state, v, &username, &form.name, &form.password, true, &mut errors)?;
    let Some(scope) = scope.filter(|_| errors.is_empty()) else {
        let mut view = admin_page(state)?;
        if province_officer {
            view.officer_form = (form.province.clone(), username, form.name.clone());
            view.officer_errors = errors;
        } else {
            view.official_form = (form.commune.clone(), username, form.name.clone());
            view.official_errors = errors;
        }
        return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
    };
    let (name, password) = (Some(form.name.trim()), Some(form.password.as_str()));
    match scope {
        Scope::Commune(c) => {
            accounts::user_add(
                state.store(),
                me.id.as_str(),
                &username,
                Role::Official,
                Some(c.as_str()),
                name,
                password,
            )?;
        }
        Scope::Province(p) => {
            accounts::province_officer_add(
                state.store(),
                me.id.as_str(),
                &username,
                p.as_str(),
                name,
                password,
            )?;
        }
    }
    Ok(see_other("/admin?saved=1"))
}

pub(crate) async fn add_official(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<ManagerForm>,
) -> Response {
    viewer.run(move |v| add_manager(&state, v, &form, false)).await
}

pub(crate) async fn add_province_officer(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<ManagerForm>,
) -> Response {
    viewer.run(move |v| add_manager(&state, v, &form, true)).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProvinceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

pub(crate) async fn add_province(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<ProvinceForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let me = v.with_role(&[Role::Admin])?;
            let t = v.lang.texts();
            let code = form.code.trim().to_owned();
            let taken = match ProvinceId::parse(&code) {
                Ok(id) => Some(state.store.province(&id)?.is_some()),
                Err(_) => None,
            };
            let errors = code_and_name(t, &code, &form.name, taken, t.err_province_taken);
            if !errors.is_empty() {
                let view = AdminPage {
                    province_form: (code, form.name),
                    province_errors: errors,
                    ..admin_page(&state)?
                };
                return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
            }
            organisation::province_add(state.store(), me.id.as_str(), &code, form.name.trim())?;
            Ok(see_other("/admin?saved=1"))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttachForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    province: String,
}

/// Attaches an existing commune to a province (or moves it to another).
pub(crate) async fn attach_commune(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<AttachForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let me = v.with_role(&[Role::Admin])?;
            let t = v.lang.texts();
            let mut errors = FormErrors::new();
            let commune = named_commune(&state, t, &form.commune, &mut errors)?;
            let province = named_province(&state, t, &form.province, &mut errors)?;
            let (Some(commune), Some(province)) = (commune, province) else {
                let view = AdminPage { attach_errors: errors, ..admin_page(&state)? };
                return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
            };
            organisation::attach_commune(state.store(), me.id.as_str(), commune.as_str(), province.as_str())?;
            Ok(see_other("/admin?saved=1"))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    name: String,
}

/// Issues a read-only API token and shows it, once.
pub(crate) async fn issue_api_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<TokenForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let me = v.with_role(&[Role::Admin])?;
            let t = v.lang.texts();
            let mut errors = FormErrors::new();
            named_province(&state, t, &form.province, &mut errors)?;
            if let Some(problem) = required_name_problem(t, &form.name) {
                errors.insert("name", problem);
            }
            if !errors.is_empty() {
                let view = AdminPage {
                    token_form: (form.province, form.name),
                    token_errors: errors,
                    ..admin_page(&state)?
                };
                return Ok(unprocessable(tungnha_web::manage::admin(&v.chrome(), &view)));
            }
            let (record, token) =
                crate::service::api_tokens::issue(state.store(), me.id.as_str(), &form.province, &form.name)?;
            let page = tungnha_web::manage::api_token_issued(
                &v.chrome(),
                &record.name,
                record.province.as_str(),
                &token,
            );
            // The token is a secret: never cached.
            Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Revokes an API token.
pub(crate) async fn revoke_api_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let me = v.with_role(&[Role::Admin])?;
            crate::service::api_tokens::revoke(state.store(), me.id.as_str(), &id)?;
            Ok(see_other("/admin?saved=1#api-tokens"))
        })
        .await
}
