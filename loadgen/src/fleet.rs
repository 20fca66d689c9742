//! The simulated devices: each enrols through the API, holds a real replica of its
//! hamlet log, logs visits offline, and syncs with the same protocol as the CLI. A
//! bounded pool of threads drives them concurrently and times every request.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tungnha_client_core::sync::{Envelope, Replica};
use tungnha_client_core::transport::HttpTransport;
use tungnha_client_core::{
    ActorId, Author, ChangeHash, Coverage, HamletId, HouseholdId, Outcome, Role, VisitForm,
};

use crate::setup::Enrolment;

/// One timed request.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// How long it took.
    pub latency: Duration,
    /// Bytes sent (the envelope, compressed).
    pub up: usize,
    /// Bytes received.
    pub down: usize,
}

/// A simulated device.
pub struct SimDevice {
    author: Author,
    hamlet: HamletId,
    transport: HttpTransport,
    replica: Replica,
    /// Its rank among the devices of its hamlet, for realistic household reuse.
    rank: usize,
    /// The request it will send when it gets signal (`prepare`).
    prepared: Option<Vec<u8>>,
    /// The answer to it, not yet folded in (`exchange`, then `settle`).
    answer: Option<Vec<u8>>,
    /// Its token, for reaching another server instance (`fail_over`).
    token: String,
}

/// Runs `work` over `items` on `threads` threads; returns every result in item order.
pub fn pool<T: Send, R: Send>(
    items: &[Mutex<T>],
    threads: usize,
    work: impl Fn(&mut T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let mut guard = item.lock().unwrap_or_else(|p| p.into_inner());
                    let r = work(&mut guard);
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                }
            });
        }
    });
    results.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner())).collect()
}

/// Enrols one device and runs its first sync (receiving its hamlet log whole).
pub fn enrol(base: &str, e: &Enrolment, rank: usize) -> Result<(SimDevice, Vec<Request>), String> {
    let enrolled = HttpTransport::new(base).enrol(&e.code, "loadgen").map_err(|x| x.to_string())?;
    let actor = ActorId::try_from(enrolled.actor_id.as_str()).map_err(|x| x.to_string())?;
    let mut device = SimDevice {
        author: Author { user: e.user.clone(), role: Role::Volunteer },
        hamlet: e.hamlet.clone(),
        transport: HttpTransport::new(base).with_token(&enrolled.token),
        replica: Replica::new(actor),
        rank,
        prepared: None,
        answer: None,
        token: enrolled.token.clone(),
    };
    let requests = device.sync()?;
    if device.replica.log(&device.hamlet).is_none() {
        return Err(format!("{} did not receive hamlet {}", e.user, e.hamlet));
    }
    Ok((device, requests))
}

impl SimDevice {
    /// Syncs until quiet; returns each request's figures.
    pub fn sync(&mut self) -> Result<Vec<Request>, String> {
        let mut out = Vec::new();
        for _ in 0..tungnha_client_core::sync::MAX_ROUNDS {
            self.prepare();
            out.push(self.exchange()?);
            self.fold_in()?;
            if self.quiet() {
                return Ok(out);
            }
        }
        Err(format!("{} still had changes to send after five rounds", self.author.user))
    }

    /// Logs `visits` visits offline. Devices of one hamlet walk overlapping stretches
    /// of its list, so half of each one's households are also another's.
    pub fn log_offline(&mut self, visits: usize, now: i64) -> Result<(), String> {
        let log = self.replica.log_mut(&self.hamlet).ok_or("no log")?;
        let households: Vec<HouseholdId> = log.households().ok.into_keys().collect();
        let start = self.rank * visits / 2;
        for k in 0..visits {
            let h = &households[(start + k) % households.len()];
            let outcome = Outcome::ALL[(self.rank + k) % Outcome::ALL.len()];
            let mut form = VisitForm { people: 1 + (k % 3) as u32, ..VisitForm::default() };
            if outcome == Outcome::Guided {
                form.topics = vec!["vneid".into()];
                form.accounts.insert("vneid_l1".into(), 1);
            }
            let at = now - ((visits - k) as i64) * 300_000;
            log.log_visit(&self.author, h, outcome, &form, at, now).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Seals the offline run (squashing it into one change) and builds the request, as
    /// a phone does when it first tries to sync, so the burst times the server rather
    /// than the squash.
    pub fn prepare(&mut self) {
        self.prepared = Some(self.replica.request("server").encode());
    }

    /// Sends the prepared request and keeps the answer. Folding it in is the phone's
    /// own work, on its own processor (`settle`): the burst leaves it out so that the
    /// simulated phones do not take the server's two cores while it is being timed.
    pub fn exchange(&mut self) -> Result<Request, String> {
        let body = self.prepared.take().ok_or("nothing prepared")?;
        let started = Instant::now();
        let answer = self.transport.sync(&body).map_err(|e| e.to_string())?;
        let request = Request { latency: started.elapsed(), up: body.len(), down: answer.len() };
        self.answer = Some(answer);
        Ok(request)
    }

    /// Folds in the answer `exchange` kept; should anything still be unconfirmed, syncs
    /// on until quiet and returns those further requests.
    pub fn settle(&mut self) -> Result<Vec<Request>, String> {
        self.fold_in()?;
        if self.quiet() { Ok(Vec::new()) } else { self.sync() }
    }

    /// Folds the answer `exchange` kept into the replica.
    fn fold_in(&mut self) -> Result<(), String> {
        let answer = self.answer.take().ok_or("no answer to fold in")?;
        let answer = Envelope::decode(&answer).map_err(|e| e.to_string())?;
        self.replica.absorb("server", &answer).map(|_| ()).map_err(|e| e.to_string())
    }

    /// Its hamlet, that log's heads, and the figures the log gives.
    pub fn state(&self) -> Option<(HamletId, Vec<ChangeHash>, Coverage)> {
        let log = self.replica.log(&self.hamlet)?;
        Some((self.hamlet.clone(), log.heads(), Coverage::compute(log)))
    }

    /// Reaches the server at `base` from now on, as a load balancer sends a phone to
    /// another instance when its own stops answering.
    pub fn fail_over(&mut self, base: &str) {
        self.transport = HttpTransport::new(base).with_token(&self.token);
    }

    /// Whether the server has confirmed everything.
    pub fn quiet(&self) -> bool {
        !self.replica.needs_round("server")
    }
}
