//! Routes for machines: the health check and Prometheus metrics, and the middleware
//! that counts requests and the one that sets the security headers of every answer.

use std::sync::OnceLock;

use crate::http::routes::Routes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;

use crate::AppState;

pub(crate) fn router() -> Routes {
    Routes::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn metrics() -> String {
    crate::http::metrics_handle().render()
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

/// The Content-Security-Policy of every answer: everything from this server only, no
/// inline script but the phone app's import map (by its hash), WebAssembly for
/// Automerge, inline `style` attributes (the progress bars' widths) but no inline style
/// sheets, and never inside a frame.
fn content_security_policy() -> &'static HeaderValue {
    static CSP: OnceLock<HeaderValue> = OnceLock::new();
    CSP.get_or_init(|| {
        let scripts = crate::http::assets::inline_script_hashes().join(" ");
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; style-src 'self'; \
             style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
        );
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'"))
    })
}

/// Sets the security headers on every answer: CSP, no framing, no referrer leaving the
/// site, no MIME sniffing, and HSTS when the server is reached over TLS.
pub(crate) async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, content_security_policy().clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if state.secure() {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
