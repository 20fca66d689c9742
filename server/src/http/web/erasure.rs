//! A household's personal data on the web: an official erases it
//! (`/hamlets/{id}/households/{household}/erase`, with the reason the audit log keeps)
//! or downloads everything stored about it (`…/export.json`), for the person it
//! concerns (`service::erasure`).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tungnha_client_core::HouseholdId;
use tungnha_web::layout::url_part;

use super::{Form, PageError, PageResult, Viewer, see_other, visible_hamlet};
use crate::AppState;
use crate::records::Hamlet;
use crate::service::{ServiceError, access, erasure};

/// The hamlet in the path, and the household, for an official who may erase it.
fn erasable(
    state: &AppState,
    v: &Viewer,
    id: &str,
    household: &str,
) -> Result<(Hamlet, HouseholdId), PageError> {
    let hamlet = visible_hamlet(state, v, id)?;
    if !access::may_erase_household(v.user()?, &hamlet) {
        return Err(PageError::Forbidden);
    }
    let household = HouseholdId::parse(household).map_err(|_| PageError::NotFound)?;
    Ok((hamlet, household))
}

#[derive(Debug, Deserialize)]
pub(crate) struct EraseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Erases a household's personal data; a missing or unfit reason re-renders the
/// household's page with the form open and what was typed.
pub(crate) async fn erase(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, household)): Path<(String, String)>,
    Form(form): Form<EraseForm>,
) -> Response {
    viewer.run(move |v| erase_now(&state, v, &id, &household, &form)).await
}

fn erase_now(state: &AppState, v: &Viewer, id: &str, household: &str, form: &EraseForm) -> PageResult {
    v.check_csrf(&form.csrf)?;
    let (hamlet, hid) = erasable(state, v, id, household)?;
    let by = v.user()?.id.to_string();
    match erasure::erase(state, &by, &hamlet.id, &hid, &form.reason, crate::now_ms()) {
        Ok(()) => {
            // Erased keys leave the store's live files now, not at the next housekeeping.
            state.store.compact_erased().map_err(ServiceError::from)?;
            Ok(see_other(&format!(
                "/hamlets/{}/households/{}?done=erased",
                url_part(hamlet.id.as_str()),
                url_part(hid.as_str())
            )))
        }
        Err(ServiceError::Invalid(i)) if i.field == crate::service::error::Field::Reason => {
            let t = v.lang.texts();
            let mut errors = tungnha_web::layout::FormErrors::new();
            errors.insert("reason", t.erase_reason_needed);
            let typed: String = form.reason.chars().take(200).collect();
            let page = super::pages::household_view(state, v, &hamlet, &hid, None, Some((errors, typed)))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Everything stored about one household, as a JSON file.
pub(crate) async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, household)): Path<(String, String)>,
) -> Response {
    viewer
        .run(move |v| {
            let (hamlet, hid) = erasable(&state, v, &id, &household)?;
            let by = v.user()?.id.to_string();
            let record = erasure::export(&state, &by, &hamlet.id, &hid, crate::now_ms())?;
            let body = serde_json::to_vec_pretty(&record).map_err(PageError::internal)?;
            let disposition = format!("attachment; filename=\"ho-{hid}.json\"");
            Ok((
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response())
        })
        .await
}
