//! A hamlet log rolled over to its successor at the end of a campaign: households carry
//! over as they are, visits stay behind, and a device that wrote on the old log while
//! offline carries what the server never confirmed onto the successor, with the same
//! ids, in changes the server accepts, and nothing twice. And a device's seal, which
//! squashes its unsent run onto a copy taken before it instead of forking the log.

mod common;

use common::*;
use tungnha_client_core::sync::{self, DocMessage, Envelope, KeyMessage, Payload, Replica};
use tungnha_client_core::{HamletLog, HouseholdForm, Outcome, Role};

/// The server's answer to a device still on the old log: the successor, whole, with
/// every key event (numbered, as the server stores them).
fn successor_answer(doc: &tungnha_client_core::HamletId, next: &mut HamletLog) -> Envelope {
    next.keys_mut().number_new();
    let (keys, erased) = next.keys().since(0);
    Envelope {
        docs: vec![DocMessage {
            doc: doc.clone(),
            heads: next.heads(),
            payload: Payload::Snapshot(next.save()),
            keys: KeyMessage { seq: next.keys().seq(), keys, erased },
        }],
        ..Envelope::default()
    }
}

#[test]
fn a_successor_keeps_the_households_and_leaves_the_visits() {
    let h = hamlet("kp-1");
    let (mut log, households) = listed_hamlet("kp-1", 30);
    let who = author("u-tnv", Role::Volunteer);
    for (i, id) in households.iter().take(10).enumerate() {
        let (outcome, form) = realistic_visit(i);
        log.log_visit(&who, id, outcome, &form, NOW - 1_000 + i as i64, NOW).expect("visit");
    }
    let next = log.successor(actor(201), None).expect("successor");
    assert_eq!((log.generation(), next.generation()), (0, 1));
    assert_eq!(next.hamlet(), &h);
    assert_eq!(next.households().ok, log.households().ok, "every household as it was, sealed fields open");
    assert!(next.visits().ok.is_empty(), "visits stay in the old log");
    // Its changes share nothing with the old log's, so the two never merge.
    assert!(
        next.doc().get_changes(&[]).iter().all(|c| log.doc().get_change_meta_by_hash(&c.hash()).is_none())
    );
    // A device loads it whole as it loads any log, every op checked.
    let loaded = sync::load_checked_with(&h, &next.save(), next.keys().clone()).expect("loads checked");
    assert_eq!(loaded.generation(), 1);
    assert_eq!(loaded.households().ok.len(), 30);
    // And the generation after that.
    assert_eq!(next.successor(actor(202), None).expect("again").generation(), 2);
}

#[test]
fn a_compaction_keeps_the_visits_made_since_its_cutoff() {
    let h = hamlet("kp-4");
    let (mut log, households) = listed_hamlet("kp-4", 10);
    let who = author("u-tnv", Role::Volunteer);
    let mut made = Vec::new();
    for (i, id) in households.iter().enumerate() {
        let (outcome, form) = realistic_visit(i);
        made.push(
            log.log_visit(&who, id, outcome, &form, NOW - 10_000 + 1_000 * i as i64, NOW).expect("visit"),
        );
    }
    let cutoff = NOW - 5_000;
    let next = log.successor(actor(201), Some(cutoff)).expect("successor");
    let kept = next.visits().ok;
    assert_eq!(kept.len(), 5, "the visits at or after the cutoff, no others");
    for id in &made[5..] {
        assert_eq!(kept[id], log.visits().ok[id], "kept as they were, notes open");
    }
    let loaded = sync::load_checked_with(&h, &next.save(), next.keys().clone()).expect("loads checked");
    assert_eq!(loaded.visits().ok.len(), 5);
    let mut history = tungnha_client_core::History::default();
    assert_eq!(history.add(&log, Some(cutoff)), (5, 0), "the history takes the others");
    assert!(made[..5].iter().all(|id| history.visits.contains_key(id) && history.visits[id].note.is_none()));
}

