//! `hostile`: the worst inputs of the security review fired concurrently at a running
//! server while a commune's honest devices run their day, to show what the attacks
//! cost the server (its peak RSS) and that honest traffic is still answered in time.
//!
//! Attackers are enrolled volunteers of the same commune (a stolen phone) and
//! anonymous visitors. Every attack must be refused with its expected status; any
//! other answer is reported as a problem.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tungnha_client_core::sync::Envelope;
use tungnha_client_core::transport::HttpTransport;
use tungnha_client_core::{ActorId, Author, Role};
use tungnha_hostile::attacks;

use crate::setup::Enrolment;

/// An attacker's device: its token, actor, user and hamlet, and the log it holds.
pub struct Attacker {
    token: String,
    actor: ActorId,
    author: Author,
    hamlet: tungnha_client_core::HamletId,
    log: tungnha_client_core::HamletLog,
}

/// Enrols an attacker with a code the setup made, and takes its hamlet log.
pub fn enrol(base: &str, e: &Enrolment) -> Result<Attacker, String> {
    let enrolled = HttpTransport::new(base).enrol(&e.code, "kẻ tấn công").map_err(|x| x.to_string())?;
    let actor = ActorId::try_from(enrolled.actor_id.as_str()).map_err(|x| x.to_string())?;
    let transport = HttpTransport::new(base).with_token(&enrolled.token);
    let mut replica = tungnha_client_core::sync::Replica::new(actor.clone());
    let reply = transport.sync(&replica.request("server").encode()).map_err(|x| x.to_string())?;
    replica
        .absorb("server", &Envelope::decode(&reply).map_err(|x| x.to_string())?)
        .map_err(|x| x.to_string())?;
    let log = replica.log(&e.hamlet).ok_or("the attacker got no log")?.clone();
    Ok(Attacker {
        token: enrolled.token,
        actor,
        author: Author { user: e.user.clone(), role: Role::Volunteer },
        hamlet: e.hamlet.clone(),
        log,
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// One attack: its name, and the statuses that count as refused.
type Fire = Box<dyn Fn(&str, &Attacker) -> Result<u16, String> + Sync>;

fn post(url: String, token: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> Result<u16, String> {
    let mut r = agent().post(url);
    if let Some(t) = token {
        r = r.header("Authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let mut answer = r.send(body).map_err(|e| e.to_string())?;
    let _ = answer.body_mut().read_to_vec();
    Ok(answer.status().as_u16())
}

fn sync(base: &str, a: &Attacker, body: &[u8]) -> Result<u16, String> {
    post(format!("{base}/api/v1/sync"), Some(&a.token), &[("Content-Type", "application/octet-stream")], body)
}

fn sign_in(base: &str, username: &str, password: &str) -> Result<u16, String> {
    let agent = agent();
    let mut form = agent.get(format!("{base}/login")).call().map_err(|e| e.to_string())?;
    let cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|c| c.starts_with("tn_login="))
        .map(str::to_owned)
        .unwrap_or_default();
    let _ = form.body_mut().read_to_vec();
    let token = cookie.trim_start_matches("tn_login=").to_owned();
    let mut answer = agent
        .post(format!("{base}/login"))
        .header("Cookie", &cookie)
        .send_form([("csrf", token.as_str()), ("username", username), ("password", password)])
        .map_err(|e| e.to_string())?;
    let _ = answer.body_mut().read_to_vec();
    Ok(answer.status().as_u16())
}

/// Every attack, with the statuses that mean it was refused.
fn attacks() -> Vec<(&'static str, Fire, &'static [u16])> {
    vec![
        ("deflate bomb past 64 MiB", Box::new(|b, a| sync(b, a, &attacks::deflate_bomb())), &[400]),
        (
            "gzip bomb of 64 MiB",
            Box::new(|b, a| {
                post(
                    format!("{b}/api/v1/sync"),
                    Some(&a.token),
                    &[("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip")],
                    &attacks::gzip_bomb(),
                )
            }),
            &[413],
        ),
        (
            "two million empty chunks",
            Box::new(|b, a| sync(b, a, &attacks::empty_chunks(&a.hamlet, 2_000_000))),
            &[400],
        ),
        (
            "a trillion-op change chunk",
            Box::new(|b, a| {
                sync(
                    b,
                    a,
                    &attacks::carrying(&a.hamlet, a.log.heads(), vec![attacks::op_bomb_chunk(&a.actor)]),
                )
            }),
            &[400],
        ),
        (
            "a rival households map",
            Box::new(|b, a| {
                sync(b, a, &attacks::carrying(&a.hamlet, vec![], vec![attacks::rival_map(&a.actor)]))
            }),
            &[422],
        ),
        (
            "150 made-up households",
            Box::new(|b, a| {
                let chunks = attacks::swamp(&a.log, &a.actor, &a.author, 150, tungnha_server::now_ms());
                sync(b, a, &attacks::carrying(&a.hamlet, a.log.heads(), chunks))
            }),
            &[422],
        ),
        ("4 MiB of noise", Box::new(|b, a| sync(b, a, &vec![0x5a; 4 * 1024 * 1024])), &[400]),
        ("a 60 kB username", Box::new(|b, _| sign_in(b, &"a".repeat(60_000), "x")), &[401]),
        ("guessing the official's password", Box::new(|b, _| sign_in(b, "canbo", "doan-mo")), &[401]),
        (
            "spraying usernames",
            Box::new(|b, _| {
                sign_in(b, &format!("ke-la-{}", tungnha_client_core::ids::random_base32(8)), "x")
            }),
            &[401],
        ),
        (
            "guessing enrolment codes",
            Box::new(|b, _| {
                let body = format!(
                    r#"{{"code":"{}","device_name":"x"}}"#,
                    tungnha_client_core::ids::random_base32(10)
                );
                post(
                    format!("{b}/api/v1/enrol"),
                    None,
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                )
            }),
            &[403, 429],
        ),
    ]
}

/// What the attacks did.
#[derive(Debug, Default)]
pub struct Fired {
    /// Per attack: how many were sent, and how long the slowest took.
    pub counts: BTreeMap<&'static str, (usize, Duration)>,
    /// Answers that were not a refusal.
    pub problems: Vec<String>,
}

/// Fires every attack in turn from `threads` threads until `stop` is set.
pub fn fire(base: &str, attackers: &[Attacker], threads: usize, stop: &AtomicBool) -> Fired {
    let all = attacks();
    let fired = Mutex::new(Fired::default());
    std::thread::scope(|s| {
        for t in 0..threads {
            let (all, fired) = (&all, &fired);
            s.spawn(move || {
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let (name, attack, refused) = &all[i % all.len()];
                    let attacker = &attackers[i % attackers.len()];
                    let started = Instant::now();
                    let outcome = attack(base, attacker);
                    let took = started.elapsed();
                    let mut f = fired.lock().unwrap_or_else(|p| p.into_inner());
                    let entry = f.counts.entry(name).or_default();
                    entry.0 += 1;
                    entry.1 = entry.1.max(took);
                    match outcome {
                        Ok(status) if refused.contains(&status) => {}
                        Ok(status) => f.problems.push(format!("{name}: answered {status}")),
                        // The server may close a connection it refused early.
                        Err(e) if e.contains("Broken pipe") || e.contains("reset") => {}
                        Err(e) => f.problems.push(format!("{name}: {e}")),
                    }
                    i += threads;
                }
            });
        }
    });
    fired.into_inner().unwrap_or_else(|p| p.into_inner())
}
