//! The admin commands (`tungnha-server admin …`), as functions on the database so the
//! CLI, the demo seed and tests share them. They run on a data directory the server is
//! not running on (sled's file lock refuses a second opener, and `Db::open` says so).
//!
//! CSV imports are all-or-nothing: every row is checked first, every problem is
//! reported at once (line, column, reason), and nothing is written unless all are good.

use std::collections::BTreeSet;

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::domain::{CommuneKind, HamletKind, MAX_COUNT};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{ActorId, Author, CommuneId, Coverage, HamletId, HouseholdForm, Role, UserId};

use crate::db::{Db, DbError, LogContent, LogWrite};
use crate::records::{AuditEvent, Commune, EnrolCode, Hamlet, User};

/// One bad cell of an imported CSV file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The line in the file (1 is the header).
    pub line: u64,
    /// The column's name.
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column.as_str() {
            "" => write!(f, "line {}: {}", self.line, self.reason),
            column => write!(f, "line {}, column “{column}”: {}", self.line, self.reason),
        }
    }
}

/// What can go wrong with an admin command.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A CSV file has bad rows; nothing was imported.
    #[error("nothing was imported; fix these rows and try again:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Import(Vec<RowError>),
}

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// Who the audit log names for the admin commands run from the command line.
pub const CLI: &str = "admin-cli";

/// Appends to the audit log: `by` did `action`, in `commune` when it concerns one.
pub fn audit(
    db: &Db,
    by: &str,
    commune: Option<&CommuneId>,
    action: &str,
    detail: String,
) -> Result<(), AdminError> {
    db.audit(&AuditEvent {
        at: crate::now_ms(),
        by: by.into(),
        commune: commune.cloned(),
        action: action.into(),
        detail,
    })?;
    Ok(())
}

/// Creates a commune with the default catalogue.
pub fn commune_add(
    db: &Db,
    by: &str,
    code: &str,
    name: &str,
    kind: CommuneKind,
) -> Result<Commune, AdminError> {
    let id = CommuneId::parse(code).map_err(|e| invalid(e.to_string()))?;
    if code.contains('.') {
        return Err(invalid("a commune code may not contain '.'"));
    }
    if db.commune(&id)?.is_some() {
        return Err(invalid(format!("commune {id} exists already")));
    }
    let name = name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(format!("the commune's name {fault}")));
    }
    let commune =
        Commune { id, name: name.to_owned(), kind, catalogue: Catalogue::default(), visits_from: None };
    db.put_commune(&commune)?;
    audit(db, by, Some(&commune.id), "commune_add", format!("{} {}", commune.id, commune.name))?;
    Ok(commune)
}

/// A CSV file read as rows of named text cells, with every problem collected.
struct Csv {
    rows: Vec<(u64, Vec<(String, String)>)>,
    errors: Vec<RowError>,
}

fn read_csv(bytes: &[u8], required: &[&str], optional: &[&str]) -> Csv {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    if bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes).iter().all(u8::is_ascii_whitespace) {
        errors.push(RowError { line: 1, column: String::new(), reason: "the file is empty".into() });
        return Csv { rows, errors };
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let headers: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().trim_start_matches('\u{feff}').to_owned())
            .collect(),
        Err(e) => {
            errors.push(RowError { line: 1, column: String::new(), reason: e.to_string() });
            return Csv { rows, errors };
        }
    };
    for col in required {
        if !headers.iter().any(|h| h == col) {
            errors.push(RowError { line: 1, column: (*col).into(), reason: "this column is missing".into() });
        }
    }
    for h in &headers {
        if !required.contains(&h.as_str()) && !optional.contains(&h.as_str()) {
            errors.push(RowError { line: 1, column: h.clone(), reason: "unknown column".into() });
        }
    }
    if !errors.is_empty() {
        return Csv { rows, errors };
    }
    for record in reader.byte_records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError { line, column: String::new(), reason: e.to_string() });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let mut cells = Vec::new();
        let mut readable = true;
        for (i, h) in headers.iter().enumerate() {
            let raw = record.get(i).unwrap_or_default();
            match std::str::from_utf8(raw) {
                Ok(s) => cells.push((h.clone(), s.to_owned())),
                Err(_) => {
                    readable = false;
                    errors.push(RowError {
                        line,
                        column: h.clone(),
                        reason: "not valid UTF-8 (save the file as CSV UTF-8)".into(),
                    });
                }
            }
        }
        // A row with unreadable text is reported once, not again for what it lacks.
        if readable {
            rows.push((line, cells));
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 2,
            column: String::new(),
            reason: "the file has no rows to import".into(),
        });
    }
    Csv { rows, errors }
}

