//! HTTP routes: the overview page and the health check.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tungnha_client_core::Coverage;
use tungnha_web::{HamletRow, Overview};

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(overview)).route("/healthz", get(healthz))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn overview(State(state): State<AppState>) -> Response {
    // Reading and folding whole logs is blocking work: off the executor.
    let rows = tokio::task::spawn_blocking(move || {
        state.hamlets().map(|hamlets| {
            hamlets
                .into_iter()
                .map(|(record, log)| HamletRow {
                    name: record.name,
                    target_households: record.target_households,
                    coverage: Coverage::compute(&log),
                })
                .collect::<Vec<_>>()
        })
    })
    .await;
    match rows {
        Ok(Ok(hamlets)) => tungnha_web::overview(&Overview { hamlets }).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "overview failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "overview task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi máy chủ / server error").into_response()
        }
    }
}
