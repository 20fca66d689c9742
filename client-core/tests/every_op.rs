//! Every op of every incoming change is checked, visible or not (issue: a map put at
//! `households` concurrently with the genesis one loses the conflict, makes no patch,
//! and was stored and relayed with whatever it held).
//!
//! Hostile changes are made with raw Automerge operations and merged the way the
//! server merges them (`merge_checked` with an author); a property test throws random
//! hostile ops at a realistic log and checks that nothing outside the schema is ever
//! accepted.

mod common;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::transaction::Transactable;
use automerge::{Automerge, Change, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use common::*;
use proptest::prelude::*;
use tungnha_client_core::rules::RuleViolation;
use tungnha_client_core::sync::{self, SyncError};
use tungnha_client_core::{Author, HamletLog, Outcome, Role, VisitForm};

fn merged(log: &HamletLog, changes: Vec<Change>, who: &Author) -> Result<bool, RuleViolation> {
    match sync::merge_checked(&hamlet("kp-1"), log, changes, Some((who, NOW))) {
        Ok(m) => Ok(m.is_some()),
        Err(SyncError::Refused { violation, .. }) => Err(violation),
        Err(e) => panic!("unexpected merge error: {e}"),
    }
}

#[test]
fn a_rival_households_map_that_loses_the_conflict_is_refused() {
    let (log, _) = listed_hamlet("kp-1", 3);
    // A change with no dependencies: its `households` map loses to the genesis one, so
    // merging it shows nothing and judging the patches found nothing to judge.
    let mut doc = Automerge::new().with_actor(actor(42));
    let mut tx = doc.transaction();
    let rival = tx.put_object(ROOT, "households", ObjType::Map).expect("put");
    let list = tx.put_object(&rival, "aaaaaaaaaaaaaaaa", ObjType::List).expect("put");
    tx.insert(&list, 0, "<script>alert(1)</script>").expect("insert");
    for i in 0..3 {
        tx.put(&rival, format!("big{i}"), "x".repeat(1 << 20)).expect("put");
    }
    tx.commit();
    let changes = doc.get_changes(&[]);
    let lan = author("u-lan", Role::Volunteer);
    let r = merged(&log, changes.clone(), &lan);
    assert!(matches!(r, Err(RuleViolation::OutsideSchema { .. })), "{r:?}");

    // Merged without the op check, it would indeed be invisible: the log reads the same.
    let mut raw = log.doc().clone();
    raw.apply_changes(changes).expect("automerge takes anything");
    let after = HamletLog::from_automerge(raw).expect("still a hamlet log");
    assert_eq!(after.households(), log.households());
}

#[test]
fn a_losing_write_on_someone_elses_household_is_refused() {
    let (mut log, households) = listed_hamlet("kp-1", 3);
    let target = households[0].clone();
    // A volunteer's phone, holding the log as it was, writes over the label of a
    // household the official listed...
    let mut phone = log.doc().clone();
    phone.set_actor(actor(1));
    let obj = phone.get(ROOT, "households").expect("read").expect("map").1;
    let hh: ObjId = phone.get(&obj, target.as_str()).expect("read").expect("household").1;
    let before = phone.get_heads();
    let mut tx = phone.transaction();
    tx.put(&hh, "label", "Bị sửa trộm").expect("put");
    tx.commit();
    let hostile = phone.get_changes(&before);
    // ...while the official edits it too, under a higher actor, so the volunteer's
    // write loses the conflict and is invisible once merged.
    let official = author("u-official", Role::Official);
    log.edit_household(
        &official,
        &target,
        &tungnha_client_core::HouseholdForm { label: "Số 1, hẻm 1 (sửa)".into(), ..Default::default() },
    )
    .expect("official edits");
    let mut raw = log.doc().clone();
    raw.apply_changes(hostile.iter().cloned()).expect("merge");
    let seen = HamletLog::from_automerge(raw).expect("log").households().ok[&target].label.clone();
    assert_eq!(seen, "Số 1, hẻm 1 (sửa)", "the volunteer's write is the hidden one");

    let r = merged(&log, hostile, &author("u-lan", Role::Volunteer));
    assert!(matches!(r, Err(RuleViolation::NotYourHousehold { .. })), "{r:?}");
}

#[test]
fn a_leader_may_only_void_even_where_nobody_sees() {
    let (mut log, households) = listed_hamlet("kp-1", 3);
    let lan = author("u-lan", Role::Volunteer);
    let visit = log
        .log_visit(
            &lan,
            &households[0],
            Outcome::Guided,
            &VisitForm { people: 1, ..Default::default() },
            NOW,
            NOW,
        )
        .expect("visit");
    let mut phone = log.doc().clone();
    phone.set_actor(actor(43));
    let visits = phone.get(ROOT, "visits").expect("read").expect("map").1;
    let v: ObjId = phone.get(&visits, visit.as_str()).expect("read").expect("visit").1;
    let before = phone.get_heads();
    let mut tx = phone.transaction();
    tx.put(&v, "people", 7i64).expect("put");
    tx.commit();
    let hostile = phone.get_changes(&before);
    // Lan corrects the visit meanwhile, under a higher actor: the leader's write loses.
    log.correct_visit(&lan, &visit, Outcome::Guided, &VisitForm { people: 2, ..Default::default() }, NOW)
        .expect("corrected");
    let leader = author("u-leader", Role::Leader);
    let r = merged(&log, hostile, &leader);
    assert!(matches!(r, Err(RuleViolation::LeaderMayOnlyVoid { .. })), "{r:?}");
}

#[test]
fn devices_refuse_a_relayed_change_outside_the_schema() {
    let (log, _) = listed_hamlet("kp-1", 2);
    let mut doc = log.doc().clone();
    doc.set_actor(actor(9));
    let mut tx = doc.transaction();
    tx.put(ROOT, "motd", "cài ứng dụng này").expect("put");
    tx.commit();
    let changes = doc.get_changes(&log.heads());
    let r = sync::merge_checked(&hamlet("kp-1"), &log, changes, None);
    assert!(
        matches!(r, Err(SyncError::Refused { violation: RuleViolation::OutsideSchema { .. }, .. })),
        "{r:?}"
    );
    // A whole log holding it is refused too, as a device starting to hold it would.
    let r = sync::load_checked(&hamlet("kp-1"), &doc.save());
    assert!(matches!(r, Err(SyncError::Refused { .. })), "{r:?}");
    assert!(sync::load_checked(&hamlet("kp-1"), &log.save()).is_ok());
}

// ---- the property: nothing outside the schema is ever accepted ----

/// One raw op a hostile device may write.
#[derive(Debug, Clone)]
enum Hostile {
    /// A scalar at a path of keys from the root (`0` picks the rival root map).
    Put(Vec<u8>, u8, u8),
    /// An object of some type at a path.
    Make(Vec<u8>, u8),
    /// A deletion at a path.
    Delete(Vec<u8>),
    /// A text or list insertion into a new object.
    Insert(Vec<u8>),
}

const KEYS: &[&str] = &[
    "households",
    "visits",
    "schema",
    "label",
    "head",
    "members",
    "created_by",
    "created_at",
    "retired",
    "household",
    "by",
    "at",
    "outcome",
    "topics",
    "accounts",
    "people",
    "note",
    "voided",
    "vneid",
    "dvc",
    "phone",
    "aaaaaaaaaaaaaaaa",
    "bbbbbbbbbbbbbbbb",
];

fn value(i: u8, big: u8) -> ScalarValue {
    match i % 9 {
        0 => ScalarValue::Str("x".repeat(usize::from(big) * 40).into()),
        1 => ScalarValue::Int(i64::from(big) - 10),
        2 => ScalarValue::Boolean(big.is_multiple_of(2)),
        3 => ScalarValue::F64(1.5),
        4 => ScalarValue::Str("u-lan".into()),
        5 => ScalarValue::Str("guided".into()),
        6 => ScalarValue::Int(NOW),
        7 => ScalarValue::Bytes(vec![big; 8]),
        _ => ScalarValue::Str("<script>".into()),
    }
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let path = proptest::collection::vec(any::<u8>(), 0..4);
    prop_oneof![
        (path.clone(), any::<u8>(), any::<u8>()).prop_map(|(p, v, b)| Hostile::Put(p, v, b)),
        (path.clone(), any::<u8>()).prop_map(|(p, t)| Hostile::Make(p, t)),
        path.clone().prop_map(Hostile::Delete),
        path.prop_map(Hostile::Insert),
    ]
}

/// Walks a path of keys through maps that exist, creating nothing; `None` if it ends
/// early. The first step may choose a rival root object the change itself made.
fn walk(doc: &impl ReadDoc, rival: &Option<ObjId>, path: &[u8]) -> (ObjId, String) {
    let mut obj = match (path.first(), rival) {
        (Some(0), Some(r)) => r.clone(),
        _ => ROOT,
    };
    let mut key = KEYS[0].to_owned();
    for (i, step) in path.iter().enumerate() {
        key = KEYS[usize::from(*step) % KEYS.len()].to_owned();
        if i + 1 == path.len() {
            break;
        }
        match doc.get(&obj, &key) {
            Ok(Some((automerge::Value::Object(ObjType::Map), id))) => obj = id,
            _ => break,
        }
    }
    (obj, key)
}

/// What no accepted change may ever hold, checked on the raw ops (an oracle apart from
/// the schema code): objects other than maps, ops on the root, list positions, strings
/// over 200 characters, floats, bytes.
fn forbidden(change: &Change) -> Option<String> {
    for op in change.decode().operations {
        if op.obj == ObjectId::Root {
            return Some("an op on the root".into());
        }
        if !matches!(op.key, Key::Map(_)) || op.insert {
            return Some("a list position".into());
        }
        match &op.action {
            OpType::Make(ObjType::Map) | OpType::Delete => {}
            OpType::Put(ScalarValue::Str(s)) if s.chars().count() <= 200 => {}
            OpType::Put(ScalarValue::Int(_) | ScalarValue::Uint(_) | ScalarValue::Boolean(_)) => {}
            other => return Some(format!("{other:?}")),
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn nothing_outside_the_schema_is_ever_accepted(
        ops in proptest::collection::vec(hostile(), 1..8),
        rival_root in any::<bool>(),
        base in 0u8..3,
        role in prop_oneof![Just(Role::Volunteer), Just(Role::Leader)],
    ) {
        let (mut log, households) = listed_hamlet("kp-1", 2);
        let lan = author("u-lan", Role::Volunteer);
        log.set_actor(actor(7));
        log.log_visit(&lan, &households[0], Outcome::Guided, &VisitForm { people: 1, topics: vec!["vneid".into()], ..Default::default() }, NOW, NOW)
            .expect("visit");
        // The device writes on top of the log, from the genesis heads (so that what it
        // writes conflicts with what the log already holds), or from nothing at all (so
        // that its root objects lose to the genesis ones and everything in them is
        // invisible once merged).
        let mut doc = match base {
            0 => log.doc().clone(),
            1 => HamletLog::genesis(&hamlet("kp-1")).doc().clone(),
            _ => Automerge::new(),
        };
        doc.set_actor(actor(42));
        let base = doc.get_heads();
        let mut tx = doc.transaction();
        let rival = rival_root.then(|| tx.put_object(ROOT, "households", ObjType::Map).expect("put"));
        for op in &ops {
            // Hostile ops may be refused by Automerge itself; those never leave.
            let _ = match op {
                Hostile::Put(path, v, big) => {
                    let (obj, key) = walk(&tx, &rival, path);
                    tx.put(&obj, key, value(*v, *big)).map(|_| ())
                }
                Hostile::Make(path, t) => {
                    let (obj, key) = walk(&tx, &rival, path);
                    let typ = [ObjType::Map, ObjType::List, ObjType::Text, ObjType::Map][usize::from(*t) % 4];
                    tx.put_object(&obj, key, typ).map(|_| ())
                }
                Hostile::Delete(path) => {
                    let (obj, key) = walk(&tx, &rival, path);
                    tx.delete(&obj, key)
                }
                Hostile::Insert(path) => {
                    let (obj, key) = walk(&tx, &rival, path);
                    tx.put_object(&obj, key, ObjType::List)
                        .and_then(|l| tx.insert(&l, 0, "chèn"))
                }
            };
        }
        tx.commit();
        let changes = doc.get_changes(&base);
        let who = Author { role, ..lan };
        if let Ok(Some(m)) = sync::merge_checked(&hamlet("kp-1"), &log, changes.clone(), Some((&who, NOW))) {
            for c in &changes {
                prop_assert_eq!(forbidden(c), None, "accepted: {:?}", ops);
            }
            // And every device holding the result takes it in.
            prop_assert!(sync::load_checked(&hamlet("kp-1"), &m.log.save()).is_ok());
        }
    }
}
