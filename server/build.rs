//! Builds the phone app's asset table: our own files from `app/src/` and the parts of
//! the `@automerge/automerge` npm package the browser loads (its ES modules and its
//! wasm). The package is fetched here with `npm ci` when it is missing, so the README's
//! commands set everything up on a fresh machine; the files are then embedded in the
//! server binary, which serves the app with no network and no files beside it.
//!
//! Output: `$OUT_DIR/app_assets.rs`, an `ASSETS` table of (URL path under `/app/`,
//! content type, bytes) and `ASSETS_VERSION`, a hash of them all, which names the
//! service worker's cache.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

const AUTOMERGE: &str = "node_modules/@automerge/automerge";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let app = manifest.join("app");
    println!("cargo:rerun-if-changed=app/package-lock.json");
    // A checkout that shares a target directory, or was moved, may lack the packages
    // the last build installed: their absence must rerun this script.
    println!("cargo:rerun-if-changed=app/{AUTOMERGE}/package.json");
    println!("cargo:rerun-if-changed=app/src");
    ensure_npm_packages(&app);

    let mut assets: Vec<(String, PathBuf)> = Vec::new();
    collect(&app.join("src"), &app.join("src"), "", &mut assets);
    let dist = app.join(AUTOMERGE).join("dist");
    collect(&dist.join("mjs"), &dist.join("mjs"), "vendor/automerge/mjs/", &mut assets);
    // The browser needs only the web build of the wasm bindings, and the wasm itself.
    assets.retain(|(url, _)| {
        !url.starts_with("vendor/automerge/mjs/wasm_bindgen_output/")
            || url == "vendor/automerge/mjs/wasm_bindgen_output/web/automerge_wasm.js"
    });
    assets.retain(|(url, _)| {
        !url.starts_with("vendor/automerge/mjs/entrypoints/") || url.ends_with("/slim.js")
    });
    assets.push(("vendor/automerge/automerge.wasm".into(), dist.join("automerge.wasm")));
    assets.sort();

    let mut hasher = DefaultHasher::new();
    let mut table = String::from("/// The phone app's files: (path under /app/, content type, bytes).\n");
    table.push_str("pub static ASSETS: &[(&str, &str, &[u8])] = &[\n");
    for (url, path) in &assets {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        url.hash(&mut hasher);
        bytes.hash(&mut hasher);
        // Relative to the package, so the table stays right wherever it is built.
        let rel =
            path.strip_prefix(&manifest).expect("under the package").to_string_lossy().replace('\\', "/");
        let _ = writeln!(
            table,
            "    ({url:?}, {:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),",
            content_type(url),
            format!("/{rel}")
        );
    }
    table.push_str("];\n");
    let _ = writeln!(table, "/// A hash of every asset: the service worker's cache name changes with it.");
    let _ = writeln!(table, "pub const ASSETS_VERSION: &str = \"{:016x}\";", hasher.finish());
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("app_assets.rs");
    std::fs::write(out, table).expect("write the asset table");
}

/// Runs `npm ci` when the pinned packages are not installed yet.
fn ensure_npm_packages(app: &Path) {
    let installed = app.join(AUTOMERGE).join("package.json");
    let lock = app.join("package-lock.json");
    let fresh = match (std::fs::metadata(&installed), std::fs::metadata(&lock)) {
        (Ok(i), Ok(l)) => i.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(app)
        .status()
        .unwrap_or_else(|e| {
            panic!("the phone app needs npm to fetch @automerge/automerge (apt-get install npm): {e}")
        });
    assert!(status.success(), "npm ci in {} failed", app.display());
    // npm ci keeps the package's own mtime; mark the install as newer than the lock.
    let _ = std::fs::File::options()
        .append(true)
        .open(&installed)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
}

fn collect(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, prefix, out);
        } else if !path.extension().is_some_and(|e| e == "ts" || e == "map") {
            let rel = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
            out.push((format!("{prefix}{rel}"), path));
        }
    }
}

fn content_type(url: &str) -> &'static str {
    match url.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webmanifest") => "application/manifest+json",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
