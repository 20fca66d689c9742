//! `tungnha-server`: the command line of the Từng Nhà server: `serve`, and the `admin`
//! commands that set up communes, hamlets, households, users and assignments.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tungnha_client_core::domain::CommuneKind;
use tungnha_client_core::{CommuneId, HamletId, HouseholdId, ProvinceId, Role};
use tungnha_server::Config;
use tungnha_server::http::Listen;
use tungnha_server::records::FilingLevel;
use tungnha_server::service::audit::CLI;
use tungnha_server::service::error::{Field, invalid};
use tungnha_server::service::{
    ServiceError, accounts, api_tokens, campaigns, enrolment, erasure, filing, imports, moving, organisation,
    teams, verify,
};
use tungnha_server::store::{Store, StoreError};

/// The Từng Nhà server: sync, coverage and dashboards for community digital teams.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve on an embedded database in a data directory, or on PostgreSQL.
    Serve {
        /// The data directory (created if missing).
        #[arg(long, env = "TUNGNHA_DATA", default_value = "./tungnha-data")]
        data: PathBuf,
        /// A PostgreSQL database (`postgres://user@host/db`, or several hosts with
        /// `target_session_attrs=read-write`) instead of the data directory.
        #[arg(long, env = "TUNGNHA_DATABASE")]
        database: Option<String>,
        /// The address to listen on.
        #[arg(long, env = "TUNGNHA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed a demo commune into an empty data directory.
        #[arg(long)]
        demo: bool,
        /// How many idle hamlet logs to keep in memory.
        #[arg(long, env = "TUNGNHA_CACHE_DOCS", default_value_t = 256)]
        cache_docs: usize,
        /// Seconds a hamlet log nobody asks for stays in memory.
        #[arg(long, env = "TUNGNHA_CACHE_IDLE_SECS", default_value_t = 600)]
        cache_idle_secs: u64,
        /// Largest request body accepted, in bytes.
        #[arg(long, env = "TUNGNHA_BODY_LIMIT", default_value_t = 4 * 1024 * 1024)]
        body_limit: usize,
        /// People reach the server over https (through a reverse proxy that terminates
        /// TLS): mark cookies Secure and build https enrolment links.
        #[arg(long, env = "TUNGNHA_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The address people reach the server at, for enrolment links and QR codes
        /// (`https://tungnha.example.vn`). Without it, links use the address the
        /// browser asked for, which a forged Host header could change.
        #[arg(long, env = "TUNGNHA_PUBLIC_URL", value_parser = parse_public_url)]
        public_url: Option<String>,
        /// Serve https with this certificate chain (PEM); needs --tls-key. Phones need
        /// a secure context for the app's offline storage and service worker.
        #[arg(long, env = "TUNGNHA_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, env = "TUNGNHA_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Administer a data directory the server is not running on.
    Admin(AdminArgs),
}

