//! An enrolled device (feature `device`): the local store, the replica it loads, the
//! credentials, and the sync loop against the server. This is what the volunteer CLI
//! runs, and what end-to-end tests drive as a real client.
//!
//! Every local write is persisted before it returns (the user is told "saved" only
//! then), and every request is persisted before it is sent, so that a squash is never
//! lost between the two.

use std::collections::BTreeSet;
use std::path::Path;

use automerge::ActorId;

use crate::api::{Me, UserView};
use crate::coverage::Coverage;
use crate::domain::{Author, HouseholdForm, Outcome, VisitForm, WalkInForm};
use crate::ids::{DeviceId, HamletId, HouseholdId, VisitId, WalkInId};
use crate::log::{HamletLog, LogError};
use crate::store::{Store, StoreError};
use crate::sync::{Envelope, Replica, SyncError};
use crate::transport::{HttpTransport, TransportError};

/// The name a device's replica gives its server.
pub const SERVER: &str = "server";
pub use crate::sync::MAX_ROUNDS;

/// What can go wrong on a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The local store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network or the server.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A sync message.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// A write to a hamlet log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// No device is enrolled in this home directory.
    #[error(
        "this device is not enrolled yet: run `tungnha enrol URL CODE` with the code from your team leader"
    )]
    NotEnrolled,
    /// A device is enrolled here already.
    #[error("a device is already enrolled in this home directory ({0}); use another --home")]
    AlreadyEnrolled(String),
    /// Input refused before anything was written.
    #[error("{0}")]
    Invalid(String),
}

/// The credentials an enrolment gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The server's base URL.
    pub server: String,
    /// This device's id.
    pub device_id: DeviceId,
    /// The secret token.
    pub token: String,
    /// The actor every change is made under.
    pub actor: ActorId,
    /// Whose device it is.
    pub user: UserView,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Exchanges run.
    pub rounds: usize,
    /// Changes sent.
    pub sent_changes: usize,
    /// Changes received.
    pub received_changes: usize,
    /// Bytes sent, on the wire.
    pub bytes_up: usize,
    /// Bytes received, on the wire.
    pub bytes_down: usize,
    /// Hamlet logs newly held.
    pub started: Vec<HamletId>,
    /// Hamlet logs dropped (unassigned).
    pub dropped: Vec<HamletId>,
    /// The device was revoked and its data wiped.
    pub wiped: bool,
    /// Wiped after the server kept the unsent changes it carried (a final upload).
    pub kept: bool,
    /// Wiped with unsent changes the server did not take (the device was revoked as
    /// lost, or its final upload was spent or refused).
    pub unsent_lost: usize,
}

/// Where the device stands, for `tungnha status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// Local changes the server has not confirmed.
    pub pending_changes: usize,
    /// When the last sync finished, ms since epoch.
    pub last_sync_at: Option<i64>,
    /// Hamlet logs held.
    pub hamlets: usize,
}

/// An enrolled device.
#[derive(Debug)]
pub struct Device {
    store: Store,
    replica: Replica,
    identity: Identity,
    /// Problems found loading the store (damaged hamlet logs).
    pub damaged: Vec<StoreError>,
}