fn cell<'a>(cells: &'a [(String, String)], name: &str) -> &'a str {
    cells.iter().find(|(h, _)| h == name).map_or("", |(_, v)| v.as_str())
}

/// Imports hamlets (`code,name,kind,target_households`) into a commune.
pub fn hamlets_import(db: &Db, by: &str, commune: &str, bytes: &[u8]) -> Result<Vec<Hamlet>, AdminError> {
    let commune = CommuneId::parse(commune).map_err(|e| invalid(e.to_string()))?;
    db.commune(&commune)?
        .ok_or_else(|| invalid(format!("commune {commune} does not exist; add it first")))?;
    let hamlets = parse_hamlets(&commune, bytes, &|id| Ok(db.hamlet(id)?.is_some()))?;
    db.put_hamlets(&hamlets)?;
    audit(db, by, Some(&commune), "hamlets_import", format!("{} · {commune}", hamlets.len()))?;
    Ok(hamlets)
}

/// Whether a record already exists, asked of the database by the imports (and of
/// nothing by the fuzzer, which drives the parsers alone).
pub type Exists<'a, T> = &'a dyn Fn(&T) -> Result<bool, AdminError>;

/// Reads and checks a hamlets file, every row, without writing anything.
pub fn parse_hamlets(
    commune: &CommuneId,
    bytes: &[u8],
    exists: Exists<'_, HamletId>,
) -> Result<Vec<Hamlet>, AdminError> {
    let csv = read_csv(bytes, &["code", "name", "kind", "target_households"], &[]);
    let mut errors = csv.errors;
    let mut seen = BTreeSet::new();
    let mut hamlets = Vec::new();
    for (line, cells) in &csv.rows {
        let err = |column: &str, reason: String| RowError { line: *line, column: column.into(), reason };
        let code = cell(cells, "code");
        let id = HamletId::parse(&format!("{commune}.{code}"));
        let id = match id {
            Ok(id) if !code.is_empty() && !code.contains('.') => id,
            _ => {
                errors.push(err(
                    "code",
                    format!("“{code}” is not a valid code (letters, digits, '-' and '_')"),
                ));
                continue;
            }
        };
        if !seen.insert(id.clone()) {
            errors.push(err("code", format!("“{code}” appears more than once")));
        } else if exists(&id)? {
            errors.push(err("code", format!("hamlet “{code}” exists already")));
        }
        let name = cell(cells, "name");
        if let Some(fault) = text_fault(name, true) {
            errors.push(err("name", fault));
        }
        let kind = HamletKind::from_code(cell(cells, "kind"));
        if kind.is_none() {
            errors.push(err(
                "kind",
                format!("“{}” is not one of thon, ap, ban, khu_pho, to_dan_pho", cell(cells, "kind")),
            ));
        }
        let target = cell(cells, "target_households");
        let target = match target.parse::<i64>() {
            Ok(n) if n < 0 => {
                errors.push(err("target_households", format!("{n} is negative")));
                None
            }
            Ok(n) => u64::try_from(n).ok(),
            Err(_) => {
                errors.push(err("target_households", format!("“{target}” is not a whole number")));
                None
            }
        };
        if let (Some(kind), Some(target)) = (kind, target) {
            hamlets.push(Hamlet {
                id,
                code: code.to_owned(),
                name: name.to_owned(),
                kind,
                commune: commune.clone(),
                target_households: target,
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(AdminError::Import(errors));
    }
    Ok(hamlets)
}

/// The pseudo-user that imported households are listed by.
pub fn importer() -> Author {
    #[allow(clippy::expect_used)]
    let user = UserId::parse("import").expect("“import” is a valid user id");
    Author { user, role: Role::Admin }
}

/// Imports households (`label,head,members`; head and members optional) into a
/// hamlet's log, in one durable write. Returns how many were added.
pub fn households_import(db: &Db, by: &str, hamlet: &str, bytes: &[u8]) -> Result<usize, AdminError> {
    let id = HamletId::parse(hamlet).map_err(|e| invalid(e.to_string()))?;
    let record = db.hamlet(&id)?.ok_or_else(|| invalid(format!("hamlet {id} does not exist")))?;
    let forms = parse_households(bytes)?;
    let (mut log, next) = db.load_log(&id)?.ok_or_else(|| invalid(format!("hamlet {id} has no log")))?;
    log.set_actor(ActorId::random());
    let now = crate::now_ms();
    log.import_households(&importer(), &forms, now).map_err(|e| invalid(e.to_string()))?;
    db.commit_log(&LogWrite {
        hamlet: id.clone(),
        content: LogContent::Snapshot { bytes: log.save(), remove: (1..next).collect() },
        coverage: Coverage::compute(&log),
        before: None,
    })?;
    audit(db, by, Some(&record.commune), "households_import", format!("{} · {id}", forms.len()))?;
    Ok(forms.len())
}

/// Reads and checks a households file (`label,head,members`), every row, without
/// writing anything.
pub fn parse_households(bytes: &[u8]) -> Result<Vec<HouseholdForm>, AdminError> {
    let csv = read_csv(bytes, &["label"], &["head", "members"]);
    let mut errors = csv.errors;
    let mut forms = Vec::new();
    for (line, cells) in &csv.rows {
        let err = |column: &str, reason: &str| RowError {
            line: *line,
            column: column.into(),
            reason: reason.into(),
        };
        let label = cell(cells, "label");
        if let Some(fault) = text_fault(label, true) {
            errors.push(err("label", &fault));
        }
        let head = cell(cells, "head");
        if let Some(fault) = text_fault(head, false) {
            errors.push(err("head", &fault));
        }
        let members = cell(cells, "members");
        let members = if members.is_empty() {
            None
        } else {
            match members.parse::<u32>() {
                Ok(n) if n <= MAX_COUNT => Some(n),
                _ => {
                    errors.push(err("members", "must be a whole number from 0 to 50"));
                    None
                }
            }
        };
        forms.push(HouseholdForm {
            label: label.to_owned(),
            head: (!head.is_empty()).then(|| head.to_owned()),
            members,
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(AdminError::Import(errors));
    }
    Ok(forms)
}

/// Checks a username: 2–32 of `a–z 0–9 . _ -`, with a letter (so never a phone number).
pub fn check_username(username: &str) -> Result<UserId, AdminError> {
    let ok_chars =
        username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !(2..=32).contains(&username.len()) || !ok_chars || !username.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(invalid(
            "a username is 2 to 32 of a–z, 0–9, '.', '_' and '-', with at least one letter (never a phone number)",
        ));
    }
    UserId::parse(username).map_err(|e| invalid(e.to_string()))
}

/// Hashes a password with argon2id.
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    if password.chars().count() < 8 {
        return Err(invalid("the password must be at least 8 characters"));
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .map_err(|e| invalid(format!("the password could not be hashed: {e}")))
}

/// Creates a user; with no password, one who cannot sign in on the web.
pub fn user_add(
    db: &Db,
    by: &str,
    username: &str,
    role: Role,
    commune: Option<&str>,
    name: Option<&str>,
    password: Option<&str>,
) -> Result<User, AdminError> {
    let id = check_username(username)?;
    if db.user(&id)?.is_some() {
        return Err(invalid(format!("user {id} exists already")));
    }
    let commune = match commune {
        Some(c) => {
            let c = CommuneId::parse(c).map_err(|e| invalid(e.to_string()))?;
            db.commune(&c)?.ok_or_else(|| invalid(format!("commune {c} does not exist")))?;
            Some(c)
        }
        None if role == Role::Admin => None,
        None => return Err(invalid("volunteers, leaders and officials belong to a commune: give --commune")),
    };
    if role == Role::Admin && commune.is_some() {
        return Err(invalid("an administrator belongs to no commune: leave out --commune"));
    }
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(username);
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(format!("the name {fault}")));
    }
    let user = User {
        id,
        name: name.to_owned(),
        role,
        commune,
        // No password: the account only syncs from enrolled devices.
        password_hash: password.map(hash_password).transpose()?.unwrap_or_else(|| NO_PASSWORD.into()),
        active: true,
    };
    db.put_user(&user)?;
    audit(db, by, user.commune.as_ref(), "user_add", format!("{} ({})", user.id, user.role))?;
    Ok(user)
}

/// The password hash of an account that cannot log in on the web (it only syncs from
/// enrolled devices). No argon2 output ever equals it.
pub const NO_PASSWORD: &str = "!";

/// Imports users from CSV (`username,name,role`) into a commune, all-or-nothing. They
/// get no web password: volunteers who only use the phone need none, and a leader can
/// set one later. Returns the users created.
pub fn users_import(db: &Db, by: &str, commune: &str, bytes: &[u8]) -> Result<Vec<User>, AdminError> {
    let commune = CommuneId::parse(commune).map_err(|e| invalid(e.to_string()))?;
    db.commune(&commune)?
        .ok_or_else(|| invalid(format!("commune {commune} does not exist; add it first")))?;
    let users = parse_users(&commune, bytes, &|id| Ok(db.user(id)?.is_some()))?;
    db.put_users(&users)?;
    audit(db, by, Some(&commune), "users_import", format!("{} · {commune}", users.len()))?;
    Ok(users)
}

/// Reads and checks a users file, every row, without writing anything.
pub fn parse_users(
    commune: &CommuneId,
    bytes: &[u8],
    exists: Exists<'_, UserId>,
) -> Result<Vec<User>, AdminError> {
    let csv = read_csv(bytes, &["username", "name", "role"], &[]);
    let mut errors = csv.errors;
    let mut seen = BTreeSet::new();
    let mut users = Vec::new();
    for (line, cells) in &csv.rows {
        let err = |column: &str, reason: String| RowError { line: *line, column: column.into(), reason };
        let username = cell(cells, "username");
        let id = match check_username(username) {
            Ok(id) => id,
            Err(e) => {
                errors.push(err("username", e.to_string()));
                continue;
            }
        };
        if !seen.insert(id.clone()) {
            errors.push(err("username", format!("“{username}” appears more than once")));
        } else if exists(&id)? {
            errors.push(err("username", format!("user “{username}” exists already")));
        }
        let name = cell(cells, "name");
        if let Some(fault) = text_fault(name, true) {
            errors.push(err("name", fault));
        }
        let role = match Role::from_code(cell(cells, "role")) {
            Some(Role::Admin) | None => {
                errors.push(err(
                    "role",
                    format!("“{}” is not one of volunteer, leader, official", cell(cells, "role")),
                ));
                continue;
            }
            Some(role) => role,
        };
        users.push(User {
            id,
            name: name.to_owned(),
            role,
            commune: Some(commune.clone()),
            password_hash: NO_PASSWORD.into(),
            active: true,
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(AdminError::Import(errors));
    }
    Ok(users)
}

fn user_and_hamlet(db: &Db, user: &str, hamlet: &str) -> Result<(User, Hamlet), AdminError> {
    let uid = UserId::parse(user).map_err(|e| invalid(e.to_string()))?;
    let hid = HamletId::parse(hamlet).map_err(|e| invalid(e.to_string()))?;
    let user = db.user(&uid)?.ok_or_else(|| invalid(format!("user {uid} does not exist")))?;
    let hamlet = db.hamlet(&hid)?.ok_or_else(|| invalid(format!("hamlet {hid} does not exist")))?;
    if user.commune.as_ref() != Some(&hamlet.commune) {
        return Err(invalid(format!("user {} is not in the commune of hamlet {}", user.id, hamlet.id)));
    }
    Ok((user, hamlet))
}

/// Assigns a user to a hamlet.
pub fn assign(db: &Db, by: &str, user: &str, hamlet: &str) -> Result<(), AdminError> {
    let (user, hamlet) = user_and_hamlet(db, user, hamlet)?;
    db.assign(&user.id, &hamlet.id)?;
    audit(db, by, Some(&hamlet.commune), "assign", format!("{} → {}", user.id, hamlet.id))
}

/// Removes a user from a hamlet.
pub fn unassign(db: &Db, by: &str, user: &str, hamlet: &str) -> Result<(), AdminError> {
    let (user, hamlet) = user_and_hamlet(db, user, hamlet)?;
    db.unassign(&user.id, &hamlet.id)?;
    audit(db, by, Some(&hamlet.commune), "unassign", format!("{} ✕ {}", user.id, hamlet.id))
}

/// The largest target a hamlet may have: no hamlet has a hundred thousand households.
pub const MAX_TARGET: u64 = 100_000;

/// Sets how many households a hamlet's team is expected to reach.
pub fn set_target(db: &Db, by: &str, hamlet: &HamletId, target: u64) -> Result<Hamlet, AdminError> {
    if target > MAX_TARGET {
        return Err(invalid(format!("a target is at most {MAX_TARGET} households")));
    }
    let mut h = db.hamlet(hamlet)?.ok_or_else(|| invalid(format!("hamlet {hamlet} does not exist")))?;
    let before = h.target_households;
    h.target_households = target;
    db.put_hamlets(std::slice::from_ref(&h))?;
    audit(db, by, Some(&h.commune), "target", format!("{}: {before} → {target}", h.id))?;
    Ok(h)
}

/// Sets a user's web password; their open web sessions end.
pub fn set_password(db: &Db, by: &str, user: &UserId, password: &str) -> Result<(), AdminError> {
    let mut u = db.user(user)?.ok_or_else(|| invalid(format!("user {user} does not exist")))?;
    u.password_hash = hash_password(password)?;
    db.put_user(&u)?;
    db.remove_sessions_of(user)?;
    audit(db, by, u.commune.as_ref(), "password_reset", user.to_string())
}

/// Activates or deactivates a user. A deactivated user can neither sign in nor sync,
/// and their open web sessions end.
pub fn set_active(db: &Db, by: &str, user: &UserId, active: bool) -> Result<(), AdminError> {
    let mut u = db.user(user)?.ok_or_else(|| invalid(format!("user {user} does not exist")))?;
    u.active = active;
    db.put_user(&u)?;
    if !active {
        db.remove_sessions_of(user)?;
    }
    audit(db, by, u.commune.as_ref(), if active { "reactivate" } else { "deactivate" }, user.to_string())
}

/// Replaces a commune's catalogue. Codes already in it must stay (hamlet logs refer to
/// them); labels may change and entries may be added.
pub fn set_catalogue(db: &Db, by: &str, commune: &CommuneId, catalogue: Catalogue) -> Result<(), AdminError> {
    let mut c = db.commune(commune)?.ok_or_else(|| invalid(format!("commune {commune} does not exist")))?;
    for (old, new) in
        [(&c.catalogue.topics, &catalogue.topics), (&c.catalogue.account_kinds, &catalogue.account_kinds)]
    {
        if let Some(gone) = old.iter().find(|e| !new.iter().any(|n| n.code == e.code)) {
            return Err(invalid(format!("code {} may not be removed", gone.code)));
        }
    }
    for e in catalogue.topics.iter().chain(&catalogue.account_kinds) {
        if !tungnha_client_core::catalogue::is_code(&e.code) {
            return Err(invalid(format!("“{}” is not a code", e.code)));
        }
        if let Some(fault) = text_fault(&e.label, true) {
            return Err(invalid(format!("the label of {} {fault}", e.code)));
        }
    }
    c.catalogue = catalogue;
    db.put_commune(&c)?;
    audit(db, by, Some(commune), "catalogue", commune.to_string())
}

/// Reads the day a commune starts recording visits (`YYYY-MM-DD`, empty for none) as
/// ms since epoch at midnight in Vietnam. It may not be before 2020 nor after today:
/// a start in the future would refuse every visit logged today.
pub fn visits_from_day(text: &str, now_ms: i64) -> Result<Option<i64>, AdminError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        invalid(format!("“{}” is not a day (YYYY-MM-DD)", text.chars().take(20).collect::<String>()))
    })?;
    let ms = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis() - 7 * 3_600_000);
    let today = tungnha_client_core::coverage::vn_day(now_ms);
    match ms {
        Some(ms) if ms >= tungnha_client_core::rules::MIN_TIME_MS && day.to_string() <= today => Ok(Some(ms)),
        _ => Err(invalid(format!("the day must be between 2020-01-01 and today ({today})"))),
    }
}

