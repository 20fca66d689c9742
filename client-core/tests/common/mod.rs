//! Shared fixtures for client-core's integration tests: a realistic hamlet, authors,
//! and a stand-in for the server's side of a sync exchange built from the same pieces
//! the server uses.

#![allow(dead_code)]

pub mod hostile;

use std::collections::BTreeMap;

use tungnha_client_core::sync::{self, Envelope, Replica, SyncError};
use tungnha_client_core::{
    ActorId, Author, HamletId, HamletLog, HouseholdForm, HouseholdId, Outcome, Role, UserId, VisitForm,
};

/// 2026-11-29T03:00:00Z, 10:00 in Hà Nội.
pub const NOW: i64 = 1_796_007_600_000;

pub fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user id")
}

pub fn author(name: &str, role: Role) -> Author {
    Author { user: user(name), role }
}

pub fn hamlet(name: &str) -> HamletId {
    HamletId::parse(name).expect("valid hamlet id")
}

pub fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

/// A hamlet log with `n` households listed by an official, as an import would.
pub fn listed_hamlet(name: &str, n: usize) -> (HamletLog, Vec<HouseholdId>) {
    let mut log = HamletLog::genesis(&hamlet(name));
    log.set_actor(actor(200));
    let official = author("u-official", Role::Official);
    let forms: Vec<HouseholdForm> = (0..n)
        .map(|i| HouseholdForm {
            label: format!("Số {}, hẻm {}", i % 60 + 1, i / 60 + 1),
            head: i.is_multiple_of(3).then(|| format!("Nguyễn Văn {i}")),
            members: Some((i % 6 + 1) as u32),
        })
        .collect();
    let ids = log.import_households(&official, &forms, NOW - 86_400_000).expect("households listed");
    (log, ids)
}

/// A varied, realistic visit form for the `i`th visit of a round.
pub fn realistic_visit(i: usize) -> (Outcome, VisitForm) {
    let outcome =
        [Outcome::Guided, Outcome::Guided, Outcome::NotHome, Outcome::AlreadyDone, Outcome::Revisit][i % 5];
    let topics =
        [vec!["vneid"], vec!["vneid", "dvc"], vec!["citizen_app", "payment"], vec![], vec!["online_safety"]]
            [i % 5]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
    let mut accounts = BTreeMap::new();
    if outcome == Outcome::Guided {
        accounts.insert("vneid_l1".to_owned(), 1 + (i % 2) as u32);
        if i.is_multiple_of(3) {
            accounts.insert("dvc".to_owned(), 1);
        }
    }
    let note = i.is_multiple_of(6).then(|| "Hẹn chiều mai".to_owned());
    let people = if outcome == Outcome::NotHome { 0 } else { 1 + (i % 3) as u32 };
    // Now and then a dossier filed online beside the accounts.
    let filed = u32::from(outcome == Outcome::Guided && i.is_multiple_of(4));
    (outcome, VisitForm { topics, accounts, people, filed, note })
}

/// The server's side of one exchange, built from client-core's pieces the way the
/// server composes them: actor check, judged merge, reply.
pub struct ServerSide {
    pub logs: BTreeMap<HamletId, HamletLog>,
}

impl ServerSide {
    pub fn respond(
        &mut self,
        request: &[u8],
        device_actor: &ActorId,
        who: &Author,
        now: i64,
    ) -> Result<Vec<u8>, SyncError> {
        let env = Envelope::decode(request)?;
        let mut reply = Envelope::default();
        // Keys listed on the server side itself (imports) are numbered as it stores them.
        for log in self.logs.values_mut() {
            log.keys_mut().number_new();
        }
        let events = |log: &HamletLog, seq: u64| {
            let (keys, erased) = log.keys().since(seq);
            sync::KeyMessage { seq: log.keys().seq(), keys, erased }
        };
        for msg in &env.docs {
            let Some(log) = self.logs.get_mut(&msg.doc) else {
                reply.drop.push(msg.doc.clone());
                continue;
            };
            let changes = sync::decode_changes(msg, &mut sync::ChangeBudget::request())?;
            sync::check_actor(&msg.doc, &changes, device_actor)?;
            match sync::merge_checked_keyed(&msg.doc, log, changes, &msg.keys.keys, Some((who, now))) {
                Ok(Some(mut merged)) => {
                    merged.log.keys_mut().number_new();
                    *log = merged.log;
                }
                Ok(None) | Err(SyncError::MissingDeps { .. }) => {}
                Err(e) => return Err(e),
            }
            let keys = events(log, if msg.heads.is_empty() { 0 } else { msg.keys.seq });
            let owed = !msg.keys.keys.is_empty() || keys.seq != msg.keys.seq;
            let answer = match sync::reply_for(&msg.doc, log, &msg.heads) {
                Some(doc) => Some(doc),
                None if owed => Some(sync::DocMessage {
                    doc: msg.doc.clone(),
                    heads: log.heads(),
                    payload: sync::Payload::Changes(Vec::new()),
                    keys: Default::default(),
                }),
                None => None,
            };
            reply.docs.extend(answer.map(|doc| sync::DocMessage { keys, ..doc }));
        }
        for (id, log) in &self.logs {
            if !env.docs.iter().any(|d| &d.doc == id) {
                reply.docs.extend(
                    sync::reply_for(id, log, &[]).map(|doc| sync::DocMessage { keys: events(log, 0), ..doc }),
                );
            }
        }
        Ok(reply.encode())
    }

    /// One full exchange with a device replica, as its transport would run it:
    /// returns the bytes sent up and down.
    pub fn sync(&mut self, phone: &mut Replica, who: &Author, now: i64) -> Result<(usize, usize), SyncError> {
        let request = phone.request("server").encode();
        let reply = self.respond(&request, phone.actor(), who, now)?;
        phone.absorb("server", &Envelope::decode(&reply)?)?;
        Ok((request.len(), reply.len()))
    }
}
