//! `tungnha`: the volunteer's command line. Enrol a device, see hamlets and
//! households, log visits with no network, sync when there is one, and read coverage
//! computed locally. A thin shell over `tungnha_client_core::device::Device`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use tungnha_client_core::collate;
use tungnha_client_core::coverage::vn_time;
use tungnha_client_core::device::{Device, DeviceError};
use tungnha_client_core::{HamletId, HouseholdForm, HouseholdId, HouseholdStatus, Outcome, VisitForm};

/// Từng Nhà for volunteers: log every visit, even with no signal.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Where this device keeps its data (default: the user's data directory).
    #[arg(long, env = "TUNGNHA_HOME", global = true)]
    home: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enrol this device with the code from your team leader.
    Enrol {
        /// The server's address, e.g. `https://tungnha.example.gov.vn`
        url: String,
        /// The single-use code.
        code: String,
        /// What to call this device.
        #[arg(long, default_value = "tungnha CLI")]
        name: String,
    },
    /// List your hamlets.
    Hamlets,
    /// List a hamlet's households with their status.
    Households {
        /// The hamlet id.
        #[arg(long)]
        hamlet: String,
    },
    /// Households.
    #[command(subcommand)]
    Household(HouseholdCommand),
    /// Log a visit (works with no network).
    Visit {
        /// The household id.
        #[arg(long)]
        household: String,
        /// guided, already_done, not_home, declined or revisit.
        #[arg(long)]
        outcome: String,
        /// A topic guided (repeatable), e.g. --topic vneid.
        #[arg(long = "topic")]
        topics: Vec<String>,
        /// Accounts created, KIND=N (repeatable), e.g. --account vneid_l2=2.
        #[arg(long = "account")]
        accounts: Vec<String>,
        /// People helped.
        #[arg(long, default_value_t = 0)]
        people: u32,
        /// A short note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Sync with the server.
    Sync,
    /// Changes waiting and the last sync.
    Status,
    /// A hamlet's coverage, computed on this device (offline).
    Coverage {
        /// The hamlet id.
        #[arg(long)]
        hamlet: String,
        /// Ask the server instead (leaders and officials): its figures and follow-ups.
        #[arg(long)]
        remote: bool,
    },
}

#[derive(Debug, Subcommand)]
enum HouseholdCommand {
    /// List a household missing from the hamlet's list; prints its id.
    Add {
        /// The hamlet id.
        #[arg(long)]
        hamlet: String,
        /// The house number or alley, as people say it.
        #[arg(long)]
        label: String,
        /// The head of the household's name.
        #[arg(long)]
        head: Option<String>,
        /// How many people live there.
        #[arg(long)]
        members: Option<u32>,
    },
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn home(cli: &Cli) -> Result<PathBuf, DeviceError> {
    match &cli.home {
        Some(h) => Ok(h.clone()),
        None => directories::ProjectDirs::from("vn", "TungNha", "tungnha")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| DeviceError::Invalid("no home directory; give --home".into())),
    }
}

fn invalid(msg: String) -> DeviceError {
    DeviceError::Invalid(msg)
}

fn hamlet_id(s: &str) -> Result<HamletId, DeviceError> {
    HamletId::parse(s).map_err(|e| invalid(e.to_string()))
}

fn status_label(s: HouseholdStatus) -> &'static str {
    match s {
        HouseholdStatus::NotVisited => "chưa thăm",
        HouseholdStatus::FollowUp => "cần quay lại",
        HouseholdStatus::Attempted => "đã thăm",
        HouseholdStatus::Covered => "đã bao phủ",
    }
}

