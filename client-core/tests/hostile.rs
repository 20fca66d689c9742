//! Hostile and odd documents: wrong types, missing fields, unknown fields, huge
//! strings, documents that are not hamlet logs at all. Reads skip what they cannot
//! read, with a reason; nothing panics; unknown fields from newer apps are tolerated.

mod common;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use common::*;
use proptest::prelude::*;
use tungnha_client_core::judge::judge;
use tungnha_client_core::log::LogError;
use tungnha_client_core::{Coverage, CoverageLedger, HamletLog, Outcome, Role, VisitForm};

fn not_a_log(doc: Automerge) -> String {
    match HamletLog::from_automerge(doc) {
        Err(LogError::NotAHamletLog(reason)) => reason.to_owned(),
        other => panic!("expected NotAHamletLog, got {other:?}"),
    }
}

#[test]
fn documents_that_are_not_hamlet_logs_are_refused_with_a_reason() {
    assert!(not_a_log(Automerge::new()).contains("no schema version"));
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "schema", 3i64).expect("put");
    tx.commit();
    assert!(not_a_log(doc).contains("newer version"));
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "schema", 1i64).expect("put");
    tx.commit();
    assert!(not_a_log(doc).contains("schema 1"), "a log from before sealing is told apart");
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "schema", 2i64).expect("put");
    tx.put(ROOT, "hamlet", "kp-1").expect("put");
    tx.put_object(ROOT, "households", ObjType::List).expect("put");
    tx.put_object(ROOT, "visits", ObjType::Map).expect("put");
    tx.commit();
    assert!(not_a_log(doc).contains("households"));
    assert!(matches!(HamletLog::load(b"definitely not automerge"), Err(LogError::Corrupt(_))));
}

#[test]
fn malformed_entries_are_skipped_with_reasons_and_unknown_fields_tolerated() {
    let (mut log, households) = listed_hamlet("kp-1", 2);
    let lan = author("u-lan", Role::Volunteer);
    let good = log
        .log_visit(
            &lan,
            &households[0],
            Outcome::Guided,
            &VisitForm { people: 2, ..Default::default() },
            NOW,
            NOW,
        )
        .expect("logged");
    let mut doc = log.doc().clone();
    let visits: ObjId = doc.get(ROOT, "visits").expect("read").expect("visits").1;
    let hhs: ObjId = doc.get(ROOT, "households").expect("read").expect("households").1;
    let mut tx = doc.transaction();
    // A field from a newer app on a good visit.
    let good_obj = tx.get(&visits, good.as_str()).expect("read").expect("visit").1;
    tx.put(&good_obj, "weather", "mưa").expect("put");
    // A visit with no `by`.
    let v = tx.put_object(&visits, "aaaaaaaaaaaaaaaa", ObjType::Map).expect("put");
    tx.put(&v, "household", households[1].as_str()).expect("put");
    tx.put(&v, "at", NOW).expect("put");
    tx.put(&v, "outcome", "guided").expect("put");
    // A visit whose outcome is a number.
    let v = tx.put_object(&visits, "bbbbbbbbbbbbbbbb", ObjType::Map).expect("put");
    tx.put(&v, "household", households[1].as_str()).expect("put");
    tx.put(&v, "by", "u-lan").expect("put");
    tx.put(&v, "at", NOW).expect("put");
    tx.put(&v, "outcome", 7i64).expect("put");
    // A visit that is a string, and one whose key is not an id.
    tx.put(&visits, "cccccccccccccccc", "hello").expect("put");
    tx.put_object(&visits, "../../etc", ObjType::Map).expect("put");
    // A household with a megabyte label (sealed, under no key held here) and one
    // with no label.
    let h = tx.put_object(&hhs, "dddddddddddddddd", ObjType::Map).expect("put");
    tx.put(&h, "label", ScalarValue::Bytes(vec![1; 1 << 20])).expect("put");
    tx.put(&h, "created_by", "u-lan").expect("put");
    tx.put(&h, "created_at", NOW).expect("put");
    let h = tx.put_object(&hhs, "eeeeeeeeeeeeeeee", ObjType::Map).expect("put");
    tx.put(&h, "created_by", ScalarValue::Null).expect("put");
    tx.commit();
    let log = HamletLog::from_automerge(doc).expect("still a hamlet log");

    let visits = log.visits();
    assert_eq!(visits.ok.len(), 1, "only the good visit reads");
    assert!(visits.ok.contains_key(&good), "the unknown field did not spoil it");
    let reasons: Vec<String> = visits.skipped.iter().map(|s| format!("{}: {}", s.key, s.reason)).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("aaaa") && r.contains("“by” is missing")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.starts_with("bbbb") && r.contains("“outcome” is not text")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.starts_with("cccc") && r.contains("not a map")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("not a valid id")), "{reasons:?}");

    let hh = log.households();
    // The huge label reads, as erased (no key opens it; the op check refuses writing
    // it); the label-less one is skipped.
    assert_eq!(hh.ok.len(), 3);
    assert!(
        hh.skipped.iter().any(|s| s.key.starts_with("eeee") && s.reason.contains("label")),
        "{:?}",
        hh.skipped
    );

    let c = Coverage::compute(&log);
    assert_eq!((c.visits, c.people, c.registered, c.covered), (1, 2, 3, 1));
    assert_eq!(CoverageLedger::from_log(&log).coverage(), &c);
}

