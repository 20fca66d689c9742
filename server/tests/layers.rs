//! The server's layers, held by reading its sources: a module imports only from the
//! layers below its own (ARCHITECTURE.md, "server"), no code above `store` names sled,
//! and no service names axum. A new module must be given its layer here.

use std::path::{Path, PathBuf};

/// The layers, top first, by the first part of a module's path under `src/`.
const LAYERS: &[&[&str]] = &[
    &["main", "lib"],
    &["http"],
    &["service"],
    &["state"],
    &["cache"],
    &["store"],
    &["records", "config", "failpoint", "memory"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top module of a source file: `http` for `src/http/web/pages.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The code of a file without its comments (docs may name any layer).
fn code(text: &str) -> String {
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// What is wrong with one source file of module `module`.
fn problems_in(module: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(own) = layer_of(module) else {
        return vec![format!("module `{module}` has no layer in tests/layers.rs")];
    };
    let text = code(text);
    for (i, _) in text.match_indices("crate::") {
        let used: String = text[i + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // Re-exports at the crate root are their own layer's.
        let used = match used.as_str() {
            "AppState" | "now_ms" => "state".to_owned(),
            "Config" => "config".to_owned(),
            _ => used,
        };
        match layer_of(&used) {
            Some(theirs) if theirs < own => {
                problems.push(format!("`{module}` uses `crate::{used}`, a layer above it"))
            }
            Some(_) => {}
            None => problems.push(format!("`crate::{used}` has no layer")),
        }
    }
    if module != "store" && text.contains("sled") {
        problems.push(format!("`{module}` names sled outside `store`"));
    }
    if module == "service" && text.contains("axum") {
        problems.push("a service names axum".to_owned());
    }
    problems
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        for p in problems_in(&module_of(&src, file), &text) {
            problems.push(format!("{}: {p}", file.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(files.len() > 30, "the sources were found ({})", files.len());
}

#[test]
fn the_check_refuses_what_the_layers_forbid() {
    let upward = "use crate::http::web::Viewer;\nfn f(s: &crate::state::AppState) {}";
    assert_eq!(problems_in("service", upward).len(), 1, "a service reaching up to http");
    assert!(problems_in("http", "let db = sled::open(p);").iter().any(|p| p.contains("sled")));
    assert!(problems_in("service", "use axum::Json;").iter().any(|p| p.contains("axum")));
    assert!(problems_in("newthing", "").iter().any(|p| p.contains("no layer")));
    assert!(
        problems_in("http", "// crate::main is only named in a comment\nuse crate::service::sync;")
            .is_empty()
    );
}
