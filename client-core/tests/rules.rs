//! Every rule of DESIGN.md §5, allowed and denied, judged the way the server judges:
//! on the merged document, from the patches between the heads before and after.
//! Hostile changes are written with raw Automerge operations, bypassing `HamletLog`.

mod common;

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc};
use common::*;
use tungnha_client_core::judge::{Touched, judge};
use tungnha_client_core::log::LogError;
use tungnha_client_core::rules::RuleViolation;
use tungnha_client_core::sealed::{self, HouseholdKey, Sealed};
use tungnha_client_core::{Author, HamletLog, HouseholdForm, HouseholdId, Outcome, Role, VisitForm, VisitId};

struct Fixture {
    log: HamletLog,
    /// Listed by the official.
    official_household: HouseholdId,
    /// Listed by volunteer Lan.
    lan_household: HouseholdId,
    /// Logged by Lan.
    lan_visit: VisitId,
    /// Logged by Minh.
    minh_visit: VisitId,
}

fn fixture() -> Fixture {
    let (mut log, households) = listed_hamlet("kp-1", 3);
    let lan = author("u-lan", Role::Volunteer);
    let minh = author("u-minh", Role::Volunteer);
    let form = HouseholdForm { label: "Số 9, hẻm 2".into(), ..HouseholdForm::default() };
    let lan_household = log.add_household(&lan, &form, NOW).expect("listed");
    let lan_visit = log
        .log_visit(
            &lan,
            &households[0],
            Outcome::Guided,
            &VisitForm { people: 1, ..VisitForm::default() },
            NOW - 1000,
            NOW,
        )
        .expect("visit");
    let minh_visit = log
        .log_visit(&minh, &households[1], Outcome::NotHome, &VisitForm::default(), NOW - 1000, NOW)
        .expect("visit");
    // The key of the household the raw writes list (a device holds it as it lists).
    log.keys_mut().insert_new(HouseholdId::parse(NEW).expect("id"), HouseholdKey::fresh());
    Fixture { log, official_household: households[0].clone(), lan_household, lan_visit, minh_visit }
}

/// `text` sealed as `what` of `household`, under the key `log` holds for it.
fn sealed_in(log: &HamletLog, household: &str, what: Sealed<'_>, text: &str) -> automerge::ScalarValue {
    let h = HouseholdId::parse(household).expect("id");
    let key = log.keys().key(&h).expect("a key");
    automerge::ScalarValue::Bytes(sealed::seal(key, log.hamlet(), &h, what, text))
}

