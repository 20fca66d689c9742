//! Service errors turned into HTTP answers, once: each variant's status, and the JSON
//! body `{code, message, rule?}` of API v1. Internal details never reach the client;
//! 5xx errors are logged here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tungnha_client_core::api::ErrorBody;

use crate::service::ServiceError;

/// The HTTP status of a service error.
pub fn status(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::BadRequest(_) | ServiceError::BadEnvelope(_) => StatusCode::BAD_REQUEST,
        ServiceError::Invalid(_) | ServiceError::Import(_) | ServiceError::RuleViolation { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::Unauthenticated | ServiceError::Revoked => StatusCode::UNAUTHORIZED,
        ServiceError::BadEnrolCode
        | ServiceError::Forbidden(_)
        | ServiceError::ForeignActor(_)
        | ServiceError::NotAssigned(_) => StatusCode::FORBIDDEN,
        ServiceError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ServiceError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Store(_) | ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A service error as an API v1 answer.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status(&e);
        metrics::counter!("tungnha_refusals_total", "code" => e.code()).increment(1);
        let message = if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
            "the server could not complete this request; try again later".to_owned()
        } else {
            e.to_string()
        };
        let (rule, field) = match &e {
            ServiceError::RuleViolation { rule, .. } => (Some((*rule).to_owned()), None),
            ServiceError::Invalid(invalid) => (None, Some(invalid.field.name().to_owned())),
            _ => (None, None),
        };
        (status, Json(ErrorBody { code: e.code().to_owned(), message, rule, field })).into_response()
    }
}
