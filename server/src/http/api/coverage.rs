//! `GET /api/v1/provinces/{id}/coverage`, `GET /api/v1/communes/{id}/coverage` and
//! `GET /api/v1/hamlets/{id}/coverage`: the figures for province officers', officials'
//! and leaders' devices (`service::reports`); the province's also for the read-only
//! API tokens of that province (`service::api_tokens`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use tungnha_client_core::api::ErrorBody;
use tungnha_client_core::{CommuneId, HamletId, ProvinceId};

use super::{bearer, blocking, path_id};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::routes::Routes;
use crate::service::reports::{self, CommuneReport, HamletReport, ProvinceReport};
use crate::service::{ServiceError, access, api_tokens, enrolment};

pub(super) fn router() -> Routes {
    Routes::new()
        .route("/api/v1/provinces/{id}/coverage", get(province_coverage))
        .route("/api/v1/communes/{id}/coverage", get(commune_coverage))
        .route("/api/v1/hamlets/{id}/coverage", get(hamlet_coverage))
}

/// A province's figures, one entry per commune: for its officers' devices, an
/// administrator's, and the read-only API tokens of that province (its operations centre).
#[utoipa::path(get, path = "/api/v1/provinces/{id}/coverage", tag = "coverage", security(("bearer" = [])),
    params(("id" = String, Path, description = "The province's code")),
    responses((status = 200, description = "The figures", body = ProvinceReport), (status = 401, description = "No token, or one that is not ours (`unauthenticated`), or a revoked device (`revoked`)", body = ErrorBody), (status = 403, description = "Not this principal's to read (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such one (`not_found`)", body = ErrorBody)))]
pub(super) async fn province_coverage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ProvinceReport>, ApiError> {
    let token = bearer(&headers);
    let report = blocking(move || {
        let store = state.store();
        let id = path_id(&id, ProvinceId::parse)?;
        let now = crate::now_ms();
        let window = reports::last_days(now, reports::CHART_DAYS);
        let from = window.first().map_or("", String::as_str);
        let recent = window.get(window.len().saturating_sub(7)).map_or("", String::as_str);
        let figures = match token.as_deref() {
            // A province's own system, by its read-only API token.
            Some(t) if api_tokens::is_api_token(t) => {
                let client = api_tokens::authenticate(store, t)?;
                if !access::token_may_read_province(&client, &id) {
                    return Err(ServiceError::Forbidden("this API token reads another province".into()));
                }
                reports::read_province(store, &id, from, recent, now)?
            }
            token => {
                let (_, user) = enrolment::active(store, token)?;
                reports::province_figures(store, &user, &id, from, recent, now)?
            }
        };
        Ok(ProvinceReport::new(figures))
    })
    .await?;
    Ok(Json(report))
}

/// A hamlet's figures, with each volunteer's and each day's: for its leaders and
/// its commune's officials.
#[utoipa::path(get, path = "/api/v1/hamlets/{id}/coverage", tag = "coverage", security(("bearer" = [])),
    params(("id" = String, Path, description = "The hamlet's id (`commune.code`)")),
    responses((status = 200, description = "The figures", body = HamletReport), (status = 401, description = "No token, or one that is not ours (`unauthenticated`), or a revoked device (`revoked`)", body = ErrorBody), (status = 403, description = "Not this principal's to read (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such one (`not_found`)", body = ErrorBody)))]
pub(super) async fn hamlet_coverage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<HamletReport>, ApiError> {
    let token = bearer(&headers);
    let report = blocking(move || {
        let (_, user) = enrolment::active(state.store(), token.as_deref())?;
        reports::hamlet_report(&state, &user, &path_id(&id, HamletId::parse)?)
    })
    .await?;
    Ok(Json(report))
}

/// A commune's figures, one entry per hamlet and per team: for its officials.
#[utoipa::path(get, path = "/api/v1/communes/{id}/coverage", tag = "coverage", security(("bearer" = [])),
    params(("id" = String, Path, description = "The commune's code")),
    responses((status = 200, description = "The figures", body = CommuneReport), (status = 401, description = "No token, or one that is not ours (`unauthenticated`), or a revoked device (`revoked`)", body = ErrorBody), (status = 403, description = "Not this principal's to read (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such one (`not_found`)", body = ErrorBody)))]
pub(super) async fn commune_coverage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CommuneReport>, ApiError> {
    let token = bearer(&headers);
    let report = blocking(move || {
        let (_, user) = enrolment::active(state.store(), token.as_deref())?;
        let id = path_id(&id, CommuneId::parse)?;
        if !access::may_see_commune(&user, &id) {
            return Err(ServiceError::Forbidden("only the commune’s officials may see its figures".into()));
        }
        reports::commune_report(state.store(), &id, crate::now_ms())
    })
    .await?;
    Ok(Json(report))
}
