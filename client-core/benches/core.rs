//! Micro-benchmarks of the replica core (`cargo bench -p tungnha-client-core --features store`):
//! logging a visit in memory and durably, coverage recompute against the incremental
//! ledger, the envelope, and the server's merge of a 1,000-visit batch into a
//! 20,000-visit log with validation. Also the costs behind the server's sync path on a
//! 50,000-visit log (copy, save) and a device's checked load of one, which the load generator's long campaign depends on.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tungnha_client_core::judge::touched_lenient;
use tungnha_client_core::store::Store;
use tungnha_client_core::sync::{self, Envelope, Replica};
use tungnha_client_core::{
    ActorId, Author, Coverage, CoverageLedger, HamletId, HamletLog, HouseholdForm, HouseholdId, Outcome,
    Role, UserId, VisitForm,
};

const NOW: i64 = 1_796_007_600_000;

fn author(name: &str) -> Author {
    Author { user: UserId::parse(name).expect("id"), role: Role::Volunteer }
}

fn form(i: usize) -> (Outcome, VisitForm) {
    let outcome = Outcome::ALL[i % 5];
    let mut accounts = BTreeMap::new();
    if outcome == Outcome::Guided {
        accounts.insert("vneid_l1".to_owned(), 1);
    }
    (outcome, VisitForm { topics: vec!["vneid".into()], accounts, people: 2, filed: 0, note: None })
}

/// A hamlet of `households` households and `visits` visits by one volunteer.
fn hamlet(households: usize, visits: usize) -> (HamletLog, Vec<HouseholdId>) {
    let h = HamletId::parse("kp-bench").expect("id");
    let mut log = HamletLog::genesis(&h);
    log.set_actor(ActorId::from(vec![200u8; 16]));
    let official = Author { user: UserId::parse("canbo").expect("id"), role: Role::Official };
    let forms: Vec<HouseholdForm> = (0..households)
        .map(|i| HouseholdForm { label: format!("Số {i}"), ..HouseholdForm::default() })
        .collect();
    let ids: Vec<HouseholdId> = log.import_households(&official, &forms, NOW).expect("listed");
    let who = author("seed");
    for i in 0..visits {
        let (o, f) = form(i);
        log.log_visit(&who, &ids[i % ids.len()], o, &f, NOW - 1000 - i as i64, NOW).expect("visit");
    }
    (log, ids)
}

/// One exchange with a server replica holding the same log, so the device knows what
/// the server has and its next request carries its changes.
fn synced_with_server(device: &mut Replica, log: &HamletLog) {
    let h = HamletId::parse("kp-bench").expect("id");
    let mut server = Replica::new(ActorId::from(vec![1u8; 16]));
    server.hold(h, log.clone());
    let reply = server.respond(&device.request("server")).expect("answer");
    device.absorb("server", &reply).expect("absorb");
}

fn bench(c: &mut Criterion) {
    let (small, small_ids) = hamlet(350, 0);

    c.bench_function("log a visit, in memory (350 households)", |b| {
        b.iter_batched_ref(
            || small.clone(),
            |log| {
                let (o, f) = form(0);
                log.log_visit(&author("lan"), &small_ids[7], o, &f, NOW, NOW).expect("visit")
            },
            BatchSize::SmallInput,
        )
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let h = HamletId::parse("kp-bench").expect("id");
    let mut replica = Replica::new(ActorId::from(vec![7u8; 16]));
    replica.hold(h.clone(), small.clone());
    store.persist(&replica, &h).expect("persist");
    let mut i = 0;
    c.bench_function("log a visit, durable on sled (write + flush)", |b| {
        b.iter(|| {
            i += 1;
            let (o, f) = form(i);
            let log = replica.log_mut(&h).expect("held");
            log.log_visit(&author("lan"), &small_ids[i % 350], o, &f, NOW, NOW).expect("visit");
            store.persist(&replica, &h).expect("persist");
        })
    });

    let (big, big_ids) = hamlet(350, 20_000);
    c.bench_function("coverage: full recompute of a 20,000-visit log", |b| {
        b.iter(|| Coverage::compute(black_box(&big)))
    });
    let ledger = CoverageLedger::from_log(&big);
    let mut one_more = big.clone();
    let before = one_more.heads();
    let (o, f) = form(3);
    one_more.log_visit(&author("lan"), &big_ids[3], o, &f, NOW, NOW).expect("visit");
    let touched = touched_lenient(&one_more, &before, &one_more.heads());
    c.bench_function("coverage: incremental update for one visit (20,000-visit log)", |b| {
        b.iter_batched_ref(|| ledger.clone(), |l| l.apply(&one_more, &touched), BatchSize::LargeInput)
    });

    // A 30-visit batch, squashed, in an envelope, from a phone that has synced before.
    let mut phone = Replica::new(ActorId::from(vec![8u8; 16]));
    phone.hold(h.clone(), small.clone());
    synced_with_server(&mut phone, &small);
    for k in 0..30 {
        let (o, f) = form(k);
        phone
            .log_mut(&h)
            .expect("held")
            .log_visit(&author("lan"), &small_ids[k * 7], o, &f, NOW - k as i64, NOW)
            .expect("visit");
    }
    let envelope = phone.request("server");
    let bytes = envelope.encode();
    eprintln!("30-visit envelope: {} B, {:.1} B per visit up", bytes.len(), bytes.len() as f64 / 30.0);
    c.bench_function("envelope: encode a 30-visit batch", |b| b.iter(|| black_box(&envelope).encode()));
    c.bench_function("envelope: decode a 30-visit batch", |b| {
        b.iter(|| Envelope::decode(black_box(&bytes)).expect("decodes"))
    });

    // The server's merge: a device's 1,000 offline visits into a 20,000-visit log.
    let mut device = Replica::new(ActorId::from(vec![9u8; 16]));
    device.hold(h.clone(), big.clone());
    synced_with_server(&mut device, &big);
    for k in 0..1000 {
        let (o, f) = form(k);
        device
            .log_mut(&h)
            .expect("held")
            .log_visit(&author("lan"), &big_ids[k % 350], o, &f, NOW - k as i64, NOW)
            .expect("visit");
    }
    let request = device.request("server");
    let changes =
        sync::decode_changes(&request.docs[0], &mut sync::ChangeBudget::request()).expect("changes");
    assert_eq!(changes.len(), 1, "the 1,000 visits leave squashed");
    let lan = author("lan");
    c.bench_function("merge 1,000 visits into a 20,000-visit log, judged", |b| {
        b.iter(|| sync::merge_checked(&h, &big, changes.clone(), Some((&lan, NOW))).expect("accepted"))
    });

    let (huge, _) = hamlet(350, 50_000);
    c.bench_function("copy a 50,000-visit log (the server's merge copy)", |b| {
        b.iter(|| black_box(&huge).clone())
    });
    c.bench_function("save a 50,000-visit log (a snapshot for a new device)", |b| {
        b.iter(|| black_box(&huge).save())
    });
    let snapshot = huge.save();
    let kp = HamletId::parse("kp-bench").expect("id");
    c.bench_function("load a 50,000-visit log a server sends, every op checked", |b| {
        b.iter(|| sync::load_checked(&kp, black_box(&snapshot)).expect("checked"))
    });
}

#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
    }
}
criterion_main!(group::benches);
