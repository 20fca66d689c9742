//! Writes the fuzzers' seed corpus: `tungnha-seeds DIR` fills `DIR/<target>/` with a
//! few honest and hostile inputs per target, which the fuzzers mutate and
//! `tests/replay.rs` replays. The committed corpus is `fuzz/corpus/`.

use std::path::Path;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use tungnha_client_core::sync::{BodyCompression, DocMessage, Envelope, Payload, outgoing};
use tungnha_client_core::{ActorId, HamletId, HamletLog, HouseholdForm, Outcome, VisitForm};
use tungnha_hostile::{HAMLET, NOW, SEED_ACTOR, realistic_log, volunteer};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let folder = dir.join(target);
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join(name), bytes)
}

/// Raw bytes of the changes `log` holds beyond `base`, one after another.
fn changes_since(log: &HamletLog, base: &[tungnha_client_core::ChangeHash]) -> Vec<u8> {
    log.doc().get_changes(base).iter().flat_map(|c| c.raw_bytes().to_vec()).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: tungnha-seeds DIR")?;
    let dir = Path::new(&dir);
    let hamlet = HamletId::parse(HAMLET)?;
    let lan = volunteer();

    // change: honest writes on the realistic log, and two hostile ones.
    let log = realistic_log();
    let mut phone = log.clone();
    phone.set_actor(ActorId::from(SEED_ACTOR.as_slice()));
    let base = phone.heads();
    let household = phone.add_household(
        &lan,
        &HouseholdForm { label: "Số 99, hẻm mới".into(), ..Default::default() },
        NOW,
    )?;
    let visit = phone.log_visit(
        &lan,
        &household,
        Outcome::Guided,
        &VisitForm {
            topics: vec!["vneid".into(), "dvc".into()],
            people: 2,
            note: Some("Hẹn mai".into()),
            ..Default::default()
        },
        NOW,
        NOW,
    )?;
    write(dir, "change", "honest-household-and-visit", &changes_since(&phone, &base))?;
    let before = phone.heads();
    phone.correct_visit(
        &lan,
        &visit,
        Outcome::Revisit,
        &VisitForm { people: 1, ..Default::default() },
        NOW,
    )?;
    phone.void_visit(&lan, &visit, NOW)?;
    write(dir, "change", "honest-correct-and-void", &changes_since(&phone, &before))?;
    let mut rival = Automerge::new().with_actor(ActorId::from(SEED_ACTOR.as_slice()));
    let mut tx = rival.transaction();
    let map = tx.put_object(ROOT, "households", ObjType::Map)?;
    let list = tx.put_object(&map, "aaaaaaaaaaaaaaaa", ObjType::List)?;
    tx.insert(&list, 0, "<script>")?;
    tx.commit();
    let rival: Vec<u8> = rival.get_changes(&[]).iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
    write(dir, "change", "hostile-rival-households-map", &rival)?;

    // sync: requests built on the genesis change alone, which every log shares, so
    // they merge into the target's log whatever else it holds.
    let mut fresh = HamletLog::genesis(&hamlet);
    fresh.set_actor(ActorId::from(SEED_ACTOR.as_slice()));
    let genesis = fresh.heads();
    let h = fresh.add_household(&lan, &HouseholdForm { label: "Số 7".into(), ..Default::default() }, NOW)?;
    fresh.log_visit(
        &lan,
        &h,
        Outcome::Guided,
        &VisitForm { people: 1, topics: vec!["vneid".into()], ..Default::default() },
        NOW,
        NOW,
    )?;
    let honest = Envelope { docs: vec![outgoing(&hamlet, &fresh, &genesis)], ..Envelope::default() };
    write(dir, "sync", "honest-deflated", &honest.encode())?;
    write(dir, "sync", "honest-plain", &honest.encode_with(BodyCompression::None))?;
    let heads_only = Envelope {
        docs: vec![DocMessage {
            keys: Default::default(),
            doc: hamlet.clone(),
            heads: genesis.clone(),
            payload: Payload::Changes(vec![]),
        }],
        ..Envelope::default()
    };
    write(dir, "sync", "heads-only", &heads_only.encode_with(BodyCompression::None))?;
    let hostile = Envelope {
        docs: vec![DocMessage {
            keys: Default::default(),
            doc: hamlet.clone(),
            heads: vec![],
            payload: Payload::Changes(vec![rival.clone()]),
        }],
        ..Envelope::default()
    };
    write(dir, "sync", "hostile-rival-map", &hostile.encode_with(BodyCompression::None))?;

    // envelope: the sync seeds, a reply with a snapshot, drop and wipe.
    write(dir, "envelope", "request", &honest.encode_with(BodyCompression::None))?;
    let reply = Envelope {
        docs: vec![DocMessage {
            keys: Default::default(),
            doc: hamlet.clone(),
            heads: fresh.heads(),
            payload: Payload::Snapshot(fresh.save()),
        }],
        drop: vec![HamletId::parse("p-fuzz.kp-2")?],
        wipe: false,
        kept: false,
    };
    write(dir, "envelope", "reply-with-snapshot", &reply.encode_with(BodyCompression::None))?;
    write(dir, "envelope", "wipe", &Envelope { wipe: true, ..Envelope::default() }.encode())?;

    // csv: each import's file, good and bad.
    write(
        dir,
        "csv",
        "hamlets",
        "\u{feff}code,name,kind,target_households\nkp-1,Khu phố 1,khu_pho,300\nkp-2,\"Ấp 2, xã\",ap,-4\n"
            .as_bytes(),
    )?;
    write(
        dir,
        "csv",
        "households",
        "label,head,members\n\"Số 1, hẻm 2\",Nguyễn Văn A,4\nSố 2,,99\n".as_bytes(),
    )?;
    write(dir, "csv", "users", b"username,name,role\nlan.tran,Tran Lan,volunteer\n0912345678,So,admin\n")?;
    Ok(())
}
