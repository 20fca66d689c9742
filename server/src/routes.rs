//! Routes outside the API: the overview page, the health check and Prometheus metrics,
//! and the middleware that counts requests.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tungnha_web::{HamletRow, Overview};

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(overview)).route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn metrics() -> String {
    crate::metrics_handle().render()
}

/// Counts every request by status class.
pub(crate) async fn count_requests(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let class = match response.status().as_u16() {
        200..=299 => "2xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    };
    metrics::counter!("tungnha_requests_total", "status" => class).increment(1);
    response
}

async fn overview(State(state): State<AppState>) -> Response {
    // The materialized coverage: O(hamlets). Still sled reads, so off the executor.
    let rows = tokio::task::spawn_blocking(move || -> Result<Vec<HamletRow>, crate::db::DbError> {
        let mut rows = Vec::new();
        for h in state.db.all_hamlets()? {
            rows.push(HamletRow {
                name: h.name,
                target_households: h.target_households,
                coverage: state.db.coverage(&h.id)?,
            });
        }
        Ok(rows)
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
