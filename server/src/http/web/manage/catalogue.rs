//! A commune's catalogue of topics and account kinds, the day it starts recording
//! visits, and how long households' personal data is kept (officials and
//! administrators).

use super::*;

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
        retention: commune.erase_after_days.map(|d| d.to_string()).unwrap_or_default(),
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

/// The catalogue page again, refused (422), with `field`'s message beside it and what
/// was typed there put back by `keep`.
fn refused_setting(
    v: &Viewer,
    commune: Commune,
    field: &'static str,
    message: &'static str,
    keep: impl FnOnce(&mut CataloguePage),
) -> PageResult {
    let mut errors = FormErrors::new();
    errors.insert(field, message);
    let mut view = CataloguePage { failed: Some((field, errors)), ..catalogue_view(commune, None) };
    keep(&mut view);
    Ok(unprocessable(tungnha_web::manage::catalogue(&v.chrome(), &view)))
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
                let typed = form.visits_from.chars().take(20).collect();
                let message = v.lang.texts().err_visits_from;
                return refused_setting(v, commune, "visits_from", message, |view| view.visits_from = typed);
            };
            organisation::set_visits_from(state.store(), &by, &commune.id, from)?;
            Ok(see_other(&format!("/communes/{}/catalogue?saved=1#visits-from", url_part(&id))))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RetentionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    retention: String,
}

/// Sets or clears how many days after its last visit a household's personal data is
/// erased by housekeeping.
pub(crate) async fn save_retention(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RetentionForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let commune = managed_commune(&state, v, &id)?;
            let by = v.user()?.id.to_string();
            let Ok(days) = erasure::retention_days(&form.retention) else {
                let typed = form.retention.chars().take(20).collect();
                let message = v.lang.texts().err_retention;
                return refused_setting(v, commune, "retention", message, |view| view.retention = typed);
            };
            erasure::set_retention(state.store(), &by, &commune.id, days)?;
            Ok(see_other(&format!("/communes/{}/catalogue?saved=1#retention", url_part(&id))))
        })
        .await
}