fn text(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    Ok(store.get(key)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

impl Device {
    /// Enrols a new device in `home` with a leader's code, then runs a first sync.
    /// If the first sync fails (no signal), the device is enrolled all the same.
    pub fn enrol(home: &Path, server: &str, code: &str, device_name: &str) -> Result<Self, DeviceError> {
        let store = Store::open(home)?;
        if let Some(id) = text(&store, "device_id")? {
            return Err(DeviceError::AlreadyEnrolled(id));
        }
        let enrolled = HttpTransport::new(server).enrol(code, device_name)?;
        let actor = ActorId::try_from(enrolled.actor_id.as_str())
            .map_err(|e| DeviceError::Invalid(format!("the server gave an invalid actor id: {e}")))?;
        let user = serde_json::to_vec(&enrolled.user).map_err(|e| DeviceError::Invalid(e.to_string()))?;
        store.set(&[
            ("server", server.trim_end_matches('/').as_bytes()),
            ("device_id", enrolled.device_id.as_str().as_bytes()),
            ("token", enrolled.token.as_bytes()),
            ("actor", enrolled.actor_id.as_bytes()),
            ("user", &user),
        ])?;
        let identity = Identity {
            server: server.trim_end_matches('/').to_owned(),
            device_id: enrolled.device_id,
            token: enrolled.token,
            actor: actor.clone(),
            user: enrolled.user,
        };
        let mut device = Self { store, replica: Replica::new(actor), identity, damaged: Vec::new() };
        let _ = device.sync();
        Ok(device)
    }

    /// Opens the device enrolled in `home`.
    pub fn open(home: &Path) -> Result<Self, DeviceError> {
        let store = Store::open(home)?;
        let (Some(server), Some(device_id), Some(token), Some(actor), Some(user)) = (
            text(&store, "server")?,
            text(&store, "device_id")?,
            text(&store, "token")?,
            text(&store, "actor")?,
            store.get("user")?,
        ) else {
            return Err(DeviceError::NotEnrolled);
        };
        let bad = |what: &str| DeviceError::Invalid(format!("the stored {what} is damaged; enrol again"));
        let actor = ActorId::try_from(actor.as_str()).map_err(|_| bad("actor"))?;
        let identity = Identity {
            server,
            device_id: DeviceId::parse(&device_id).map_err(|_| bad("device id"))?,
            token,
            actor: actor.clone(),
            user: serde_json::from_slice(&user).map_err(|_| bad("user"))?,
        };
        let loaded = store.load(actor)?;
        Ok(Self { store, replica: loaded.replica, identity, damaged: loaded.damaged })
    }

    /// The credentials.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    fn author(&self) -> Author {
        Author { user: self.identity.user.id.clone(), role: self.identity.user.role }
    }

    fn transport(&self) -> HttpTransport {
        HttpTransport::new(&self.identity.server).with_token(&self.identity.token)
    }

    /// What the server last said about this user (hamlet names, catalogue), if known.
    pub fn me(&self) -> Option<Me> {
        self.store.get("me").ok().flatten().and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// The hamlets held, with their names when known.
    pub fn hamlets(&self) -> Vec<(HamletId, Option<String>)> {
        let me = self.me();
        self.replica
            .hamlets()
            .map(|h| {
                let name =
                    me.as_ref().and_then(|m| m.hamlets.iter().find(|x| &x.id == h)).map(|x| x.name.clone());
                (h.clone(), name)
            })
            .collect()
    }

    /// A held hamlet log.
    pub fn log(&self, hamlet: &HamletId) -> Option<&HamletLog> {
        self.replica.log(hamlet)
    }

    /// The hamlet whose log lists a household.
    pub fn hamlet_of(&self, household: &HouseholdId) -> Option<HamletId> {
        self.replica
            .hamlets()
            .find(|h| self.replica.log(h).is_some_and(|l| l.household_at(household, None).is_some()))
            .cloned()
    }

    /// Lists a household missing from a hamlet's list. Durable when it returns.
    pub fn add_household(
        &mut self,
        hamlet: &HamletId,
        form: &HouseholdForm,
        now_ms: i64,
    ) -> Result<HouseholdId, DeviceError> {
        let author = self.author();
        let log = self.replica.log_mut(hamlet).ok_or_else(|| {
            DeviceError::Invalid(format!("hamlet {hamlet} is not on this device; run `tungnha hamlets`"))
        })?;
        let id = log.add_household(&author, form, now_ms)?;
        self.store.persist(&self.replica, hamlet)?;
        Ok(id)
    }

    /// Logs a visit. Topic and account codes are checked against the commune's
    /// catalogue when it is known. Durable when it returns; needs no network.
    pub fn log_visit(
        &mut self,
        household: &HouseholdId,
        outcome: Outcome,
        form: &VisitForm,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<VisitId, DeviceError> {
        self.check_catalogue(&form.topics, form.accounts.keys())?;
        let hamlet = self.hamlet_of(household).ok_or_else(|| {
            DeviceError::Invalid(format!("household {household} is not in any hamlet on this device"))
        })?;
        // The server refuses visits before the day the commune started recording them;
        // refused here, the visit never blocks the device's later syncs.
        let from = self.me().and_then(|me| me.hamlets.into_iter().find(|h| h.id == hamlet)?.visits_from);
        if let Some(from) = from.filter(|from| at_ms < *from) {
            return Err(DeviceError::Invalid(format!(
                "the visit's time is before {}, when the commune started recording visits; check the device's clock",
                crate::domain::vn_day(from)
            )));
        }
        let author = self.author();
        let log =
            self.replica.log_mut(&hamlet).ok_or_else(|| DeviceError::Invalid("hamlet vanished".into()))?;
        let id = log.log_visit(&author, household, outcome, form, at_ms, now_ms)?;
        self.store.persist(&self.replica, &hamlet)?;
        Ok(id)
    }

    /// Logs someone helped at a one-stop counter this device holds; durable before it
    /// returns, like a visit.
    pub fn log_walkin(
        &mut self,
        counter: &HamletId,
        form: &WalkInForm,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<WalkInId, DeviceError> {
        self.check_catalogue(&form.topics, form.accounts.keys())?;
        let author = self.author();
        let log = self
            .replica
            .log_mut(counter)
            .ok_or_else(|| DeviceError::Invalid(format!("counter {counter} is not on this device")))?;
        let id = log.log_walkin(&author, form, at_ms, now_ms)?;
        self.store.persist(&self.replica, counter)?;
        Ok(id)
    }

    /// Refuses topics and account kinds the commune's catalogue does not list, naming
    /// the ones it does.
    fn check_catalogue<'a>(
        &self,
        topics: &[String],
        mut accounts: impl Iterator<Item = &'a String>,
    ) -> Result<(), DeviceError> {
        let Some(me) = self.me() else { return Ok(()) };
        let c = &me.catalogue.catalogue;
        if let Some(t) = topics.iter().find(|t| !c.has_topic(t)) {
            let known: Vec<&str> = c.topics.iter().map(|e| e.code.as_str()).collect();
            return Err(DeviceError::Invalid(format!(
                "unknown topic “{t}”; topics are: {}",
                known.join(", ")
            )));
        }
        if let Some(k) = accounts.find(|k| !c.has_account_kind(k)) {
            let known: Vec<&str> = c.account_kinds.iter().map(|e| e.code.as_str()).collect();
            return Err(DeviceError::Invalid(format!(
                "unknown account kind “{k}”; account kinds are: {}",
                known.join(", ")
            )));
        }
        Ok(())
    }

    /// A JSON resource of the server's API, fetched with this device's token (the
    /// coverage reports a leader or official may read).
    pub fn remote(&self, path: &str) -> Result<serde_json::Value, DeviceError> {
        Ok(self.transport().get(path)?)
    }

    /// A hamlet's coverage, computed locally (offline).
    pub fn coverage(&self, hamlet: &HamletId) -> Option<Coverage> {
        self.replica.log(hamlet).map(Coverage::compute)
    }

    /// Local changes not yet confirmed, and when the last sync was.
    pub fn status(&self) -> Status {
        let last_sync_at = text(&self.store, "last_sync_at").ok().flatten().and_then(|s| s.parse().ok());
        Status {
            pending_changes: self.replica.pending_for(SERVER),
            last_sync_at,
            hamlets: self.replica.hamlets().count(),
        }
    }

    /// Syncs with the server until neither side has anything to send (at most
    /// `MAX_ROUNDS` exchanges). A failure loses nothing: what was written stays stored.
    pub fn sync(&mut self) -> Result<SyncReport, DeviceError> {
        self.sync_at(crate::domain::now_ms())
    }

    fn sync_at(&mut self, now_ms: i64) -> Result<SyncReport, DeviceError> {
        let transport = self.transport();
        let mut report = SyncReport::default();
        let held_before: BTreeSet<HamletId> = self.replica.hamlets().cloned().collect();
        for _ in 0..MAX_ROUNDS {
            let request = self.replica.request(SERVER);
            // The request may hold a fresh squash: store it before it leaves.
            self.store.persist_all(&self.replica, request.docs.iter().map(|d| &d.doc))?;
            let sent_now = request
                .docs
                .iter()
                .map(|d| match &d.payload {
                    crate::sync::Payload::Changes(c) => c.len(),
                    crate::sync::Payload::Snapshot(_) => 0,
                })
                .sum::<usize>();
            report.sent_changes += sent_now;
            let bytes = request.encode();
            report.bytes_up += bytes.len();
            let answer = transport.sync(&bytes)?;
            report.bytes_down += answer.len();
            report.rounds += 1;
            let answer = Envelope::decode(&answer).map_err(SyncError::from)?;
            if answer.wipe {
                self.store.wipe()?;
                self.replica = Replica::new(self.identity.actor.clone());
                report.wiped = true;
                report.kept = answer.kept;
                if !answer.kept {
                    report.unsent_lost = sent_now;
                }
                return Ok(report);
            }
            let absorbed = self.replica.absorb(SERVER, &answer)?;
            report.received_changes += absorbed.values().map(|a| a.changes).sum::<usize>();
            // Dropped hamlets are no longer held, so persisting them removes them.
            self.store.persist_all(&self.replica, self.replica.hamlets().chain(&answer.drop))?;
            report.dropped.extend(answer.drop.iter().cloned());
            if !self.replica.needs_round(SERVER) {
                break;
            }
        }
        report.started = self.replica.hamlets().filter(|h| !held_before.contains(*h)).cloned().collect();
        let now = now_ms.to_string();
        let mut values: Vec<(&str, Vec<u8>)> = vec![("last_sync_at", now.into_bytes())];
        // Names and catalogue change rarely; a failure here is not a failed sync.
        if let Ok(me) = transport.me()
            && let Ok(json) = serde_json::to_vec(&me)
        {
            values.push(("me", json));
        }
        let refs: Vec<(&str, &[u8])> = values.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        self.store.set(&refs)?;
        Ok(report)
    }
}
