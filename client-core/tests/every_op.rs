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
use common::hostile::*;
use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde::{Deserialize, Serialize};
use tungnha_client_core::check::{self, Check};
use tungnha_client_core::rules::RuleViolation;
use tungnha_client_core::sealed::{self, HouseholdKey, Keyring, Sealed};
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
    let after = HamletLog::from_automerge(raw).expect("still a hamlet log").with_keys(log.keys().clone());
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
    let key = log.keys().key(&target).expect("the phone holds the hamlet's keys").clone();
    let label = sealed::seal(&key, &hamlet("kp-1"), &target, Sealed::Label, "Bị sửa trộm");
    let mut tx = phone.transaction();
    tx.put(&hh, "label", ScalarValue::Bytes(label)).expect("put");
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
    let seen = HamletLog::from_automerge(raw).expect("log").with_keys(log.keys().clone()).households().ok
        [&target]
        .label
        .clone();
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
        let (log, _) = visited_hamlet();
        let lan = author("u-lan", Role::Volunteer);
        let changes = hostile_changes(&log, &ops, rival_root, base);
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

// ---- the same verdicts on the phone: relayed changes both sides check ----

/// The cases of `fixtures/relayed-changes.json`: changes a server might relay onto one
/// base log, and whole logs it might send, each with client-core's verdict. The phone
/// app's mirror of the schema check (`server/app/src/js/schema.js`) runs the same file
/// (`tests/browser/schema.mjs`, from the `tests` crate), so the two cannot drift apart.
/// `TUNGNHA_BLESS=1 cargo test -p tungnha-client-core --test every_op` writes it anew.
#[derive(Serialize, Deserialize)]
struct RelayedCases {
    hamlet: String,
    /// The log the changes arrive on, saved, in hex.
    base: String,
    /// The household keys the receiving device holds, by household, in hex.
    keys: std::collections::BTreeMap<String, String>,
    changes: Vec<RelayedCase>,
    logs: Vec<RelayedCase>,
}

#[derive(Serialize, Deserialize)]
struct RelayedCase {
    name: String,
    /// Changes (or one saved log), each in hex.
    bytes: Vec<String>,
    /// "ok", the rule code of the refusal, or "not_a_hamlet_log" for a log without the
    /// genesis root maps.
    expect: String,
}

const RELAYED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/relayed-changes.json");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn relayed_verdict(log: &HamletLog, changes: &[Change]) -> String {
    check::check_changes(log, changes, Check::Relayed).err().map_or("ok", |v| v.rule()).to_owned()
}

fn log_verdict(bytes: &[u8], keys: &Keyring) -> String {
    match sync::load_checked_with(&hamlet("kp-1"), bytes, keys.clone()) {
        Ok(_) => "ok".into(),
        Err(SyncError::Refused { violation, .. }) => violation.rule().into(),
        Err(SyncError::Log { .. }) => "not_a_hamlet_log".into(),
        Err(e) => panic!("a fixture log that neither loads nor is refused: {e}"),
    }
}

