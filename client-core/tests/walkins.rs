//! Walk-ins at a one-stop counter: a counter's log holds them and nothing else, a
//! hamlet's log holds none; the server's merge judges them like visits (logged as
//! oneself, corrected by their author, only voided by someone who leads); their
//! figures are their own line, kept by the ledger exactly as a fold computes them.

mod common;

use automerge::ROOT;
use automerge::transaction::Transactable;
use common::*;
use tungnha_client_core::log::LogError;
use tungnha_client_core::rules::RuleViolation;
use tungnha_client_core::sync::{self, SyncError};
use tungnha_client_core::{
    Coverage, CoverageLedger, HamletLog, HouseholdForm, LogView, Role, WalkInForm, WalkInId,
};

fn form(people: u32, filed: u32) -> WalkInForm {
    WalkInForm {
        people,
        topics: vec!["dvc".into()],
        accounts: [("vneid_l1".to_owned(), 1)].into(),
        filed,
        note: Some("Nộp hồ sơ đăng ký khai sinh".into()),
    }
}

/// The counter's log as a device with actor `n` holds it.
fn device(log: &HamletLog, n: u8) -> HamletLog {
    let mut d = log.clone();
    d.set_actor(actor(n));
    d
}

/// Merges what `device` wrote after `base` into `base`, judged for `who`.
fn merge(
    base: &HamletLog,
    device: &HamletLog,
    who: &tungnha_client_core::Author,
) -> Result<HamletLog, RuleViolation> {
    let changes = device.doc().get_changes(&base.heads());
    match sync::merge_checked(&hamlet("quay-1"), base, changes, Some((who, NOW))) {
        Ok(Some(m)) => Ok(m.log),
        Ok(None) => Ok(base.clone()),
        Err(SyncError::Refused { violation, .. }) => Err(violation),
        Err(e) => panic!("unexpected: {e}"),
    }
}

#[test]
fn a_counter_holds_walk_ins_and_a_hamlet_holds_none() {
    let lan = author("lan", Role::Volunteer);
    let mut counter = HamletLog::counter_genesis(&hamlet("quay-1"));
    assert!(counter.is_counter());
    let id = counter.log_walkin(&lan, &form(2, 1), NOW, NOW).expect("logged");
    assert_eq!(counter.walkins().ok[&id].people, 2);
    assert!(matches!(
        counter.add_household(&lan, &HouseholdForm { label: "Số 1".into(), ..Default::default() }, NOW),
        Err(LogError::WrongPlace(_))
    ));
    // Nobody helped is no walk-in.
    assert!(matches!(counter.log_walkin(&lan, &form(0, 0), NOW, NOW), Err(LogError::Refused(_))));
    let (mut hamlet_log, _) = listed_hamlet("kp-1", 1);
    assert!(!hamlet_log.is_counter());
    assert!(matches!(hamlet_log.log_walkin(&lan, &form(1, 0), NOW, NOW), Err(LogError::WrongPlace(_))));
    // Saved and loaded, and checked whole as a new device takes it, it is still a counter's.
    let loaded = sync::load_checked(&hamlet("quay-1"), &counter.save()).expect("a counter's log loads");
    assert!(loaded.is_counter());
    assert_eq!(loaded.walkins().ok.len(), 1);
}

#[test]
fn the_server_judges_walk_ins_like_visits() {
    let base = HamletLog::counter_genesis(&hamlet("quay-1"));
    let (lan, binh, hai) =
        (author("lan", Role::Volunteer), author("binh", Role::Volunteer), author("hai", Role::Leader));
    let mut phone = device(&base, 1);
    let id = phone.log_walkin(&lan, &form(1, 2), NOW, NOW).expect("logged");
    // Logged in someone else's name: refused.
    assert!(matches!(merge(&base, &phone, &binh), Err(RuleViolation::NotAsSelf { what: "walk-in", .. })));
    let server = merge(&base, &phone, &lan).expect("accepted");
    // Another volunteer may not void it; the leader may.
    let mut other = device(&server, 2);
    other.void_walkin(&hai, &id, NOW).expect("the leader's own write");
    assert!(matches!(merge(&server, &other, &binh), Err(RuleViolation::NotYourVisit { .. })));
    let voided = merge(&server, &other, &hai).expect("a leader voids");
    assert!(voided.walkins().ok[&id].voided);
    // A leader may not change what was guided, only void it.
    let people = raw(&server, 3, |tx, doc| {
        let entry = at(doc, &["walkins", id.as_str()]);
        tx.put(&entry, "people", 5i64).expect("put");
    });
    assert!(matches!(merge_raw(&server, people, &hai), Err(RuleViolation::LeaderMayOnlyVoid { .. })));
}

