//! CSV imports (hamlets, households, people), all or nothing (fields separated by `,`,
//! or by `;` or tabs as Excel in Vietnamese saves and copies them): every row is checked
//! first, every problem reported at once (line, column, reason), and nothing is
//! written unless all are good. Also the one offline rewrite of a hamlet log
//! (`rewrite_log`), which imports, the demo and the load generator's seeds share.

use std::collections::BTreeSet;

use tungnha_client_core::domain::{CommuneKind, HamletKind, MAX_COUNT};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::schema::shown;
use tungnha_client_core::{
    ActorId, Author, CommuneId, HamletId, HamletLog, HouseholdForm, ProvinceId, Role, UserId,
};

use crate::records::{Commune, Hamlet, User};
use crate::service::ServiceError;
use crate::service::accounts::{NO_PASSWORD, check_username};
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::store::{LogWrite, Store};

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

/// A CSV file read as rows of named text cells, with every problem collected.
pub(crate) struct Csv {
    pub(crate) rows: Vec<(u64, Vec<(String, String)>)>,
    pub(crate) errors: Vec<RowError>,
}

pub(crate) fn read_csv(bytes: &[u8], required: &[&str], optional: &[&str]) -> Csv {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    if bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes).iter().all(u8::is_ascii_whitespace) {
        errors.push(RowError { line: 1, column: String::new(), reason: "the file is empty".into() });
        return Csv { rows, errors };
    }
    // Excel set to Vietnamese saves CSV with `;`, and a copy from Excel pastes tabs:
    // the header line says which.
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if header.contains(&b'\t') {
        b'\t'
    } else if header.contains(&b';') && !header.contains(&b',') {
        b';'
    } else {
        b','
    };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).trim(csv::Trim::All).from_reader(bytes);
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

pub(crate) fn cell<'a>(cells: &'a [(String, String)], name: &str) -> &'a str {
    cells.iter().find(|(h, _)| h == name).map_or("", |(_, v)| v.as_str())
}

/// Imports a province's communes (`code,name,kind`), all or nothing.
pub fn communes_import(
    store: &dyn Store,
    by: &str,
    province: &str,
    bytes: &[u8],
) -> Result<Vec<Commune>, ServiceError> {
    let province = ProvinceId::parse(province).map_err(|e| invalid(Field::Province, e.to_string()))?;
    store.province(&province)?.ok_or_else(|| {
        invalid(Field::Province, format!("province {province} does not exist; add it first"))
    })?;
    let communes = parse_communes(&province, bytes, &|id| Ok(store.commune(id)?.is_some()))?;
    for c in &communes {
        store.put_commune(c)?;
    }
    audit(store, by, None, "communes_import", format!("{} · {province}", communes.len()))?;
    Ok(communes)
}

