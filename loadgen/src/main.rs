//! `tungnha-loadgen`: loads the sync server the way its users will, on loopback only.
//!
//! It sets up a temporary data directory through the admin functions, starts the real
//! `tungnha-server` binary on it, enrols every simulated device through the API, lets
//! each log visits offline, then syncs them all concurrently, timing every request and
//! sampling the server's memory. It ends by checking that no visit was lost: the
//! server's commune coverage equals the expected totals, and `admin verify` passes
//! after the server is killed.

mod crash;
mod fleet;
mod hostile;
mod server;
mod setup;

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use tungnha_client_core::transport::HttpTransport;

use crate::fleet::{Request, SimDevice};
use crate::server::{RssSampler, ServerProcess, cpu_time, rss_breakdown, rss_bytes, server_binary};
use crate::setup::{COMMUNE, Plan};

/// A named workload.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Workload {
    /// One commune's day: 24 hamlets, 40 devices × 30 visits.
    CommuneDay,
    /// A province syncing at once: 200 hamlets, 3,000 devices × 20 visits.
    ProvinceBurst,
    /// One hamlet log grown to 50,000 visits, then 40 devices syncing into it.
    LongCampaign,
    /// The commune coverage API and dashboard page at 1,000 and at 100,000 visits.
    DashboardScaling,
    /// The province dashboard page: 170 communes, 3,000 hamlets, at 10,000 and at
    /// 1,000,000 visits.
    ProvinceDashboard,
    /// A province's devices working in rounds while the server is killed 20 times
    /// (half of them between a durable write and its answer) and restarted.
    CrashCycles,
    /// The security review's worst inputs fired from 4 threads while a commune's 40
    /// honest devices run their day: the server's peak RSS and the honest p99.
    Hostile,
}