/// Applies `write` as one change by a device, then judges it for `who`.
fn judged(
    log: &HamletLog,
    who: &str,
    role: Role,
    write: impl FnOnce(&mut Transaction<'_>, &ObjId, &ObjId),
) -> Result<(), RuleViolation> {
    let mut doc: Automerge = log.doc().clone();
    doc.set_actor(actor(42));
    let before = doc.get_heads();
    let households = doc.get(ROOT, "households").expect("read").expect("map").1;
    let visits = doc.get(ROOT, "visits").expect("read").expect("map").1;
    let mut tx = doc.transaction();
    write(&mut tx, &households, &visits);
    tx.commit();
    let after = doc.get_heads();
    let merged = HamletLog::from_automerge(doc).expect("still a hamlet log").with_keys(log.keys().clone());
    let within = judge(&merged, &before, &after, &author(who, role), NOW);
    agree(&within, &server_path(log, &merged, &author(who, role)));
    within.map(|_| ())
}

/// The server's path (which also checks every op before merging) must accept what
/// `judge` accepts, touching the same entries, and refuse what it refuses, for the same
/// rule; the wording may differ, since the op check names the field it stopped at.
fn agree(within: &Result<Touched, RuleViolation>, server: &Result<Touched, RuleViolation>) {
    let rule = |r: &Result<Touched, RuleViolation>| r.as_ref().map_err(RuleViolation::rule).cloned();
    assert_eq!(rule(within), rule(server), "judge and the server's merge disagree: {within:?} / {server:?}");
}

/// The server's path: the new changes merged into the log before, judged from the
/// patches the merge logged. It must judge exactly as `judge` does.
fn server_path(before: &HamletLog, after: &HamletLog, who: &Author) -> Result<Touched, RuleViolation> {
    merged_on_server(before, after.doc(), &after.keys().unsent(), who)
}

/// What the server says of the changes `after` holds beyond `before`, with the keys a
/// device sends beside them.
fn merged_on_server(
    before: &HamletLog,
    after: &Automerge,
    keys: &[tungnha_client_core::sealed::KeyEntry],
    who: &Author,
) -> Result<Touched, RuleViolation> {
    let changes = after.get_changes(&before.heads());
    let h = tungnha_client_core::HamletId::parse("kp-1").expect("id");
    match tungnha_client_core::sync::merge_checked_keyed(&h, before, changes, keys, Some((who, NOW))) {
        Ok(Some(merged)) => Ok(merged.touched),
        Ok(None) => Ok(Default::default()),
        Err(tungnha_client_core::sync::SyncError::Refused { violation, .. }) => Err(violation),
        Err(e) => panic!("unexpected merge error: {e}"),
    }
}

/// Applies a typed write by `who` on a copy and judges the change it made.
fn judged_typed(
    log: &HamletLog,
    who: &str,
    role: Role,
    write: impl FnOnce(&mut HamletLog, &tungnha_client_core::Author) -> Result<(), LogError>,
) -> Result<(), RuleViolation> {
    let mut copy = log.clone();
    copy.set_actor(actor(42));
    let before = copy.heads();
    let a = author(who, role);
    write(&mut copy, &a).expect("the typed write is allowed locally");
    let after = copy.heads();
    let within = judge(&copy, &before, &after, &a, NOW);
    agree(&within, &server_path(log, &copy, &a));
    within.map(|_| ())
}

/// A boxed raw write into (households, visits).
type Write<'a> = Box<dyn FnOnce(&mut Transaction<'_>, &ObjId, &ObjId) + 'a>;

fn obj(tx: &Transaction<'_>, parent: &ObjId, key: &str) -> ObjId {
    tx.get(parent, key).expect("read").expect("present").1
}

fn new_visit(tx: &mut Transaction<'_>, visits: &ObjId, id: &str, household: &HouseholdId, by: &str) -> ObjId {
    let v = tx.put_object(visits, id, ObjType::Map).expect("put");
    tx.put(&v, "household", household.as_str()).expect("put");
    tx.put(&v, "by", by).expect("put");
    tx.put(&v, "at", NOW - 5000).expect("put");
    tx.put(&v, "outcome", "guided").expect("put");
    tx.put_object(&v, "topics", ObjType::Map).expect("put");
    tx.put_object(&v, "accounts", ObjType::Map).expect("put");
    tx.put(&v, "people", 1i64).expect("put");
    tx.put(&v, "voided", false).expect("put");
    v
}

const NEW: &str = "zzzzzzzzzzzzzzzz";

#[test]
fn a_volunteer_logs_corrects_and_voids_their_own_visits() {
    let f = fixture();
    let hh = f.official_household.clone();
    assert_eq!(
        judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
            new_visit(tx, v, NEW, &hh, "u-lan");
        }),
        Ok(())
    );
    assert_eq!(
        judged_typed(&f.log, "u-lan", Role::Volunteer, |log, a| {
            let form = VisitForm { topics: vec!["vneid".into()], people: 2, ..VisitForm::default() };
            log.correct_visit(a, &f.lan_visit, Outcome::Revisit, &form, NOW)
        }),
        Ok(())
    );
    assert_eq!(
        judged_typed(&f.log, "u-lan", Role::Volunteer, |log, a| log.void_visit(a, &f.lan_visit, NOW)),
        Ok(())
    );
}