#[derive(Debug, Args)]
struct AdminArgs {
    /// The data directory.
    #[arg(long, env = "TUNGNHA_DATA", default_value = "./tungnha-data")]
    data: PathBuf,
    /// A PostgreSQL database instead of the data directory.
    #[arg(long, env = "TUNGNHA_DATABASE")]
    database: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Provinces.
    #[command(subcommand)]
    Province(ProvinceCommand),
    /// Communes.
    #[command(subcommand)]
    Commune(CommuneCommand),
    /// Many communes.
    #[command(subcommand)]
    Communes(CommunesCommand),
    /// Hamlets.
    #[command(subcommand)]
    Hamlets(HamletsCommand),
    /// Households.
    #[command(subcommand)]
    Households(HouseholdsCommand),
    /// One hamlet's log: roll it over to a successor (compact).
    #[command(subcommand)]
    Hamlet(HamletCommand),
    /// One household's personal data: erase it, or export everything stored about it.
    #[command(subcommand)]
    Household(HouseholdCommand),
    /// One user.
    #[command(subcommand)]
    User(UserCommand),
    /// Many users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Teams (tổ công nghệ số cộng đồng).
    #[command(subcommand)]
    Team(TeamCommand),
    /// Read-only API tokens for a province's own systems (its operations centre).
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
    /// Monthly dossier statistics: received and filed online (the online-filing rate).
    #[command(subcommand)]
    Filing(FilingCommand),
    /// Assign a user to a hamlet.
    Assign {
        /// The username.
        #[arg(long)]
        user: String,
        /// The hamlet id (`commune.code`).
        #[arg(long)]
        hamlet: String,
    },
    /// Remove a user from a hamlet.
    Unassign {
        /// The username.
        #[arg(long)]
        user: String,
        /// The hamlet id (`commune.code`).
        #[arg(long)]
        hamlet: String,
    },
    /// Print a single-use enrolment code for a user's new device.
    EnrolCode {
        /// The username.
        #[arg(long)]
        user: String,
        /// How long the code works (`24h`, `30m`, `7d`).
        #[arg(long, default_value = "24h")]
        ttl: String,
    },
    /// Recompute every hamlet's coverage from its log and compare with the stored figures.
    Verify,
    /// Copy a sled data directory into an empty PostgreSQL database, then check the
    /// destination (verify) and that every figure is the same on both.
    Move {
        /// The data directory to copy (stop the server on it first).
        #[arg(long)]
        from_data: PathBuf,
        /// The PostgreSQL database to copy into (empty).
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
enum ProvinceCommand {
    /// Add a province.
    Add {
        /// Its code (letters, digits, '-', '_').
        #[arg(long)]
        code: String,
        /// Its name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum CommuneCommand {
    /// Add a commune.
    Add {
        /// Its code (letters, digits, '-', '_').
        #[arg(long)]
        code: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// xa, phuong or dac_khu.
        #[arg(long)]
        kind: String,
        /// The province it belongs to.
        #[arg(long)]
        province: Option<String>,
    },
    /// Attach a commune to its province (or move it to another).
    Attach {
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// The province's code.
        #[arg(long)]
        province: String,
    },
    /// How long households' personal data is kept: erased this many days after the
    /// last visit (30 to 3650), or never automatically (`--off`).
    Retention {
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// Days after the last visit.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        days: Option<String>,
        /// Keep personal data until it is erased on request.
        #[arg(long)]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CommunesCommand {
    /// Import a province's communes from CSV: code,name,kind.
    Import {
        /// The province's code.
        #[arg(long)]
        province: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum HamletsCommand {
    /// Import hamlets from CSV: code,name,kind,target_households.
    Import {
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum HamletCommand {
    /// Roll a hamlet's (or a counter's) log over to a successor: households carry over
    /// as they are, its visits stay on the server (history, all-time figures) and leave
    /// the log every device holds, so syncs cost what they cost in week one; the visits
    /// of the campaign open now, if one is, stay in the log. Devices switch at their
    /// next sync and carry over what they had not sent.
    Rollover {
        /// The hamlet id (`commune.code`).
        #[arg(long)]
        hamlet: String,
        /// Why, for the audit log.
        #[arg(long, default_value = "compact")]
        why: String,
    },
}

#[derive(Debug, Subcommand)]
enum HouseholdsCommand {
    /// Import households from CSV: label,head,members (head and members optional).
    Import {
        /// The hamlet id (`commune.code`).
        #[arg(long)]
        hamlet: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum HouseholdCommand {
    /// Erase a household's personal data (its label, head and notes) everywhere: its
    /// key is deleted, every device deletes its copy at its next sync, and the audit
    /// log keeps who and why. It still counts in coverage.
    Erase {
        /// The hamlet id (`commune.code`).
        #[arg(long)]
        hamlet: String,
        /// The household's id.
        #[arg(long)]
        household: String,
        /// Why (the person's request, the retention period…), for the audit log.
        #[arg(long)]
        reason: String,
    },
    /// Print everything stored about a household as JSON (the right to know).
    Export {
        /// The hamlet id (`commune.code`).
        #[arg(long)]
        hamlet: String,
        /// The household's id.
        #[arg(long)]
        household: String,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Import users from CSV: username,name,role (no web password; they enrol devices).
    Import {
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
    /// Create a team in a commune; prints its id.
    Add {
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// Its name ("Tổ CNSCĐ khu phố Bình Minh").
        #[arg(long)]
        name: String,
    },
    /// Import a commune's teams from CSV: name,hamlets,leaders,members (codes and
    /// usernames separated by spaces or ';'); a row names a team by its name, and an
    /// existing team gets exactly the row's hamlets and people. All or nothing.
    Import {
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// The CSV file.
        file: PathBuf,
    },
    /// List a commune's teams.
    List {
        /// The commune's code.
        #[arg(long)]
        commune: String,
    },
    /// Rename a team (its id stays).
    Rename {
        /// The team's id.
        #[arg(long)]
        team: String,
        /// The new name.
        #[arg(long)]
        name: String,
    },
    /// Dissolve a team: its members keep only what they are assigned on their own.
    Dissolve {
        /// The team's id.
        #[arg(long)]
        team: String,
    },
    /// A team's members.
    #[command(subcommand)]
    Member(TeamMemberCommand),
    /// The hamlets a team covers.
    #[command(subcommand)]
    Hamlet(TeamHamletCommand),
}

#[derive(Debug, Subcommand)]
enum FilingCommand {
    /// Record one month of a commune, or of a province's own agencies.
    Record {
        /// The commune's code.
        #[arg(long, conflicts_with = "province", required_unless_present = "province")]
        commune: Option<String>,
        /// The province's code (its own agencies).
        #[arg(long)]
        province: Option<String>,
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        /// Dossiers received.
        #[arg(long)]
        total: u64,
        /// Of those, filed online.
        #[arg(long)]
        online: u64,
    },
    /// Import the portal's monthly statistics, all or nothing: a CSV with the columns
    /// month, commune (a commune's code, or a province's for its agencies), total, online.
    Import {
        /// The CSV file.
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ApiTokenCommand {
    /// Issue a token that reads one province's figures; it is printed once.
    Issue {
        /// The province's code.
        #[arg(long)]
        province: String,
        /// What it is for ("IOC Tỉnh Hòa An").
        #[arg(long)]
        name: String,
    },
    /// List the tokens issued (never the tokens themselves).
    List,
    /// Revoke a token by its id.
    Revoke {
        /// The token's id (from `list`).
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum TeamMemberCommand {
    /// Add a person of the team's commune (or make a member a leader, or not).
    Add {
        /// The team's id.
        #[arg(long)]
        team: String,
        /// The username.
        #[arg(long)]
        user: String,
        /// As one of its leaders (the person must have the leader role).
        #[arg(long)]
        leader: bool,
    },
    /// Take a member out (their devices drop the team's hamlets at their next sync).
    Remove {
        /// The team's id.
        #[arg(long)]
        team: String,
        /// The username.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum TeamHamletCommand {
    /// Give the team a hamlet of its commune that no other team covers.
    Add {
        /// The team's id.
        #[arg(long)]
        team: String,
        /// The hamlet's id (`commune.code`) or code.
        #[arg(long)]
        hamlet: String,
    },
    /// Take a hamlet back from the team.
    Remove {
        /// The team's id.
        #[arg(long)]
        team: String,
        /// The hamlet's id (`commune.code`) or code.
        #[arg(long)]
        hamlet: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        /// The username (a–z, 0–9, '.', '_', '-').
        #[arg(long)]
        username: String,
        /// volunteer, leader, official, province_officer or admin.
        #[arg(long)]
        role: String,
        /// The commune's code (all but admins and province officers).
        #[arg(long)]
        commune: Option<String>,
        /// A province officer's province.
        #[arg(long)]
        province: Option<String>,
        /// Full name.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            data,
            database,
            listen,
            demo,
            cache_docs,
            cache_idle_secs,
            body_limit,
            secure_cookies,
            public_url,
            tls_cert,
            tls_key,
        } => {
            let tls = tls_cert.zip(tls_key);
            let secure_cookies = secure_cookies || tls.is_some();
            let cache_idle = std::time::Duration::from_secs(cache_idle_secs);
            let config = Config {
                demo,
                cache_docs,
                cache_idle,
                body_limit,
                secure_cookies,
                public_url,
                database,
                ..Config::new(data)
            };
            match serve(config, listen, tls) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tungnha-server: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Admin(args) => admin_main(args),
    }
}

/// A public URL is an http(s) origin, with nothing after the host but an optional `/`.
fn parse_public_url(text: &str) -> Result<String, String> {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest.map(|r| r.trim_end_matches('/')) {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ', '@']) => {
            Ok(text.trim_end_matches('/').to_owned())
        }
        _ => Err("give an address like https://tungnha.example.vn".into()),
    }
}

#[tokio::main]
async fn serve(config: Config, listen: SocketAddr, tls: Option<(PathBuf, PathBuf)>) -> anyhow::Result<()> {
    // Colours only on a terminal: a log file or journal gets plain text.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let announce = |addr: SocketAddr, https: bool| {
        let scheme = if https { "https" } else { "http" };
        tracing::info!("Từng Nhà is serving on {scheme}://{addr}");
    };
    let listen = match tls {
        Some((cert, key)) => Listen::Tls { addr: listen, cert, key },
        None => Listen::Plain(
            tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("could not listen on {listen}"))?,
        ),
    };
    tungnha_server::http::run(config, listen, shutdown_signal(), announce)
        .await
        .context("the server stopped with an error")?;
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>, ServiceError> {
    std::fs::read(path).map_err(|e| invalid(Field::File, format!("could not read {}: {e}", path.display())))
}

fn admin_main(args: AdminArgs) -> ExitCode {
    let json_out = args.json;
    let location = match args.database {
        Some(url) => tungnha_server::store::Location::Database(url),
        None => tungnha_server::store::Location::Data(args.data),
    };
    let result = match args.command {
        // A move names both its stores itself.
        AdminCommand::Move { from_data, to } => run_move(&from_data, &to),
        command => location.open().map_err(ServiceError::from).and_then(|db| run_admin(db, command)),
    };
    match result {
        Ok((value, text, ok)) => {
            if json_out {
                println!("{value}");
            } else {
                println!("{text}");
            }
            if ok { ExitCode::SUCCESS } else { ExitCode::from(2) }
        }
        Err(e) => {
            if json_out {
                let rows = match &e {
                    ServiceError::Import(rows) => json!(rows),
                    _ => json!([]),
                };
                println!("{}", json!({"code": error_code(&e), "message": e.to_string(), "rows": rows}));
            } else {
                eprintln!("tungnha-server admin: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn error_code(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Store(StoreError::InUse(_)) => "data_dir_in_use",
        ServiceError::Store(_) => "database",
        ServiceError::Import(_) => "import_rows",
        _ => "invalid",
    }
}

/// Erases a household's personal data, or exports what is stored about it.
fn run_household(
    state: &tungnha_server::AppState,
    command: HouseholdCommand,
) -> Result<(serde_json::Value, String, bool), ServiceError> {
    let ids = |hamlet: &str, household: &str| -> Result<_, ServiceError> {
        Ok((
            HamletId::parse(hamlet).map_err(|e| invalid(Field::Hamlet, e.to_string()))?,
            HouseholdId::parse(household).map_err(|e| invalid(Field::Household, e.to_string()))?,
        ))
    };
    let now = tungnha_server::now_ms();
    Ok(match command {
        HouseholdCommand::Erase { hamlet, household, reason } => {
            let (hamlet, household) = ids(&hamlet, &household)?;
            erasure::erase(state, CLI, &hamlet, &household, &reason, now)?;
            // The erased key leaves the store's live files before this returns.
            state.store.compact_erased()?;
            (
                json!({"hamlet": hamlet, "household": household, "erased": true}),
                format!("Erased the personal data of household {household} in {hamlet}"),
                true,
            )
        }
        HouseholdCommand::Export { hamlet, household } => {
            let (hamlet, household) = ids(&hamlet, &household)?;
            let record = erasure::export(state, CLI, &hamlet, &household, now)?;
            let value = serde_json::to_value(&record).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let text =
                serde_json::to_string_pretty(&value).map_err(|e| ServiceError::Internal(e.to_string()))?;
            (value, text, true)
        }
    })
}

/// Runs one admin command: (JSON result, text for people, success).
fn run_admin(
    store: std::sync::Arc<dyn Store>,
    command: AdminCommand,
) -> Result<(serde_json::Value, String, bool), ServiceError> {
    let db: &dyn Store = store.as_ref();
    let bad = |field: Field, what: &str, v: &str| invalid(field, format!("“{v}” is not a valid {what}"));
    Ok(match command {
        AdminCommand::Province(ProvinceCommand::Add { code, name }) => {
            let p = organisation::province_add(db, CLI, &code, &name)?;
            (json!({"id": p.id, "name": p.name}), format!("Added province {} ({})", p.id, p.name), true)
        }
        AdminCommand::Commune(CommuneCommand::Add { code, name, kind, province }) => {
            let kind = CommuneKind::from_code(&kind)
                .ok_or_else(|| bad(Field::Code, "commune kind (xa, phuong, dac_khu)", &kind))?;
            if let Some(p) = &province {
                // Refused before the commune exists, so a mistyped province adds nothing.
                let id = tungnha_client_core::ProvinceId::parse(p)
                    .map_err(|e| invalid(Field::Province, e.to_string()))?;
                db.province(&id)?
                    .ok_or_else(|| invalid(Field::Province, format!("province {id} does not exist")))?;
            }
            let mut c = organisation::commune_add(db, CLI, &code, &name, kind)?;
            if let Some(p) = &province {
                c = organisation::attach_commune(db, CLI, c.id.as_str(), p)?;
            }
            (
                json!({"id": c.id, "name": c.name, "kind": c.kind, "province": c.province}),
                format!("Added commune {} ({})", c.id, c.name),
                true,
            )
        }
        AdminCommand::Commune(CommuneCommand::Retention { commune, days, off }) => {
            let id = CommuneId::parse(&commune).map_err(|e| invalid(Field::Commune, e.to_string()))?;
            let days = if off { None } else { erasure::retention_days(days.as_deref().unwrap_or_default())? };
            erasure::set_retention(db, CLI, &id, days)?;
            let text = match days {
                Some(d) => {
                    format!("Commune {id} erases households' personal data {d} days after their last visit")
                }
                None => format!("Commune {id} keeps households' personal data until erased on request"),
            };
            (json!({"commune": id, "erase_after_days": days}), text, true)
        }
        AdminCommand::Commune(CommuneCommand::Attach { commune, province }) => {
            let c = organisation::attach_commune(db, CLI, &commune, &province)?;
            (
                json!({"id": c.id, "province": c.province}),
                format!("Commune {} is in province {province}", c.id),
                true,
            )
        }
        AdminCommand::Communes(CommunesCommand::Import { province, file }) => {
            let communes = imports::communes_import(db, CLI, &province, &read_file(&file)?)?;
            let ids: Vec<&str> = communes.iter().map(|c| c.id.as_str()).collect();
            (
                json!({"imported": ids}),
                format!("Imported {} communes into {province}: {}", ids.len(), ids.join(", ")),
                true,
            )
        }
        AdminCommand::Hamlets(HamletsCommand::Import { commune, file }) => {
            let hamlets = imports::hamlets_import(db, CLI, &commune, &read_file(&file)?)?;
            let ids: Vec<&str> = hamlets.iter().map(|h| h.id.as_str()).collect();
            (json!({"imported": ids}), format!("Imported {} hamlets: {}", ids.len(), ids.join(", ")), true)
        }
        AdminCommand::Households(HouseholdsCommand::Import { hamlet, file }) => {
            let n = imports::households_import(db, CLI, &hamlet, &read_file(&file)?)?;
            (json!({"imported": n}), format!("Imported {n} households into {hamlet}"), true)
        }
        AdminCommand::User(UserCommand::Add {
            username,
            role,
            commune,
            province,
            name,
            password_stdin: _,
        }) => {
            let role = Role::from_code(&role).ok_or_else(|| {
                bad(Field::User, "role (volunteer, leader, official, province_officer, admin)", &role)
            })?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| invalid(Field::Password, format!("could not read the password: {e}")))?;
            let password = password.trim_end_matches(['\r', '\n']);
            let u = match (role, province) {
                (Role::ProvinceOfficer, Some(p)) => {
                    accounts::province_officer_add(db, CLI, &username, &p, name.as_deref(), Some(password))?
                }
                (_, Some(_)) => {
                    return Err(invalid(Field::Province, "only a province officer is given --province"));
                }
                (role, None) => accounts::user_add(
                    db,
                    CLI,
                    &username,
                    role,
                    commune.as_deref(),
                    name.as_deref(),
                    Some(password),
                )?,
            };
            (
                json!({"id": u.id, "name": u.name, "role": u.role}),
                format!("Added {} {} ({})", u.role, u.id, u.name),
                true,
            )
        }
        AdminCommand::Users(UsersCommand::Import { commune, file }) => {
            let users = imports::users_import(db, CLI, &commune, &read_file(&file)?)?;
            let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
            (json!({"imported": ids}), format!("Imported {} users", ids.len()), true)
        }
        AdminCommand::Team(command) => run_team(db, command)?,
        AdminCommand::ApiToken(ApiTokenCommand::Issue { province, name }) => {
            let (t, token) = api_tokens::issue(db, CLI, &province, &name)?;
            (
                json!({"id": t.id, "name": t.name, "province": t.province, "token": token}),
                format!(
                    "API token {} for {} ({}): {token}\nShown this once; it reads GET /api/v1/provinces/{}/coverage with Authorization: Bearer.",
                    t.id, t.province, t.name, t.province
                ),
                true,
            )
        }
        AdminCommand::ApiToken(ApiTokenCommand::List) => {
            let all = db.api_tokens()?;
            let rows: Vec<serde_json::Value> = all
                .iter()
                .map(|t| json!({"id": t.id, "name": t.name, "province": t.province, "created_at": t.created_at, "created_by": t.created_by, "revoked_at": t.revoked_at}))
                .collect();
            let text = all
                .iter()
                .map(|t| {
                    let state = if t.revoked_at.is_some() { "revoked" } else { "active" };
                    format!("{} {} “{}” ({state})", t.id, t.province, t.name)
                })
                .collect::<Vec<_>>()
                .join("\n");
            (json!({"tokens": rows}), if text.is_empty() { "No API tokens".into() } else { text }, true)
        }
        AdminCommand::ApiToken(ApiTokenCommand::Revoke { id }) => {
            let t = api_tokens::revoke(db, CLI, &id)?;
            (
                json!({"id": t.id, "revoked_at": t.revoked_at}),
                format!("Revoked API token {} ({})", t.id, t.name),
                true,
            )
        }
        AdminCommand::Filing(FilingCommand::Record { commune, province, month, total, online }) => {
            let level = match (commune, province) {
                (Some(c), _) => FilingLevel::Commune(
                    CommuneId::parse(&c).map_err(|e| invalid(Field::Commune, e.to_string()))?,
                ),
                (None, Some(p)) => FilingLevel::Province(
                    ProvinceId::parse(&p).map_err(|e| invalid(Field::Province, e.to_string()))?,
                ),
                (None, None) => return Err(invalid(Field::Commune, "name a commune or a province")),
            };
            let exists = match &level {
                FilingLevel::Commune(c) => db.commune(c)?.is_some(),
                FilingLevel::Province(p) => db.province(p)?.is_some(),
            };
            if !exists {
                return Err(invalid(Field::Commune, format!("{} does not exist", level.key())));
            }
            let f = filing::record(db, None, level, &month, (total, online), tungnha_server::now_ms())?;
            (
                json!({"level": f.level, "month": f.month, "received": f.received, "online": f.online}),
                format!(
                    "Recorded {} for {}: {} of {} dossiers filed online",
                    f.month,
                    f.level.key(),
                    f.online,
                    f.received
                ),
                true,
            )
        }
        AdminCommand::Filing(FilingCommand::Import { file }) => {
            let months = filing::import(db, None, &read_file(&file)?, tungnha_server::now_ms())?;
            (json!({"imported": months.len()}), format!("Imported {} months", months.len()), true)
        }
        AdminCommand::Assign { user, hamlet } => {
            organisation::assign(db, CLI, &user, &hamlet)?;
            (
                json!({"assigned": {"user": user, "hamlet": hamlet}}),
                format!("Assigned {user} to {hamlet}"),
                true,
            )
        }
        AdminCommand::Unassign { user, hamlet } => {
            organisation::unassign(db, CLI, &user, &hamlet)?;
            (
                json!({"unassigned": {"user": user, "hamlet": hamlet}}),
                format!("Removed {user} from {hamlet}"),
                true,
            )
        }
        AdminCommand::EnrolCode { user, ttl } => {
            let code = enrolment::enrol_code(db, &user, enrolment::parse_ttl(&ttl)?)?;
            (json!({"code": code, "user": user, "ttl": ttl}), code, true)
        }
        AdminCommand::Move { from_data, to } => run_move(&from_data, &to)?,
        // Erasing and exporting go through the log cache, as the server does.
        AdminCommand::Hamlet(HamletCommand::Rollover { hamlet, why }) => {
            let id = HamletId::parse(&hamlet).map_err(|e| invalid(Field::Hamlet, e.to_string()))?;
            let state = tungnha_server::AppState::with_store(store.clone(), Config::new(PathBuf::new()));
            let Some(done) = campaigns::compact(&state, CLI, &id, &why, tungnha_server::now_ms())? else {
                return Ok((
                    json!({"hamlet": id, "rolled_over": false}),
                    format!("{id}'s log holds no visit: nothing to roll over"),
                    true,
                ));
            };
            (
                json!({"hamlet": id, "generation": done.generation, "visits": done.visits,
                       "walkins": done.walkins, "households": done.households}),
                format!(
                    "Rolled {id} over to log {}: {} households carried over, {} visits and {} walk-ins kept in its history",
                    done.generation, done.households, done.visits, done.walkins
                ),
                true,
            )
        }
        AdminCommand::Household(command) => run_household(
            &tungnha_server::AppState::with_store(store.clone(), Config::new(PathBuf::new())),
            command,
        )?,
        AdminCommand::Verify => {
            let (checked, differences) = verify::verify(db)?;
            let ok = differences.is_empty();
            let text = if ok {
                format!(
                    "All {checked} hamlets: stored coverage equals a full recompute; every commune's totals are its hamlets' sum, and every province's days its communes'."
                )
            } else {
                let mut t =
                    format!("{} differences over {checked} hamlets and their communes:", differences.len());
                for d in &differences {
                    t.push_str(&format!("\n  {d}"));
                }
                t
            };
            (json!({"checked": checked, "differences": differences}), text, ok)
        }
    })
}

/// `admin move`: copies, then verifies the destination and compares every figure.
fn run_move(from: &Path, to: &str) -> Result<(serde_json::Value, String, bool), ServiceError> {
    let source = tungnha_server::store::open(from)?;
    let destination = tungnha_server::store::connect(to)?;
    let moved = moving::move_store(source.as_ref(), destination.as_ref())?;
    let (checked, differences) = verify::verify(destination.as_ref())?;
    let unequal = moving::differences(source.as_ref(), destination.as_ref())?;
    let ok = differences.is_empty() && unequal.is_empty();
    let text = if ok {
        format!(
            "Moved {} communes, {} hamlets, {} people, {} teams, {} devices and {} audit events; verify over {checked} hamlets found nothing, and every figure is the same on both.",
            moved.communes, moved.hamlets, moved.users, moved.teams, moved.devices, moved.audit_events
        )
    } else {
        format!("Moved, but the destination differs: {differences:?} {unequal:?}")
    };
    Ok((json!({"moved": moved, "differences": differences, "unequal": unequal}), text, ok))
}

/// One line about a team, for people.
fn team_text(t: &tungnha_server::records::Team) -> String {
    let list = |ids: Vec<&str>| if ids.is_empty() { "—".to_owned() } else { ids.join(", ") };
    format!(
        "{} “{}”: leaders {}; members {}; hamlets {}",
        t.id,
        t.name,
        list(t.leaders.iter().map(|u| u.as_str()).collect()),
        list(t.members.iter().map(|u| u.as_str()).collect()),
        list(t.hamlets.iter().map(|h| h.as_str()).collect()),
    )
}

/// Runs a `team` command: (JSON result, text for people, success).
fn run_team(db: &dyn Store, command: TeamCommand) -> Result<(serde_json::Value, String, bool), ServiceError> {
    let commune_id = |c: &str| {
        tungnha_client_core::CommuneId::parse(c).map_err(|e| invalid(Field::Commune, e.to_string()))
    };
    let one = |t: tungnha_server::records::Team| (json!(t), team_text(&t), true);
    Ok(match command {
        TeamCommand::Add { commune, name } => one(teams::team_add(db, CLI, &commune_id(&commune)?, &name)?),
        TeamCommand::Import { commune, file } => {
            let made = teams::teams_import(db, CLI, &commune_id(&commune)?, &read_file(&file)?)?;
            let text = made.iter().map(team_text).collect::<Vec<_>>().join("\n");
            (json!({"imported": made}), format!("Imported {} teams:\n{text}", made.len()), true)
        }
        TeamCommand::List { commune } => {
            let id = commune_id(&commune)?;
            db.commune(&id)?
                .ok_or_else(|| invalid(Field::Commune, format!("commune {id} does not exist")))?;
            let all = db.teams_of(&id)?;
            let text = if all.is_empty() {
                format!("Commune {id} has no teams")
            } else {
                all.iter().map(team_text).collect::<Vec<_>>().join("\n")
            };
            (json!({"teams": all}), text, true)
        }
        TeamCommand::Rename { team, name } => {
            one(teams::team_rename(db, CLI, &teams::team(db, &team)?, &name)?)
        }
        TeamCommand::Dissolve { team } => {
            let t = teams::team(db, &team)?;
            teams::team_dissolve(db, CLI, &t)?;
            (json!({"dissolved": t.id}), format!("Dissolved {} ({})", t.id, t.name), true)
        }
        TeamCommand::Member(TeamMemberCommand::Add { team, user, leader }) => {
            one(teams::member_add(db, CLI, &teams::team(db, &team)?, &user, leader)?)
        }
        TeamCommand::Member(TeamMemberCommand::Remove { team, user }) => {
            one(teams::member_remove(db, CLI, &teams::team(db, &team)?, &user)?)
        }
        TeamCommand::Hamlet(TeamHamletCommand::Add { team, hamlet }) => {
            one(teams::hamlet_add(db, CLI, &teams::team(db, &team)?, &hamlet)?)
        }
        TeamCommand::Hamlet(TeamHamletCommand::Remove { team, hamlet }) => {
            one(teams::hamlet_remove(db, CLI, &teams::team(db, &team)?, &hamlet)?)
        }
    })
}

/// Completes on SIGINT or SIGTERM, for a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
