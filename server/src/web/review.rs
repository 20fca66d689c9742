//! A hamlet's review of households listed in the field (`/hamlets/{id}/review`).
//!
//! A volunteer may list a household the official's list lacks (up to a day's
//! allowance), and each one counts towards the hamlet's target. Whoever may see the
//! hamlet's households (its leaders, the commune's officials, administrators) sees
//! those nobody has reviewed, and confirms the real ones (kept in the `reviewed` tree)
//! or retires the rest, several at a time. Retiring writes to the hamlet log through
//! `sync::write_on_web`, judged by the same rules as a device's changes; both land in
//! one durable write with their audit event.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tungnha_client_core::coverage::HouseholdStatus;
use tungnha_client_core::{Author, Household, HouseholdId};
use tungnha_web::layout::url_part;
use tungnha_web::review::{ReviewLine, ReviewPage};

use super::pages::names;
use super::{Form, PageError, PageResult, Viewer, see_other, visible_hamlet};
use crate::AppState;
use crate::db::Review;
use crate::records::{AuditEvent, Hamlet};

/// Ids an audit event names before it says how many more there were.
const AUDIT_IDS: usize = 20;

/// A household awaiting review, with its visits and status.
pub(crate) struct Awaiting {
    pub id: HouseholdId,
    pub household: Household,
    pub visits: usize,
    pub status: HouseholdStatus,
}

/// The households of `hamlet` listed in the field (by anyone but an import), neither
/// retired nor confirmed, newest first; and how many were confirmed before. Reads the
/// households only (a hamlet page counts them, a decision checks them); with
/// `with_visits`, each one's visits too, for the review page.
pub(crate) fn awaiting(
    state: &AppState,
    hamlet: &Hamlet,
    with_visits: bool,
) -> Result<(Vec<Awaiting>, usize), PageError> {
    let reviewed = state.db.reviewed(&hamlet.id)?;
    let Some(entry) = state.docs.get(&state.db, &hamlet.id)? else { return Ok((Vec::new(), reviewed.len())) };
    let importer = crate::admin::importer().user;
    let doc = crate::docs::lock(&entry);
    let mut visits: BTreeMap<HouseholdId, usize> = BTreeMap::new();
    if with_visits {
        for v in doc.log.visits().ok.into_values().filter(|v| !v.voided) {
            *visits.entry(v.household).or_default() += 1;
        }
    }
    let mut out: Vec<Awaiting> = doc
        .log
        .households()
        .ok
        .into_iter()
        .filter(|(id, h)| h.created_by != importer && !h.retired && !reviewed.contains_key(id))
        .map(|(id, household)| Awaiting {
            visits: visits.get(&id).copied().unwrap_or(0),
            status: doc.ledger.status(&id),
            id,
            household,
        })
        .collect();
    out.sort_by(|a, b| b.household.created_at.cmp(&a.household.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok((out, reviewed.len()))
}

fn review_page(
    state: &AppState,
    hamlet: &Hamlet,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<ReviewPage, PageError> {
    let (awaiting, confirmed_before) = awaiting(state, hamlet, true)?;
    let names = names(state, awaiting.iter().map(|a| &a.household.created_by));
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
pub(crate) struct DoneQuery {
    #[serde(default)]
    done: String,
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
            let author = Author { user: user.id.clone(), role: user.role };
            let now = crate::now_ms();
            let event = AuditEvent {
                at: now,
                by: user.id.to_string(),
                commune: Some(hamlet.commune.clone()),
                action: "household_merged".into(),
                detail: format!("{} · {twice} → {into}", hamlet.id),
            };
            crate::sync::write_on_web(
                &state,
                &author,
                &hamlet.id,
                now,
                |log| log.merge_household(&author, &twice, &into),
                |write| match write {
                    Some(w) => state.db.commit_review(
                        &hamlet.id,
                        &[],
                        &Review { by: author.user.clone(), at: now },
                        Some(w),
                        &event,
                    ),
                    None => Ok(()),
                },
            )?;
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

/// What a review decides for the households chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Confirm,
    Retire,
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
    // Only households awaiting review: one a colleague dealt with a moment ago, or
    // one an import listed, is refused rather than decided twice.
    let (awaiting, _) = awaiting(state, &hamlet, false)?;
    let open: BTreeSet<&str> = awaiting.iter().map(|a| a.id.as_str()).collect();
    if !chosen.iter().all(|c| open.contains(c)) {
        return refuse(t.err_not_awaiting);
    }
    let ids: Vec<HouseholdId> =
        awaiting.iter().filter(|a| chosen.contains(a.id.as_str())).map(|a| a.id.clone()).collect();
    let now = crate::now_ms();
    let mut named: Vec<&str> = ids.iter().take(AUDIT_IDS).map(HouseholdId::as_str).collect();
    let more = ids.len().saturating_sub(AUDIT_IDS);
    let more_text = format!("+{more}");
    if more > 0 {
        named.push(&more_text);
    }
    let (action, done) = match decision {
        Decision::Confirm => ("households_confirmed", "confirm"),
        Decision::Retire => ("households_retired", "retire"),
    };
    let event = AuditEvent {
        at: now,
        by: user.id.to_string(),
        commune: Some(hamlet.commune.clone()),
        action: action.into(),
        detail: format!("{} · {}: {}", ids.len(), hamlet.id, named.join(", ")),
    };
    let review = Review { by: user.id.clone(), at: now };
    match decision {
        Decision::Confirm => state.db.commit_review(&hamlet.id, &ids, &review, None, &event)?,
        Decision::Retire => {
            let author = Author { user: user.id.clone(), role: user.role };
            crate::sync::write_on_web(
                state,
                &author,
                &hamlet.id,
                now,
                |log| ids.iter().try_for_each(|id| log.retire_household(&author, id)),
                |write| state.db.commit_review(&hamlet.id, &[], &review, write, &event),
            )?;
        }
    }
    Ok(see_other(&format!("/hamlets/{}/review?done={done}", url_part(id))))
}