#[test]
fn a_visit_is_logged_only_as_oneself() {
    let f = fixture();
    let hh = f.official_household.clone();
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        new_visit(tx, v, NEW, &hh, "u-minh");
    });
    assert!(matches!(r, Err(RuleViolation::NotAsSelf { what: "visit", .. })), "{r:?}");
    // Leaders too log only as themselves.
    let r = judged(&f.log, "u-lead", Role::Leader, |tx, _, v| {
        new_visit(tx, v, NEW, &hh, "u-minh");
    });
    assert!(matches!(r, Err(RuleViolation::NotAsSelf { .. })), "{r:?}");
}

#[test]
fn a_volunteer_cannot_touch_someone_elses_visit() {
    let f = fixture();
    let id = f.minh_visit.clone();
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        let visit = obj(tx, v, id.as_str());
        tx.put(&visit, "outcome", "guided").expect("put");
    });
    assert_eq!(r, Err(RuleViolation::NotYourVisit { id: format!("visit {id}") }));
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        let visit = obj(tx, v, id.as_str());
        tx.put(&visit, "voided", true).expect("put");
    });
    assert_eq!(r, Err(RuleViolation::NotYourVisit { id: format!("visit {id}") }));
}

#[test]
fn a_leader_may_void_any_visit_and_nothing_more() {
    let f = fixture();
    let id = f.minh_visit.clone();
    assert_eq!(judged_typed(&f.log, "u-lead", Role::Leader, |log, a| log.void_visit(a, &id, NOW)), Ok(()));
    let r = judged(&f.log, "u-lead", Role::Leader, |tx, _, v| {
        let visit = obj(tx, v, id.as_str());
        tx.put(&visit, "voided", true).expect("put");
        tx.put(&visit, "people", 9i64).expect("put");
    });
    assert_eq!(r, Err(RuleViolation::LeaderMayOnlyVoid { id: format!("visit {id}") }));
}

#[test]
fn households_are_listed_as_oneself_and_edited_by_their_lister_or_a_leader() {
    let f = fixture();
    let form =
        HouseholdForm {
            label: "Số 3, ngõ 5".into(), head: Some("Trần Thị Mai".into()), members: Some(4)
        };
    assert_eq!(
        judged_typed(&f.log, "u-lan", Role::Volunteer, |log, a| log.add_household(a, &form, NOW).map(|_| ())),
        Ok(())
    );
    assert_eq!(
        judged_typed(&f.log, "u-lan", Role::Volunteer, |log, a| log.edit_household(
            a,
            &f.lan_household,
            &form
        )),
        Ok(())
    );
    assert_eq!(
        judged_typed(&f.log, "u-lead", Role::Leader, |log, a| log.retire_household(a, &f.official_household)),
        Ok(())
    );
    let hh = f.official_household.clone();
    let label = sealed_in(&f.log, hh.as_str(), Sealed::Label, "Số 100");
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, h, _| {
        let o = obj(tx, h, hh.as_str());
        tx.put(&o, "label", label).expect("put");
    });
    assert_eq!(r, Err(RuleViolation::NotYourHousehold { id: hh.to_string() }));
    let label = sealed_in(&f.log, NEW, Sealed::Label, "Số 1");
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, h, _| {
        let o = tx.put_object(h, NEW, ObjType::Map).expect("put");
        tx.put(&o, "label", label).expect("put");
        tx.put(&o, "created_by", "u-minh").expect("put");
        tx.put(&o, "created_at", NOW).expect("put");
    });
    assert!(matches!(r, Err(RuleViolation::NotAsSelf { what: "household", .. })), "{r:?}");
}

