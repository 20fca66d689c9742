//! Replays the fuzzers' committed corpus (`fuzz/corpus/<target>/`) and every input a
//! fuzzer ever crashed on (`fuzz/regressions/<target>/`) through the same functions
//! the fuzz targets call, on the stable toolchain, as part of the test suite.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for (name, target) in tungnha_hostile::TARGETS {
        for folder in ["corpus", "regressions"] {
            let dir = root.join(folder).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
            files.sort();
            for file in files {
                let bytes = std::fs::read(&file).expect("readable");
                target(&bytes);
                replayed += 1;
            }
        }
        assert!(root.join("corpus").join(name).is_dir(), "the {name} target has a seed corpus");
    }
    assert!(replayed >= 12, "only {replayed} inputs replayed");
}

#[test]
fn the_sync_seeds_reach_the_merge_and_the_hostile_one_is_refused() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sync");
    let target = tungnha_hostile::SyncTarget::new();
    let read = |name: &str| std::fs::read(corpus.join(name)).expect("seed");
    assert_eq!(target.sync(&read("honest-plain")), Ok(2), "the honest seed merges, so fuzzing starts deep");
    assert_eq!(target.sync(&read("honest-deflated")), Ok(0), "the same change again is known");
    assert_eq!(target.sync(&read("hostile-rival-map")), Err("rule_violation"));
}