/// A random raw write somewhere in or around the schema.
#[derive(Debug, Clone)]
enum Raw {
    Put { at: usize, key: usize, value: usize },
    Make { at: usize, key: usize, kind: usize },
    Delete { at: usize, key: usize },
}

const KEYS: &[&str] = &[
    "aaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbb",
    "household",
    "by",
    "at",
    "outcome",
    "topics",
    "accounts",
    "people",
    "voided",
    "label",
    "created_by",
    "created_at",
    "retired",
    "schema",
    "vneid",
    "",
];

fn value(i: usize) -> ScalarValue {
    match i % 9 {
        0 => ScalarValue::Str("guided".into()),
        1 => ScalarValue::Int(-5),
        2 => ScalarValue::Int(NOW),
        3 => ScalarValue::Uint(u64::MAX),
        4 => ScalarValue::Boolean(true),
        5 => ScalarValue::F64(f64::NAN),
        6 => ScalarValue::Null,
        7 => ScalarValue::Str("aaaaaaaaaaaaaaaa".into()),
        _ => ScalarValue::Str("u-lan".into()),
    }
}

fn raw() -> impl Strategy<Value = Raw> {
    prop_oneof![
        (0..8usize, 0..KEYS.len(), 0..9usize).prop_map(|(at, key, value)| Raw::Put { at, key, value }),
        (0..8usize, 0..KEYS.len(), 0..3usize).prop_map(|(at, key, kind)| Raw::Make { at, key, kind }),
        (0..8usize, 0..KEYS.len()).prop_map(|(at, key)| Raw::Delete { at, key }),
    ]
}

/// Every map object in the document, found by walking it.
fn maps(doc: &Automerge) -> Vec<ObjId> {
    let mut out = vec![ROOT];
    let mut i = 0;
    while i < out.len() && out.len() < 64 {
        let obj = out[i].clone();
        for item in doc.map_range(&obj, ..) {
            if let Ok(Some((automerge::Value::Object(ObjType::Map), id))) = doc.get(&obj, item.key.as_ref()) {
                out.push(id);
            }
        }
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_document_makes_reads_coverage_or_rules_panic(writes in proptest::collection::vec(raw(), 1..30)) {
        let (mut log, households) = listed_hamlet("kp-1", 2);
        let lan = author("u-lan", Role::Volunteer);
        log.log_visit(&lan, &households[0], Outcome::Revisit, &VisitForm::default(), NOW, NOW).expect("logged");
        let mut doc = log.doc().clone();
        doc.set_actor(actor(99));
        let before = doc.get_heads();
        for w in &writes {
            let targets = maps(&doc);
            let mut tx = doc.transaction();
            let _ = match w {
                Raw::Put { at, key, value: v } => tx.put(&targets[at % targets.len()], KEYS[*key], value(*v)).map(|_| ()),
                Raw::Make { at, key, kind } => {
                    let kind = [ObjType::Map, ObjType::List, ObjType::Text][*kind];
                    tx.put_object(&targets[at % targets.len()], KEYS[*key], kind).map(|_| ())
                }
                Raw::Delete { at, key } => tx.delete(&targets[at % targets.len()], KEYS[*key]),
            };
            tx.commit();
        }
        let after = doc.get_heads();
        if let Ok(log) = HamletLog::from_automerge(doc) {
            let _ = log.households();
            let _ = log.visits();
            let c = Coverage::compute(&log);
            let ledger = CoverageLedger::from_log(&log);
            prop_assert_eq!(ledger.coverage(), &c);
            let _ = ledger.follow_ups();
            let _ = judge(&log, &before, &after, &lan, NOW);
            let _ = judge(&log, &before, &after, &author("u-lead", Role::Leader), NOW);
        }
    }
}
