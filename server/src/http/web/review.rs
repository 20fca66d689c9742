//! A hamlet's review of households listed in the field (`/hamlets/{id}/review`).
//!
//! A volunteer may list a household the official's list lacks (up to a day's
//! allowance), and each one counts towards the hamlet's target. Whoever may see the
//! hamlet's households (its leaders, the commune's officials, administrators) sees
//! those nobody has reviewed, and confirms the real ones (kept in the `reviewed` tree)
//! or retires the rest, several at a time. Retiring writes to the hamlet log through
//! `sync::write_on_web`, judged by the same rules as a device's changes; both land in
//! one durable write with their audit event.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tungnha_client_core::HouseholdId;
use tungnha_web::layout::url_part;
use tungnha_web::review::{ReviewLine, ReviewPage};

use super::{DoneQuery, Form, PageError, PageResult, Viewer, see_other, visible_hamlet};
use crate::AppState;
use crate::records::Hamlet;
use crate::service::review::{self, Decided, Decision, awaiting};

fn review_page(
    state: &AppState,
    hamlet: &Hamlet,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<ReviewPage, PageError> {
    let (awaiting, confirmed_before) = awaiting(state, hamlet, true)?;
    let names =
        crate::service::reports::names(state.store(), awaiting.iter().map(|a| &a.household.created_by))?;
    Ok(ReviewPage {
        hamlet_id: hamlet.id.to_string(),
        hamlet_name: hamlet.name.clone(),
        awaiting: awaiting
            .into_iter()
            .map(|a| ReviewLine {
                id: a.id.to_string(),
                added_by: names
                    .get(&a.household.created_by)
                    .cloned()
                    .unwrap_or_else(|| a.household.created_by.to_string()),
                added_at: a.household.created_at,
                label: a.household.label,
                head: a.household.head,
                members: a.household.members,
                visits: a.visits,
                status: a.status,
            })
            .collect(),
        confirmed_before,
        notice,
        error,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct MergeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    into: String,
}

/// Merges a household listed twice into the entry that stays (`HamletLog::merge_household`,
/// judged like a device's change), audited in the same write.
pub(crate) async fn merge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, household)): Path<(String, String)>,
    super::Form(form): super::Form<MergeForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let hamlet = visible_hamlet(&state, v, &id)?;
            let user = v.user()?;
            let twice = HouseholdId::parse(&household).map_err(|_| PageError::NotFound)?;
            let into = HouseholdId::parse(form.into.trim()).map_err(|_| PageError::Refused)?;
            review::merge(&state, user, &hamlet, &twice, &into)?;
            Ok(see_other(&format!("/hamlets/{}/households/{}", url_part(&id), url_part(into.as_str()))))
        })
        .await
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let hamlet = visible_hamlet(&state, v, &id)?;
            let t = v.lang.texts();
            let notice = match q.done.as_str() {
                "confirm" => Some(t.review_done_confirmed),
                "retire" => Some(t.review_done_retired),
                _ => None,
            };
            let view = review_page(&state, &hamlet, notice, None)?;
            Ok(tungnha_web::review::review(&v.chrome(), &view).into_response())
        })
        .await
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    viewer.run(move |v| decide_now(&state, v, &id, &fields)).await
}

fn decide_now(state: &AppState, v: &Viewer, id: &str, fields: &[(String, String)]) -> PageResult {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, value)| value.as_str());
    v.check_csrf(field("csrf").unwrap_or(""))?;
    let hamlet = visible_hamlet(state, v, id)?;
    let user = v.user()?;
    let chosen: BTreeSet<&str> =
        fields.iter().filter(|(k, _)| k == "household").map(|(_, value)| value.as_str()).collect();
    let t = v.lang.texts();
    let refuse = |error: &'static str| -> PageResult {
        let view = review_page(state, &hamlet, None, Some(error))?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, tungnha_web::review::review(&v.chrome(), &view))
            .into_response())
    };
    if chosen.is_empty() {
        return refuse(t.err_choose_households);
    }
    // The page's two buttons say which; anything else did not come from the page.
    let decision = match field("action") {
        Some("confirm") => Decision::Confirm,
        Some("retire") => Decision::Retire,
        _ => return Err(PageError::BadForm),
    };
    let Ok(chosen) = chosen.iter().map(|c| HouseholdId::parse(c)).collect::<Result<Vec<_>, _>>() else {
        return refuse(t.err_not_awaiting);
    };
    if review::decide(state, user, &hamlet, &chosen, decision)? == Decided::NotAwaiting {
        return refuse(t.err_not_awaiting);
    }
    let done = match decision {
        Decision::Confirm => "confirm",
        Decision::Retire => "retire",
    };
    Ok(see_other(&format!("/hamlets/{}/review?done={done}", url_part(id))))
}
