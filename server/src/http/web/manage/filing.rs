//! The online-filing pages: a commune's (its officials, and its province's officers)
//! and a province's (its officers), each with its months beside the teams' help, a
//! form for one month and an import of the portal's monthly CSV for those who may
//! record them (`access::may_record_filing`).

use tungnha_web::filing::{FilingPage, MonthLine, Typed};

use super::*;
use crate::records::FilingLevel;
use crate::service::error::Field;
use crate::service::filing::{self, MONTHS_SHOWN, MonthRow};
use crate::service::{Invalid, access};

/// Whose filing page: the level its form records, and where it lives.
struct Level {
    level: FilingLevel,
    name: String,
    path: String,
}

/// The commune in the path, if the viewer may read its figures.
fn commune_level(state: &AppState, v: &Viewer, id: &str) -> Result<Level, PageError> {
    let c = super::super::pages::readable_commune(state, v, id)?;
    Ok(Level {
        path: format!("/communes/{}/filing", url_part(c.id.as_str())),
        name: c.name,
        level: FilingLevel::Commune(c.id),
    })
}

/// The province in the path, if the viewer may read its figures.
fn province_level(state: &AppState, v: &Viewer, id: &str) -> Result<Level, PageError> {
    let p = super::super::pages::readable_province(state, v, id)?;
    Ok(Level {
        path: format!("/provinces/{}/filing", url_part(p.id.as_str())),
        name: p.name,
        level: FilingLevel::Province(p.id),
    })
}

fn lines(rows: Vec<MonthRow>) -> Vec<MonthLine> {
    rows.into_iter()
        .map(|r| MonthLine {
            month: r.month,
            recorded: r.recorded,
            helped_filed: r.helped_filed,
            helped_accounts: r.helped_accounts,
        })
        .collect()
}

/// The page of a level, with the forms as typed.
fn page_of(
    state: &AppState,
    v: &Viewer,
    l: &Level,
    typed: Typed,
    errors: FormErrors,
) -> Result<FilingPage, PageError> {
    let t = v.lang.texts();
    let now = crate::now_ms();
    let months = filing::last_months(now, MONTHS_SHOWN);
    let editable = access::may_record_filing(state.store(), v.user()?, &l.level)?;
    let mut view = FilingPage {
        name: l.name.clone(),
        path: l.path.clone(),
        editable,
        typed,
        errors,
        ..FilingPage::default()
    };
    // Months before anything was recorded or helped with are left out (three stay).
    let first = |rows: &[MonthRow]| {
        let first =
            rows.iter().position(|r| r.recorded.is_some() || r.helped_filed > 0).unwrap_or(rows.len());
        first.min(rows.len().saturating_sub(3))
    };
    match &l.level {
        FilingLevel::Commune(c) => {
            let rows = filing::commune_months(state.store(), c, &months)?;
            let from = first(&rows);
            view.months = lines(rows);
            view.months.drain(..from);
        }
        FilingLevel::Province(p) => {
            let f = filing::province_months(state.store(), p, &months)?;
            let from = first(&f.all);
            view.form_level = Some(t.fl_level_province);
            view.levels = vec![
                (t.fl_level_province, lines(f.agencies)),
                (t.fl_level_communes, lines(f.communes_sum)),
                (t.fl_level_all, lines(f.all)),
            ];
            for (_, lines) in &mut view.levels {
                lines.drain(..from);
            }
            view.communes = f.communes.into_iter().map(|(c, rows)| (c.name, lines(rows))).collect();
        }
    }
    // The form starts on last month, the one usually reported.
    if view.typed.month.is_empty() {
        view.typed.month = months.iter().rev().nth(1).cloned().unwrap_or_default();
    }
    Ok(view)
}

