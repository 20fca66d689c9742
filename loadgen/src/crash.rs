//! `crash-cycles`: a fleet of devices works through rounds of offline visits and syncs
//! while the server is killed again and again and restarted on the same address.
//!
//! On every other cycle the server is started with its failpoint armed
//! (`tungnha_server::failpoint`), so that it aborts right after a sync is durable and
//! before its device is answered; on the others it is killed with SIGKILL at a random
//! moment. Devices retry as phones do. The checks:
//! - after each restart, the server holds every visit a device had been told was saved
//!   before the crash;
//! - at the end, after two quiet rounds, every device of a hamlet holds the same log,
//!   and the server's figures for the hamlet equal those computed from it;
//! - no visit is lost, and `admin verify` passes after a last SIGKILL.
//!
//! With `--database` and `--instances 2` the state is in PostgreSQL and a second
//! instance stays up beside the one killed: devices take turns between them, and one
//! whose instance stops answering goes to the other, as a load balancer would send it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use tungnha_client_core::transport::HttpTransport;

use crate::fleet::{self, SimDevice};
use crate::server::{Launch, ServerProcess};
use crate::setup::{COMMUNE, Prepared};
use tungnha_server::store::Location;

/// How a crash-cycles run goes.
#[derive(Debug, Clone, Copy)]
pub struct Cycles {
    /// Crashes to go through.
    pub kills: usize,
    /// Visits each device logs offline before each of its syncs.
    pub visits_per_round: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// The server's commune totals, as its official's device reads them.
fn server_visits(base: &str, official_token: &str) -> Result<u64, String> {
    let report = HttpTransport::new(base)
        .with_token(official_token)
        .get(&format!("/api/v1/communes/{COMMUNE}/coverage"))
        .map_err(|e| e.to_string())?;
    Ok(report["totals"]["visits"].as_u64().unwrap_or(0))
}

/// Syncs a device until quiet, retrying through crashes as a phone would, for up to a
/// minute; after a failure it tries the next of `bases` (the instances behind a load
/// balancer).
fn sync_through(device: &mut SimDevice, bases: &[String]) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut wait = Duration::from_millis(50);
    let mut attempt = 0;
    loop {
        match device.sync() {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                attempt += 1;
                if bases.len() > 1 {
                    device.fail_over(&bases[attempt % bases.len()]);
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(1));
            }
            Err(e) => return Err(format!("a device could not sync for a minute: {e}")),
        }
    }
}

