//! Rust and the phone app seal and open each other's fields: the cases of
//! `fixtures/sealed.json`, sealed here with fixed nonces, must be the same bytes the
//! phone's WebCrypto makes (`tests/browser/sealed.mjs`, run by the `tests` crate), and
//! open to the same text; a value moved to another household, field or hamlet, or
//! opened with another key, must not open on either side.
//! `TUNGNHA_BLESS=1 cargo test -p tungnha-client-core --test sealed` writes it anew.

use serde::{Deserialize, Serialize};
use tungnha_client_core::sealed::{self, HouseholdKey, Sealed};
use tungnha_client_core::{HamletId, HouseholdId, VisitId};

#[derive(Serialize, Deserialize)]
struct Fixture {
    /// The household key, in hex.
    key: String,
    hamlet: String,
    household: String,
    cases: Vec<Case>,
    /// Sealed values that must not open: moved elsewhere, or under another key.
    refused: Vec<Refused>,
}

#[derive(Serialize, Deserialize)]
struct Case {
    /// "label", "head", or "note" (of `visit`).
    what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    visit: Option<String>,
    text: String,
    nonce: String,
    sealed: String,
}

#[derive(Serialize, Deserialize)]
struct Refused {
    why: String,
    hamlet: String,
    household: String,
    what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    visit: Option<String>,
    /// The key to try, in hex.
    key: String,
    sealed: String,
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sealed.json");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn what<'a>(what: &str, visit: Option<&'a VisitId>) -> Sealed<'a> {
    match (what, visit) {
        ("label", _) => Sealed::Label,
        ("head", _) => Sealed::Head,
        (_, Some(v)) => Sealed::Note(v),
        _ => panic!("a note names its visit"),
    }
}

fn bless() -> Fixture {
    let key = HouseholdKey::from_slice(&(0u8..32).collect::<Vec<_>>()).expect("32 bytes");
    let (hamlet, household) =
        (HamletId::parse("kp-1").expect("id"), HouseholdId::parse("aaaaaaaaaaaaaaaa").expect("id"));
    let visit = VisitId::parse("cccccccccccccccc").expect("id");
    let texts = [
        ("label", None, "Số 12, hẻm 3, khu phố Đông Hòa"),
        ("head", None, "Nguyễn Thị Ánh Tuyết"),
        ("note", Some(&visit), "Hẹn chiều mai quay lại; bà cụ cần cài VNeID mức 2"),
        ("label", None, ""),
    ];
    let cases: Vec<Case> = texts
        .iter()
        .enumerate()
        .map(|(i, (w, v, text))| {
            let nonce = [i as u8 + 1; 12];
            let sealed = sealed::seal_with_nonce(&key, &hamlet, &household, what(w, *v), text, nonce);
            Case {
                what: (*w).into(),
                visit: v.map(ToString::to_string),
                text: (*text).into(),
                nonce: hex(&nonce),
                sealed: hex(&sealed),
            }
        })
        .collect();
    let label = &cases[0].sealed;
    let refused = vec![
        ("another household", "kp-1", "bbbbbbbbbbbbbbbb", "label", None, hex(key.as_bytes())),
        ("another field", "kp-1", "aaaaaaaaaaaaaaaa", "head", None, hex(key.as_bytes())),
        ("a visit's note", "kp-1", "aaaaaaaaaaaaaaaa", "note", Some(visit.to_string()), hex(key.as_bytes())),
        ("another hamlet", "kp-2", "aaaaaaaaaaaaaaaa", "label", None, hex(key.as_bytes())),
        ("another key", "kp-1", "aaaaaaaaaaaaaaaa", "label", None, hex(&[7u8; 32])),
    ]
    .into_iter()
    .map(|(why, hamlet, household, what, visit, key)| Refused {
        why: why.into(),
        hamlet: hamlet.into(),
        household: household.into(),
        what: what.into(),
        visit,
        key,
        sealed: label.clone(),
    })
    .collect();
    Fixture {
        key: hex(key.as_bytes()),
        hamlet: hamlet.to_string(),
        household: household.to_string(),
        cases,
        refused,
    }
}

#[test]
fn both_sides_seal_the_same_bytes_and_open_each_others() {
    if std::env::var_os("TUNGNHA_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&bless()).expect("json");
        std::fs::write(FIXTURE, text + "\n").expect("fixture written");
    }
    let f: Fixture =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).expect("the fixture")).expect("it reads");
    let key = HouseholdKey::from_slice(&unhex(&f.key)).expect("a key");
    let hamlet = HamletId::parse(&f.hamlet).expect("id");
    let household = HouseholdId::parse(&f.household).expect("id");
    for case in &f.cases {
        let visit = case.visit.as_deref().map(|v| VisitId::parse(v).expect("id"));
        let w = what(&case.what, visit.as_ref());
        let nonce: [u8; 12] = unhex(&case.nonce).try_into().expect("12 bytes");
        let sealed = sealed::seal_with_nonce(&key, &hamlet, &household, w, &case.text, nonce);
        assert_eq!(hex(&sealed), case.sealed, "{} seals to the fixture's bytes", case.what);
        assert_eq!(
            sealed::open(&key, &hamlet, &household, w, &unhex(&case.sealed)).as_deref(),
            Ok(case.text.as_str())
        );
    }
    assert!(f.cases.iter().any(|c| !c.text.is_ascii()), "diacritics are in the cases");
    for r in &f.refused {
        let visit = r.visit.as_deref().map(|v| VisitId::parse(v).expect("id"));
        let key = HouseholdKey::from_slice(&unhex(&r.key)).expect("a key");
        let (hamlet, household) =
            (HamletId::parse(&r.hamlet).expect("id"), HouseholdId::parse(&r.household).expect("id"));
        let opened =
            sealed::open(&key, &hamlet, &household, what(&r.what, visit.as_ref()), &unhex(&r.sealed));
        assert!(opened.is_err(), "{} must not open", r.why);
    }
}
