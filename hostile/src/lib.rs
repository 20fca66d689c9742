//! The functions the fuzzers drive, one per kind of hostile input, so that the same
//! code runs under libFuzzer (`fuzz/`, `cargo fuzz run -s none <target>`) and as an
//! ordinary test replaying the committed corpus on the stable toolchain
//! (`tests/replay.rs`).
//!
//! Each function takes any bytes, must never panic, and asserts what must hold of
//! whatever it accepted:
//! - `envelope`: the sync envelope decoder; what decodes re-encodes to the same;
//! - `change`: change chunks (split at Automerge's chunk magic) through the cost scan,
//!   decoding, the op-level schema check and the judged merge into a realistic hamlet
//!   log; whatever is accepted loads again as a device would take it;
//! - `csv`: the hamlet, household and user import parsers;
//! - `sync`: the server's sync handler in process, on a real sled database, for an
//!   enrolled volunteer's device whose actor is `SEED_ACTOR`.

pub mod attacks;

use std::sync::{Mutex, OnceLock};

use tungnha_client_core::sync::{self, ChangeBudget, DocMessage, Envelope, Payload};
use tungnha_client_core::{
    ActorId, Author, HamletId, HamletLog, HouseholdForm, Outcome, Role, UserId, VisitForm,
};
use tungnha_server::records::{Device, User};
use tungnha_server::service::{accounts, audit, imports, organisation};
use tungnha_server::{AppState, Config};

/// The hamlet every target writes to.
pub const HAMLET: &str = "p-fuzz.kp-1";
/// The volunteer whose device sends the changes.
pub const VOLUNTEER: &str = "lan";
/// The actor the volunteer's device writes under (16 bytes of 7).
pub const SEED_ACTOR: [u8; 16] = [7; 16];
/// "Now" for every judgement: 2026-11-29T03:00:00Z.
pub const NOW: i64 = 1_796_007_600_000;

/// Automerge's chunk magic: `change` splits its input at each one.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

fn hamlet() -> HamletId {
    #[allow(clippy::expect_used)]
    HamletId::parse(HAMLET).expect("a valid hamlet id")
}

/// The volunteer, as an author.
pub fn volunteer() -> Author {
    #[allow(clippy::expect_used)]
    Author { user: UserId::parse(VOLUNTEER).expect("a valid user id"), role: Role::Volunteer }
}

/// A realistic hamlet log: 40 households an official listed, 80 visits by three
/// volunteers (the fuzzed device's user among them), some corrected, some voided.
pub fn realistic_log() -> HamletLog {
    let mut log = HamletLog::genesis(&hamlet());
    log.set_actor(ActorId::from(vec![200u8; 16]));
    #[allow(clippy::expect_used)]
    let official = Author { user: UserId::parse("canbo").expect("id"), role: Role::Official };
    let forms: Vec<HouseholdForm> = (0..40)
        .map(|i| HouseholdForm {
            label: format!("Số {}, hẻm {}", i % 20 + 1, i / 20 + 1),
            head: (i % 3 == 0).then(|| format!("Nguyễn Văn {i}")),
            members: Some(i % 6 + 1),
        })
        .collect();
    #[allow(clippy::expect_used)]
    let households = log.import_households(&official, &forms, NOW - 86_400_000).expect("listed");
    let people = ["lan", "minh", "bao"];
    for i in 0..80usize {
        #[allow(clippy::expect_used)]
        let who = Author { user: UserId::parse(people[i % 3]).expect("id"), role: Role::Volunteer };
        let outcome = [Outcome::Guided, Outcome::NotHome, Outcome::AlreadyDone, Outcome::Revisit][i % 4];
        let form = VisitForm {
            topics: if outcome == Outcome::Guided { vec!["vneid".into()] } else { vec![] },
            people: u32::from(outcome == Outcome::Guided),
            note: (i % 5 == 0).then(|| "Hẹn chiều mai".into()),
            ..VisitForm::default()
        };
        let at = NOW - 3_600_000 + i as i64 * 1000;
        if let Ok(v) = log.log_visit(&who, &households[i % households.len()], outcome, &form, at, NOW)
            && i % 10 == 0
        {
            let _ = log.void_visit(&who, &v, NOW);
        }
    }
    log
}

/// Decodes an envelope; anything that decodes must encode back to the same envelope.
pub fn envelope(data: &[u8]) {
    if let Ok(env) = Envelope::decode(data) {
        let again = Envelope::decode(&env.encode());
        assert_eq!(again.as_ref(), Ok(&env), "an envelope that decodes must round-trip");
    }
}