/// Visits the server had made durable, read from its data directory while it is down
/// (so the check does not depend on the next incarnation staying up), or from its
/// database.
fn durable_visits(location: &Location) -> Result<u64, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let db = loop {
        match location.open() {
            Ok(db) => break db,
            // The killed process's lock goes with it, a moment later.
            Err(tungnha_server::store::StoreError::InUse(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let mut visits = 0;
    for h in db.all_hamlets().map_err(|e| e.to_string())? {
        visits += db.coverage(&h.id).map_err(|e| e.to_string())?.visits;
    }
    Ok(visits)
}

/// Crashes the server `kills` times; returns (incarnations armed with the failpoint,
/// incarnations that aborted at it) and the durability problems found.
fn crash_loop(
    binary: &Path,
    location: &Location,
    addr: SocketAddr,
    server: &Mutex<Option<ServerProcess>>,
    acknowledged: &AtomicU64,
    kills: usize,
) -> Result<((usize, usize), Vec<String>), String> {
    let mut rng = rand::rng();
    let mut found = Vec::new();
    let (mut armed, mut aborted) = (0, 0);
    for cycle in 0..kills {
        // Run a while, or until an armed failpoint has aborted the server.
        let until = Instant::now() + Duration::from_millis(rng.random_range(300..1500));
        while Instant::now() < until {
            let mut guard = server.lock().map_err(|_| "poisoned")?;
            if guard.as_mut().is_none_or(ServerProcess::exited) {
                aborted += 1;
                break;
            }
            drop(guard);
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(s) = server.lock().map_err(|_| "poisoned")?.take() {
            s.kill();
        }
        let told = acknowledged.load(Ordering::SeqCst);
        let kept = durable_visits(location)?;
        if kept < told {
            found.push(format!(
                "after crash {}: {kept} visits are durable, devices were told {told} were saved",
                cycle + 1
            ));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(50..300)));
        // Every other incarnation aborts by itself between a durable write and its
        // answer; under a busy fleet it may do so before it is seen to be up.
        let failpoint = (cycle % 2 == 0 && cycle + 1 < kills).then(|| rng.random_range(1..40));
        armed += usize::from(failpoint.is_some());
        let next = match start(binary, location, addr, &Launch { failpoint, ..Launch::default() }) {
            Ok(next) => Some(next),
            Err(_) if failpoint.is_some() => None,
            Err(e) => return Err(e),
        };
        *server.lock().map_err(|_| "poisoned")? = next;
    }
    Ok(((armed, aborted), found))
}

/// Starts a server on `location` at `addr`.
fn start(
    binary: &Path,
    location: &Location,
    addr: SocketAddr,
    launch: &Launch,
) -> Result<ServerProcess, String> {
    match location {
        Location::Data(dir) => ServerProcess::start_on(binary, dir, addr, launch),
        Location::Database(url) => ServerProcess::start_on_database(binary, url, addr, launch),
    }
}

fn free_address() -> Result<SocketAddr, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Runs the crash cycles on a prepared workload, its state in its data directory or
/// in `database` (where a second instance, never killed, serves beside the one that
/// is); returns whether every check held, and the report.
pub fn run(
    binary: &Path,
    prepared: &Prepared,
    cycles: Cycles,
    database: Option<&str>,
) -> Result<(bool, String), String> {
    let location = match database {
        Some(url) => Location::Database(url.to_owned()),
        None => Location::Data(prepared.data.clone()),
    };
    let addr = free_address()?;
    let server = Mutex::new(Some(start(binary, &location, addr, &Launch::default())?));
    let steady = match database {
        Some(url) => {
            Some(ServerProcess::start_on_database(binary, url, free_address()?, &Launch::default())?)
        }
        None => None,
    };
    let mut bases = vec![format!("http://{addr}")];
    bases.extend(steady.as_ref().map(|s| format!("http://{}", s.addr)));
    // Figures are read where a server is always up.
    let base = bases.last().cloned().unwrap_or_default();
    let official = HttpTransport::new(&base)
        .enrol(&prepared.official_code, "crash official")
        .map_err(|e| e.to_string())?;

    let t = Instant::now();
    let slots: Vec<Mutex<(usize, &crate::setup::Enrolment)>> =
        prepared.enrolments.iter().enumerate().map(|(i, e)| Mutex::new((i, e))).collect();
    let mut devices = Vec::new();
    let enrol = |(rank, e): &mut (usize, &crate::setup::Enrolment)| {
        fleet::enrol(&bases[*rank % bases.len()], e, *rank)
    };
    for r in fleet::pool(&slots, cycles.concurrency, enrol) {
        devices.push(Mutex::new(r.map_err(|e| format!("enrolment: {e}"))?.0));
    }
    println!("{} devices enrolled in {:.1} s", devices.len(), t.elapsed().as_secs_f64());

    // Visits confirmed by an answer, and visits logged.
    let acknowledged = AtomicU64::new(0);
    let logged = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let mut problems: Vec<String> = Vec::new();
    let (mut failpoint_cycles, mut aborted_cycles) = (0, 0);
    let t = Instant::now();
    std::thread::scope(|scope| -> Result<(), String> {
        let killer = scope.spawn(|| {
            let outcome = crash_loop(binary, &location, addr, &server, &acknowledged, cycles.kills);
            // Whatever happened, the devices stop starting new rounds.
            done.store(true, Ordering::SeqCst);
            outcome
        });
        // Rounds of offline work and sync, until the crashes are over.
        let mut rounds = 0;
        while !done.load(Ordering::SeqCst) || rounds == 0 {
            rounds += 1;
            let now = tungnha_server::now_ms();
            for r in fleet::pool(&devices, cycles.concurrency, |d| -> Result<(), String> {
                d.log_offline(cycles.visits_per_round, now)?;
                logged.fetch_add(cycles.visits_per_round as u64, Ordering::SeqCst);
                sync_through(d, &bases)?;
                acknowledged.fetch_add(cycles.visits_per_round as u64, Ordering::SeqCst);
                Ok(())
            }) {
                r?;
            }
        }
        let (failpoints, found) = killer.join().map_err(|_| "the killer thread panicked")??;
        (failpoint_cycles, aborted_cycles) = failpoints;
        problems.extend(found);
        println!(
            "{rounds} rounds of work over {} crashes in {:.1} s",
            cycles.kills,
            t.elapsed().as_secs_f64()
        );
        Ok(())
    })?;

    // Two quiet rounds: every device takes in what the others sent.
    for _ in 0..2 {
        for r in fleet::pool(&devices, cycles.concurrency, |d| sync_through(d, &bases)) {
            r?;
        }
    }
    let expected = logged.load(Ordering::SeqCst) + prepared.seeded_visits;
    let held = server_visits(&base, &official.token)?;
    if held != expected {
        problems.push(format!("the server holds {held} visits of {expected} logged"));
    }
    // Every device of a hamlet holds the same log, and the server's figures for the
    // hamlet are the ones that log gives.
    let mut by_hamlet = std::collections::BTreeMap::new();
    for d in &devices {
        let d = d.lock().map_err(|_| "poisoned")?;
        let (hamlet, heads, coverage) = d.state().ok_or("a device lost its log")?;
        let first = by_hamlet.entry(hamlet.clone()).or_insert_with(|| (heads.clone(), coverage.clone()));
        if first.0 != heads {
            problems.push(format!("devices of {hamlet} hold different logs"));
        }
    }
    for (hamlet, (_, coverage)) in &by_hamlet {
        let report = HttpTransport::new(&base)
            .with_token(&official.token)
            .get(&format!("/api/v1/hamlets/{hamlet}/coverage"))
            .map_err(|e| e.to_string())?;
        let (visits, covered) =
            (report["coverage"]["visits"].as_u64(), report["coverage"]["covered"].as_u64());
        if (visits, covered) != (Some(coverage.visits), Some(coverage.covered)) {
            problems.push(format!(
                "{hamlet}: the server reports {visits:?} visits, {covered:?} covered; its devices {} and {}",
                coverage.visits, coverage.covered
            ));
        }
    }
    if let Some(s) = server.lock().map_err(|_| "poisoned")?.take() {
        s.kill();
    }
    if let Some(s) = steady {
        s.kill();
    }
    let db = location.open().map_err(|e| e.to_string())?;
    let (checked, differences) =
        tungnha_server::service::verify::verify(db.as_ref()).map_err(|e| e.to_string())?;
    if !differences.is_empty() {
        problems.push(format!(
            "admin verify: {} of {checked} hamlets differ from a full recompute",
            differences.len()
        ));
    }
    let report = format!(
        "crash-cycles{}: {} crashes ({failpoint_cycles} incarnations armed to abort between a durable write and its answer, \
         {aborted_cycles} of which did; the rest SIGKILL at random), \
         {} devices, {expected} visits logged, {held} on the server; devices agree per hamlet and with the server; \
         admin verify over {checked} hamlets: {}\n{}",
        if database.is_some() { " on PostgreSQL, a second instance serving throughout" } else { "" },
        cycles.kills,
        devices.len(),
        if differences.is_empty() { "equal to a full recompute" } else { "DIFFERENCES" },
        if problems.is_empty() {
            "every check held".to_owned()
        } else {
            format!("PROBLEMS:\n{}", problems.join("\n"))
        }
    );
    Ok((problems.is_empty(), report))
}
