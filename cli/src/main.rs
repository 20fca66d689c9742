//! `tungnha`: the volunteer's command line. Enrol a device, see hamlets and
//! households, log visits with no network, sync when there is one, and read coverage
//! computed locally. A thin shell over `tungnha_client_core::device::Device`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;
use tungnha_client_core::collate;
use tungnha_client_core::device::{Device, DeviceError};
use tungnha_client_core::domain::{now_ms, vn_time};
use tungnha_client_core::{
    HamletId, HouseholdForm, HouseholdId, HouseholdStatus, Outcome, VisitForm, WalkInForm,
};

/// Từng Nhà cho tình nguyện viên: ghi từng lượt thăm, cả khi không có sóng.
/// (Từng Nhà for volunteers: log every visit, even with no signal.)
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Thư mục lưu dữ liệu của thiết bị (where this device keeps its data; default: the user's data directory).
    #[arg(long, env = "TUNGNHA_HOME", global = true)]
    home: Option<PathBuf>,
    /// In kết quả dạng JSON cho máy đọc (machine-readable JSON).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Đăng ký thiết bị bằng mã tổ trưởng đưa (enrol this device with your team leader's code).
    Enrol {
        /// Địa chỉ máy chủ (the server's address), ví dụ `https://tungnha.example.gov.vn`
        url: String,
        /// Mã đăng ký dùng một lần (the single-use code).
        code: String,
        /// Tên thiết bị (what to call this device).
        #[arg(long, default_value = "tungnha CLI")]
        name: String,
    },
    /// Các thôn, khu phố của bạn (your hamlets).
    Hamlets,
    /// Các hộ của một thôn và tình trạng, theo địa chỉ (a hamlet's households with their status, by address).
    Households {
        /// Mã thôn, khu phố (the hamlet id).
        #[arg(long)]
        hamlet: String,
    },
    /// Hộ gia đình (households).
    #[command(subcommand)]
    Household(HouseholdCommand),
    /// Ghi một lượt thăm, không cần mạng (log a visit; works with no network).
    Visit {
        /// Mã hộ (the household id).
        #[arg(long)]
        household: String,
        /// Kết quả (outcome): guided (đã hướng dẫn), already_done (đã tự làm), not_home (vắng nhà), declined (từ chối), revisit (hẹn quay lại).
        #[arg(long)]
        outcome: String,
        /// Nội dung đã hướng dẫn, có thể lặp lại (a topic guided, repeatable), ví dụ --topic vneid.
        #[arg(long = "topic")]
        topics: Vec<String>,
        /// Tài khoản đã tạo, LOẠI=SỐ, có thể lặp lại (accounts created, KIND=N), ví dụ --account vneid_l2=2.
        #[arg(long = "account")]
        accounts: Vec<String>,
        /// Số người được hướng dẫn (people helped).
        #[arg(long, default_value_t = 0)]
        people: u32,
        /// Số hồ sơ nộp trực tuyến (dossiers filed online with your help).
        #[arg(long, default_value_t = 0)]
        filed: u32,
        /// Ghi chú ngắn (a short note).
        #[arg(long)]
        note: Option<String>,
    },
    /// Ghi một lượt hỗ trợ người dân tại quầy một cửa, không cần mạng (log someone helped at a one-stop counter; works with no network).
    Walkin {
        /// Mã quầy (the counter's id, from `hamlets`).
        #[arg(long)]
        counter: String,
        /// Số người được hỗ trợ (people helped, one at least).
        #[arg(long, default_value_t = 1)]
        people: u32,
        /// Nội dung đã hướng dẫn, có thể lặp lại (a topic guided, repeatable).
        #[arg(long = "topic")]
        topics: Vec<String>,
        /// Tài khoản đã tạo, LOẠI=SỐ, có thể lặp lại (accounts created, KIND=N).
        #[arg(long = "account")]
        accounts: Vec<String>,
        /// Số hồ sơ nộp trực tuyến (dossiers filed online).
        #[arg(long, default_value_t = 0)]
        filed: u32,
        /// Ghi chú ngắn, không ghi tên, số điện thoại hay số định danh (a short note; no names, phone or ID numbers).
        #[arg(long)]
        note: Option<String>,
    },
    /// Đồng bộ với máy chủ (sync with the server).
    Sync,
    /// Thay đổi chờ gửi và lần đồng bộ gần nhất (changes waiting and the last sync).
    Status,
    /// Độ bao phủ của một thôn, tính trên máy (a hamlet's coverage, computed offline).
    Coverage {
        /// Mã thôn, khu phố (the hamlet id).
        #[arg(long)]
        hamlet: String,
        /// Hỏi máy chủ (tổ trưởng, cán bộ): số liệu và các hộ cần quay lại (ask the server: its figures and follow-ups).
        #[arg(long)]
        remote: bool,
    },
}