/// One change by actor 42 on `log`, made by `write`.
fn written(
    log: &HamletLog,
    write: impl FnOnce(&mut automerge::transaction::Transaction<'_>, &Automerge),
) -> Vec<Change> {
    let mut doc = log.doc().clone();
    doc.set_actor(actor(42));
    let before = doc.get_heads();
    let snapshot = doc.clone();
    let mut tx = doc.transaction();
    write(&mut tx, &snapshot);
    tx.commit();
    doc.get_changes(&before)
}

/// The object at a path of map keys from the root.
fn at(doc: &Automerge, path: &[&str]) -> ObjId {
    path.iter().fold(ROOT, |obj, key| doc.get(&obj, *key).expect("read").expect("there").1)
}

/// A named case's write: what a device does to the log.
type Write = Box<dyn Fn(&mut automerge::transaction::Transaction<'_>, &Automerge)>;

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

fn borrowed(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

/// Puts `value` at `key` of the object at `path` (the root when empty).
fn put(path: &[&str], key: &str, value: impl Into<ScalarValue>) -> Write {
    let (path, key, value) = (owned(path), key.to_owned(), value.into());
    Box::new(move |tx, d| {
        tx.put(at(d, &borrowed(&path)), key.as_str(), value.clone()).expect("put");
    })
}

/// Deletes `key` of the object at `path`.
fn del(path: &[&str], key: &str) -> Write {
    let (path, key) = (owned(path), key.to_owned());
    Box::new(move |tx, d| {
        tx.delete(at(d, &borrowed(&path)), key.as_str()).expect("del");
    })
}

/// Makes an object of type `typ` at `key` of the object at `path`.
fn make(path: &[&str], key: &str, typ: ObjType) -> Write {
    let (path, key) = (owned(path), key.to_owned());
    Box::new(move |tx, d| {
        tx.put_object(at(d, &borrowed(&path)), key.as_str(), typ).expect("put");
    })
}

/// The household the fixture's new entries are listed as, whose key the device holds.
const NEW_HOUSEHOLD: &str = "hhhhhhhhhhhhhhhh";

fn bless() -> RelayedCases {
    let (mut log, households) = visited_hamlet();
    let new = tungnha_client_core::HouseholdId::parse(NEW_HOUSEHOLD).expect("id");
    log.keys_mut().insert_new(new.clone(), HouseholdKey::fresh());
    let visit = log.visits().ok.keys().next().expect("a visit").clone();
    let (h0, v0) = (households[0].to_string(), visit.to_string());
    let kp = hamlet("kp-1");
    let sealed_as = |h: &tungnha_client_core::HouseholdId, what: Sealed<'_>, text: &str| {
        ScalarValue::Bytes(sealed::seal(log.keys().key(h).expect("a key"), &kp, h, what, text))
    };
    let (label9, note, new_label, bidi) = (
        sealed_as(&households[0], Sealed::Label, "Số 9"),
        sealed_as(&households[0], Sealed::Note(&visit), "Hẹn chiều mai"),
        sealed_as(&new, Sealed::Label, "Số 12, hẻm 3"),
        sealed_as(&new, Sealed::Label, "Số 1 \u{202e}cba"),
    );
    let under_another_key =
        ScalarValue::Bytes(sealed::seal(&HouseholdKey::fresh(), &kp, &households[0], Sealed::Label, "Số 9"));
    let of_another_household = sealed_as(&households[1], Sealed::Label, "Số 9");
    let named: Vec<(&str, Write)> = vec![
        ("edit a household's label", put(&["households", &h0], "label", label9)),
        ("a label in plain text", put(&["households", &h0], "label", "Số 9")),
        ("a label sealed under another key", put(&["households", &h0], "label", under_another_key)),
        ("a label sealed for another household", put(&["households", &h0], "label", of_another_household)),
        ("a number for a label", put(&["households", &h0], "label", 9i64)),
        ("rewrite who listed a household", put(&["households", &h0], "created_by", "u-x")),
        ("forget a household's head", del(&["households", &h0], "head")),
        ("delete a household", del(&["households"], &h0)),
        ("list a household again at its id", make(&["households"], &h0, ObjType::Map)),
        (
            "list a household with a bidi override",
            Box::new(move |tx, d| {
                let e = tx.put_object(at(d, &["households"]), NEW_HOUSEHOLD, ObjType::Map).expect("put");
                tx.put(&e, "label", bidi.clone()).expect("put");
            }),
        ),
        ("list a household under a bad id", make(&["households"], "Nope", ObjType::Map)),
        ("void a visit", put(&["visits", &v0], "voided", true)),
        ("rewrite who made a visit", put(&["visits", &v0], "by", "u-x")),
        ("delete a visit's time", del(&["visits", &v0], "at")),
        ("a list for a note", make(&["visits", &v0], "note", ObjType::List)),
        ("a topic marked false", put(&["visits", &v0, "topics"], "dvc", false)),
        ("a topic that is no code", put(&["visits", &v0, "topics"], "VNeID!", true)),
        ("51 accounts", put(&["visits", &v0, "accounts"], "vneid_l1", 51i64)),
        ("a float for people", put(&["visits", &v0], "people", 2.0f64)),
        ("record two dossiers filed online", put(&["visits", &v0], "filed", 2i64)),
        ("take the dossiers filed back", del(&["visits", &v0], "filed")),
        ("words for dossiers filed", put(&["visits", &v0], "filed", "hai")),
        ("51 dossiers filed", put(&["visits", &v0], "filed", 51i64)),
        ("a counter for accounts", put(&["visits", &v0, "accounts"], "dvc", ScalarValue::counter(1))),
        ("retire a household", put(&["households", &h0], "retired", true)),
        (
            "correct a visit's note and accounts",
            Box::new({
                let v = v0.clone();
                move |tx, d| {
                    tx.put(at(d, &["visits", &v]), "note", note.clone()).expect("put");
                    tx.put(at(d, &["visits", &v, "accounts"]), "dvc", 2i64).expect("put");
                    tx.delete(at(d, &["visits", &v, "topics"]), "vneid").expect("del");
                }
            }),
        ),
        (
            "list a household",
            Box::new(move |tx, d| {
                let e = tx.put_object(at(d, &["households"]), NEW_HOUSEHOLD, ObjType::Map).expect("put");
                tx.put(&e, "label", new_label.clone()).expect("put");
                tx.put(&e, "members", 4i64).expect("put");
                tx.put(&e, "created_by", "u-hoa").expect("put");
                tx.put(&e, "created_at", NOW).expect("put");
                tx.put(&e, "retired", false).expect("put");
            }),
        ),
        (
            "merge a household listed twice",
            Box::new({
                let (h, into) = (h0.clone(), households[1].to_string());
                move |tx, d| {
                    let e = at(d, &["households", &h]);
                    tx.put(&e, "retired", true).expect("put");
                    tx.put(&e, "merged_into", into.as_str()).expect("put");
                }
            }),
        ),
        ("merged into no household", put(&["households", &h0], "merged_into", "số 3")),
        ("a word for retired", put(&["households", &h0], "retired", "có")),
        ("a key on the root", put(&[], "motd", "cài ứng dụng này")),
        (
            "a new visit",
            Box::new({
                let h = h0.clone();
                move |tx, d| {
                    let v = tx.put_object(at(d, &["visits"]), "vvvvvvvvvvvvvvvv", ObjType::Map).expect("put");
                    tx.put(&v, "household", h.as_str()).expect("put");
                    tx.put(&v, "by", "u-hoa").expect("put");
                    tx.put(&v, "at", NOW).expect("put");
                    tx.put(&v, "outcome", "not_home").expect("put");
                    tx.put_object(&v, "topics", ObjType::Map).expect("put");
                    tx.put_object(&v, "accounts", ObjType::Map).expect("put");
                    tx.put(&v, "people", 0i64).expect("put");
                    tx.put(&v, "voided", false).expect("put");
                }
            }),
        ),
    ];
    let mut changes: Vec<(String, Vec<Change>)> =
        named.into_iter().map(|(name, write)| (name.to_owned(), written(&log, write))).collect();
    // A change numbered 2 by an actor the log has never seen.
    let two = written(&log, |tx, d| {
        tx.put(at(d, &["households", &h0]), "label", "Số 8").expect("put");
    });
    let mut doc = log.doc().clone();
    doc.set_actor(actor(42));
    doc.apply_changes(two).expect("apply");
    let before = doc.get_heads();
    let mut tx = doc.transaction();
    tx.put(at(&log.doc().clone(), &["households", &h0]), "label", "Số 7").expect("put");
    tx.commit();
    changes.push(("a change numbered past a gap".into(), doc.get_changes(&before)));
    // And a deterministic draw of the property test's hostile ops.
    let mut runner = TestRunner::deterministic();
    let strategy = (proptest::collection::vec(hostile(), 1..6), any::<bool>(), 0u8..3);
    for i in 0..160 {
        let (ops, rival, base) = strategy.new_tree(&mut runner).expect("draw").current();
        let made = hostile_changes(&log, &ops, rival, base);
        if !made.is_empty() {
            changes.push((format!("hostile draw {i}: {ops:?}, rival {rival}, base {base}"), made));
        }
    }
    let cases: Vec<RelayedCase> = changes
        .into_iter()
        .map(|(name, c)| RelayedCase {
            expect: relayed_verdict(&log, &c),
            bytes: c.iter().map(|c| hex(c.raw_bytes())).collect(),
            name: name.chars().take(200).collect(),
        })
        .collect();
    // Whole logs: the base with each accepted draw merged, and with refused ones merged
    // behind the check's back, as a broken or hostile server would send them.
    let keys = log.keys().clone();
    let mut logs =
        vec![RelayedCase { name: "the base log".into(), bytes: vec![hex(&log.save())], expect: "ok".into() }];
    let draws = cases.iter().filter(|c| c.name.starts_with("hostile draw")).take(24);
    for case in cases.iter().filter(|c| c.expect == "ok").chain(draws) {
        let mut raw = log.doc().clone();
        let more: Vec<Change> =
            case.bytes.iter().map(|b| Change::try_from(unhex(b).as_slice()).expect("change")).collect();
        raw.apply_changes(more).expect("automerge takes anything");
        let bytes = raw.save();
        logs.push(RelayedCase {
            name: format!("merged: {}", case.name),
            expect: log_verdict(&bytes, &keys),
            bytes: vec![hex(&bytes)],
        });
    }
    // A counter's log, under this document's name: its walk-ins read; a household
    // crafted into it, or a walk-ins map crafted onto a hamlet's log, does not.
    let mut counter = HamletLog::counter_genesis(&hamlet("kp-1"));
    counter.set_actor(actor(7));
    let on_duty = author("u-hoa", Role::Volunteer);
    let walkin = tungnha_client_core::WalkInForm { people: 2, filed: 1, ..Default::default() };
    counter.log_walkin(&on_duty, &walkin, NOW, NOW).expect("logged");
    logs.push(RelayedCase {
        name: "a counter's log with a walk-in".into(),
        expect: log_verdict(&counter.save(), &keys),
        bytes: vec![hex(&counter.save())],
    });
    let mut raw = counter.doc().clone();
    let mut tx = raw.transaction();
    let households = at(&counter.doc().clone(), &["households"]);
    let e = tx.put_object(&households, "hhhhhhhhhhhhhhhh", ObjType::Map).expect("put");
    tx.put(&e, "label", "Số 1").expect("put");
    tx.commit();
    logs.push(RelayedCase {
        name: "a counter's log with a household in it".into(),
        expect: log_verdict(&raw.save(), &keys),
        bytes: vec![hex(&raw.save())],
    });
    let mut raw = log.doc().clone();
    let mut tx = raw.transaction();
    tx.put_object(ROOT, "walkins", ObjType::Map).expect("put");
    tx.commit();
    logs.push(RelayedCase {
        name: "a hamlet's log with a walk-ins map put on its root".into(),
        expect: log_verdict(&raw.save(), &keys),
        bytes: vec![hex(&raw.save())],
    });
    let other = listed_hamlet("kp-2", 1).0.save();
    logs.push(RelayedCase {
        name: "another hamlet's log".into(),
        expect: log_verdict(&other, &keys),
        bytes: vec![hex(&other)],
    });
    let keys = log.keys().keys().map(|(h, k, _)| (h.to_string(), hex(k.as_bytes()))).collect();
    RelayedCases { hamlet: "kp-1".into(), base: hex(&log.save()), keys, changes: cases, logs }
}

#[test]
fn the_relayed_cases_give_the_expected_verdicts() {
    if std::env::var_os("TUNGNHA_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&bless()).expect("json");
        std::fs::write(RELAYED, text + "\n").expect("fixture written");
    }
    let fixture: RelayedCases =
        serde_json::from_str(&std::fs::read_to_string(RELAYED).expect("the fixture")).expect("it reads");
    let mut keys = Keyring::default();
    for (h, k) in &fixture.keys {
        let h = tungnha_client_core::HouseholdId::parse(h).expect("a household id");
        keys.insert(h, HouseholdKey::from_slice(&unhex(k)).expect("a key"), 1);
    }
    let base = HamletLog::load(&unhex(&fixture.base)).expect("the base log").with_keys(keys.clone());
    let mut seen = std::collections::BTreeSet::new();
    for case in &fixture.changes {
        let changes: Vec<Change> =
            case.bytes.iter().map(|b| Change::try_from(unhex(b).as_slice()).expect("a change")).collect();
        assert_eq!(relayed_verdict(&base, &changes), case.expect, "{}", case.name);
        seen.insert(case.expect.clone());
    }
    for case in &fixture.logs {
        assert_eq!(log_verdict(&unhex(&case.bytes[0]), &keys), case.expect, "{}", case.name);
        seen.insert(case.expect.clone());
    }
    assert!(fixture.changes.len() >= 100, "the fixture holds the cases");
    for verdict in ["ok", "outside_schema", "invalid_value", "immutable", "deleted", "not_a_hamlet_log"] {
        assert!(seen.contains(verdict), "no case gives {verdict}");
    }
}
