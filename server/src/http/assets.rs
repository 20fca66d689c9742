//! Serves the phone app at `/app`: the files `build.rs` embedded (our ES modules from
//! `app/src/` and the `@automerge/automerge` package's modules and wasm), the service
//! worker with the list of files it must keep, and the app shell for every page of the
//! app (the enrolment link `/app/enrol?code=…` included).
//!
//! Every file carries the assets' version as its ETag, so a phone that has the current
//! version gets `304 Not Modified`, and the service worker's cache is renamed with it.

use crate::http::routes::Routes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

include!(concat!(env!("OUT_DIR"), "/app_assets.rs"));

/// The shell every page of the app is.
const SHELL: &str = "index.html";

pub(crate) fn router() -> Routes {
    Routes::new()
        .route("/app", get(shell))
        .route("/app/", get(shell))
        .route("/app/enrol", get(shell))
        .route("/app/sw.js", get(service_worker))
        .route("/app/{*path}", get(asset))
}

fn etag() -> HeaderValue {
    HeaderValue::from_str(&format!("\"{ASSETS_VERSION}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn respond(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let tag = etag();
    if headers.get(header::IF_NONE_MATCH) == Some(&tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, tag),
        ],
        body,
    )
        .into_response()
}

fn find(path: &str) -> Option<(&'static str, &'static [u8])> {
    ASSETS.iter().find(|(p, _, _)| *p == path).map(|(_, ct, bytes)| (*ct, *bytes))
}

async fn shell(headers: HeaderMap) -> Response {
    match find(SHELL) {
        Some((ct, bytes)) => respond(&headers, ct, bytes.to_vec()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn asset(headers: HeaderMap, Path(path): Path<String>) -> Response {
    match find(&path).filter(|_| path != SHELL && path != "sw.js") {
        Some((ct, bytes)) => respond(&headers, ct, bytes.to_vec()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The CSP hashes (`'sha256-…'`) of the shell's inline scripts: its import map, which
/// browsers must read before any module loads, so it cannot be a file of its own.
pub(crate) fn inline_script_hashes() -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    let Some((_, shell)) = find(SHELL) else { return Vec::new() };
    let shell = String::from_utf8_lossy(shell);
    let mut hashes = Vec::new();
    for (start, _) in shell.match_indices("<script") {
        let rest = &shell[start..];
        let (Some(open_end), Some(close)) = (rest.find('>'), rest.find("</script>")) else { continue };
        if open_end < close && !rest[..open_end].contains("src=") {
            let digest = sha2::Sha256::digest(&rest.as_bytes()[open_end + 1..close]);
            hashes.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
    }
    hashes
}

/// Every URL the service worker keeps: the shell, every asset, and the icon.
pub fn shell_urls() -> Vec<String> {
    let mut urls = vec!["/app/".to_owned(), "/static/icon.svg".to_owned()];
    urls.extend(
        ASSETS.iter().filter(|(p, _, _)| *p != SHELL && *p != "sw.js").map(|(p, _, _)| format!("/app/{p}")),
    );
    urls
}

async fn service_worker(headers: HeaderMap) -> Response {
    let Some((ct, source)) = find("sw.js") else { return StatusCode::NOT_FOUND.into_response() };
    let list = serde_json::to_string(&shell_urls()).unwrap_or_else(|_| "[]".into());
    let mut body = format!("const VERSION = \"{ASSETS_VERSION}\";\nconst ASSETS = {list};\n").into_bytes();
    body.extend_from_slice(source);
    respond(&headers, ct, body)
}