#[test]
fn written_facts_never_change_and_nothing_is_deleted() {
    let f = fixture();
    let (visit, hh) = (f.lan_visit.clone(), f.lan_household.clone());
    let other = f.official_household.clone();
    let cases: Vec<(&str, Write<'_>)> = vec![
        ("by", Box::new(|tx, _, v| tx.put(obj(tx, v, visit.as_str()), "by", "u-minh").expect("put"))),
        (
            "household",
            Box::new(|tx, _, v| tx.put(obj(tx, v, visit.as_str()), "household", hh.as_str()).expect("put")),
        ),
        (
            "created_by",
            Box::new(|tx, h, _| tx.put(obj(tx, h, hh.as_str()), "created_by", "u-x").expect("put")),
        ),
        (
            "created_at",
            Box::new(|tx, h, _| tx.put(obj(tx, h, hh.as_str()), "created_at", NOW - 1).expect("put")),
        ),
    ];
    for (field, write) in cases {
        let r = judged(&f.log, "u-lan", Role::Volunteer, write);
        assert!(
            matches!(&r, Err(RuleViolation::Immutable { path }) if path.ends_with(field)),
            "{field}: {r:?}"
        );
    }
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        new_visit(tx, v, visit.as_str(), &other, "u-lan");
    });
    assert!(matches!(r, Err(RuleViolation::Immutable { .. })), "re-creating a visit: {r:?}");
    let r =
        judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| tx.delete(v, visit.as_str()).expect("delete"));
    assert!(matches!(r, Err(RuleViolation::Deleted { .. })), "{r:?}");
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        tx.delete(obj(tx, v, visit.as_str()), "outcome").expect("delete")
    });
    assert!(matches!(r, Err(RuleViolation::Deleted { .. })), "{r:?}");
    // Optional fields may be cleared by whoever may edit.
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, h, _| {
        tx.delete(obj(tx, h, hh.as_str()), "members").expect("delete")
    });
    assert_eq!(r, Ok(()));
}

#[test]
fn nothing_may_be_written_outside_the_schema() {
    let f = fixture();
    let visit = f.lan_visit.clone();
    let r =
        judged(&f.log, "u-lan", Role::Volunteer, |tx, _, _| tx.put(ROOT, "phone_numbers", "x").expect("put"));
    assert_eq!(r, Err(RuleViolation::OutsideSchema { path: "phone_numbers".into() }));
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        tx.put(obj(tx, v, visit.as_str()), "national_id", "001099012345").expect("put")
    });
    assert!(matches!(r, Err(RuleViolation::OutsideSchema { .. })), "{r:?}");
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, v| {
        let note = tx.put_object(obj(tx, v, visit.as_str()), "note", ObjType::Text).expect("put");
        tx.splice_text(&note, 0, 0, "xin chào").expect("splice");
    });
    assert!(r.is_err(), "text objects have no place in the schema: {r:?}");
    // Replacing the visits map leaves no hamlet log to judge: the server refuses the op.
    let mut doc = f.log.doc().clone();
    doc.set_actor(actor(42));
    let mut tx = doc.transaction();
    tx.put_object(ROOT, "visits", ObjType::Map).expect("put");
    tx.commit();
    let r = merged_on_server(&f.log, &doc, &[], &author("u-lan", Role::Volunteer));
    assert!(matches!(r, Err(RuleViolation::OutsideSchema { .. })), "replacing the visits map: {r:?}");
}