#[derive(Debug, Subcommand)]
enum HouseholdCommand {
    /// Thêm một hộ chưa có trong danh sách; in ra mã hộ (list a household missing from the list; prints its id).
    Add {
        /// Mã thôn, khu phố (the hamlet id).
        #[arg(long)]
        hamlet: String,
        /// Số nhà, ngõ, hẻm như người dân vẫn nói (the house number or alley).
        #[arg(long)]
        label: String,
        /// Tên chủ hộ (the head of the household's name).
        #[arg(long)]
        head: Option<String>,
        /// Số nhân khẩu (how many people live there).
        #[arg(long)]
        members: Option<u32>,
        /// Thêm dù cùng địa chỉ với một hộ đã có (add even though the address is already listed).
        #[arg(long)]
        again: bool,
    },
}

/// What went wrong, in Vietnamese, for the person at the keyboard; the English detail
/// follows it in parentheses.
fn in_vietnamese(e: &DeviceError, code: &str) -> &'static str {
    match (e, code) {
        (DeviceError::NotEnrolled, _) => {
            "thiết bị này chưa được đăng ký: chạy `tungnha enrol URL MÃ` với mã tổ trưởng đưa"
        }
        (DeviceError::AlreadyEnrolled(_), _) => {
            "thư mục này đã có một thiết bị đăng ký; hãy dùng --home khác"
        }
        (DeviceError::Invalid(_) | DeviceError::Log(_), _) => {
            "dữ liệu nhập vào không hợp lệ, chưa có gì được ghi"
        }
        (DeviceError::Transport(_), "unreachable") => {
            "không kết nối được máy chủ; mọi thứ vẫn lưu trên máy, hãy đồng bộ lại sau"
        }
        (DeviceError::Transport(_), "bad_enrol_code") => {
            "mã đăng ký không đúng, đã dùng hoặc đã hết hạn; hãy xin tổ trưởng mã mới"
        }
        (DeviceError::Transport(_), "too_many_attempts") => {
            "thử sai quá nhiều lần; hãy chờ một phút rồi thử lại"
        }
        (DeviceError::Transport(_), "unauthenticated") => {
            "thiết bị này không còn được máy chủ nhận; hãy đăng ký lại"
        }
        (DeviceError::Transport(_), "forbidden") => {
            "bạn không có quyền làm việc này, hoặc tài khoản đang bị khóa; hãy hỏi tổ trưởng hoặc cán bộ xã, phường"
        }
        (DeviceError::Transport(_), "not_assigned") => {
            "bạn không còn được phân công thôn, khu phố này; hãy hỏi tổ trưởng"
        }
        (DeviceError::Transport(_), "rule_violation") => "máy chủ từ chối một thay đổi không hợp lệ",
        (DeviceError::Transport(_), _) => "máy chủ không nhận yêu cầu",
        (DeviceError::Store(_), _) => "không đọc hoặc ghi được dữ liệu trên máy",
        (DeviceError::Sync(_), _) => "dữ liệu đồng bộ nhận được không đọc được; mọi thứ vẫn lưu trên máy",
    }
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