/// Load the Từng Nhà sync server like its users will (loopback only).
#[derive(Debug, Parser)]
struct Cli {
    /// The workload.
    #[arg(long, value_enum, default_value = "commune-day")]
    workload: Workload,
    /// Override: simulated devices.
    #[arg(long)]
    devices: Option<usize>,
    /// Override: visits each device logs offline.
    #[arg(long)]
    visits: Option<usize>,
    /// Override: hamlets.
    #[arg(long)]
    hamlets: Option<usize>,
    /// Override: visits seeded into the first hamlet's log before the run.
    #[arg(long)]
    seed_visits: Option<usize>,
    /// Override: households listed per hamlet (300).
    #[arg(long)]
    households: Option<usize>,
    /// Roll the seeded logs over before the run (a campaign closed): the devices then
    /// download and sync into the successor, whose history stays on the server.
    #[arg(long)]
    rollover: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// With crash-cycles: how many times the server crashes.
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// After the burst, wait this many seconds of quiet (the server evicts logs idle
    /// this long) and report the server's RSS then.
    #[arg(long)]
    idle: Option<u64>,
    /// Only set up the workload in this new directory, with a manifest for `--url`,
    /// and stop: serve it yourself (under a profiler, with other flags), then load it.
    #[arg(long, value_name = "DIR", conflicts_with = "url")]
    prepare: Option<std::path::PathBuf>,
    /// Load a server already running on loopback (http://127.0.0.1:PORT) instead of
    /// starting one; it must serve a directory `--prepare` set up.
    #[arg(long, requires = "prepared")]
    url: Option<String>,
    /// With `--url`: the directory `--prepare` set up, whose manifest names the
    /// devices' enrolment codes.
    #[arg(long, value_name = "DIR")]
    prepared: Option<std::path::PathBuf>,
    /// Set up and serve on this empty PostgreSQL database instead of a sled data
    /// directory (the sync workloads).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// With `--database`: server instances sharing it; devices take turns among them.
    /// (crash-cycles on a database always runs two: one killed, one serving throughout.)
    #[arg(long, default_value_t = 1, requires = "database")]
    instances: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("tungnha-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<bool, String> {
    let (hamlets, devices, visits, seed_visits) = match cli.workload {
        Workload::CommuneDay => (24, 40, 30, 0),
        Workload::ProvinceBurst => (200, 3_000, 20, 0),
        Workload::LongCampaign => (1, 40, 30, 50_000),
        Workload::DashboardScaling if cli.url.is_some() || cli.prepare.is_some() => {
            return Err(
                "dashboard-scaling starts its own servers; --prepare and --url are for the sync workloads"
                    .into(),
            );
        }
        Workload::DashboardScaling => return dashboard_scaling(&cli),
        Workload::ProvinceDashboard if cli.url.is_some() || cli.prepare.is_some() => {
            return Err(
                "province-dashboard starts its own servers; --prepare and --url are for the sync workloads"
                    .into(),
            );
        }
        Workload::ProvinceDashboard => return province_dashboard(&cli),
        Workload::CrashCycles if cli.url.is_some() || cli.prepare.is_some() => {
            return Err("crash-cycles starts, kills and restarts its own server; --prepare and --url are for the sync workloads".into());
        }
        Workload::CrashCycles => (200, 3_000, 2, 0),
        Workload::Hostile if cli.url.is_some() || cli.prepare.is_some() => {
            return Err(
                "hostile starts its own server; --prepare and --url are for the sync workloads".into()
            );
        }
        Workload::Hostile => (24, 40 + ATTACKERS, 30, 0),
    };
    if let Some(url) = &cli.url {
        return run_against(&cli, url);
    }
    let plan = Plan {
        hamlets: cli.hamlets.unwrap_or(hamlets),
        households: cli.households.unwrap_or(300),
        devices: cli.devices.unwrap_or(devices),
        seed_visits: cli.seed_visits.unwrap_or(seed_visits),
        seed_everywhere: false,
        rollover: cli.rollover,
    };
    let visits = cli.visits.unwrap_or(visits);
    println!(
        "workload {:?}: {} hamlets × {} households, {} devices × {} visits, {} visits seeded{}, {} in flight",
        cli.workload,
        plan.hamlets,
        plan.households,
        plan.devices,
        visits,
        plan.seed_visits,
        if plan.rollover { " then rolled over" } else { "" },
        cli.concurrency
    );
    let t = Instant::now();
    if let Some(dir) = &cli.prepare {
        let prepared = setup::prepare(&plan, Some(dir), None)?;
        prepared.write_manifest(visits)?;
        println!("setup: {:.1} s, in {}", t.elapsed().as_secs_f64(), dir.display());
        println!("next: serve it on loopback, then load it:");
        println!("  tungnha-server serve --data {} --listen 127.0.0.1:8080", dir.display());
        println!("  tungnha-loadgen --url http://127.0.0.1:8080 --prepared {}", dir.display());
        return Ok(true);
    }
    let binary = server_binary()?;
    if cli.database.is_some() && matches!(cli.workload, Workload::Hostile) {
        return Err(
            "hostile runs on a data directory; --database is for the sync workloads and crash-cycles".into(),
        );
    }
    let mut prepared = setup::prepare(&plan, None, cli.database.as_deref())?;
    if let (Some(url), false) = (&cli.database, matches!(cli.workload, Workload::CrashCycles)) {
        return run_on_database(&cli, visits, &binary, &prepared, url);
    }
    println!("setup: {:.1} s", t.elapsed().as_secs_f64());
    if let Workload::Hostile = cli.workload {
        let attackers = prepared.enrolments.split_off(prepared.enrolments.len().saturating_sub(ATTACKERS));
        return run_hostile(&cli, visits, &binary, &prepared, &attackers);
    }
    if let Workload::CrashCycles = cli.workload {
        let cycles =
            crash::Cycles { kills: cli.kills, visits_per_round: visits, concurrency: cli.concurrency };
        let (ok, report) = crash::run(&binary, &prepared, cycles, cli.database.as_deref())?;
        println!("{report}");
        return Ok(ok);
    }
    let server = ServerProcess::start(&binary, &prepared.data, cli.idle)?;
    let base = format!("http://{}", server.addr);
    let result = drive(&cli, visits, &prepared, Some(server.pid()), &base);
    let after = memory_after(&cli, Some(server.pid()));
    server.kill();
    let (ok, report) = result?;
    println!("{report}\n{after}");
    let db = tungnha_server::store::open(&prepared.data).map_err(|e| e.to_string())?;
    let (checked, differences) =
        tungnha_server::service::verify::verify(db.as_ref()).map_err(|e| e.to_string())?;
    let verified = differences.is_empty();
    println!(
        "admin verify after SIGKILL: {checked} hamlets, {}",
        if verified {
            "stored coverage equals a full recompute".to_owned()
        } else {
            format!("{} differ", differences.len())
        }
    );
    Ok(ok && verified)
}

/// A sync workload on PostgreSQL, served by `--instances` servers the devices take
/// turns among: each instance's CPU and the database's are reported, and the stored
/// figures verified afterwards.
fn run_on_database(
    cli: &Cli,
    visits: usize,
    binary: &std::path::Path,
    prepared: &setup::Prepared,
    url: &str,
) -> Result<bool, String> {
    let servers: Vec<ServerProcess> = (0..cli.instances.max(1))
        .map(|_| ServerProcess::start_database(binary, url, cli.idle))
        .collect::<Result<_, _>>()?;
    let bases: Vec<String> = servers.iter().map(|s| format!("http://{}", s.addr)).collect();
    let pids: Vec<u32> = servers.iter().map(ServerProcess::pid).collect();
    let cpu = |pid: &u32| cpu_time(*pid).unwrap_or_default();
    let before: Vec<Duration> = pids.iter().map(cpu).collect();
    let db_before = server::postgres_cpu();
    let result = drive_on(cli, visits, prepared, pids.first().copied(), &bases);
    let db_cpu = server::postgres_cpu().saturating_sub(db_before);
    let used: Vec<Duration> = pids.iter().zip(&before).map(|(p, b)| cpu(p).saturating_sub(*b)).collect();
    for s in servers {
        s.kill();
    }
    let (ok, report) = result?;
    let total_visits = (prepared.enrolments.len() * visits) as f64;
    println!("{report}");
    for (i, u) in used.iter().enumerate() {
        println!(
            "instance {}: {:.1} s CPU in all ({:.2} ms per visit)",
            i + 1,
            u.as_secs_f64(),
            u.as_secs_f64() * 1000.0 / total_visits.max(1.0)
        );
    }
    println!(
        "PostgreSQL: {:.1} s CPU in all ({:.2} ms per visit)",
        db_cpu.as_secs_f64(),
        db_cpu.as_secs_f64() * 1000.0 / total_visits.max(1.0)
    );
    let db = tungnha_server::store::connect(url).map_err(|e| e.to_string())?;
    let (checked, differences) =
        tungnha_server::service::verify::verify(db.as_ref()).map_err(|e| e.to_string())?;
    println!("admin verify: {checked} hamlets, {} differences", differences.len());
    Ok(ok && differences.is_empty())
}

/// Stolen phones among the `hostile` workload's devices.
const ATTACKERS: usize = 4;

/// The `hostile` workload: attacks from `ATTACKERS` threads for as long as the honest
/// devices run their day.
fn run_hostile(
    cli: &Cli,
    visits: usize,
    binary: &std::path::Path,
    prepared: &setup::Prepared,
    attacker_codes: &[setup::Enrolment],
) -> Result<bool, String> {
    let server = ServerProcess::start(binary, &prepared.data, cli.idle)?;
    let base = format!("http://{}", server.addr);
    let attackers =
        attacker_codes.iter().map(|e| hostile::enrol(&base, e)).collect::<Result<Vec<_>, String>>()?;
    let sampler = RssSampler::start(server.pid());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (honest, fired) = std::thread::scope(|s| {
        let attacks = s.spawn(|| hostile::fire(&base, &attackers, ATTACKERS, &stop));
        // Let the attacks get going before the honest day starts.
        std::thread::sleep(Duration::from_secs(2));
        let honest = drive(cli, visits, prepared, Some(server.pid()), &base);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (honest, attacks.join())
    });
    let peak = sampler.finish();
    server.kill();
    let (ok, report) = honest?;
    let fired = fired.map_err(|_| "an attack thread panicked")?;
    println!("{report}");
    println!("attacks fired alongside (count, slowest answer):");
    for (name, (count, slowest)) in &fired.counts {
        println!("  {name}: {count}, {:.0} ms", ms(*slowest));
    }
    println!("server peak RSS over the whole run, attacks included: {:.1} MB", mb(peak));
    for p in &fired.problems {
        println!("PROBLEM: {p}");
    }
    let db = tungnha_server::store::open(&prepared.data).map_err(|e| e.to_string())?;
    let (checked, differences) =
        tungnha_server::service::verify::verify(db.as_ref()).map_err(|e| e.to_string())?;
    println!("admin verify after SIGKILL: {checked} hamlets, {} differ", differences.len());
    Ok(ok && fired.problems.is_empty() && differences.is_empty())
}

/// The server's memory right after the burst and, with `--idle`, after a quiet
/// spell, as report lines.
fn memory_after(cli: &Cli, pid: Option<u32>) -> String {
    let Some(pid) = pid else {
        return "server RSS: not measured (no process of ours listens on that port)".into();
    };
    let mut out = format!("server RSS right after the burst: {:.1} MB", mb(rss_bytes(pid).unwrap_or(0)));
    if let Some(secs) = cli.idle {
        // Eviction runs on a tick of at most 30 s: wait a tick past the idle time.
        std::thread::sleep(Duration::from_secs(secs + secs.min(30) + 2));
        let (anon, file, threads) = rss_breakdown(pid).unwrap_or_default();
        out.push_str(&format!(
            "\nserver RSS after {secs} s idle and eviction: {:.1} MB ({:.1} MB anonymous, {:.1} MB mapped files such as its code; {threads} threads)",
            mb(rss_bytes(pid).unwrap_or(0)),
            mb(anon),
            mb(file)
        ));
    }
    out
}

/// Loads a server the operator started on a directory `--prepare` set up.
fn run_against(cli: &Cli, url: &str) -> Result<bool, String> {
    let dir = cli.prepared.as_ref().ok_or(
        "--url needs --prepared DIR: the directory `tungnha-loadgen --prepare DIR` set up and the server serves",
    )?;
    let port = loopback_port(url)?;
    let (prepared, visits) = setup::Prepared::read_manifest(dir)?;
    let pid = server::pid_listening_on(port);
    println!(
        "{url}: {} devices × {visits} visits, {} in flight; server process {}",
        prepared.enrolments.len(),
        cli.concurrency,
        pid.map_or("not found: memory and CPU are not measured".to_owned(), |p| p.to_string())
    );
    let base = url.trim_end_matches('/');
    let (ok, report) = drive(cli, visits, &prepared, pid, base).map_err(|e| {
        if e.contains("bad_enrol_code") {
            format!(
                "{e}\nA prepared directory serves one run (its enrolment codes work once): prepare a new one."
            )
        } else {
            e
        }
    })?;
    println!("{report}\n{}", memory_after(cli, pid));
    println!(
        "admin verify: stop the server, then run `tungnha-server admin --data {} verify`",
        dir.display()
    );
    Ok(ok)
}

/// The port of an `http://` URL on this machine; anything else is refused: load
/// tests stay on loopback.
fn loopback_port(url: &str) -> Result<u16, String> {
    let refuse = || format!("{url}: give an http:// address on loopback, such as http://127.0.0.1:8080");
    let rest = url.strip_prefix("http://").ok_or_else(refuse)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = authority.rsplit_once(':').ok_or_else(refuse)?;
    let port: u16 = port.parse().map_err(|_| refuse())?;
    let loopback = match host {
        "localhost" => true,
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
    };
    if loopback { Ok(port) } else { Err(refuse()) }
}

/// Times `requests` GETs of `path`; returns the median.
/// How a timed GET proves who it is.
enum Credential<'a> {
    /// A device token.
    Bearer(&'a str),
    /// A web session cookie (`tn_session=…`).
    Cookie(&'a str),
}

/// Signs in on the web like a browser (the form's double-submit token, then the
/// session cookie); returns the cookie.
fn sign_in(base: &str, username: &str, password: &str) -> Result<String, String> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let cookie_of = |r: &ureq::http::Response<ureq::Body>, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next())
            .find(|c| c.starts_with(name))
            .map(str::to_owned)
    };
    let mut form = agent.get(format!("{base}/login")).call().map_err(|e| e.to_string())?;
    let login = cookie_of(&form, "tn_login=").ok_or("the sign-in page set no cookie")?;
    let token = login.trim_start_matches("tn_login=").to_owned();
    let _ = form.body_mut().read_to_string();
    let answer = agent
        .post(format!("{base}/login"))
        .header("Cookie", &login)
        .send_form([("csrf", token.as_str()), ("username", username), ("password", password)])
        .map_err(|e| e.to_string())?;
    cookie_of(&answer, "tn_session=")
        .ok_or_else(|| format!("signing in as {username} failed: {}", answer.status()))
}