/// Splits bytes into change chunks at each Automerge chunk magic.
pub fn chunks(data: &[u8]) -> Vec<Vec<u8>> {
    let mut starts: Vec<usize> =
        data.windows(4).enumerate().filter(|(_, w)| *w == MAGIC).map(|(i, _)| i).collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    starts
        .iter()
        .zip(starts.iter().skip(1).chain(std::iter::once(&data.len())))
        .map(|(a, b)| data[*a..*b].to_vec())
        .collect()
}

/// Runs change chunks through everything the server does before keeping them.
pub fn change(data: &[u8]) {
    static LOG: OnceLock<HamletLog> = OnceLock::new();
    let log = LOG.get_or_init(realistic_log);
    let msg = DocMessage {
        keys: Default::default(),
        doc: hamlet(),
        heads: Vec::new(),
        payload: Payload::Changes(chunks(data)),
    };
    let Ok(changes) = sync::decode_changes(&msg, &mut ChangeBudget::request()) else { return };
    let author = volunteer();
    // A device taking the same changes relayed must not panic either.
    let _ = sync::merge_checked(&msg.doc, log, changes.clone(), None);
    if let Ok(Some(merged)) = sync::merge_checked(&msg.doc, log, changes, Some((&author, NOW))) {
        let reloaded = sync::load_checked(&msg.doc, &merged.log.save());
        assert!(reloaded.is_ok(), "an accepted change must be one every device takes in: {reloaded:?}");
    }
}

/// Runs bytes through the three import parsers.
pub fn csv(data: &[u8]) {
    #[allow(clippy::expect_used)]
    let commune = tungnha_client_core::CommuneId::parse("p-fuzz").expect("id");
    let _ = imports::parse_hamlets(&commune, data, &|_| Ok(false));
    let _ = imports::parse_households(data);
    let _ = imports::parse_users(&commune, data, &|_| Ok(false));
}

/// A server's state with one commune, hamlet and enrolled volunteer device.
pub struct SyncTarget {
    state: AppState,
    device: Device,
    user: User,
    _dir: tempfile::TempDir,
}

impl SyncTarget {
    /// Sets the server's data up in a fresh temporary directory.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let state = AppState::open(Config::new(dir.path().to_path_buf())).expect("the server's state");
        let db = state.store();
        organisation::commune_add(
            db,
            audit::CLI,
            "p-fuzz",
            "Phường Thử",
            tungnha_client_core::domain::CommuneKind::Phuong,
        )
        .expect("commune");
        imports::hamlets_import(
            db,
            audit::CLI,
            "p-fuzz",
            b"code,name,kind,target_households\nkp-1,Khu 1,khu_pho,40\n",
        )
        .expect("hamlet");
        let households: String = (1..=20).map(|i| format!("Số {i}\n")).collect();
        imports::households_import(db, audit::CLI, HAMLET, format!("label\n{households}").as_bytes())
            .expect("households");
        let user = accounts::user_add(db, audit::CLI, VOLUNTEER, Role::Volunteer, Some("p-fuzz"), None, None)
            .expect("volunteer");
        organisation::assign(db, audit::CLI, VOLUNTEER, HAMLET).expect("assigned");
        let device = Device {
            id: tungnha_client_core::DeviceId::parse("d-fuzz").expect("id"),
            user: user.id.clone(),
            name: "máy thử".into(),
            actor: ActorId::from(SEED_ACTOR.as_slice()).to_hex_string(),
            token_hash: tungnha_server::store::secret_hash("tn-fuzz"),
            enrolled_at: NOW,
            revoked_at: None,
            final_upload_until: None,
            last_sync_at: None,
            within: None,
        };
        db.put_new_device(&device).expect("device");
        Self { state, device, user, _dir: dir }
    }

    /// One sync request; the server must answer it, or refuse it, without panicking.
    /// Returns how many changes it merged, or the refusal's code.
    pub fn sync(&self, body: &[u8]) -> Result<usize, &'static str> {
        tungnha_server::service::sync::run(
            &self.state,
            self.device.clone(),
            &self.user,
            body,
            tungnha_server::now_ms(),
        )
        .map(|s| s.merged)
        .map_err(|e| e.code())
    }
}

impl Default for SyncTarget {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs bytes as a sync request against a process-wide `SyncTarget`.
pub fn sync(data: &[u8]) {
    static TARGET: OnceLock<Mutex<SyncTarget>> = OnceLock::new();
    let target = TARGET.get_or_init(|| Mutex::new(SyncTarget::new()));
    let target = target.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = target.sync(data);
}

/// A fuzz target: any bytes in, a panic for a finding.
pub type Target = fn(&[u8]);

/// Every target by its name, as the fuzz targets and the corpus folders call them.
pub const TARGETS: &[(&str, Target)] =
    &[("envelope", envelope), ("change", change), ("csv", csv), ("sync", sync)];
