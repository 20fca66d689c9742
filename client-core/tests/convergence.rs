//! The CRDT laws, as property tests over 3–5 replicas of one hamlet log:
//! - replicas that edit offline and sync pairwise, in any order, converge to identical
//!   documents and identical coverage;
//! - syncing again once quiet changes nothing and carries nothing;
//! - coverage kept incrementally from each local write and merge equals a full recompute.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use tungnha_client_core::judge::touched_lenient;
use tungnha_client_core::sync::Replica;
use tungnha_client_core::{
    Author, Coverage, CoverageLedger, HamletId, HamletLog, HouseholdForm, HouseholdId, Outcome, Role,
    VisitForm, VisitId,
};

#[derive(Debug, Clone)]
enum Op {
    AddHousehold {
        replica: usize,
    },
    LogVisit {
        replica: usize,
        household: usize,
        outcome: usize,
        people: u32,
        at_offset: i64,
    },
    Correct {
        replica: usize,
        visit: usize,
        outcome: usize,
    },
    Void {
        replica: usize,
        visit: usize,
    },
    Retire {
        replica: usize,
        household: usize,
    },
    /// The leader (replica 0) merges one household into another.
    Merge {
        twice: usize,
        into: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn op(n: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..n).prop_map(|replica| Op::AddHousehold { replica }),
        5 => (0..n, 0..64usize, 0..5usize, 0..4u32, 0..100_000i64).prop_map(
            |(replica, household, outcome, people, at_offset)| Op::LogVisit { replica, household, outcome, people, at_offset }
        ),
        2 => (0..n, 0..64usize, 0..5usize).prop_map(|(replica, visit, outcome)| Op::Correct { replica, visit, outcome }),
        1 => (0..n, 0..64usize).prop_map(|(replica, visit)| Op::Void { replica, visit }),
        1 => (0..n, 0..64usize).prop_map(|(replica, household)| Op::Retire { replica, household }),
        1 => (0..64usize, 0..64usize).prop_map(|(twice, into)| Op::Merge { twice, into }),
        3 => (0..n, 0..n).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (3usize..=5).prop_flat_map(|n| (Just(n), proptest::collection::vec(op(n), 1..40)))
}

/// One participant: its replica, who writes through it, and its incremental ledger.
struct Peer {
    replica: Replica,
    who: Author,
    ledger: CoverageLedger,
}

fn peer_name(i: usize) -> String {
    format!("peer-{i}")
}

impl Peer {
    fn log(&self, h: &HamletId) -> &HamletLog {
        self.replica.log(h).expect("every peer holds the hamlet")
    }