fn median_get(
    base: &str,
    path: &str,
    credential: Credential<'_>,
    requests: usize,
) -> Result<Duration, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let req = agent.get(format!("{base}{path}"));
        let req = match credential {
            Credential::Bearer(t) => req.header("Authorization", format!("Bearer {t}")),
            Credential::Cookie(c) => req.header("Cookie", c),
        };
        let started = Instant::now();
        let mut answer = req.call().map_err(|e| e.to_string())?;
        let _ = answer.body_mut().read_to_vec().map_err(|e| e.to_string())?;
        times.push(started.elapsed());
        if answer.status() != 200 {
            return Err(format!("{path} answered {}", answer.status()));
        }
    }
    times.sort_unstable();
    Ok(percentile(&times, 0.5))
}

/// The commune coverage API and the commune dashboard page, at 1,000 and at 100,000
/// visits.
fn dashboard_scaling(cli: &Cli) -> Result<bool, String> {
    let binary = server_binary()?;
    let mut medians = Vec::new();
    for visits in [1_000, cli.seed_visits.unwrap_or(100_000)] {
        let plan = Plan {
            hamlets: cli.hamlets.unwrap_or(24),
            households: 300,
            devices: 0,
            seed_visits: visits,
            seed_everywhere: true,
            rollover: false,
        };
        let t = Instant::now();
        let prepared = setup::prepare(&plan, None, None)?;
        let server = ServerProcess::start(&binary, &prepared.data, None)?;
        let base = format!("http://{}", server.addr);
        let official = HttpTransport::new(&base)
            .enrol(&prepared.official_code, "dashboard")
            .map_err(|e| e.to_string())?;
        let path = format!("/api/v1/communes/{COMMUNE}/coverage");
        // Warm up, then measure.
        median_get(&base, &path, Credential::Bearer(&official.token), 20)?;
        let api = median_get(&base, &path, Credential::Bearer(&official.token), 200)?;
        let cookie = sign_in(&base, "canbo", setup::OFFICIAL_PASSWORD)?;
        let page_path = format!("/communes/{COMMUNE}");
        median_get(&base, &page_path, Credential::Cookie(&cookie), 20)?;
        let page = median_get(&base, &page_path, Credential::Cookie(&cookie), 200)?;
        server.kill();
        println!(
            "{visits} visits in {} hamlets (setup {:.1} s): commune coverage API p50 {:.2} ms, commune dashboard page p50 {:.2} ms",
            plan.hamlets,
            t.elapsed().as_secs_f64(),
            ms(api),
            ms(page)
        );
        medians.push((api, page));
    }
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    println!(
        "ratio 100k/1k: API {:.2}×, page {:.2}×",
        ratio(medians[0].0, medians[1].0),
        ratio(medians[0].1, medians[1].1)
    );
    Ok(true)
}

