//! Bytes on the wire per visit: a volunteer logs 30 visits offline in a 350-household
//! hamlet and syncs. Run with `--nocapture` to see the figures:
//! `cargo test -p tungnha-client-core --test wire -- --nocapture`.

mod common;

use std::collections::BTreeMap;

use common::*;
use tungnha_client_core::sync::Replica;
use tungnha_client_core::{Coverage, Role};

#[test]
fn a_thirty_visit_round_costs_under_100_bytes_per_visit() {
    let h = hamlet("kp-hoa-binh");
    let (log, households) = listed_hamlet("kp-hoa-binh", 350);
    let mut server = ServerSide { logs: BTreeMap::from([(h.clone(), log)]) };
    let volunteer = author("u-lan", Role::Volunteer);
    let mut phone = Replica::new(actor(7));

    // Enrolment: the phone's first sync receives the hamlet log whole.
    server.sync(&mut phone, &volunteer, NOW).expect("first sync");
    assert!(phone.log(&h).is_some(), "the phone now holds the hamlet log");

    // A morning's round, offline.
    for i in 0..30 {
        let (outcome, form) = realistic_visit(i);
        let at = NOW - (30 - i as i64) * 600_000;
        phone
            .log_mut(&h)
            .expect("held")
            .log_visit(&volunteer, &households[i * 7], outcome, &form, at, NOW)
            .expect("visit logged");
    }

    let request = phone.request("server").encode();
    let sent = tungnha_client_core::sync::Envelope::decode(&request).expect("request");
    let changes = tungnha_client_core::sync::decode_changes(
        &sent.docs[0],
        &mut tungnha_client_core::sync::ChangeBudget::request(),
    )
    .expect("changes");
    assert_eq!(changes.len(), 1, "the thirty local changes leave squashed into one");
    let reply = server.respond(&request, &actor(7), &volunteer, NOW).expect("sync accepted");
    phone
        .absorb("server", &tungnha_client_core::sync::Envelope::decode(&reply).expect("reply"))
        .expect("absorb");
    let per_visit = (request.len() + reply.len()) as f64 / 30.0;
    println!(
        "30-visit sync: {} B up, {} B down, {per_visit:.1} B per visit (both directions, envelope and heads included)",
        request.len(),
        reply.len()
    );
    assert!(per_visit <= 100.0, "{per_visit:.1} B per visit is over the 100 B target");
    assert!(!phone.needs_round("server"), "one round carried everything");

    let server_cov = Coverage::compute(&server.logs[&h]);
    assert_eq!(server_cov.visits, 30);
    assert_eq!(server_cov, Coverage::compute(phone.log(&h).expect("held")));
}

#[test]
fn a_reconnect_with_nothing_new_is_one_small_exchange_for_five_hamlets() {
    let volunteer = author("u-lan", Role::Volunteer);
    let mut logs = BTreeMap::new();
    for i in 0..5 {
        let name = format!("kp-{i}");
        logs.insert(hamlet(&name), listed_hamlet(&name, 300).0);
    }
    let mut server = ServerSide { logs };
    let mut phone = Replica::new(actor(7));
    server.sync(&mut phone, &volunteer, NOW).expect("first sync");
    assert_eq!(phone.hamlets().count(), 5);
    assert!(!phone.needs_round("server"));

    let request = phone.request("server").encode();
    let reply = server.respond(&request, &actor(7), &volunteer, NOW).expect("reconnect");
    let total = request.len() + reply.len();
    println!("reconnect with nothing new, 5 hamlet logs: {} B up, {} B down", request.len(), reply.len());
    assert!(total <= 1024, "{total} B is over the 1 KB target");
    let decoded = tungnha_client_core::sync::Envelope::decode(&reply).expect("reply");
    assert!(decoded.docs.is_empty(), "nothing new means nothing sent back");
}