#[test]
fn values_must_have_the_right_types_and_ranges() {
    let f = fixture();
    let hh = f.official_household.clone();
    type Tweak = Box<dyn Fn(&mut Transaction<'_>, &ObjId)>;
    let tweaks: Vec<(&str, Tweak)> = vec![
        ("people over 50", Box::new(|tx, v| tx.put(v, "people", 51i64).expect("put"))),
        ("negative people", Box::new(|tx, v| tx.put(v, "people", -1i64).expect("put"))),
        ("people as text", Box::new(|tx, v| tx.put(v, "people", "ba").expect("put"))),
        ("a day ahead and more", Box::new(|tx, v| tx.put(v, "at", NOW + 25 * 3_600_000).expect("put"))),
        ("before 2020", Box::new(|tx, v| tx.put(v, "at", 1_000i64).expect("put"))),
        ("unknown outcome", Box::new(|tx, v| tx.put(v, "outcome", "abducted").expect("put"))),
        ("outcome as number", Box::new(|tx, v| tx.put(v, "outcome", 3i64).expect("put"))),
        ("voided as text", Box::new(|tx, v| tx.put(v, "voided", "no").expect("put"))),
        ("huge note", Box::new(|tx, v| tx.put(v, "note", "a".repeat(100_000)).expect("put"))),
        ("bad topic code", Box::new(|tx, v| tx.put(obj(tx, v, "topics"), "Dịch Vụ", true).expect("put"))),
        ("topic not true", Box::new(|tx, v| tx.put(obj(tx, v, "topics"), "dvc", 1i64).expect("put"))),
        (
            "account count over 50",
            Box::new(|tx, v| tx.put(obj(tx, v, "accounts"), "vneid_l2", 99i64).expect("put")),
        ),
    ];
    for (what, tweak) in tweaks {
        let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, visits| {
            let v = new_visit(tx, visits, NEW, &hh, "u-lan");
            tweak(tx, &v);
        });
        assert!(matches!(r, Err(RuleViolation::InvalidValue { .. })), "{what}: {r:?}");
    }
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, _, visits| {
        new_visit(tx, visits, NEW, &HouseholdId::parse("qqqqqqqqqqqqqqqq").expect("id"), "u-lan");
    });
    assert!(matches!(r, Err(RuleViolation::UnknownHousehold { .. })), "{r:?}");
    let blank = sealed_in(&f.log, NEW, Sealed::Label, "   ");
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, h, _| {
        let o = tx.put_object(h, NEW, ObjType::Map).expect("put");
        tx.put(&o, "label", blank).expect("put");
        tx.put(&o, "created_by", "u-lan").expect("put");
        tx.put(&o, "created_at", NOW).expect("put");
    });
    assert!(matches!(r, Err(RuleViolation::InvalidValue { .. })), "blank label: {r:?}");
    let r = judged(&f.log, "u-lan", Role::Volunteer, |tx, h, _| {
        tx.put_object(h, "not-an-id", ObjType::Map).expect("put");
    });
    assert!(matches!(r, Err(RuleViolation::InvalidValue { .. })), "bad household key: {r:?}");
}

#[test]
fn typed_writes_refuse_locally_what_the_server_would_refuse_and_write_nothing() {
    let mut f = fixture();
    let lan = author("u-lan", Role::Volunteer);
    let heads = f.log.heads();
    let r = f.log.void_visit(&lan, &f.minh_visit, NOW);
    assert!(matches!(r, Err(LogError::Refused(RuleViolation::NotYourVisit { .. }))), "{r:?}");
    let form = VisitForm { people: 80, ..VisitForm::default() };
    let r = f.log.log_visit(&lan, &f.official_household, Outcome::Guided, &form, NOW, NOW);
    assert!(matches!(r, Err(LogError::Refused(RuleViolation::InvalidValue { .. }))), "{r:?}");
    let form = VisitForm { topics: vec!["Không hợp lệ".into()], ..VisitForm::default() };
    let r = f.log.log_visit(&lan, &f.official_household, Outcome::Guided, &form, NOW, NOW);
    assert!(matches!(r, Err(LogError::Refused(_))), "{r:?}");
    let r = f.log.log_visit(
        &lan,
        &HouseholdId::parse("qqqqqqqqqqqqqqqq").expect("id"),
        Outcome::Guided,
        &VisitForm::default(),
        NOW,
        NOW,
    );
    assert!(matches!(r, Err(LogError::UnknownHousehold(_))), "{r:?}");
    let r = f.log.edit_household(
        &lan,
        &f.official_household,
        &HouseholdForm { label: "x".into(), ..Default::default() },
    );
    assert!(matches!(r, Err(LogError::Refused(RuleViolation::NotYourHousehold { .. }))), "{r:?}");
    assert_eq!(f.log.heads(), heads, "nothing was written");
}

