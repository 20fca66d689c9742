//! `POST /api/v1/sync`: one envelope in, one envelope out (`service::sync`).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use tungnha_client_core::api::ErrorBody;

use super::{bearer, blocking, body};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::routes::Routes;
use crate::service::enrolment;

pub(super) fn router() -> Routes {
    Routes::new().route("/api/v1/sync", post(sync))
}

/// One sync round: the device's envelope of changes and heads in, the server's out
/// (`docs/PROTOCOL.md`); a refused request keeps nothing.
#[utoipa::path(post, path = "/api/v1/sync", tag = "devices", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A sync envelope"),
    responses(
        (status = 200, description = "The server's envelope", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "A malformed envelope (`bad_envelope`)", body = ErrorBody),
        (status = 422, description = "A change breaks a rule (`rule_violation`, with the rule)", body = ErrorBody),
        (status = 401, description = "No token, or one that is not ours (`unauthenticated`), or a revoked device (`revoked`)", body = ErrorBody), (status = 403, description = "Not this principal's to read (`forbidden`)", body = ErrorBody)))]
pub(super) async fn sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let token = bearer(&headers);
    let bytes = body(bytes)?;
    let synced = blocking(move || {
        let (device, user) = enrolment::authenticate(state.store(), token.as_deref())?;
        crate::service::sync::run(&state, device, &user, &bytes, crate::now_ms())
    })
    .await?;
    metrics::counter!("tungnha_sync_rounds_total").increment(1);
    metrics::counter!("tungnha_changes_merged_total").increment(synced.merged as u64);
    Ok(([(CONTENT_TYPE, "application/octet-stream")], synced.reply).into_response())
}