#[test]
fn a_device_offline_across_the_rollover_carries_its_work_over_once() {
    let h = hamlet("kp-2");
    let (server_log, households) = listed_hamlet("kp-2", 20);
    let who = author("u-tnv", Role::Volunteer);
    let mut phone = Replica::new(actor(7));
    let shared = [("server".to_owned(), server_log.heads())].into();
    phone.restore(h.clone(), server_log.clone(), server_log.heads(), shared);

    // One visit reaches the server before the rollover; its answer is lost.
    let log = phone.log_mut(&h).expect("held");
    let (outcome, form) = realistic_visit(0);
    let sent_visit = log.log_visit(&who, &households[0], outcome, &form, NOW - 5_000, NOW).expect("visit");
    let request = phone.request("server");
    let changes =
        sync::decode_changes(&request.docs[0], &mut sync::ChangeBudget::request()).expect("changes");
    let merged = sync::merge_checked(&h, &server_log, changes, Some((&who, NOW))).expect("ok").expect("new");
    let server_log = merged.log;

    // Offline, the volunteer lists a household, visits it, and visits another.
    let log = phone.log_mut(&h).expect("held");
    let form =
        HouseholdForm {
            label: "Số 9, ngõ 4".into(), head: Some("Trần Thị Mai".into()), members: Some(3)
        };
    let listed = log.add_household(&who, &form, NOW - 3_000).expect("household");
    let (outcome, visit_form) = realistic_visit(1);
    let v1 = log.log_visit(&who, &listed, outcome, &visit_form, NOW - 2_000, NOW).expect("visit");
    let v2 = log
        .log_visit(&who, &households[3], Outcome::NotHome, &Default::default(), NOW - 1_000, NOW)
        .expect("visit");
    let old = phone.log(&h).expect("held").clone();

    // Meanwhile the campaign closes and the server rolls the hamlet over.
    let mut next = server_log.successor(actor(201), None).expect("successor");
    let absorbed = phone.absorb("server", &successor_answer(&h, &mut next)).expect("absorbed");
    assert!(absorbed[&h].whole);
    let held = phone.log(&h).expect("held");
    assert_eq!(held.generation(), 1, "the phone holds the successor");
    assert_eq!(held.households().ok[&listed], old.households().ok[&listed], "its household, same id");
    let visits = held.visits().ok;
    assert_eq!(visits.len(), 3, "every visit the server never confirmed, and only those: {visits:?}");
    for v in [&sent_visit, &v1, &v2] {
        assert_eq!(visits[v], old.visits().ok[v], "same id, same visit");
    }
    assert_eq!(held.keys().key(&listed), old.keys().key(&listed), "its key came along");

    // The next round carries them; the server accepts them as the volunteer's own.
    let request = phone.request("server");
    let msg = &request.docs[0];
    assert_eq!(msg.keys.keys.len(), 1, "the new household's key is still owed to the server");
    let changes = sync::decode_changes(msg, &mut sync::ChangeBudget::request()).expect("changes");
    let merged = sync::merge_checked_keyed(&h, &next, changes, &msg.keys.keys, Some((&who, NOW)))
        .expect("the carried changes follow the rules")
        .expect("new");
    next = merged.log;
    assert_eq!(next.visits().ok.len(), 3);
    assert_eq!(next.households().ok.len(), 21);

    // Carrying over again writes nothing: nothing is there twice.
    let mut again = next.clone();
    assert!(!again.carry_over(&old, &[]).expect("carried"), "everything is there already");
}

#[test]
fn a_household_the_server_already_carried_is_not_made_again() {
    let h = hamlet("kp-3");
    let (server_log, _) = listed_hamlet("kp-3", 5);
    let who = author("u-tnv", Role::Volunteer);
    let mut phone = Replica::new(actor(8));
    let shared = [("server".to_owned(), server_log.heads())].into();
    phone.restore(h.clone(), server_log.clone(), server_log.heads(), shared);
    let form = HouseholdForm { label: "Số 1, ngõ 2".into(), head: None, members: Some(2) };
    let listed = phone.log_mut(&h).expect("held").add_household(&who, &form, NOW).expect("household");
    let request = phone.request("server");
    let msg = &request.docs[0];
    let changes = sync::decode_changes(msg, &mut sync::ChangeBudget::request()).expect("changes");
    let server_log = sync::merge_checked_keyed(&h, &server_log, changes, &msg.keys.keys, Some((&who, NOW)))
        .expect("ok")
        .expect("new")
        .log;
    // The answer is lost; the household is carried over by the server's rollover.
    let mut next = server_log.successor(actor(201), None).expect("successor");
    phone.absorb("server", &successor_answer(&h, &mut next)).expect("absorbed");
    let held = phone.log(&h).expect("held");
    assert_eq!(held.heads(), next.heads(), "nothing to carry: the server had it all");
    assert!(held.households().ok.contains_key(&listed));
    assert_eq!(phone.pending_for("server"), 0);
}

#[test]
fn sealing_squashes_onto_a_copy_taken_before_the_run_without_forking() {
    let (mut log, households) = listed_hamlet("kp-5", 40);
    log.set_actor(actor(9));
    let who = author("u-tnv", Role::Volunteer);
    let sealed = log.heads();
    let base = log.doc().clone();
    for (i, h) in households.iter().take(6).enumerate() {
        let (outcome, form) = realistic_visit(i);
        log.log_visit(&who, h, outcome, &form, NOW - 1_000 + i as i64, NOW).expect("visit");
    }
    let expected = (log.visits().ok, log.households().ok);
    let stale = log.doc().clone();
    let (mut once, mut at) = (log.clone(), sealed.clone());
    let report = sync::seal_onto(&mut once, &mut at, Some(base));
    assert!(report.squashed && !report.forked, "{report:?}");
    assert_eq!(once.doc().get_changes(&sealed).len(), 1, "six changes became one");
    assert_eq!((once.visits().ok, once.households().ok), expected, "and read the same");
    // A copy as of other heads is not used: the document is forked, with the same result.
    let (mut forked, mut at) = (log.clone(), sealed.clone());
    let report = sync::seal_onto(&mut forked, &mut at, Some(stale));
    assert!(report.squashed && report.forked, "{report:?}");
    assert_eq!(forked.heads(), once.heads(), "the same change either way");
}
