//! Hostile changes for the schema tests: raw Automerge ops a hostile device may write
//! (`Hostile`, with a proptest strategy), and the change they make on a realistic log.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{Automerge, Change, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use proptest::prelude::*;
use tungnha_client_core::{HamletLog, HouseholdId, Outcome, Role, VisitForm};

use super::*;

/// Two households listed by an official and one guided visit by `u-lan` (actor 7).
pub fn visited_hamlet() -> (HamletLog, Vec<HouseholdId>) {
    let (mut log, households) = listed_hamlet("kp-1", 2);
    let lan = author("u-lan", Role::Volunteer);
    log.set_actor(actor(7));
    let accounts = BTreeMap::from([("vneid_l1".to_owned(), 1)]);
    let form = VisitForm { people: 1, topics: vec!["vneid".into()], accounts, ..Default::default() };
    log.log_visit(&lan, &households[0], Outcome::Guided, &form, NOW, NOW).expect("visit");
    (log, households)
}

/// The change a hostile device (actor 42) makes of `ops` on top of `log` (`base` 0),
/// of its genesis (1, so that what it writes conflicts with what the log holds), or
/// of nothing at all (2, so that its root objects lose to the genesis ones and
/// everything in them is invisible once merged); `rival_root` first puts a map at
/// `households`.
pub fn hostile_changes(log: &HamletLog, ops: &[Hostile], rival_root: bool, base: u8) -> Vec<Change> {
    let mut doc = match base {
        0 => log.doc().clone(),
        1 => HamletLog::genesis(&hamlet("kp-1")).doc().clone(),
        _ => Automerge::new(),
    };
    doc.set_actor(actor(42));
    let base = doc.get_heads();
    let mut tx = doc.transaction();
    let rival = rival_root.then(|| tx.put_object(ROOT, "households", ObjType::Map).expect("put"));
    for op in ops {
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
                tx.put_object(&obj, key, ObjType::List).and_then(|l| tx.insert(&l, 0, "chèn"))
            }
        };
    }
    tx.commit();
    doc.get_changes(&base)
}

/// One raw op a hostile device may write.
#[derive(Debug, Clone)]
pub enum Hostile {
    /// A scalar at a path of keys from the root (`0` picks the rival root map).
    Put(Vec<u8>, u8, u8),
    /// An object of some type at a path.
    Make(Vec<u8>, u8),
    /// A deletion at a path.
    Delete(Vec<u8>),
    /// A text or list insertion into a new object.
    Insert(Vec<u8>),
}

pub const KEYS: &[&str] = &[
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

pub fn value(i: u8, big: u8) -> ScalarValue {
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

pub fn hostile() -> impl Strategy<Value = Hostile> {
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
pub fn walk(doc: &impl ReadDoc, rival: &Option<ObjId>, path: &[u8]) -> (ObjId, String) {
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