/// The province dashboard page (signed in as the province officer) over 170 communes
/// and 3,000 hamlets, at 10,000 and at 1,000,000 visits: it reads one record per
/// commune, so the visits should not show.
fn province_dashboard(cli: &Cli) -> Result<bool, String> {
    let binary = server_binary()?;
    let hamlets = cli.hamlets.unwrap_or(3_000);
    let communes = 170.min(hamlets);
    let mut medians = Vec::new();
    for visits in [10_000, cli.seed_visits.unwrap_or(1_000_000)] {
        let t = Instant::now();
        let data = setup::prepare_province(communes, hamlets, 20, visits)?;
        let setup_s = t.elapsed().as_secs_f64();
        let server = ServerProcess::start(&binary, data.path(), None)?;
        let base = format!("http://{}", server.addr);
        let cookie = sign_in(&base, "canbotinh", setup::OFFICIAL_PASSWORD)?;
        let path = format!("/provinces/{}", setup::PROVINCE);
        median_get(&base, &path, Credential::Cookie(&cookie), 20)?;
        let page = median_get(&base, &path, Credential::Cookie(&cookie), 200)?;
        server.kill();
        println!(
            "{visits} visits in {hamlets} hamlets of {communes} communes (setup {setup_s:.1} s): province dashboard page p50 {:.2} ms",
            ms(page)
        );
        medians.push(page);
    }
    let ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64().max(1e-9);
    println!("ratio: page {ratio:.2}×");
    Ok(true)
}

