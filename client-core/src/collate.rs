//! Vietnamese order for what people read in lists: names, hamlet names, addresses.
//!
//! Byte order puts "Đỗ" after "Võ" and "Tân An" after "Trung Thắng"; Vietnamese
//! order (a < ă < â, d < đ, e < ê, o < ô < ơ, u < ư, tones after letters) comes from
//! ICU4X's collator with CLDR's Vietnamese tailoring. Numbers compare by value, so
//! "Số 2" comes before "Số 10". The phone app sorts the same way with
//! `Intl.Collator('vi', { numeric: true })`.

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::preferences::CollationNumericOrdering;
use icu_collator::{Collator, CollatorBorrowed, CollatorPreferences};
use icu_locale_core::locale;

fn collator() -> Option<&'static CollatorBorrowed<'static>> {
    static VI: OnceLock<Option<CollatorBorrowed<'static>>> = OnceLock::new();
    VI.get_or_init(|| {
        let mut prefs = CollatorPreferences::from(&locale!("vi"));
        prefs.numeric_ordering = Some(CollationNumericOrdering::True);
        Collator::try_new(prefs, CollatorOptions::default()).ok()
    })
    .as_ref()
}

/// Compares two texts in Vietnamese order (by code point should the collation data
/// ever be missing, which compiled data rules out).
pub fn compare(a: &str, b: &str) -> Ordering {
    match collator() {
        Some(c) => c.compare(a, b),
        None => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut names: Vec<&'static str>) -> Vec<&'static str> {
        names.sort_by(|a, b| compare(a, b));
        names
    }

    #[test]
    fn vietnamese_letters_and_numbers_sort_as_people_expect() {
        assert_eq!(
            sorted(vec!["Trung Thắng", "Tân An", "Bình Minh"]),
            ["Bình Minh", "Tân An", "Trung Thắng"]
        );
        assert_eq!(
            sorted(vec!["Võ Văn Ba", "Đỗ Thị Hà", "Đặng Văn An", "Dương Minh"]),
            ["Dương Minh", "Đặng Văn An", "Đỗ Thị Hà", "Võ Văn Ba"]
        );
        assert_eq!(
            sorted(vec!["Số 10, hẻm 2", "Số 2, hẻm 2", "Số 1, hẻm 2"]),
            ["Số 1, hẻm 2", "Số 2, hẻm 2", "Số 10, hẻm 2"]
        );
        assert_eq!(sorted(vec!["ơ", "o", "ô"]), ["o", "ô", "ơ"]);
    }
}