fn show(state: &AppState, v: &Viewer, l: &Level, q: &SavedQuery) -> PageResult {
    let mut view = page_of(state, v, l, Typed::default(), FormErrors::new())?;
    view.notice = q.notice(v);
    Ok(tungnha_web::filing::filing(&v.chrome(), &view).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct MonthForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    received: String,
    #[serde(default)]
    online: String,
}

/// Records one month from the form; bad input re-renders it with the reasons.
fn record(state: &AppState, v: &Viewer, l: &Level, form: MonthForm) -> PageResult {
    v.check_csrf(&form.csrf)?;
    let user = v.user()?;
    if !access::may_record_filing(state.store(), user, &l.level)? {
        return Err(PageError::Forbidden);
    }
    let t = v.lang.texts();
    let count = |text: &str| text.trim().replace(['.', ' '], "").parse::<u64>().ok();
    let mut errors = FormErrors::new();
    match (count(&form.received), count(&form.online)) {
        (Some(received), Some(online)) => {
            match filing::record(
                state.store(),
                Some(user),
                l.level.clone(),
                &form.month,
                (received, online),
                crate::now_ms(),
            ) {
                Ok(_) => return Ok(see_other(&format!("{}?saved=1", l.path))),
                Err(ServiceError::Invalid(Invalid { field: Field::Month, .. })) => {
                    errors.insert("month", t.err_month)
                }
                Err(ServiceError::Invalid(_)) => errors.insert("online", t.err_dossiers),
                Err(e) => return Err(e.into()),
            };
        }
        (None, _) => {
            errors.insert("received", t.err_dossiers);
        }
        (_, None) => {
            errors.insert("online", t.err_dossiers);
        }
    }
    let typed = Typed { month: form.month, received: form.received, online: form.online };
    let view = page_of(state, v, l, typed, errors)?;
    Ok(unprocessable(tungnha_web::filing::filing(&v.chrome(), &view)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    csv: String,
}

/// Imports the portal's monthly CSV; a refused file comes back with every bad row.
fn import(state: &AppState, v: &Viewer, l: &Level, form: ImportForm) -> PageResult {
    v.check_csrf(&form.csrf)?;
    let user = v.user()?;
    if !access::may_record_filing(state.store(), user, &l.level)? {
        return Err(PageError::Forbidden);
    }
    match filing::import(state.store(), Some(user), form.csv.as_bytes(), crate::now_ms()) {
        Ok(_) => Ok(see_other(&format!("{}?saved=1", l.path))),
        Err(ServiceError::Import(rows)) => {
            let t = v.lang.texts();
            let mut view = page_of(state, v, l, Typed::default(), FormErrors::new())?;
            view.import_errors = rows
                .iter()
                .map(|r| match r.column.as_str() {
                    "" => format!("{} {}: {}", t.fl_row, r.line, r.reason),
                    column => format!("{} {}, {} “{column}”: {}", t.fl_row, r.line, t.fl_column, r.reason),
                })
                .collect();
            view.csv = form.csv;
            Ok(unprocessable(tungnha_web::filing::filing(&v.chrome(), &view)))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn commune_filing(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer.run(move |v| show(&state, v, &commune_level(&state, v, &id)?, &q)).await
}

pub(crate) async fn record_commune_month(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MonthForm>,
) -> Response {
    viewer.run(move |v| record(&state, v, &commune_level(&state, v, &id)?, form)).await
}

pub(crate) async fn import_commune_months(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ImportForm>,
) -> Response {
    viewer.run(move |v| import(&state, v, &commune_level(&state, v, &id)?, form)).await
}

pub(crate) async fn province_filing(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer.run(move |v| show(&state, v, &province_level(&state, v, &id)?, &q)).await
}

pub(crate) async fn record_province_month(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MonthForm>,
) -> Response {
    viewer.run(move |v| record(&state, v, &province_level(&state, v, &id)?, form)).await
}

pub(crate) async fn import_province_months(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ImportForm>,
) -> Response {
    viewer.run(move |v| import(&state, v, &province_level(&state, v, &id)?, form)).await
}