/// Sets (or clears) the day a commune starts recording visits; visits before it are
/// refused from then on.
pub fn set_visits_from(db: &Db, by: &str, commune: &CommuneId, from: Option<i64>) -> Result<(), AdminError> {
    let mut c = db.commune(commune)?.ok_or_else(|| invalid(format!("commune {commune} does not exist")))?;
    c.visits_from = from;
    db.put_commune(&c)?;
    let what = from.map_or_else(|| "—".to_owned(), tungnha_client_core::coverage::vn_day);
    audit(db, by, Some(commune), "visits_from", format!("{commune}: {what}"))
}

/// The alphabet of enrolment codes: no 0/O, 1/I, so they can be read out and typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Makes a single-use enrolment code for a user, valid for `ttl_ms`, from the command
/// line: the device it enrols may hold all the user's hamlets.
pub fn enrol_code(db: &Db, user: &str, ttl_ms: i64) -> Result<String, AdminError> {
    mint_code(db, CLI, user, ttl_ms, None)
}

/// Makes a single-use enrolment code for a user, valid for `ttl_ms`, on behalf of `by`
/// (audited). With `within`, the device it enrols may only ever hold those hamlets of
/// its user's: a leader's code reaches no hamlet outside the leader's own.
pub fn mint_code(
    db: &Db,
    by: &str,
    user: &str,
    ttl_ms: i64,
    within: Option<Vec<HamletId>>,
) -> Result<String, AdminError> {
    use rand::Rng;
    let uid = UserId::parse(user).map_err(|e| invalid(e.to_string()))?;
    let user = db.user(&uid)?.ok_or_else(|| invalid(format!("user {uid} does not exist")))?;
    if !user.active {
        return Err(invalid(format!("user {uid} is deactivated")));
    }
    let mut rng = rand::rng();
    let code: String =
        (0..10).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect();
    let expires_at = crate::now_ms().saturating_add(ttl_ms);
    db.put_enrol_code(&code, &EnrolCode { user: uid.clone(), expires_at, within })?;
    audit(db, by, user.commune.as_ref(), "enrol_code", uid.to_string())?;
    Ok(code)
}

