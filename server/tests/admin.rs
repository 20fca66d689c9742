//! The admin command line as an operator runs it: the real `tungnha-server` binary on a
//! real sled data directory, with `--json` answers a script reads. Here: setting up a
//! commune's teams (add, import, members, hamlets, list), and a bad teams file that is
//! refused row by row and changes nothing; read-only API tokens; the portal's monthly
//! dossier statistics; erasing and exporting one household, and a commune's retention
//! period.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs `tungnha-server admin --data <data> --json <args>`: (success, JSON answer).
fn admin(data: &Path, args: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_tungnha-server"))
        .args(["admin", "--data"])
        .arg(data)
        .arg("--json")
        .args(args)
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"));
    (out.status.success(), value)
}

/// Runs an admin command that must succeed.
fn ok(data: &Path, args: &[&str]) -> Value {
    let (success, value) = admin(data, args);
    assert!(success, "{args:?}: {value}");
    value
}

#[test]
fn an_operator_sets_up_teams_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    };
    ok(&data, &["commune", "add", "--code", "x-tan-phu", "--name", "Xã Tân Phú", "--kind", "xa"]);
    let hamlets = file(
        "hamlets.csv",
        "code,name,kind,target_households\nthon-1,Thôn 1,thon,50\nthon-2,Thôn 2,thon,40\nthon-3,Thôn 3,thon,30\n",
    );
    ok(&data, &["hamlets", "import", "--commune", "x-tan-phu", &hamlets]);
    let people = file(
        "people.csv",
        "username,name,role\nphuc,Lê Văn Phúc,leader\nyen,Phan Thị Yến,volunteer\nlong,Trịnh Văn Long,volunteer\n",
    );
    ok(&data, &["users", "import", "--commune", "x-tan-phu", &people]);

    // One team by hand.
    let team = ok(&data, &["team", "add", "--commune", "x-tan-phu", "--name", "Tổ CNSCĐ Thôn 1"]);
    assert_eq!(team["id"], "x-tan-phu.to-cnscd-thon-1");
    ok(&data, &["team", "hamlet", "add", "--team", "x-tan-phu.to-cnscd-thon-1", "--hamlet", "thon-1"]);
    ok(
        &data,
        &["team", "member", "add", "--team", "x-tan-phu.to-cnscd-thon-1", "--user", "phuc", "--leader"],
    );
    let team = ok(&data, &["team", "member", "add", "--team", "x-tan-phu.to-cnscd-thon-1", "--user", "yen"]);
    assert_eq!(team["leaders"], serde_json::json!(["phuc"]));
    assert_eq!(team["members"], serde_json::json!(["phuc", "yen"]));
    assert_eq!(team["hamlets"], serde_json::json!(["x-tan-phu.thon-1"]));

    // A volunteer may not lead, and a hamlet of no such commune is not given.
    let (success, refused) = admin(
        &data,
        &["team", "member", "add", "--team", "x-tan-phu.to-cnscd-thon-1", "--user", "long", "--leader"],
    );
    assert!(!success);
    assert!(refused["message"].as_str().unwrap_or_default().contains("leader role"), "{refused}");

    // A teams file with faults is refused row by row and changes nothing.
    let bad = file("bad.csv", "name,hamlets,leaders,members\nTổ CNSCĐ Thôn 2,thon-2 thon-9,yen,long\n");
    let (success, refused) = admin(&data, &["team", "import", "--commune", "x-tan-phu", &bad]);
    assert!(!success);
    assert_eq!(refused["code"], "import_rows");
    let rows: Vec<(u64, &str)> = refused["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["line"].as_u64().unwrap_or(0), r["column"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(rows, [(2, "hamlets"), (2, "leaders")], "{refused}");
    assert_eq!(
        ok(&data, &["team", "list", "--commune", "x-tan-phu"])["teams"].as_array().map(Vec::len),
        Some(1)
    );

    // The good file adds a second team and gives the first exactly its row.
    let good = file(
        "teams.csv",
        "name,hamlets,leaders,members\nTổ CNSCĐ Thôn 1,thon-1,phuc,\"yen long\"\nTổ CNSCĐ Thôn 2,thon-2 thon-3,phuc,long\n",
    );
    let imported = ok(&data, &["team", "import", "--commune", "x-tan-phu", &good]);
    assert_eq!(imported["imported"].as_array().map(Vec::len), Some(2));
    let listed = ok(&data, &["team", "list", "--commune", "x-tan-phu"]);
    let teams = listed["teams"].as_array().expect("teams");
    assert_eq!(teams[0]["members"], serde_json::json!(["phuc", "yen", "long"]));
    assert_eq!(teams[1]["hamlets"], serde_json::json!(["x-tan-phu.thon-2", "x-tan-phu.thon-3"]));

    // Taking a hamlet back and a member out, then dissolving.
    let t2 = teams[1]["id"].as_str().expect("id").to_owned();
    let after = ok(&data, &["team", "hamlet", "remove", "--team", &t2, "--hamlet", "thon-3"]);
    assert_eq!(after["hamlets"], serde_json::json!(["x-tan-phu.thon-2"]));
    let after = ok(&data, &["team", "member", "remove", "--team", &t2, "--user", "long"]);
    assert_eq!(after["members"], serde_json::json!(["phuc"]));
    ok(&data, &["team", "dissolve", "--team", &t2]);
    assert_eq!(
        ok(&data, &["team", "list", "--commune", "x-tan-phu"])["teams"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(ok(&data, &["verify"])["differences"].as_array().is_some_and(Vec::is_empty));

    // A commune's one-record team members that drifted from its teams is named.
    {
        let db = sled::open(&data).expect("the data directory");
        db.open_tree("commune_members")
            .expect("tree")
            .insert("x-tan-phu", &br#"{"teams":7,"members":[]}"#[..])
            .expect("tampered");
        db.flush().expect("flushed");
    }
    let (success, found) = admin(&data, &["verify"]);
    assert!(!success);
    assert_eq!(found["differences"][0]["kind"], "members", "{found}");
}

#[test]
fn an_administrator_issues_lists_and_revokes_a_read_only_api_token() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (success, refused) = admin(&data, &["api-token", "issue", "--province", "t-hoa-an", "--name", "IOC"]);
    assert!(
        !success && refused["message"].as_str().unwrap_or_default().contains("does not exist"),
        "{refused}"
    );
    ok(&data, &["province", "add", "--code", "t-hoa-an", "--name", "Tỉnh Hòa An"]);
    let issued = ok(&data, &["api-token", "issue", "--province", "t-hoa-an", "--name", "IOC Tỉnh Hòa An"]);
    let token = issued["token"].as_str().expect("the token, shown once");
    assert!(token.starts_with("tn-api-"));
    let listed = ok(&data, &["api-token", "list"]);
    assert_eq!(listed["tokens"][0]["id"], issued["id"]);
    assert!(!listed.to_string().contains(token), "the token is never shown again");
    let id = issued["id"].as_str().expect("id");
    let revoked = ok(&data, &["api-token", "revoke", "--id", id]);
    assert!(revoked["revoked_at"].is_i64());
    assert!(ok(&data, &["api-token", "list"])["tokens"][0]["revoked_at"].is_i64());
}

#[test]
fn an_operator_imports_the_portals_monthly_dossier_statistics() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    ok(&data, &["province", "add", "--code", "t-hoa-an", "--name", "Tỉnh Hòa An"]);
    ok(&data, &["commune", "add", "--code", "p-hoa-binh", "--name", "Phường Hòa Bình", "--kind", "phuong"]);
    let file = dir.path().join("thang.csv");
    // Excel in Vietnamese saves with `;`; the third row names a commune that does not exist.
    std::fs::write(
        &file,
        "month;commune;total;online\n2026-10;p-hoa-binh;1200;588\n2026-10;x-khong-co;5;1\n",
    )
    .expect("written");
    let (success, refused) = admin(&data, &["filing", "import", "--file", file.to_str().expect("path")]);
    assert!(!success, "{refused}");
    assert!(
        refused["message"].as_str().unwrap_or_default().contains("line 3, column “commune”"),
        "{refused}"
    );
    std::fs::write(
        &file,
        "month;commune;total;online\n2026-10;p-hoa-binh;1200;588\n2026-10;t-hoa-an;800;600\n",
    )
    .expect("written");
    assert_eq!(ok(&data, &["filing", "import", "--file", file.to_str().expect("path")])["imported"], 2);
    let one = ok(
        &data,
        &[
            "filing",
            "record",
            "--province",
            "t-hoa-an",
            "--month",
            "2026-11",
            "--total",
            "900",
            "--online",
            "700",
        ],
    );
    assert_eq!(one["online"], 700);
    let (success, refused) = admin(
        &data,
        &[
            "filing",
            "record",
            "--commune",
            "p-hoa-binh",
            "--month",
            "2026-11",
            "--total",
            "9",
            "--online",
            "10",
        ],
    );
    assert!(
        !success && refused["message"].as_str().unwrap_or_default().contains("more dossiers filed online")
    );
}

/// Every file under `dir` whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_holding(&path, needle));
        } else if std::fs::read(&path).expect("read").windows(needle.len()).any(|w| w == needle) {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_operator_erases_a_household_exports_it_and_sets_a_retention_period() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    ok(&data, &["commune", "add", "--code", "x-tan-phu", "--name", "Xã Tân Phú", "--kind", "xa"]);
    let hamlets = dir.path().join("hamlets.csv");
    std::fs::write(&hamlets, "code,name,kind,target_households\nthon-1,Thôn 1,thon,5\n").expect("written");
    ok(&data, &["hamlets", "import", "--commune", "x-tan-phu", hamlets.to_str().expect("path")]);
    let households = dir.path().join("households.csv");
    std::fs::write(&households, "label,head,members\n\"Số 7, xóm Đình\",Hà Văn Tâm,4\nSố 8,,2\n")
        .expect("written");
    ok(&data, &["households", "import", "--hamlet", "x-tan-phu.thon-1", households.to_str().expect("path")]);
    let household = |verb: &str, id: &str, reason: Option<&str>| {
        let mut args = vec!["household", verb, "--hamlet", "x-tan-phu.thon-1", "--household", id];
        args.extend(reason.iter().flat_map(|r| ["--reason", r]));
        admin(&data, &args)
    };

    // Which household is "Số 7": the export says, with its label and head.
    let id = {
        let db = tungnha_server::store::open(&data).expect("open");
        let hamlet = tungnha_client_core::HamletId::parse("x-tan-phu.thon-1").expect("id");
        let log = db.load_log(&hamlet).expect("load").expect("a log");
        let (id, _) =
            log.households().ok.into_iter().find(|(_, h)| h.label.starts_with("Số 7")).expect("listed");
        id.to_string()
    };
    let (_, before) = household("export", &id, None);
    assert_eq!(before["label"], "Số 7, xóm Đình");
    assert_eq!(before["head"], "Hà Văn Tâm");
    assert_eq!(before["erased"], false);
    assert!(
        files_holding(&data, "Hà Văn Tâm".as_bytes()).is_empty(),
        "the head's name is never stored in plain text"
    );

    // No reason, a household that is not there: refused, nothing erased.
    let (success, refused) = household("erase", &id, Some(" "));
    assert!(!success && refused["message"].as_str().unwrap_or_default().contains("reason"), "{refused}");
    assert!(!household("erase", "zzzzzzzzzzzzzzzz", Some("x")).0);
    assert_eq!(household("export", &id, None).1["erased"], false);

    let (success, erased) = household("erase", &id, Some("Chủ hộ yêu cầu"));
    assert!(success && erased["erased"] == true, "{erased}");
    let (_, after) = household("export", &id, None);
    assert_eq!(after["erased"], true);
    assert_eq!(after["label"], Value::Null);
    assert_eq!(after["head"], Value::Null);
    let actions: Vec<&str> =
        after["audit"].as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["household_export", "household_export", "household_erase", "household_export"],
        "{after}"
    );
    let (success, again) = household("erase", &id, Some("lại"));
    assert!(!success && again["message"].as_str().unwrap_or_default().contains("erased already"), "{again}");

    // The retention period: bounded, and off again.
    let (success, _) = admin(&data, &["commune", "retention", "--commune", "x-tan-phu", "--days", "10"]);
    assert!(!success, "fewer than 30 days is refused");
    assert_eq!(
        ok(&data, &["commune", "retention", "--commune", "x-tan-phu", "--days", "365"])["erase_after_days"],
        365
    );
    assert_eq!(
        ok(&data, &["commune", "retention", "--commune", "x-tan-phu", "--off"])["erase_after_days"],
        Value::Null
    );
}
