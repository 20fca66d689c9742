//! `GET /api/v1/me`: who the device's user is, the hamlets it holds, the catalogue.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use tungnha_client_core::api::{ErrorBody, Me};

use super::{bearer, blocking};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::routes::Routes;
use crate::service::enrolment;

pub(super) fn router() -> Routes {
    Routes::new().route("/api/v1/me", get(me))
}

/// Who the device's user is, the hamlets it holds and its commune's catalogue.
#[utoipa::path(get, path = "/api/v1/me", tag = "devices", security(("bearer" = [])),
    responses((status = 200, description = "The device's user, hamlets and catalogue", body = Me), (status = 401, description = "No token, or one that is not ours (`unauthenticated`), or a revoked device (`revoked`)", body = ErrorBody), (status = 403, description = "Not this principal's to read (`forbidden`)", body = ErrorBody)))]
pub(super) async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let token = bearer(&headers);
    let me = blocking(move || {
        let (device, user) = enrolment::active(state.store(), token.as_deref())?;
        enrolment::me(state.store(), &device, &user)
    })
    .await?;
    Ok(Json(me))
}
