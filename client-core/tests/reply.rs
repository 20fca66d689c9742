//! What a server does with a merge's new changes: stores them as they arrived, and
//! answers teammates from them (`reply_from_kept`). Both must mean exactly what
//! rebuilding the changes from the log would.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::*;
use tungnha_client_core::sync::{self, DocMessage, Envelope, Payload, Replica};
use tungnha_client_core::{ChangeHash, HamletLog, Role};

fn hashes(msg: &DocMessage) -> BTreeSet<ChangeHash> {
    sync::decode_changes(msg, &mut sync::ChangeBudget::reply())
        .expect("changes")
        .iter()
        .map(|c| c.hash())
        .collect()
}

#[test]
fn kept_changes_store_and_answer_like_the_log_itself() {
    let h = hamlet("kp-3");
    let (genesis, households) = listed_hamlet("kp-3", 40);
    let mut server = genesis.clone();
    let mut stored: Vec<Vec<u8>> = vec![genesis.save()];
    let mut kept: HashMap<ChangeHash, Vec<u8>> = HashMap::new();

    // Three volunteers, each with five visits logged offline, sync one after another.
    let mut phones: Vec<Replica> = (1..=3u8)
        .map(|n| {
            // Each phone was given the genesis by the server, which it knows holds it.
            let mut phone = Replica::new(actor(n));
            let shared = [("server".to_owned(), genesis.heads())].into();
            phone.restore(h.clone(), genesis.clone(), genesis.heads(), shared);
            phone
        })
        .collect();
    let mut requests = Vec::new();
    for (n, phone) in phones.iter_mut().enumerate() {
        let who = author(&format!("u-tnv{n}"), Role::Volunteer);
        for i in 0..5 {
            let (outcome, form) = realistic_visit(i + 5 * n);
            let at = NOW - 3_600_000 + i as i64;
            phone
                .log_mut(&h)
                .expect("held")
                .log_visit(&who, &households[i * 7 + n], outcome, &form, at, NOW)
                .expect("visit");
        }
        let request = phone.request("server");
        let msg = request.docs.into_iter().next().expect("one hamlet");
        let changes = sync::decode_changes(&msg, &mut sync::ChangeBudget::reply()).expect("changes");
        let merged =
            sync::merge_checked(&h, &server, changes, Some((&who, NOW))).expect("accepted").expect("new");
        assert!(!merged.new_changes.is_empty());
        stored.push(merged.new_changes.iter().flat_map(|(_, b)| b).copied().collect());
        kept.extend(merged.new_changes);
        server = merged.log;
        requests.push(msg.heads);
    }

    // What was stored loads back into the very log the server holds.
    let reloaded = HamletLog::load_chunks(stored.iter().map(Vec::as_slice)).expect("the stored chunks load");
    assert_eq!(reloaded.heads(), server.heads());

    // The first volunteer lacks the other two's changes: the kept answer carries
    // exactly the changes rebuilding would, and brings the phone level with the server.
    let their_heads = &requests[0];
    let rebuilt = sync::reply_for(&h, &server, their_heads).expect("an answer");
    let from_kept =
        sync::reply_from_kept(&h, &server, their_heads, &|c| kept.get(c).cloned()).expect("an answer");
    assert_eq!(hashes(&from_kept), hashes(&rebuilt));
    assert_eq!(hashes(&from_kept).len(), 2, "one squashed change from each teammate");
    assert_eq!(from_kept.heads, server.heads());

    // One change missing from what was kept: the answer is rebuilt, still complete.
    let (forgotten, _) =
        kept.iter().find(|(c, _)| hashes(&rebuilt).contains(c)).map(|(c, b)| (*c, b.clone())).expect("one");
    let partial = sync::reply_from_kept(&h, &server, their_heads, &|c| {
        (*c != forgotten).then(|| kept.get(c).cloned()).flatten()
    })
    .expect("an answer");
    assert_eq!(hashes(&partial), hashes(&rebuilt));

    let mut first = phones.remove(0);
    first.absorb("server", &Envelope { docs: vec![from_kept], ..Envelope::default() }).expect("absorbed");
    assert_eq!(first.log(&h).expect("held").heads(), server.heads());

    // A phone already level gets nothing.
    assert!(sync::reply_from_kept(&h, &server, &server.heads(), &|c| kept.get(c).cloned()).is_none());
    assert!(matches!(rebuilt.payload, Payload::Changes(_)));
}