/// The longest an enrolment code may stay valid.
pub const MAX_CODE_TTL_MS: i64 = 30 * 86_400_000;

/// Parses a duration like `24h`, `30m`, `7d` or `90s` into milliseconds.
pub fn parse_ttl(text: &str) -> Result<i64, AdminError> {
    let text = text.trim();
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 =
        num.parse().map_err(|_| invalid(format!("“{text}” is not a duration like 24h, 30m or 7d")))?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" | "" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(invalid(format!("“{text}” is not a duration like 24h, 30m or 7d"))),
    };
    // The duration is bounded, not the number typed: 720h and 30d are the same limit.
    match n.checked_mul(ms) {
        Some(total) if total > 0 && total <= MAX_CODE_TTL_MS => Ok(total),
        _ => Err(invalid("the duration must be positive and at most 30 days")),
    }
}

/// One difference `verify` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    /// The hamlet.
    pub hamlet: String,
    /// The stored figures.
    pub stored: Coverage,
    /// The figures recomputed from the log.
    pub recomputed: Coverage,
}

/// Recomputes every hamlet's coverage from its log and compares it with the stored one.
pub fn verify(db: &Db) -> Result<(usize, Vec<Difference>), AdminError> {
    let mut checked = 0;
    let mut differences = Vec::new();
    for h in db.all_hamlets()? {
        let stored = db.coverage(&h.id)?;
        let recomputed = match db.load_log(&h.id)? {
            Some((log, _)) => Coverage::compute(&log),
            None => Coverage::default(),
        };
        checked += 1;
        if stored != recomputed {
            differences.push(Difference { hamlet: h.id.to_string(), stored, recomputed });
        }
    }
    Ok((checked, differences))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path()).expect("open");
        commune_add(&db, CLI, "p-hoa-binh", "Phường Hòa Bình", CommuneKind::Phuong).expect("commune");
        (dir, db)
    }

    #[test]
    fn a_bad_hamlet_file_reports_every_bad_row_and_imports_nothing() {
        let (_dir, db) = db();
        let mut csv = b"code,name,kind,target_households\n".to_vec();
        csv.extend_from_slice("kp-1,Khu phố 1,khu_pho,300\n".as_bytes());
        csv.extend_from_slice("kp-1,Khu phố 1 lần nữa,khu_pho,300\n".as_bytes());
        csv.extend_from_slice("kp-2,Khu phố 2,lang,300\n".as_bytes());
        csv.extend_from_slice("kp-3,Khu phố 3,khu_pho,-5\n".as_bytes());
        csv.extend_from_slice(b"kp-4,Khu ph\xff 4,khu_pho,10\n");
        let err = hamlets_import(&db, CLI, "p-hoa-binh", &csv).expect_err("refused");
        let AdminError::Import(rows) = err else { panic!("expected row errors, got {err}") };
        let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(found, vec![(3, "code"), (4, "kind"), (5, "target_households"), (6, "name")], "{rows:?}");
        assert!(rows[3].reason.contains("UTF-8"));
        assert!(db.hamlets_of(&CommuneId::parse("p-hoa-binh").expect("id")).expect("list").is_empty());
    }

    #[test]
    fn a_missing_column_is_named() {
        let (_dir, db) = db();
        let err = hamlets_import(&db, CLI, "p-hoa-binh", b"code,name,target_households\nkp-1,A,3\n")
            .expect_err("refused");
        assert!(err.to_string().contains("column “kind”: this column is missing"), "{err}");
    }

    #[test]
    fn good_files_import_hamlets_and_households_with_coverage() {
        let (_dir, db) = db();
        let hamlets = hamlets_import(
            &db,
            CLI,
            "p-hoa-binh",
            "code,name,kind,target_households\nkp-1,Khu phố 1,khu_pho,300\n".as_bytes(),
        )
        .expect("imported");
        assert_eq!(hamlets[0].id.as_str(), "p-hoa-binh.kp-1");
        let n = households_import(
            &db,
            CLI,
            "p-hoa-binh.kp-1",
            "label,head,members\nSố 1,Nguyễn Văn A,4\nSố 2,,\n\"Số 3, hẻm 2\",Trần Thị B,2\n".as_bytes(),
        )
        .expect("imported");
        assert_eq!(n, 3);
        let (log, _) = db.load_log(&hamlets[0].id).expect("load").expect("log");
        assert_eq!(log.households().ok.len(), 3);
        assert_eq!(db.coverage(&hamlets[0].id).expect("coverage").registered, 3);
        assert_eq!(verify(&db).expect("verify"), (1, vec![]));
        let err =
            households_import(&db, CLI, "p-hoa-binh.kp-1", b"label,members\nX,99\n").expect_err("refused");
        assert!(err.to_string().contains("line 2, column “members”"), "{err}");
    }

    #[test]
    fn text_faults_and_empty_files_are_refused_by_line() {
        let (_dir, db) = db();
        hamlets_import(&db, "someone", "p-hoa-binh", b"code,name,kind,target_households\nkp-1,A,khu_pho,3\n")
            .expect("imported");
        let csv = "label,head\nSố 1,An\n\"Số 2\u{7}\",Bình\nSố 3,Chi\u{202e}n\n";
        let err = households_import(&db, CLI, "p-hoa-binh.kp-1", csv.as_bytes()).expect_err("refused");
        let AdminError::Import(rows) = err else { panic!("expected row errors, got {err}") };
        let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(found, vec![(3, "label"), (4, "head")], "{rows:?}");
        for empty in [&b"label,head\n"[..], b"", b"\xef\xbb\xbflabel\n\n"] {
            let err =
                households_import(&db, CLI, "p-hoa-binh.kp-1", empty).expect_err("an empty file is refused");
            assert!(err.to_string().contains("no rows") || err.to_string().contains("empty"), "{err}");
        }
        assert_eq!(
            db.coverage(&HamletId::parse("p-hoa-binh.kp-1").expect("id")).expect("coverage").registered,
            0
        );
        // The import is audited under whoever ran it.
        assert!(
            db.audit_events(10)
                .expect("audit")
                .iter()
                .any(|e| e.by == "someone" && e.action == "hamlets_import")
        );
    }

    #[test]
    fn users_import_in_bulk_without_passwords_or_not_at_all() {
        let (_dir, db) = db();
        let good = "username,name,role\nlan.tran,Trần Thị Lan,volunteer\nhai.nguyen,Nguyễn Văn Hải,leader\n";
        let users = users_import(&db, CLI, "p-hoa-binh", good.as_bytes()).expect("imported");
        assert_eq!(users.len(), 2);
        assert_eq!(db.user(&users[0].id).expect("read").expect("stored").password_hash, NO_PASSWORD);
        let bad =
            "username,name,role\nmai,Mai,volunteer\n0912345678,Số điện thoại,volunteer\nlan.tran,Lan,admin\n";
        let err = users_import(&db, CLI, "p-hoa-binh", bad.as_bytes()).expect_err("refused");
        let AdminError::Import(rows) = err else { panic!("expected row errors") };
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4, 4], "{rows:?}");
        assert!(db.user(&UserId::parse("mai").expect("id")).expect("read").is_none(), "nothing was imported");
    }

    #[test]
    fn usernames_are_never_phone_numbers() {
        assert!(check_username("lan.nguyen").is_ok());
        assert!(check_username("0912345678").is_err());
        assert!(check_username("Lan").is_err());
        assert!(check_username("a").is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_ttl("24h").expect("ok"), 86_400_000);
        assert_eq!(parse_ttl("30m").expect("ok"), 1_800_000);
        assert!(parse_ttl("-1h").is_err());
        assert!(parse_ttl("soon").is_err());
        // The duration is bounded, whatever unit it is typed in.
        assert_eq!(parse_ttl("30d").expect("ok"), MAX_CODE_TTL_MS);
        assert_eq!(parse_ttl("720h").expect("ok"), MAX_CODE_TTL_MS);
        assert_eq!(parse_ttl("1000m").expect("ok"), 60_000_000);
        for long in ["31d", "720d", "721h", "43201m", "99999999999999999d"] {
            assert!(parse_ttl(long).is_err(), "{long}");
        }
    }
}
