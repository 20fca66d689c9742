//! Replays the fuzzers' committed corpus (`fuzz/corpus/<target>/`) and every input a
//! fuzzer ever crashed on (`fuzz/regressions/<target>/`) through the same functions
//! the fuzz targets call, on the stable toolchain, as part of the test suite.

use std::path::Path;

/// Panics anywhere in the process, even ones the code under test catches: libFuzzer
/// counts those as crashes too (its panic hook aborts), and so does this replay.
static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn every_corpus_and_regression_input_passes() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
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
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0, "an input made something panic");
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

#[test]
fn the_attack_payloads_are_refused_before_they_cost_anything() {
    use tungnha_client_core::{ActorId, HamletId};
    use tungnha_hostile::attacks;
    let target = tungnha_hostile::SyncTarget::new();
    let hamlet = HamletId::parse(tungnha_hostile::HAMLET).expect("id");
    let actor = ActorId::from(tungnha_hostile::SEED_ACTOR.as_slice());
    assert_eq!(target.sync(&attacks::deflate_bomb()), Err("bad_envelope"));
    assert_eq!(target.sync(&attacks::empty_chunks(&hamlet, 2_000_000)), Err("bad_envelope"));
    let bomb = attacks::carrying(&hamlet, vec![], vec![attacks::op_bomb_chunk(&actor)]);
    assert_eq!(target.sync(&bomb), Err("bad_envelope"));
    let rival = attacks::carrying(&hamlet, vec![], vec![attacks::rival_map(&actor)]);
    assert_eq!(target.sync(&rival), Err("rule_violation"));
    let log = tungnha_client_core::HamletLog::genesis(&hamlet);
    let swamp = attacks::swamp(&log, &actor, &tungnha_hostile::volunteer(), 150, tungnha_hostile::NOW);
    assert_eq!(target.sync(&attacks::carrying(&hamlet, log.heads(), swamp)), Err("rule_violation"));
}

#[test]
fn the_op_bomb_is_stopped_by_the_cost_scan_not_by_luck() {
    use tungnha_client_core::sync::{self, ChangeBudget, DocMessage, Payload};
    use tungnha_client_core::{ActorId, HamletId};
    let actor = ActorId::from(tungnha_hostile::SEED_ACTOR.as_slice());
    let msg = DocMessage {
        keys: Default::default(),
        doc: HamletId::parse(tungnha_hostile::HAMLET).expect("id"),
        heads: vec![],
        payload: Payload::Changes(vec![tungnha_hostile::attacks::op_bomb_chunk(&actor)]),
    };
    let refused = sync::decode_changes(&msg, &mut ChangeBudget::reply()).expect_err("refused");
    assert!(refused.to_string().contains("too many operations"), "{refused}");
    // The bomb is a well-formed change: Automerge would walk every op of it (16 million
    // took 2.3 s here; a trillion, days).
    let small = tungnha_hostile::attacks::ops_chunk(&actor, 1000);
    assert_eq!(automerge::Change::try_from(small.as_slice()).map(|c| c.len()).ok(), Some(1000));
}
