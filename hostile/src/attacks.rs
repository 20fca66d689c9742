//! The worst payloads the security review sent, built on demand: what the load
//! generator's `hostile` workload fires at a running server while honest devices sync.
//! Each is small on the wire and asks the server for far more than it may spend.

use std::io::Write;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ROOT};
use tungnha_client_core::sync::leb::{write_sleb, write_uleb};
use tungnha_client_core::sync::{DocMessage, Envelope, Payload};
use tungnha_client_core::{ChangeHash, HamletId, HamletLog, HouseholdForm};

fn deflate(bytes: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    for b in bytes {
        let _ = enc.write_all(&b);
    }
    enc.finish().unwrap_or_default()
}

/// An envelope whose body inflates past 64 MiB (about 65 kB sent).
pub fn deflate_bomb() -> Vec<u8> {
    let mut out = b"TN\x01\x01".to_vec();
    out.extend(deflate((0..65).map(|_| vec![0u8; 1 << 20])));
    out
}

/// An HTTP body gzip-compressed from 64 MiB of zeros (sent with `Content-Encoding: gzip`).
pub fn gzip_bomb() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..64 {
        let _ = enc.write_all(&[0u8; 1 << 20]);
    }
    enc.finish().unwrap_or_default()
}

/// An envelope of `count` empty change chunks for `hamlet`.
pub fn empty_chunks(hamlet: &HamletId, count: usize) -> Vec<u8> {
    let msg = DocMessage {
        keys: Default::default(),
        doc: hamlet.clone(),
        heads: Vec::new(),
        payload: Payload::Changes(vec![Vec::new(); count]),
    };
    Envelope { docs: vec![msg], ..Envelope::default() }.encode()
}

/// A change chunk of a few dozen bytes holding a trillion ops.
pub fn op_bomb_chunk(actor: &ActorId) -> Vec<u8> {
    ops_chunk(actor, 1 << 40)
}

/// A change chunk of `ops` deletions of key "k" on the root, every column one run:
/// what Automerge walks op by op while it parses, from a few dozen bytes.
pub fn ops_chunk(actor: &ActorId, ops: i64) -> Vec<u8> {
    let run = |value: &[u8]| {
        let mut c = Vec::new();
        write_sleb(&mut c, ops);
        c.extend_from_slice(value);
        c
    };
    let mut insert = Vec::new();
    write_uleb(&mut insert, ops as u64);
    // Column specs (id << 4 | type), in order: key (string), insert (boolean), action
    // (integer: 3, delete), value metadata (0: null), predecessor counts (group: 0).
    let columns: [(u64, Vec<u8>); 5] =
        [(0x15, run(&[1, b'k'])), (0x34, insert), (0x42, run(&[3])), (0x56, run(&[0])), (0x70, run(&[0]))];
    let mut body = vec![0u8];
    write_uleb(&mut body, actor.to_bytes().len() as u64);
    body.extend_from_slice(actor.to_bytes());
    body.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    write_uleb(&mut body, columns.len() as u64);
    for (spec, data) in &columns {
        write_uleb(&mut body, *spec);
        write_uleb(&mut body, data.len() as u64);
    }
    for (_, data) in &columns {
        body.extend_from_slice(data);
    }
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1];
    write_uleb(&mut chunk, body.len() as u64);
    chunk.extend(body);
    chunk
}

/// An envelope carrying `chunks` for `hamlet`, from `heads`.
pub fn carrying(hamlet: &HamletId, heads: Vec<ChangeHash>, chunks: Vec<Vec<u8>>) -> Vec<u8> {
    Envelope {
        docs: vec![DocMessage {
            keys: Default::default(),
            doc: hamlet.clone(),
            heads,
            payload: Payload::Changes(chunks),
        }],
        ..Envelope::default()
    }
    .encode()
}

/// A change under `actor` with no dependencies that puts a rival `households` map
/// (losing to the genesis one) full of script.
pub fn rival_map(actor: &ActorId) -> Vec<u8> {
    let mut doc = Automerge::new().with_actor(actor.clone());
    let mut tx = doc.transaction();
    if let Ok(map) = tx.put_object(ROOT, "households", ObjType::Map) {
        let _ = tx.put(&map, "x", "<script>alert(1)</script>".repeat(7));
    }
    tx.commit();
    doc.get_changes(&[]).iter().flat_map(|c| c.raw_bytes().to_vec()).collect()
}

/// Changes under `actor`, on `log`, listing `count` made-up households in `author`'s
/// name at `now_ms`: more than a day's allowance.
pub fn swamp(
    log: &HamletLog,
    actor: &ActorId,
    author: &tungnha_client_core::Author,
    count: usize,
    now_ms: i64,
) -> Vec<Vec<u8>> {
    let mut log = log.clone();
    log.set_actor(actor.clone());
    let base = log.heads();
    let forms: Vec<HouseholdForm> = (0..count)
        .map(|i| HouseholdForm { label: format!("Nhà ảo {i}"), ..HouseholdForm::default() })
        .collect();
    let _ = log.import_households(author, &forms, now_ms);
    log.doc().get_changes(&base).iter().map(|c| c.raw_bytes().to_vec()).collect()
}