/// Runs a command: (JSON, text for people).
fn run(cli: &Cli) -> Result<(serde_json::Value, String), DeviceError> {
    let home = home(cli)?;
    match &cli.command {
        Command::Enrol { url, code, name } => {
            std::fs::create_dir_all(&home)
                .map_err(|e| invalid(format!("cannot create {}: {e}", home.display())))?;
            let device = Device::enrol(&home, url, code, name)?;
            let id = device.identity();
            let hamlets = device.hamlets();
            Ok((
                json!({"device_id": id.device_id, "user": id.user, "hamlets": hamlets.iter().map(|(h, _)| h).collect::<Vec<_>>()}),
                format!(
                    "Đã ghi danh thiết bị {} cho {} ({}). Số thôn/khu phố: {}.",
                    id.device_id,
                    id.user.name,
                    id.user.id,
                    hamlets.len()
                ),
            ))
        }
        Command::Hamlets => {
            let device = Device::open(&home)?;
            let hamlets = device.hamlets();
            let text = hamlets
                .iter()
                .map(|(id, name)| format!("{id}\t{}", name.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("\n");
            let rows: Vec<_> = hamlets.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
            Ok((json!(rows), text))
        }
        Command::Households { hamlet } => {
            let device = Device::open(&home)?;
            let h = hamlet_id(hamlet)?;
            let log = device.log(&h).ok_or_else(|| invalid(format!("hamlet {h} is not on this device")))?;
            let statuses = log.household_statuses();
            let mut rows = Vec::new();
            let mut text = Vec::new();
            // By address, in Vietnamese order ("Số 2" before "Số 10"), as on the phone.
            let mut listed: Vec<_> = log.households().ok.into_iter().filter(|(_, hh)| !hh.retired).collect();
            listed.sort_by(|(a, x), (b, y)| collate::compare(&x.label, &y.label).then_with(|| a.cmp(b)));
            for (id, hh) in &listed {
                let status = statuses.get(id).copied().unwrap_or(HouseholdStatus::NotVisited);
                text.push(format!("{id}\t{}\t{}", status_label(status), hh.label));
                rows.push(json!({"id": id, "label": hh.label, "head": hh.head, "members": hh.members, "status": status}));
            }
            Ok((json!(rows), text.join("\n")))
        }
        Command::Household(HouseholdCommand::Add { hamlet, label, head, members }) => {
            let mut device = Device::open(&home)?;
            let form = HouseholdForm { label: label.clone(), head: head.clone(), members: *members };
            let id = device.add_household(&hamlet_id(hamlet)?, &form, now_ms())?;
            Ok((json!({"id": id}), id.to_string()))
        }
        Command::Visit { household, outcome, topics, accounts, people, note } => {
            let outcome = Outcome::from_code(outcome).ok_or_else(|| {
                invalid(format!(
                    "“{outcome}” is not an outcome; use guided, already_done, not_home, declined or revisit"
                ))
            })?;
            let mut counts = BTreeMap::new();
            for a in accounts {
                let (kind, n) = a
                    .split_once('=')
                    .ok_or_else(|| invalid(format!("“{a}” should be KIND=N, e.g. vneid_l2=2")))?;
                let n: u32 = n.parse().map_err(|_| invalid(format!("“{n}” in “{a}” is not a count")))?;
                counts.insert(kind.to_owned(), n);
            }
            let household = HouseholdId::parse(household).map_err(|e| invalid(e.to_string()))?;
            let form =
                VisitForm { topics: topics.clone(), accounts: counts, people: *people, note: note.clone() };
            let mut device = Device::open(&home)?;
            let now = now_ms();
            let id = device.log_visit(&household, outcome, &form, now, now)?;
            Ok((json!({"id": id, "outcome": outcome}), id.to_string()))
        }
        Command::Sync => {
            let mut device = Device::open(&home)?;
            let report = device.sync()?;
            let text = if report.wiped && report.kept {
                "Thiết bị đã bị thu hồi: những gì chưa gửi đã được gửi lên máy chủ, rồi dữ liệu trên máy đã được xóa. \
                 (This device was revoked; its unsent work reached the server, then its data was wiped.)"
                    .to_owned()
            } else if report.wiped && report.unsent_lost > 0 {
                format!(
                    "Thiết bị đã bị thu hồi: máy chủ không nhận {n} thay đổi chưa gửi, và dữ liệu trên máy đã được xóa. \
                     (This device was revoked; the server did not take its {n} unsent changes; its data was wiped.)",
                    n = report.unsent_lost
                )
            } else if report.wiped {
                "Thiết bị đã bị thu hồi: dữ liệu trên máy đã được xóa. (This device was revoked; its data was wiped.)"
                    .to_owned()
            } else {
                format!(
                    "Đã đồng bộ: gửi {} thay đổi, nhận {} thay đổi, {} B lên, {} B xuống, {} lượt.{}{}",
                    report.sent_changes,
                    report.received_changes,
                    report.bytes_up,
                    report.bytes_down,
                    report.rounds,
                    if report.started.is_empty() {
                        String::new()
                    } else {
                        format!(" Thôn mới: {:?}.", report.started)
                    },
                    if report.dropped.is_empty() {
                        String::new()
                    } else {
                        format!(" Đã bỏ: {:?}.", report.dropped)
                    },
                )
            };
            Ok((json!(report), text))
        }
        Command::Status => {
            let device = Device::open(&home)?;
            let s = device.status();
            let last = s.last_sync_at.map(vn_time).unwrap_or_else(|| "chưa bao giờ".into());
            Ok((
                json!(s),
                format!(
                    "Thay đổi chờ gửi: {}\nĐồng bộ lần cuối: {last}\nSố thôn/khu phố: {}",
                    s.pending_changes, s.hamlets
                ),
            ))
        }
        Command::Coverage { hamlet, remote: true } => {
            let device = Device::open(&home)?;
            let h = hamlet_id(hamlet)?;
            let report = device.remote(&format!("/api/v1/hamlets/{h}/coverage"))?;
            let text = serde_json::to_string_pretty(&report).unwrap_or_default();
            Ok((report, text))
        }
        Command::Coverage { hamlet, remote: false } => {
            let device = Device::open(&home)?;
            let h = hamlet_id(hamlet)?;
            let c =
                device.coverage(&h).ok_or_else(|| invalid(format!("hamlet {h} is not on this device")))?;
            let text = format!(
                "Số hộ: {}\nĐã bao phủ: {}\nĐã thăm: {}\nCần quay lại: {}\nLượt thăm: {}\nSố người được hỗ trợ: {}\nTài khoản: {}",
                c.registered,
                c.covered,
                c.attempted,
                c.follow_ups,
                c.visits,
                c.people,
                c.accounts.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(", "),
            );
            Ok((json!(c), text))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok((value, text)) => {
            if cli.json {
                println!("{value}");
            } else {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = match &e {
                DeviceError::Transport(t) => t.code().unwrap_or("unreachable").to_owned(),
                DeviceError::NotEnrolled => "not_enrolled".into(),
                DeviceError::Invalid(_) | DeviceError::Log(_) => "invalid".into(),
                _ => "error".into(),
            };
            if cli.json {
                println!("{}", json!({"code": code, "message": e.to_string()}));
            } else {
                eprintln!("Lỗi (error): {e}");
            }
            ExitCode::FAILURE
        }
    }
}