/// The object at `path` from the root of `doc`.
fn at(doc: &automerge::Automerge, path: &[&str]) -> automerge::ObjId {
    use automerge::ReadDoc;
    let mut obj = ROOT;
    for key in path {
        obj = match doc.get(&obj, *key).expect("read") {
            Some((automerge::Value::Object(_), id)) => id,
            other => panic!("{key}: {other:?}"),
        };
    }
    obj
}

/// Changes made with raw Automerge ops on `log` by actor `n`, as a hostile device would.
fn raw(
    log: &HamletLog,
    n: u8,
    write: impl FnOnce(&mut automerge::transaction::Transaction<'_>, &automerge::Automerge),
) -> Vec<automerge::Change> {
    let mut doc = log.doc().clone();
    doc.set_actor(actor(n));
    let before = doc.get_heads();
    let snapshot = doc.clone();
    let mut tx = doc.transaction();
    write(&mut tx, &snapshot);
    tx.commit();
    doc.get_changes(&before)
}

fn merge_raw(
    base: &HamletLog,
    changes: Vec<automerge::Change>,
    who: &tungnha_client_core::Author,
) -> Result<(), RuleViolation> {
    match sync::merge_checked(&hamlet("quay-1"), base, changes, Some((who, NOW))) {
        Ok(_) => Ok(()),
        Err(SyncError::Refused { violation, .. }) => Err(violation),
        Err(e) => panic!("unexpected: {e}"),
    }
}

#[test]
fn nothing_of_the_other_kind_of_place_gets_in() {
    let lan = author("lan", Role::Volunteer);
    // A household crafted into a counter's log.
    let counter = HamletLog::counter_genesis(&hamlet("quay-1"));
    let household = raw(&counter, 1, |tx, doc| {
        let e = tx
            .put_object(at(doc, &["households"]), "hhhhhhhhhhhhhhhh", automerge::ObjType::Map)
            .expect("put");
        tx.put(&e, "label", "Số 1").expect("put");
    });
    assert!(matches!(merge_raw(&counter, household, &lan), Err(RuleViolation::OutsideSchema { .. })));
    // A walk-ins map crafted onto a hamlet's log.
    let (hamlet_log, _) = listed_hamlet("kp-1", 1);
    let walkins = raw(&hamlet_log, 1, |tx, _| {
        tx.put_object(ROOT, "walkins", automerge::ObjType::Map).expect("put");
    });
    assert!(matches!(merge_raw(&hamlet_log, walkins, &lan), Err(RuleViolation::OutsideSchema { .. })));
}

#[test]
fn the_ledger_keeps_walk_ins_as_a_fold_counts_them() {
    let (lan, hai) = (author("lan", Role::Volunteer), author("hai", Role::Leader));
    let mut log = HamletLog::counter_genesis(&hamlet("quay-1"));
    let mut ledger = CoverageLedger::from_log(&log);
    let mut ids: Vec<WalkInId> = Vec::new();
    for i in 0..5 {
        let before = log.heads();
        ids.push(
            log.log_walkin(&lan, &form(1 + i % 3, i % 2), NOW - i64::from(i) * 86_400_000, NOW)
                .expect("logged"),
        );
        ledger.apply(&log, &tungnha_client_core::judge::touched_lenient(&log, &before, &log.heads()));
    }
    let before = log.heads();
    log.void_walkin(&hai, &ids[0], NOW).expect("voided");
    ledger.apply(&log, &tungnha_client_core::judge::touched_lenient(&log, &before, &log.heads()));
    let folded = Coverage::compute(&log);
    assert_eq!(ledger.coverage(), &folded);
    assert_eq!(folded.walkins.count, 4, "the voided one counts for nothing");
    assert_eq!(folded.walkins.people, 2 + 3 + 1 + 2);
    assert_eq!(folded.walkins.filed, 2);
    assert_eq!((folded.visits, folded.registered), (0, 0), "never door-to-door figures");
    assert_eq!(folded.work_per_day.values().map(|d| d.walkins).sum::<u64>(), 4);
    assert_eq!(folded.per_volunteer[&user("lan")].walkins, 4);
    assert_eq!(log.all_walkins().len(), 5);
}