fn drive(
    cli: &Cli,
    visits: usize,
    prepared: &setup::Prepared,
    pid: Option<u32>,
    base: &str,
) -> Result<(bool, String), String> {
    drive_on(cli, visits, prepared, pid, &[base.to_owned()])
}

/// `drive`, with the devices enrolled in turn at each of `bases` (server instances
/// sharing one database); `pid` is the one whose memory and CPU are sampled.
fn drive_on(
    cli: &Cli,
    visits: usize,
    prepared: &setup::Prepared,
    pid: Option<u32>,
    bases: &[String],
) -> Result<(bool, String), String> {
    let base = bases.first().map(String::as_str).ok_or("no server to load")?;
    // Enrolment and first download, concurrently.
    let t = Instant::now();
    let mut ranks = std::collections::BTreeMap::new();
    let slots: Vec<Mutex<(usize, &setup::Enrolment, &str)>> = prepared
        .enrolments
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let r = ranks.entry(e.hamlet.clone()).or_insert(0usize);
            *r += 1;
            Mutex::new((*r - 1, e, bases[i % bases.len()].as_str()))
        })
        .collect();
    let enrolled = fleet::pool(&slots, cli.concurrency, |(rank, e, at)| fleet::enrol(at, e, *rank));
    let mut devices = Vec::new();
    let mut download = 0;
    for r in enrolled {
        let (device, requests) = r.map_err(|e| format!("enrolment: {e}"))?;
        download += requests.iter().map(|q| q.down).sum::<usize>();
        devices.push(Mutex::new(device));
    }
    println!(
        "enrolment + first sync of {} devices: {:.1} s, {:.1} KB of hamlet logs down per device",
        devices.len(),
        t.elapsed().as_secs_f64(),
        download as f64 / 1024.0 / devices.len().max(1) as f64
    );

    // Offline work, sealed as the phones would before their first attempt.
    let now = tungnha_server::now_ms();
    let t = Instant::now();
    for d in &devices {
        let mut d = d.lock().map_err(|_| "poisoned")?;
        d.log_offline(visits, now)?;
        d.prepare();
    }
    println!(
        "offline: {} visits logged and sealed on the simulated devices in {:.1} s ({:.0} ms per device)",
        devices.len() * visits,
        t.elapsed().as_secs_f64(),
        t.elapsed().as_secs_f64() * 1000.0 / devices.len().max(1) as f64
    );

    // The burst.
    let sampler = pid.map(RssSampler::start);
    let cpu_before = pid.and_then(cpu_time).unwrap_or_default();
    let t = Instant::now();
    let results = fleet::pool(&devices, cli.concurrency, SimDevice::exchange);
    let wall = t.elapsed();
    let server_cpu = pid.and_then(cpu_time).unwrap_or_default().saturating_sub(cpu_before);
    let peak_rss = sampler.map(RssSampler::finish).unwrap_or(0);
    let mut requests: Vec<Request> = Vec::new();
    for r in results {
        requests.push(r.map_err(|e| format!("burst: {e}"))?);
    }
    // The phones fold their answers in, each on its own processor: untimed here.
    let t = Instant::now();
    let mut further = 0;
    for r in fleet::pool(&devices, cli.concurrency, SimDevice::settle) {
        let more = r.map_err(|e| format!("after the burst: {e}"))?;
        further += more.len();
        requests.extend(more);
    }
    let settle = t.elapsed();
    let all_quiet = devices.iter().all(|d| d.lock().map(|d| d.quiet()).unwrap_or(false));
    let mut latencies: Vec<Duration> = requests.iter().map(|r| r.latency).collect();
    latencies.sort_unstable();
    let total_visits = devices.len() * visits;
    let up: usize = requests.iter().map(|r| r.up).sum();
    let down: usize = requests.iter().map(|r| r.down).sum();

    // No visit lost: the server's commune totals.
    let official = HttpTransport::new(base)
        .enrol(&prepared.official_code, "loadgen official")
        .map_err(|e| e.to_string())?;
    let report = HttpTransport::new(base)
        .with_token(&official.token)
        .get(&format!("/api/v1/communes/{COMMUNE}/coverage"))
        .map_err(|e| e.to_string())?;
    let server_visits = report["totals"]["visits"].as_u64().unwrap_or(0);
    let expected = total_visits as u64 + prepared.seeded_visits;
    let ok = all_quiet && server_visits == expected;
    let text = format!(
        "burst: {} devices synced in {:.2} s wall, {} requests, {:.0} visits/s\n\
         latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n\
         bytes per visit on the wire: {:.1} up, {:.1} down, {:.1} both\n\
         server CPU during the burst: {:.1} s ({:.1} ms per request); the rest is the simulated devices\n\
         the devices then folded their answers in ({:.1} s, untimed), needing {} further requests\n\
         server peak RSS during the burst: {:.1} MB\n\
         server visits {} of {} expected: {}",
        devices.len(),
        wall.as_secs_f64(),
        requests.len(),
        total_visits as f64 / wall.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        up as f64 / total_visits.max(1) as f64,
        down as f64 / total_visits.max(1) as f64,
        (up + down) as f64 / total_visits.max(1) as f64,
        server_cpu.as_secs_f64(),
        ms(server_cpu) / requests.len().max(1) as f64,
        settle.as_secs_f64(),
        further,
        mb(peak_rss),
        server_visits,
        expected,
        if ok { "no visit lost" } else { "MISMATCH" }
    );
    Ok((ok, text))
}

#[cfg(test)]
mod tests {
    use super::loopback_port;

    #[test]
    fn only_plain_http_on_loopback_is_loaded() {
        assert_eq!(loopback_port("http://127.0.0.1:8080"), Ok(8080));
        assert_eq!(loopback_port("http://localhost:3000/"), Ok(3000));
        assert_eq!(loopback_port("http://[::1]:9000"), Ok(9000));
        assert_eq!(loopback_port("http://127.0.0.2:81/x"), Ok(81));
        for far in [
            "http://192.0.2.7:8080",
            "https://127.0.0.1:8443",
            "http://127.0.0.1",
            "127.0.0.1:80",
            "http://example.org:80",
        ] {
            assert!(loopback_port(far).is_err(), "{far} is refused");
        }
    }
}