/// A household's address, or that its personal data was erased.
fn shown_label(hh: &tungnha_client_core::Household) -> &str {
    if hh.erased { ERASED } else { &hh.label }
}

/// What the CLI shows for a household whose personal data was erased.
const ERASED: &str = "(hộ đã xóa thông tin / personal data erased)";

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
                    "Đã đăng ký thiết bị {} cho {} ({}). Số thôn, khu phố: {}.",
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
            let counter = |id| device.log(id).is_some_and(tungnha_client_core::HamletLog::is_counter);
            let text = hamlets
                .iter()
                .map(|(id, name)| {
                    let kind = if counter(id) { " (quầy, counter)" } else { "" };
                    format!("{id}\t{}{kind}", name.as_deref().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join("\n");
            let rows: Vec<_> = hamlets
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name, "counter": counter(id)}))
                .collect();
            Ok((json!(rows), text))
        }
        Command::Households { hamlet } => {
            let device = Device::open(&home)?;
            let h = hamlet_id(hamlet)?;
            let log = device.log(&h).ok_or_else(|| invalid(format!("hamlet {h} is not on this device")))?;
            let statuses = tungnha_client_core::CoverageLedger::from_log(log).statuses();
            let mut rows = Vec::new();
            let mut text = Vec::new();
            // By address, in Vietnamese order ("Số 2" before "Số 10"), as on the phone.
            let mut listed: Vec<_> = log.households().ok.into_iter().filter(|(_, hh)| !hh.retired).collect();
            // Erased households (their key is gone) last: they have no address to order by.
            listed.sort_by(|(a, x), (b, y)| {
                x.erased
                    .cmp(&y.erased)
                    .then_with(|| collate::compare(&x.label, &y.label))
                    .then_with(|| a.cmp(b))
            });
            for (id, hh) in &listed {
                let status = statuses.get(id).copied().unwrap_or(HouseholdStatus::NotVisited);
                text.push(format!("{id}\t{}\t{}", status_label(status), shown_label(hh)));
                rows.push(json!({
                    "id": id, "label": hh.label, "head": hh.head, "members": hh.members, "status": status,
                    "erased": hh.erased,
                }));
            }
            Ok((json!(rows), text.join("\n")))
        }
        Command::Household(HouseholdCommand::Add { hamlet, label, head, members, again }) => {
            let mut device = Device::open(&home)?;
            let h = hamlet_id(hamlet)?;
            // The same address already listed is most often the same house: say so
            // before saving, unless the volunteer says it is another one.
            let place = collate::same_place(label);
            let listed = device.log(&h).and_then(|log| {
                log.households()
                    .ok
                    .into_iter()
                    .find(|(_, hh)| !hh.retired && collate::same_place(&hh.label) == place)
            });
            if let (Some((id, hh)), false) = (listed, *again) {
                return Err(invalid(format!(
                    "“{}” đã có trong danh sách ({id}); nếu là hộ khác, thêm --again \
                     (“{}” is already listed; add --again if this is another household)",
                    hh.label, hh.label
                )));
            }
            let form = HouseholdForm { label: label.clone(), head: head.clone(), members: *members };
            let id = device.add_household(&h, &form, now_ms())?;
            Ok((json!({"id": id}), id.to_string()))
        }
        Command::Visit { household, outcome, topics, accounts, people, filed, note } => {
            let outcome = Outcome::from_code(outcome).ok_or_else(|| {
                invalid(format!(
                    "“{outcome}” is not an outcome; use guided, already_done, not_home, declined or revisit"
                ))
            })?;
            let counts = account_counts(accounts)?;
            let household = HouseholdId::parse(household).map_err(|e| invalid(e.to_string()))?;
            let form = VisitForm {
                topics: topics.clone(),
                accounts: counts,
                people: *people,
                filed: *filed,
                note: note.clone(),
            };
            let mut device = Device::open(&home)?;
            let now = now_ms();
            let id = device.log_visit(&household, outcome, &form, now, now)?;
            Ok((json!({"id": id, "outcome": outcome}), id.to_string()))
        }
        Command::Walkin { counter, people, topics, accounts, filed, note } => {
            let form = WalkInForm {
                people: *people,
                topics: topics.clone(),
                accounts: account_counts(accounts)?,
                filed: *filed,
                note: note.clone(),
            };
            let counter = hamlet_id(counter)?;
            let mut device = Device::open(&home)?;
            let now = now_ms();
            let id = device.log_walkin(&counter, &form, now, now)?;
            Ok((json!({"id": id, "counter": counter}), id.to_string()))
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
            let c: tungnha_client_core::Coverage = serde_json::from_value(report["coverage"].clone())
                .map_err(|e| invalid(format!("the server's report could not be read: {e}")))?;
            let target = report["target_households"].as_u64().unwrap_or(0);
            let to_cover = tungnha_client_core::coverage::to_cover(target, c.registered);
            // Follow-ups by address, from the log this device holds (ids otherwise).
            let held = device.log(&h).map(|log| log.households().ok).unwrap_or_default();
            let mut due: Vec<String> = report["follow_ups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|id| id.as_str())
                .map(|id| match HouseholdId::parse(id).ok().and_then(|id| held.get(&id).cloned()) {
                    Some(hh) => {
                        format!(
                            "  {}{}",
                            shown_label(&hh),
                            hh.head.as_ref().map(|n| format!(" · {n}")).unwrap_or_default()
                        )
                    }
                    None => format!("  {id}"),
                })
                .collect();
            due.sort_by(|a, b| collate::compare(a, b));
            let text = format!(
                "{} ({h})\nTỷ lệ bao phủ: {:.1}% ({} / {} hộ cần bao phủ)\nSố hộ: {}\nĐã thăm: {}\nLượt thăm: {}\n\
                 Số người được hướng dẫn: {}\nCần quay lại ({}):\n{}",
                report["name"].as_str().unwrap_or(""),
                tungnha_client_core::coverage::share(c.covered, to_cover) * 100.0,
                c.covered,
                to_cover,
                c.registered,
                c.attempted,
                c.visits,
                c.people,
                due.len(),
                due.join("\n"),
            );
            Ok((report, text))
        }
        Command::Coverage { hamlet, remote: false } => {
            let device = Device::open(&home)?;
            let h = hamlet_id(hamlet)?;
            let c =
                device.coverage(&h).ok_or_else(|| invalid(format!("hamlet {h} is not on this device")))?;
            let text = format!(
                "Số hộ: {}\nĐã bao phủ: {}\nĐã thăm: {}\nCần quay lại: {}\nLượt thăm: {}\nSố người được hướng dẫn: {}\n\
                 Hồ sơ nộp trực tuyến: {}\nTài khoản: {}",
                c.registered,
                c.covered,
                c.attempted,
                c.follow_ups,
                c.visits,
                c.people,
                c.filed,
                c.accounts.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(", "),
            );
            Ok((json!(c), text))
        }
    }
}

/// Accounts given as KIND=N, as a map of counts.
fn account_counts(accounts: &[String]) -> Result<BTreeMap<String, u32>, DeviceError> {
    let mut counts = BTreeMap::new();
    for a in accounts {
        let (kind, n) =
            a.split_once('=').ok_or_else(|| invalid(format!("“{a}” should be KIND=N, e.g. vneid_l2=2")))?;
        let n: u32 = n.parse().map_err(|_| invalid(format!("“{n}” in “{a}” is not a count")))?;
        counts.insert(kind.to_owned(), n);
    }
    Ok(counts)
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
                eprintln!("Lỗi: {} ({e})", in_vietnamese(&e, &code));
            }
            ExitCode::FAILURE
        }
    }
}
