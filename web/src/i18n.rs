//! The texts of the web interface, one catalogue per language (`vi.rs`, `en.rs`), and
//! the number and date formats of each language.
//!
//! Views never hold a sentence of their own: they read it from `Texts`, so adding a
//! text means adding it to the struct, and the compiler then asks for it in every
//! language. Vietnamese is the default; English is a switch a person makes.

use tungnha_client_core::coverage::HouseholdStatus;
use tungnha_client_core::domain::CommuneKind;
use tungnha_client_core::{Outcome, Role};

#[path = "i18n_en.rs"]
mod en;
#[path = "i18n_vi.rs"]
mod vi;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Tiếng Việt, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The language of a `lang` cookie's value; Vietnamese for anything else.
    pub fn from_code(code: &str) -> Self {
        if code == "en" { Lang::En } else { Lang::Vi }
    }

    /// The code kept in the `lang` cookie and in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The texts of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Vi => &vi::TEXTS,
            Lang::En => &en::TEXTS,
        }
    }

    /// An integer with this language's thousands separator: 1.234 or 1,234.
    pub fn int(self, n: u64) -> String {
        let sep = match self {
            Lang::Vi => '.',
            Lang::En => ',',
        };
        let digits = n.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// A share as a percentage with one decimal: 12,5% or 12.5%.
    pub fn percent(self, ratio: f64) -> String {
        let text = format!("{:.1}%", ratio * 100.0);
        match self {
            Lang::Vi => text.replace('.', ","),
            Lang::En => text,
        }
    }

    /// A calendar day given as "YYYY-MM-DD", written the way people here write it:
    /// 29/11/2026 (the same order in both languages, since the readers are in Vietnam).
    pub fn day(self, iso: &str) -> String {
        match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
            (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
            _ => iso.to_owned(),
        }
    }

    /// A time in ms since epoch, in Asia/Ho_Chi_Minh: 29/11/2026 10:00.
    pub fn time(self, at_ms: i64) -> String {
        tungnha_client_core::domain::vn_time(at_ms)
    }

    /// The label of an outcome.
    pub fn outcome(self, o: Outcome) -> &'static str {
        let t = self.texts();
        match o {
            Outcome::Guided => t.outcome_guided,
            Outcome::AlreadyDone => t.outcome_already_done,
            Outcome::NotHome => t.outcome_not_home,
            Outcome::Declined => t.outcome_declined,
            Outcome::Revisit => t.outcome_revisit,
        }
    }

    /// The label of a household status.
    pub fn status(self, s: HouseholdStatus) -> &'static str {
        let t = self.texts();
        match s {
            HouseholdStatus::NotVisited => t.status_not_visited,
            HouseholdStatus::FollowUp => t.status_follow_up,
            HouseholdStatus::Attempted => t.status_attempted,
            HouseholdStatus::Covered => t.status_covered,
        }
    }

    /// The label of a commune's kind.
    pub fn commune_kind(self, k: CommuneKind) -> &'static str {
        let t = self.texts();
        match k {
            CommuneKind::Xa => t.kind_xa,
            CommuneKind::Phuong => t.kind_phuong,
            CommuneKind::DacKhu => t.kind_dac_khu,
        }
    }

    /// The label of a role.
    pub fn role(self, r: Role) -> &'static str {
        let t = self.texts();
        match r {
            Role::Volunteer => t.role_volunteer,
            Role::Leader => t.role_leader,
            Role::Official => t.role_official,
            Role::ProvinceOfficer => t.role_province_officer,
            Role::Admin => t.role_admin,
        }
    }
}

