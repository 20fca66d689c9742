//! HTTP API v1, one file per resource, each building its own routes: `devices`
//! (enrol, revoke), `me`, `sync`, `coverage`, and `openapi` (the description of them
//! all, generated from their annotations). Each handler reads the bearer
//! token and the body within their bounds, runs a service on a blocking thread, and
//! answers JSON (or the sync envelope); errors answer through `http::error`.

mod coverage;
mod devices;
mod me;
pub mod openapi;
mod sync;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::routes::Routes;
use crate::service::ServiceError;

pub(crate) fn router() -> Routes {
    Routes::new()
        .merge(devices::router())
        .merge(me::router())
        .merge(sync::router())
        .merge(coverage::router())
        .merge(openapi::router())
}

/// Runs a service off the async executor (`http::blocking`), as an API answer.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    super::blocking(f).await.map_err(ApiError)
}

/// A request body within the server's limit.
fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|e| {
        ApiError(match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ServiceError::TooLarge,
            _ => ServiceError::BadRequest(e.body_text()),
        })
    })
}

/// A JSON request body.
fn json_body<T: for<'de> Deserialize<'de>>(bytes: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body(bytes)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError(ServiceError::BadRequest(format!("the request body is not valid: {e}"))))
}

/// The device token of `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// An id from a path, or 400.
fn path_id<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, tungnha_client_core::ids::InvalidId>,
) -> Result<T, ServiceError> {
    parse(text).map_err(|e| ServiceError::BadRequest(e.to_string()))
}