#[test]
fn a_volunteer_lists_at_most_a_days_allowance_of_households() {
    let (mut log, _) = listed_hamlet("kp-1", 3);
    let lan = author("u-lan", Role::Volunteer);
    let limit = Role::Volunteer.households_per_day();
    for i in 0..limit {
        let form = HouseholdForm { label: format!("Số {i}, hẻm mới"), ..HouseholdForm::default() };
        log.add_household(&lan, &form, NOW).expect("within the day's allowance");
    }
    let one_more = HouseholdForm { label: "Số cuối".into(), ..HouseholdForm::default() };
    let refused = log.add_household(&lan, &one_more, NOW);
    assert!(
        matches!(refused, Err(LogError::Refused(RuleViolation::TooManyHouseholds { limit: l })) if l == limit),
        "{refused:?}"
    );
    // Another volunteer, or the next day, may still list.
    log.add_household(&author("u-minh", Role::Volunteer), &one_more, NOW).expect("someone else");
    log.add_household(&lan, &one_more, NOW + 86_400_000).expect("tomorrow");
}

/// A household listed twice: a leader merges the duplicate into the entry that stays;
/// the duplicate leaves the list and its visits count towards the other, on the server
/// (the ledger, incrementally) exactly as a full recompute counts them.
#[test]
fn a_leader_merges_a_household_listed_twice() {
    use tungnha_client_core::{Coverage, CoverageLedger};
    let (mut log, households) = listed_hamlet("kp-1", 3);
    log.set_actor(actor(9));
    let (kept, twice) = (&households[0], &households[1]);
    let lan = author("u-lan", Role::Volunteer);
    let guided = VisitForm { people: 1, ..VisitForm::default() };
    log.log_visit(&lan, twice, Outcome::Guided, &guided, NOW - 1000, NOW).expect("visit");
    let mut ledger = CoverageLedger::from_log(&log);
    assert_eq!((ledger.coverage().registered, ledger.coverage().covered), (3, 1));

    // Volunteers may not merge; nor may anyone merge into itself or into a retired entry.
    assert!(matches!(
        log.merge_household(&lan, twice, kept),
        Err(LogError::Refused(RuleViolation::NotYourHousehold { .. }))
    ));
    let leader = author("u-leader", Role::Leader);
    assert!(log.merge_household(&leader, twice, twice).is_err());
    let before = log.heads();
    log.merge_household(&leader, twice, kept).expect("merged");
    assert!(log.merge_household(&leader, kept, twice).is_err(), "not into a retired entry");
    let h = log.households().ok;
    assert!(h[twice].retired && h[twice].merged_into.as_ref() == Some(kept));

    // The duplicate's guided visit now covers the entry that stays.
    let touched = Touched { households: [twice.clone()].into(), ..Touched::default() };
    ledger.apply(&log, &touched);
    assert_eq!(ledger.coverage(), &Coverage::compute(&log));
    assert_eq!((ledger.coverage().registered, ledger.coverage().covered), (2, 1));
    assert_eq!(ledger.status(kept), tungnha_client_core::HouseholdStatus::Covered);

    // A visit logged to the duplicate afterwards still counts towards the one kept.
    let visit = log
        .log_visit(&lan, twice, Outcome::NotHome, &VisitForm::default(), NOW - 10, NOW)
        .expect("a late visit to the duplicate");
    ledger.apply(&log, &Touched { visits: [visit].into(), ..Touched::default() });
    assert_eq!(ledger.coverage(), &Coverage::compute(&log));
    assert!(!log.heads().is_empty() && log.heads() != before);
}
