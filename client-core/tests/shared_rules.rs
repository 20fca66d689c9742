//! The rules on new writes, run against `tests/fixtures/new-writes.json`: the same
//! cases the phone app's JavaScript mirror of the rules runs
//! (`tests/browser/rules.mjs`, from the `tests` crate), so the two cannot drift apart.

use serde::Deserialize;
use tungnha_client_core::rules::{check_household_created, check_visit_created, check_walkin_created};
use tungnha_client_core::{Author, Household, HouseholdId, Role, UserId, Visit, VisitId, WalkIn, WalkInId};

#[derive(Deserialize)]
struct Case {
    name: String,
    kind: String,
    user: String,
    now: i64,
    #[serde(default)]
    household_exists: bool,
    value: serde_json::Value,
    expect: String,
}

#[test]
fn the_shared_cases_give_the_expected_verdicts() {
    let text = include_str!("fixtures/new-writes.json");
    let cases: Vec<Case> = serde_json::from_str(text).expect("the fixture reads");
    assert!(cases.len() >= 20, "the fixture holds the cases");
    for case in cases {
        let author = Author { user: UserId::parse(&case.user).expect("user"), role: Role::Volunteer };
        let verdict = match case.kind.as_str() {
            "visit" => {
                let visit: Visit = serde_json::from_value(case.value.clone()).expect("a visit");
                let id = VisitId::parse("vvvvvvvvvvvvvvvv").expect("id");
                check_visit_created(&author, &id, &visit, case.household_exists, case.now)
                    .err()
                    .map_or("ok", |e| e.rule())
            }
            "walkin" => {
                let walkin: WalkIn = serde_json::from_value(case.value.clone()).expect("a walk-in");
                let id = WalkInId::parse("wwwwwwwwwwwwwwww").expect("id");
                check_walkin_created(&author, &id, &walkin, case.now).err().map_or("ok", |e| e.rule())
            }
            "household" => {
                let household: Household = serde_json::from_value(case.value.clone()).expect("a household");
                let id = HouseholdId::parse("hhhhhhhhhhhhhhhh").expect("id");
                check_household_created(&author, &id, &household, case.now).err().map_or("ok", |e| e.rule())
            }
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(verdict, case.expect, "{}", case.name);
    }
}
