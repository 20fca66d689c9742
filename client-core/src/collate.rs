//! Vietnamese order for what people read in lists (names, hamlet names, addresses),
//! and the folded form people search and compare them by.
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

/// Text as people type it when searching: no diacritics (canonical decomposition by
/// ICU4X's normaliser, combining marks dropped), đ as d, lower case. "hem 5" finds
/// "hẻm 5" and "nguyen trai" finds "Nguyễn Trãi". The phone folds the same way.
pub fn fold(text: &str) -> String {
    icu_normalizer::DecomposingNormalizerBorrowed::new_nfd()
        .normalize_iter(text.chars())
        .filter(|c| !('\u{0300}'..='\u{036f}').contains(c))
        .map(|c| if c == 'đ' || c == 'Đ' { 'd' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// An address as it identifies a house: folded, with punctuation and runs of spaces
/// ignored, so "Số 1, hẻm 1" and "so 1  hem 1" are the same household twice.
pub fn same_place(text: &str) -> String {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
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

    #[test]
    fn folding_lets_people_search_without_diacritics() {
        assert_eq!(fold("Số 12, Hẻm 5 Nguyễn Trãi"), "so 12, hem 5 nguyen trai");
        assert_eq!(fold("Đặng Thị Ước"), "dang thi uoc");
        assert_eq!(same_place("Số 1,  hẻm 1, Nguyễn Trãi "), same_place("so 1 hem 1 nguyen trai"));
        assert_ne!(same_place("Số 1, hẻm 1"), same_place("Số 11, hẻm 1"));
    }
}
