//! The catalogue of topics and account kinds a commune records, with Vietnamese labels.
//!
//! Codes are stable identifiers written into hamlet logs; labels are for people and a
//! commune may edit them (and add entries) later. The defaults follow the national
//! "5 basic digital skills" and the accounts volunteers most often help create.

use serde::{Deserialize, Serialize};

use crate::domain::{MAX_CODE_LEN, Outcome};

/// One entry of the catalogue: a stable code and a label for people.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The code written in documents.
    pub code: String,
    /// The Vietnamese label shown to people.
    pub label: String,
}

/// The topics and account kinds one commune records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    /// Topics a volunteer may guide.
    pub topics: Vec<Entry>,
    /// Kinds of account a volunteer may help create.
    pub account_kinds: Vec<Entry>,
}

fn entries(pairs: &[(&str, &str)]) -> Vec<Entry> {
    pairs.iter().map(|(code, label)| Entry { code: (*code).into(), label: (*label).into() }).collect()
}

impl Default for Catalogue {
    fn default() -> Self {
        Self {
            topics: entries(&[
                ("dvc", "Dịch vụ công trực tuyến"),
                ("vneid", "Định danh điện tử VNeID"),
                ("citizen_app", "Ứng dụng công dân số của tỉnh"),
                ("payment", "Thanh toán không dùng tiền mặt"),
                ("ecommerce", "Mua bán trực tuyến"),
                ("online_safety", "An toàn trên không gian mạng"),
                ("health", "Sổ sức khỏe điện tử"),
            ]),
            account_kinds: entries(&[
                ("vneid_l1", "VNeID mức 1"),
                ("vneid_l2", "VNeID mức 2"),
                ("dvc", "Tài khoản Cổng dịch vụ công"),
                ("citizen_app", "Tài khoản ứng dụng công dân số"),
                ("e_payment", "Tài khoản thanh toán / ví điện tử"),
                ("health_book", "Sổ sức khỏe điện tử"),
            ]),
        }
    }
}

impl Catalogue {
    /// Whether `code` is one of this commune's topics.
    pub fn has_topic(&self, code: &str) -> bool {
        self.topics.iter().any(|e| e.code == code)
    }

    /// Whether `code` is one of this commune's account kinds.
    pub fn has_account_kind(&self, code: &str) -> bool {
        self.account_kinds.iter().any(|e| e.code == code)
    }

    /// A topic's label (the code itself when it is no longer listed).
    pub fn topic_label(&self, code: &str) -> String {
        label_in(&self.topics, code)
    }

    /// An account kind's label (the code itself when it is no longer listed).
    pub fn account_label(&self, code: &str) -> String {
        label_in(&self.account_kinds, code)
    }
}

fn label_in(entries: &[Entry], code: &str) -> String {
    entries.iter().find(|e| e.code == code).map_or_else(|| code.to_owned(), |e| e.label.clone())
}

/// The Vietnamese label of an outcome.
pub fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Guided => "Đã hướng dẫn",
        Outcome::AlreadyDone => "Đã tự sử dụng được",
        Outcome::NotHome => "Vắng nhà",
        Outcome::Declined => "Từ chối",
        Outcome::Revisit => "Hẹn quay lại",
    }
}

/// Whether `code` has the form of a catalogue code: 1–32 bytes of `a–z`, `0–9`, `_`.
///
/// The hamlet log accepts any well-formed code, not only today's catalogue, because a
/// commune may add a topic while a phone is offline with an older catalogue.
pub fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_well_formed_and_distinct() {
        let c = Catalogue::default();
        for list in [&c.topics, &c.account_kinds] {
            let mut codes: Vec<_> = list.iter().map(|e| e.code.as_str()).collect();
            assert!(codes.iter().all(|c| is_code(c)));
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), list.len());
        }
        assert!(c.has_topic("vneid"));
        assert!(c.has_account_kind("vneid_l2"));
        assert!(!c.has_account_kind("vneid"));
        assert_eq!(outcome_label(Outcome::Revisit), "Hẹn quay lại");
    }

    #[test]
    fn codes_are_lowercase_ascii() {
        assert!(is_code("online_safety"));
        assert!(!is_code(""));
        assert!(!is_code("Dvc"));
        assert!(!is_code("dịch_vụ"));
        assert!(!is_code(&"a".repeat(33)));
    }
}