/// Every text of the interface. The field names say where each is used; the values
/// are in `i18n_vi.rs` and `i18n_en.rs`.
#[allow(missing_docs)]
#[derive(Debug)]
pub struct Texts {
    pub app_name: &'static str,
    pub motto: &'static str,
    pub switch_to_other: &'static str,
    pub skip_to_content: &'static str,
    // Login
    pub login_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub logout: &'static str,
    pub login_failed: &'static str,
    pub login_throttled: &'static str,
    pub demo_hint: &'static str,
    // Navigation
    pub nav_dashboard: &'static str,
    pub nav_assignments: &'static str,
    pub nav_people: &'static str,
    pub nav_catalogue: &'static str,
    pub nav_audit: &'static str,
    pub nav_team: &'static str,
    pub nav_devices: &'static str,
    pub nav_admin: &'static str,
    pub nav_province: &'static str,
    pub nav_teams: &'static str,
    pub teams_title: &'static str,
    pub teams_note: &'static str,
    pub team_name: &'static str,
    pub new_team: &'static str,
    pub create_team: &'static str,
    pub no_teams: &'static str,
    pub team_leaders: &'static str,
    pub team_members: &'static str,
    pub active_7d: &'static str,
    pub team_hamlets: &'static str,
    pub rename: &'static str,
    pub dissolve: &'static str,
    pub day_report: &'static str,
    pub day_report_of: &'static str,
    pub dr_visits: &'static str,
    pub dr_guided: &'static str,
    pub dr_people: &'static str,
    pub dr_accounts: &'static str,
    pub dr_filed: &'static str,
    pub dr_covered: &'static str,
    pub dr_to_date: &'static str,
    pub dr_coverage: &'static str,
    pub dr_households: &'static str,
    pub dr_accounts_short: &'static str,
    pub dr_filed_short: &'static str,
    pub dr_text: &'static str,
    pub dr_copy: &'static str,
    pub dr_copied: &'static str,
    pub dr_image: &'static str,
    pub dr_download: &'static str,
    pub dr_show: &'static str,
    pub dr_prev: &'static str,
    pub dr_next: &'static str,
    pub dr_none: &'static str,
    pub dr_team: &'static str,
    pub field_day: &'static str,
    pub field_month: &'static str,
    pub filing_title: &'static str,
    pub filing_note: &'static str,
    pub fl_received: &'static str,
    pub fl_online: &'static str,
    pub fl_rate: &'static str,
    pub fl_helped: &'static str,
    pub fl_accounts: &'static str,
    pub fl_record: &'static str,
    pub fl_save: &'static str,
    pub fl_import: &'static str,
    pub fl_import_help: &'static str,
    pub fl_import_button: &'static str,
    pub fl_file: &'static str,
    pub fl_none: &'static str,
    pub fl_level_province: &'static str,
    pub fl_level_communes: &'static str,
    pub fl_level_all: &'static str,
    pub fl_by_commune: &'static str,
    pub fl_saved: &'static str,
    pub fl_imported: &'static str,
    pub fl_rows_refused: &'static str,
    pub fl_chart: &'static str,
    pub fl_latest: &'static str,
    pub err_month: &'static str,
    pub err_dossiers: &'static str,
    pub fl_row: &'static str,
    pub fl_column: &'static str,
    pub fl_unit: &'static str,
    pub counter: &'static str,
    pub counters_title: &'static str,
    pub counter_duty: &'static str,
    pub add_counter: &'static str,
    pub counter_name: &'static str,
    pub counter_note: &'static str,
    pub walkins: &'static str,
    pub walkin_people: &'static str,
    pub walkin_accounts: &'static str,
    pub walkin_filed: &'static str,
    pub dr_walkins: &'static str,
    pub dr_times: &'static str,
    pub dr_persons: &'static str,
    pub walkin_by: &'static str,
    pub dr_walkins_line: &'static str,
    pub no_counters: &'static str,
    pub err_counter_taken: &'static str,
    pub dissolve_note: &'static str,
    pub add_member: &'static str,
    pub as_leader: &'static str,
    pub make_leader: &'static str,
    pub unmake_leader: &'static str,
    pub remove_member: &'static str,
    pub give_hamlet: &'static str,
    pub take_hamlet: &'static str,
    pub no_members: &'static str,
    pub no_team_hamlets: &'static str,
    pub leader_mark: &'static str,
    pub via_team: &'static str,
    pub own_assignment: &'static str,
    pub covering_team: &'static str,
    pub no_team: &'static str,
    pub teams_count: &'static str,
    pub members_active: &'static str,
    pub active_members_7d: &'static str,
    pub attach_commune: &'static str,
    pub attach: &'static str,
    pub api_tokens_title: &'static str,
    pub api_tokens_note: &'static str,
    pub token_name: &'static str,
    pub issue_token: &'static str,
    pub token_shown_once: &'static str,
    pub token_active: &'static str,
    pub token_revoked: &'static str,
    pub revoke_token: &'static str,
    pub issued_on: &'static str,
    pub no_api_tokens: &'static str,
    pub api_description: &'static str,
    pub token_for: &'static str,
    pub err_team_name_taken: &'static str,
    pub err_hamlet_taken: &'static str,
    pub err_not_leader_role: &'static str,
    // Figures
    pub hamlet: &'static str,
    pub hamlets: &'static str,
    pub target: &'static str,
    pub registered: &'static str,
    pub covered: &'static str,
    pub attempted: &'static str,
    pub coverage: &'static str,
    pub visits: &'static str,
    pub accounts: &'static str,
    pub people_helped: &'static str,
    pub follow_ups: &'static str,
    pub last_activity: &'static str,
    pub never: &'static str,
    pub accounts_by_kind: &'static str,
    pub visits_per_day: &'static str,
    pub coverage_over_time: &'static str,
    pub last_30_days: &'static str,
    pub sort_by: &'static str,
    pub no_hamlets: &'static str,
    pub households_covered_of: &'static str,
    // Hamlet page
    pub volunteers_progress: &'static str,
    pub volunteer: &'static str,
    pub covering_visits: &'static str,
    pub households: &'static str,
    pub household: &'static str,
    pub erased_household: &'static str,
    pub erase_title: &'static str,
    pub erase_explain: &'static str,
    pub erase_reason: &'static str,
    pub erase_button: &'static str,
    pub erase_reason_needed: &'static str,
    pub err_retention: &'static str,
    pub erase_done: &'static str,
    pub export_household: &'static str,
    pub retention_title: &'static str,
    pub retention_explain: &'static str,
    pub retention_days: &'static str,
    pub nav_campaigns: &'static str,
    pub campaigns_title: &'static str,
    pub campaigns_note: &'static str,
    pub campaign_name: &'static str,
    pub campaign_starts: &'static str,
    pub campaign_ends: &'static str,
    pub campaign_topics: &'static str,
    pub campaign_target: &'static str,
    pub campaign_open_button: &'static str,
    pub campaign_open_new: &'static str,
    pub campaign_close_button: &'static str,
    pub campaign_close_confirm: &'static str,
    pub campaign_is_open: &'static str,
    pub campaign_is_closed: &'static str,
    pub campaign_covered: &'static str,
    pub campaign_none: &'static str,
    pub campaign_days: &'static str,
    pub campaign_state: &'static str,
    pub campaign_see: &'static str,
    pub campaign_opened: &'static str,
    pub campaign_closed: &'static str,
    pub campaign_one_open: &'static str,
    pub err_campaign_day: &'static str,
    pub err_campaign_target: &'static str,
    pub err_no_open_campaign: &'static str,
    pub compact_title: &'static str,
    pub compact_explain: &'static str,
    pub compact_button: &'static str,
    pub compact_confirm: &'static str,
    pub compacted: &'static str,
    pub compact_nothing: &'static str,
    pub all_time: &'static str,
    pub campaign_figures_note: &'static str,
    pub head: &'static str,
    pub members: &'static str,
    pub status: &'static str,
    pub all: &'static str,
    pub search_label: &'static str,
    pub search: &'static str,
    pub no_households: &'static str,
    pub last_visit: &'static str,
    pub shown_of: &'static str,
    pub visit_history: &'static str,
    pub no_visits: &'static str,
    pub when: &'static str,
    pub by: &'static str,
    pub outcome: &'static str,
    pub topics: &'static str,
    pub note: &'static str,
    pub voided: &'static str,
    pub retired: &'static str,
    pub status_not_visited: &'static str,
    pub status_follow_up: &'static str,
    pub status_attempted: &'static str,
    pub status_covered: &'static str,
    pub outcome_guided: &'static str,
    pub outcome_already_done: &'static str,
    pub outcome_not_home: &'static str,
    pub outcome_declined: &'static str,
    pub outcome_revisit: &'static str,
    // Exports
    pub export_excel: &'static str,
    pub export_csv: &'static str,
    // Assignments
    pub assignments_title: &'static str,
    pub assigned_people: &'static str,
    pub nobody_assigned: &'static str,
    pub assign: &'static str,
    pub unassign: &'static str,
    pub person: &'static str,
    pub choose: &'static str,
    pub save_target: &'static str,
    pub saved: &'static str,
    pub assignment_note: &'static str,
    // People
    pub people_title: &'static str,
    pub full_name: &'static str,
    pub role: &'static str,
    pub active: &'static str,
    pub deactivated: &'static str,
    pub deactivate: &'static str,
    pub reactivate: &'static str,
    pub reset_password: &'static str,
    pub new_password: &'static str,
    pub add_person: &'static str,
    pub create: &'static str,
    pub no_web_password: &'static str,
    pub role_volunteer: &'static str,
    pub role_leader: &'static str,
    pub role_official: &'static str,
    pub role_admin: &'static str,
    pub role_province_officer: &'static str,
    // Catalogue
    pub catalogue_title: &'static str,
    pub catalogue_note: &'static str,
    pub code: &'static str,
    pub label: &'static str,
    pub account_kinds: &'static str,
    pub add_entry: &'static str,
    pub save: &'static str,
    // Audit
    pub audit_title: &'static str,
    /// Who did it, as the audit log's column says.
    pub done_by: &'static str,
    /// Each audit action code with what it means, in this language.
    pub audit_actions: &'static [(&'static str, &'static str)],
    pub action: &'static str,
    pub detail: &'static str,
    pub no_events: &'static str,
    // Leader
    pub team_title: &'static str,
    pub members_progress: &'static str,
    pub follow_up_list: &'static str,
    pub follow_up_note: &'static str,
    pub no_follow_ups: &'static str,
    pub enrol_title: &'static str,
    pub enrol_note: &'static str,
    pub enrol_for: &'static str,
    pub make_code: &'static str,
    pub enrol_code_title: &'static str,
    pub enrol_code_text: &'static str,
    pub enrol_link: &'static str,
    pub expires: &'static str,
    pub single_use: &'static str,
    // Devices
    pub devices_title: &'static str,
    /// The devices page of an official or administrator (the whole commune's).
    pub devices_title_commune: &'static str,
    pub device: &'static str,
    pub owner: &'static str,
    pub enrolled_at: &'static str,
    pub last_sync: &'static str,
    pub revoked: &'static str,
    pub revoke: &'static str,
    pub revoke_confirm: &'static str,
    /// The box a leader ticks when the device is lost or stolen.
    pub revoke_lost: &'static str,
    /// Revoked, and waiting for its final upload until (a time follows).
    pub revoke_waiting: &'static str,
    pub no_devices: &'static str,
    // Admin
    pub admin_title: &'static str,
    pub communes: &'static str,
    pub commune: &'static str,
    pub commune_code: &'static str,
    pub commune_name: &'static str,
    pub commune_kind: &'static str,
    pub add_commune: &'static str,
    pub provinces: &'static str,
    pub add_province: &'static str,
    pub add_province_officer: &'static str,
    pub province_code: &'static str,
    pub province_name: &'static str,
    pub province: &'static str,
    pub no_province: &'static str,
    pub err_province_taken: &'static str,
    pub err_unknown_province: &'static str,
    pub officials: &'static str,
    pub add_official: &'static str,
    // Errors
    pub forbidden_title: &'static str,
    pub forbidden_text: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub server_error_title: &'static str,
    pub server_error_text: &'static str,
    pub bad_form_title: &'static str,
    pub csrf_text: &'static str,
    pub go_home: &'static str,
    pub err_required: &'static str,
    pub err_username: &'static str,
    pub err_username_taken: &'static str,
    pub err_password_short: &'static str,
    pub err_target: &'static str,
    pub err_unknown_hamlet: &'static str,
    pub err_unknown_person: &'static str,
    /// A drop-down of members left on its empty choice.
    pub err_choose_member: &'static str,
    pub err_code: &'static str,
    pub err_code_taken: &'static str,
    pub err_too_long: &'static str,
    /// A name or label holds control or text-reordering characters.
    pub err_characters: &'static str,
    pub err_role: &'static str,
    pub err_commune_taken: &'static str,
    pub err_unknown_commune: &'static str,
    pub sheet_summary: &'static str,
    pub sheet_days: &'static str,
    pub newly_covered: &'static str,
    pub exported_on: &'static str,
    // Households to cover, and how coverage is derived from it
    pub to_cover: &'static str,
    pub to_cover_short: &'static str,
    pub covered_short: &'static str,
    pub to_cover_note: &'static str,
    // A volunteer who signs in on the website
    pub volunteer_home_title: &'static str,
    pub volunteer_home_text: &'static str,
    pub volunteer_home_step1: &'static str,
    pub volunteer_home_step2: &'static str,
    pub volunteer_home_open: &'static str,
    // The day a commune starts recording visits
    pub visits_from: &'static str,
    pub visits_from_note: &'static str,
    pub visits_from_day: &'static str,
    pub err_visits_from: &'static str,
    /// The button under a catalogue's labels.
    pub save_labels: &'static str,
    /// The button that adds a catalogue entry.
    pub add_entry_button: &'static str,
    // A chosen period on a dashboard
    pub period_from: &'static str,
    pub period_to: &'static str,
    pub period_show: &'static str,
    pub period_week: &'static str,
    pub period_this_month: &'static str,
    pub period_last_month: &'static str,
    pub period_visits: &'static str,
    pub period_covered: &'static str,
    pub visits_7d: &'static str,
    pub covered_7d: &'static str,
    pub filter_band: &'static str,
    pub band_all: &'static str,
    pub band_low: &'static str,
    pub band_mid: &'static str,
    pub band_high: &'static str,
    pub filter_idle: &'static str,
    pub filter_kind_all: &'static str,
    pub filter_apply: &'static str,
    pub kind_xa: &'static str,
    pub kind_phuong: &'static str,
    pub kind_dac_khu: &'static str,
    pub figures_only: &'static str,
    pub no_communes: &'static str,
    pub communes_shown: &'static str,
    pub err_period: &'static str,
    /// A change the rules refuse, from the web.
    pub refused_title: &'static str,
    pub refused_text: &'static str,
    pub invalid_title: &'static str,
    pub invalid_text: &'static str,
    // Merging a household listed twice
    pub merge_title: &'static str,
    pub merge_note: &'static str,
    pub merge_into: &'static str,
    pub merge_button: &'static str,
    pub merge_confirm: &'static str,
    // The printable follow-up list
    pub print_follow_ups: &'static str,
    pub print_hint: &'static str,
    pub next_visit: &'static str,
    // Review of households listed in the field
    pub review_title: &'static str,
    pub review_intro: &'static str,
    /// Link text on a hamlet's page, after the number of households awaiting review.
    pub review_awaiting: &'static str,
    pub review_added_by: &'static str,
    pub review_added_at: &'static str,
    pub review_visits: &'static str,
    pub review_select: &'static str,
    pub review_confirm: &'static str,
    pub review_retire: &'static str,
    pub review_none: &'static str,
    pub review_confirmed_before: &'static str,
    pub review_done_confirmed: &'static str,
    pub review_done_retired: &'static str,
    pub err_choose_households: &'static str,
    pub err_not_awaiting: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_action_has_a_label_in_each_language() {
        let codes = |lang: Lang| lang.texts().audit_actions.iter().map(|(c, _)| *c).collect::<Vec<_>>();
        assert_eq!(codes(Lang::Vi), codes(Lang::En));
        assert!(codes(Lang::Vi).contains(&"households_import"));
    }

    #[test]
    fn numbers_follow_each_language() {
        assert_eq!(Lang::Vi.int(0), "0");
        assert_eq!(Lang::Vi.int(999), "999");
        assert_eq!(Lang::Vi.int(1234), "1.234");
        assert_eq!(Lang::Vi.int(1_234_567), "1.234.567");
        assert_eq!(Lang::En.int(1_234_567), "1,234,567");
        assert_eq!(Lang::Vi.percent(0.125), "12,5%");
        assert_eq!(Lang::En.percent(0.125), "12.5%");
        assert_eq!(Lang::Vi.day("2026-11-29"), "29/11/2026");
    }

    #[test]
    fn unknown_language_codes_fall_back_to_vietnamese() {
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(Lang::from_code("fr"), Lang::Vi);
        assert_eq!(Lang::from_code(""), Lang::Vi);
    }

    #[test]
    fn no_text_is_empty_in_either_language() {
        // Debug prints every field; an empty one shows as `: ""`.
        for lang in [Lang::Vi, Lang::En] {
            let dump = format!("{:?}", lang.texts());
            assert!(!dump.contains(": \"\""), "{lang:?} has an empty text");
        }
        assert_ne!(Lang::Vi.texts().login_button, Lang::En.texts().login_button);
    }
}