    /// Runs a local write and brings the ledger along from what it touched.
    fn write(&mut self, h: &HamletId, f: impl FnOnce(&mut HamletLog, &Author)) {
        let before = self.log(h).heads();
        let who = self.who.clone();
        f(self.replica.log_mut(h).expect("held"), &who);
        let log = self.replica.log(h).expect("held");
        let touched = touched_lenient(log, &before, &log.heads());
        self.ledger.apply(log, &touched);
    }
}

/// One exchange: `a` requests, `b` responds, `a` absorbs. Both ledgers follow.
fn sync(peers: &mut [Peer], a: usize, b: usize, h: &HamletId) -> usize {
    if a == b {
        return 0;
    }
    let request = peers[a].replica.request(&peer_name(b)).encode();
    let before_b = peers[b].log(h).heads();
    let decoded = tungnha_client_core::sync::Envelope::decode(&request).expect("request decodes");
    let reply = peers[b].replica.respond(&decoded).expect("peer answers").encode();
    let log_b = peers[b].log(h);
    let touched = touched_lenient(log_b, &before_b, &log_b.heads());
    peers[b].ledger.apply(peers[b].replica.log(h).expect("held"), &touched);
    let decoded = tungnha_client_core::sync::Envelope::decode(&reply).expect("reply decodes");
    let absorbed = peers[a].replica.absorb(&peer_name(b), &decoded).expect("absorb");
    for (doc, a_out) in absorbed {
        let log = peers[a].replica.log(&doc).expect("held");
        peers[a].ledger.apply(log, &a_out.touched);
    }
    request.len() + reply.len()
}

fn run(n: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let h = hamlet("kp-1");
    let (base, _) = listed_hamlet("kp-1", 4);
    let mut peers: Vec<Peer> = (0..n)
        .map(|i| {
            let mut replica = Replica::new(actor(i as u8 + 1));
            replica.hold(h.clone(), base.clone());
            let role = if i == 0 { Role::Leader } else { Role::Volunteer };
            let ledger = CoverageLedger::from_log(&base);
            Peer { replica, who: author(&format!("u-{i}"), role), ledger }
        })
        .collect();
    for op in ops {
        match *op {
            Op::AddHousehold { replica } => peers[replica].write(&h, |log, who| {
                let form = HouseholdForm { label: "Nhà mới".into(), ..HouseholdForm::default() };
                log.add_household(who, &form, NOW).expect("allowed");
            }),
            Op::LogVisit { replica, household, outcome, people, at_offset } => {
                let ids: Vec<HouseholdId> = peers[replica].log(&h).households().ok.into_keys().collect();
                let target = ids[household % ids.len()].clone();
                peers[replica].write(&h, |log, who| {
                    // A guided visit helps someone (the rules refuse one that names nothing).
                    let people =
                        if Outcome::ALL[outcome] == Outcome::Guided { people.max(1) } else { people };
                    // Accounts and dossiers filed follow from the draw, so the day's work
                    // (what the day's report tells) is held equal too.
                    let form = VisitForm {
                        people,
                        filed: people % 3,
                        accounts: [("vneid_l1".to_owned(), people % 2)].into(),
                        ..VisitForm::default()
                    };
                    log.log_visit(who, &target, Outcome::ALL[outcome], &form, NOW - at_offset, NOW)
                        .expect("allowed");
                });
            }
            Op::Correct { replica, visit, outcome } => {
                let mine: Vec<VisitId> = peers[replica]
                    .log(&h)
                    .visits()
                    .ok
                    .into_iter()
                    .filter(|(_, v)| v.by == peers[replica].who.user)
                    .map(|(id, _)| id)
                    .collect();
                if let Some(id) = mine.get(visit % mine.len().max(1)).cloned() {
                    peers[replica].write(&h, |log, who| {
                        let form =
                            VisitForm { topics: vec!["vneid".into()], filed: 1, ..VisitForm::default() };
                        log.correct_visit(who, &id, Outcome::ALL[outcome], &form, NOW).expect("allowed");
                    });
                }
            }
            Op::Void { replica, visit } => {
                let visits = peers[replica].log(&h).visits().ok;
                let who = peers[replica].who.clone();
                let allowed: Vec<VisitId> = visits
                    .into_iter()
                    .filter(|(_, v)| who.role.leads() || v.by == who.user)
                    .map(|(id, _)| id)
                    .collect();
                if let Some(id) = allowed.get(visit % allowed.len().max(1)).cloned() {
                    peers[replica].write(&h, |log, who| log.void_visit(who, &id, NOW).expect("allowed"));
                }
            }
            Op::Retire { replica, household } => {
                let who = peers[replica].who.clone();
                let allowed: Vec<HouseholdId> = peers[replica]
                    .log(&h)
                    .households()
                    .ok
                    .into_iter()
                    .filter(|(_, hh)| who.role.leads() || hh.created_by == who.user)
                    .map(|(id, _)| id)
                    .collect();
                if let Some(id) = allowed.get(household % allowed.len().max(1)).cloned() {
                    peers[replica].write(&h, |log, who| log.retire_household(who, &id).expect("allowed"));
                }
            }
            Op::Merge { twice, into } => {
                let ids: Vec<HouseholdId> = peers[0].log(&h).households().ok.into_keys().collect();
                let (twice, into) = (ids[twice % ids.len()].clone(), ids[into % ids.len()].clone());
                // Refused when it names itself or an entry that left the list; no change then.
                peers[0].write(&h, |log, who| {
                    let _ = log.merge_household(who, &twice, &into);
                });
            }
            Op::Sync { from, to } => {
                sync(&mut peers, from, to, &h);
            }
        }
        for p in &peers {
            prop_assert_eq!(
                p.ledger.coverage(),
                &Coverage::compute(p.log(&h)),
                "ledger drifted after {:?}",
                op
            );
        }
    }
    // Until quiet: every ordered pair, a bounded number of times.
    for _ in 0..4 {
        for a in 0..n {
            for b in 0..n {
                sync(&mut peers, a, b, &h);
            }
        }
    }
    let heads = peers[0].log(&h).heads();
    let state = peers[0].log(&h).doc().hydrate(None);
    let coverage = Coverage::compute(peers[0].log(&h));
    for p in &peers {
        prop_assert_eq!(p.log(&h).heads(), heads.clone());
        prop_assert_eq!(p.log(&h).doc().hydrate(None), state.clone());
        prop_assert_eq!(Coverage::compute(p.log(&h)), coverage.clone());
        prop_assert_eq!(p.ledger.coverage(), &coverage);
        let rebuilt = CoverageLedger::from_log(p.log(&h));
        prop_assert_eq!(rebuilt.coverage(), &coverage);
    }
    // Syncing again changes nothing: no document moves and the answers carry none.
    for a in 0..n {
        for b in 0..n {
            if a != b {
                let request = peers[a].replica.request(&peer_name(b));
                let reply = peers[b].replica.respond(&request).expect("answer");
                prop_assert!(reply.docs.is_empty(), "a quiet pair still exchanged documents");
                peers[a].replica.absorb(&peer_name(b), &reply).expect("absorb");
            }
        }
    }
    for p in &peers {
        prop_assert_eq!(p.log(&h).heads(), heads.clone());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn replicas_converge_in_any_sync_order((n, ops) in scenario()) {
        run(n, &ops)?;
    }
}

#[test]
fn concurrent_visits_to_one_household_both_count() {
    // Two volunteers visit the same house offline; the later visit decides follow-up.
    let h = hamlet("kp-1");
    let (base, households) = listed_hamlet("kp-1", 1);
    let mut a = Replica::new(actor(1));
    let mut b = Replica::new(actor(2));
    a.hold(h.clone(), base.clone());
    b.hold(h.clone(), base);
    let lan = author("u-lan", Role::Volunteer);
    let minh = author("u-minh", Role::Volunteer);
    let at = |m: i64| NOW - 3_600_000 + m * 60_000;
    a.log_mut(&h)
        .expect("held")
        .log_visit(&lan, &households[0], Outcome::NotHome, &VisitForm::default(), at(0), NOW)
        .expect("logged");
    b.log_mut(&h)
        .expect("held")
        .log_visit(
            &minh,
            &households[0],
            Outcome::Guided,
            &VisitForm { people: 2, ..Default::default() },
            at(30),
            NOW,
        )
        .expect("logged");
    let req = a.request("b");
    let reply = b.respond(&req).expect("answer");
    a.absorb("b", &reply).expect("absorb");
    let req = b.request("a");
    let reply = a.respond(&req).expect("answer");
    b.absorb("a", &reply).expect("absorb");
    let ca = Coverage::compute(a.log(&h).expect("held"));
    assert_eq!(ca, Coverage::compute(b.log(&h).expect("held")));
    assert_eq!((ca.visits, ca.covered, ca.attempted, ca.follow_ups, ca.people), (2, 1, 1, 0, 2));
    let statuses = tungnha_client_core::CoverageLedger::from_log(a.log(&h).expect("held")).statuses();
    assert_eq!(statuses.get(&households[0]), Some(&tungnha_client_core::HouseholdStatus::Covered));
    let per: BTreeMap<_, _> =
        ca.per_volunteer.iter().map(|(u, f)| (u.as_str().to_owned(), f.visits)).collect();
    assert_eq!(per, BTreeMap::from([("u-lan".to_owned(), 1), ("u-minh".to_owned(), 1)]));
}
