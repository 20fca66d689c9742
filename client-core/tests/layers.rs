//! client-core's modules form a DAG (ARCHITECTURE.md, "client-core"), held by reading
//! the sources: each module uses only the modules before it in `ORDER`. A new module
//! must be given its place here.

use std::path::Path;

/// The modules, each allowed to use only those before it.
const ORDER: &[&str] = &[
    "ids",
    "domain",
    "catalogue",
    "collate",
    "sealed",
    "schema",
    "rules",
    "log",
    "judge",
    "check",
    "coverage",
    "api",
    "sync",
    "sled_open",
    "keyfile",
    "store",
    "transport",
    "device",
];

/// What is wrong with the source of `module`.
fn problems_in(module: &str, text: &str) -> Vec<String> {
    let Some(own) = ORDER.iter().position(|m| *m == module) else {
        return vec![format!("module `{module}` has no place in tests/layers.rs")];
    };
    let code: String =
        text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut problems = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let used: String = code[i + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        match ORDER.iter().position(|m| *m == used) {
            Some(theirs) if theirs > own => {
                problems.push(format!("`{module}` uses `{used}`, which comes after it"))
            }
            Some(_) => {}
            // Items re-exported at the crate root (`crate::HamletLog`) are not modules.
            None if used.starts_with(|c: char| c.is_ascii_uppercase()) => {}
            None => problems.push(format!("`crate::{used}` has no place")),
        }
    }
    problems
}

#[test]
fn the_modules_of_the_centre_form_a_dag() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let (module, text) = if path.is_dir() {
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            let mut text = String::new();
            for file in std::fs::read_dir(&path).expect("dir") {
                text.push_str(&std::fs::read_to_string(file.expect("file").path()).expect("read"));
            }
            (name, text)
        } else {
            let name = path.file_stem().expect("stem").to_string_lossy().into_owned();
            if name == "lib" {
                continue;
            }
            (name, std::fs::read_to_string(&path).expect("read"))
        };
        seen += 1;
        problems.extend(problems_in(&module, &text).into_iter().map(|p| format!("{}: {p}", path.display())));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(seen, ORDER.len(), "every module has its place, and every place a module");
}

#[test]
fn the_check_refuses_a_cycle() {
    assert_eq!(problems_in("log", "use crate::coverage::CoverageLedger;").len(), 1);
    assert!(problems_in("coverage", "use crate::log::HamletLog;\nuse crate::HamletLog;").is_empty());
    assert_eq!(problems_in("rules", "// crate::log only in a comment\nuse crate::judge::Touched;").len(), 1);
}