/// Reads and checks a communes file, every row, without writing anything.
pub fn parse_communes(
    province: &ProvinceId,
    bytes: &[u8],
    exists: Exists<'_, CommuneId>,
) -> Result<Vec<Commune>, ServiceError> {
    let csv = read_csv(bytes, &["code", "name", "kind"], &[]);
    let mut errors = csv.errors;
    let mut seen = BTreeSet::new();
    let mut communes = Vec::new();
    for (line, cells) in &csv.rows {
        let err = |column: &str, reason: String| RowError { line: *line, column: column.into(), reason };
        let code = cell(cells, "code");
        let id = match CommuneId::parse(code) {
            Ok(id) if !code.contains('.') => id,
            _ => {
                errors.push(err(
                    "code",
                    format!("“{}” is not a valid code (letters, digits, '-' and '_')", shown(code)),
                ));
                continue;
            }
        };
        if !seen.insert(id.clone()) {
            errors.push(err("code", format!("“{code}” appears more than once")));
        } else if exists(&id)? {
            errors.push(err("code", format!("commune “{code}” exists already")));
        }
        let name = cell(cells, "name");
        if let Some(fault) = text_fault(name, true) {
            errors.push(err("name", fault));
        }
        let Some(kind) = CommuneKind::from_code(cell(cells, "kind")) else {
            errors.push(err(
                "kind",
                format!("“{}” is not one of xa, phuong, dac_khu", shown(cell(cells, "kind"))),
            ));
            continue;
        };
        communes.push(Commune {
            id,
            name: name.to_owned(),
            kind,
            catalogue: Default::default(),
            visits_from: None,
            erase_after_days: None,
            province: Some(province.clone()),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ServiceError::Import(errors));
    }
    Ok(communes)
}

/// Imports hamlets (`code,name,kind,target_households`) into a commune.
pub fn hamlets_import(
    store: &dyn Store,
    by: &str,
    commune: &str,
    bytes: &[u8],
) -> Result<Vec<Hamlet>, ServiceError> {
    let commune = CommuneId::parse(commune).map_err(|e| invalid(Field::Commune, e.to_string()))?;
    store
        .commune(&commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist; add it first")))?;
    let hamlets = parse_hamlets(&commune, bytes, &|id| Ok(store.hamlet(id)?.is_some()))?;
    store.put_hamlets(&hamlets)?;
    audit(store, by, Some(&commune), "hamlets_import", format!("{} · {commune}", hamlets.len()))?;
    Ok(hamlets)
}

/// Whether a record already exists, asked of the database by the imports (and of
/// nothing by the fuzzer, which drives the parsers alone).
pub type Exists<'a, T> = &'a dyn Fn(&T) -> Result<bool, ServiceError>;

/// Reads and checks a hamlets file, every row, without writing anything.
pub fn parse_hamlets(
    commune: &CommuneId,
    bytes: &[u8],
    exists: Exists<'_, HamletId>,
) -> Result<Vec<Hamlet>, ServiceError> {
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
                format!("“{}” is not one of thon, ap, ban, khu_pho, to_dan_pho, quay", cell(cells, "kind")),
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
        if kind.is_some_and(HamletKind::is_counter) && target.is_some_and(|t| t > 0) {
            errors.push(err("target_households", "a counter has no households to cover: give 0".into()));
            continue;
        }
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
        return Err(ServiceError::Import(errors));
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
pub fn households_import(
    store: &dyn Store,
    by: &str,
    hamlet: &str,
    bytes: &[u8],
) -> Result<usize, ServiceError> {
    let id = HamletId::parse(hamlet).map_err(|e| invalid(Field::Hamlet, e.to_string()))?;
    let record =
        store.hamlet(&id)?.ok_or_else(|| invalid(Field::Hamlet, format!("hamlet {id} does not exist")))?;
    let forms = parse_households(bytes)?;
    rewrite_log(store, &id, |log| {
        log.import_households(&importer(), &forms, crate::now_ms())
            .map_err(|e| invalid(Field::File, e.to_string()))
    })?;
    audit(store, by, Some(&record.commune), "households_import", format!("{} · {id}", forms.len()))?;
    Ok(forms.len())
}

/// Reads and checks a households file (`label,head,members`), every row, without
/// writing anything.
pub fn parse_households(bytes: &[u8]) -> Result<Vec<HouseholdForm>, ServiceError> {
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
        return Err(ServiceError::Import(errors));
    }
    Ok(forms)
}

/// get no web password: volunteers who only use the phone need none, and a leader can
/// set one later. Returns the users created.
pub fn users_import(
    store: &dyn Store,
    by: &str,
    commune: &str,
    bytes: &[u8],
) -> Result<Vec<User>, ServiceError> {
    let commune = CommuneId::parse(commune).map_err(|e| invalid(Field::Commune, e.to_string()))?;
    store
        .commune(&commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist; add it first")))?;
    let users = parse_users(&commune, bytes, &|id| Ok(store.user(id)?.is_some()))?;
    store.put_users(&users)?;
    audit(store, by, Some(&commune), "users_import", format!("{} · {commune}", users.len()))?;
    Ok(users)
}

/// Reads and checks a users file, every row, without writing anything.
pub fn parse_users(
    commune: &CommuneId,
    bytes: &[u8],
    exists: Exists<'_, UserId>,
) -> Result<Vec<User>, ServiceError> {
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
            province: None,
            password_hash: NO_PASSWORD.into(),
            active: true,
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ServiceError::Import(errors));
    }
    Ok(users)
}

/// Rewrites one hamlet's log offline (an import, the demo, a load test's seed): `write`
/// runs on the stored log under a fresh actor, then the whole log and its coverage,
/// recomputed, replace what is stored in one durable write. Not for a log the server
/// is serving: that goes through `sync::write_on_web`.
pub fn rewrite_log<T>(
    store: &dyn Store,
    hamlet: &HamletId,
    write: impl FnOnce(&mut HamletLog) -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    let (mut log, base) = store
        .load_log_versioned(hamlet)?
        .ok_or_else(|| invalid(Field::Hamlet, format!("hamlet {hamlet} has no log")))?;
    log.set_actor(ActorId::random());
    let out = write(&mut log)?;
    let coverage = crate::service::rollover::all_time_coverage(store, hamlet, &log)?;
    let new_keys = log.keys_mut().number_new();
    store.commit_log(&LogWrite {
        hamlet,
        log: &log,
        changes: None,
        coverage,
        before: None,
        base,
        new_keys,
        erased: Vec::new(),
    })?;
    Ok(out)
}
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tungnha_client_core::domain::CommuneKind;

    use super::*;
    use crate::service::accounts::check_username;
    use crate::service::audit::CLI;
    use crate::service::enrolment::parse_ttl;
    use crate::service::organisation::commune_add;
    use crate::service::verify::verify;

    fn db() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::store::open(dir.path()).expect("open");
        commune_add(db.as_ref(), CLI, "p-hoa-binh", "Phường Hòa Bình", CommuneKind::Phuong).expect("commune");
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
        let err = hamlets_import(db.as_ref(), CLI, "p-hoa-binh", &csv).expect_err("refused");
        let ServiceError::Import(rows) = err else { panic!("expected row errors, got {err}") };
        let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(found, vec![(3, "code"), (4, "kind"), (5, "target_households"), (6, "name")], "{rows:?}");
        assert!(rows[3].reason.contains("UTF-8"));
        assert!(db.hamlets_of(&CommuneId::parse("p-hoa-binh").expect("id")).expect("list").is_empty());
    }

    #[test]
    fn a_missing_column_is_named() {
        let (_dir, db) = db();
        let err = hamlets_import(db.as_ref(), CLI, "p-hoa-binh", b"code,name,target_households\nkp-1,A,3\n")
            .expect_err("refused");
        assert!(err.to_string().contains("column “kind”: this column is missing"), "{err}");
    }

    #[test]
    fn good_files_import_hamlets_and_households_with_coverage() {
        let (_dir, db) = db();
        let hamlets = hamlets_import(
            db.as_ref(),
            CLI,
            "p-hoa-binh",
            "code,name,kind,target_households\nkp-1,Khu phố 1,khu_pho,300\n".as_bytes(),
        )
        .expect("imported");
        assert_eq!(hamlets[0].id.as_str(), "p-hoa-binh.kp-1");
        let n = households_import(
            db.as_ref(),
            CLI,
            "p-hoa-binh.kp-1",
            "label,head,members\nSố 1,Nguyễn Văn A,4\nSố 2,,\n\"Số 3, hẻm 2\",Trần Thị B,2\n".as_bytes(),
        )
        .expect("imported");
        assert_eq!(n, 3);
        let log = db.load_log(&hamlets[0].id).expect("load").expect("log");
        assert_eq!(log.households().ok.len(), 3);
        assert_eq!(db.coverage(&hamlets[0].id).expect("coverage").registered, 3);
        assert_eq!(verify(db.as_ref()).expect("verify"), (1, vec![]));
        let err = households_import(db.as_ref(), CLI, "p-hoa-binh.kp-1", b"label,members\nX,99\n")
            .expect_err("refused");
        assert!(err.to_string().contains("line 2, column “members”"), "{err}");
    }

    #[test]
    fn text_faults_and_empty_files_are_refused_by_line() {
        let (_dir, db) = db();
        hamlets_import(
            db.as_ref(),
            "someone",
            "p-hoa-binh",
            b"code,name,kind,target_households\nkp-1,A,khu_pho,3\n",
        )
        .expect("imported");
        let csv = "label,head\nSố 1,An\n\"Số 2\u{7}\",Bình\nSố 3,Chi\u{202e}n\n";
        let err =
            households_import(db.as_ref(), CLI, "p-hoa-binh.kp-1", csv.as_bytes()).expect_err("refused");
        let ServiceError::Import(rows) = err else { panic!("expected row errors, got {err}") };
        let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(found, vec![(3, "label"), (4, "head")], "{rows:?}");
        for empty in [&b"label,head\n"[..], b"", b"\xef\xbb\xbflabel\n\n"] {
            let err = households_import(db.as_ref(), CLI, "p-hoa-binh.kp-1", empty)
                .expect_err("an empty file is refused");
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
        let users = users_import(db.as_ref(), CLI, "p-hoa-binh", good.as_bytes()).expect("imported");
        assert_eq!(users.len(), 2);
        assert_eq!(db.user(&users[0].id).expect("read").expect("stored").password_hash, NO_PASSWORD);
        let bad =
            "username,name,role\nmai,Mai,volunteer\n0912345678,Số điện thoại,volunteer\nlan.tran,Lan,admin\n";
        let err = users_import(db.as_ref(), CLI, "p-hoa-binh", bad.as_bytes()).expect_err("refused");
        let ServiceError::Import(rows) = err else { panic!("expected row errors") };
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
        assert_eq!(parse_ttl("30d").expect("ok"), crate::service::enrolment::MAX_CODE_TTL_MS);
        assert_eq!(parse_ttl("720h").expect("ok"), crate::service::enrolment::MAX_CODE_TTL_MS);
        assert_eq!(parse_ttl("1000m").expect("ok"), 60_000_000);
        for long in ["31d", "720d", "721h", "43201m", "99999999999999999d"] {
            assert!(parse_ttl(long).is_err(), "{long}");
        }
    }

    #[test]
    fn a_provinces_communes_import_all_or_nothing() {
        let (_dir, db) = db();
        crate::service::organisation::province_add(db.as_ref(), CLI, "t-1", "Tỉnh Một").expect("province");
        let bad =
            "code,name,kind\nx-a,Xã A,xa\nx-a,Xã A lần nữa,xa\np-hoa-binh,Đã có,phuong\nx-b,Xã B,huyen\n";
        let err = communes_import(db.as_ref(), CLI, "t-1", bad.as_bytes()).expect_err("refused");
        let ServiceError::Import(rows) = err else { panic!("expected row errors, got {err}") };
        let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, r.column.as_str())).collect();
        assert_eq!(found, [(3, "code"), (4, "code"), (5, "kind")], "{rows:?}");
        assert!(
            db.commune(&CommuneId::parse("x-a").expect("id")).expect("read").is_none(),
            "nothing was imported"
        );
        let good = "code,name,kind\nx-a,Xã A,xa\ndk-c,Đặc khu C,dac_khu\n";
        assert_eq!(communes_import(db.as_ref(), CLI, "t-1", good.as_bytes()).expect("imported").len(), 2);
        let of = db.communes_of(&ProvinceId::parse("t-1").expect("id")).expect("communes");
        assert_eq!(of.len(), 2);
        assert!(communes_import(db.as_ref(), CLI, "t-none", good.as_bytes()).is_err(), "an unknown province");
    }
}
