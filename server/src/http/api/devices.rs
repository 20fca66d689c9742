//! `POST /api/v1/enrol` (a code for a device token) and `POST
//! /api/v1/devices/{id}/revoke`.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use tungnha_client_core::DeviceId;
use tungnha_client_core::api::{EnrolRequest, Enrolled, ErrorBody};

use super::{bearer, blocking, json_body, path_id};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::routes::Routes;
use crate::service::ServiceError;
use crate::service::enrolment::{self, WRONG_CODE_DELAY};

pub(super) fn router() -> Routes {
    Routes::new().route("/api/v1/enrol", post(enrol)).route("/api/v1/devices/{id}/revoke", post(revoke))
}

/// Enrols a device with a single-use code: its token (shown once) and actor.
#[utoipa::path(post, path = "/api/v1/enrol", tag = "devices", request_body = EnrolRequest,
    responses(
        (status = 201, description = "Enrolled", body = Enrolled),
        (status = 400, description = "A code that is wrong, used or expired (`bad_enrol_code`), or a malformed body", body = ErrorBody),
        (status = 429, description = "Too many codes are being checked (`too_many_attempts`)", body = ErrorBody)))]
pub(super) async fn enrol(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: EnrolRequest = json_body(bytes)?;
    // An empty name is the owner's to fill in: the device is named after them.
    let name = enrolment::check_device_name(&req.device_name)?;
    // Codes are 50 random bits; guessing is slowed all the same, without locking
    // anyone out: at most `ENROL_CHECKS_AT_ONCE` codes are checked at a time, and a
    // wrong one holds its turn for `WRONG_CODE_DELAY` before it is answered, so the
    // whole server tries at most a few codes a second, however many connections ask.
    let Ok(Ok(turn)) =
        tokio::time::timeout(Duration::from_secs(30), state.enrol_checks.clone().acquire_owned()).await
    else {
        return Err(ServiceError::TooManyAttempts.into());
    };
    let enrolled = blocking(move || enrolment::enrol(state.store(), &req.code, name, crate::now_ms())).await;
    if let Err(ApiError(ServiceError::BadEnrolCode)) = &enrolled {
        tokio::time::sleep(WRONG_CODE_DELAY).await;
    }
    drop(turn);
    Ok((StatusCode::CREATED, Json(enrolled?)).into_response())
}

/// `POST /api/v1/devices/{id}/revoke` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// The device.
    pub device_id: DeviceId,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// `?lost=true`: the device is lost or stolen, so it may not send its unsent work.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct RevokeQuery {
    #[serde(default)]
    lost: bool,
}

/// Revokes a device: its leader's, its commune official's or an administrator's to do.
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", tag = "devices", security(("bearer" = [])),
    params(("id" = String, Path, description = "The device's id"), RevokeQuery),
    responses((status = 200, description = "Revoked (again: the first time stands)", body = Revoked), (status = 401, description = "No token, or one that is not ours (`unauthenticated`), or a revoked device (`revoked`)", body = ErrorBody), (status = 403, description = "Not this principal's to read (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such device (`not_found`)", body = ErrorBody)))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RevokeQuery>,
) -> Result<Json<Revoked>, ApiError> {
    let token = bearer(&headers);
    let out = blocking(move || {
        let (_, user) = enrolment::active(state.store(), token.as_deref())?;
        let id = path_id(&id, DeviceId::parse)?;
        let device = enrolment::revoke_device(state.store(), &user, &id, q.lost)?;
        Ok(Revoked { device_id: device.id, revoked_at: device.revoked_at })
    })
    .await?;
    Ok(Json(out))
}
